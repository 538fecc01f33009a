/*
 * bench_relay's load generator: many synthetic participants in one process, each a CLIENT-role
 * relay/transport (controlling ICE, DTLS client, SRTP) over its own UDP socket on 127.0.0.1
 * (relay/io/udp: recvmmsg into pool packets, sendmmsg of a queue), driven by one or more epoll
 * loops (relay/io/loop), one thread each; a participant belongs to one loop for its whole life.
 *
 * Publishers replay the pre-encoded clip (bench_relay_clip.h): every 20 ms an Opus packet, every
 * 1/30 s the packets of one VP8 frame, each with fresh sequence numbers, timestamps, PictureID,
 * transport-wide sequence number, abs-send-time (and audio level for audio), the way Chromium
 * sends them, and an RTCP sender report per stream every second (receivers a receiver report). A
 * PLI or FIR for the camera makes the next frame the clip's key frame.
 *
 * Measurement rides in a 20-byte trailer at the END of every RTP payload, after the codec bytes:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     magic "OVLB"                              |
 *   +---------------+---------------+-------------------------------+
 *   |    window     |     kind      |   publisher slot in meeting   |
 *   +---------------+---------------+-------------------------------+
 *   |                  per-stream packet counter                    |
 *   +---------------------------------------------------------------+
 *   |          send time, CLOCK_MONOTONIC microseconds (64 bits)    |
 *   +---------------------------------------------------------------+
 *
 * The relay forwards an RTP payload byte for byte (it rewrites the header, writes its own extension
 * block, and would touch only the VP8 descriptor's PictureID at the START of the payload on a layer
 * switch), so the trailer arrives as sent. Header extensions would not do: the relay rewrites
 * abs-send-time, consumes transport-cc and forwards only one-byte values unchanged.
 *
 * A receiver stamps each recvmmsg batch with CLOCK_MONOTONIC as it returns; latency is that
 * minus the trailer's send time (same clock, same process). The window number is what the main
 * thread had published when the packet was built: windows count "sent in window w" and "received
 * of those" with the same tag, so loss is exact, however late a packet arrives.
 *
 * Threads: the main thread builds everything, then each loop thread owns its participants. The
 * counters below are written by their loop thread only (relaxed atomic stores) and read by the main
 * thread (relaxed atomic loads). Included once, by bench_relay.c.
 */
#ifndef OVL_BENCH_RELAY_GEN_H
#define OVL_BENCH_RELAY_GEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_relay_clip.h"
#include "bench_relay_sdp.h"
#include "bench_relay_sys.h"
#include "codecs/vp8.h"
#include "relay/io/clock.h"
#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/udp.h"
#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"
#include "relay/transport/transport.h"

#define GEN_MAX_THREADS   4
#define GEN_MAX_MEETING   64 /* participants in one meeting (the relay allows 50 by default) */
#define GEN_MAX_WINDOWS   16
#define GEN_HIST_N        SYS_HIST_N
#define GEN_TRAILER       20
#define GEN_MAGIC         0x4f564c42u /* "OVLB" */
#define GEN_NO_WINDOW     0xff
#define GEN_KIND_AUDIO    0
#define GEN_KIND_VIDEO    1
#define GEN_PATH          1 /* path_id of every participant's one socket */
#define GEN_AUDIO_PERIOD  OVL_MS(20)
#define GEN_VIDEO_PERIOD  (OVL_SEC(1) / CLIP_FPS)
#define GEN_MAX_LAG       OVL_MS(200) /* a publisher further behind than this skips ahead */
#define GEN_RTCP_PERIOD   OVL_SEC(1)  /* libwebrtc's video report interval */
#define GEN_CNAME         "bench-relay"
#define GEN_POOL_PER_PART (OVL_UDP_BATCH_MAX + 64)

#define GEN_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define GEN_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define GEN_BUMP(x, n)  GEN_STORE(x, GEN_LOAD(x) + (n)) /* single writer */

typedef struct gen_win {
    uint64_t sent;     /* RTP packets publishers sent while the window was open */
    uint64_t expected; /* the same, times each packet's fan-out */
    uint64_t received; /* of those, packets receivers got */
    uint64_t hist[GEN_HIST_N];
    uint64_t late[GEN_HIST_N]; /* how late publishers' media timers ran (the generator's own delay) */
} gen_win_t;

