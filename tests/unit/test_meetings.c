/* Meeting creation and links: the URL shape, the fragment token, and the port rule. */
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
#include "signaling/meetings.h"

static const uint8_t secret[OVL_SECRET_BYTES] = {9, 9, 9};

static void test_create_and_link(void **state)
{
    (void)state;
    char dir[] = "/tmp/ovl-mt-XXXXXX", path[64], link[OVL_LINK_MAX], id[64], cmd[64];
    ovl_store_t *s;
    ovl_meeting_t m, got;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m.db", dir);
    assert_int_equal(ovl_store_open(path, &s), 0);
    assert_int_equal(ovl_meetings_create(s, "Crisis", 3600, 1, 1000, &m), 0);
    assert_int_equal(ovl_store_get(s, m.id, &got), 0);
    assert_int_equal(got.expires, 4600);
    assert_int_equal(got.lobby, 1);
    assert_int_equal(ovl_meetings_create(s, "", 3600, 0, 1000, &m), OVL_ERR_ARG);
    assert_int_equal(ovl_meetings_create(s, "bad\ntitle", 3600, 0, 1000, &m), OVL_ERR_ARG);
    assert_int_equal(ovl_meetings_create(s, "ok", 0, 0, 1000, &m), OVL_ERR_ARG);

    assert_int_equal(
        ovl_meetings_link(secret, "meet.example.org", 443, &got, OVL_ROLE_HOST, "Minister", link, sizeof(link)), 0);
    snprintf(id, sizeof(id), "https://meet.example.org/m/%s#t=", got.id);
    assert_memory_equal(link, id, strlen(id)); /* 443 left out; the token after #t= */
    ovl_token_claims_t c;
    ovl_token_status_t st;
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), link + strlen(id), got.id, 2000, &c, &st), 0);
    assert_int_equal(c.role, OVL_ROLE_HOST);
    assert_string_equal(c.name, "Minister");
    assert_int_equal(c.expires, got.expires); /* the link lives as long as the meeting */
    assert_int_equal(ovl_meetings_link(secret, "localhost", 8443, &got, OVL_ROLE_GUEST, NULL, link, sizeof(link)), 0);
    assert_non_null(strstr(link, "https://localhost:8443/m/"));
    assert_int_equal(ovl_meetings_link(secret, "::1", 8443, &got, OVL_ROLE_GUEST, NULL, link, sizeof(link)), 0);
    assert_non_null(strstr(link, "https://[::1]:8443/m/"));
    assert_int_equal(ovl_meetings_link(secret, "h", 1, &got, OVL_ROLE_GUEST, NULL, link, 20), OVL_ERR_LIMIT);

    json_t *j = ovl_meetings_json(&got, "H", "G");
    assert_string_equal(json_string_value(json_object_get(j, "host_link")), "H");
    assert_true(json_is_true(json_object_get(j, "lobby")));
    json_decref(j);
    ovl_store_free(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_create_and_link)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
