/*
 * Meetings store: one SQLite file in the data directory (WAL mode, busy timeout, prepared
 * statements, a schema_version table). The running server and the `overleg meeting` CLI use the
 * same file at once; the server notices changes (a revocation) through ovl_store_data_version.
 */
#ifndef OVL_STORE_H
#define OVL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/token.h"

#define OVL_TITLE_MAX 128 /* bytes */

typedef struct ovl_store ovl_store_t;

typedef struct ovl_meeting {
    char id[OVL_MEETING_ID_LEN + 1];
    char title[OVL_TITLE_MAX + 1];
    int64_t created; /* unix seconds */
    int64_t expires; /* unix seconds */
    int lobby;       /* 1: guests wait for a host to admit them */
    int64_t revoked; /* 0, or unix seconds of the revocation */
} ovl_meeting_t;

/** Opens (creating if needed) the database at `path`. *out is NULL on failure. 0 or OVL_ERR_IO. */
int ovl_store_open(const char *path, ovl_store_t **out);

/** Closes the database; NULL is fine. */
void ovl_store_free(ovl_store_t *store);

/** Inserts `m` (id, title, created, expires, lobby). 0, OVL_ERR_ARG (bad field) or OVL_ERR_IO. */
int ovl_store_create(ovl_store_t *store, const ovl_meeting_t *m);

/** Reads meeting `id` into *out (cleared first). 0, OVL_ERR_NOTFOUND or OVL_ERR_IO. */
int ovl_store_get(ovl_store_t *store, const char *id, ovl_meeting_t *out);

/**
 * The newest meeting titled `title` that is neither revoked nor expired at `now`.
 * 0, OVL_ERR_NOTFOUND or OVL_ERR_IO.
 */
int ovl_store_find_live(ovl_store_t *store, const char *title, int64_t now, ovl_meeting_t *out);

/**
 * Every meeting, newest first, as a malloc'd array the caller frees (*out NULL and *count 0 when
 * there are none). 0, OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_store_list(ovl_store_t *store, ovl_meeting_t **out, size_t *count);

/** Marks meeting `id` revoked at `now` (idempotent). 0, OVL_ERR_NOTFOUND or OVL_ERR_IO. */
int ovl_store_revoke(ovl_store_t *store, const char *id, int64_t now);

/**
 * SQLite's PRAGMA data_version: changes when another connection (the CLI) commits. Cheap enough
 * to poll every second. 0 or OVL_ERR_IO.
 */
int ovl_store_data_version(ovl_store_t *store, int64_t *version);

#endif
