/*
 * Negotiation through a room (relay/route/negotiation.c): the client's first offer and the relay's
 * answer (RFC 3264 §6, RFC 9429 §5.3), then relay offers only (RFC 9429 §5.2.2, RFC 3264 §8):
 * sections added per consumer, retired when a publisher leaves, refilled later, one offer
 * outstanding at a time with changes batched, and Chromium's real answer to such an offer
 * (tests/data/chromium-answer-to-built-reoffer.sdp) accepted.
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

static ovl_sdp_t *parse(const char *text)
{
    ovl_sdp_t *sdp = NULL;
    assert_non_null(text);
    assert_int_equal(ovl_sdp_parse(text, strlen(text), &sdp, NULL), 0);
    return sdp;
}

static size_t count_dir(const ovl_sdp_t *sdp, ovl_sdp_dir_t dir)
{
    size_t n = 0;
    for (size_t i = 0; i < sdp->n_media; i++)
        if (sdp->media[i].dir == dir)
            n++;
    return n;
}

/* The first offer is answered, producers become tracks, and each side gets an offer for the other. */
static void test_first_offer_and_relay_offers(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    ovl_sdp_t *ans = parse(a->answer);
    assert_true(ans->ice_lite);
    assert_int_equal(ans->n_media, 3);
    assert_int_equal(count_dir(ans, OVL_SDP_DIR_RECVONLY), 3);
    ovl_sdp_free(ans);
    /* audio and camera are tracks now; the screen slot waits for its first packet */
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_TRACK_ADDED, 1), 2);
    assert_null(a->offer);

    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    assert_non_null(a->offer);
    assert_non_null(b->offer);
    ovl_sdp_t *oa = parse(a->offer);
    assert_true(oa->ice_lite);
    assert_int_equal(oa->sess_version, 3); /* the answer was 2 */
    assert_int_equal(oa->n_media, 5);
    assert_int_equal(ovl_sdp_bundle(oa)->n_mids, 5);
    const ovl_sdp_media_t *m3 = ovl_sdp_find_mid(oa, "3"), *m4 = ovl_sdp_find_mid(oa, "4");
    assert_non_null(m3);
    assert_non_null(m4);
    assert_int_equal(m3->kind, OVL_SDP_KIND_AUDIO);
    assert_int_equal(m4->kind, OVL_SDP_KIND_VIDEO);
    assert_int_equal(m3->dir, OVL_SDP_DIR_SENDONLY);
    assert_int_equal(m4->dir, OVL_SDP_DIR_SENDONLY);
    assert_int_equal(m3->ice.setup, OVL_SDP_SETUP_ACTPASS);
    assert_string_equal(m3->msids[0].stream, "ovl-2");
    assert_string_equal(m4->msids[0].track, "ovl-2-camera");
    /* the publisher's CNAME, so the subscriber syncs its audio and video (RFC 7022) */
    assert_string_equal(m3->ssrcs[0].attr, "cname");
    assert_string_equal(m3->ssrcs[0].value, "+zxdzHij2L+8cf5q");
    assert_int_equal(m4->n_ssrc_groups, 1);
    assert_string_equal(m4->ssrc_groups[0].semantics, "FID");
    assert_int_equal(m4->codecs[0].pt, 96);
    assert_int_equal(m4->codecs[1].pt, 97);
    /* the client's own sections stay as they were */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(oa->media[i].dir, OVL_SDP_DIR_RECVONLY);
    assert_string_equal(oa->media[0].ice.ufrag, "eqg7");
    ovl_sdp_free(oa);
    settle(&w);
    assert_int_equal(a->offers, 1);
    assert_int_equal(b->offers, 1);

    /* errors: a second first offer, an answer with no offer out, a duplicate id, bad SDP */
    assert_int_equal(peer_offer_subst(&w, a, "chromium-offer-av-screen.sdp", NULL), OVL_ERR_STATE);
    assert_int_equal(ovl_route_participant_answer(a->p, "v=0\r\n", 5, w.now), OVL_ERR_STATE);
    ovl_route_participant_t *dup;
    ovl_route_sink_t sink = {sink_get, sink_rtp, sink_rtcp, sink_put, a};
    assert_int_equal(ovl_route_participant_add(w.room, 2, &sink, w.now, &dup), OVL_ERR_STATE);
    peer_t *c = peer_add(&w, 3);
    ovl_sdp_local_t local;
    ovl_sdp_candidate_t cand;
    relay_local_params(&local, &cand);
    assert_int_equal(ovl_route_participant_offer(c->p, "garbage", 7, &local, w.now), OVL_ERR_PARSE);
    assert_null(c->answer);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", av_screen_other); /* still free to offer */
    world_free(&w);
}

