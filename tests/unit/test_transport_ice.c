/*
 * WebRTC transport, the ICE side (RFC 8445, RFC 7675) seen through the transport: consent kept and
 * lost, ICE restart with media flowing throughout and DTLS untouched, recovery from consent loss,
 * connect timeouts on both roles, and a browser-like peer that starts DTLS before it nominates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/proto/dtls.h"
#include "relay/proto/srtp.h"
#include "tests/unit/test_transport_world.h"

struct fx {
    tw_world_t w;
    tw_peer_t s, c;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL || tw_init(&f->w) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tw_dispose(&f->w);
    free(f);
    return 0;
}

static void rtp_round(tw_world_t *w, tw_peer_t *from, tw_peer_t *to, uint16_t seq)
{
    uint8_t buf[TW_BUF_CAP], plain[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, seq, 0x0badcafeu + from->node, 1188, (uint8_t)seq), plain_len = len;
    memcpy(plain, buf, len);
    unsigned before = to->n_rtp;
    assert_int_equal(ovl_transport_send_rtp(from->t, buf, &len, sizeof(buf)), 0);
    tw_pump(w);
    assert_int_equal(to->n_rtp, before + 1);
    assert_int_equal(to->last_len, plain_len);
    assert_memory_equal(to->last_media, plain, plain_len);
}

/* A Binding request from a controlling peer (RFC 8445 §7.2.2), signed with pwd. */
static size_t make_check(uint8_t *buf, size_t cap, const char *username, const char *pwd, bool nominate, uint8_t id)
{
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    uint8_t txid[OVL_STUN_TXID_LEN] = {id, 0x42, 0x17};
    ovl_wbuf_init(&out, buf, cap);
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid);
    ovl_stun_add_username(&b, username, strlen(username));
    ovl_stun_add_priority(&b, 0x6e7fff00u);
    ovl_stun_add_ice_controlling(&b, 0x1234);
    if (nominate)
        ovl_stun_add_use_candidate(&b);
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)pwd, strlen(pwd)), 0);
    return out.len;
}

static int check_from(tw_world_t *w, tw_peer_t *server, const ovl_addr_t *from, const char *username, const char *pwd,
                      bool nominate, uint8_t id)
{
    uint8_t buf[512];
    size_t len = make_check(buf, sizeof(buf), username, pwd, nominate, id);
    return ovl_transport_on_datagram(server->t, TW_SERVER_PATH, from, buf, len, w->now);
}

static int drop_from_client(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    bool *on = ctx;
    (void)kind;
    return *on && d->from_node == 1 ? TW_DROP : TW_PASS;
}

/* ---- consent ------------------------------------------------------------------------------------------- */

/* RFC 7675 §5.1: the peer's consent checks (every 5 s +-20 %) keep both sides connected. */
static void test_consent_kept(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    tw_run(w, OVL_SEC(120));
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    assert_true(f->c.sent_kind[OVL_DEMUX_STUN] >= 20); /* about 24 consent checks in 120 s */
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONSENT_LOST], 0);
    rtp_round(w, &f->c, &f->s, 1);
}

/* RFC 7675 §5.1: 30 s of silence from the peer and consent is lost on both sides, not a moment
 * before; no media either way afterwards, and the peer's address is no longer trusted. */
static void test_consent_lost(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    bool silent = true;
    uint8_t pkt[TW_BUF_CAP];
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    ovl_time_t t0 = w->now; /* the nominating check arrived now */
    size_t len = tw_make_rtp(pkt, 1, 1, 100, 0);
    assert_int_equal(ovl_transport_protect_rtp(f->c.t, pkt, &len, sizeof(pkt), NULL), 0);
    w->filter = drop_from_client;
    w->filter_ctx = &silent;

    tw_run_until(w, t0 + OVL_SEC(30) - 1);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONSENT_LOST], 0);
    tw_run_until(w, t0 + OVL_SEC(30));
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_FAILED);
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_CONSENT_LOST);
    assert_non_null(ev);
    assert_int_equal(ev->state, OVL_TRANSPORT_FAILED);
    assert_int_equal(ev->error, OVL_ERR_AGAIN);
    assert_true(ovl_addr_equal(&ev->path.addr, &w->nodes[1].addr[0]));
    assert_non_null(strstr(ev->reason, "consent lost"));
    /* The peer stopped hearing answers at the same moment. */
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_FAILED);
    assert_int_equal(f->c.n_type[OVL_TRANSPORT_EVENT_CONSENT_LOST], 1);

    ovl_ice_path_t path;
    assert_int_equal(ovl_transport_selected_path(f->s.t, &path), OVL_ERR_NOTFOUND);
    assert_false(ovl_transport_is_trusted(f->s.t, &w->nodes[1].addr[0], TW_SERVER_PATH));
    assert_int_equal(ovl_transport_next_timeout(f->s.t), OVL_TIME_NEVER);
    size_t l2 = tw_make_rtp(pkt + 1500, 2, 1, 10, 0);
    assert_int_equal(ovl_transport_send_rtp(f->s.t, pkt + 1500, &l2, 200), OVL_ERR_STATE);
    silent = false;
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], pkt, len, w->now),
                     OVL_ERR_NOTFOUND);
    assert_int_equal(f->s.n_rtp, 0);
}

