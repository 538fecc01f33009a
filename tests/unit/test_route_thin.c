/*
 * Thinning through a room (relay/route + thin.h): a subscriber's `receive` wish stops its camera
 * video while audio and screen shares keep flowing, resuming starts at a key frame asked for at
 * once, and RTCP receiver-report loss (RFC 3550 §6.4.1 fraction lost) thins video to key frames
 * only. Sequence numbers stay continuous across everything dropped (RFC 3550 §5.1: a gap would be
 * loss, and RFC 4585 §6.2.1 NACKs for it). Real VP8 from libvpx through the RFC 7741 packetizer.
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

/* The RTP packets `sub` received with this SSRC, parsed, in order (at most max). */
static size_t stream_of(const peer_t *sub, uint32_t ssrc, ovl_rtp_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < sub->n_sent && n < max; i++)
        if (!sub->sent[i].rtcp && ovl_rtp_parse(&out[n], sub->sent[i].data, sub->sent[i].len) == 0 &&
            out[n].ssrc == ssrc)
            n++;
    return n;
}

/* Sequence numbers +1 each and timestamps never going back: nothing looks like loss. */
static void check_continuous(const ovl_rtp_t *r, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        assert_int_equal((uint16_t)(r[k].seq - r[k - 1].seq), 1);
        assert_true(ovl_rtp_ts_diff(r[k].timestamp, r[k - 1].timestamp) >= 0);
    }
}

/* A receiver report from `pe` about `ssrc` with this fraction lost (1/256). */
static int feed_rr(world_t *w, peer_t *pe, uint32_t ssrc, uint8_t fraction_lost)
{
    uint8_t buf[128];
    ovl_wbuf_t b;
    ovl_rtcp_rb_t rb = {.ssrc = ssrc, .fraction_lost = fraction_lost, .highest_seq = 1000};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_rr(&b, 7, &rb, 1), 0);
    return ovl_route_on_rtcp(w->room, pe->p, buf, b.len, w->now);
}

typedef struct pair {
    world_t w;
    peer_t *a, *b;
    track_t audio, camera, screen;
    vp8_clip_t clip;
    size_t next; /* next clip packet */
    unsigned frame_base;
} pair_t;

static void pair_init(pair_t *t, unsigned frames, const bool *kf)
{
    vp8_clip_make(&t->clip, frames, kf);
    world_init(&t->w, 1);
    t->a = peer_add(&t->w, 1);
    t->b = peer_add(&t->w, 2);
    peer_offer(&t->w, t->a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&t->w, t->b, "chromium-offer-builder-check.sdp", NULL);
    settle(&t->w);
    connect_all(&t->w);
    chromium_tracks(&t->audio, &t->camera, 221197464, 3620418310u, 3276133668u);
    t->screen = t->camera;
    t->screen.ssrc = 3846447863u;
    t->screen.rtx_ssrc = 51805253;
    t->screen.mid = "2";
    t->screen.seq = 5000;
    t->next = 0;
}

static void pair_free(pair_t *t)
{
    vp8_clip_free(&t->clip);
    world_free(&t->w);
}

/* The clip's frames up to (not including) `until` on the camera, with 33 ms and an audio packet per frame. */
static void send_frames(pair_t *t, unsigned until)
{
    while (t->next < t->clip.n && t->clip.pkts[t->next].frame < until) {
        bool first = t->next == 0 || t->clip.pkts[t->next - 1].frame != t->clip.pkts[t->next].frame;
        if (first) {
            t->w.now += OVL_MS(33);
            assert_int_equal(send_audio(&t->w, t->a, &t->audio, 40), 0);
            advance(&t->w, 0);
        }
        assert_int_equal(send_vp8(&t->w, t->a, &t->camera, &t->clip, t->next), 0);
        t->next++;
    }
}

/* receive video:false stops camera video to B (audio goes on, no key frame requests for it);
 * video:true resumes at a key frame asked for at once, numbered without a gap. */
static void test_receive_video_off_on(void **state)
{
    (void)state;
    pair_t t;
    bool kf[60] = {[0] = true, [40] = true};
    pair_init(&t, 60, kf);
    uint32_t cam = announced(t.b, 1, "camera", 0, NULL), aud = announced(t.b, 1, "audio", 0, NULL);
    send_frames(&t, 10);
    size_t cam_before = count_rtp(t.b, cam), aud_before = count_rtp(t.b, aud);
    assert_true(cam_before > 10);
    assert_int_equal(aud_before, 10);
    size_t pli = count_rtcp(t.a, OVL_RTCP_PLI);

    ovl_route_participant_receive_video(t.b->p, false, t.w.now);
    send_frames(&t, 20);
    assert_int_equal(count_rtp(t.b, cam), cam_before); /* no camera video at all */
    assert_int_equal(count_rtp(t.b, aud), 20);         /* audio untouched */
    assert_int_equal(feed_pli(&t.w, t.b, cam), 0);     /* a paused receiver's PLI is absorbed */
    advance(&t.w, OVL_SEC(2));
    assert_int_equal(count_rtcp(t.a, OVL_RTCP_PLI), pli);
    ovl_route_stats_t st;
    ovl_route_room_stats(t.w.room, &st);
    assert_int_equal(st.thin_frames[OVL_THIN_R_RECEIVER], 10);

    ovl_route_participant_receive_video(t.b->p, true, t.w.now);
    send_frames(&t, 21); /* a delta frame: held back, and a key frame asked for now */
    assert_int_equal(count_rtp(t.b, cam), cam_before);
    assert_int_equal(count_rtcp(t.a, OVL_RTCP_PLI), pli + 1);
    send_frames(&t, 40);
    assert_int_equal(count_rtp(t.b, cam), cam_before);
    size_t kf_at = t.next;
    send_frames(&t, 60);
    assert_int_equal(count_rtp(t.b, cam), cam_before + (t.clip.n - kf_at));
    assert_int_equal(count_rtp(t.b, aud), 60);

    ovl_rtp_t r[400];
    size_t n = stream_of(t.b, cam, r, 400);
    check_continuous(r, n);
    assert_memory_equal(ovl_rtp_payload(&r[cam_before]), t.clip.pkts[kf_at].data, t.clip.pkts[kf_at].len);
    pair_free(&t);
}

