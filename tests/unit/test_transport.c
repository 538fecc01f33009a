/*
 * WebRTC transport (relay/transport): a SERVER transport (the relay) and a CLIENT transport (the
 * synthetic peer) back to back through the in-memory network of test_transport_world.h, with real
 * OpenSSL DTLS and libsrtp2 on a simulated clock. This file: handshake, SRTP profiles, media both
 * ways, fingerprint failure, what is dropped and why, DTLS retransmission, close, API errors.
 * ICE consent, restart and timeouts: test_transport_ice.c; the map: test_transport_map.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/test_transport_world.h"

struct fx {
    tw_world_t w;
    tw_peer_t s, c; /* server (relay), client (peer) */
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

static ovl_transport_stats_t stats_of(const tw_peer_t *p)
{
    ovl_transport_stats_t st;
    ovl_transport_stats(p->t, &st);
    return st;
}

static uint64_t total_drops(const tw_peer_t *p)
{
    ovl_transport_stats_t st = stats_of(p);
    uint64_t n = 0;
    for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT; i++)
        n += st.drops[i];
    return n;
}

/* Every datagram handed in is either accepted or counted under exactly one drop reason. */
static void assert_accounted(const tw_peer_t *p)
{
    ovl_transport_stats_t st = stats_of(p);
    uint64_t n = st.rx_stun + st.rx_dtls + st.rx_rtp + st.rx_rtcp;
    for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT; i++)
        if (i != OVL_TRANSPORT_DROP_NO_PATH) /* an outgoing drop */
            n += st.drops[i];
    assert_int_equal(n, st.rx_datagrams);
}

/* Sends one RTP packet of `payload` bytes from `from` and checks `to` received exactly it. */
static void rtp_round(tw_world_t *w, tw_peer_t *from, tw_peer_t *to, uint16_t seq, size_t payload)
{
    uint8_t buf[TW_BUF_CAP], plain[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, seq, 0x11223344u + from->node, payload, (uint8_t)seq);
    memcpy(plain, buf, len);
    unsigned before = to->n_rtp;
    size_t plain_len = len;
    assert_int_equal(ovl_transport_send_rtp(from->t, buf, &len, sizeof(buf)), 0);
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(ovl_transport_profile(from->t));
    assert_int_equal(len, plain_len + info->rtp_overhead); /* the tag went on the wire */
    /* and the payload is encrypted (a 1-byte payload's cipher text equals it once in 256 keys) */
    if (payload >= 8)
        assert_memory_not_equal(buf + 12, plain + 12, plain_len - 12);
    tw_pump(w);
    assert_int_equal(to->n_rtp, before + 1);
    assert_int_equal(to->last_len, plain_len);
    assert_memory_equal(to->last_media, plain, plain_len);
}

static void rtcp_round(tw_world_t *w, tw_peer_t *from, tw_peer_t *to, uint32_t count)
{
    uint8_t buf[TW_BUF_CAP], plain[64];
    size_t len = tw_make_rtcp(buf, 0x55667788u, count), plain_len = len;
    memcpy(plain, buf, len);
    unsigned before = to->n_rtcp;
    assert_int_equal(ovl_transport_send_rtcp(from->t, buf, &len, sizeof(buf)), 0);
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(ovl_transport_profile(from->t));
    assert_int_equal(len, plain_len + info->rtcp_overhead);
    tw_pump(w);
    assert_int_equal(to->n_rtcp, before + 1);
    assert_int_equal(to->last_len, plain_len);
    assert_memory_equal(to->last_media, plain, plain_len);
}

/* ---- handshake ------------------------------------------------------------------------------------- */

/* RFC 8445 §2.5 (lite agent answers, controlling client nominates), RFC 5764 §4.1.2 (use_srtp), RFC
 * 7714 §14.2: both report ICE selected, DTLS connected, then connected, with AEAD_AES_128_GCM. */
