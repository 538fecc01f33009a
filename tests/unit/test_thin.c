/*
 * Video thinning (relay/route/thin.h): the level controller's hysteresis, the VP8 frame gate
 * (RFC 7741 §4.2 descriptor fields TID/Y/N, key frames per RFC 6386 §9.1) and the sequence map
 * that keeps dropped frames from looking like loss (RFC 3550 §6.4.1 loss is counted from gaps;
 * RFC 4585 §6.2.1 NACKs name sequence numbers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay/route/thin.h"

#define PKTS 3 /* packets per frame */

/* A publisher's stream as the gate sees it, and what one consumer got out of it. */
typedef struct sim {
    ovl_thin_gate_t g;
    ovl_thin_seq_t m;
    int64_t ext; /* next publisher number */
    uint32_t ts; /* next frame's timestamp */
    ovl_time_t now;
    bool started;
    uint16_t last_out;
    size_t frames_out, keyframes_out, gaps, kf_requests;
    int64_t sent_ext[512];
    uint16_t sent_out[512];
    size_t n_sent;
} sim_t;

static void sim_init(sim_t *s)
{
    memset(s, 0, sizeof(*s));
    ovl_thin_gate_init(&s->g);
    s->ext = 1000;
    s->ts = 90000;
    s->now = OVL_SEC(10);
}

/* One packet through the gate; records the output number. Returns whether it went out. */
static bool sim_packet(sim_t *s, ovl_thin_level_t level, const ovl_thin_pkt_t *p)
{
    ovl_thin_verdict_t v;
    ovl_thin_gate_packet(&s->g, &s->m, level, false, p, s->now, &v);
    if (v.want_keyframe)
        s->kf_requests++;
    if (!v.forward)
        return false;
    uint16_t out;
    if (!s->started) { /* the route re-bases at the first packet a consumer forwards */
        ovl_thin_seq_reset(&s->m, p->ext_seq, 4242);
        ovl_thin_seq_sent(&s->m, p->ext_seq);
    }
    assert_true(ovl_thin_seq_out(&s->m, p->ext_seq, &out));
    if (s->started && out != (uint16_t)(s->last_out + 1) && (int16_t)(out - s->last_out) > 0)
        s->gaps++;
    if (!s->started || (int16_t)(out - s->last_out) > 0)
        s->last_out = out;
    s->started = true;
    s->sent_ext[s->n_sent] = p->ext_seq;
    s->sent_out[s->n_sent++] = out;
    return true;
}

/* One frame of PKTS packets (33 ms at 90 kHz); returns whether its first packet went out. */
static bool sim_frame(sim_t *s, ovl_thin_level_t level, bool key, bool has_tid, uint8_t tid, bool sync)
{
    bool first = false;
    for (int i = 0; i < PKTS; i++) {
        ovl_thin_pkt_t p = {.ext_seq = s->ext++, .ts = s->ts, .frame_start = i == 0, .keyframe = key && i == 0};
        p.has_tid = has_tid, p.tid = tid, p.layer_sync = sync;
        bool out = sim_packet(s, level, &p);
        if (i == 0)
            first = out;
        else
            assert_int_equal(out, first); /* a frame goes out whole or not at all */
    }
    if (first) {
        s->frames_out++;
        s->keyframes_out += key;
    }
    s->ts += 3000;
    s->now += OVL_MS(33);
    return first;
}

/* Level ALL: everything goes out, numbered without a gap. */
static void test_gate_all_passes_everything(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    assert_true(sim_frame(&s, OVL_THIN_ALL, true, false, 0, false));
    for (int i = 0; i < 30; i++)
        assert_true(sim_frame(&s, OVL_THIN_ALL, false, false, 0, false));
    assert_int_equal(s.n_sent, 31 * PKTS);
    assert_int_equal(s.gaps, 0);
    assert_int_equal(s.kf_requests, 0);
}

/* SLIDES: only key frames; the deltas between them leave no sequence gap; key frames asked for
 * once at entry, then not again before OVL_THIN_SLIDE_EVERY. */
