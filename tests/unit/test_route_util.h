/*
 * Harness shared by the routing tests (test_route_*.c): a room whose participants' sinks are
 * in-memory capture arrays, SDP flows from the captures in tests/data/, a client answerer for the
 * relay's offers, RTP packets as browsers send them (real VP8 from libvpx through the packetizer,
 * Opus-shaped audio with RFC 6464 levels) and a fake clock. Include after cmocka.h.
 * Everything is static inline so a test file using only part of it compiles cleanly.
 */
#ifndef OVL_TEST_ROUTE_UTIL_H
#define OVL_TEST_ROUTE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/video.h"
#include "codecs/vp8_packetizer.h"
#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"
#include "relay/proto/sdp.h"
#include "relay/proto/srtp.h"
#include "relay/route/route.h"

#define MAX_PEERS 8
#define POOL_BUFS 4
#define BUF_CAP   (OVL_ROUTE_MAX_PACKET + OVL_SRTP_MAX_OVERHEAD)

/* One packet a sink received. */
typedef struct sent {
    uint8_t *data;
    size_t len;
    bool rtcp;
    bool audio;
} sent_t;

typedef struct world world_t;

typedef struct peer {
    world_t *w;
    uint64_t id;
    ovl_route_participant_t *p;
    sent_t *sent;
    size_t n_sent, cap_sent;
    uint8_t pool[POOL_BUFS][BUF_CAP];
    bool in_use[POOL_BUFS];
    bool starve;         /* get_buffer fails */
    char *offer;         /* the relay's last offer, not answered yet */
    char *answer;        /* the relay's answer to this peer's first offer */
    size_t offers;       /* relay offers received */
    char *offer_log[32]; /* every relay offer received, in order */
    uint16_t twcc_seq;   /* this peer's transport-wide sequence number */
} peer_t;

typedef struct ev {
    ovl_route_event_type_t type;
    uint64_t room, participant;
    char sdp_type[8];
    ovl_route_slot_t slot;
    char track_id[64];
    bool fir, has_previous;
    uint64_t previous, sent, absorbed;
    ovl_time_t at; /* the fake clock when it came */
} ev_t;

struct world {
    ovl_route_room_t *room;
    peer_t *peers[MAX_PEERS];
    size_t n_peers;
    ev_t evs[512];
    size_t n_evs;
    ovl_time_t now;
};

/* ---- files ---- */

static inline char *route_load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OVL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = malloc(OVL_SDP_MAX_SIZE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, OVL_SDP_MAX_SIZE, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == '#') {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        p = nl + 1;
    }
    *len = n - (size_t)(p - buf);
    memmove(buf, p, *len + 1);
    return buf;
}

/* Replaces every occurrence of `from` with `to` (same length or not) in a heap string. */
static inline char *route_subst(char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (char *q = strstr(s, from); q; q = strstr(q + fl, from))
        n++;
    char *out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1), *o = out;
    assert_non_null(out);
    const char *p = s;
    for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    free(s);
    return out;
}

/* ---- sinks ---- */

static inline int sink_get(void *ctx, ovl_route_buf_t *out)
{
    peer_t *pe = ctx;
    if (pe->starve)
        return OVL_ERR_NOMEM;
    for (size_t i = 0; i < POOL_BUFS; i++)
        if (!pe->in_use[i]) {
            pe->in_use[i] = true;
            out->data = pe->pool[i];
            out->cap = BUF_CAP;
            out->handle = (void *)(uintptr_t)(i + 1);
            return 0;
        }
    return OVL_ERR_NOMEM;
}

static inline void sink_release(peer_t *pe, ovl_route_buf_t *buf)
{
    size_t i = (size_t)(uintptr_t)buf->handle - 1;
    assert_true(i < POOL_BUFS && pe->in_use[i] && buf->data == pe->pool[i]);
    pe->in_use[i] = false;
}

