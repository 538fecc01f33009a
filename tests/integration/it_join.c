/* Integration: people join meetings over WSS with the links the CLI makes; hosts run the meeting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ovl_harness.h"
#include "signaling/wsclient.h"

#define T 15000 /* generous waits: ASan on a loaded 2-core machine */

static ovl_srv_t srv;

static int group_setup(void **state)
{
    (void)state;
    if (ovl_srv_init(&srv, NULL) != 0 || ovl_srv_start(&srv) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return ovl_srv_finish(&srv);
}

static ovl_wsclient_t *connect_ws(void)
{
    ovl_wsclient_t *c = NULL;
    assert_int_equal(ovl_it_connect(srv.port, T, &c), 0);
    return c;
}

/* Connects and joins; returns the client with its first answer (welcome, lobby-wait or error) in *first. */
static ovl_wsclient_t *join(const char *meeting, const char *token, const char *name, json_t **first)
{
    ovl_wsclient_t *c = connect_ws();
    assert_int_equal(
        ovl_wsclient_sendf(c, "{s:s, s:s, s:s, s:s}", "type", "join", "meeting", meeting, "token", token, "name", name),
        0);
    *first = ovl_wsclient_wait(c, NULL, T);
    assert_non_null(*first);
    return c;
}

static const char *str(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void expect_type(json_t *j, const char *type)
{
    if (!j || strcmp(str(j, "type"), type) != 0)
        fail_msg("expected %s, got %s", type, j ? json_dumps(j, 0) : "nothing");
}

static void test_two_clients_see_each_other_and_chat(void **state)
{
    (void)state;
    char m[64], host[256], guest[256];
    json_t *w1, *w2, *j;
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    ovl_wsclient_t *a = join(m, host, "Ann", &w1);
    expect_type(w1, "welcome");
    assert_string_equal(str(w1, "role"), "host");
    assert_string_equal(str(json_object_get(w1, "meeting"), "title"), "Integration");
    ovl_wsclient_t *b = join(m, guest, "Bob", &w2);
    expect_type(w2, "welcome");
    assert_string_equal(str(w2, "role"), "guest");
    assert_int_equal(json_array_size(json_object_get(w2, "participants")), 1);
    assert_string_equal(str(json_array_get(json_object_get(w2, "participants"), 0), "name"), "Ann");
    j = ovl_wsclient_wait(a, "participant-joined", T);
    assert_non_null(j);
    assert_string_equal(str(json_object_get(j, "participant"), "name"), "Bob");
    json_decref(j);
    /* Chat reaches everyone. */
    assert_int_equal(ovl_wsclient_sendf(b, "{s:s, s:s}", "type", "chat", "text", "Goedemiddag allemaal"), 0);
    j = ovl_wsclient_wait(a, "chat", T);
    assert_non_null(j);
    assert_string_equal(str(j, "text"), "Goedemiddag allemaal");
    assert_string_equal(str(j, "name"), "Bob");
    json_decref(j);
    j = ovl_wsclient_wait(b, "chat", T);
    assert_non_null(j);
    json_decref(j);
    /* Ping. */
    assert_int_equal(ovl_wsclient_send(b, "{\"type\":\"ping\"}"), 0);
    j = ovl_wsclient_wait(b, "pong", T);
    assert_non_null(j);
    json_decref(j);
    /* An offer that is not SDP is refused at once (it_media.c has the real offers). */
    assert_int_equal(ovl_wsclient_sendf(b, "{s:s, s:s}", "type", "offer", "sdp", "v=0\r\n"), 0);
    assert_true(ovl_wsclient_wait_error(b, "bad-message", T));
    /* Leaving tells the other. */
    assert_int_equal(ovl_wsclient_send(b, "{\"type\":\"leave\"}"), 0);
    j = ovl_wsclient_wait(a, "participant-left", T);
    assert_non_null(j);
    assert_string_equal(str(j, "reason"), "left");
    json_decref(j);
    assert_true(ovl_wsclient_wait_closed(b, T, NULL));
    json_decref(w1);
    json_decref(w2);
    ovl_wsclient_free(a);
    ovl_wsclient_free(b);
}

static void test_lobby_admit_and_deny(void **state)
{
    (void)state;
    char m[64], host[256], guest[256];
    json_t *wh, *w1, *w2, *j;
    int code = 0;
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, "--lobby", NULL), 0);
    ovl_wsclient_t *h = join(m, host, "Host", &wh);
    expect_type(wh, "welcome"); /* a host link never waits */
    ovl_wsclient_t *g1 = join(m, guest, "Guest One", &w1);
    expect_type(w1, "lobby-wait");
    j = ovl_wsclient_wait(h, "lobby", T);
    assert_non_null(j);
    json_t *waiting = json_object_get(j, "waiting");
    assert_int_equal(json_array_size(waiting), 1);
    char pid[32];
    snprintf(pid, sizeof(pid), "%s", str(json_array_get(waiting, 0), "id"));
    json_decref(j);
    assert_int_equal(ovl_wsclient_sendf(h, "{s:s, s:s}", "type", "admit", "participant", pid), 0);
    j = ovl_wsclient_wait(g1, "welcome", T);
    assert_non_null(j);
    assert_string_equal(str(j, "you"), pid);
    json_decref(j);
    /* The second guest is denied. */
    ovl_wsclient_clear(h);
    ovl_wsclient_t *g2 = join(m, guest, "Guest Two", &w2);
    expect_type(w2, "lobby-wait");
    const char *pid2 = str(w2, "you");
    assert_int_equal(ovl_wsclient_sendf(h, "{s:s, s:s}", "type", "deny", "participant", pid2), 0);
    j = ovl_wsclient_wait(g2, "end", T);
    assert_non_null(j);
    assert_string_equal(str(j, "reason"), "denied");
    json_decref(j);
    assert_true(ovl_wsclient_wait_closed(g2, T, &code));
    assert_int_equal(code, 1000);
    json_decref(wh);
    json_decref(w1);
    json_decref(w2);
    ovl_wsclient_free(h);
    ovl_wsclient_free(g1);
    ovl_wsclient_free(g2);
}

