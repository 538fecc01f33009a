/*
 * ICE lite agent (RFC 8445 §2.5, §7.3) and controlling client, talking to each other in memory with a
 * fake clock; consent freshness (RFC 7675); ICE restart (RFC 8445 §9); role conflict (§7.3.1.1).
 */
#include <setjmp.h>
#include <stdarg.h>
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
static void test_random(void *user, uint8_t *buf, size_t len)
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

static void world_init(struct world *w)
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

static void world_dispose(struct world *w)
{
    ovl_ice_lite_dispose(&w->relay);
    ovl_ice_client_dispose(&w->peer);
}

/* Delivers one datagram from the peer to the relay and the relay's answer back. */
static void deliver(struct world *w, const uint8_t *pkt, size_t len, const ovl_addr_t *from, uint64_t relay_path)
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
static void run_until(struct world *w, ovl_time_t until)
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

static size_t make_request(uint8_t *buf, size_t cap, const struct req_opts *o)
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
static int poke(struct world *w, const struct req_opts *o, const ovl_addr_t *from, uint64_t path, uint8_t *ans,
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

static void assert_error_answer(const uint8_t *ans, size_t len, uint16_t code, const char *pwd)
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

/* RFC 8445 §7.2, §7.3: the client's check, the lite answer, nomination on both sides. */
static void test_check_answer_nominate(void **state)
{
    (void)state;
    struct world w;
    uint8_t pkt[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to, sel;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;
    ovl_addr_t mapped;

    world_init(&w);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), OVL_ERR_NOTFOUND);

    /* The client's request carries what RFC 8445 §7.1 asks of a controlling agent. */
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_true(ovl_addr_equal(&to.addr, &w.relay_addr));
    assert_int_equal(to.path_id, PEER_PATH);
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_REQUEST);
    assert_int_equal(m.username.len, strlen(RELAY_UFRAG ":" PEER_UFRAG));
    assert_memory_equal(m.username.s, RELAY_UFRAG ":" PEER_UFRAG, m.username.len);
    assert_true(m.has & OVL_STUN_HAS_PRIORITY);
    assert_true(m.has & OVL_STUN_HAS_ICE_CONTROLLING);
    assert_true(m.has & OVL_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), OVL_ERR_AGAIN);

    /* The lite agent answers and selects the pair. */
    size_t req_len = out.len;
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, pkt, req_len, &w.peer_addr, RELAY_PATH_UDP, w.now, &out, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.peer_addr));
    assert_int_equal(ev.path.path_id, RELAY_PATH_UDP);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_int_equal(sel.path_id, RELAY_PATH_UDP);

    assert_int_equal(ovl_stun_parse(ans, out.len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_SUCCESS);
    assert_true(ovl_addr_equal(&m.xor_mapped, &w.peer_addr));
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);

    /* The client takes the answer and selects the relay's candidate. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.relay_addr));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_selected(&w.peer, &sel, &mapped), 0);
    assert_true(ovl_addr_equal(&mapped, &w.peer_addr));
    /* The same answer again is no longer an outstanding transaction. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev),
                     OVL_ERR_NOTFOUND);

    /* Trusted: exactly the checked address on the checked path. */
    ovl_addr_t other = w.peer_addr;
    other.port++;
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_TCP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &other, RELAY_PATH_UDP));
    world_dispose(&w);
}

