/*
 * Forwarding through a room (relay/route): participants negotiated from SDP captured from
 * Chromium and Firefox (tests/data/), real VP8 from libvpx through the RFC 7741 packetizer, sinks
 * that capture what the relay writes. Checks the per-subscriber rewrite (RFC 3550 §5.1 SSRC,
 * sequence number, timestamp, payload type; RFC 8285 extension ids), keyframe gating of new
 * video consumers, RTX unwrapping (RFC 4588 §4) and the isolation of rooms.
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

typedef struct three {
    world_t w;
    peer_t *pe[3];
    track_t audio[3], video[3];
} three_t;

static void three_join(three_t *t, bool connect)
{
    world_init(&t->w, 1);
    t->pe[0] = peer_add(&t->w, 1);
    peer_offer(&t->w, t->pe[0], "chromium-offer-av-screen.sdp", NULL);
    assert_null(t->pe[0]->offer); /* alone: nothing to receive */
    t->pe[1] = peer_add(&t->w, 2);
    peer_offer(&t->w, t->pe[1], "chromium-offer-builder-check.sdp", NULL);
    t->pe[2] = peer_add(&t->w, 3);
    peer_offer(&t->w, t->pe[2], "chromium-offer-av-screen.sdp", av_screen_other);
    settle(&t->w);
    if (connect)
        connect_all(&t->w);
    chromium_tracks(&t->audio[0], &t->video[0], 221197464, 3620418310u, 3276133668u);
    chromium_tracks(&t->audio[1], &t->video[1], 3535862025u, 997445371, 1848822981);
    chromium_tracks(&t->audio[2], &t->video[2], 221197999, 3620418999u, 3276133999u);
}

/* One extension element of a received packet, by id; NULL when absent. */
static const uint8_t *ext_of(const ovl_rtp_t *r, uint8_t id, uint8_t *len)
{
    ovl_rtp_ext_elem_t e;
    if (ovl_rtp_ext_find(r, id, &e) != 0)
        return NULL;
    *len = e.len;
    return e.data;
}

/* The stream `ssrc` at `sub`: n packets, payload type pt, sequence numbers +1 each, timestamps as given. */
static void check_stream(const peer_t *sub, uint32_t ssrc, size_t n, uint8_t pt, const char *mid,
                         const uint32_t *ts_delta)
{
    size_t k = 0;
    uint16_t prev_seq = 0;
    uint32_t prev_ts = 0;
    for (size_t i = 0; i < sub->n_sent; i++) {
        ovl_rtp_t r;
        uint8_t len;
        if (sub->sent[i].rtcp || ovl_rtp_parse(&r, sub->sent[i].data, sub->sent[i].len) != 0 || r.ssrc != ssrc)
            continue;
        assert_int_equal(r.payload_type, pt);
        if (k > 0) {
            assert_int_equal((uint16_t)(r.seq - prev_seq), 1); /* continuous */
            assert_int_equal(r.timestamp - prev_ts, ts_delta[k]);
        }
        /* RFC 8285: the subscriber's mid (id 4) and the relay's abs-send-time (id 2); never transport-cc (3). */
        const uint8_t *m = ext_of(&r, 4, &len);
        assert_non_null(m);
        assert_int_equal(len, strlen(mid));
        assert_memory_equal(m, mid, len);
        assert_non_null(ext_of(&r, 2, &len));
        assert_int_equal(len, 3);
        assert_null(ext_of(&r, 3, &len));
        prev_seq = r.seq;
        prev_ts = r.timestamp;
        k++;
    }
    assert_int_equal(k, n);
}