static void test_host_removes_mutes_and_locks(void **state)
{
    (void)state;
    char m[64], host[256], guest[256];
    json_t *wh, *wg, *j;
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    ovl_wsclient_t *h = join(m, host, "Host", &wh);
    ovl_wsclient_t *g = join(m, guest, "Guest", &wg);
    expect_type(wg, "welcome");
    const char *gid = str(wg, "you");
    /* A guest may not remove the host. */
    assert_int_equal(ovl_wsclient_sendf(g, "{s:s, s:s}", "type", "remove", "participant", str(wh, "you")), 0);
    assert_true(ovl_wsclient_wait_error(g, "forbidden", T));
    /* The host mutes the guest: both hear of it. */
    assert_int_equal(
        ovl_wsclient_sendf(h, "{s:s, s:s, s:s, s:b}", "type", "mute", "participant", gid, "kind", "audio", "muted", 1),
        0);
    j = ovl_wsclient_wait(g, "mute", T);
    assert_non_null(j);
    assert_string_equal(str(j, "participant"), gid);
    assert_string_equal(str(j, "by"), str(wh, "you"));
    json_decref(j);
    /* Lock: a new guest is refused. */
    assert_int_equal(ovl_wsclient_sendf(h, "{s:s, s:b}", "type", "lock", "locked", 1), 0);
    j = ovl_wsclient_wait(g, "locked", T);
    assert_non_null(j);
    json_decref(j);
    json_t *w3;
    ovl_wsclient_t *late = join(m, guest, "Late", &w3);
    expect_type(w3, "error");
    assert_string_equal(str(w3, "code"), "meeting-locked");
    /* Remove the guest. */
    assert_int_equal(ovl_wsclient_sendf(h, "{s:s, s:s}", "type", "remove", "participant", gid), 0);
    j = ovl_wsclient_wait(g, "end", T);
    assert_non_null(j);
    assert_string_equal(str(j, "reason"), "removed");
    json_decref(j);
    assert_true(ovl_wsclient_wait_closed(g, T, NULL));
    j = ovl_wsclient_wait(h, "participant-left", T);
    assert_non_null(j);
    assert_string_equal(str(j, "reason"), "removed");
    json_decref(j);
    /* End for all. */
    assert_int_equal(ovl_wsclient_send(h, "{\"type\":\"end\"}"), 0);
    j = ovl_wsclient_wait(h, "end", T);
    assert_non_null(j);
    assert_string_equal(str(j, "reason"), "ended");
    json_decref(j);
    json_decref(wh);
    json_decref(wg);
    json_decref(w3);
    ovl_wsclient_free(h);
    ovl_wsclient_free(g);
    ovl_wsclient_free(late);
}