/* RFC 6544 §4.1: a pair on an ICE-TCP connection ends with it. The caller says the path closed; the server
 * transport (its only path) fails at once as on consent expiry (RFC 7675 §5.1), not consent_timeout later; the
 * client likewise when its selected path goes. Another path closing changes nothing. */
static void test_path_closed(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    ovl_transport_path_closed(f->s.t, TW_SERVER_PATH + 1, w->now);
    ovl_transport_path_closed(f->c.t, TW_CLIENT_PATH + 1, w->now);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);

    ovl_transport_path_closed(f->s.t, TW_SERVER_PATH, w->now);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_FAILED);
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_CONSENT_LOST);
    assert_non_null(ev);
    assert_int_equal(ev->state, OVL_TRANSPORT_FAILED);
    assert_non_null(strstr(ev->reason, "ICE-TCP connection closed"));
    assert_false(ovl_transport_is_trusted(f->s.t, &w->nodes[1].addr[0], TW_SERVER_PATH));
    assert_int_equal(ovl_transport_next_timeout(f->s.t), OVL_TIME_NEVER);
    /* Once failed, a second close reports nothing more. */
    ovl_transport_path_closed(f->s.t, TW_SERVER_PATH, w->now);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONSENT_LOST], 1);

    ovl_transport_path_closed(f->c.t, TW_CLIENT_PATH, w->now);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_FAILED);
    assert_int_equal(f->c.n_type[OVL_TRANSPORT_EVENT_CONSENT_LOST], 1);
}

/* ---- restart --------------------------------------------------------------------------------------------- */

static void restart_both(tw_world_t *w, tw_peer_t *s, tw_peer_t *c, const ovl_ice_path_t *cand)
{
    ovl_transport_ice_restart_t rs = {
        .local_ufrag = "sRv2", .local_pwd = "server-password-second-gen", .remote_ufrag = "cLi2"};
    ovl_transport_ice_restart_t rc = {.local_ufrag = "cLi2",
                                      .remote_ufrag = "sRv2",
                                      .remote_pwd = "server-password-second-gen",
                                      .remote_candidates = cand,
                                      .n_remote_candidates = cand != NULL ? 1 : 0};
    assert_int_equal(ovl_transport_restart_ice(s->t, &rs, w->now), 0);
    assert_int_equal(ovl_transport_restart_ice(c->t, &rc, w->now), 0);
    assert_string_equal(ovl_transport_local_ufrag(s->t), "sRv2");
    assert_string_equal(ovl_transport_local_ufrag(c->t), "cLi2");
}

/* RFC 8445 §9: both ends restart ICE and the peer moves to another address (a new network). Media
 * keeps flowing on the old pair until the new credentials nominate the new one; DTLS is not
 * renegotiated (no DTLS datagram at all) and SRTP goes on with the same keys. */