static void test_gate_slides_keyframes_only(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, false, 0, false);
    sim_frame(&s, OVL_THIN_ALL, false, false, 0, false);
    for (int gop = 0; gop < 3; gop++) {
        assert_true(sim_frame(&s, OVL_THIN_SLIDES, true, false, 0, false));
        for (int i = 0; i < 20; i++) /* 660 ms of deltas: dropped */
            assert_false(sim_frame(&s, OVL_THIN_SLIDES, false, false, 0, false));
    }
    assert_int_equal(s.keyframes_out, 4);
    assert_int_equal(s.frames_out, 5);
    assert_int_equal(s.gaps, 0);
    assert_int_equal(s.g.dropped[OVL_THIN_R_SLIDES], 3);    /* the first delta after each key frame ... */
    assert_int_equal(s.g.dropped[OVL_THIN_R_KEYFRAME], 57); /* ... then every delta until the next one */
    assert_int_equal(s.kf_requests, 0);                     /* each key frame came within SLIDE_EVERY of the last */
    /* 3 s without a key frame: one request, then none for another 3 s. */
    for (int i = 0; i < 100; i++)
        sim_frame(&s, OVL_THIN_SLIDES, false, false, 0, false);
    assert_int_equal(s.kf_requests, 1);
}

/* BASE with temporal layers (L1T2): TID 1 frames dropped, TID 0 numbered without a gap; back at
 * ALL, TID 1 frames wait for a layer sync (Y) frame. */
static void test_gate_base_drops_upper_layer(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, true, 0, false);
    for (int i = 0; i < 10; i++) {
        assert_true(sim_frame(&s, OVL_THIN_BASE, false, true, 0, false));
        assert_false(sim_frame(&s, OVL_THIN_BASE, false, true, 1, false));
    }
    assert_int_equal(s.gaps, 0);
    assert_int_equal(s.g.dropped[OVL_THIN_R_LAYER], 10);
    assert_int_equal(s.kf_requests, 0); /* the base layer never broke */
    assert_true(sim_frame(&s, OVL_THIN_ALL, false, true, 0, false));
    assert_false(sim_frame(&s, OVL_THIN_ALL, false, true, 1, false)); /* may reference a dropped TID 1 frame */
    assert_true(sim_frame(&s, OVL_THIN_ALL, false, true, 0, false));
    assert_true(sim_frame(&s, OVL_THIN_ALL, false, true, 1, true)); /* layer sync: references TID 0 only */
    assert_true(sim_frame(&s, OVL_THIN_ALL, false, true, 1, false));
    assert_int_equal(s.gaps, 0);
}

/* BASE without temporal layers: nothing can be dropped safely but non-reference frames. */
static void test_gate_base_without_layers(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, false, 0, false);
    for (int i = 0; i < 10; i++)
        assert_true(sim_frame(&s, OVL_THIN_BASE, false, false, 0, false));
    ovl_thin_pkt_t n = {.ext_seq = s.ext++, .ts = s.ts, .frame_start = true, .non_reference = true};
    assert_false(sim_packet(&s, OVL_THIN_BASE, &n));
    s.ts += 3000;
    assert_true(sim_frame(&s, OVL_THIN_BASE, false, false, 0, false)); /* no key frame needed after an N frame */
    assert_int_equal(s.gaps, 0);
}

/* PAUSED, then resumed: nothing while paused; resuming asks for a key frame at once, drops deltas
 * until it comes, and the key frame continues the numbering. */
static void test_gate_pause_resume_keyframe(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, false, 0, false);
    sim_frame(&s, OVL_THIN_ALL, false, false, 0, false);
    size_t before = s.n_sent;
    for (int i = 0; i < 60; i++)
        assert_false(sim_frame(&s, OVL_THIN_PAUSED, i % 30 == 0, false, 0, false)); /* key frames too */
    assert_int_equal(s.n_sent, before);
    assert_int_equal(s.kf_requests, 0);
    assert_int_equal(s.g.dropped[OVL_THIN_R_PAUSED], 60);
    assert_false(sim_frame(&s, OVL_THIN_ALL, false, false, 0, false));
    assert_int_equal(s.kf_requests, 1);
    assert_false(sim_frame(&s, OVL_THIN_ALL, false, false, 0, false));
    assert_true(sim_frame(&s, OVL_THIN_ALL, true, false, 0, false)); /* the first frame out is a key frame */
    assert_int_equal(s.sent_ext[before], s.ext - PKTS);
    assert_true(sim_frame(&s, OVL_THIN_ALL, false, false, 0, false));
    assert_int_equal(s.gaps, 0);
    assert_int_equal(s.kf_requests, 1);
}