typedef struct gen gen_t;
typedef struct gen_thread gen_thread_t;

typedef struct part {
    /* set by the main thread before the loops start */
    unsigned idx, meeting, slot; /* global index; meeting; place among the meeting's publishers */
    bool publisher;
    unsigned fanout; /* how many receive each of its streams */
    unsigned expect; /* streams it should receive (audio + video per other publisher) */
    sdp_ident_t id;
    sdp_relay_t relay;
    gen_thread_t *g; /* back-ref */
    ovl_udp_t *udp;
    ovl_transport_t *t;
    /* loop thread */
    ovl_timer_t t_timer, media_timer, rtcp_timer;
    bool dirty;        /* on g->dirty: datagrams queued */
    bool connected;    /* atomic: transport CONNECTED */
    unsigned failures; /* atomic: FAILED, CONSENT_LOST or CLOSED events */
    unsigned n_seen;   /* atomic: distinct streams received */
    uint8_t seen[2 * GEN_MAX_MEETING];
    /* publisher */
    uint32_t a_ssrc, v_ssrc, a_ts, v_ts, a_count, v_count, a_octets, v_octets;
    uint16_t a_seq, v_seq, twcc_seq, pic_id;
    size_t a_idx, v_idx;
    ovl_time_t a_next, v_next;
    bool want_keyframe;
} part_t;

struct gen_thread {
    gen_t *gen; /* back-ref */
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    pthread_t th;
    bool started;
    clockid_t cpu;
    part_t **parts; /* borrowed */
    size_t n;
    part_t **dirty;
    size_t n_dirty;
    ovl_time_t rx_now;
    ovl_clock_pair_t anchor; /* NTP times of sender reports */
    gen_win_t win[GEN_MAX_WINDOWS];
    uint64_t rx_media, tx_media, keyframe_requests, errors; /* atomic */
    uint64_t skipped; /* atomic: audio packets and video frames a starved publisher never sent (GEN_MAX_LAG) */
};

struct gen {
    const clip_t *clip;
    const ovl_dtls_cert_t *cert;
    int window; /* atomic: window tag for packets built now, or -1 */
    gen_thread_t th[GEN_MAX_THREADS];
    size_t n_threads;
};

/* ---- sending ---------------------------------------------------------------------------------------- */

static void gen_arm(part_t *p);

static void gen_queue(part_t *p, ovl_pkt_t *pkt, const ovl_addr_t *to)
{
    struct sockaddr_storage ss;
    size_t sl = 0;
    if (ovl_addr_to_sockaddr(to, &ss, &sl) != 0 ||
        ovl_udp_send(p->udp, pkt, (struct sockaddr *)&ss, (socklen_t)sl, NULL) != 0)
        GEN_BUMP(p->g->errors, 1);
    if (!p->dirty) {
        p->dirty = true;
        p->g->dirty[p->g->n_dirty++] = p;
    }
}

/* Transport output (STUN, DTLS): copied into a pool packet and queued. */
static void gen_on_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    part_t *p = user;
    (void)path_id;
    ovl_pkt_t *pkt = ovl_pool_get(p->g->pool);
    if (!pkt || len > OVL_POOL_DATA) {
        GEN_BUMP(p->g->errors, 1);
        if (pkt)
            ovl_pkt_unref(pkt);
        return;
    }
    memcpy(pkt->data, data, len);
    pkt->len = len;
    gen_queue(p, pkt, to);
    ovl_pkt_unref(pkt);
}

/* End of every loop turn: one sendmmsg per socket with something queued. */
static void gen_flush_hook(ovl_loop_t *loop, void *ctx)
{
    gen_thread_t *g = ctx;
    size_t keep = 0;
    (void)loop;
    for (size_t i = 0; i < g->n_dirty; i++) {
        part_t *p = g->dirty[i];
        if (ovl_udp_flush(p->udp) == 0)
            p->dirty = false;
        else
            g->dirty[keep++] = p; /* EAGAIN: again next turn (a timer turn comes within a millisecond) */
    }
    g->n_dirty = keep;
}