static void test_ice_restart_moves_path(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    uint8_t pkt[TW_BUF_CAP];
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    assert_int_equal(tw_node_add_path(w, 1, "192.0.2.10", 50001, 2), 0);
    const ovl_addr_t *old_addr = &w->nodes[1].addr[0], *new_addr = &w->nodes[1].addr[1];
    ovl_ice_path_t cand = {.addr = w->nodes[0].addr[0], .path_id = 2}, path;
    unsigned dtls_s = f->s.sent_kind[OVL_DEMUX_DTLS], dtls_c = f->c.sent_kind[OVL_DEMUX_DTLS];
    ovl_srtp_profile_t profile = ovl_transport_profile(f->s.t);

    restart_both(w, &f->s, &f->c, &cand);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    rtp_round(w, &f->c, &f->s, 1); /* on the old pair: the new checks have not gone out yet */
    rtp_round(w, &f->s, &f->c, 1);
    assert_int_equal(ovl_transport_selected_path(f->s.t, &path), 0);
    assert_true(ovl_addr_equal(&path.addr, old_addr));

    tw_run(w, 0); /* the peer's new agent checks from its new address and nominates */
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_RESTARTED], 1);
    assert_int_equal(f->c.n_type[OVL_TRANSPORT_EVENT_ICE_RESTARTED], 1);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 2);
    assert_int_equal(f->c.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 2);
    assert_true(ovl_addr_equal(&tw_last_event(&f->s, OVL_TRANSPORT_EVENT_ICE_SELECTED)->path.addr, new_addr));
    assert_int_equal(tw_last_event(&f->c, OVL_TRANSPORT_EVENT_ICE_SELECTED)->path.path_id, 2);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONNECTED], 1); /* never stopped being connected */
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_DTLS_CONNECTED], 1);
    assert_int_equal(f->s.sent_kind[OVL_DEMUX_DTLS], dtls_s);
    assert_int_equal(f->c.sent_kind[OVL_DEMUX_DTLS], dtls_c);
    assert_int_equal(ovl_transport_profile(f->s.t), profile);

    rtp_round(w, &f->c, &f->s, 2); /* on the new pair */
    rtp_round(w, &f->s, &f->c, 2);
    assert_int_equal(ovl_transport_selected_path(f->s.t, &path), 0);
    assert_true(ovl_addr_equal(&path.addr, new_addr));
    /* The old pair was validated by the old credentials: forgotten with them. */
    assert_false(ovl_transport_is_trusted(f->s.t, old_addr, TW_SERVER_PATH));
    size_t len = tw_make_rtp(pkt, 3, 0x0badcafeu + 1, 100, 0);
    assert_int_equal(ovl_transport_protect_rtp(f->c.t, pkt, &len, sizeof(pkt), NULL), 0);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, old_addr, pkt, len, w->now), OVL_ERR_NOTFOUND);
    tw_run(w, OVL_SEC(60)); /* consent on the new pair */
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
}

/* RFC 8445 §9 on the relay alone: until a check with the new credentials nominates, checks with the
 * previous credentials are still answered; a new-credential check without USE-CANDIDATE does not
 * complete the restart; afterwards the previous credentials get 401. */
static void test_ice_restart_old_credentials(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    const ovl_addr_t *peer = &w->nodes[1].addr[0];
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    ovl_transport_ice_restart_t r = {.local_ufrag = "sRv2", .local_pwd = "server-password-second-gen"};
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), 0);
    r.local_ufrag = TW_SERVER_UFRAG; /* back to the old one while it is still in use */
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), OVL_ERR_ARG);

    assert_int_equal(check_from(w, &f->s, peer, TW_SERVER_UFRAG ":" TW_CLIENT_UFRAG, TW_SERVER_PWD, false, 1), 0);
    assert_int_equal(check_from(w, &f->s, peer, "sRv2:cLi2", "server-password-second-gen", false, 2), 0);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_RESTARTED], 0);
    assert_int_equal(check_from(w, &f->s, peer, "sRv2:cLi2", "server-password-second-gen", true, 3), 0);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_RESTARTED], 1);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 1); /* same pair */
    assert_true(ovl_addr_equal(&tw_last_event(&f->s, OVL_TRANSPORT_EVENT_ICE_RESTARTED)->path.addr, peer));
    assert_int_equal(check_from(w, &f->s, peer, TW_SERVER_UFRAG ":" TW_CLIENT_UFRAG, TW_SERVER_PWD, false, 4),
                     OVL_ERR_AUTH);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    tw_flush_queue(w); /* the answers, for a peer that did not restart */
}

/* RFC 7675 §5.1 then RFC 8445 §9: after consent was lost, an ICE restart brings the call back on the
 * same DTLS session and SRTP keys, and CONNECTED is reported again. */