/* RFC 8489 §9.1.3: a forged MESSAGE-INTEGRITY gets a bare 401 and teaches the agent nothing. */
static void test_forged_integrity_refused(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;

    world_init(&w);
    struct req_opts forged = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = "not-the-relay-password-000", .use_candidate = true};
    assert_int_equal(poke(&w, &forged, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CHECKING);

    /* No MESSAGE-INTEGRITY, or no USERNAME: 400. */
    struct req_opts bare = {.username = RELAY_UFRAG ":" PEER_UFRAG, .use_candidate = true};
    assert_int_equal(poke(&w, &bare, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 400, NULL);
    struct req_opts anon = {.pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &anon, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 400, NULL);

    /* Without FINGERPRINT it is not ICE's STUN: dropped without an answer. */
    struct req_opts nofp = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .no_fingerprint = true};
    assert_int_equal(poke(&w, &nofp, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_PARSE);
    assert_int_equal(n, 0);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* The genuine request still works afterwards. */
    struct req_opts good = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &good, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    world_dispose(&w);
}

/* RFC 8445 §7.2.2: USERNAME must be "<relay ufrag>:<peer ufrag>"; the peer's part is free until known. */
static void test_wrong_username_refused(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    static const char *const wrong[] = {
        "xLy1:" PEER_UFRAG,
        RELAY_UFRAG "x:" PEER_UFRAG,
        RELAY_UFRAG ":" PEER_UFRAG "x",
        RELAY_UFRAG ":pEe",
        RELAY_UFRAG PEER_UFRAG,
        RELAY_UFRAG,
        "",
    };

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(wrong); i++) {
        struct req_opts o = {.username = wrong[i], .pwd = RELAY_PWD, .use_candidate = true};
        int r = poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev);
        if (r != OVL_ERR_AUTH)
            fail_msg("USERNAME \"%s\" was accepted (%d)", wrong[i], r);
        assert_error_answer(ans, n, 401, NULL);
    }
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* Before the remote ufrag is known, any remote part is accepted (RFC 8445 §7.3). */
    ovl_ice_lite_t early;
    assert_int_equal(ovl_ice_lite_init(&early, NULL, RELAY_UFRAG, RELAY_PWD, 0), 0);
    uint8_t req[512], buf[512];
    ovl_wbuf_t out;
    struct req_opts any = {.username = RELAY_UFRAG ":whoever", .pwd = RELAY_PWD};
    size_t len = make_request(req, sizeof(req), &any);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_ice_lite_on_stun(&early, req, len, &w.peer_addr, 1, 0, &out, &ev), 0);
    assert_true(ovl_ice_lite_is_trusted(&early, &w.peer_addr, 1));
    ovl_ice_lite_set_remote(&early, PEER_UFRAG);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_ice_lite_on_stun(&early, req, len, &w.peer_addr, 1, 0, &out, &ev), OVL_ERR_AUTH);
    ovl_ice_lite_dispose(&early);
    world_dispose(&w);
}

/* Only addresses that passed a check are trusted; the table is bounded and evicts the oldest. */
static void test_untrusted_addresses_and_eviction(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_addr_t a[OVL_ICE_LITE_MAX_PAIRS + 2];
    struct req_opts nominate = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    struct req_opts check = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD};

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(a); i++) {
        a[i] = w.peer_addr;
        a[i].port = (uint16_t)(40000 + i);
    }
    /* a[0] is nominated first; the rest only pass checks, one second apart. */
    assert_int_equal(poke(&w, &nominate, &a[0], RELAY_PATH_UDP, ans, &n, &ev), 0);
    for (size_t i = 1; i < OVL_ARRAY_LEN(a); i++) {
        w.now += OVL_SEC(1);
        assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
        assert_int_equal(poke(&w, &check, &a[i], RELAY_PATH_UDP, ans, &n, &ev), 0);
        assert_int_equal(ev.type, OVL_ICE_EVENT_NONE); /* no USE-CANDIDATE: no change of pair */
        assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
    }
    /* Ten pairs passed, eight fit: the selected one stays, a[1] and a[2] (the oldest) went. */
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[0], RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[1], RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[2], RELAY_PATH_UDP));
    for (size_t i = 3; i < OVL_ARRAY_LEN(a); i++)
        assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
    ovl_ice_path_t sel;
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_true(ovl_addr_equal(&sel.addr, &a[0]));

    /* A later USE-CANDIDATE (a browser renominating, e.g. after a network change) switches the pair. */
    assert_int_equal(poke(&w, &nominate, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &a[5]));
    /* Nominating the selected pair again is not a change. */
    assert_int_equal(poke(&w, &nominate, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);

    /* A non-selected pair that stops sending checks is forgotten after consent_timeout. */
    w.now += OVL_SEC(29); /* t = 38 s; a[0] was last checked at 0 s, a[3] at 3 s, a[9] at 9 s */
    assert_int_equal(poke(&w, &check, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) == OVL_SEC(30));
    ovl_ice_lite_on_timeout(&w.relay, OVL_SEC(30), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[0], RELAY_PATH_UDP));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[3], RELAY_PATH_UDP));
    ovl_ice_lite_on_timeout(&w.relay, OVL_SEC(40), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    for (size_t i = 3; i < OVL_ARRAY_LEN(a); i++)
        assert_int_equal(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP), i == 5);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) == OVL_SEC(68)); /* the selected pair's consent */
    world_dispose(&w);
}