static inline void sink_keep(peer_t *pe, ovl_route_buf_t *buf, size_t len, bool rtcp, bool audio)
{
    /* The transport protects in place: the tailroom must be there. */
    assert_true(len + OVL_SRTP_MAX_OVERHEAD <= buf->cap);
    if (pe->n_sent == pe->cap_sent) {
        pe->cap_sent = pe->cap_sent ? 2 * pe->cap_sent : 64;
        pe->sent = realloc(pe->sent, pe->cap_sent * sizeof(*pe->sent));
        assert_non_null(pe->sent);
    }
    sent_t *s = &pe->sent[pe->n_sent++];
    s->data = malloc(len);
    assert_non_null(s->data);
    memcpy(s->data, buf->data, len);
    s->len = len;
    s->rtcp = rtcp;
    s->audio = audio;
    sink_release(pe, buf);
}

static inline void sink_rtp(void *ctx, ovl_route_buf_t *buf, size_t len, bool is_audio)
{
    sink_keep(ctx, buf, len, false, is_audio);
}

static inline void sink_rtcp(void *ctx, ovl_route_buf_t *buf, size_t len)
{
    sink_keep(ctx, buf, len, true, false);
}

static inline void sink_put(void *ctx, ovl_route_buf_t *buf)
{
    sink_release(ctx, buf);
}

static inline void peer_clear(peer_t *pe)
{
    for (size_t i = 0; i < pe->n_sent; i++)
        free(pe->sent[i].data);
    pe->n_sent = 0;
}

/* ---- world ---- */

static inline peer_t *peer_by_id(world_t *w, uint64_t id)
{
    for (size_t i = 0; i < w->n_peers; i++)
        if (w->peers[i] && w->peers[i]->id == id)
            return w->peers[i];
    return NULL;
}

static inline void on_event(void *ctx, const ovl_route_event_t *e)
{
    world_t *w = ctx;
    assert_true(w->n_evs < OVL_ARRAY_LEN(w->evs));
    ev_t *x = &w->evs[w->n_evs++];
    memset(x, 0, sizeof(*x));
    x->type = e->type;
    x->room = e->room;
    x->participant = e->participant;
    x->at = w->now;
    switch (e->type) {
    case OVL_ROUTE_EV_SDP: {
        peer_t *pe = peer_by_id(w, e->participant);
        assert_non_null(pe);
        assert_int_equal(strlen(e->u.sdp.text), e->u.sdp.len);
        snprintf(x->sdp_type, sizeof(x->sdp_type), "%s", e->u.sdp.type);
        char **dst = strcmp(e->u.sdp.type, "offer") == 0 ? &pe->offer : &pe->answer;
        assert_null(*dst); /* one outstanding offer at a time */
        *dst = strdup(e->u.sdp.text);
        if (dst == &pe->offer) {
            assert_true(pe->offers < OVL_ARRAY_LEN(pe->offer_log));
            pe->offer_log[pe->offers++] = strdup(e->u.sdp.text);
        }
        break;
    }
    case OVL_ROUTE_EV_TRACK_ADDED:
    case OVL_ROUTE_EV_TRACK_REMOVED:
        x->slot = e->u.track.slot;
        snprintf(x->track_id, sizeof(x->track_id), "%s", e->u.track.track_id);
        break;
    case OVL_ROUTE_EV_ACTIVE_SPEAKER:
        x->has_previous = e->u.speaker.has_previous;
        x->previous = e->u.speaker.previous;
        break;
    case OVL_ROUTE_EV_KEYFRAME_REQUEST:
        x->slot = e->u.keyframe.slot;
        x->fir = e->u.keyframe.fir;
        x->sent = e->u.keyframe.sent;
        x->absorbed = e->u.keyframe.absorbed;
        break;
    }
}

static inline size_t count_events(const world_t *w, ovl_route_event_type_t type, uint64_t participant)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_evs; i++)
        if (w->evs[i].type == type && w->evs[i].participant == participant)
            n++;
    return n;
}