static void refused(const char *meeting, const char *token, const char *code)
{
    json_t *e;
    int close_code = 0;
    ovl_wsclient_t *c = join(meeting, token, "Mallory", &e);
    expect_type(e, "error");
    if (strcmp(str(e, "code"), code) != 0)
        fail_msg("want %s, got %s", code, str(e, "code"));
    assert_true(ovl_wsclient_wait_closed(c, T, &close_code));
    assert_int_equal(close_code, 1008);
    json_decref(e);
    ovl_wsclient_free(c);
}

static void test_forged_expired_wrong_revoked_tokens(void **state)
{
    (void)state;
    char m[64], host[256], guest[256], m2[64], h2[256], g2[256], out[1024];
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    assert_int_equal(ovl_make_meeting(&srv, m2, h2, g2, "--expires", "1s", NULL), 0);
    /* Forged: one character of the MAC changed. */
    char forged[256];
    strcpy(forged, guest);
    size_t n = strlen(forged);
    forged[n - 3] = forged[n - 3] == 'A' ? 'B' : 'A';
    refused(m, forged, "token-invalid");
    refused(m, "AQEAAAAA", "token-invalid");
    /* Genuine, but for the other meeting. */
    refused(m, h2, "token-wrong-meeting");
    /* Expired: the second meeting lived one second. */
    sleep(2);
    refused(m2, h2, "token-expired");
    /* Revoked with the CLI. */
    assert_int_equal(ovl_cli(&srv, out, sizeof(out), "meeting", "revoke", m, (const char *)NULL), 0);
    refused(m, host, "meeting-revoked");
    refused("AAAAAAAAAAAAAAAAAAAAAA", host, "meeting-not-found");
}

/* Revoking while people are in the call ends it for them: by CLI (the server polls the store), and by REST. */
static void test_revoke_disconnects(void **state)
{
    (void)state;
    char m[64], host[256], guest[256], out[1024], cmd[512];
    json_t *w1, *w2, *j;
    int code = 0;
    for (int via_rest = 0; via_rest < 2; via_rest++) {
        assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
        ovl_wsclient_t *a = join(m, host, "Ann", &w1);
        ovl_wsclient_t *b = join(m, guest, "Bob", &w2);
        expect_type(w2, "welcome");
        if (via_rest) {
            snprintf(cmd, sizeof(cmd),
                     "curl -sk -o /dev/null -w '%%{http_code}' -X DELETE -H 'Authorization: Bearer %s' "
                     "https://127.0.0.1:%u/api/meetings/%s",
                     OVL_IT_API_KEY, srv.port, m);
            FILE *p = popen(cmd, "r");
            assert_non_null(p);
            assert_non_null(fgets(out, sizeof(out), p));
            pclose(p);
            assert_string_equal(out, "200");
        } else {
            assert_int_equal(ovl_cli(&srv, out, sizeof(out), "meeting", "revoke", m, (const char *)NULL), 0);
        }
        ovl_wsclient_t *who[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            j = ovl_wsclient_wait(who[i], "end", T);
            assert_non_null(j);
            assert_string_equal(str(j, "reason"), "revoked");
            json_decref(j);
            assert_true(ovl_wsclient_wait_closed(who[i], T, &code));
        }
        json_decref(w1);
        json_decref(w2);
        ovl_wsclient_free(a);
        ovl_wsclient_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_clients_see_each_other_and_chat),
        cmocka_unit_test(test_lobby_admit_and_deny),
        cmocka_unit_test(test_host_removes_mutes_and_locks),
        cmocka_unit_test(test_forged_expired_wrong_revoked_tokens),
        cmocka_unit_test(test_revoke_disconnects),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
