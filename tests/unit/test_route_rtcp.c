/*
 * RTCP through a room (relay/route), with a fake clock: keyframe requests (RFC 4585 §6.3.1 PLI,
 * RFC 5104 §4.3.1 FIR) rate-limited per producer, NACK (RFC 4585 §6.2.1) answered with RTX
 * (RFC 4588 §4) or sent upstream, receiver and sender reports (RFC 3550 §6.4) with their
 * timing, REMB (draft-alvestrand-rmcat-remb-03), transport-cc feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) and the active speaker (RFC 6464).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_route_util.h"

#define A_CAM 3620418310u

/* A publishes (Chromium); B (Chromium) and, with `third`, C (a third Chromium) subscribe. */
static void join(world_t *w, peer_t **a, peer_t **b, peer_t **c, track_t *aa, track_t *av)
{
    world_init(w, 1);
    *a = peer_add(w, 1);
    *b = peer_add(w, 2);
    peer_offer(w, *a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(w, *b, "chromium-offer-builder-check.sdp", NULL);
    if (c) {
        *c = peer_add(w, 3);
        peer_offer(w, *c, "chromium-offer-av-screen.sdp", av_screen_other);
    }
    settle(w);
    connect_all(w);
    chromium_tracks(aa, av, 221197464, A_CAM, 3276133668u);
}

static void send_clip(world_t *w, peer_t *a, track_t *av, const vp8_clip_t *clip)
{
    for (size_t i = 0; i < clip->n; i++)
        assert_int_equal(send_vp8(w, a, av, clip, i), 0);
}

/* PLI and FIR from subscribers reach the publisher at most once per 400 ms window. */
static void test_keyframe_requests_rate_limited(void **state)
{
    (void)state;
    world_t w;
    peer_t *a, *b, *c;
    track_t aa, av;
    vp8_clip_t clip;
    bool kf[2] = {true, true};
    vp8_clip_make(&clip, 2, kf);
    join(&w, &a, &b, &c, &aa, &av);
    send_clip(&w, a, &av, &clip); /* answers the requests of the new consumers */
    advance(&w, OVL_SEC(1));
    peer_clear(a);
    uint32_t b_cam = announced(b, 1, "camera", 0, NULL), c_cam = announced(c, 1, "camera", 0, NULL);

    assert_int_equal(feed_pli(&w, b, b_cam), 0);
    msgs_t *m = malloc(sizeof(*m));
    assert_int_equal(collect(a, OVL_RTCP_PLI, m), 1);
    assert_int_equal(m->m[0].u.pli.media_ssrc, A_CAM);
    ovl_time_t t0 = w.now;
    w.now += OVL_MS(100);
    assert_int_equal(feed_pli(&w, c, c_cam), 0); /* inside the window: held */
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), 1);
    advance(&w, t0 + OVL_MS(399) - w.now);
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), 1);
    advance(&w, OVL_MS(2));
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), 2); /* at the end of the window */

    /* a request answered by a keyframe before its window ends goes nowhere */
    w.now += OVL_MS(50);
    assert_int_equal(feed_pli(&w, b, b_cam), 0);
    w.now += OVL_MS(50);
    av.ts += 6000;
    send_clip(&w, a, &av, &clip);
    advance(&w, OVL_SEC(1));
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), 2);

    /* FIR: one request per new command sequence number, sent as FIR with the relay's own numbering */
    assert_int_equal(feed_fir(&w, b, b_cam, 5), 0);
    assert_int_equal(collect(a, OVL_RTCP_FIR, m), 1);
    ovl_rtcp_fir_entry_t e;
    assert_int_equal(ovl_rtcp_fir_get(&m->m[0].u.fir, 0, &e), 0);
    assert_int_equal(e.ssrc, A_CAM);
    assert_int_equal(e.seq, 1);
    advance(&w, OVL_SEC(1));
    assert_int_equal(feed_fir(&w, b, b_cam, 5), 0); /* the same command again */
    advance(&w, OVL_SEC(1));
    assert_int_equal(count_rtcp(a, OVL_RTCP_FIR), 1);
    assert_int_equal(feed_fir(&w, b, b_cam, 6), 0);
    assert_int_equal(collect(a, OVL_RTCP_FIR, m), 2);
    assert_int_equal(ovl_rtcp_fir_get(&m->m[1].u.fir, 0, &e), 0);
    assert_int_equal(e.seq, 2);

    /* not a video consumer of this subscriber: ignored */
    advance(&w, OVL_SEC(1));
    assert_int_equal(feed_pli(&w, b, 12345), 0);
    assert_int_equal(feed_pli(&w, b, announced(b, 1, "audio", 0, NULL)), 0);
    assert_int_equal(feed_pli(&w, b, A_CAM), 0); /* the publisher's SSRC is not the subscriber's */
    advance(&w, OVL_SEC(1));
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), 2);
    ovl_route_stats_t st;
    ovl_route_room_stats(w.room, &st);
    assert_int_equal(st.keyframe_in, 5); /* 3 PLIs, FIR 5, FIR 6 (not the repeat, not the strangers) */
    /* to A: the first consumer's start, two PLIs, two FIRs; the others' went to B and C */
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_KEYFRAME_REQUEST, 1), 5);
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_KEYFRAME_REQUEST, 1) +
                         count_events(&w, OVL_ROUTE_EV_KEYFRAME_REQUEST, 2) +
                         count_events(&w, OVL_ROUTE_EV_KEYFRAME_REQUEST, 3),
                     st.keyframe_up);
    free(m);
    vp8_clip_free(&clip);
    world_free(&w);
}