static void test_connect_gcm(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_role(f->s.t), OVL_TRANSPORT_SERVER);
    assert_int_equal(ovl_transport_role(f->c.t), OVL_TRANSPORT_CLIENT);
    assert_string_equal(ovl_transport_local_ufrag(f->s.t), TW_SERVER_UFRAG);

    tw_peer_t *peers[2] = {&f->s, &f->c};
    for (int i = 0; i < 2; i++) {
        tw_peer_t *p = peers[i];
        assert_int_equal(p->n_events, 3);
        assert_int_equal(p->events[0].type, OVL_TRANSPORT_EVENT_ICE_SELECTED);
        assert_int_equal(p->events[1].type, OVL_TRANSPORT_EVENT_DTLS_CONNECTED);
        assert_int_equal(p->events[1].profile, OVL_SRTP_AEAD_AES_128_GCM);
        assert_int_equal(p->events[2].type, OVL_TRANSPORT_EVENT_CONNECTED);
        assert_int_equal(p->events[2].state, OVL_TRANSPORT_CONNECTED);
        assert_int_equal(ovl_transport_profile(p->t), OVL_SRTP_AEAD_AES_128_GCM);
        assert_int_equal(total_drops(p), 0);
    }
    /* The relay selected the peer's address on its own socket; the peer the relay's candidate. */
    ovl_ice_path_t path;
    assert_int_equal(ovl_transport_selected_path(f->s.t, &path), 0);
    assert_true(ovl_addr_equal(&path.addr, &w->nodes[1].addr[0]));
    assert_int_equal(path.path_id, TW_SERVER_PATH);
    assert_true(ovl_addr_equal(&f->s.events[0].path.addr, &w->nodes[1].addr[0]));
    assert_int_equal(ovl_transport_selected_path(f->c.t, &path), 0);
    assert_true(ovl_addr_equal(&path.addr, &w->nodes[0].addr[0]));
    assert_int_equal(path.path_id, TW_CLIENT_PATH);
    assert_true(ovl_transport_is_trusted(f->s.t, &w->nodes[1].addr[0], TW_SERVER_PATH));
    /* The relay never sends a check of its own (lite), only answers. */
    ovl_transport_stats_t ss = stats_of(&f->s), cs = stats_of(&f->c);
    assert_int_equal(ss.tx_stun, cs.rx_stun);
    assert_true(ss.rx_dtls > 0 && cs.rx_dtls > 0);
}

/* RTP and RTCP both ways, content checked, 1200-byte and tiny payloads (RFC 3711 §3.3, §3.4). */
static void test_media_round_trip(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    for (uint16_t seq = 1; seq <= 5; seq++) {
        rtp_round(w, &f->c, &f->s, seq, seq == 3 ? 1 : 1188);
        rtp_round(w, &f->s, &f->c, (uint16_t)(100 + seq), 1188);
    }
    rtcp_round(w, &f->c, &f->s, 1);
    rtcp_round(w, &f->s, &f->c, 2);
    ovl_transport_stats_t ss = stats_of(&f->s), cs = stats_of(&f->c);
    assert_int_equal(ss.rx_rtp, 5);
    assert_int_equal(ss.tx_rtp, 5);
    assert_int_equal(cs.rx_rtp, 5);
    assert_int_equal(ss.rx_rtcp, 1);
    assert_int_equal(cs.rx_rtcp, 1);
    assert_int_equal(total_drops(&f->s) + total_drops(&f->c), 0);

    /* protect_rtp: the same transform, nothing sent, the destination returned. */
    uint8_t buf[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, 50, 7, 100, 0);
    ovl_ice_path_t to, sel;
    unsigned sent = f->s.sent_kind[OVL_DEMUX_RTP];
    assert_int_equal(ovl_transport_protect_rtp(f->s.t, buf, &len, sizeof(buf), &to), 0);
    assert_int_equal(f->s.sent_kind[OVL_DEMUX_RTP], sent);
    assert_int_equal(ovl_transport_selected_path(f->s.t, &sel), 0);
    assert_memory_equal(&to, &sel, sizeof(to));
    assert_int_equal(ovl_transport_on_datagram(f->c.t, TW_CLIENT_PATH, &w->nodes[0].addr[0], buf, len, w->now), 0);
    assert_int_equal(f->c.last_len, 112);
    len = tw_make_rtcp(buf, 9, 9);
    assert_int_equal(ovl_transport_protect_rtcp(f->c.t, buf, &len, sizeof(buf), &to), 0);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now), 0);
    assert_int_equal(f->s.n_rtcp, 2);

    /* RFC 3711 §3.3.2: sending the same SSRC and sequence number twice would reuse the keystream. */
    len = tw_make_rtp(buf, 1, 0x11223344u + 1, 10, 0);
    assert_int_equal(ovl_transport_send_rtp(f->c.t, buf, &len, sizeof(buf)), OVL_ERR_REPLAY);
}