static void gen_put_be(uint8_t *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        o[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* One RTP packet: header with Chromium's extensions, payload, trailer; protected and queued. */
static void gen_send_rtp(part_t *p, bool video, const clip_pkt_t *cp, bool marker, uint16_t seq, uint32_t ts,
                         uint32_t count)
{
    gen_thread_t *g = p->g;
    ovl_pkt_t *pkt = ovl_pool_get(g->pool);
    if (!pkt) {
        GEN_BUMP(g->errors, 1);
        return;
    }
    ovl_time_t now = ovl_clock_now();
    int win = GEN_LOAD(g->gen->window);
    uint8_t abs[3], twcc[2], level = (uint8_t)(0x80 | (20 + p->slot % 40));
    gen_put_be(abs, ((now << 18) / 1000000u) & 0xffffffu, 3);
    gen_put_be(twcc, p->twcc_seq++, 2);
    ovl_rtp_ext_put_t ext[3] = {{SDP_EXT_ABS_SEND, 3, abs}, {SDP_EXT_TWCC, 2, twcc}, {SDP_EXT_AUDIO_LVL, 1, &level}};
    ovl_rtp_hdr_t h = {
        .marker = marker,
        .payload_type = video ? SDP_PT_VP8 : SDP_PT_OPUS,
        .seq = seq,
        .timestamp = ts,
        .ssrc = video ? p->v_ssrc : p->a_ssrc,
    };
    ovl_wbuf_t wb;
    ovl_wbuf_init(&wb, pkt->data, OVL_POOL_DATA);
    if (ovl_rtp_build(&wb, &h, ext, video ? 2 : 3) != 0 || wb.len + cp->len + GEN_TRAILER > OVL_POOL_DATA)
        goto Fail;
    uint8_t *pl = pkt->data + wb.len;
    memcpy(pl, cp->data, cp->len);
    if (video) {
        ovl_vp8_rewrite_t rw = {.set_picture_id = true, .picture_id = p->pic_id};
        ovl_vp8_rewrite(pl, cp->len, &rw);
    }
    uint8_t *tr = pl + cp->len;
    gen_put_be(tr, GEN_MAGIC, 4);
    tr[4] = win >= 0 ? (uint8_t)win : GEN_NO_WINDOW;
    tr[5] = video ? GEN_KIND_VIDEO : GEN_KIND_AUDIO;
    gen_put_be(tr + 6, p->slot, 2);
    gen_put_be(tr + 8, count, 4);
    gen_put_be(tr + 12, now, 8);
    size_t len = wb.len + cp->len + GEN_TRAILER;
    ovl_ice_path_t to;
    if (ovl_transport_protect_rtp(p->t, pkt->data, &len, len + ovl_pkt_tailroom(pkt), &to) != 0)
        goto Fail;
    pkt->len = len;
    gen_queue(p, pkt, &to.addr);
    ovl_pkt_unref(pkt);
    GEN_BUMP(g->tx_media, 1);
    *(video ? &p->v_octets : &p->a_octets) += (uint32_t)(cp->len + GEN_TRAILER);
    if (win >= 0) {
        GEN_BUMP(g->win[win].sent, 1);
        GEN_BUMP(g->win[win].expected, p->fanout);
    }
    return;
Fail:
    GEN_BUMP(g->errors, 1);
    ovl_pkt_unref(pkt);
}

static void gen_send_video_frame(part_t *p)
{
    const clip_t *c = p->g->gen->clip;
    if (p->want_keyframe && p->v_idx != 0) {
        p->v_idx = 0; /* the clip starts with its key frame */
        p->want_keyframe = false;
    }
    const clip_frame_t *f = &c->video[p->v_idx];
    for (unsigned k = 0; k < f->n; k++)
        gen_send_rtp(p, true, &f->pkts[k], f->pkts[k].marker, p->v_seq++, p->v_ts, p->v_count++);
    p->v_ts += 90000 / CLIP_FPS;
    p->pic_id = (uint16_t)((p->pic_id + 1) & 0x7fff);
    p->v_idx = (p->v_idx + 1) % c->n_video;
}

/* The publisher's media clock: audio and video due by now go out, then one flush of its socket. */
static void gen_media_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    part_t *p = ctx;
    (void)timer;
    const clip_t *c = p->g->gen->clip;
    now = ovl_clock_now();
    if (!GEN_LOAD(p->connected))
        return; /* re-armed by the next CONNECTED event */
    int win = GEN_LOAD(p->g->gen->window);
    if (win >= 0) {
        ovl_time_t due = p->a_next < p->v_next ? p->a_next : p->v_next;
        GEN_BUMP(p->g->win[win].late[sys_hist_bucket(now > due ? now - due : 0)], 1);
    }
    if (p->a_next + GEN_MAX_LAG < now) {
        GEN_BUMP(p->g->skipped, (now - p->a_next) / GEN_AUDIO_PERIOD);
        p->a_next = now;
    }
    if (p->v_next + GEN_MAX_LAG < now) {
        GEN_BUMP(p->g->skipped, (now - p->v_next) / GEN_VIDEO_PERIOD);
        p->v_next = now;
    }
    while (p->a_next <= now) {
        gen_send_rtp(p, false, &c->audio[p->a_idx], false, p->a_seq++, p->a_ts, p->a_count++);
        p->a_ts += OVL_AUDIO_FRAME;
        p->a_idx = (p->a_idx + 1) % c->n_audio;
        p->a_next += GEN_AUDIO_PERIOD;
    }
    while (p->v_next <= now) {
        gen_send_video_frame(p);
        p->v_next += GEN_VIDEO_PERIOD;
    }
    if (p->dirty)
        ovl_udp_flush(p->udp); /* now, so the stamped send times hold; the end-of-turn hook clears `dirty` */
    ovl_timer_schedule(ovl_loop_timers(p->g->loop), &p->media_timer, p->a_next < p->v_next ? p->a_next : p->v_next);
}

/* One RTCP compound (an SR when si is given, else an RR without report blocks, then SDES CNAME). */
static void gen_send_report(part_t *p, uint32_t ssrc, const ovl_rtcp_sender_info_t *si)
{
    ovl_pkt_t *pkt = ovl_pool_get(p->g->pool);
    ovl_wbuf_t wb;
    ovl_ice_path_t to;
    if (!pkt) {
        GEN_BUMP(p->g->errors, 1);
        return;
    }
    ovl_wbuf_init(&wb, pkt->data, OVL_POOL_DATA);
    size_t len = 0;
    if (ovl_rtcp_build_report(&wb, ssrc, si, NULL, 0, GEN_CNAME, strlen(GEN_CNAME)) == 0 && (len = wb.len) > 0 &&
        ovl_transport_protect_rtcp(p->t, pkt->data, &len, len + ovl_pkt_tailroom(pkt), &to) == 0) {
        pkt->len = len;
        gen_queue(p, pkt, &to.addr);
    } else
        GEN_BUMP(p->g->errors, 1);
    ovl_pkt_unref(pkt);
}

/* Every second, as a browser: publishers an SR per sending SSRC (the relay times its own SRs to
 * subscribers from them), everyone a receiver report. */
static void gen_rtcp_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    part_t *p = ctx;
    (void)timer;
    if (GEN_LOAD(p->connected)) {
        if (p->publisher) {
            uint64_t ntp = ovl_clock_ntp_at(&p->g->anchor, now);
            ovl_rtcp_sender_info_t a = {ntp, p->a_ts, p->a_count, p->a_octets};
            ovl_rtcp_sender_info_t v = {ntp, p->v_ts, p->v_count, p->v_octets};
            gen_send_report(p, p->a_ssrc, &a);
            gen_send_report(p, p->v_ssrc, &v);
        } else
            gen_send_report(p, p->a_ssrc, NULL);
    }
    ovl_timer_schedule(ovl_loop_timers(p->g->loop), &p->rtcp_timer, now + GEN_RTCP_PERIOD);
}