/* Three Chromium participants publish audio and camera; each receives the other two, rewritten. */
static void test_three_participants(void **state)
{
    (void)state;
    three_t t;
    vp8_clip_t clip;
    bool kf[12] = {true};
    vp8_clip_make(&clip, 12, kf);
    three_join(&t, true);
    world_t *w = &t.w;
    for (size_t p = 0; p < 3; p++) {
        for (int i = 0; i < 5; i++)
            assert_int_equal(send_audio(w, t.pe[p], &t.audio[p], 30 + (int)p), 0);
        for (size_t i = 0; i < clip.n; i++)
            assert_int_equal(send_vp8(w, t.pe[p], &t.video[p], &clip, i), 0);
    }
    uint32_t audio_delta[5] = {0, 960, 960, 960, 960}, *video_delta = calloc(clip.n, sizeof(uint32_t));
    for (size_t i = 1; i < clip.n; i++)
        video_delta[i] = (clip.pkts[i].frame - clip.pkts[i - 1].frame) * 3000u;
    uint32_t seen[12];
    size_t n_seen = 0;
    for (size_t s = 0; s < 3; s++)
        for (size_t p = 0; p < 3; p++) {
            if (p == s)
                continue;
            char amid[32], vmid[32];
            uint32_t a = announced(t.pe[s], t.pe[p]->id, "audio", 0, amid);
            uint32_t v = announced(t.pe[s], t.pe[p]->id, "camera", 0, vmid);
            uint32_t vr = announced(t.pe[s], t.pe[p]->id, "camera", 1, NULL);
            assert_true(a && v && vr);
            assert_true(a != t.audio[p].ssrc && v != t.video[p].ssrc); /* the subscriber's own SSRCs */
            seen[n_seen++] = a;
            seen[n_seen++] = v;
            check_stream(t.pe[s], a, 5, 111, amid, audio_delta);
            check_stream(t.pe[s], v, clip.n, 96, vmid, video_delta);
            /* payloads untouched, markers kept, audio level forwarded under the subscriber's id 1 */
            size_t k = 0;
            for (size_t i = 0; i < t.pe[s]->n_sent; i++) {
                ovl_rtp_t r;
                uint8_t len;
                if (t.pe[s]->sent[i].rtcp || ovl_rtp_parse(&r, t.pe[s]->sent[i].data, t.pe[s]->sent[i].len))
                    continue;
                if (r.ssrc == a) {
                    const uint8_t *lvl = ext_of(&r, 1, &len);
                    assert_non_null(lvl);
                    assert_int_equal(lvl[0], 30 + p);
                    assert_true(t.pe[s]->sent[i].audio);
                }
                if (r.ssrc != v)
                    continue;
                assert_false(t.pe[s]->sent[i].audio);
                assert_int_equal(r.payload_len, clip.pkts[k].len);
                assert_memory_equal(ovl_rtp_payload(&r), clip.pkts[k].data, r.payload_len);
                assert_int_equal(r.marker, clip.pkts[k].marker);
                k++;
            }
        }
    for (size_t i = 0; i < n_seen; i++) /* consumer SSRCs are distinct */
        for (size_t j = i + 1; j < n_seen; j++)
            assert_int_not_equal(seen[i], seen[j]);
    ovl_route_stats_t st;
    ovl_route_room_stats(w->room, &st);
    assert_int_equal(st.rtp_in, 3 * (5 + clip.n));
    assert_int_equal(st.rtp_dropped, 0);
    assert_int_equal(st.rtp_out, 6 * (5 + clip.n));
    free(video_delta);
    vp8_clip_free(&clip);
    world_free(w);
}

/* RFC 8285: a Chromium publisher (level 1, abs-send-time 2, transport-cc 3, mid 4) to a Firefox subscriber
 * (level 1, mid 3, opus PT 109) and back. */