static inline void world_init_cfg(world_t *w, ovl_route_room_config_t *cfg)
{
    memset(w, 0, sizeof(*w));
    w->now = OVL_SEC(1000);
    cfg->on_event = on_event;
    cfg->ctx = w;
    if (!cfg->clock_mono) {
        cfg->clock_mono = w->now;
        cfg->clock_unix_us = 1700000000ull * 1000000u; /* 2023-11-14T22:13:20Z */
    }
    assert_int_equal(ovl_route_room_new(cfg, &w->room), 0);
}

static inline void world_init(world_t *w, uint64_t room_id)
{
    ovl_route_room_config_t cfg = {.id = room_id, .seed = 42 + room_id, .max_participants = MAX_PEERS};
    world_init_cfg(w, &cfg);
}

static inline peer_t *peer_add(world_t *w, uint64_t id)
{
    peer_t *pe = calloc(1, sizeof(*pe));
    assert_non_null(pe);
    pe->w = w;
    pe->id = id;
    pe->twcc_seq = (uint16_t)(id * 1000);
    ovl_route_sink_t sink = {sink_get, sink_rtp, sink_rtcp, sink_put, pe};
    assert_int_equal(ovl_route_participant_add(w->room, id, &sink, w->now, &pe->p), 0);
    w->peers[w->n_peers++] = pe;
    return pe;
}

static inline void peer_free(peer_t *pe)
{
    for (size_t i = 0; i < POOL_BUFS; i++)
        assert_false(pe->in_use[i]); /* every lent buffer came back */
    peer_clear(pe);
    free(pe->sent);
    free(pe->offer);
    free(pe->answer);
    for (size_t i = 0; i < pe->offers; i++)
        free(pe->offer_log[i]);
    free(pe);
}

static inline void peer_leave(world_t *w, peer_t *pe)
{
    ovl_route_participant_remove(w->room, pe->p, w->now);
    for (size_t i = 0; i < w->n_peers; i++)
        if (w->peers[i] == pe)
            w->peers[i] = NULL;
    peer_free(pe);
}

static inline void world_free(world_t *w)
{
    ovl_route_room_free(w->room);
    for (size_t i = 0; i < w->n_peers; i++)
        if (w->peers[i])
            peer_free(w->peers[i]);
}

/* The relay's own parameters (ICE-lite credentials, fingerprint, one UDP host candidate). */
static inline void relay_local_params(ovl_sdp_local_t *l, ovl_sdp_candidate_t *cand)
{
    memset(l, 0, sizeof(*l));
    memset(cand, 0, sizeof(*cand));
    strcpy(cand->foundation, "1");
    cand->component = 1;
    cand->proto = OVL_SDP_CAND_UDP;
    cand->priority = 2130706431u;
    strcpy(cand->address, "192.0.2.1");
    cand->port = 10000;
    cand->type = OVL_SDP_CAND_HOST;
    l->ice_ufrag = "eqg7";
    l->ice_pwd = "5jnH53D+n3m0+HsjEtJyjSng";
    for (size_t i = 0; i < 32; i++)
        l->fingerprint_sha256[i] = (uint8_t)(i * 7 + 1);
    l->session_id = 7315112201536498210ull;
    l->session_version = 2;
    l->candidates = cand;
    l->n_candidates = 1;
}

/* The client's first offer from tests/data/<file>, with text substitutions (pairs; NULL-ended). */
static inline int peer_offer_subst(world_t *w, peer_t *pe, const char *file, const char *const *subst)
{
    size_t len;
    char *text = route_load(file, &len);
    for (size_t i = 0; subst && subst[i]; i += 2)
        text = route_subst(text, subst[i], subst[i + 1]);
    ovl_sdp_local_t local;
    ovl_sdp_candidate_t cand;
    relay_local_params(&local, &cand);
    int ret = ovl_route_participant_offer(pe->p, text, strlen(text), &local, w->now);
    free(text);
    return ret;
}

