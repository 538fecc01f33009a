/*
 * The synthetic peer's media pipeline end to end, in memory and on a simulated clock: libvpx / libopus encode
 * -> media_sender (RTP) -> a lossy link -> media_receiver (NACK, RTX unwrapping, frame assembly, decoding)
 * -> RTCP feedback -> back to the sender (RTX, key frames). RFC 4585 §6.2.1 (NACK), §6.3.1 (PLI), RFC 4588 §4
 * (RTX), RFC 7741 (VP8), RFC 7587 (Opus), RFC 3550 §6.4.1 (report blocks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codecs/audio.h"
#include "codecs/media_receiver.h"
#include "codecs/media_sender.h"
#include "codecs/video.h"
#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"

#define W     320
#define H     180
#define FPS   30
#define T0    OVL_SEC(1000)
#define FRAME (OVL_SEC(1) / FPS)
#define MAX_Q 512
#define LOCAL 0xAAAA0001u /* the receiver's own SSRC, in its feedback */
#define SSRC  0x5EED0001u
#define RTX   0x5EED0002u
#ifndef SEED
#define SEED 3
#endif

/* A link that queues packets and drops some, deterministically: every `every`-th, or by a seeded PRNG. */
typedef struct link {
    uint8_t (*pkt)[OVL_MEDIA_MAX_RTP];
    size_t len[MAX_Q];
    size_t n;
    unsigned every;   /* drop every n-th packet (0: none) */
    unsigned percent; /* or drop this share, by the PRNG */
    uint64_t prng;
    unsigned count, dropped, dropped_rtx;
    bool drop_rtx;  /* retransmissions go through the same loss */
    int black_hole; /* >= 0: this media sequence number and every retransmission of it are always lost */
} link_t;

static bool lose(link_t *l, const uint8_t *pkt, size_t len, bool rtx)
{
    ovl_rtp_t rtp;
    l->count++;
    if (l->black_hole >= 0 && ovl_rtp_parse(&rtp, pkt, len) == 0 &&
        (rtx ? rtp.payload_len >= 2 && ovl_load_u16(ovl_rtp_payload(&rtp)) == l->black_hole : rtp.seq == l->black_hole))
        return true;
    if (rtx && !l->drop_rtx)
        return false;
    if (l->every && l->count % l->every == 0)
        return true;
    if (l->percent) {
        l->prng = l->prng * 6364136223846793005ull + 1442695040888963407ull;
        return (unsigned)((l->prng >> 33) % 100) < l->percent;
    }
    return false;
}

static void emit(void *ctx, uint8_t *pkt, size_t len, size_t cap, bool rtx)
{
    link_t *l = ctx;
    (void)cap;
    if (lose(l, pkt, len, rtx)) {
        l->dropped++;
        l->dropped_rtx += rtx;
        return;
    }
    assert_true(l->n < MAX_Q);
    memcpy(l->pkt[l->n], pkt, len);
    l->len[l->n++] = len;
}

static void deliver(link_t *l, ovl_media_receiver_t *r, ovl_time_t now)
{
    for (size_t i = 0; i < l->n; i++)
        (void)ovl_media_receiver_on_rtp(r, l->pkt[i], l->len[i], now);
    l->n = 0;
}

typedef struct fb {
    unsigned nacks, plis;
} fb_t;

/* Runs the receiver's feedback at `now` and hands it to the sender, as the relay would pass it upstream. */
static void feedback(ovl_media_receiver_t *r, ovl_media_sender_t *s, ovl_time_t now, bool *want_key, fb_t *fb)
{
    uint8_t buf[1500];
    ovl_wbuf_t w;
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_wbuf_init(&w, buf, sizeof(buf));
    assert_true(ovl_media_receiver_feedback(r, now, &w) >= 0);
    ovl_rtcp_iter_init(&it, buf, w.len);
    while (w.len && ovl_rtcp_next(&it, &m) == 0) {
        if (m.kind == OVL_RTCP_NACK) {
            uint16_t lost[256];
            size_t n;
            assert_int_equal(m.u.nack.fb.sender_ssrc, LOCAL);
            assert_int_equal(m.u.nack.fb.media_ssrc, SSRC);
            assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, lost, 256, &n), 0);
            ovl_media_sender_on_nack(s, lost, n);
            fb->nacks++;
        } else if (m.kind == OVL_RTCP_PLI) {
            assert_int_equal(m.u.pli.media_ssrc, SSRC);
            *want_key = true;
            fb->plis++;
        } else {
            fail_msg("unexpected RTCP %s", ovl_rtcp_kind_name(m.kind));
        }
    }
}