static void test_ext_ids_chromium_firefox(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 7);
    peer_t *c = peer_add(&w, 10), *f = peer_add(&w, 11);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, f, "firefox68-offer-audio.sdp", NULL);
    settle(&w);
    connect_all(&w);
    track_t ca, cv, fa = {.ssrc = 2570216174u, .pt = 109, .seq = 7, .ts = 1, .id_level = 1, .id_mid = 3, .mid = "0"};
    chromium_tracks(&ca, &cv, 221197464, 3620418310u, 3276133668u);
    assert_int_equal(send_audio(&w, c, &ca, 42), 0);
    assert_int_equal(send_audio(&w, f, &fa, 17), 0);

    char fmid[32], cmid[32];
    uint32_t to_f = announced(f, 10, "audio", 0, fmid), to_c = announced(c, 11, "audio", 0, cmid);
    assert_int_equal(announced(f, 10, "camera", 0, NULL), 0); /* Firefox offered audio only: no video to it */
    assert_int_equal(count_rtp(f, to_f), 1);
    assert_int_equal(count_rtp(c, to_c), 1);

    ovl_rtp_t r;
    uint8_t len;
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_rtp_parse(&r, f->sent[0].data, f->sent[0].len), 0);
    assert_int_equal(r.payload_type, 109);
    assert_int_equal(r.ext_form, OVL_RTP_EXT_ONE_BYTE_FORM);
    size_t n = 0;
    ovl_rtp_ext_iter_init(&it, &r);
    while (ovl_rtp_ext_next(&it, &e) == 0) {
        n++;
        if (e.id == 1)
            assert_int_equal(e.data[0], 42);
        else if (e.id == 3) /* Firefox's mid id carries the mid of its section, not Chromium's transport-cc */
            assert_memory_equal(e.data, fmid, strlen(fmid));
        else
            fail_msg("element id %u was not negotiated by the subscriber", e.id);
    }
    assert_int_equal(n, 2);

    assert_int_equal(ovl_rtp_parse(&r, c->sent[0].data, c->sent[0].len), 0);
    assert_int_equal(r.payload_type, 111);
    assert_int_equal(ext_of(&r, 1, &len)[0], 17);
    assert_memory_equal(ext_of(&r, 4, &len), cmid, strlen(cmid));
    assert_non_null(ext_of(&r, 2, &len)); /* the relay's abs-send-time, which Firefox did not send */
    assert_null(ext_of(&r, 3, &len));
    world_free(&w);
}

/* A late joiner's video waits for a keyframe, and a PLI (RFC 4585 §6.3.1) went to the publisher at once. */
static void test_late_joiner_waits_for_keyframe(void **state)
{
    (void)state;
    world_t w;
    vp8_clip_t clip;
    bool kf[30] = {[0] = true, [20] = true};
    vp8_clip_make(&clip, 30, kf);
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    connect_all(&w);
    track_t aa, av;
    chromium_tracks(&aa, &av, 221197464, 3620418310u, 3276133668u);
    size_t i = 0;
    for (; clip.pkts[i].frame < 10; i++)
        assert_int_equal(send_vp8(&w, a, &av, &clip, i), 0);
    size_t pli_before = count_rtcp(a, OVL_RTCP_PLI);
    assert_int_equal(pli_before, 1); /* B's consumer started */

    advance(&w, OVL_SEC(2));
    peer_t *c = peer_add(&w, 3);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", av_screen_other);
    settle(&w);
    ovl_route_participant_set_connected(c->p, true, w.now);
    assert_int_equal(count_rtcp(a, OVL_RTCP_PLI), pli_before + 1); /* no waiting for a timer */
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_KEYFRAME_REQUEST, 1), 2);

    uint32_t to_c = announced(c, 1, "camera", 0, NULL), to_b = announced(b, 1, "camera", 0, NULL);
    size_t first_kf = 0;
    for (; i < clip.n; i++) {
        if (clip.pkts[i].frame == 20 && clip.pkts[i].keyframe_start)
            first_kf = i;
        assert_int_equal(send_vp8(&w, a, &av, &clip, i), 0);
        if (!first_kf)
            assert_int_equal(count_rtp(c, to_c), 0); /* delta frames are held back */
    }
    assert_int_equal(count_rtp(c, to_c), clip.n - first_kf);
    assert_int_equal(count_rtp(b, to_b), clip.n);
    /* C's first packet is the keyframe's first packet. */
    for (size_t k = 0; k < c->n_sent; k++) {
        ovl_rtp_t r;
        if (c->sent[k].rtcp || ovl_rtp_parse(&r, c->sent[k].data, c->sent[k].len) || r.ssrc != to_c)
            continue;
        assert_memory_equal(ovl_rtp_payload(&r), clip.pkts[first_kf].data, clip.pkts[first_kf].len);
        break;
    }
    vp8_clip_free(&clip);
    world_free(&w);
}