/* NACK: RTX from the buffer (OSN = the NACKed number), upstream when the relay lacks the packet. */
static void test_nack_rtx_and_upstream(void **state)
{
    (void)state;
    world_t w;
    peer_t *a, *b;
    track_t aa, av;
    vp8_clip_t clip;
    bool kf[6] = {true};
    vp8_clip_make(&clip, 6, kf);
    assert_true(clip.n > 6);
    join(&w, &a, &b, NULL, &aa, &av);
    peer_t *f = peer_add(&w, 4); /* Firefox 60: VP8 without RTX */
    peer_offer(&w, f, "firefox60-offer-simulcast.sdp", NULL);
    settle(&w);
    ovl_route_participant_set_connected(f->p, true, w.now);
    uint16_t first = av.seq;
    for (size_t i = 0; i < clip.n; i++) {
        if (i == 3) { /* lost on the way to the relay */
            av.seq++;
            continue;
        }
        assert_int_equal(send_vp8(&w, a, &av, &clip, i), 0);
    }
    uint32_t v = announced(b, 1, "camera", 0, NULL), vr = announced(b, 1, "camera", 1, NULL);
    ovl_rtp_t r0;
    size_t k0 = 0;
    while (b->sent[k0].rtcp || ovl_rtp_parse(&r0, b->sent[k0].data, b->sent[k0].len) || r0.ssrc != v)
        k0++;
    uint16_t out0 = r0.seq;
    peer_clear(a);
    peer_clear(b);

    uint16_t lost[] = {(uint16_t)(out0 + 1), (uint16_t)(out0 + 2)};
    assert_int_equal(feed_nack(&w, b, v, lost, 2), 0);
    assert_int_equal(count_rtp(b, vr), 2);
    uint16_t prev_rtx = 0;
    for (size_t i = 0, k = 1; i < b->n_sent; i++) {
        ovl_rtp_t r;
        if (b->sent[i].rtcp || ovl_rtp_parse(&r, b->sent[i].data, b->sent[i].len) || r.ssrc != vr)
            continue;
        assert_int_equal(r.payload_type, 97); /* the subscriber's RTX payload type (apt=96) */
        const uint8_t *pl = ovl_rtp_payload(&r);
        assert_int_equal(ovl_load_u16(pl), (uint16_t)(out0 + k)); /* OSN */
        assert_int_equal(r.payload_len, 2 + clip.pkts[k].len);
        assert_memory_equal(pl + 2, clip.pkts[k].data, clip.pkts[k].len);
        assert_int_equal(r.timestamp, r0.timestamp + clip.pkts[k].frame * 3000u);
        if (k > 1)
            assert_int_equal((uint16_t)(r.seq - prev_rtx), 1); /* RTX has its own sequence */
        prev_rtx = r.seq;
        k++;
    }
    assert_int_equal(count_rtcp(a, OVL_RTCP_NACK), 0);

    /* the relay never had packet 3: the publisher is asked, in its own numbering */
    uint16_t hole = (uint16_t)(out0 + 3);
    assert_int_equal(feed_nack(&w, b, v, &hole, 1), 0);
    msgs_t *m = malloc(sizeof(*m));
    assert_int_equal(collect(a, OVL_RTCP_NACK, m), 1);
    assert_int_equal(m->m[0].u.nack.fb.media_ssrc, A_CAM);
    uint16_t up[4];
    size_t n_up;
    assert_int_equal(ovl_rtcp_nack_expand(&m->m[0].u.nack, up, 4, &n_up), 0);
    assert_int_equal(n_up, 1);
    assert_int_equal(up[0], (uint16_t)(first + 3));
    assert_int_equal(feed_nack(&w, b, v, &hole, 1), 0); /* again at once: deduplicated */
    assert_int_equal(count_rtcp(a, OVL_RTCP_NACK), 1);
    w.now += OVL_MS(150);
    assert_int_equal(feed_nack(&w, b, v, &hole, 1), 0);
    assert_int_equal(count_rtcp(a, OVL_RTCP_NACK), 2);

    /* before the consumer's first packet, or never sent: nothing to do */
    uint16_t old = (uint16_t)(out0 - 5), ahead = (uint16_t)(out0 + 500);
    assert_int_equal(feed_nack(&w, b, v, &old, 1), 0);
    assert_int_equal(feed_nack(&w, b, v, &ahead, 1), 0);
    assert_int_equal(count_rtp(b, vr), 2);
    assert_int_equal(count_rtcp(a, OVL_RTCP_NACK), 2);

    /* Firefox 60 has no RTX: a plain resend would repeat an SRTP packet index, so it is not answered */
    uint32_t fv = announced(f, 1, "camera", 0, NULL);
    assert_int_not_equal(fv, 0);
    assert_int_equal(announced(f, 1, "camera", 1, NULL), 0);
    ovl_rtp_t rf;
    size_t kf0 = 0;
    while (f->sent[kf0].rtcp || ovl_rtp_parse(&rf, f->sent[kf0].data, f->sent[kf0].len) || rf.ssrc != fv)
        kf0++;
    assert_int_equal(rf.payload_type, 120);
    size_t before = f->n_sent;
    uint16_t fl = (uint16_t)(rf.seq + 1);
    assert_int_equal(feed_nack(&w, f, fv, &fl, 1), 0);
    assert_int_equal(f->n_sent, before);
    ovl_route_stats_t st;
    ovl_route_room_stats(w.room, &st);
    assert_int_equal(st.rtx_out, 2);
    assert_int_equal(st.nack_seqs_up, 2);
    assert_int_equal(st.nack_unanswered, 3);
    free(m);
    vp8_clip_free(&clip);
    world_free(&w);
}