/* RFC 5764 §4.1.2: the server's preference decides; a client offering only AES-CM gets AES-CM. */
static void test_profile_preference(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t cc;
    static const ovl_srtp_profile_t cm_first[] = {OVL_SRTP_AES128_CM_SHA1_80, OVL_SRTP_AEAD_AES_128_GCM};
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &cc);
    cc.srtp_profiles = cm_first;
    cc.n_srtp_profiles = 2;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, &cc), 0);
    assert_int_equal(ovl_transport_profile(f->s.t), OVL_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(ovl_transport_profile(f->c.t), OVL_SRTP_AEAD_AES_128_GCM);
}

static void test_profile_cm_only(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t cc;
    static const ovl_srtp_profile_t cm[] = {OVL_SRTP_AES128_CM_SHA1_80};
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &cc);
    cc.srtp_profiles = cm;
    cc.n_srtp_profiles = 1;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, &cc), 0);
    assert_int_equal(ovl_transport_profile(f->s.t), OVL_SRTP_AES128_CM_SHA1_80);
    assert_int_equal(ovl_transport_profile(f->c.t), OVL_SRTP_AES128_CM_SHA1_80);
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_CONNECTED);
    assert_non_null(ev);
    assert_int_equal(ev->profile, OVL_SRTP_AES128_CM_SHA1_80);
    rtp_round(w, &f->c, &f->s, 1, 1188); /* 10-byte HMAC-SHA1-80 tag, checked inside */
    rtp_round(w, &f->s, &f->c, 2, 1188);
    rtcp_round(w, &f->c, &f->s, 1);
}

/* RFC 8122 §5, RFC 8827 §6.5: a certificate whose hash is not the a=fingerprint fails the handshake
 * with a clear reason, and no media flows either way. */
static void test_wrong_fingerprint(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_dtls_cert_t *other = NULL;
    ovl_transport_config_t sc;
    assert_int_equal(ovl_dtls_cert_generate(&other), 0);
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &sc);
    sc.remote_fingerprint = ovl_dtls_cert_fingerprint(other); /* signaling said another certificate */
    assert_int_equal(tw_connect(w, &f->s, &f->c, &sc, NULL), OVL_ERR_STATE);
    ovl_dtls_cert_free(other);

    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_FAILED);
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_FAILED);
    assert_non_null(ev);
    assert_int_equal(ev->error, OVL_ERR_AUTH);
    assert_string_equal(ev->reason, "peer certificate fingerprint does not match a=fingerprint");
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_CONNECTED], 0);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_DTLS_CONNECTED], 0);
    assert_int_not_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(f->c.n_type[OVL_TRANSPORT_EVENT_CONNECTED], 0);
    assert_int_equal(ovl_transport_profile(f->s.t), OVL_SRTP_PROFILE_NONE);

    uint8_t buf[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, 1, 1, 100, 0);
    assert_int_equal(ovl_transport_send_rtp(f->s.t, buf, &len, sizeof(buf)), OVL_ERR_STATE);
    assert_int_equal(ovl_transport_send_rtp(f->c.t, buf, &len, sizeof(buf)), OVL_ERR_STATE);
    /* SRTP-looking bytes from the (ICE-trusted) peer: no keys, dropped. */
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now),
                     OVL_ERR_STATE);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_NOT_READY], 1);
    assert_int_equal(f->s.n_rtp, 0);
    /* Later DTLS is refused too. */
    static const uint8_t hello[13] = {22, 0xfe, 0xfd};
    memcpy(buf, hello, sizeof(hello));
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, 13, w->now),
                     OVL_ERR_STATE);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_DTLS], 1);
}

