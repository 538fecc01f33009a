/*
 * SSRC -> object map for the router's lookups (a subscriber's consumers by the SSRC its feedback
 * names). Open addressing with linear probing and backward-shift deletion (no tombstones), a
 * fixed power-of-two capacity chosen at init and never grown: the room's participant limit bounds
 * the entries, so the packet path never allocates.
 */
#ifndef OVL_ROUTE_SSRC_MAP_H
#define OVL_ROUTE_SSRC_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

typedef struct ovl_route_ssrc_entry {
    uint32_t ssrc;
    bool used;
    void *value; /* borrowed */
} ovl_route_ssrc_entry_t;

typedef struct ovl_route_ssrc_map {
    ovl_route_ssrc_entry_t *slots; /* owned */
    size_t mask;
    size_t count, limit; /* limit: at most half full */
} ovl_route_ssrc_map_t;

/** Room for max_entries entries (slots: the next power of two >= 2 * max_entries). OVL_ERR_NOMEM. */
int ovl_route_ssrc_map_init(ovl_route_ssrc_map_t *m, size_t max_entries);

/** Frees the slots. */
void ovl_route_ssrc_map_dispose(ovl_route_ssrc_map_t *m);

/** The value for ssrc, or NULL. */
void *ovl_route_ssrc_map_get(const ovl_route_ssrc_map_t *m, uint32_t ssrc);

/** Adds ssrc -> value. OVL_ERR_STATE (already there) or OVL_ERR_LIMIT (full). */
int ovl_route_ssrc_map_put(ovl_route_ssrc_map_t *m, uint32_t ssrc, void *value);

/** Removes ssrc. OVL_ERR_NOTFOUND when absent. */
int ovl_route_ssrc_map_del(ovl_route_ssrc_map_t *m, uint32_t ssrc);

#endif