/* RFC 3550 §6.4: RR to the publisher and SR to the subscriber every second, with the right numbers. */
static void test_reports(void **state)
{
    (void)state;
    world_t w;
    peer_t *a, *b;
    track_t aa, av;
    vp8_clip_t clip;
    bool kf[2] = {true};
    vp8_clip_make(&clip, 2, kf);
    join(&w, &a, &b, NULL, &aa, &av);
    ovl_time_t t_conn = w.now;
    for (int i = 0; i < 5; i++)
        assert_int_equal(send_audio(&w, a, &aa, 40), 0);
    send_clip(&w, a, &av, &clip);
    w.now += OVL_MS(10);
    uint64_t sr_ntp = 0xe1234567abcd0000ull;
    uint32_t sr_rtp = 4800 + 5 * 960;
    assert_int_equal(feed_sr(&w, a, aa.ssrc, sr_ntp, sr_rtp), 0);
    ovl_time_t t_sr = w.now;
    /* the consumers' timelines: out = in + offset */
    uint32_t ba = announced(b, 1, "audio", 0, NULL), bv = announced(b, 1, "camera", 0, NULL);
    uint32_t a_off = 0, v_last = 0;
    for (size_t i = 0; i < b->n_sent; i++) {
        ovl_rtp_t r;
        if (b->sent[i].rtcp || ovl_rtp_parse(&r, b->sent[i].data, b->sent[i].len))
            continue;
        if (r.ssrc == ba && a_off == 0)
            a_off = r.timestamp - 4800;
        if (r.ssrc == bv)
            v_last = r.timestamp;
    }
    peer_clear(a);
    peer_clear(b);

    advance(&w, t_conn + OVL_MS(999) - w.now);
    assert_int_equal(count_rtcp(a, OVL_RTCP_RR) + count_rtcp(b, OVL_RTCP_SR), 0);
    advance(&w, OVL_MS(1));
    msgs_t *m = malloc(sizeof(*m));
    assert_int_equal(collect(a, OVL_RTCP_RR, m), 1);
    assert_int_equal(m->m[0].u.rr.blocks.count, 2);
    for (size_t i = 0; i < 2; i++) {
        ovl_rtcp_rb_t rb;
        assert_int_equal(ovl_rtcp_rb_get(&m->m[0].u.rr.blocks, i, &rb), 0);
        if (rb.ssrc == aa.ssrc) {
            assert_int_equal(rb.highest_seq, 104);
            assert_int_equal(rb.cumulative_lost, 0);
            assert_int_equal(rb.lsr, ovl_rtcp_ntp_mid32(sr_ntp));
            assert_int_equal(rb.dlsr, ovl_rtcp_dlsr_from_us(w.now - t_sr));
        } else {
            assert_int_equal(rb.ssrc, A_CAM);
            assert_int_equal(rb.highest_seq, 30000 + clip.n - 1);
            assert_int_equal(rb.lsr, 0); /* no SR for video yet */
        }
    }
    assert_int_equal(collect(a, OVL_RTCP_REMB, m), 1);
    assert_int_equal(m->m[0].u.remb.bitrate, 2500000 - 2500000 % 4); /* nothing known: the ceiling */
    assert_int_equal(m->m[0].u.remb.count, 1);
    assert_int_equal(ovl_rtcp_remb_ssrc(&m->m[0].u.remb, 0), A_CAM);
    assert_int_equal(count_rtcp(a, OVL_RTCP_SDES), 1);

    /* B: one SR + SDES CNAME (the publisher's) per consumer; NTP from the anchor, RTP on the consumer's timeline */
    assert_int_equal(collect(b, OVL_RTCP_SR, m), 2);
    uint64_t ntp = ovl_rtcp_ntp_from_unix_us(1700000000ull * 1000000u + (w.now - OVL_SEC(1000)));
    for (size_t i = 0; i < 2; i++) {
        const ovl_rtcp_sr_t *sr = &m->m[i].u.sr;
        assert_int_equal(sr->info.ntp, ntp);
        if (sr->ssrc == ba) { /* from the publisher's SR: its mapping moved to now */
            assert_int_equal(sr->info.packet_count, 5);
            assert_int_equal(sr->info.octet_count, 5 * 40);
            assert_int_equal(sr->info.rtp_ts, sr_rtp + (uint32_t)((w.now - t_sr) * 48000 / 1000000) + a_off);
        } else { /* no SR for video: the last packet's timestamp plus the time since */
            assert_int_equal(sr->ssrc, bv);
            assert_int_equal(sr->info.packet_count, clip.n);
            assert_int_equal(sr->info.rtp_ts, v_last + (uint32_t)((w.now - t_conn) * 90000 / 1000000));
        }
    }
    msgs_t *sd = malloc(sizeof(*sd));
    assert_int_equal(collect(b, OVL_RTCP_SDES, sd), 2);
    ovl_rtcp_sdes_item_t it;
    assert_int_equal(ovl_rtcp_sdes_cname(&sd->m[0].u.sdes, &it), 0);
    assert_int_equal(it.len, strlen("K+h6bBC9cfxWO5Y2"));
    assert_memory_equal(it.text, "K+h6bBC9cfxWO5Y2", it.len);
    free(sd);

    /* and again one period later, not before */
    advance(&w, OVL_MS(999));
    assert_int_equal(count_rtcp(a, OVL_RTCP_RR), 1);
    advance(&w, OVL_MS(1));
    assert_int_equal(count_rtcp(a, OVL_RTCP_RR), 2);
    assert_int_equal(count_rtcp(b, OVL_RTCP_SR), 4);
    /* a lost transport stops the reports */
    ovl_route_participant_set_connected(b->p, false, w.now);
    advance(&w, OVL_SEC(3));
    assert_int_equal(count_rtcp(b, OVL_RTCP_SR), 4);
    free(m);
    vp8_clip_free(&clip);
    world_free(&w);
}