/* RFC 7675 §5.1 on the relay: 30 s without a valid check on the selected pair loses consent. */
static void test_lite_consent_timeout(void **state)
{
    (void)state;
    struct world w;
    ovl_ice_event_t ev;

    world_init(&w);
    run_until(&w, OVL_SEC(60));
    assert_int_equal(w.relay_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(w.peer_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    /* 60 s of consent checks about every 5 s (4..6 s each), plus the first check. */
    assert_in_range(w.sent, 1 + 60 / 6, 1 + 60 / 4);

    /* The peer goes silent. */
    w.drop_to_relay = true;
    ovl_time_t silent_from = w.now;
    ovl_time_t deadline = ovl_ice_lite_next_timeout(&w.relay);
    assert_true(deadline <= silent_from + OVL_SEC(30));
    assert_true(deadline > silent_from + OVL_SEC(30) - OVL_SEC(7));
    ovl_ice_lite_on_timeout(&w.relay, deadline - 1, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    ovl_ice_lite_on_timeout(&w.relay, deadline, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_CONSENT_LOST);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.peer_addr));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_FAILED);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_next_timeout(&w.relay), OVL_TIME_NEVER);

    /* A failed agent answers nothing. */
    uint8_t ans[512];
    size_t n;
    struct req_opts good = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &good, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_STATE);
    assert_int_equal(n, 0);
    world_dispose(&w);
}

/* RFC 7675 §5.1 on the client: consent checks 5 s apart (0.8..1.2), consent lost 30 s after the last answer. */
static void test_client_consent_timeout(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    run_until(&w, OVL_SEC(1));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    ovl_time_t last_ok = w.now;

    /* Relay unreachable from now on; count the consent checks the client keeps sending. */
    w.drop_to_relay = true;
    unsigned before = w.sent;
    ovl_time_t prev = w.now;
    while (w.peer_ev.type != OVL_ICE_EVENT_CONSENT_LOST) {
        ovl_time_t next = ovl_ice_client_next_timeout(&w.peer);
        assert_true(next != OVL_TIME_NEVER);
        unsigned sent = w.sent;
        run_until(&w, next);
        if (w.sent != sent) {
            /* Randomised interval (RFC 7675 §5.1): within 0.8..1.2 of 5 s of the previous check. */
            assert_true(w.now - prev <= OVL_SEC(6));
            prev = w.now;
        }
    }
    assert_true(w.now >= last_ok + OVL_SEC(29)); /* the last answered check was at most 1 s before last_ok */
    assert_true(w.now <= last_ok + OVL_SEC(30));
    assert_in_range(w.sent - before, 30 / 6, 30 / 4 + 1);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_FAILED);
    assert_int_equal(ovl_ice_client_next_timeout(&w.peer), OVL_TIME_NEVER);
    world_dispose(&w);
}