static inline void peer_offer(world_t *w, peer_t *pe, const char *file, const char *const *subst)
{
    assert_int_equal(peer_offer_subst(w, pe, file, subst), 0);
    assert_non_null(pe->answer);
}

/* What a browser answers to a relay offer: directions mirrored, DTLS active, its own ICE credentials. */
static inline char *client_answer(const char *offer_text)
{
    ovl_sdp_t *sdp = NULL;
    assert_int_equal(ovl_sdp_parse(offer_text, strlen(offer_text), &sdp, NULL), 0);
    sdp->ice_lite = false;
    for (size_t i = 0; i < sdp->n_media; i++) {
        ovl_sdp_media_t *m = &sdp->media[i];
        m->dir = m->dir == OVL_SDP_DIR_SENDONLY   ? OVL_SDP_DIR_RECVONLY
                 : m->dir == OVL_SDP_DIR_RECVONLY ? OVL_SDP_DIR_SENDONLY
                                                  : m->dir;
        if (m->ice.setup != OVL_SDP_SETUP_NONE)
            m->ice.setup = OVL_SDP_SETUP_ACTIVE;
        strcpy(m->ice.ufrag, "cli1");
        strcpy(m->ice.pwd, "clientpasswordclientpw");
        for (size_t k = 0; k < m->n_candidates; k++)
            ovl_sdp_candidate_dispose(&m->candidates[k]);
        m->n_candidates = 0;
        m->end_of_candidates = false;
    }
    uint8_t *buf = malloc(4 * OVL_SDP_MAX_SIZE + 1);
    ovl_wbuf_t wb;
    ovl_wbuf_init(&wb, buf, 4 * OVL_SDP_MAX_SIZE);
    assert_int_equal(ovl_sdp_write(sdp, &wb), 0);
    buf[wb.len] = '\0';
    ovl_sdp_free(sdp);
    return (char *)buf;
}

/* The peer answers the relay's outstanding offer the browser way. */
static inline void peer_answer(world_t *w, peer_t *pe)
{
    assert_non_null(pe->offer);
    char *offer = pe->offer, *ans = client_answer(offer);
    pe->offer = NULL;
    assert_int_equal(ovl_route_participant_answer(pe->p, ans, strlen(ans), w->now), 0);
    free(ans);
    free(offer);
}

/* Answers offers until none is outstanding. */
static inline void settle(world_t *w)
{
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < w->n_peers; i++)
            if (w->peers[i] && w->peers[i]->offer) {
                peer_answer(w, w->peers[i]);
                again = true;
            }
    }
}

static inline void connect_all(world_t *w)
{
    for (size_t i = 0; i < w->n_peers; i++)
        if (w->peers[i])
            ovl_route_participant_set_connected(w->peers[i]->p, true, w->now);
}

/* Moves the fake clock and runs every timer that falls due on the way. */
static inline void advance(world_t *w, ovl_time_t dt)
{
    ovl_time_t end = w->now + dt;
    for (;;) {
        ovl_time_t t = ovl_route_next_timeout(w->room);
        if (t > end)
            break;
        if (t > w->now)
            w->now = t;
        ovl_route_on_timeout(w->room, w->now);
    }
    w->now = end;
}

/* ---- what the relay announced ---- */

/*
 * From the last relay offer to `sub` that carries publisher `pub`'s track `slot` ("audio", "camera",
 * "screen"): the consumer's SSRC (which = 0) or RTX SSRC (which = 1), and its mid (may be NULL).
 * Returns 0 when absent.
 */