/* The REMB to a publisher: the smallest subscriber share, never below the floor nor above the ceiling. */
static void test_remb(void **state)
{
    (void)state;
    world_t w;
    peer_t *a, *b, *c;
    track_t aa, av;
    vp8_clip_t clip;
    bool kf[2] = {true};
    vp8_clip_make(&clip, 2, kf);
    join(&w, &a, &b, &c, &aa, &av);
    send_clip(&w, a, &av, &clip);
    uint32_t b_cam = announced(b, 1, "camera", 0, NULL), c_cam = announced(c, 1, "camera", 0, NULL);
    msgs_t *m = malloc(sizeof(*m));
    static const struct {
        uint64_t b, c, want;
    } cases[] = {
        {600000, 900000, 600000}, /* the slowest subscriber */
        {600000, 400000, 400000},
        {30000, 400000, 100000},     /* the floor: video never starves */
        {9000000, 8000000, 2500000}, /* the ceiling */
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++) {
        assert_int_equal(feed_remb(&w, b, cases[i].b, b_cam), 0);
        assert_int_equal(feed_remb(&w, c, cases[i].c, c_cam), 0);
        av.ts += 6000;
        send_clip(&w, a, &av, &clip); /* the subscribers' streams are current */
        peer_clear(a);
        advance(&w, OVL_SEC(1));
        assert_int_equal(collect(a, OVL_RTCP_REMB, m), 1);
        uint8_t exp;
        uint32_t mant;
        ovl_rtcp_remb_encode(cases[i].want, &exp, &mant);
        assert_int_equal(m->m[0].u.remb.bitrate, ovl_rtcp_remb_decode(exp, mant));
    }
    /* estimates older than 5 s no longer count */
    peer_clear(a);
    advance(&w, OVL_SEC(6));
    assert_true(collect(a, OVL_RTCP_REMB, m) >= 1);
    assert_int_equal(m->m[m->n - 1].u.remb.bitrate, 2500000 - 2500000 % 4);
    free(m);
    vp8_clip_free(&clip);
    world_free(&w);
}