/* The receiver asked (by_receiver): counted under its own reason. */
static void test_gate_receiver_reason(void **state)
{
    (void)state;
    ovl_thin_gate_t g;
    ovl_thin_seq_t m;
    ovl_thin_verdict_t v;
    ovl_thin_gate_init(&g);
    ovl_thin_seq_reset(&m, 1, 1);
    ovl_thin_pkt_t p = {.ext_seq = 1, .ts = 10, .frame_start = true, .keyframe = true};
    ovl_thin_gate_packet(&g, &m, OVL_THIN_PAUSED, true, &p, 0, &v);
    assert_false(v.forward);
    assert_true(v.frame_dropped);
    assert_int_equal(v.why, OVL_THIN_R_RECEIVER);
    assert_int_equal(g.dropped[OVL_THIN_R_RECEIVER], 1);
}

/* NACKs after dropped frames map back to the packets that were sent, through older segments;
 * a number in a dropped stretch maps to nothing; late packets go where their frame went. */
static void test_seq_nack_and_late_packets(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, false, 0, false);     /* ext 1000..1002 */
    sim_frame(&s, OVL_THIN_SLIDES, false, false, 0, false); /* 1003..1005 dropped */
    sim_frame(&s, OVL_THIN_SLIDES, true, false, 0, false);  /* 1006..1008 */
    sim_frame(&s, OVL_THIN_SLIDES, false, false, 0, false); /* 1009..1011 dropped */
    sim_frame(&s, OVL_THIN_SLIDES, true, false, 0, false);  /* 1012..1014 */
    assert_int_equal(s.n_sent, 9);
    assert_int_equal(s.gaps, 0);
    for (size_t i = 0; i < s.n_sent; i++) {
        int64_t ext;
        assert_true(ovl_thin_seq_in(&s.m, s.sent_out[i], s.ext - 1, &ext));
        assert_int_equal(ext, s.sent_ext[i]);
    }
    int64_t ext;
    assert_false(ovl_thin_seq_in(&s.m, (uint16_t)(s.last_out + 1), s.ext - 1, &ext)); /* not sent yet */
    uint16_t out;
    assert_false(ovl_thin_seq_out(&s.m, 1004, &out)); /* a dropped packet has no number */
    assert_true(ovl_thin_seq_out(&s.m, 1001, &out));  /* a sent one keeps its own */
    assert_int_equal(out, s.sent_out[1]);
    /* A late copy (publisher RTX) of a packet of the first, forwarded frame goes out again under
     * its number; one of a dropped frame does not. */
    ovl_thin_verdict_t v;
    ovl_thin_pkt_t late = {.ext_seq = 1001, .ts = 90000};
    ovl_thin_gate_packet(&s.g, &s.m, OVL_THIN_SLIDES, false, &late, s.now, &v);
    assert_true(v.forward);
    late = (ovl_thin_pkt_t){.ext_seq = 1010, .ts = 90000 + 3 * 3000};
    ovl_thin_gate_packet(&s.g, &s.m, OVL_THIN_SLIDES, false, &late, s.now, &v);
    assert_false(v.forward);
    late = (ovl_thin_pkt_t){.ext_seq = 1001, .ts = 90000}; /* paused: not even a late copy */
    ovl_thin_gate_packet(&s.g, &s.m, OVL_THIN_PAUSED, true, &late, s.now, &v);
    assert_false(v.forward);
}

/* The first packet of the next forwarded frame was lost upstream: the numbering after the drop
 * keeps a gap for it, so the receiver can still NACK it. */
static void test_seq_lost_frame_start_keeps_gap(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, true, 0, false);
    sim_frame(&s, OVL_THIN_BASE, false, true, 1, false); /* dropped: ext 1003..1005 */
    s.ext++;                                             /* 1006, the TID 0 frame's first packet: lost */
    ovl_thin_pkt_t p = {.ext_seq = s.ext++, .ts = s.ts, .has_tid = true};
    assert_true(sim_packet(&s, OVL_THIN_BASE, &p));
    assert_int_equal(s.gaps, 1);
    assert_int_equal(s.sent_out[s.n_sent - 1], (uint16_t)(s.sent_out[2] + 2));
    int64_t ext;
    assert_true(ovl_thin_seq_in(&s.m, s.sent_out[s.n_sent - 1], s.ext, &ext));
    assert_int_equal(ext, 1007);
}

/* The consumer re-bases (the publisher's new SSRC starts its timestamps anywhere): after
 * ovl_thin_gate_restart a key frame with an "older" timestamp is a new frame, not a late packet. */