/* ---- what is dropped ---------------------------------------------------------------------------------- */

/* RFC 8445 §12 (media only on validated pairs): SRTP from an address, or an address on another local
 * path, that never passed a check is dropped before it is even authenticated. */
static void test_untrusted_srtp_dropped(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    uint8_t pkt[TW_BUF_CAP], buf[TW_BUF_CAP];
    ovl_addr_t stranger;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    assert_int_equal(ovl_addr_parse(&stranger, "192.0.2.99", 50000), 0);

    size_t len = tw_make_rtp(pkt, 9, 0xabcdef01u, 200, 3);
    assert_int_equal(ovl_transport_protect_rtp(f->c.t, pkt, &len, sizeof(pkt), NULL), 0);
    memcpy(buf, pkt, len);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &stranger, buf, len, w->now), OVL_ERR_NOTFOUND);
    memcpy(buf, pkt, len);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH + 1, &w->nodes[1].addr[0], buf, len, w->now),
                     OVL_ERR_NOTFOUND); /* the right address on a path it never checked (e.g. a TCP connection) */
    assert_int_equal(f->s.n_rtp, 0);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_UNTRUSTED], 2);

    /* The same bytes from the validated pair are fine (the drops above did not touch the replay window). */
    memcpy(buf, pkt, len);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now), 0);
    assert_int_equal(f->s.n_rtp, 1);
    memcpy(buf, pkt, len); /* RFC 3711 §3.3.2: once */
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now),
                     OVL_ERR_REPLAY);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_SRTP_REPLAY], 1);

    /* DTLS and SRTCP from a stranger: dropped the same way; on the client too. */
    len = tw_make_rtcp(buf, 1, 1);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &stranger, buf, len, w->now), OVL_ERR_NOTFOUND);
    memset(buf, 0, 40);
    buf[0] = 23; /* application_data record */
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &stranger, buf, 40, w->now), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_transport_on_datagram(f->c.t, TW_CLIENT_PATH, &stranger, buf, 40, w->now), OVL_ERR_NOTFOUND);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_UNTRUSTED], 4);
    assert_int_equal(stats_of(&f->c).drops[OVL_TRANSPORT_DROP_UNTRUSTED], 1);
    assert_accounted(&f->s);
    assert_accounted(&f->c);
}

static int drop_dtls_to_server(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    bool *on = ctx;
    return *on && kind == OVL_DEMUX_DTLS && d->from_node == 1 ? TW_DROP : TW_PASS;
}

/* No media before the handshake completes: ICE is up, DTLS is not, SRTP-looking datagrams from the
 * checked address are dropped and sending is refused; once DTLS gets through, it all works. */
static void test_media_before_dtls_dropped(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    bool blocking = true;
    uint8_t buf[TW_BUF_CAP];
    w->filter = drop_dtls_to_server;
    w->filter_ctx = &blocking;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), OVL_ERR_STATE);
    assert_int_equal(f->s.n_type[OVL_TRANSPORT_EVENT_ICE_SELECTED], 1);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTING);

    size_t len = tw_make_rtp(buf, 1, 1, 100, 0);
    assert_int_equal(ovl_transport_send_rtp(f->c.t, buf, &len, sizeof(buf)), OVL_ERR_STATE);
    assert_int_equal(ovl_transport_send_rtcp(f->s.t, buf, &len, sizeof(buf)), OVL_ERR_STATE);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now),
                     OVL_ERR_STATE);
    len = tw_make_rtcp(buf, 1, 1);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], buf, len, w->now),
                     OVL_ERR_STATE);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_NOT_READY], 2);
    assert_int_equal(f->s.n_rtp + f->s.n_rtcp, 0);

    blocking = false; /* the client's next ClientHello retransmission gets through */
    tw_run(w, OVL_SEC(10));
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    rtp_round(w, &f->c, &f->s, 1, 500);
}