/* ---- receiving ---------------------------------------------------------------------------------------- */

static uint64_t gen_get_be(const uint8_t *b, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | b[i];
    return v;
}

static void gen_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    part_t *p = user;
    gen_thread_t *g = p->g;
    (void)now;
    if (len < 12 + GEN_TRAILER)
        return;
    const uint8_t *tr = buf + len - GEN_TRAILER;
    if (gen_get_be(tr, 4) != GEN_MAGIC)
        return;
    unsigned win = tr[4], kind = tr[5] & 1, slot = (unsigned)gen_get_be(tr + 6, 2);
    ovl_time_t sent = gen_get_be(tr + 12, 8);
    GEN_BUMP(g->rx_media, 1);
    if (win < GEN_MAX_WINDOWS) {
        GEN_BUMP(g->win[win].received, 1);
        GEN_BUMP(g->win[win].hist[sys_hist_bucket(g->rx_now > sent ? g->rx_now - sent : 0)], 1);
    }
    if (slot < GEN_MAX_MEETING && !p->seen[slot * 2 + kind]) {
        p->seen[slot * 2 + kind] = 1;
        GEN_BUMP(p->n_seen, 1);
    }
}

/* RTCP from the relay: a PLI or FIR for the camera asks for a key frame; the rest is not needed. */
static void gen_on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    part_t *p = user;
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    (void)now;
    ovl_rtcp_iter_init(&it, buf, len);
    while (ovl_rtcp_next(&it, &m) == 0) {
        bool kf = m.kind == OVL_RTCP_PLI && m.u.pli.media_ssrc == p->v_ssrc;
        ovl_rtcp_fir_entry_t e;
        for (size_t i = 0; m.kind == OVL_RTCP_FIR && ovl_rtcp_fir_get(&m.u.fir, i, &e) == 0; i++)
            kf |= e.ssrc == p->v_ssrc;
        if (kf && p->publisher) {
            p->want_keyframe = true;
            GEN_BUMP(p->g->keyframe_requests, 1);
        }
    }
}

