/* Shared fixture of test_ice.c and test_ice_client.c: a lite agent (the relay) and a controlling
 * client (the peer) wired together in memory, with a fake clock. */
#ifndef OVL_TEST_ICE_WORLD_H
#define OVL_TEST_ICE_WORLD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/ice.h"

#define RELAY_UFRAG "rLy1"
#define RELAY_PWD   "relay-password-0123456789"
#define PEER_UFRAG  "pEer"

#define RELAY_PATH_UDP 7 /* the relay's UDP socket */
#define RELAY_PATH_TCP 8 /* an accepted ICE-TCP connection */
#define PEER_PATH      1 /* the peer's socket */

/* Deterministic "randomness" for tests (splitmix64); production passes a CSPRNG. */
static inline void test_random(void *user, uint8_t *buf, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}

struct world {
    ovl_ice_lite_t relay;
    ovl_ice_client_t peer;
    uint64_t seed;
    ovl_addr_t relay_addr, peer_addr;
    ovl_time_t now;
    bool drop_to_relay;                /* network loses the peer's packets */
    ovl_ice_event_t relay_ev, peer_ev; /* last non-empty events */
    int relay_ret;                     /* last ovl_ice_lite_on_stun result */
    unsigned sent;                     /* datagrams the peer sent */
};

static inline void world_init(struct world *w)
{
    ovl_ice_client_config_t cc;
    memset(w, 0, sizeof(*w));
    w->seed = 42;
    assert_int_equal(ovl_addr_parse(&w->relay_addr, "198.51.100.1", 10000), 0);
    assert_int_equal(ovl_addr_parse(&w->peer_addr, "192.0.2.10", 50000), 0);
    assert_int_equal(ovl_ice_lite_init(&w->relay, NULL, RELAY_UFRAG, RELAY_PWD, w->now), 0);
    assert_int_equal(ovl_ice_lite_set_remote(&w->relay, PEER_UFRAG), 0);
    ovl_ice_client_config_default(&cc);
    cc.random = test_random;
    cc.random_user = &w->seed;
    assert_int_equal(ovl_ice_client_init(&w->peer, &cc, PEER_UFRAG, RELAY_UFRAG, RELAY_PWD, w->now), 0);
    assert_int_equal(ovl_ice_client_add_remote(&w->peer, &w->relay_addr, PEER_PATH), 0);
}

static inline void world_dispose(struct world *w)
{
    ovl_ice_lite_dispose(&w->relay);
    ovl_ice_client_dispose(&w->peer);
}

/* Delivers one datagram from the peer to the relay and the relay's answer back. */
static inline void deliver(struct world *w, const uint8_t *pkt, size_t len, const ovl_addr_t *from, uint64_t relay_path)
{
    uint8_t ans[512];
    ovl_wbuf_t out;
    ovl_ice_event_t ev;

    ovl_wbuf_init(&out, ans, sizeof(ans));
    w->relay_ret = ovl_ice_lite_on_stun(&w->relay, pkt, len, from, relay_path, w->now, &out, &ev);
    if (ev.type != OVL_ICE_EVENT_NONE)
        w->relay_ev = ev;
    if (out.len > 0) {
        ovl_ice_client_on_stun(&w->peer, ans, out.len, &w->relay_addr, PEER_PATH, w->now, &ev);
        if (ev.type != OVL_ICE_EVENT_NONE)
            w->peer_ev = ev;
    }
}

/* Runs both sides until `until`, jumping from timeout to timeout. */
static inline void run_until(struct world *w, ovl_time_t until)
{
    for (;;) {
        uint8_t pkt[512];
        ovl_wbuf_t out;
        ovl_ice_path_t to;
        ovl_ice_event_t ev;
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        int r = ovl_ice_client_poll(&w->peer, w->now, &out, &to, &ev);
        if (r == 0) {
            if (ev.type != OVL_ICE_EVENT_NONE)
                w->peer_ev = ev;
            if (out.len > 0) {
                w->sent++;
                assert_true(ovl_addr_equal(&to.addr, &w->relay_addr));
                if (!w->drop_to_relay)
                    deliver(w, pkt, out.len, &w->peer_addr, RELAY_PATH_UDP);
            }
            continue;
        }
        assert_int_equal(r, OVL_ERR_AGAIN);
        ovl_ice_lite_on_timeout(&w->relay, w->now, &ev);
        if (ev.type != OVL_ICE_EVENT_NONE)
            w->relay_ev = ev;
        ovl_time_t next = ovl_ice_client_next_timeout(&w->peer);
        ovl_time_t rn = ovl_ice_lite_next_timeout(&w->relay);
        if (rn < next)
            next = rn;
        if (next > until)
            break;
        assert_true(next >= w->now);
        w->now = next;
    }
    w->now = until;
}

/* A Binding request as a browser would send it, with knobs to break it. */
struct req_opts {
    const char *username;
    const char *pwd; /* NULL: no MESSAGE-INTEGRITY */
    bool use_candidate, controlled, unknown_attr, no_fingerprint;
    uint8_t txid_byte;
};

static inline size_t make_request(uint8_t *buf, size_t cap, const struct req_opts *o)
{
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    uint8_t txid[12];
    memset(txid, o->txid_byte ? o->txid_byte : 0x5a, sizeof(txid));
    ovl_wbuf_init(&out, buf, cap);
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid);
    if (o->username)
        ovl_stun_add_username(&b, o->username, strlen(o->username));
    ovl_stun_add_priority(&b, 0x6effffff);
    if (o->controlled)
        ovl_stun_add_ice_controlled(&b, 1);
    else
        ovl_stun_add_ice_controlling(&b, 2);
    if (o->use_candidate)
        ovl_stun_add_use_candidate(&b);
    if (o->unknown_attr)
        ovl_stun_add_attr(&b, 0x7f01, "x", 1);
    if (o->pwd)
        ovl_stun_add_integrity(&b, (const uint8_t *)o->pwd, strlen(o->pwd));
    if (!o->no_fingerprint)
        ovl_stun_add_fingerprint(&b);
    assert_int_equal(b.err, 0);
    return out.len;
}

/* Sends a hand-made request to the relay; returns the result, answer in ans, its length in ans_len. */
static inline int poke(struct world *w, const struct req_opts *o, const ovl_addr_t *from, uint64_t path, uint8_t *ans,
                       size_t *ans_len, ovl_ice_event_t *ev)
{
    uint8_t req[512];
    ovl_wbuf_t out;
    size_t n = make_request(req, sizeof(req), o);
    ovl_wbuf_init(&out, ans, 512);
    int r = ovl_ice_lite_on_stun(&w->relay, req, n, from, path, w->now, &out, ev);
    *ans_len = out.len;
    return r;
}

static inline void assert_error_answer(const uint8_t *ans, size_t len, uint16_t code, const char *pwd)
{
    ovl_stun_msg_t m;
    assert_true(len > 0);
    assert_int_equal(ovl_stun_parse(ans, len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_ERROR);
    assert_int_equal(m.error_code, code);
    assert_int_equal(m.txid[0], 0x5a);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    if (pwd)
        assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)), 0);
    else
        assert_false(m.has & OVL_STUN_HAS_INTEGRITY); /* RFC 8489 §9.1.3: no MI on a 400/401 */
}

#endif
