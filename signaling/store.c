/* Meetings store over SQLite. See store.h. */
#include "signaling/store.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "relay/proto/base.h"

#define SCHEMA_VERSION 1

enum { ST_INSERT, ST_GET, ST_FIND, ST_LIST, ST_REVOKE, ST_VERSION, ST_COUNT };

static const char *const sql_text[ST_COUNT] = {
    [ST_INSERT] = "INSERT INTO meetings (id, title, created, expires, lobby, revoked) VALUES (?, ?, ?, ?, ?, 0)",
    [ST_GET] = "SELECT id, title, created, expires, lobby, revoked FROM meetings WHERE id = ?",
    [ST_FIND] = ("SELECT id, title, created, expires, lobby, revoked FROM meetings "
                 "WHERE title = ? AND revoked = 0 AND expires > ? ORDER BY created DESC, rowid DESC LIMIT 1"),
    [ST_LIST] = "SELECT id, title, created, expires, lobby, revoked FROM meetings ORDER BY created DESC, rowid DESC",
    [ST_REVOKE] = "UPDATE meetings SET revoked = CASE WHEN revoked = 0 THEN ? ELSE revoked END WHERE id = ?",
    [ST_VERSION] = "PRAGMA data_version",
};

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS meetings ("
                                 " id TEXT PRIMARY KEY,"
                                 " title TEXT NOT NULL,"
                                 " created INTEGER NOT NULL,"
                                 " expires INTEGER NOT NULL,"
                                 " lobby INTEGER NOT NULL,"
                                 " revoked INTEGER NOT NULL DEFAULT 0);";

struct ovl_store {
    sqlite3 *db;                /* owned */
    sqlite3_stmt *st[ST_COUNT]; /* owned */
};

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : OVL_ERR_IO;
}

/* Creates the schema on a new file, refuses a file written by a newer version. */
static int migrate(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int ret = OVL_ERR_IO, version = 0;

    if (exec(db, "BEGIN IMMEDIATE") != 0)
        return OVL_ERR_IO;
    if (exec(db, schema_sql) != 0)
        goto Exit;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        goto Exit;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        goto Exit;
    if (version > SCHEMA_VERSION) {
        ret = OVL_ERR_UNSUPPORTED;
        goto Exit;
    }
    if (version == 0 && exec(db, "INSERT INTO schema_version (version) VALUES (1)") != 0)
        goto Exit;
    ret = 0;
Exit:
    sqlite3_finalize(st);
    exec(db, ret == 0 ? "COMMIT" : "ROLLBACK");
    return ret;
}

int ovl_store_open(const char *path, ovl_store_t **out)
{
    ovl_store_t *s = NULL;
    int ret = OVL_ERR_IO;

    *out = NULL;
    if (!(s = calloc(1, sizeof(*s))))
        return OVL_ERR_NOMEM;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        goto Exit;
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s->db, "PRAGMA journal_mode=WAL") != 0 || exec(s->db, "PRAGMA synchronous=NORMAL") != 0)
        goto Exit;
    if ((ret = migrate(s->db)) != 0)
        goto Exit;
    ret = OVL_ERR_IO;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
            goto Exit;
    *out = s;
    s = NULL;
    ret = 0;
Exit:
    ovl_store_free(s);
    return ret;
}

void ovl_store_free(ovl_store_t *store)
{
    if (!store)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(store->st[i]);
    sqlite3_close(store->db);
    free(store);
}

static void row_to_meeting(sqlite3_stmt *st, ovl_meeting_t *m)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *title = (const char *)sqlite3_column_text(st, 1);
    memset(m, 0, sizeof(*m));
    if (id)
        strncpy(m->id, id, sizeof(m->id) - 1);
    if (title)
        strncpy(m->title, title, sizeof(m->title) - 1);
    m->created = sqlite3_column_int64(st, 2);
    m->expires = sqlite3_column_int64(st, 3);
    m->lobby = sqlite3_column_int(st, 4) != 0;
    m->revoked = sqlite3_column_int64(st, 5);
}

static sqlite3_stmt *begin(ovl_store_t *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int ovl_store_create(ovl_store_t *store, const ovl_meeting_t *m)
{
    if (ovl_meeting_id_check(m->id) != 0 || strlen(m->title) > OVL_TITLE_MAX || m->expires <= m->created)
        return OVL_ERR_ARG;
    sqlite3_stmt *st = begin(store, ST_INSERT);
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, m->created);
    sqlite3_bind_int64(st, 4, m->expires);
    sqlite3_bind_int(st, 5, m->lobby ? 1 : 0);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : OVL_ERR_IO;
}

static int get_one(sqlite3_stmt *st, ovl_meeting_t *out)
{
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        row_to_meeting(st, out);
        ret = 0;
    } else {
        ret = rc == SQLITE_DONE ? OVL_ERR_NOTFOUND : OVL_ERR_IO;
    }
    sqlite3_reset(st);
    return ret;
}

int ovl_store_get(ovl_store_t *store, const char *id, ovl_meeting_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = begin(store, ST_GET);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return get_one(st, out);
}

int ovl_store_find_live(ovl_store_t *store, const char *title, int64_t now, ovl_meeting_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = begin(store, ST_FIND);
    sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    return get_one(st, out);
}

int ovl_store_list(ovl_store_t *store, ovl_meeting_t **out, size_t *count)
{
    ovl_meeting_t *arr = NULL, *grown;
    size_t n = 0, cap = 0;
    int rc, ret = OVL_ERR_IO;

    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = begin(store, ST_LIST);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            if (!(grown = realloc(arr, cap * sizeof(*arr)))) {
                ret = OVL_ERR_NOMEM;
                goto Exit;
            }
            arr = grown;
        }
        row_to_meeting(st, &arr[n++]);
    }
    if (rc != SQLITE_DONE)
        goto Exit;
    *out = arr;
    *count = n;
    arr = NULL;
    ret = 0;
Exit:
    sqlite3_reset(st);
    free(arr);
    return ret;
}

int ovl_store_revoke(ovl_store_t *store, const char *id, int64_t now)
{
    sqlite3_stmt *st = begin(store, ST_REVOKE);
    sqlite3_bind_int64(st, 1, now > 0 ? now : 1);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return OVL_ERR_IO;
    return sqlite3_changes(store->db) > 0 ? 0 : OVL_ERR_NOTFOUND;
}

int ovl_store_data_version(ovl_store_t *store, int64_t *version)
{
    *version = 0;
    sqlite3_stmt *st = begin(store, ST_VERSION);
    int rc = sqlite3_step(st), ret = OVL_ERR_IO;
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        ret = 0;
    }
    sqlite3_reset(st);
    return ret;
}
