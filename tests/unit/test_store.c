/* Meetings store over a real SQLite file in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/proto/base.h"
#include "signaling/store.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/ovl-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/meetings.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static ovl_meeting_t make(const char *title, int64_t created, int64_t expires, int lobby)
{
    ovl_meeting_t m = {.created = created, .expires = expires, .lobby = lobby};
    ovl_meeting_id_new(m.id);
    snprintf(m.title, sizeof(m.title), "%s", title);
    return m;
}

static void test_create_get_survives_reopen(void **state)
{
    fixture_t *f = *state;
    ovl_store_t *s;
    ovl_meeting_t m = make("Kabinetsoverleg", 1000, 2000, 1), got;
    assert_int_equal(ovl_store_open(f->path, &s), 0);
    assert_int_equal(ovl_store_create(s, &m), 0);
    assert_int_equal(ovl_store_create(s, &m), OVL_ERR_IO); /* same id twice */
    ovl_store_free(s);
    assert_int_equal(ovl_store_open(f->path, &s), 0);
    assert_int_equal(ovl_store_get(s, m.id, &got), 0);
    assert_string_equal(got.id, m.id);
    assert_string_equal(got.title, "Kabinetsoverleg");
    assert_int_equal(got.created, 1000);
    assert_int_equal(got.expires, 2000);
    assert_int_equal(got.lobby, 1);
    assert_int_equal(got.revoked, 0);
    assert_int_equal(ovl_store_get(s, "AAAAAAAAAAAAAAAAAAAAAA", &got), OVL_ERR_NOTFOUND);
    ovl_store_free(s);
}

static void test_revoke_and_list(void **state)
{
    fixture_t *f = *state;
    ovl_store_t *s;
    ovl_meeting_t a = make("A", 100, 5000, 0), b = make("B", 200, 5000, 0), got, *all;
    size_t n;
    assert_int_equal(ovl_store_open(f->path, &s), 0);
    assert_int_equal(ovl_store_create(s, &a), 0);
    assert_int_equal(ovl_store_create(s, &b), 0);
    assert_int_equal(ovl_store_revoke(s, a.id, 300), 0);
    assert_int_equal(ovl_store_revoke(s, a.id, 400), 0); /* idempotent: the first time stays */
    assert_int_equal(ovl_store_get(s, a.id, &got), 0);
    assert_int_equal(got.revoked, 300);
    assert_int_equal(ovl_store_revoke(s, "AAAAAAAAAAAAAAAAAAAAAA", 300), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_store_list(s, &all, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].title, "B"); /* newest first */
    assert_string_equal(all[1].title, "A");
    free(all);
    ovl_store_free(s);
}

static void test_find_live_skips_revoked_and_expired(void **state)
{
    fixture_t *f = *state;
    ovl_store_t *s;
    ovl_meeting_t old = make("Demo", 100, 150, 0), rev = make("Demo", 200, 5000, 0), live = make("Demo", 150, 5000, 0);
    ovl_meeting_t got;
    assert_int_equal(ovl_store_open(f->path, &s), 0);
    assert_int_equal(ovl_store_find_live(s, "Demo", 160, &got), OVL_ERR_NOTFOUND);
    ovl_store_create(s, &old);
    ovl_store_create(s, &rev);
    ovl_store_create(s, &live);
    ovl_store_revoke(s, rev.id, 250);
    assert_int_equal(ovl_store_find_live(s, "Demo", 300, &got), 0);
    assert_string_equal(got.id, live.id);
    ovl_store_free(s);
}

/* A second connection (the CLI) committing changes what the first (the server) sees as data_version. */
static void test_data_version_sees_other_connections(void **state)
{
    fixture_t *f = *state;
    ovl_store_t *server, *cli;
    ovl_meeting_t m = make("X", 1, 100, 0);
    int64_t v1, v2, v3;
    assert_int_equal(ovl_store_open(f->path, &server), 0);
    assert_int_equal(ovl_store_open(f->path, &cli), 0);
    assert_int_equal(ovl_store_data_version(server, &v1), 0);
    assert_int_equal(ovl_store_data_version(server, &v2), 0);
    assert_int_equal(v1, v2);
    assert_int_equal(ovl_store_create(cli, &m), 0);
    assert_int_equal(ovl_store_data_version(server, &v3), 0);
    assert_true(v3 != v2);
    ovl_store_free(cli);
    ovl_store_free(server);
}

static void test_rejects_bad_rows(void **state)
{
    fixture_t *f = *state;
    ovl_store_t *s;
    ovl_meeting_t m = make("X", 100, 50, 0);
    assert_int_equal(ovl_store_open(f->path, &s), 0);
    assert_int_equal(ovl_store_create(s, &m), OVL_ERR_ARG); /* expires before created */
    m.expires = 500;
    strcpy(m.id, "nope");
    assert_int_equal(ovl_store_create(s, &m), OVL_ERR_ARG);
    ovl_store_free(s);
    assert_int_equal(ovl_store_open("/nonexistent-dir/x.db", &s), OVL_ERR_IO);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_live_skips_revoked_and_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_version_sees_other_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