/* Chromium's own answer to the relay offer the SDP core built for the same captured offer. */
static void test_captured_chromium_answer(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-builder-check.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-av-screen.sdp", NULL);
    ovl_sdp_t *oa = parse(a->offer);
    assert_string_equal(ovl_sdp_find_mid(oa, "3")->media, "audio");
    assert_string_equal(ovl_sdp_find_mid(oa, "4")->media, "video");
    ovl_sdp_free(oa);

    size_t len;
    char *reply = route_load("chromium-answer-to-built-reoffer.sdp", &len);
    assert_int_equal(ovl_route_participant_answer(a->p, reply, len, w.now), 0);
    free(reply);
    free(a->offer);
    a->offer = NULL;
    settle(&w);
    connect_all(&w);
    track_t ba, bv;
    chromium_tracks(&ba, &bv, 221197464, 3620418310u, 3276133668u);
    assert_int_equal(send_audio(&w, b, &ba, 30), 0);
    uint32_t to_a = announced(a, 2, "audio", 0, NULL);
    assert_int_equal(count_rtp(a, to_a), 1);
    world_free(&w);
}

/* One offer outstanding: what happens meanwhile goes out in the next offer, right after the answer. */
static void test_changes_are_batched(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    peer_t *c = peer_add(&w, 3);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", av_screen_other);
    assert_int_equal(a->offers, 2); /* C's tracks, outstanding */
    peer_t *d = peer_add(&w, 4);
    const char *const other2[] = {"221197464",  "221197111",  "3620418310", "3620418111", "3276133668", "3276133111",
                                  "3846447863", "3846447111", "51805253",   "51805111",   NULL};
    peer_offer(&w, d, "chromium-offer-av-screen.sdp", other2);
    peer_leave(&w, c);
    assert_int_equal(a->offers, 2); /* nothing more while one is out */
    ovl_sdp_t *pending = parse(a->offer);
    assert_int_equal(pending->n_media, 7); /* its own 3, B's 2, C's 2 */
    ovl_sdp_free(pending);
    peer_answer(&w, a);
    assert_int_equal(a->offers, 3); /* D's tracks and C's retirement, together */
    ovl_sdp_t *next = parse(a->offer);
    /* a retired section is reused only once its retirement is answered: D gets two new ones */
    assert_int_equal(next->n_media, 9);
    assert_int_equal(count_dir(next, OVL_SDP_DIR_SENDONLY), 4); /* B's, D's */
    assert_int_equal(count_dir(next, OVL_SDP_DIR_INACTIVE), 2); /* C's */
    assert_int_not_equal(announced(a, 4, "audio", 0, NULL), 0);
    ovl_sdp_free(next);
    settle(&w);
    /* B never saw C's tracks offered-and-retired twice: its offers came one at a time as well */
    assert_true(b->offers >= 2);
    world_free(&w);
}