/* With the camera off, a screen share from the same publisher still reaches B. */
static void test_receive_video_keeps_screen(void **state)
{
    (void)state;
    pair_t t;
    bool kf[10] = {[0] = true};
    pair_init(&t, 10, kf);
    ovl_route_participant_receive_video(t.b->p, false, t.w.now);
    /* The screen section goes live on its first packet: the relay offers it to B. */
    assert_int_equal(send_vp8(&t.w, t.a, &t.screen, &t.clip, 0), 0);
    advance(&t.w, OVL_MS(10));
    settle(&t.w);
    uint32_t scr = announced(t.b, 1, "screen", 0, NULL), cam = announced(t.b, 1, "camera", 0, NULL);
    assert_int_not_equal(scr, 0);
    for (size_t i = 0; i < t.clip.n; i++) {
        t.w.now += OVL_MS(5);
        assert_int_equal(send_vp8(&t.w, t.a, &t.screen, &t.clip, i), 0);
        assert_int_equal(send_vp8(&t.w, t.a, &t.camera, &t.clip, i), 0);
    }
    assert_true(count_rtp(t.b, scr) > 0);
    assert_int_equal(count_rtp(t.b, cam), 0);
    pair_free(&t);
}

/* 30 % loss reported by B on its camera stream: key frames only, no gap; audio untouched; the
 * level comes back down after OVL_THIN_CALM per step without trouble. */
static void test_loss_thins_to_keyframes(void **state)
{
    (void)state;
    pair_t t;
    bool kf[90] = {[0] = true, [30] = true, [60] = true};
    pair_init(&t, 90, kf);
    uint32_t cam = announced(t.b, 1, "camera", 0, NULL), aud = announced(t.b, 1, "audio", 0, NULL);
    send_frames(&t, 10);
    size_t cam_before = count_rtp(t.b, cam);
    assert_int_equal(feed_rr(&t.w, t.b, cam, 77), 0);
    assert_int_equal(ovl_route_participant_thin_level(t.b->p, t.w.now), OVL_THIN_SLIDES);
    send_frames(&t, 30);
    assert_int_equal(count_rtp(t.b, cam), cam_before); /* deltas dropped */
    size_t kf_at = t.next;
    send_frames(&t, 31);
    size_t kf_pkts = t.next - kf_at;
    assert_int_equal(count_rtp(t.b, cam), cam_before + kf_pkts); /* the key frame passes */
    send_frames(&t, 60);
    assert_int_equal(count_rtp(t.b, cam), cam_before + kf_pkts);
    assert_int_equal(count_rtp(t.b, aud), 60);
    ovl_rtp_t r[400];
    check_continuous(r, stream_of(t.b, cam, r, 400));
    ovl_route_stats_t st;
    ovl_route_room_stats(t.w.room, &st);
    assert_int_equal(st.thin_raises, 1);
    assert_true(st.thin_frames[OVL_THIN_R_SLIDES] + st.thin_frames[OVL_THIN_R_KEYFRAME] >= 45);
    /* About 2 s went by: still SLIDES; after OVL_THIN_CALM BASE, which passes a stream without layers. */
    advance(&t.w, OVL_THIN_CALM);
    assert_int_equal(ovl_route_participant_thin_level(t.b->p, t.w.now), OVL_THIN_BASE);
    size_t at = count_rtp(t.b, cam);
    send_frames(&t, 90);
    assert_true(count_rtp(t.b, cam) > at + 30); /* everything from the key frame at 60 on */
    check_continuous(r, stream_of(t.b, cam, r, 400));
    pair_free(&t);
}

/* ICE-TCP backlog: a deep send queue thins video to key frames; UDP brings it back. */
static void test_tcp_backlog(void **state)
{
    (void)state;
    pair_t t;
    bool kf[10] = {[0] = true};
    pair_init(&t, 10, kf);
    ovl_route_participant_set_path(t.b->p, OVL_THIN_PATH_TCP);
    assert_int_equal(ovl_route_participant_thin_level(t.b->p, t.w.now), OVL_THIN_BASE);
    ovl_route_participant_tcp_backlog(t.b->p, 200 * 1024, 0, t.w.now);
    assert_int_equal(ovl_route_participant_thin_level(t.b->p, t.w.now), OVL_THIN_SLIDES);
    ovl_route_participant_set_path(t.b->p, OVL_THIN_PATH_UDP);
    assert_int_equal(ovl_route_participant_thin_level(t.b->p, t.w.now + OVL_SEC(30)), OVL_THIN_ALL);
    pair_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receive_video_off_on),
        cmocka_unit_test(test_receive_video_keeps_screen),
        cmocka_unit_test(test_loss_thins_to_keyframes),
        cmocka_unit_test(test_tcp_backlog),
    };
    return cmocka_run_group_tests_name("route thinning", tests, NULL, NULL);
}