static inline uint32_t announced(const peer_t *sub, uint64_t pub, const char *slot, int which, char *mid)
{
    char msid[128];
    snprintf(msid, sizeof(msid), " msid:ovl-%llu ovl-%llu-%s\r\n", (unsigned long long)pub, (unsigned long long)pub,
             slot);
    for (size_t k = sub->offers; k-- > 0;) {
        const char *o = sub->offer_log[k], *hit = strstr(o, msid);
        if (!hit)
            continue;
        for (int i = 0; i < which; i++)
            hit = strstr(hit + 1, msid);
        if (!hit)
            return 0;
        const char *line = hit;
        while (line > o && line[-1] != '\n')
            line--;
        if (mid) {
            const char *m = NULL;
            for (const char *q = strstr(o, "a=mid:"); q && q < line; q = strstr(q + 1, "a=mid:"))
                m = q + 6;
            assert_non_null(m);
            size_t n = strcspn(m, "\r\n");
            memcpy(mid, m, n);
            mid[n] = '\0';
        }
        return (uint32_t)strtoul(line + strlen("a=ssrc:"), NULL, 10);
    }
    return 0;
}

/* ---- what sinks received ---- */

/* The i-th RTP packet peer received with this SSRC (-1: the last), parsed; false when there is none. */
static inline size_t count_rtp(const peer_t *pe, uint32_t ssrc)
{
    size_t n = 0;
    for (size_t i = 0; i < pe->n_sent; i++) {
        ovl_rtp_t r;
        if (!pe->sent[i].rtcp && ovl_rtp_parse(&r, pe->sent[i].data, pe->sent[i].len) == 0 && r.ssrc == ssrc)
            n++;
    }
    return n;
}

/* Calls fn for every RTCP message the peer received, in order. */
typedef void (*rtcp_fn_t)(void *ctx, const ovl_rtcp_msg_t *m);
static inline size_t walk_rtcp(const peer_t *pe, rtcp_fn_t fn, void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < pe->n_sent; i++) {
        if (!pe->sent[i].rtcp)
            continue;
        ovl_rtcp_iter_t it;
        ovl_rtcp_msg_t m;
        ovl_rtcp_iter_init(&it, pe->sent[i].data, pe->sent[i].len);
        while (ovl_rtcp_next(&it, &m) == 0) {
            if (fn)
                fn(ctx, &m);
            n++;
        }
        assert_int_equal(it.err, OVL_ERR_NOTFOUND); /* every compound the relay wrote parses to its end */
    }
    return n;
}

typedef struct kind_count {
    ovl_rtcp_kind_t kind;
    size_t n;
} kind_count_t;

static inline void count_kind_fn(void *ctx, const ovl_rtcp_msg_t *m)
{
    kind_count_t *k = ctx;
    if (m->kind == k->kind)
        k->n++;
}

static inline size_t count_rtcp(const peer_t *pe, ovl_rtcp_kind_t kind)
{
    kind_count_t k = {kind, 0};
    walk_rtcp(pe, count_kind_fn, &k);
    return k.n;
}

/* Copies of the RTCP messages of one kind a peer received (views into its captured packets). */
typedef struct msgs {
    ovl_rtcp_kind_t kind;
    size_t n;
    ovl_rtcp_msg_t m[256];
} msgs_t;

static inline void collect_fn(void *ctx, const ovl_rtcp_msg_t *m)
{
    msgs_t *x = ctx;
    if (m->kind == x->kind && x->n < OVL_ARRAY_LEN(x->m))
        x->m[x->n++] = *m;
}

static inline size_t collect(const peer_t *pe, ovl_rtcp_kind_t kind, msgs_t *out)
{
    out->kind = kind;
    out->n = 0;
    walk_rtcp(pe, collect_fn, out);
    return out->n;
}

/* ---- RTCP as browsers send it ---- */