/* The publisher changes SSRC (announced by the mid extension): the subscriber's stream goes on. */
static void test_ssrc_change_keeps_numbering(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    connect_all(&w);
    track_t aa, av;
    chromium_tracks(&aa, &av, 221197464, 3620418310u, 3276133668u);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_audio(&w, a, &aa, 40), 0);
    w.now += OVL_MS(100);
    aa.ssrc = 0x0badcafe;
    aa.seq = 60000;
    aa.ts = 123;
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_audio(&w, a, &aa, 40), 0);
    uint32_t ssrc = announced(b, 1, "audio", 0, NULL);
    assert_int_equal(count_rtp(b, ssrc), 6);
    ovl_rtp_t r[6];
    for (size_t i = 0, k = 0; i < b->n_sent; i++)
        if (!b->sent[i].rtcp && ovl_rtp_parse(&r[k], b->sent[i].data, b->sent[i].len) == 0 && r[k].ssrc == ssrc)
            k++;
    for (size_t k = 1; k < 6; k++)
        assert_int_equal((uint16_t)(r[k].seq - r[k - 1].seq), 1);
    /* 100 ms passed between the streams: the timestamp moves on by at least that (48 kHz) */
    assert_true(r[3].timestamp - r[2].timestamp >= 4800 && r[3].timestamp - r[2].timestamp < 48000);
    /* an SSRC without a mid extension that the relay knows is dropped */
    aa.ssrc = 0x0badbeef;
    aa.id_mid = 0;
    assert_int_equal(send_audio(&w, a, &aa, 40), OVL_ERR_NOTFOUND);
    world_free(&w);
}

/* RFC 4588 §4: the publisher's RTX is unwrapped (OSN) and forwarded as the packet it repairs; padding-only
 * RTX (bandwidth probes) and duplicates go nowhere. */
static void test_publisher_rtx(void **state)
{
    (void)state;
    world_t w;
    vp8_clip_t clip;
    bool kf[4] = {true};
    vp8_clip_make(&clip, 4, kf);
    assert_true(clip.n >= 4);
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    connect_all(&w);
    track_t aa, av;
    chromium_tracks(&aa, &av, 221197464, 3620418310u, 3276133668u);
    uint16_t base = av.seq;
    assert_int_equal(send_vp8(&w, a, &av, &clip, 0), 0);
    av.seq++; /* packet 1 lost on the way to the relay */
    assert_int_equal(send_vp8(&w, a, &av, &clip, 2), 0);
    uint32_t to_b = announced(b, 1, "camera", 0, NULL);
    assert_int_equal(count_rtp(b, to_b), 2);

    uint8_t rtx[1202];
    rtx[0] = (uint8_t)((base + 1) >> 8), rtx[1] = (uint8_t)(base + 1);
    memcpy(rtx + 2, clip.pkts[1].data, clip.pkts[1].len);
    assert_int_equal(send_rtp_ext(&w, a, &av, true, 7, av.ts, clip.pkts[1].marker, -1, rtx, clip.pkts[1].len + 2, 0),
                     0);
    assert_int_equal(count_rtp(b, to_b), 3);
    ovl_rtp_t r0, r1;
    assert_int_equal(ovl_rtp_parse(&r0, b->sent[b->n_sent - 3].data, b->sent[b->n_sent - 3].len), 0);
    assert_int_equal(ovl_rtp_parse(&r1, b->sent[b->n_sent - 1].data, b->sent[b->n_sent - 1].len), 0);
    assert_int_equal((uint16_t)(r1.seq - r0.seq), 1); /* it fills the hole the subscriber saw */
    assert_int_equal(r1.payload_type, 96);
    assert_memory_equal(ovl_rtp_payload(&r1), clip.pkts[1].data, clip.pkts[1].len);

    /* the same repair again: a duplicate (its SRTP packet index was used) */
    assert_int_equal(send_rtp_ext(&w, a, &av, true, 8, av.ts, false, -1, rtx, clip.pkts[1].len + 2, 0), OVL_ERR_REPLAY);
    /* a padding-only RTX probe: counted for transport-cc, forwarded nowhere */
    assert_int_equal(send_rtp_ext(&w, a, &av, true, 9, av.ts, false, -1, NULL, 0, 200), 0);
    /* a payload type the publisher did not negotiate */
    track_t odd = av;
    odd.pt = 102;
    assert_int_equal(send_media(&w, a, &odd, false, -1, clip.pkts[3].data, clip.pkts[3].len), OVL_ERR_NOTFOUND);
    assert_int_equal(count_rtp(b, to_b), 3);
    assert_int_equal(ovl_route_on_rtp(w.room, a->p, rtx, 5, w.now), OVL_ERR_PARSE);
    vp8_clip_free(&clip);
    world_free(&w);
}