static void gen_on_state(void *user, const ovl_transport_event_t *ev)
{
    part_t *p = user;
    switch (ev->type) {
    case OVL_TRANSPORT_EVENT_CONNECTED: {
        ovl_time_t now = ovl_clock_now();
        GEN_STORE(p->connected, true);
        if (p->publisher) { /* publishers start out of phase with each other, as people do */
            p->a_next = now + (p->idx * 7919u) % GEN_AUDIO_PERIOD;
            p->v_next = now + (p->idx * 104729u) % GEN_VIDEO_PERIOD;
            ovl_timer_schedule(ovl_loop_timers(p->g->loop), &p->media_timer,
                               p->a_next < p->v_next ? p->a_next : p->v_next);
        }
        break;
    }
    case OVL_TRANSPORT_EVENT_FAILED:
    case OVL_TRANSPORT_EVENT_CONSENT_LOST:
    case OVL_TRANSPORT_EVENT_CLOSED:
        GEN_STORE(p->connected, false);
        GEN_BUMP(p->failures, 1);
        fprintf(stderr, "bench_relay: participant %u: transport %s: %s\n", p->idx, ovl_transport_event_name(ev->type),
                ev->reason ? ev->reason : "");
        break;
    default:
        break;
    }
}

static void gen_on_readable(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    part_t *p = ctx;
    ovl_udp_dgram_t d[OVL_UDP_BATCH_MAX];
    (void)loop, (void)fd, (void)events;
    for (int round = 0; round < 4; round++) { /* bounded: leave room for the others and the timers */
        size_t n = 0;
        if (ovl_udp_recv(p->udp, d, OVL_UDP_BATCH_MAX, &n) != 0)
            break;
        p->g->rx_now = ovl_clock_now();
        for (size_t i = 0; i < n; i++) {
            ovl_addr_t from;
            if (ovl_addr_from_sockaddr(&from, (struct sockaddr *)&d[i].src) == 0)
                ovl_transport_on_datagram(p->t, GEN_PATH, &from, d[i].pkt->data, d[i].pkt->len, p->g->rx_now);
            ovl_pkt_unref(d[i].pkt);
        }
        if (n < OVL_UDP_BATCH_MAX)
            break;
    }
    gen_arm(p);
}

static void gen_transport_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    part_t *p = ctx;
    (void)timer;
    ovl_transport_on_timeout(p->t, now);
    gen_arm(p);
}

/* Keeps the participant's transport timer at the transport's next timeout. */
static void gen_arm(part_t *p)
{
    ovl_time_t next = ovl_transport_next_timeout(p->t);
    ovl_timers_t *timers = ovl_loop_timers(p->g->loop);
    if (next == OVL_TIME_NEVER)
        ovl_timer_cancel(timers, &p->t_timer);
    else if (!ovl_timer_armed(&p->t_timer) || ovl_timer_when(&p->t_timer) != next)
        ovl_timer_schedule(timers, &p->t_timer, next);
}

/* ---- set-up and threads --------------------------------------------------------------------------------- */