static inline int feed_pli(world_t *w, peer_t *pe, uint32_t media)
{
    uint8_t buf[64];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_rr(&b, 1, NULL, 0), 0); /* a compound starts with a report (RFC 3550 §6.1) */
    assert_int_equal(ovl_rtcp_build_pli(&b, 1, media), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

static inline int feed_fir(world_t *w, peer_t *pe, uint32_t media, uint8_t seq)
{
    uint8_t buf[64];
    ovl_wbuf_t b;
    ovl_rtcp_fir_entry_t e = {media, seq};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_fir(&b, 1, &e, 1), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

static inline int feed_nack(world_t *w, peer_t *pe, uint32_t media, const uint16_t *lost, size_t n)
{
    uint8_t buf[256];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_nack(&b, 1, media, lost, n), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

static inline int feed_remb(world_t *w, peer_t *pe, uint64_t bps, uint32_t media)
{
    uint8_t buf[64];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_remb(&b, 1, bps, &media, 1), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

static inline int feed_sr(world_t *w, peer_t *pe, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts)
{
    uint8_t buf[128];
    ovl_wbuf_t b;
    ovl_rtcp_sender_info_t si = {ntp, rtp_ts, 10, 1000};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_report(&b, ssrc, &si, NULL, 0, "cname", 5), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

/* ---- RTP as browsers send it ---- */

/* One sending track of a peer: its SSRCs, payload types and extension ids (from its own offer). */
typedef struct track {
    uint32_t ssrc, rtx_ssrc;
    uint8_t pt, rtx_pt;
    uint16_t seq, rtx_seq;
    uint32_t ts;
    uint8_t id_level, id_abs, id_twcc, id_mid; /* 0: not sent */
    const char *mid;
} track_t;

/* Builds and feeds one RTP packet; returns ovl_route_on_rtp's result. */
static inline int send_rtp_ext(world_t *w, peer_t *pe, const track_t *t, bool rtx, uint16_t seq, uint32_t ts,
                               bool marker, int level, const uint8_t *payload, size_t len, uint8_t pad)
{
    uint8_t buf[1600], lvl = (uint8_t)(level < 0 ? 0 : level), abs[3] = {1, 2, 3}, tw[2];
    ovl_rtp_ext_put_t ext[4];
    size_t n = 0;
    ovl_wbuf_t b;
    tw[0] = (uint8_t)(pe->twcc_seq >> 8), tw[1] = (uint8_t)pe->twcc_seq;
    if (t->id_level && level >= 0)
        ext[n++] = (ovl_rtp_ext_put_t){t->id_level, 1, &lvl};
    if (t->id_abs)
        ext[n++] = (ovl_rtp_ext_put_t){t->id_abs, 3, abs};
    if (t->id_twcc) {
        ext[n++] = (ovl_rtp_ext_put_t){t->id_twcc, 2, tw};
        pe->twcc_seq++;
    }
    if (t->id_mid)
        ext[n++] = (ovl_rtp_ext_put_t){t->id_mid, (uint8_t)strlen(t->mid), (const uint8_t *)t->mid};
    ovl_rtp_hdr_t h = {.marker = marker,
                       .payload_type = rtx ? t->rtx_pt : t->pt,
                       .seq = seq,
                       .timestamp = ts,
                       .ssrc = rtx ? t->rtx_ssrc : t->ssrc};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, ext, n), 0);
    assert_int_equal(ovl_put_bytes(&b, payload, len), 0);
    if (pad)
        assert_int_equal(ovl_rtp_pad(&b, 0, pad), 0);
    return ovl_route_on_rtp(w->room, pe->p, buf, b.len, w->now);
}

/* The next media packet of track t (sequence number and timestamp advance as given). */
static inline int send_media(world_t *w, peer_t *pe, track_t *t, bool marker, int level, const uint8_t *payload,
                             size_t len)
{
    return send_rtp_ext(w, pe, t, false, t->seq++, t->ts, marker, level, payload, len, 0);
}

/* An Opus-sized audio packet (20 ms at 48 kHz) with an RFC 6464 level. */
static inline int send_audio(world_t *w, peer_t *pe, track_t *t, int level)
{
    static const uint8_t opus[40] = {0xfc, 0xff, 0xfe}; /* TOC: CELT FB 20 ms, then frame bytes */
    int ret = send_media(w, pe, t, false, level, opus, sizeof(opus));
    t->ts += 960;
    return ret;
}

/* The tracks of the captured offers (SSRCs, payload types and extension ids as written there). */
static inline void chromium_tracks(track_t *audio, track_t *video, uint32_t a_ssrc, uint32_t v_ssrc, uint32_t v_rtx)
{
    *audio = (track_t){.ssrc = a_ssrc,
                       .pt = 111,
                       .seq = 100,
                       .ts = 4800,
                       .id_level = 1,
                       .id_abs = 2,
                       .id_twcc = 3,
                       .id_mid = 4,
                       .mid = "0"};
    *video = (track_t){.ssrc = v_ssrc,
                       .rtx_ssrc = v_rtx,
                       .pt = 96,
                       .rtx_pt = 97,
                       .seq = 30000,
                       .ts = 90000,
                       .id_abs = 2,
                       .id_twcc = 3,
                       .id_mid = 4,
                       .mid = "1"};
}

/* chromium-offer-av-screen.sdp with its SSRCs changed (a third Chromium participant). */
static const char *const av_screen_other[] = {"221197464",  "221197999",  "3620418310", "3620418999",
                                              "3276133668", "3276133999", "3846447863", "3846447999",
                                              "51805253",   "51805999",   NULL};

/* ---- real VP8 ---- */

typedef struct vp8_pkt {
    uint8_t data[1200];
    size_t len;
    bool marker, keyframe_start;
    unsigned frame;
} vp8_pkt_t;

typedef struct vp8_clip {
    vp8_pkt_t *pkts;
    size_t n;
} vp8_clip_t;

/* Encodes `frames` frames of the test pattern (160x96) with libvpx, key frames where keyframe_at says. */
static inline void vp8_clip_make(vp8_clip_t *clip, unsigned frames, const bool *keyframe_at)
{
    ovl_video_enc_cfg_t cfg = {.width = 160, .height = 96, .fps = 30, .bitrate_kbps = 300, .error_resilient = true};
    ovl_video_enc_t *enc = NULL;
    ovl_video_image_t img;
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t pcfg = {.max_payload = 300, .first_picture_id = 1000};
    assert_int_equal(ovl_video_enc_new(&cfg, &enc), 0);
    assert_int_equal(ovl_video_image_init(&img, 160, 96), 0);
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &pcfg), 0);
    memset(clip, 0, sizeof(*clip));
    clip->pkts = calloc(frames * 64, sizeof(*clip->pkts));
    assert_non_null(clip->pkts);
    for (unsigned f = 0; f < frames; f++) {
        ovl_video_encoded_t e;
        ovl_video_pattern_draw(&img, f);
        assert_int_equal(ovl_video_enc_encode(enc, &img, keyframe_at && keyframe_at[f], &e), 0);
        assert_true(e.len > 0);
        assert_int_equal(ovl_vp8_packetizer_frame(&pk, e.data, e.len, false, NULL), 0);
        for (bool first = true;; first = false) {
            vp8_pkt_t *p = &clip->pkts[clip->n];
            if (ovl_vp8_packetizer_next(&pk, p->data, sizeof(p->data), &p->len, &p->marker) != 0)
                break;
            p->keyframe_start = first && e.keyframe;
            p->frame = f;
            clip->n++;
            assert_true(clip->n < frames * 64);
        }
    }
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
}

static inline void vp8_clip_free(vp8_clip_t *clip)
{
    free(clip->pkts);
}

/* Sends packet i of the clip on track t (timestamp 3000 per frame). */
static inline int send_vp8(world_t *w, peer_t *pe, track_t *t, const vp8_clip_t *clip, size_t i)
{
    const vp8_pkt_t *p = &clip->pkts[i];
    int ret = send_rtp_ext(w, pe, t, false, t->seq++, t->ts + p->frame * 3000u, p->marker, -1, p->data, p->len, 0);
    return ret;
}

#endif