static void test_gate_restart(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s);
    sim_frame(&s, OVL_THIN_ALL, true, false, 0, false);
    assert_false(sim_frame(&s, OVL_THIN_SLIDES, false, false, 0, false)); /* a gap is open */
    s.ts = 5;
    ovl_thin_verdict_t v;
    ovl_thin_pkt_t key = {.ext_seq = s.ext + 70000, .ts = s.ts, .frame_start = true, .keyframe = true};
    ovl_thin_gate_packet(&s.g, &s.m, OVL_THIN_ALL, false, &key, s.now, &v);
    assert_false(v.forward); /* without a restart: taken for a late packet of a dropped stretch */
    ovl_thin_gate_restart(&s.g);
    key.ext_seq++;
    ovl_thin_gate_packet(&s.g, &s.m, OVL_THIN_ALL, false, &key, s.now, &v);
    assert_true(v.forward);
    assert_true(v.new_frame);
}

/* The controller (hysteresis): up at once, down one step per OVL_THIN_CALM of quiet. */
static void test_ctl_hysteresis(void **state)
{
    (void)state;
    ovl_thin_ctl_t c;
    ovl_time_t t = OVL_SEC(100);
    ovl_thin_ctl_init(&c);
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_ALL);
    ovl_thin_ctl_loss(&c, 10, t); /* 4 % on UDP: nothing */
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_ALL);
    ovl_thin_ctl_loss(&c, 80, t); /* 31 %: slides at once */
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_SLIDES);
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_THIN_CALM - 1), OVL_THIN_SLIDES);
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_THIN_CALM), OVL_THIN_BASE);
    assert_int_equal(ovl_thin_ctl_level(&c, t + 2 * OVL_THIN_CALM), OVL_THIN_ALL);
    /* Trouble at the level held keeps it for another OVL_THIN_CALM. */
    ovl_time_t t2 = t + OVL_THIN_CALM + OVL_THIN_CALM / 2;
    ovl_thin_ctl_loss(&c, 30, t2); /* 12 %: BASE, which is the level then */
    assert_int_equal(ovl_thin_ctl_level(&c, t + 2 * OVL_THIN_CALM), OVL_THIN_BASE);
    assert_int_equal(ovl_thin_ctl_level(&c, t2 + OVL_THIN_CALM - 1), OVL_THIN_BASE);
    assert_int_equal(ovl_thin_ctl_level(&c, t2 + OVL_THIN_CALM), OVL_THIN_ALL);
    assert_int_equal(c.raises, 1);
}

/* TCP: never below BASE; backlog and dropped video frames raise the level. */
static void test_ctl_tcp(void **state)
{
    (void)state;
    ovl_thin_ctl_t c;
    ovl_time_t t = OVL_SEC(100);
    ovl_thin_ctl_init(&c);
    ovl_thin_ctl_set_path(&c, OVL_THIN_PATH_TCP);
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_BASE);
    ovl_thin_ctl_tcp(&c, 0, 7, t); /* drops before we looked: a baseline */
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_BASE);
    ovl_thin_ctl_tcp(&c, 1000, 8, t); /* one more video frame dropped by the queue */
    assert_int_equal(ovl_thin_ctl_level(&c, t), OVL_THIN_SLIDES);
    ovl_thin_ctl_tcp(&c, 1000, 9, t + OVL_MS(200));
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_MS(200)), OVL_THIN_PAUSED);
    ovl_thin_ctl_tcp(&c, 1000, 9, t + OVL_MS(400)); /* no more drops, small backlog: calms down */
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_MS(200) + OVL_THIN_CALM), OVL_THIN_SLIDES);
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_SEC(60)), OVL_THIN_BASE);
    ovl_thin_ctl_tcp(&c, OVL_THIN_TCP_BACKLOG_HI, 9, t + OVL_SEC(60)); /* a deep backlog */
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_SEC(60)), OVL_THIN_SLIDES);
    ovl_thin_ctl_set_path(&c, OVL_THIN_PATH_UDP);
    assert_int_equal(ovl_thin_ctl_level(&c, t + OVL_SEC(70)), OVL_THIN_ALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_all_passes_everything),
        cmocka_unit_test(test_gate_slides_keyframes_only),
        cmocka_unit_test(test_gate_base_drops_upper_layer),
        cmocka_unit_test(test_gate_base_without_layers),
        cmocka_unit_test(test_gate_pause_resume_keyframe),
        cmocka_unit_test(test_gate_receiver_reason),
        cmocka_unit_test(test_seq_nack_and_late_packets),
        cmocka_unit_test(test_seq_lost_frame_start_keeps_gap),
        cmocka_unit_test(test_gate_restart),
        cmocka_unit_test(test_ctl_hysteresis),
        cmocka_unit_test(test_ctl_tcp),
    };
    return cmocka_run_group_tests_name("thin (video thinning)", tests, NULL, NULL);
}