typedef struct video_run {
    unsigned frames;
    bool nack, pli;
    link_t link;
    ovl_media_receiver_stats_t rs;
    ovl_media_sender_stats_t ss;
    fb_t fb;
    unsigned keyframes_sent;
} video_run_t;

/* `frames` frames of the moving pattern at 30 fps, through the link, with feedback after each frame and for
 * half a second at the end (so that the last losses can be repaired too). */
static void run_video(video_run_t *v)
{
    ovl_video_enc_cfg_t ec = {.width = W, .height = H, .fps = FPS, .bitrate_kbps = 300, .error_resilient = true};
    ovl_video_enc_t *enc;
    ovl_video_image_t img;
    ovl_media_sender_t *s;
    ovl_media_receiver_t *r;
    v->link.pkt = calloc(MAX_Q, OVL_MEDIA_MAX_RTP);
    if (!v->link.black_hole)
        v->link.black_hole = -1;
    assert_non_null(v->link.pkt);
    ovl_media_sender_cfg_t sc = {.kind = OVL_MEDIA_VIDEO,
                                 .ssrc = SSRC,
                                 .pt = 96,
                                 .clock = 90000,
                                 .rtx_ssrc = RTX,
                                 .rtx_pt = 97,
                                 .first_seq = 65500,
                                 .first_rtx_seq = 7,
                                 .max_payload = 400,
                                 .emit = emit,
                                 .ctx = &v->link};
    ovl_media_receiver_cfg_t rc = {.kind = OVL_MEDIA_VIDEO,
                                   .ssrc = SSRC,
                                   .pt = 96,
                                   .clock = 90000,
                                   .rtx_ssrc = RTX,
                                   .rtx_pt = 97,
                                   .local_ssrc = LOCAL,
                                   .nack = v->nack,
                                   .pli = v->pli,
                                   .pli_interval = OVL_MS(200)};
    assert_int_equal(ovl_video_enc_new(&ec, &enc), 0);
    assert_int_equal(ovl_video_image_init(&img, W, H), 0);
    assert_int_equal(ovl_media_sender_new(&sc, &s), 0);
    assert_int_equal(ovl_media_receiver_new(&rc, &r), 0);
    bool want_key = false;
    ovl_time_t now = T0;
    for (unsigned i = 0; i < v->frames + FPS / 2; i++, now += FRAME) {
        if (i < v->frames) {
            ovl_video_encoded_t e;
            ovl_video_pattern_draw(&img, i);
            assert_int_equal(ovl_video_enc_encode(enc, &img, want_key, &e), 0);
            want_key = false;
            assert_true(e.len > 0);
            v->keyframes_sent += e.keyframe;
            assert_int_equal(ovl_media_sender_video_frame(s, e.data, e.len, e.keyframe, i * 3000u, now), 0);
            deliver(&v->link, r, now + OVL_MS(5));
        }
        /* Feedback whenever the receiver wants it, within this frame interval. */
        for (ovl_time_t t = now + OVL_MS(5); t < now + FRAME;) {
            feedback(r, s, t, &want_key, &v->fb);
            deliver(&v->link, r, t + OVL_MS(2));
            ovl_time_t next = ovl_media_receiver_next_timeout(r);
            t = next > t ? next : t + OVL_MS(1);
        }
    }
    ovl_media_receiver_stats(r, &v->rs);
    ovl_media_sender_stats(s, &v->ss);
    ovl_media_receiver_free(r);
    ovl_media_sender_free(s);
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
    free(v->link.pkt);
}