/* RFC 7983 first bytes that are nothing we speak, malformed STUN, bad credentials, forged SRTP and
 * SRTCP, DTLS junk: each counted under its reason, nothing delivered, the call goes on. */
static void test_garbage_counted(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    const ovl_addr_t *peer = &w->nodes[1].addr[0];
    uint8_t buf[TW_BUF_CAP];
    memset(buf, 0, sizeof(buf));
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    ovl_transport_stats_t before = stats_of(&f->s);

    static const uint8_t firsts[] = {0x10, 0x41, 0x7f, 0xc0, 0xff}; /* ZRTP, TURN channel, gap, gap, gap */
    for (size_t i = 0; i < sizeof(firsts); i++) {
        memset(buf, 0x33, 100);
        buf[0] = firsts[i];
        assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, 100, w->now), OVL_ERR_PARSE);
    }
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, 0, w->now), OVL_ERR_PARSE);
    memset(buf, 0, 40); /* first byte 0, but no magic cookie: not STUN */
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, 40, w->now), OVL_ERR_PARSE);
    /* A Binding request signed with the wrong password: 401 goes back (RFC 8489 §9.1.3). */
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    static const uint8_t txid[OVL_STUN_TXID_LEN] = {1, 2, 3};
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid);
    ovl_stun_add_username(&b, TW_SERVER_UFRAG ":" TW_CLIENT_UFRAG, 9);
    ovl_stun_add_ice_controlling(&b, 1);
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)"wrong-password-0123456789", 25), 0);
    unsigned stun_sent = f->s.sent_kind[OVL_DEMUX_STUN];
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, out.len, w->now), OVL_ERR_AUTH);
    assert_int_equal(f->s.sent_kind[OVL_DEMUX_STUN], stun_sent + 1);
    tw_flush_queue(w);
    /* Forged SRTP and SRTCP from the trusted pair; a too short SRTCP. */
    size_t len = tw_make_rtp(buf, 77, 0x11223344u, 300, 9);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, len + 16, w->now), OVL_ERR_AUTH);
    len = tw_make_rtcp(buf, 5, 5);
    memset(buf + len, 0xab, 20);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, len + 20, w->now), OVL_ERR_AUTH);
    assert_true(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, 8, w->now) < 0);
    /* DTLS junk after the handshake: DTLS discards it (RFC 6347 §4.1.2.7), the transport stays up. */
    memset(buf, 0xee, 60);
    buf[0] = 23, buf[1] = 0xfe, buf[2] = 0xfd;
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, peer, buf, 60, w->now), 0);

    ovl_transport_stats_t st = stats_of(&f->s);
    assert_int_equal(st.drops[OVL_TRANSPORT_DROP_UNKNOWN] - before.drops[OVL_TRANSPORT_DROP_UNKNOWN], 6);
    assert_int_equal(st.drops[OVL_TRANSPORT_DROP_STUN_PARSE] - before.drops[OVL_TRANSPORT_DROP_STUN_PARSE], 1);
    assert_int_equal(st.drops[OVL_TRANSPORT_DROP_STUN_AUTH] - before.drops[OVL_TRANSPORT_DROP_STUN_AUTH], 1);
    assert_int_equal(st.drops[OVL_TRANSPORT_DROP_SRTP_AUTH] - before.drops[OVL_TRANSPORT_DROP_SRTP_AUTH], 2);
    assert_int_equal(st.drops[OVL_TRANSPORT_DROP_SRTP_INVALID] - before.drops[OVL_TRANSPORT_DROP_SRTP_INVALID], 1);
    assert_int_equal(st.rx_datagrams - before.rx_datagrams, 12);
    assert_int_equal(f->s.n_rtp + f->s.n_rtcp, 0);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    rtp_round(w, &f->c, &f->s, 1, 1188);
    rtp_round(w, &f->s, &f->c, 1, 1188);
    assert_accounted(&f->s);
    assert_accounted(&f->c);
}

