/*
 * ICE-TCP (RFC 6544) through the media plane: the relay's passive TCP candidate, the first-frame
 * wait of the thread that owns the TCP port (tcp_accept.h), the hand-off to the worker named by
 * the relay ufrag (ufrag.h), and a CLIENT transport speaking RFC 4571 over a real TCP connection
 * that exchanges SRTP with a UDP client in the same meeting. No timing assertions: waits are
 * bounded generously and only decide failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "media_world.h"
#include "relay/io/tcp_conn.h"
#include "relay/proto/cursor.h"
#include "relay/proto/stun.h"

#define WAIT 15000 /* ms: ASan on a loaded 2-core machine */

static bool cond_tcp_stats(mw_t *w, void *arg)
{
    ovl_media_stats_t st, sum = {0};
    (void)arg;
    for (size_t i = 0; i < ovl_media_worker_count(w->m); i++) {
        ovl_media_stats(w->m, i, &st);
        sum.tcp_accepted += st.tcp_accepted;
        sum.tcp_open += st.tcp_open;
        sum.tcp_rx_frames += st.tcp_rx_frames;
        sum.tcp_tx_frames += st.tcp_tx_frames;
    }
    return sum.tcp_accepted == 1 && sum.tcp_open == 1 && sum.tcp_rx_frames > 0 && sum.tcp_tx_frames > 0;
}

/* RFC 6544 §4.5: the answer carries a passive TCP host candidate on the TCP port, below the UDP
 * candidate's priority (§4.2); an ICE-TCP client connects, passes ICE and DTLS over RFC 4571
 * frames, and audio flows both ways between it and a UDP client through the router. */
static void test_tcp_client_and_udp_client_exchange_media(void **state)
{
    (void)state;
    mw_t w;
    mw_init_ports(&w, 2, OVL_SEC(5), true);
    mw_client_t *a = mw_connect_via(&w, "meetingT", 1, true);
    mw_client_t *b = mw_connect_via(&w, "meetingT", 2, false);
    assert_non_null(strstr(a->answer, " 1 tcp "));
    assert_non_null(strstr(a->answer, " typ host tcptype passive"));
    char cand[96];
    snprintf(cand, sizeof(cand), " 1 tcp %u 127.0.0.1 %u typ host tcptype passive",
             ovl_sdp_candidate_priority(126, (4u << 13) + 8191, 1), a->cand.addr.port);
    assert_non_null(strstr(a->answer, cand));
    assert_true(ovl_sdp_candidate_priority(126, (4u << 13) + 8191, 1) < ovl_sdp_candidate_priority(126, 65535, 1));
    /* Both directions through the relay: TCP -> UDP and UDP -> TCP. */
    mw_audio_wait_t ab = {a, b, b->rtp, 1}, ba = {b, a, a->rtp, 1};
    assert_true(mw_wait(&w, mw_cond_audio_through, &ab, WAIT));
    assert_true(mw_wait(&w, mw_cond_audio_through, &ba, WAIT));
    assert_true(mw_wait(&w, cond_tcp_stats, NULL, WAIT));
    ovl_tcp_accept_stats_t as;
    ovl_tcp_accept_stats(w.acc, &as);
    assert_int_equal(as.ready, 1);
    assert_int_equal(as.pending, 0);
    mw_free(&w);
}

/* ---- the first-frame wait alone (tcp_accept.h) ---------------------------------------------------- */

typedef struct ready {
    int fd;
    char ufrag[64];
} ready_t;

static void on_ready(void *ctx, int fd, const ovl_stun_text_t *ufrag)
{
    ready_t *r = ctx;
    r->fd = fd;
    snprintf(r->ufrag, sizeof(r->ufrag), "%.*s", (int)ufrag->len, ufrag->s);
}

/* RFC 4571 §2 framing of an RFC 8489 Binding request with USERNAME "relay:client" and FINGERPRINT. */
static size_t framed_check(uint8_t *out, size_t cap)
{
    static const uint8_t txid[OVL_STUN_TXID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t key[] = "0123456789abcdefghijkl";
    ovl_wbuf_t w;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&w, out, cap);
    assert_int_equal(ovl_put_u16(&w, 0), 0);
    assert_int_equal(ovl_stun_build_start(&b, &w, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid), 0);
    assert_int_equal(ovl_stun_add_username(&b, "relay:client", 12), 0);
    assert_int_equal(ovl_stun_build_finish(&b, key, sizeof(key) - 1), 0);
    ovl_store_u16(out, (uint16_t)(w.len - 2));
    return w.len;
}

static void service_for(ovl_tcp_accept_t *a, int ms, ovl_time_t fake_now)
{
    for (int i = 0; i < ms / 10; i++) {
        struct pollfd p = {.fd = ovl_tcp_accept_fd(a), .events = POLLIN};
        poll(&p, 1, 10);
        ovl_tcp_accept_service(a, fake_now);
    }
}

/* A first frame in two segments waits (without reading) until whole, then is handed on with the
 * bytes still in the socket; junk and silence are closed. */
static void test_accept_waits_for_whole_frame(void **state)
{
    (void)state;
    ovl_tcp_accept_t *a = NULL;
    ready_t r = {.fd = -1};
    uint8_t f[256], back[256];
    int sv[2];
    ssize_t k;
    size_t n = framed_check(f, sizeof(f));
    assert_int_equal(ovl_tcp_accept_new(&a, 4, OVL_SEC(5), on_ready, &r), 0);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    assert_int_equal(write(sv[1], f, 7), 7);
    ovl_tcp_accept_add(a, sv[0], 0);
    service_for(a, 50, 0);
    assert_int_equal(r.fd, -1);
    ovl_tcp_accept_stats_t st;
    ovl_tcp_accept_stats(a, &st);
    assert_int_equal(st.pending, 1);
    assert_int_equal(write(sv[1], f + 7, n - 7), (ssize_t)(n - 7));
    service_for(a, 50, 0);
    assert_int_equal(r.fd, sv[0]);
    assert_string_equal(r.ufrag, "relay");
    assert_int_equal(read(r.fd, back, sizeof(back)), (ssize_t)n); /* nothing was consumed */
    assert_memory_equal(back, f, n);
    close(sv[0]);
    close(sv[1]);

    /* Not a STUN Binding request: closed (the peer sees EOF). */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    assert_int_equal(write(sv[1], "\x00\x05hello", 7), 7);
    ovl_tcp_accept_add(a, sv[0], 0);
    ovl_tcp_accept_stats(a, &st);
    assert_int_equal(st.not_ice, 1);
    k = read(sv[1], back, sizeof(back));
    assert_true(k == 0 || (k < 0 && errno == ECONNRESET)); /* closed: EOF, or ECONNRESET (unread bytes) */
    close(sv[1]);

    /* Half a frame and then silence: closed once the timeout passed. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    assert_int_equal(write(sv[1], f, 3), 3);
    ovl_tcp_accept_add(a, sv[0], 0);
    service_for(a, 400, OVL_SEC(6)); /* the 250 ms check runs with a clock past the deadline */
    ovl_tcp_accept_stats(a, &st);
    assert_int_equal(st.timed_out, 1);
    assert_int_equal(st.pending, 0);
    k = read(sv[1], back, sizeof(back));
    assert_true(k == 0 || (k < 0 && errno == ECONNRESET)); /* closed: EOF, or ECONNRESET (unread bytes) */
    close(sv[1]);
    ovl_tcp_accept_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_client_and_udp_client_exchange_media),
        cmocka_unit_test(test_accept_waits_for_whole_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