/* Creates loop, pool and sockets of thread g for its n participants. 0 or -1. */
static int gen_thread_init(gen_t *gen, gen_thread_t *g, part_t **parts, size_t n)
{
    memset(g, 0, sizeof(*g));
    g->gen = gen;
    g->parts = parts;
    g->n = n;
    ovl_clock_pair(&g->anchor);
    if (!(g->dirty = calloc(n ? n : 1, sizeof(*g->dirty))) || ovl_loop_new(&g->loop, 2 * n + 16) != 0 ||
        ovl_pool_new(&g->pool, n * GEN_POOL_PER_PART + 1024) != 0 || ovl_loop_add_hook(g->loop, gen_flush_hook, g) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        part_t *p = parts[i];
        ovl_udp_config_t ucfg = {.addr = "127.0.0.1", .rcvbuf = 1 << 20, .sndbuf = 1 << 20};
        p->g = g;
        ovl_timer_init(&p->t_timer, gen_transport_timer, p);
        ovl_timer_init(&p->media_timer, gen_media_timer, p);
        ovl_timer_init(&p->rtcp_timer, gen_rtcp_timer, p);
        if (ovl_udp_new(&p->udp, &ucfg, g->pool) != 0 ||
            ovl_loop_add(g->loop, ovl_udp_fd(p->udp), OVL_LOOP_READ, gen_on_readable, p) != 0)
            return -1;
    }
    return 0;
}

/* The participant's transport towards the relay's answer (main thread, before its loop runs). */
static int gen_part_start(part_t *p, const ovl_dtls_cert_t *cert)
{
    p->relay.cand.path_id = GEN_PATH;
    ovl_transport_config_t cfg = {
        .role = OVL_TRANSPORT_CLIENT,
        .local_ufrag = p->id.ufrag,
        .local_pwd = p->id.pwd,
        .remote_ufrag = p->relay.ufrag,
        .remote_pwd = p->relay.pwd,
        .remote_candidates = &p->relay.cand,
        .n_remote_candidates = 1,
        .cert = cert,
        .remote_fingerprint = &p->relay.fp,
        .send = gen_on_send,
        .on_rtp = gen_on_rtp,
        .on_rtcp = gen_on_rtcp,
        .on_state = gen_on_state,
        .user = p,
    };
    p->a_ssrc = SDP_AUDIO_SSRC ^ p->id.ssrc_salt;
    p->v_ssrc = SDP_CAMERA_SSRC ^ p->id.ssrc_salt;
    p->a_seq = (uint16_t)(p->idx * 1237u);
    p->v_seq = (uint16_t)(p->idx * 4111u);
    p->a_ts = p->idx * 7777u;
    p->v_ts = p->idx * 99991u;
    p->pic_id = (uint16_t)(p->idx * 313u & 0x7fff);
    ovl_time_t now = ovl_clock_now();
    if (ovl_transport_new(&cfg, now, &p->t) != 0)
        return -1;
    gen_arm(p);
    ovl_timer_schedule(ovl_loop_timers(p->g->loop), &p->rtcp_timer, now + (p->idx * 15485863u) % GEN_RTCP_PERIOD);
    return 0;
}

static void *gen_thread_main(void *arg)
{
    gen_thread_t *g = arg;
    ovl_loop_run(g->loop);
    return NULL;
}

static int gen_thread_start(gen_thread_t *g)
{
    if (pthread_create(&g->th, NULL, gen_thread_main, g) != 0)
        return -1;
    g->started = true;
    return pthread_getcpuclockid(g->th, &g->cpu) == 0 ? 0 : -1;
}

/* Stops and joins the thread, then frees its participants' transports and sockets, its loop and pool. */
static void gen_thread_dispose(gen_thread_t *g)
{
    if (g->started) {
        ovl_loop_stop(g->loop);
        pthread_join(g->th, NULL);
        g->started = false;
    }
    for (size_t i = 0; i < g->n; i++) {
        part_t *p = g->parts[i];
        if (p->udp && g->loop)
            ovl_loop_remove(g->loop, ovl_udp_fd(p->udp));
        ovl_transport_free(p->t);
        ovl_udp_free(p->udp);
        p->t = NULL;
        p->udp = NULL;
    }
    ovl_loop_free(g->loop);
    ovl_pool_free(g->pool);
    free(g->dirty);
    g->loop = NULL;
    g->pool = NULL;
    g->dirty = NULL;
}

static double gen_thread_cpu(const gen_thread_t *g)
{
    struct timespec ts;
    if (!g->started || clock_gettime(g->cpu, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