/* A sink without buffers drops (and counts) what was for it; the others still get theirs. */
static void test_sink_without_buffers(void **state)
{
    (void)state;
    three_t t;
    three_join(&t, true);
    t.pe[1]->starve = true;
    assert_int_equal(send_audio(&t.w, t.pe[0], &t.audio[0], 50), 0);
    assert_int_equal(count_rtp(t.pe[1], announced(t.pe[1], 1, "audio", 0, NULL)), 0);
    assert_int_equal(count_rtp(t.pe[2], announced(t.pe[2], 1, "audio", 0, NULL)), 1);
    ovl_route_stats_t st;
    ovl_route_room_stats(t.w.room, &st);
    assert_int_equal(st.no_buffer, 1);
    t.pe[1]->starve = false;
    world_free(&t.w);
}

/* Two rooms with the same participant ids and the same SDP: media of one never reaches the other. */
static void test_two_rooms_never_cross(void **state)
{
    (void)state;
    world_t w1, w2;
    world_init(&w1, 1);
    world_init(&w2, 2);
    peer_t *a1 = peer_add(&w1, 1), *b1 = peer_add(&w1, 2), *a2 = peer_add(&w2, 1), *b2 = peer_add(&w2, 2);
    peer_offer(&w1, a1, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w1, b1, "chromium-offer-builder-check.sdp", NULL);
    peer_offer(&w2, a2, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w2, b2, "chromium-offer-builder-check.sdp", NULL);
    settle(&w1);
    settle(&w2);
    connect_all(&w1);
    connect_all(&w2);
    peer_clear(b1);
    peer_clear(b2);
    peer_clear(a2); /* the PLI its subscriber's connection asked for */
    track_t aa, av;
    chromium_tracks(&aa, &av, 221197464, 3620418310u, 3276133668u);
    for (int i = 0; i < 4; i++)
        assert_int_equal(send_audio(&w1, a1, &aa, 20), 0);
    assert_int_equal(b1->n_sent, 4);
    assert_int_equal(b2->n_sent, 0);
    assert_int_equal(a2->n_sent, 0);
    for (size_t i = 0; i < w1.n_evs; i++)
        assert_int_equal(w1.evs[i].room, 1);
    for (size_t i = 0; i < w2.n_evs; i++)
        assert_int_equal(w2.evs[i].room, 2);
    /* a participant of room 2 handed to room 1 by mistake is not found there by id either */
    assert_ptr_equal(ovl_route_participant_find(w1.room, 1), a1->p);
    assert_ptr_not_equal(ovl_route_participant_find(w1.room, 1), a2->p);
    world_free(&w1);
    world_free(&w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_participants),
        cmocka_unit_test(test_ext_ids_chromium_firefox),
        cmocka_unit_test(test_late_joiner_waits_for_keyframe),
        cmocka_unit_test(test_ssrc_change_keeps_numbering),
        cmocka_unit_test(test_publisher_rtx),
        cmocka_unit_test(test_sink_without_buffers),
        cmocka_unit_test(test_two_rooms_never_cross),
    };
    return cmocka_run_group_tests_name("route forwarding (RFC 3550, RFC 8285, RFC 4588)", tests, NULL, NULL);
}