static void test_restart_after_consent_lost(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    bool silent = true;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    w->filter = drop_from_client;
    w->filter_ctx = &silent;
    tw_run(w, OVL_SEC(31));
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_FAILED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_FAILED);
    silent = false;
    unsigned dtls_s = f->s.sent_kind[OVL_DEMUX_DTLS];

    restart_both(w, &f->s, &f->c, NULL);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTING);
    tw_run(w, 0);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONNECTED], 2);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_DTLS_CONNECTED], 1);
    assert_int_equal(f->s.sent_kind[OVL_DEMUX_DTLS], dtls_s);
    rtp_round(w, &f->c, &f->s, 1);
    rtp_round(w, &f->s, &f->c, 1);
}

/* ---- timeouts ---------------------------------------------------------------------------------------------- */

/* The relay's side: no peer ever checks; after 30 s the transport fails with a reason a person can
 * act on. A restart gives it another 30 s. */
static void test_server_connect_timeout(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t c;
    ovl_time_t t0 = w->now;
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &c);
    assert_int_equal(tw_start(w, &f->s, 0, &c), 0);
    assert_int_equal(ovl_transport_next_timeout(f->s.t), t0 + OVL_SEC(30));
    tw_run_until(w, t0 + OVL_SEC(30) - 1);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING);
    tw_run_until(w, t0 + OVL_SEC(30));
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_FAILED);
    assert_non_null(ev);
    assert_non_null(strstr(ev->reason, "ICE failed"));
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_FAILED);
    assert_int_equal(ovl_transport_next_timeout(f->s.t), OVL_TIME_NEVER);

    ovl_transport_ice_restart_t r = {.local_ufrag = "sRv2", .local_pwd = "server-password-second-gen"};
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), 0);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING);
    assert_int_equal(ovl_transport_next_timeout(f->s.t), w->now + OVL_SEC(30));
}

/* The peer's side: nobody answers at the relay's address. RFC 8489 §6.2.1: 7 transmissions at
 * 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then 16 RTOs (8 s) of waiting: failed at 39.5 s. */
static void test_client_checks_fail(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t c;
    ovl_time_t t0 = w->now;
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &c);
    assert_int_equal(tw_start(w, &f->c, 1, &c), 0);
    assert_int_equal(ovl_transport_next_timeout(f->c.t), t0);
    tw_run_until(w, t0 + OVL_MS(39500) - 1);
    assert_int_equal(f->c.sent_kind[OVL_DEMUX_STUN], 7);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTING);
    tw_run_until(w, t0 + OVL_MS(39500));
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_FAILED);
    assert_non_null(strstr(tw_last_event(&f->c, OVL_TRANSPORT_EVENT_FAILED)->reason, "no connectivity check"));
    assert_int_equal(f->c.sent_kind[OVL_DEMUX_DTLS], 0);
}

/* ---- DTLS before nomination ----------------------------------------------------------------------------- */

struct raw_peer {
    tw_world_t *w;
    uint8_t out[16][OVL_DTLS_MAX_MTU]; /* what the raw DTLS client sent */
    size_t out_len[16], n_out;
    uint8_t in[16][OVL_DTLS_MAX_MTU]; /* what the relay sent it */
    size_t in_len[16], n_in;
    bool connected;
    ovl_dtls_srtp_keys_t keys;
    unsigned misaddressed;
};

static void raw_output(void *user, const uint8_t *data, size_t len)
{
    struct raw_peer *r = user;
    assert_true(r->n_out < 16);
    memcpy(r->out[r->n_out], data, len);
    r->out_len[r->n_out++] = len;
}

static void raw_event(void *user, const ovl_dtls_event_t *ev)
{
    struct raw_peer *r = user;
    if (ev->type == OVL_DTLS_EVENT_CONNECTED) {
        r->connected = true;
        r->keys = *ev->keys;
    }
}

static int capture_to_peer(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    struct raw_peer *r = ctx;
    if (kind != OVL_DEMUX_DTLS)
        return TW_DROP; /* STUN answers: the raw peer does not need them */
    if (!ovl_addr_equal(&d->to, &r->w->nodes[1].addr[0]) || d->from_path != TW_SERVER_PATH)
        r->misaddressed++;
    if (r->n_in < 16) {
        memcpy(r->in[r->n_in], d->data, d->len);
        r->in_len[r->n_in++] = d->len;
    }
    return TW_DROP;
}