/* No loss: every frame decodes, its pattern number reads back, one key frame, no feedback. */
static void test_video_clean(void **state)
{
    (void)state;
    video_run_t v = {.frames = 60, .nack = true, .pli = true};
    run_video(&v);
    assert_int_equal(v.rs.frames_decoded, 60);
    assert_int_equal(v.rs.frames_verified, 60);
    assert_int_equal(v.rs.last_pattern, 59);
    assert_int_equal(v.rs.keyframes, 1);
    assert_int_equal(v.rs.frames_undecodable, 0);
    assert_int_equal(v.rs.packets, v.ss.packets);
    assert_int_equal(v.rs.nack_packets, 0);
    assert_int_equal(v.rs.plis, 0);
    assert_int_equal(v.rs.lost, 0);
    assert_int_equal(v.rs.rtcp_lost, 0);
    assert_true(v.rs.first_frame_at >= T0);
    /* One frame per frame interval, none held back: the longest gap between decoded frames is one interval. */
    assert_int_equal(v.rs.max_frame_gap, FRAME);
    assert_int_equal(v.rs.last_frame_at, v.rs.first_frame_at + 59 * FRAME);
}

/* 5 % loss, retransmissions included: NACK/RTX repairs every packet, so every frame still decodes. */
static void test_video_nack_repairs_loss(void **state)
{
    (void)state;
    video_run_t v = {.frames = 90, .nack = true, .pli = true};
    v.link.percent = 5;
    v.link.prng = SEED;
    v.link.drop_rtx = true;
    run_video(&v);
    assert_true(v.link.dropped > 10);
    assert_true(v.link.dropped_rtx >= 1); /* this seed also loses a retransmission: asked for again */
    assert_true(v.rs.nack_seqs >= v.link.dropped - v.link.dropped_rtx);
    assert_true(v.rs.rtx_packets > 0);
    assert_int_equal(v.ss.rtx_packets, v.rs.rtx_packets + v.link.dropped_rtx);
    assert_int_equal(v.rs.recovered, v.link.dropped - v.link.dropped_rtx);
    assert_int_equal(v.rs.frames_decoded, 90);
    assert_int_equal(v.rs.frames_verified, 90);
    assert_int_equal(v.rs.frames_undecodable, 0);
    assert_int_equal(v.rs.lost, 0);
    assert_int_equal(v.rs.rtcp_lost, 0); /* repaired packets count as received (RFC 3550 A.3) */
    assert_int_equal(v.keyframes_sent, 1);
}

/* Without NACK a loss breaks the chain: frames are undecodable until a PLI brings a key frame. */
static void test_video_pli_without_nack(void **state)
{
    (void)state;
    video_run_t v = {.frames = 60, .nack = false, .pli = true};
    v.link.every = 40;
    run_video(&v);
    assert_true(v.link.dropped >= 1);
    assert_int_equal(v.rs.nack_packets, 0);
    assert_true(v.rs.plis >= 1);
    assert_true(v.fb.plis == v.rs.plis);
    assert_true(v.keyframes_sent >= 2);
    assert_true(v.rs.keyframes >= 2);
    assert_true(v.rs.frames_undecodable > 0);
    assert_true(v.rs.frames_decoded < 60);
    assert_true(v.rs.frames_decoded > 30);
    assert_int_equal(v.rs.frames_decoded, v.rs.frames_verified);
}

/* A packet that never comes, however often it is asked for: after the NACK list gives up, its frame is dropped
 * at once, later frames are undecodable until the key frame a PLI brings, and then decoding goes on. */
static void test_video_give_up(void **state)
{
    (void)state;
    video_run_t v = {.frames = 60, .nack = true, .pli = true};
    v.link.black_hole = 40; /* a packet of a delta frame, about a second in (the stream starts at 65500) */
    v.link.drop_rtx = true;
    run_video(&v);
    assert_int_equal(v.rs.lost, 1);
    assert_int_equal(v.rs.nack_seqs, 10); /* nack.h default: 10 requests */
    assert_int_equal(v.ss.rtx_packets, 10);
    assert_true(v.rs.plis >= 1);
    assert_int_equal(v.keyframes_sent, 1 + v.fb.plis);
    assert_true(v.rs.frames_undecodable >= 1);
    assert_int_equal(v.rs.frames_decoded + v.rs.frames_undecodable, 60);
    assert_true(v.rs.frames_decoded >= 40);
    assert_int_equal(v.rs.frames_verified, v.rs.frames_decoded);
}