/* Transport-cc feedback every 100 ms while packets arrive: arrival times, a missing packet, feedback count. */
typedef struct twcc_seen {
    ovl_rtcp_twcc_status_t st[64];
    size_t n;
} twcc_seen_t;

static int twcc_cb(void *ctx, const ovl_rtcp_twcc_status_t *st)
{
    twcc_seen_t *s = ctx;
    if (s->n < OVL_ARRAY_LEN(s->st))
        s->st[s->n++] = *st;
    return 0;
}

static void test_twcc_feedback(void **state)
{
    (void)state;
    world_t w;
    peer_t *a, *b;
    track_t aa, av;
    join(&w, &a, &b, NULL, &aa, &av);
    peer_clear(a);
    uint16_t base = a->twcc_seq;
    ovl_time_t t0 = w.now;
    for (int i = 0; i < 6; i++) {
        if (i == 3)
            a->twcc_seq++; /* one transport-wide number lost */
        assert_int_equal(send_audio(&w, a, &aa, 50), 0);
        w.now += OVL_MS(5);
    }
    advance(&w, t0 + OVL_MS(99) - w.now);
    assert_int_equal(count_rtcp(a, OVL_RTCP_TWCC), 0);
    advance(&w, OVL_MS(1));
    msgs_t *m = malloc(sizeof(*m));
    assert_int_equal(collect(a, OVL_RTCP_TWCC, m), 1);
    const ovl_rtcp_twcc_t *fb = &m->m[0].u.twcc;
    assert_int_equal(fb->base_seq, base);
    assert_int_equal(fb->status_count, 7);
    assert_int_equal(fb->fb_count, 0);
    twcc_seen_t seen = {0};
    assert_int_equal(ovl_rtcp_twcc_decode(fb, twcc_cb, &seen), 0);
    int64_t first = -1;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(seen.st[i].seq, (uint16_t)(base + i));
        assert_int_equal(seen.st[i].received, i != 3);
        if (i == 3)
            continue;
        if (first < 0)
            first = seen.st[i].arrival_us;
        size_t k = i < 3 ? i : i - 1; /* the k-th packet sent, 5 ms apart */
        assert_int_equal(seen.st[i].arrival_us - first, (int64_t)k * 5000);
    }
    /* nothing new: no feedback; new packets: the next one continues where this one ended */
    advance(&w, OVL_SEC(1));
    assert_int_equal(count_rtcp(a, OVL_RTCP_TWCC), 1);
    assert_int_equal(send_audio(&w, a, &aa, 50), 0);
    advance(&w, OVL_MS(100));
    assert_int_equal(collect(a, OVL_RTCP_TWCC, m), 2);
    assert_int_equal(m->m[1].u.twcc.base_seq, (uint16_t)(base + 7));
    assert_int_equal(m->m[1].u.twcc.fb_count, 1);
    assert_int_equal(count_rtcp(b, OVL_RTCP_TWCC), 0); /* B sent nothing */
    free(m);
    world_free(&w);
}