/* A leaving publisher: its tracks are retired at the others only, and the sections are reused later. */
static void test_leave_and_reuse(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2), *c = peer_add(&w, 3);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", av_screen_other);
    settle(&w);
    connect_all(&w);
    char mid_audio[32], mid_video[32];
    assert_int_not_equal(announced(a, 3, "audio", 0, mid_audio), 0);
    assert_int_not_equal(announced(a, 3, "camera", 0, mid_video), 0);
    ovl_sdp_t *before = parse(a->offer_log[a->offers - 1]);
    size_t a_offers = a->offers, b_offers = b->offers;

    peer_leave(&w, c);
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_TRACK_REMOVED, 3), 2);
    assert_int_equal(a->offers, a_offers + 1);
    assert_int_equal(b->offers, b_offers + 1);
    ovl_sdp_t *ret = parse(a->offer);
    const ovl_sdp_media_t *ma = ovl_sdp_find_mid(ret, mid_audio), *mv = ovl_sdp_find_mid(ret, mid_video);
    assert_int_equal(ma->dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(mv->dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(ma->n_ssrcs + mv->n_ssrcs, 0);
    /* A's transport is untouched: same credentials, fingerprint and sections */
    assert_int_equal(ret->n_media, before->n_media);
    for (size_t i = 0; i < ret->n_media; i++) {
        assert_string_equal(ret->media[i].ice.ufrag, before->media[i].ice.ufrag);
        assert_string_equal(ret->media[i].ice.pwd, before->media[i].ice.pwd);
        assert_memory_equal(ret->media[i].ice.fingerprints[0].bytes, before->media[i].ice.fingerprints[0].bytes, 32);
    }
    ovl_sdp_free(ret);
    ovl_sdp_free(before);
    settle(&w);

    /* D joins: A's retired sections carry D's tracks, no new sections */
    peer_t *d = peer_add(&w, 4);
    peer_offer(&w, d, "chromium-offer-av-screen.sdp", av_screen_other);
    ovl_sdp_t *reuse = parse(a->offer);
    assert_int_equal(reuse->n_media, 7);
    char mid2[32];
    assert_int_not_equal(announced(a, 4, "audio", 0, mid2), 0);
    assert_string_equal(mid2, mid_audio);
    assert_int_not_equal(announced(a, 4, "camera", 0, mid2), 0);
    assert_string_equal(mid2, mid_video);
    assert_int_equal(ovl_sdp_find_mid(reuse, mid_audio)->dir, OVL_SDP_DIR_SENDONLY);
    ovl_sdp_free(reuse);
    settle(&w);
    ovl_route_participant_set_connected(d->p, true, w.now);
    track_t da, dv;
    chromium_tracks(&da, &dv, 221197999, 3620418999u, 3276133999u);
    assert_int_equal(send_audio(&w, d, &da, 30), 0);
    assert_int_equal(count_rtp(a, announced(a, 4, "audio", 0, NULL)), 1);
    world_free(&w);
}

/* The screen slot becomes a track on its first packet; the others are then offered it. */
static void test_screen_share_goes_live(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    connect_all(&w);
    size_t b_offers = b->offers;
    track_t screen = {.ssrc = 3846447863u, .rtx_ssrc = 51805253, .pt = 96, .rtx_pt = 97, .seq = 9, .ts = 1};
    uint8_t payload[20] = {0x90, 0x80, 0x01};
    assert_int_equal(send_media(&w, a, &screen, true, -1, payload, sizeof(payload)), 0);
    assert_int_equal(b->offers, b_offers); /* not on the packet path */
    assert_true(ovl_route_next_timeout(w.room) <= w.now);
    ovl_route_on_timeout(w.room, w.now);
    assert_int_equal(count_events(&w, OVL_ROUTE_EV_TRACK_ADDED, 1), 3);
    assert_int_equal(b->offers, b_offers + 1);
    settle(&w);
    assert_int_not_equal(announced(b, 1, "screen", 0, NULL), 0);
    world_free(&w);
}

/* An answer that does not parse rolls the offer back; it is offered again after a pause. A rejected
 * section (port 0) is never offered again. */
static void test_bad_answer_and_rejection(void **state)
{
    (void)state;
    world_t w;
    world_init(&w, 1);
    peer_t *a = peer_add(&w, 1), *b = peer_add(&w, 2);
    peer_offer(&w, a, "chromium-offer-av-screen.sdp", NULL);
    peer_offer(&w, b, "chromium-offer-builder-check.sdp", NULL);
    settle(&w);
    peer_t *c = peer_add(&w, 3);
    peer_offer(&w, c, "chromium-offer-av-screen.sdp", av_screen_other);
    assert_int_equal(ovl_route_participant_answer(a->p, "bogus", 5, w.now), OVL_ERR_PARSE);
    free(a->offer);
    a->offer = NULL;
    size_t n = a->offers;
    advance(&w, OVL_MS(1900));
    assert_int_equal(a->offers, n);
    advance(&w, OVL_MS(200));
    assert_int_equal(a->offers, n + 1);
    ovl_sdp_t *again = parse(a->offer);
    assert_int_equal(again->n_media, 7); /* the same two sections (B's were answered before) */

    /* the client rejects C's camera section */
    const char *cam_mid = again->media[6].mid;
    char *ans = client_answer(a->offer);
    char needle[96];
    snprintf(needle, sizeof(needle), "a=mid:%s\r\n", cam_mid);
    char *sec = strstr(ans, needle);
    assert_non_null(sec);
    while (sec > ans && strncmp(sec, "m=video 9 ", 10) != 0)
        sec--;
    sec[8] = '0'; /* "m=video 0 " */
    assert_int_equal(ovl_route_participant_answer(a->p, ans, strlen(ans), w.now), 0);
    free(ans);
    free(a->offer);
    a->offer = NULL;
    ovl_sdp_free(again);
    settle(&w);
    size_t after = a->offers;
    advance(&w, OVL_SEC(5));
    assert_int_equal(a->offers, after); /* not offered again */
    connect_all(&w);
    track_t ca, cv;
    chromium_tracks(&ca, &cv, 221197999, 3620418999u, 3276133999u);
    assert_int_equal(send_audio(&w, c, &ca, 30), 0);
    assert_int_equal(count_rtp(a, announced(a, 3, "audio", 0, NULL)), 1);
    world_free(&w);
}

/* The room's participant limit. */
static void test_room_full(void **state)
{
    (void)state;
    world_t w;
    ovl_route_room_config_t cfg = {.id = 9, .seed = 1, .max_participants = 2};
    world_init_cfg(&w, &cfg);
    peer_add(&w, 1);
    peer_add(&w, 2);
    ovl_route_participant_t *p;
    ovl_route_sink_t sink = {sink_get, sink_rtp, sink_rtcp, sink_put, w.peers[0]};
    assert_int_equal(ovl_route_participant_add(w.room, 3, &sink, w.now, &p), OVL_ERR_LIMIT);
    ovl_route_room_t *bad;
    ovl_route_room_config_t c2 = {.rtx_packets = 100};
    assert_int_equal(ovl_route_room_new(&c2, &bad), OVL_ERR_ARG);
    c2.rtx_packets = 0;
    c2.max_participants = 1000;
    assert_int_equal(ovl_route_room_new(&c2, &bad), OVL_ERR_ARG);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_offer_and_relay_offers),
        cmocka_unit_test(test_captured_chromium_answer),
        cmocka_unit_test(test_changes_are_batched),
        cmocka_unit_test(test_leave_and_reuse),
        cmocka_unit_test(test_screen_share_goes_live),
        cmocka_unit_test(test_bad_answer_and_rejection),
        cmocka_unit_test(test_room_full),
    };
    return cmocka_run_group_tests_name("route negotiation (RFC 3264, RFC 9429)", tests, NULL, NULL);
}