/* RFC 4588 §4: the receiver turns an RTX packet back into the original (OSN, payload) and ignores RTX it
 * cannot use (wrong payload type, padding only). */
static void test_rtx_unwrap(void **state)
{
    (void)state;
    link_t l = {.black_hole = -1};
    l.pkt = calloc(MAX_Q, OVL_MEDIA_MAX_RTP);
    ovl_media_sender_t *s;
    ovl_media_receiver_t *r;
    ovl_media_sender_cfg_t sc = {.kind = OVL_MEDIA_VIDEO,
                                 .ssrc = SSRC,
                                 .pt = 96,
                                 .clock = 90000,
                                 .rtx_ssrc = RTX,
                                 .rtx_pt = 97,
                                 .max_payload = 100,
                                 .emit = emit,
                                 .ctx = &l};
    ovl_media_receiver_cfg_t rc = {.kind = OVL_MEDIA_VIDEO,
                                   .ssrc = SSRC,
                                   .pt = 96,
                                   .clock = 90000,
                                   .rtx_ssrc = RTX,
                                   .rtx_pt = 97,
                                   .local_ssrc = LOCAL,
                                   .nack = true};
    ovl_video_enc_cfg_t ec = {.width = W, .height = H, .fps = FPS, .bitrate_kbps = 300};
    ovl_video_enc_t *enc;
    ovl_video_image_t img;
    ovl_video_encoded_t e;
    assert_int_equal(ovl_media_sender_new(&sc, &s), 0);
    assert_int_equal(ovl_media_receiver_new(&rc, &r), 0);
    assert_int_equal(ovl_video_enc_new(&ec, &enc), 0);
    assert_int_equal(ovl_video_image_init(&img, W, H), 0);
    ovl_video_pattern_draw(&img, 7);
    assert_int_equal(ovl_video_enc_encode(enc, &img, true, &e), 0);
    assert_int_equal(ovl_media_sender_video_frame(s, e.data, e.len, true, 0, T0), 0);
    assert_true(l.n >= 3);
    /* Deliver all but the second packet: the key frame cannot complete. */
    ovl_rtp_t missing;
    assert_int_equal(ovl_rtp_parse(&missing, l.pkt[1], l.len[1]), 0);
    for (size_t i = 0; i < l.n; i++)
        if (i != 1)
            assert_int_equal(ovl_media_receiver_on_rtp(r, l.pkt[i], l.len[i], T0), 0);
    l.n = 0;
    ovl_media_receiver_stats_t st;
    ovl_media_receiver_stats(r, &st);
    assert_int_equal(st.frames_decoded, 0);
    /* The sender's RTX for it, first mangled. */
    ovl_media_sender_on_nack(s, &missing.seq, 1);
    assert_int_equal(l.n, 1);
    uint8_t bad[OVL_MEDIA_MAX_RTP];
    memcpy(bad, l.pkt[0], l.len[0]);
    bad[1] = (uint8_t)((bad[1] & 0x80) | 98); /* another payload type */
    assert_int_equal(ovl_media_receiver_on_rtp(r, bad, l.len[0], T0), OVL_ERR_NOTFOUND);
    uint8_t pad[12] = {
        0x80, 97, 0, 9, 0, 0, 0, 0, (uint8_t)(RTX >> 24), (uint8_t)(RTX >> 16), (uint8_t)(RTX >> 8), (uint8_t)RTX};
    assert_int_equal(ovl_media_receiver_on_rtp(r, pad, sizeof(pad), T0), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_media_receiver_on_rtp(r, l.pkt[0], l.len[0], T0 + OVL_MS(3)), 0);
    ovl_media_receiver_stats(r, &st);
    assert_int_equal(st.rtx_packets, 1);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.frames_decoded, 1);
    assert_int_equal(st.last_pattern, 7);
    assert_int_equal(st.ignored, 2);
    /* The same RTX again is a duplicate. */
    assert_int_equal(ovl_media_receiver_on_rtp(r, l.pkt[0], l.len[0], T0 + OVL_MS(4)), OVL_ERR_REPLAY);
    assert_false(ovl_media_receiver_owns(r, 12345));
    assert_true(ovl_media_receiver_owns(r, RTX));
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
    ovl_media_receiver_free(r);
    ovl_media_sender_free(s);
    free(l.pkt);
}