/* Exchanges DTLS between the raw client and the relay transport until neither has anything to say. */
static void raw_exchange(tw_world_t *w, struct raw_peer *r, ovl_dtls_t *d, tw_peer_t *s, int *dropped)
{
    for (int round = 0; round < 10 && (r->n_out > 0 || r->n_in > 0); round++) {
        for (size_t i = 0; i < r->n_out; i++)
            if (ovl_transport_on_datagram(s->t, TW_SERVER_PATH, &w->nodes[1].addr[0], r->out[i], r->out_len[i],
                                          w->now) == OVL_ERR_NOTFOUND)
                (*dropped)++;
        r->n_out = 0;
        for (size_t i = 0; i < r->n_in; i++)
            ovl_dtls_feed(d, r->in[i], r->in_len[i], w->now);
        r->n_in = 0;
    }
}

/* Chromium starts DTLS as soon as a check succeeds, before it nominates (regular nomination, RFC 8445
 * §8.1.1). The relay accepts DTLS from the checked pair, answers there, and is CONNECTED only once the
 * pair is nominated; the keys it derived then decrypt the peer's SRTP. */
static void test_dtls_before_nomination(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    const ovl_addr_t *peer = &w->nodes[1].addr[0];
    struct raw_peer *r = calloc(1, sizeof(*r));
    ovl_dtls_t *d = NULL;
    ovl_transport_config_t sc;
    int dropped = 0;
    assert_non_null(r);
    r->w = w;
    w->filter = capture_to_peer;
    w->filter_ctx = r;
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &sc);
    assert_int_equal(tw_start(w, &f->s, 0, &sc), 0);
    ovl_dtls_config_t dc = {.role = OVL_DTLS_CLIENT,
                            .cert = w->cert[1],
                            .remote_fingerprint = ovl_dtls_cert_fingerprint(w->cert[0]),
                            .output = raw_output,
                            .event = raw_event,
                            .user = r};
    assert_int_equal(ovl_dtls_new(&dc, &d), 0);
    assert_int_equal(ovl_dtls_start(d, w->now), 0);

    raw_exchange(w, r, d, &f->s, &dropped); /* before any check: the ClientHello is dropped */
    assert_int_equal(dropped, 1);
    assert_false(r->connected);
    assert_int_equal(check_from(w, &f->s, peer, TW_SERVER_UFRAG ":" TW_CLIENT_UFRAG, TW_SERVER_PWD, false, 1), 0);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 0);
    assert_int_equal(ovl_dtls_on_timeout(d, w->now + OVL_SEC(1)), 0); /* the ClientHello again */
    raw_exchange(w, r, d, &f->s, &dropped);
    assert_int_equal(dropped, 1);
    assert_true(r->connected);
    assert_int_equal(r->misaddressed, 0); /* every answer went to the checked pair */
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_DTLS_CONNECTED], 1);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING); /* nothing nominated yet */
    uint8_t buf[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, 1, 1, 10, 0);
    assert_int_equal(ovl_transport_send_rtp(f->s.t, buf, &len, sizeof(buf)), OVL_ERR_STATE);

    assert_int_equal(check_from(w, &f->s, peer, TW_SERVER_UFRAG ":" TW_CLIENT_UFRAG, TW_SERVER_PWD, true, 2), 0);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 1);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONNECTED], 1);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);

    /* RFC 5764 §4.2: the peer's exported write key is what the relay unprotects with. */
    ovl_srtp_session_t *tx = NULL;
    ovl_srtp_config_t scfg = {.profile = r->keys.profile,
                              .direction = OVL_SRTP_OUTBOUND,
                              .master = r->keys.local,
                              .master_len = r->keys.master_len};
    assert_int_equal(ovl_srtp_new(&scfg, &tx), 0);
    len = tw_make_rtp(buf, 5, 0x77, 300, 1);
    uint8_t plain[400];
    memcpy(plain, buf, len);
    size_t plain_len = len;
    assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, len, w->now), 0);
    assert_int_equal(f->s.last_len, plain_len);
    assert_memory_equal(f->s.last_media, plain, plain_len);
    ovl_srtp_free(tx);
    ovl_dtls_free(d);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_consent_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ice_restart_moves_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ice_restart_old_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_consent_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_checks_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_before_nomination, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