/* RFC 6464 levels: the loudest speaker takes the floor, with hysteresis and at most once a second. */
static void talk(world_t *w, peer_t **pe, track_t *tr, const int *levels, ovl_time_t dur)
{
    for (ovl_time_t t = 0; t < dur; t += OVL_MS(20)) {
        for (size_t i = 0; i < 3; i++)
            if (levels[i] >= 0)
                assert_int_equal(send_audio(w, pe[i], &tr[i], levels[i]), 0);
        advance(w, OVL_MS(20));
    }
}

static size_t speaker_events(const world_t *w, const ev_t **last)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_evs; i++)
        if (w->evs[i].type == OVL_ROUTE_EV_ACTIVE_SPEAKER) {
            n++;
            *last = &w->evs[i];
        }
    return n;
}

static void test_active_speaker(void **state)
{
    (void)state;
    world_t w;
    peer_t *pe[3];
    track_t tr[3], v;
    join(&w, &pe[0], &pe[1], &pe[2], &tr[0], &v);
    chromium_tracks(&tr[1], &v, 3535862025u, 997445371, 1848822981);
    chromium_tracks(&tr[2], &v, 221197999, 3620418999u, 3276133999u);
    const ev_t *last = NULL;
    ovl_time_t t0 = w.now;

    talk(&w, pe, tr, (int[]){20, 90, 127}, OVL_MS(600));
    assert_int_equal(speaker_events(&w, &last), 1);
    assert_int_equal(last->participant, 1);
    assert_false(last->has_previous);
    ovl_time_t first_at = last->at;
    assert_true(first_at - t0 <= OVL_MS(400));

    /* B takes over, but not within a second of A getting the floor */
    talk(&w, pe, tr, (int[]){80, 25, 127}, OVL_MS(1500));
    assert_int_equal(speaker_events(&w, &last), 2);
    assert_int_equal(last->participant, 2);
    assert_true(last->has_previous && last->previous == 1);
    assert_true(last->at - first_at >= OVL_SEC(1));

    /* A only 3 dB louder than B: no switch (hysteresis) */
    talk(&w, pe, tr, (int[]){22, 25, 127}, OVL_SEC(3));
    assert_int_equal(speaker_events(&w, &last), 2);

    /* B stops sending (muted): A takes the floor */
    talk(&w, pe, tr, (int[]){40, -1, 127}, OVL_SEC(2));
    assert_int_equal(speaker_events(&w, &last), 3);
    assert_int_equal(last->participant, 1);

    /* the speaker leaves: the next one is chosen without waiting */
    peer_leave(&w, pe[0]);
    pe[0] = NULL;
    int levels[3] = {-1, 127, 30};
    for (ovl_time_t t = 0; t < OVL_MS(600); t += OVL_MS(20)) {
        for (size_t i = 1; i < 3; i++)
            assert_int_equal(send_audio(&w, pe[i], &tr[i], levels[i]), 0);
        advance(&w, OVL_MS(20));
    }
    assert_int_equal(speaker_events(&w, &last), 4);
    assert_int_equal(last->participant, 3);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyframe_requests_rate_limited),
        cmocka_unit_test(test_nack_rtx_and_upstream),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_twcc_feedback),
        cmocka_unit_test(test_active_speaker),
    };
    return cmocka_run_group_tests_name("route RTCP (RFC 3550, RFC 4585, RFC 5104, RFC 4588)", tests, NULL, NULL);
}