/* RFC 4585 §6.3.1 PLI: never before pli_interval after the first packet, then at most once per interval. */
static void test_pli_rate(void **state)
{
    (void)state;
    ovl_media_receiver_t *r;
    ovl_media_receiver_cfg_t rc = {.kind = OVL_MEDIA_VIDEO,
                                   .ssrc = SSRC,
                                   .pt = 96,
                                   .clock = 90000,
                                   .local_ssrc = LOCAL,
                                   .pli = true,
                                   .pli_interval = OVL_MS(300)};
    uint8_t pkt[64] = {
        0x80, 96, 0, 1, 0, 0, 0, 0, (uint8_t)(SSRC >> 24), (uint8_t)(SSRC >> 16), (uint8_t)(SSRC >> 8), (uint8_t)SSRC};
    uint8_t buf[256];
    ovl_wbuf_t w;
    pkt[12] = 0x10; /* VP8 descriptor: S=1, PID 0, then a delta frame tag: no key frame here */
    pkt[13] = 0x01;
    assert_int_equal(ovl_media_receiver_new(&rc, &r), 0);
    assert_int_equal(ovl_media_receiver_next_timeout(r), OVL_TIME_NEVER); /* nothing received: nothing asked */
    assert_int_equal(ovl_media_receiver_on_rtp(r, pkt, 20, T0), 0);
    assert_int_equal(ovl_media_receiver_next_timeout(r), T0 + OVL_MS(300));
    ovl_wbuf_init(&w, buf, sizeof(buf));
    assert_int_equal(ovl_media_receiver_feedback(r, T0 + OVL_MS(299), &w), 0);
    assert_int_equal(ovl_media_receiver_feedback(r, T0 + OVL_MS(300), &w), 1);
    assert_int_equal(w.len, 12); /* RFC 4585 §6.3.1: a PLI has no FCI */
    assert_int_equal(ovl_media_receiver_feedback(r, T0 + OVL_MS(400), &w), 0);
    assert_int_equal(ovl_media_receiver_next_timeout(r), T0 + OVL_MS(600));
    assert_int_equal(ovl_media_receiver_feedback(r, T0 + OVL_MS(600), &w), 1);
    ovl_media_receiver_free(r);
}

/* Opus through a lossy link: every packet decodes, each loss is made up (FEC / PLC), the tone's level reads
 * back (RFC 6464: -dBov; a sine of amplitude 0.5 has RMS 0.354, -9 dBov). */