/* A lite agent nobody nominates gives up after connect_timeout. */
static void test_connect_timeout(void **state)
{
    (void)state;
    ovl_ice_lite_t agent;
    ovl_ice_lite_config_t cfg;
    ovl_ice_event_t ev;

    ovl_ice_lite_config_default(&cfg);
    assert_true(cfg.connect_timeout == OVL_SEC(30));
    cfg.connect_timeout = OVL_SEC(10);
    assert_int_equal(ovl_ice_lite_init(&agent, &cfg, RELAY_UFRAG, RELAY_PWD, OVL_SEC(100)), 0);
    assert_true(ovl_ice_lite_next_timeout(&agent) == OVL_SEC(110));
    ovl_ice_lite_on_timeout(&agent, OVL_SEC(105), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    ovl_ice_lite_on_timeout(&agent, OVL_SEC(110), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_CONNECT_TIMEOUT);
    assert_string_equal(ovl_ice_event_name(ev.type), "connect-timeout");
    assert_int_equal(ovl_ice_lite_state(&agent), OVL_ICE_FAILED);

    /* A restart brings a failed agent back to checking with a fresh timer. */
    assert_int_equal(ovl_ice_lite_restart(&agent, "nEw1", "new-relay-password-0123456", NULL, OVL_SEC(200)), 0);
    assert_int_equal(ovl_ice_lite_state(&agent), OVL_ICE_CHECKING);
    assert_true(ovl_ice_lite_next_timeout(&agent) == OVL_SEC(210));
    ovl_ice_lite_dispose(&agent);

    assert_int_equal(ovl_ice_lite_init(&agent, NULL, "", RELAY_PWD, 0), OVL_ERR_ARG);
    char longer[OVL_ICE_PWD_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ovl_ice_lite_init(&agent, NULL, RELAY_UFRAG, longer, 0), OVL_ERR_ARG);
}

/* RFC 8445 §9: after a restart the old pair keeps media (and consent) until the new credentials nominate. */
static void test_restart_keeps_pair_until_renomination(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_ice_path_t sel;

    world_init(&w);
    run_until(&w, OVL_SEC(10));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);

    assert_int_equal(ovl_ice_lite_restart(&w.relay, "rLy2", "relay-password-second-gen", "pEe2", w.now), 0);
    /* The old session goes on: the old client's consent checks are still answered, the pair stays. */
    run_until(&w, OVL_SEC(50));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_true(ovl_addr_equal(&sel.addr, &w.peer_addr));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* Old credentials cannot nominate a new pair while the restart is pending. */
    ovl_addr_t tcp_addr = w.peer_addr;
    tcp_addr.port = 50001;
    struct req_opts old_nom = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &old_nom, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    /* A check with the new credentials but no USE-CANDIDATE does not either. */
    struct req_opts new_check = {.username = "rLy2:pEe2", .pwd = "relay-password-second-gen"};
    assert_int_equal(poke(&w, &new_check, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_int_equal(sel.path_id, RELAY_PATH_UDP);

    /* The new session nominates over ICE-TCP: the pair switches, the old credentials die. */
    struct req_opts new_nom = {.username = "rLy2:pEe2", .pwd = "relay-password-second-gen", .use_candidate = true};
    assert_int_equal(poke(&w, &new_nom, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ev.path.path_id, RELAY_PATH_TCP);
    assert_true(ovl_addr_equal(&ev.path.addr, &tcp_addr));
    assert_int_equal(poke(&w, &old_nom, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &tcp_addr, RELAY_PATH_TCP));
    world_dispose(&w);
}

/* RFC 8445 §7.3.1.1: a peer that also claims the controlled role gets 487, with integrity. */
static void test_role_conflict_487(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;

    world_init(&w);
    struct req_opts o = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true, .controlled = true};
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_STATE);
    assert_error_answer(ans, n, 487, RELAY_PWD);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* The same 487 fails the client's check (it has the matching transaction id). */
    uint8_t pkt[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    ovl_stun_msg_t m;
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
    ovl_stun_builder_t b;
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, m.txid);
    ovl_stun_add_error_code(&b, 487, "Role Conflict");
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev),
                     OVL_ERR_STATE);
    /* Its only check failed: the client reports failure at the next poll. */
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_FAILED);
    assert_int_equal(out.len, 0);
    world_dispose(&w);
}

/* RFC 8489 §6.3.1.1: unknown required attributes get 420 -- but only after authentication. */
static void test_unknown_attribute_420(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    struct req_opts o = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true, .unknown_attr = true};
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_UNSUPPORTED);
    assert_error_answer(ans, n, 420, RELAY_PWD);
    assert_int_equal(ovl_stun_parse(ans, n, &m), 0);
    assert_true(m.has & OVL_STUN_HAS_UNKNOWN_ATTRIBUTES);
    /* UNKNOWN-ATTRIBUTES follows ERROR-CODE (4 + 4 + 17 bytes of "Unknown Attribute" + 3 of padding). */
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24), OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES);
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24 + 2), 2);
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24 + 4), 0x7f01);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    o.pwd = "wrong-password-0123456789";
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    world_dispose(&w);
}

