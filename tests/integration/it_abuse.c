/* Integration: bad input of every kind gets its error code, and the server keeps serving others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ovl_harness.h"
#include "signaling/wsclient.h"

#define T 15000

static const char *const env[] = {
    "OVERLEG_MAX_CONNECTIONS_PER_IP=6",
    "OVERLEG_JOIN_TIMEOUT=5s",
    "OVERLEG_FIRST_BYTE_TIMEOUT=1s",
    "OVERLEG_RATE_PER_SECOND=20",
    "OVERLEG_RATE_BURST=40",
    "OVERLEG_MAX_PARTICIPANTS=2",
    "OVERLEG_MAX_FRAME_BYTES=65536",
    NULL,
};

static ovl_srv_t srv;

static int group_setup(void **state)
{
    (void)state;
    return ovl_srv_init(&srv, env) == 0 && ovl_srv_start(&srv) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return ovl_srv_finish(&srv);
}

static ovl_wsclient_t *connect_ws(void)
{
    ovl_wsclient_t *c = NULL;
    /* Connections of the previous test may still be closing: retry while the address is over its limit. */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ovl_it_connect(srv.port, T, &c), 0);
        if (!ovl_wsclient_wait_error(c, "too-many-connections", 100))
            return c;
        ovl_wsclient_free(c);
        usleep(100000);
    }
    fail_msg("could not get a connection");
    return NULL;
}

/* A well-behaved client joins a fresh meeting: the server still serves. */
static void good_client_joins(void)
{
    char m[64], host[256], guest[256];
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    ovl_wsclient_t *c = connect_ws();
    assert_int_equal(
        ovl_wsclient_sendf(c, "{s:s, s:s, s:s, s:s}", "type", "join", "meeting", m, "token", host, "name", "Good"), 0);
    json_t *w = ovl_wsclient_wait(c, "welcome", T);
    assert_non_null(w);
    json_decref(w);
    ovl_wsclient_free(c);
}

static void test_bad_frames_get_their_codes(void **state)
{
    (void)state;
    static const struct {
        const char *frame, *code;
    } bad[] = {
        {"{not json", "bad-json"},
        {"[]", "bad-json"},
        {"{\"type\":\"teleport\"}", "unknown-type"},
        {"{\"type\":\"join\",\"meeting\":\"x\"}", "bad-message"},
        {"{\"type\":\"join\",\"meeting\":5,\"token\":\"t\"}", "bad-message"},
        {"{\"type\":\"chat\",\"text\":\"hi\"}", "not-joined"},
        {"{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":\"yes\"}", "bad-message"},
    };
    ovl_wsclient_t *c = connect_ws();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ovl_wsclient_send(c, bad[i].frame), 0);
        if (!ovl_wsclient_wait_error(c, bad[i].code, T))
            fail_msg("%s: no error %s", bad[i].frame, bad[i].code);
    }
    const uint8_t bin[] = {0x00, 0x01, 0xff};
    assert_int_equal(ovl_wsclient_send_frame(c, bin, sizeof(bin), 1), 0);
    assert_true(ovl_wsclient_wait_error(c, "bad-json", T));
    assert_int_equal(ovl_wsclient_send(c, "{\"type\":\"ping\"}"), 0); /* still usable */
    json_t *p = ovl_wsclient_wait(c, "pong", T);
    assert_non_null(p);
    json_decref(p);
    ovl_wsclient_free(c);
    good_client_joins();
}

static void test_flood_is_cut_off_and_others_still_join(void **state)
{
    (void)state;
    int code = 0, limited = 0;
    ovl_wsclient_t *flood = connect_ws();
    /* Garbage far past the burst (40) and rate (20/s): told rate-limited, then closed. */
    for (int round = 0; round < 100 && !ovl_wsclient_wait_closed(flood, 0, NULL); round++) {
        for (int i = 0; i < 10; i++)
            ovl_wsclient_queue(flood, "{garbage", 8, 0);
        ovl_wsclient_flush(flood, T);
        limited |= ovl_wsclient_wait_error(flood, "rate-limited", 20);
    }
    limited |= ovl_wsclient_wait_error(flood, "rate-limited", 1000);
    assert_true(limited);
    assert_true(ovl_wsclient_wait_closed(flood, T, &code));
    /* 1008, unless the close raced our own unread frames and arrived as a TCP reset. */
    assert_true(code == 1008 || code == 0);
    ovl_wsclient_free(flood);
    good_client_joins();
}