/* ---- loss, duplication, reordering -------------------------------------------------------------------- */

struct loss {
    unsigned dropped_dtls;
    bool active;
};

static int drop_first_server_flight(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    struct loss *l = ctx;
    if (l->active && kind == OVL_DEMUX_DTLS && d->from_node == 0) {
        l->dropped_dtls++;
        return TW_DROP;
    }
    return TW_PASS;
}

/* RFC 6347 §4.2.4: the relay's first flight (ServerHello .. ServerHelloDone) is lost. Nothing is
 * re-sent before the 1 s timer; when the test advances the clock and runs the timers, the flight goes
 * out again and the handshake completes. */
static void test_dtls_flight_retransmitted(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    struct loss l = {.active = true};
    w->filter = drop_first_server_flight;
    w->filter_ctx = &l;
    ovl_time_t t0 = w->now;
    ovl_transport_config_t sc, cc;
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &sc);
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &cc);
    assert_int_equal(tw_start(w, &f->s, 0, &sc), 0);
    assert_int_equal(tw_start(w, &f->c, 1, &cc), 0);
    tw_run(w, 0);
    assert_true(l.dropped_dtls > 0);
    unsigned first_flight = f->s.sent_kind[OVL_DEMUX_DTLS];
    l.active = false;
    assert_int_equal(ovl_transport_next_timeout(f->s.t), t0 + OVL_SEC(1));

    tw_run_until(w, t0 + OVL_SEC(1) - 1);
    assert_int_equal(f->s.sent_kind[OVL_DEMUX_DTLS], first_flight);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTING);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTING);

    tw_run_until(w, t0 + OVL_SEC(1));
    assert_true(f->s.sent_kind[OVL_DEMUX_DTLS] >= 2 * first_flight);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CONNECTED);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CONNECTED);
    rtp_round(w, &f->s, &f->c, 1, 1188);
}

static int dup_everything(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    (void)ctx, (void)d, (void)kind;
    return TW_DUP;
}

/* Every datagram twice, delivered newest first: the handshake still completes, each media packet is
 * delivered once and every copy is counted as a replay (RFC 3711 §3.3.2). */
static void test_duplicated_and_reordered(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    uint8_t buf[TW_BUF_CAP];
    w->filter = dup_everything;
    w->reorder = true;
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    assert_int_equal(ovl_transport_profile(f->s.t), ovl_transport_profile(f->c.t));
    assert_true(w->duplicated > 0);
    uint64_t replays = stats_of(&f->s).drops[OVL_TRANSPORT_DROP_SRTP_REPLAY];
    for (uint16_t seq = 1; seq <= 10; seq++) {
        size_t len = tw_make_rtp(buf, seq, 42, 1000, (uint8_t)seq);
        assert_int_equal(ovl_transport_send_rtp(f->c.t, buf, &len, sizeof(buf)), 0);
    }
    tw_pump(w);
    assert_int_equal(f->s.n_rtp, 10);
    assert_int_equal(stats_of(&f->s).drops[OVL_TRANSPORT_DROP_SRTP_REPLAY] - replays, 10);
    assert_int_equal(f->s.last_media[3], 1); /* newest first: sequence number 1 came last */
    assert_accounted(&f->s);
    assert_accounted(&f->c);
}

/* ---- close ------------------------------------------------------------------------------------------- */