/* RFC 8489 §6.2.1: RTO 500 ms doubling, Rc = 7 transmissions, then Rm * RTO = 8 s: fails at 39.5 s. */
static void test_client_retransmissions(void **state)
{
    (void)state;
    static const ovl_time_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    struct world w;
    uint8_t pkt[512], first_txid[12];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(want); i++) {
        assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(want[i]));
        w.now = OVL_MS(want[i]);
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
        assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
        if (i == 0)
            memcpy(first_txid, m.txid, 12);
        assert_memory_equal(m.txid, first_txid, 12); /* a retransmission, same transaction */
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), OVL_ERR_AGAIN);
    }
    assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(39500));
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(39499), &out, &to, &ev), OVL_ERR_AGAIN);
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(39500), &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_FAILED);
    assert_int_equal(out.len, 0);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_FAILED);

    /* A late answer to the abandoned transaction changes nothing. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, pkt, 0, &w.relay_addr, PEER_PATH, w.now, &ev), OVL_ERR_STATE);
    world_dispose(&w);
}

/* Two relay candidates: first checks Ta apart (RFC 8445 §14.2); the first success wins, the other stops. */
static void test_client_two_candidates(void **state)
{
    (void)state;
    struct world w;
    ovl_addr_t tcp;
    uint8_t p1[512], p2[512], ans[512];
    ovl_wbuf_t o1, o2, out;
    ovl_ice_path_t t1, t2, sel;
    ovl_ice_event_t ev;

    world_init(&w);
    ovl_addr_parse(&tcp, "198.51.100.1", 443);
    assert_int_equal(ovl_ice_client_add_remote(&w.peer, &tcp, 2), 0);
    ovl_wbuf_init(&o1, p1, sizeof(p1));
    assert_int_equal(ovl_ice_client_poll(&w.peer, 0, &o1, &t1, &ev), 0);
    assert_int_equal(t1.path_id, PEER_PATH);
    ovl_wbuf_init(&o2, p2, sizeof(p2));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(49), &o2, &t2, &ev), OVL_ERR_AGAIN);
    assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(50));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(50), &o2, &t2, &ev), 0);
    assert_int_equal(t2.path_id, 2);
    assert_true(ovl_addr_equal(&t2.addr, &tcp));

    /* The second candidate answers first. An answer arriving on the wrong path is ignored. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, p2, o2.len, &w.peer_addr, RELAY_PATH_TCP, OVL_MS(60), &out, &ev),
                     0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &tcp, PEER_PATH, OVL_MS(60), &ev), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, 2, OVL_MS(60), &ev),
                     OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &tcp, 2, OVL_MS(60), &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ovl_ice_client_selected(&w.peer, &sel, NULL), 0);
    assert_int_equal(sel.path_id, 2);

    /* The first candidate's check is abandoned: no retransmission, its answer is not awaited. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, p1, o1.len, &w.peer_addr, RELAY_PATH_UDP, OVL_MS(70), &out, &ev),
                     0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, OVL_MS(70), &ev),
                     OVL_ERR_NOTFOUND);
    assert_true(ovl_ice_client_next_timeout(&w.peer) >= OVL_MS(60) + OVL_SEC(4));
    assert_int_equal(ovl_ice_client_add_remote(&w.peer, &tcp, 3), OVL_ERR_STATE);
    world_dispose(&w);
}

/* The client drops answers it cannot authenticate or that are not STUN. */
static void test_client_rejects_bad_answers(void **state)
{
    (void)state;
    struct world w;
    uint8_t pkt[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;
    ovl_stun_builder_t b;

    world_init(&w);
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, 0, &out, &to, &ev), 0);
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);

    /* Signed with the wrong key. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_add_xor_mapped_address(&b, &w.peer_addr);
    ovl_stun_build_finish(&b, (const uint8_t *)"guess", 5);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_AUTH);
    /* Unsigned. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_build_finish(&b, NULL, 0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_AUTH);
    /* Another transaction. */
    uint8_t other[12];
    memset(other, 0x11, sizeof(other));
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, other);
    ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD));
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_NOTFOUND);
    /* Right answer, damaged FINGERPRINT. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD));
    ans[out.len - 1] ^= 1;
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_PARSE);
    /* A request is not an answer. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, pkt, m.len, &w.relay_addr, PEER_PATH, 0, &ev),
                     OVL_ERR_UNSUPPORTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CHECKING);
    ans[out.len - 1] ^= 1;
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), 0);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    world_dispose(&w);
}

/* ICE-TCP (RFC 6544): the answer lands after the caller's 2-byte RFC 4571 prefix; indications are keepalives. */
static void test_lite_framing_and_indications(void **state)
{
    (void)state;
    struct world w;
    uint8_t req[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    struct req_opts o = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    size_t n = make_request(req, sizeof(req), &o);
    ovl_wbuf_init(&out, ans, sizeof(ans));
    out.len = 2;
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n, &w.peer_addr, RELAY_PATH_TCP, 0, &out, &ev), 0);
    assert_int_equal(ovl_stun_parse(ans + 2, out.len - 2, &m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    uint8_t answer[512];
    size_t answer_len = m.len;
    memcpy(answer, ans + 2, answer_len);

    /* Too small for the answer: nothing written, but the check counted. */
    ovl_wbuf_init(&out, ans, 40);
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n, &w.peer_addr, RELAY_PATH_UDP, 0, &out, &ev), OVL_ERR_LIMIT);
    assert_int_equal(out.len, 0);
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* A Binding indication (RFC 8445 §11 keepalive): nothing to answer, proves nothing. */
    ovl_stun_builder_t b;
    uint8_t ind[64], txid[12] = {0};
    ovl_wbuf_t iw;
    ovl_wbuf_init(&iw, ind, sizeof(ind));
    ovl_stun_build_start(&b, &iw, OVL_STUN_INDICATION, OVL_STUN_BINDING, txid);
    ovl_stun_build_finish(&b, NULL, 0);
    ovl_addr_t stranger;
    ovl_addr_parse(&stranger, "203.0.113.9", 9);
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, ind, iw.len, &stranger, RELAY_PATH_UDP, 0, &out, &ev), 0);
    assert_int_equal(out.len, 0);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &stranger, RELAY_PATH_UDP));

    /* Garbage and answers are dropped silently. */
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n - 1, &stranger, RELAY_PATH_UDP, 0, &out, &ev),
                     OVL_ERR_PARSE);
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, answer, answer_len, &stranger, RELAY_PATH_UDP, 0, &out, &ev),
                     OVL_ERR_UNSUPPORTED);
    assert_int_equal(out.len, 0);
    world_dispose(&w);
}

/* Two minutes of calm: consent keeps both sides connected, the relay never times out. */
static void test_long_call_stays_up(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    run_until(&w, OVL_SEC(120));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(w.relay_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(w.relay_ret, 0);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) > OVL_SEC(120));
    world_dispose(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_answer_nominate),
        cmocka_unit_test(test_forged_integrity_refused),
        cmocka_unit_test(test_wrong_username_refused),
        cmocka_unit_test(test_untrusted_addresses_and_eviction),
        cmocka_unit_test(test_lite_consent_timeout),
        cmocka_unit_test(test_client_consent_timeout),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_restart_keeps_pair_until_renomination),
        cmocka_unit_test(test_role_conflict_487),
        cmocka_unit_test(test_unknown_attribute_420),
        cmocka_unit_test(test_client_retransmissions),
        cmocka_unit_test(test_client_two_candidates),
        cmocka_unit_test(test_client_rejects_bad_answers),
        cmocka_unit_test(test_lite_framing_and_indications),
        cmocka_unit_test(test_long_call_stays_up),
    };
    return cmocka_run_group_tests_name("ice (RFC 8445 lite, RFC 7675 consent)", tests, NULL, NULL);
}