static void test_oversize_frame(void **state)
{
    (void)state;
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    int code = 0;
    memset(big, ' ', n);
    memcpy(big, "{\"type\":\"chat\",\"text\":\"", 23);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    ovl_wsclient_t *c = connect_ws();
    ovl_wsclient_send(c, big);
    assert_true(ovl_wsclient_wait_error(c, "too-large", T));
    assert_true(ovl_wsclient_wait_closed(c, T, &code));
    assert_int_equal(code, 1009);
    ovl_wsclient_free(c);
    free(big);
    good_client_joins();
}

static void test_too_many_connections_per_address(void **state)
{
    (void)state;
    ovl_wsclient_t *c[9] = {0};
    int refused = 0;
    c[0] = connect_ws(); /* waits until earlier connections are gone */
    for (int i = 1; i < 9; i++)
        assert_int_equal(ovl_it_connect(srv.port, T, &c[i]), 0);
    for (int i = 1; i < 9; i++) {
        if (ovl_wsclient_wait_error(c[i], "too-many-connections", 1000)) {
            int code = 0;
            assert_true(ovl_wsclient_wait_closed(c[i], T, &code));
            assert_int_equal(code, 1008);
            refused++;
        }
    }
    assert_true(refused >= 3); /* limit 6 */
    for (int i = 0; i < 9; i++)
        ovl_wsclient_free(c[i]);
    good_client_joins();
}

static void test_meeting_full(void **state)
{
    (void)state;
    char m[64], host[256], guest[256];
    ovl_wsclient_t *c[3];
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    for (int i = 0; i < 3; i++) {
        c[i] = connect_ws();
        assert_int_equal(
            ovl_wsclient_sendf(c[i], "{s:s, s:s, s:s, s:s}", "type", "join", "meeting", m, "token", guest, "name", "G"),
            0);
        if (i < 2) {
            json_t *w = ovl_wsclient_wait(c[i], "welcome", T);
            assert_non_null(w);
            json_decref(w);
        }
    }
    assert_true(ovl_wsclient_wait_error(c[2], "meeting-full", T));
    for (int i = 0; i < 3; i++)
        ovl_wsclient_free(c[i]);
}

static void test_join_timeout(void **state)
{
    (void)state;
    int code = 0;
    ovl_wsclient_t *c = connect_ws();
    assert_true(ovl_wsclient_wait_error(c, "join-timeout", T));
    assert_true(ovl_wsclient_wait_closed(c, T, &code));
    assert_int_equal(code, 1008);
    ovl_wsclient_free(c);
}

/* The one port: ICE-TCP framing (RFC 4571: 16-bit length, then a STUN message) is not handed to TLS. */
static void test_raw_tcp_and_silent_sockets(void **state)
{
    (void)state;
    const uint8_t stun_frame[] = {0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,
                                  2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12};
    int fd = ovl_tcp_connect(srv.port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, stun_frame, sizeof(stun_frame), 0), (ssize_t)sizeof(stun_frame));
    assert_true(ovl_tcp_wait_closed(fd, T)); /* no media plane installed: closed */
    close(fd);
    fd = ovl_tcp_connect(srv.port);
    assert_true(fd >= 0);
    assert_true(ovl_tcp_wait_closed(fd, T)); /* silent for longer than first_byte_timeout (1 s) */
    close(fd);
    good_client_joins();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_frames_get_their_codes),
        cmocka_unit_test(test_flood_is_cut_off_and_others_still_join),
        cmocka_unit_test(test_oversize_frame),
        cmocka_unit_test(test_too_many_connections_per_address),
        cmocka_unit_test(test_meeting_full),
        cmocka_unit_test(test_join_timeout),
        cmocka_unit_test(test_raw_tcp_and_silent_sockets),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