/* RFC 5246 §7.2.1 close_notify: the peer closes, the relay reports CLOSED, no more media either way. */
static void test_close(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    uint8_t pkt[TW_BUF_CAP];
    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    size_t len = tw_make_rtp(pkt, 3, 3, 100, 0);
    assert_int_equal(ovl_transport_protect_rtp(f->c.t, pkt, &len, sizeof(pkt), NULL), 0);

    ovl_transport_close(f->c.t);
    assert_int_equal(ovl_transport_state(f->c.t), OVL_TRANSPORT_CLOSED);
    tw_pump(w);
    assert_int_equal(ovl_transport_state(f->s.t), OVL_TRANSPORT_CLOSED);
    const ovl_transport_event_t *ev = tw_last_event(&f->s, OVL_TRANSPORT_EVENT_CLOSED);
    assert_non_null(ev);
    assert_int_equal(ev->state, OVL_TRANSPORT_CLOSED);
    assert_int_equal(ovl_transport_next_timeout(f->s.t), OVL_TIME_NEVER);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, TW_SERVER_PATH, &w->nodes[1].addr[0], pkt, len, w->now),
                     OVL_ERR_STATE);
    assert_int_equal(f->s.n_rtp, 0);
    size_t l2 = tw_make_rtp(pkt, 4, 3, 100, 0);
    assert_int_equal(ovl_transport_send_rtp(f->s.t, pkt, &l2, sizeof(pkt)), OVL_ERR_STATE);
    assert_int_equal(ovl_transport_send_rtp(f->c.t, pkt, &l2, sizeof(pkt)), OVL_ERR_STATE);
    ovl_transport_close(f->c.t); /* twice is harmless */
}

/* ---- API ------------------------------------------------------------------------------------------------ */

static void test_api_errors(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t c;
    ovl_transport_t *t = (ovl_transport_t *)1;

    assert_int_equal(ovl_transport_new(NULL, w->now, &t), OVL_ERR_ARG);
    assert_null(t);
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &c);
    c.local_pwd = NULL;
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &c);
    c.send = NULL;
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    tw_config(w, &f->s, OVL_TRANSPORT_SERVER, &c);
    c.role = 0;
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &c);
    c.n_remote_candidates = 0;
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    tw_config(w, &f->c, OVL_TRANSPORT_CLIENT, &c);
    c.remote_pwd = "";
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    assert_null(t);

    assert_int_equal(tw_connect(w, &f->s, &f->c, NULL, NULL), 0);
    uint8_t buf[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, 1, 1, 100, 0);
    assert_int_equal(ovl_transport_send_rtp(f->s.t, buf, &len, len + OVL_SRTP_MAX_OVERHEAD - 1), OVL_ERR_LIMIT);
    assert_int_equal(len, 112);
    assert_int_equal(ovl_transport_on_datagram(f->s.t, 0, NULL, buf, len, w->now), OVL_ERR_ARG);
    ovl_transport_ice_restart_t r = {.local_ufrag = TW_SERVER_UFRAG, .local_pwd = "another-password-0123456789"};
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), OVL_ERR_ARG); /* same ufrag */
    r.local_ufrag = "";
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), OVL_ERR_ARG);
    r.local_ufrag = "new1";
    r.local_pwd = NULL;
    assert_int_equal(ovl_transport_restart_ice(f->s.t, &r, w->now), OVL_ERR_ARG);
    assert_string_equal(ovl_transport_local_ufrag(f->s.t), TW_SERVER_UFRAG);

    assert_string_equal(ovl_transport_state_name(OVL_TRANSPORT_CONNECTED), "connected");
    assert_string_equal(ovl_transport_event_name(OVL_TRANSPORT_EVENT_CONSENT_LOST), "consent-lost");
    assert_string_equal(ovl_transport_drop_name(OVL_TRANSPORT_DROP_UNTRUSTED), "untrusted");
    assert_string_equal(ovl_transport_drop_name(OVL_TRANSPORT_DROP_COUNT), "?");
    for (int i = 0; i < OVL_TRANSPORT_DROP_COUNT; i++)
        assert_non_null(ovl_transport_drop_name((ovl_transport_drop_t)i));
    ovl_transport_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_gcm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_preference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_cm_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_fingerprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_srtp_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_before_dtls_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_flight_retransmitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicated_and_reordered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