static void test_audio(void **state)
{
    (void)state;
    link_t l = {.every = 10, .black_hole = -1};
    l.pkt = calloc(MAX_Q, OVL_MEDIA_MAX_RTP);
    ovl_audio_enc_cfg_t ac = {.channels = 1, .bitrate = 32000, .fec = true, .packet_loss_perc = 10};
    ovl_audio_enc_t *enc;
    ovl_audio_tone_t tone;
    ovl_media_sender_t *s;
    ovl_media_receiver_t *r;
    ovl_media_sender_cfg_t sc = {
        .kind = OVL_MEDIA_AUDIO, .ssrc = SSRC, .pt = 111, .clock = 48000, .emit = emit, .ctx = &l};
    ovl_media_receiver_cfg_t rc = {.kind = OVL_MEDIA_AUDIO, .ssrc = SSRC, .pt = 111, .clock = 48000};
    int16_t pcm[OVL_AUDIO_FRAME];
    uint8_t pkt[OVL_AUDIO_MAX_PACKET];
    assert_int_equal(ovl_audio_enc_new(&ac, &enc), 0);
    assert_int_equal(ovl_media_sender_new(&sc, &s), 0);
    assert_int_equal(ovl_media_receiver_new(&rc, &r), 0);
    ovl_audio_tone_init(&tone, 440, 0.5);
    ovl_time_t now = T0;
    for (unsigned i = 0; i < 105; i++, now += OVL_MS(20)) { /* drops packets 10, 20 .. 100 */
        size_t len;
        ovl_audio_tone_fill(&tone, pcm, OVL_AUDIO_FRAME, 1);
        assert_int_equal(ovl_audio_enc_encode(enc, pcm, pkt, sizeof(pkt), &len), 0);
        assert_int_equal(
            ovl_media_sender_audio_frame(s, pkt, len, i * 960u, ovl_audio_level(pcm, OVL_AUDIO_FRAME), true, now), 0);
        deliver(&l, r, now + OVL_MS(3));
    }
    ovl_media_receiver_stats_t st;
    ovl_media_receiver_stats(r, &st);
    assert_int_equal(l.dropped, 10);
    assert_int_equal(st.frames_decoded, 95);
    assert_int_equal(st.frames_concealed, 10);
    assert_int_equal(st.lost, 10);
    assert_int_equal(st.rtcp_lost, 10);
    assert_true(st.audio_level >= 7 && st.audio_level <= 11);
    /* A late copy of an old packet is dropped, not decoded out of order. */
    ovl_media_sender_t *s2;
    sc.first_seq = 5;
    assert_int_equal(ovl_media_sender_new(&sc, &s2), 0);
    assert_int_equal(ovl_media_sender_audio_frame(s2, pkt, 3, 0, 0, false, now), 0);
    assert_int_equal(ovl_media_receiver_on_rtp(r, l.pkt[0], l.len[0], now), OVL_ERR_REPLAY);
    ovl_media_sender_free(s2);
    ovl_media_receiver_free(r);
    ovl_media_sender_free(s);
    ovl_audio_enc_free(enc);
    free(l.pkt);
}

/* RFC 3550 §6.4.1: report blocks with cumulative loss, the extended highest sequence number, LSR and DLSR. */
static void test_report_block(void **state)
{
    (void)state;
    ovl_media_receiver_t *r;
    ovl_media_receiver_cfg_t rc = {.kind = OVL_MEDIA_AUDIO, .ssrc = SSRC, .pt = 111, .clock = 48000};
    ovl_rtcp_rb_t rb;
    uint8_t pkt[13] = {
        0x80,          111, 0, 0, 0, 0, 0, 0, (uint8_t)(SSRC >> 24), (uint8_t)(SSRC >> 16), (uint8_t)(SSRC >> 8),
        (uint8_t)SSRC, 0xF8};
    assert_int_equal(ovl_media_receiver_new(&rc, &r), 0);
    assert_int_equal(ovl_media_receiver_report(r, T0, &rb), OVL_ERR_AGAIN);
    for (uint16_t seq = 100; seq < 110; seq++) {
        if (seq == 104)
            continue;
        ovl_store_u16(pkt + 2, seq);
        ovl_store_u32(pkt + 4, seq * 960u);
        (void)ovl_media_receiver_on_rtp(r, pkt, sizeof(pkt), T0 + seq * OVL_MS(20));
    }
    ovl_rtcp_sr_t sr = {.ssrc = SSRC, .info = {.ntp = 0x0001234567890000ull}};
    ovl_media_receiver_on_sr(r, &sr, T0 + OVL_SEC(3));
    assert_int_equal(ovl_media_receiver_report(r, T0 + OVL_SEC(3) + OVL_MS(500), &rb), 0);
    assert_int_equal(rb.ssrc, SSRC);
    assert_int_equal(rb.highest_seq, 109);
    assert_int_equal(rb.cumulative_lost, 1);
    assert_int_equal(rb.fraction_lost, 25); /* 1 of 10: 256/10 */
    assert_int_equal(rb.lsr, 0x23456789u);
    assert_int_equal(rb.dlsr, 32768); /* 0.5 s in 1/65536 s */
    assert_int_equal(ovl_media_receiver_ssrc(r), SSRC);
    ovl_media_receiver_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_video_clean),
        cmocka_unit_test(test_video_nack_repairs_loss),
        cmocka_unit_test(test_video_pli_without_nack),
        cmocka_unit_test(test_video_give_up),
        cmocka_unit_test(test_rtx_unwrap),
        cmocka_unit_test(test_pli_rate),
        cmocka_unit_test(test_audio),
        cmocka_unit_test(test_report_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
