/*
 * TURN allocations short-circuited into the media workers (media.h, "TURN allocations";
 * relay/io/media_turn.c): what the built-in TURN server does with an allocation's datagram to a
 * relay media address (ovl_media_turn_send), and with a worker's datagram to a relayed address
 * (ovl_media_turn_poll), played by the test thread. The relay announces 192.0.2.1 (RFC 5737
 * TEST-NET-1, reachable from nowhere) as its media address: media can only flow if no datagram
 * crosses a socket. No timing assertions: waits are bounded generously and only decide failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "media_world.h"
#include "relay/io/media_int.h"

#define WAIT 15000 /* ms: ASan on a loaded 2-core machine */

static void sum_stats(mw_t *w, ovl_media_stats_t *sum)
{
    ovl_media_stats_t st;
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < ovl_media_worker_count(w->m); i++) {
        ovl_media_stats(w->m, i, &st);
        sum->rx_packets += st.rx_packets;
        sum->tx_packets += st.tx_packets;
        sum->turn_rx_packets += st.turn_rx_packets;
        sum->turn_rx_bytes += st.turn_rx_bytes;
        sum->turn_tx_packets += st.turn_tx_packets;
        sum->turn_tx_bytes += st.turn_tx_bytes;
        sum->turn_drops += st.turn_drops;
        sum->turn_lent += st.turn_lent;
        sum->drop_unknown_source += st.drop_unknown_source;
    }
}

static bool cond_turn_stats(mw_t *w, void *arg)
{
    ovl_media_stats_t s;
    (void)arg;
    sum_stats(w, &s);
    return s.turn_rx_packets > 0 && s.turn_tx_packets > 0 && s.turn_rx_bytes > 0 && s.turn_tx_bytes > 0;
}

/* RFC 8656 §2 with the relay as the only peer: two clients whose allocations' relayed addresses
 * are on the relay's announced (unreachable) address pass ICE (the relay answers the checks "to the
 * relayed address"), DTLS and SRTP through the plane alone, and audio flows both ways. */
static void test_turn_clients_exchange_media_without_sockets(void **state)
{
    (void)state;
    mw_t w;
    mw_init_public(&w, 2, OVL_SEC(5), false, "192.0.2.1");
    mw_client_t *a = mw_connect_turn(&w, "meetingR", 1, "192.0.2.1", 50000);
    mw_client_t *b = mw_connect_turn(&w, "meetingR", 2, "192.0.2.1", 50001);
    ovl_addr_t announced;
    assert_int_equal(ovl_addr_parse(&announced, "192.0.2.1", a->cand.addr.port), 0);
    assert_true(ovl_addr_equal(&a->cand.addr, &announced)); /* the answer's candidate: the announced address */
    mw_audio_wait_t ab = {a, b, b->rtp, 1}, ba = {b, a, a->rtp, 1};
    assert_true(mw_wait(&w, mw_cond_audio_through, &ab, WAIT));
    assert_true(mw_wait(&w, mw_cond_audio_through, &ba, WAIT));
    assert_true(mw_wait(&w, cond_turn_stats, NULL, WAIT));
    ovl_media_stats_t s;
    sum_stats(&w, &s);
    assert_int_equal(s.rx_packets, 0); /* nothing reached a worker's UDP socket */
    assert_int_equal(s.tx_packets, 0); /* nor left through one */
    assert_int_equal(s.turn_drops, 0);
    assert_int_equal(a->turn_refused + b->turn_refused, 0);
    mw_free(&w);
}

/* Only the workers' own announced addresses and ports are short-circuited; nothing longer than a
 * pool packet. */
static void test_turn_send_refuses_other_addresses(void **state)
{
    (void)state;
    mw_t w;
    mw_init_public(&w, 1, OVL_SEC(5), false, "192.0.2.1");
    mw_pump(&w, 50);
    ovl_addr_t relayed, to;
    uint8_t data[OVL_POOL_DATA + 1] = {0};
    uint16_t port = ovl_media_worker_port(w.m, 0);
    assert_int_equal(ovl_addr_parse(&relayed, "192.0.2.1", 50000), 0);
    assert_int_equal(ovl_addr_parse(&to, "192.0.2.2", port), 0); /* not announced */
    assert_int_equal(ovl_media_turn_send(w.m, &relayed, &to, data, 100), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_addr_parse(&to, "192.0.2.1", (uint16_t)(port + 1)), 0); /* no worker's port */
    assert_int_equal(ovl_media_turn_send(w.m, &relayed, &to, data, 100), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_addr_parse(&to, "192.0.2.1", port), 0);
    assert_int_equal(ovl_media_turn_send(w.m, &relayed, &to, data, sizeof(data)), OVL_ERR_ARG);
    assert_int_equal(ovl_media_turn_send(w.m, &relayed, &to, data, 100), 0);
    assert_int_equal(ovl_media_turn_fd(w.m, 1), -1);
    assert_int_equal(ovl_media_turn_poll(w.m, 1, 10, mw_turn_deliver, &w), 0);
    mw_free(&w);
}

typedef struct lane_want {
    uint64_t rx, unknown, lent;
} lane_want_t;

static bool cond_lane(mw_t *w, void *arg)
{
    lane_want_t *want = arg;
    ovl_media_stats_t s;
    sum_stats(w, &s);
    return s.turn_rx_packets == want->rx && s.drop_unknown_source == want->unknown && s.turn_lent == want->lent;
}

/* The worker lends signaling OVL_MEDIA_TURN_CREDIT empty packets of its pool: a burst beyond them
 * before the worker catches up is dropped (as a full network would), never allocated or blocked
 * for; once the worker took the burst, the credit is back. A datagram from a relayed address no
 * transport knows is counted as from an unknown source, like one on the UDP socket. */
static void test_turn_burst_beyond_the_credit_is_dropped(void **state)
{
    (void)state;
    mw_t w;
    lane_want_t start = {0, 0, OVL_MEDIA_TURN_CREDIT};
    mw_init_public(&w, 1, OVL_SEC(5), false, "192.0.2.1");
    assert_true(mw_wait(&w, cond_lane, &start, WAIT));
    mw_pump(&w, 20); /* the lent packets reached "signaling" */
    ovl_addr_t relayed, to;
    uint8_t data[200];
    memset(data, 0x80, sizeof(data)); /* RTP-looking: the map routes it by source, and finds none */
    assert_int_equal(ovl_addr_parse(&relayed, "192.0.2.1", 50000), 0);
    assert_int_equal(ovl_addr_parse(&to, "192.0.2.1", ovl_media_worker_port(w.m, 0)), 0);
    size_t ok = 0, again = 0;
    for (size_t i = 0; i < 3 * OVL_MEDIA_TURN_CREDIT; i++) {
        int r = ovl_media_turn_send(w.m, &relayed, &to, data, sizeof(data));
        assert_true(r == 0 || r == OVL_ERR_AGAIN);
        r == 0 ? ok++ : again++;
    }
    assert_int_equal(ok, OVL_MEDIA_TURN_CREDIT);
    assert_int_equal(again, 2 * OVL_MEDIA_TURN_CREDIT);
    lane_want_t after = {ok, ok, OVL_MEDIA_TURN_CREDIT};
    assert_true(mw_wait(&w, cond_lane, &after, WAIT));
    mw_pump(&w, 20);
    assert_int_equal(ovl_media_turn_send(w.m, &relayed, &to, data, sizeof(data)), 0);
    mw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turn_clients_exchange_media_without_sockets),
        cmocka_unit_test(test_turn_send_refuses_other_addresses),
        cmocka_unit_test(test_turn_burst_beyond_the_credit_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
