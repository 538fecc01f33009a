/*
 * Meeting creation and links, shared by the CLI (`overleg meeting create`) and the REST API
 * (`POST /api/meetings`). A link is https://HOST[:PORT]/m/MEETING#t=TOKEN: the token sits in the
 * fragment, which browsers never send to a server or proxy.
 */
#ifndef OVL_MEETINGS_H
#define OVL_MEETINGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "signaling/store.h"

#define OVL_LINK_MAX 512

/**
 * Creates and stores a meeting titled `title` (1..128 bytes, no control characters) that expires
 * `lifetime` seconds after `now` (unix seconds). *out gets it. 0, OVL_ERR_ARG (bad title or
 * lifetime), OVL_ERR_CRYPTO or OVL_ERR_IO.
 */
int ovl_meetings_create(ovl_store_t *store, const char *title, int64_t lifetime, int lobby, int64_t now,
                        ovl_meeting_t *out);

/**
 * Writes the link for `role` to meeting `m` into `out`: the token expires with the meeting and
 * may bind a display `name` (NULL or "" for none). Port 443 is left out. 0 or a negative OVL_ERR_*.
 */
int ovl_meetings_link(const uint8_t *secret, const char *host, uint16_t port, const ovl_meeting_t *m, ovl_role_t role,
                      const char *name, char *out, size_t cap);

/** JSON of a meeting for the API and `--json` (links included when non-NULL). New reference. */
json_t *ovl_meetings_json(const ovl_meeting_t *m, const char *host_link, const char *guest_link);

#endif
