/*
 * The media plane end to end over real UDP on 127.0.0.1: worker threads, ICE-lite (RFC 8445
 * §2.5), DTLS-SRTP (RFC 5764) with the process certificate, the router, and in-process clients
 * (relay/transport CLIENT role) joined through the media plane's API as signaling would join them.
 * No timing assertions: waits are bounded generously and only decide failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "media_world.h"
#include "relay/io/ufrag.h"

#define WAIT 15000 /* ms: ASan on a loaded 2-core machine */

/* The SSRC a relay offer to `sub` announces for `msid` ("p1 p1-audio"), from the a=ssrc line; 0 if none. */
static uint32_t announced_ssrc(const mw_client_t *sub, const char *msid)
{
    char needle[64];
    snprintf(needle, sizeof(needle), " msid:%s\r\n", msid);
    for (size_t k = sub->n_offers; k-- > 0;) {
        const char *o = sub->offers[k], *hit = strstr(o, needle);
        if (!hit)
            continue;
        while (hit > o && hit[-1] != '\n')
            hit--;
        return (uint32_t)strtoul(hit + strlen("a=ssrc:"), NULL, 10);
    }
    return 0;
}

typedef struct rtp_wait {
    mw_client_t *from, *to;
    uint32_t ssrc;
    uint16_t seq;
} rtp_wait_t;

/* Sends one audio packet from `from` per call and holds once `to` got one with `ssrc`. */
static bool cond_rtp_arrived(mw_t *w, void *arg)
{
    rtp_wait_t *r = arg;
    (void)w;
    if (r->to->rtp && r->to->last_ssrc == r->ssrc)
        return true;
    mw_send_audio(r->from, r->seq++);
    return false;
}

static bool cond_offer_with(mw_t *w, void *arg)
{
    (void)w;
    const char **a = arg;
    const mw_client_t *c = (const mw_client_t *)a[0];
    return c->n_offers && c->n_answered == c->n_offers && strstr(c->offers[c->n_offers - 1], a[1]);
}

/* RFC 8445 §2.5 / RFC 8839: the relay answers ICE-lite, DTLS passive (RFC 8842 §5.2), with a
 * UDP host candidate on the worker's port; the client's ICE and DTLS complete with it. */
static void test_answer_is_ice_lite_and_connects(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 2, OVL_SEC(2));
    mw_client_t *a = mw_connect(&w, "meetingA", 1);
    assert_non_null(strstr(a->answer, "a=ice-lite\r\n"));
    assert_non_null(strstr(a->answer, "a=setup:passive\r\n"));
    assert_non_null(strstr(a->answer, "a=fingerprint:sha-256 "));
    /* The relay's ufrag names the worker (ufrag.h) whose port is in the candidate. */
    char cand[96];
    unsigned worker = 99;
    assert_int_equal(ovl_media_ufrag_worker(a->relay_ufrag, strlen(a->relay_ufrag), &worker), 0);
    assert_true(worker < ovl_media_worker_count(w.m));
    snprintf(cand, sizeof(cand), " 1 udp %u 127.0.0.1 %u typ host", ovl_sdp_candidate_priority(126, 65535, 1),
             ovl_media_worker_port(w.m, worker));
    assert_non_null(strstr(a->answer, cand));
    /* The relay receives the client's sending sections (answered recvonly). */
    assert_non_null(strstr(a->answer, "a=recvonly\r\n"));
    /* RFC 7587 §6.1: Opus with in-band FEC and DTX, so silence is nearly free on a thin path. */
    assert_non_null(strstr(a->answer, " minptime=10;useinbandfec=1;usedtx=1\r\n"));
    assert_int_equal(ovl_transport_profile(a->t), OVL_SRTP_AEAD_AES_128_GCM); /* GCM preferred */
    mw_pump(&w, 500);                                                         /* a stats tick */
    ovl_media_stats_t st, sum = {0};
    for (size_t i = 0; i < ovl_media_worker_count(w.m); i++) {
        ovl_media_stats(w.m, i, &st);
        sum.transports += st.transports, sum.connected += st.connected, sum.rooms += st.rooms;
        sum.rx_packets += st.rx_packets;
    }
    assert_int_equal(sum.transports, 1);
    assert_int_equal(sum.connected, 1);
    assert_int_equal(sum.rooms, 1);
    assert_true(sum.rx_packets > 0);
    char *text = ovl_media_metrics_render(w.m);
    assert_non_null(strstr(text, "overleg_media_transports_connected{worker=\""));
    assert_non_null(strstr(text, "overleg_media_dropped_total{worker=\"0\",reason=\"transport-srtp-auth\"}"));
    free(text);
    mw_free(&w);
}

/* RFC 3550 §7 (translator): an RTP packet from one client reaches the other client of the same
 * meeting decrypted, rewritten to the SSRC the relay announced for it (a=msid:<public id> <id>-audio),
 * and never a client of another meeting; its RFC 6464 levels make it the active speaker. */
static void test_rtp_forwarded_within_the_room_only(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 2, OVL_SEC(2));
    mw_client_t *a = mw_connect(&w, "meetingA", 1);
    mw_client_t *b = mw_connect(&w, "meetingA", 2);
    mw_client_t *c = mw_connect(&w, "meetingB", 3);
    const char *want[2] = {(const char *)b, "a=msid:p1 p1-audio\r\n"};
    assert_true(mw_wait(&w, cond_offer_with, want, WAIT));
    /* Track attribution (PROTOCOL.md, Tracks): stream id = the publisher's public id, track id = id-slot. */
    const char *last = b->offers[b->n_offers - 1];
    assert_non_null(strstr(last, "a=msid:p1 p1-camera\r\n"));
    assert_null(strstr(last, "ovl-"));
    uint32_t ssrc = announced_ssrc(b, "p1 p1-audio");
    assert_true(ssrc != 0);
    rtp_wait_t r = {a, b, ssrc, 100};
    assert_true(mw_wait(&w, cond_rtp_arrived, &r, WAIT));
    /* The payload arrives as it was sent (decrypted with b's keys). */
    assert_int_equal(b->last_payload_len, 40);
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(b->last_payload[i], (uint8_t)(0xa0 + i + 1));
    /* RFC 6464 levels of voice from a alone: a becomes the meeting's active speaker. */
    for (int i = 0; i < 200 && w.speaker_events == 0; i++) {
        mw_send_audio(a, r.seq++);
        mw_pump(&w, 20);
    }
    assert_true(w.speaker_events > 0);
    assert_int_equal(w.speaker, 1);
    assert_int_equal(c->rtp, 0); /* another meeting: nothing */
    assert_int_equal(c->n_offers, 0);
    mw_pump(&w, 300);
    ovl_media_stats_t st;
    uint64_t fwd = 0;
    for (size_t i = 0; i < ovl_media_worker_count(w.m); i++) {
        ovl_media_stats(w.m, i, &st);
        fwd += st.rtp_out;
    }
    assert_true(fwd >= 1);
    mw_free(&w);
}

static bool cond_failed(mw_t *w, void *arg)
{
    (void)w;
    return ((mw_client_t *)arg)->failed > 0;
}

/* One VP8 frame in one packet from the captured offer's camera (RFC 7741 §4.2 descriptor S=1 PID=0,
 * §4.3 payload header; a key frame with its RFC 6386 §9.1 start code and a 320x240 size), 40 bytes. */
static const uint8_t vp8_key[11] = {0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
static const uint8_t vp8_delta[4] = {0x10, 0x11, 0x02, 0x00};

static int send_vp8(mw_client_t *c, uint16_t seq, bool key)
{
    uint8_t buf[128 + OVL_SRTP_MAX_OVERHEAD] = {0x80, 0x80 | 96};
    uint32_t ts = 3000u * seq, ssrc = 3620418310u;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    memcpy(buf + 12, key ? vp8_key : vp8_delta, key ? sizeof(vp8_key) : sizeof(vp8_delta));
    buf[12 + 39] = (uint8_t)seq; /* tells the packets apart */
    size_t len = 12 + 40;
    return ovl_transport_send_rtp(c->t, buf, &len, sizeof(buf));
}

typedef struct count_wait {
    mw_client_t *c;
    unsigned rtp;
} count_wait_t;

static bool cond_rtp_count(mw_t *w, void *arg)
{
    (void)w;
    const count_wait_t *cw = arg;
    return cw->c->rtp >= cw->rtp;
}

/* PROTOCOL.md "receive": through the plane's API (as signaling calls it), video:false stops the
 * camera video the relay forwards to b while its audio goes on; video:true resumes at a key frame. */
static void test_receive_video_off_and_on(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 1, OVL_SEC(5));
    mw_client_t *a = mw_connect(&w, "meetingR", 1);
    mw_client_t *b = mw_connect(&w, "meetingR", 2);
    const char *want[2] = {(const char *)b, "a=msid:p1 p1-camera\r\n"};
    assert_true(mw_wait(&w, cond_offer_with, want, WAIT));
    uint32_t cam = announced_ssrc(b, "p1 p1-camera"), aud = announced_ssrc(b, "p1 p1-audio");
    assert_true(cam != 0 && aud != 0);
    mw_pump(&w, 200);
    uint16_t vseq = 1, aseq = 1;
    /* Video flows: a key frame, then deltas. */
    assert_int_equal(send_vp8(a, vseq++, true), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(send_vp8(a, vseq++, false), 0);
    count_wait_t cw = {b, 5};
    assert_true(mw_wait(&w, cond_rtp_count, &cw, WAIT));
    assert_int_equal(b->last_ssrc, cam);

    /* video:false: deltas and key frames stay with the relay; audio still arrives. */
    assert_int_equal(ovl_media_receive(w.m, 2, false), 0);
    mw_pump(&w, 100);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(send_vp8(a, vseq++, i == 2), 0);
        assert_int_equal(mw_send_audio(a, aseq++), 0);
        mw_pump(&w, 20);
    }
    cw.rtp = 10;
    assert_true(mw_wait(&w, cond_rtp_count, &cw, WAIT));
    mw_pump(&w, 200);
    assert_int_equal(b->rtp, 10); /* only the five audio packets */
    assert_int_equal(b->last_ssrc, aud);

    /* video:true: deltas are held until a key frame, which comes out first. */
    assert_int_equal(ovl_media_receive(w.m, 2, true), 0);
    mw_pump(&w, 100);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_vp8(a, vseq++, false), 0);
    mw_pump(&w, 200);
    assert_int_equal(b->rtp, 10);
    assert_int_equal(send_vp8(a, vseq++, true), 0);
    cw.rtp = 11;
    assert_true(mw_wait(&w, cond_rtp_count, &cw, WAIT));
    assert_int_equal(b->last_ssrc, cam);
    assert_memory_equal(b->last_payload, vp8_key, sizeof(vp8_key));
    assert_int_equal(send_vp8(a, vseq++, false), 0);
    cw.rtp = 12;
    assert_true(mw_wait(&w, cond_rtp_count, &cw, WAIT));
    assert_int_equal(ovl_media_receive(w.m, 99, false), OVL_ERR_NOTFOUND);
    /* The metrics count the frames b did not get, by reason. */
    mw_pump(&w, 300);
    char *text = ovl_media_metrics_render(w.m);
    assert_non_null(text);
    assert_non_null(strstr(text, "overleg_media_video_thinned_frames_total{worker=\"0\",reason=\"receiver\"} 5\n"));
    free(text);
    mw_free(&w);
}

/* RFC 7675 §5.1: a client that stops answering loses consent; FAILED goes up (signaling then
 * tells the others) and the others get an offer retiring its tracks. */
static void test_silent_client_fails_and_is_retired(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 1, OVL_SEC(2));
    mw_client_t *a = mw_connect(&w, "meetingA", 1);
    mw_client_t *b = mw_connect(&w, "meetingA", 2);
    const char *want[2] = {(const char *)b, "a=msid:p1 p1-audio\r\n"};
    assert_true(mw_wait(&w, cond_offer_with, want, WAIT));
    size_t offers = b->n_offers;
    a->silent = true; /* like a browser killed with SIGKILL */
    assert_true(mw_wait(&w, cond_failed, a, WAIT));
    assert_int_equal(b->failed, 0);
    assert_non_null(strstr(a->fail_reason, "onsent"));
    const char *gone[2] = {(const char *)b, "a=inactive\r\n"};
    assert_true(mw_wait(&w, cond_offer_with, gone, WAIT));
    assert_true(b->n_offers > offers);
    assert_null(strstr(b->offers[b->n_offers - 1], "msid:p1"));
    /* Signaling reacts to FAILED with a leave; the relay already let the participant go. */
    ovl_media_leave(w.m, 1);
    mw_pump(&w, 500);
    ovl_media_stats_t st;
    ovl_media_stats(w.m, 0, &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.participants, 1);
    assert_int_equal(st.transports, 1);
    mw_free(&w);
}

static bool cond_restarted(mw_t *w, void *arg)
{
    (void)w;
    mw_client_t *c = arg;
    return c->restarted_events > 0;
}

/* RFC 8445 §9: an ICE restart gives new credentials in a relay offer; the client restarts with
 * them and media keeps flowing over the same DTLS-SRTP session. */
static void test_ice_restart_keeps_the_call(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 1, OVL_SEC(2));
    mw_client_t *a = mw_connect(&w, "meetingA", 1);
    mw_client_t *b = mw_connect(&w, "meetingA", 2);
    const char *want[2] = {(const char *)b, "a=msid:p1 p1-audio\r\n"};
    assert_true(mw_wait(&w, cond_offer_with, want, WAIT));
    char old_ufrag[OVL_SDP_ICE_LEN];
    snprintf(old_ufrag, sizeof(old_ufrag), "%s", a->relay_ufrag);
    size_t offers = a->n_offers;
    a->auto_answer = false;
    assert_int_equal(ovl_media_ice_restart(w.m, 1), 0);
    for (int i = 0; i < 500 && a->n_offers == offers; i++)
        mw_pump(&w, 20);
    assert_true(a->n_offers > offers);
    const char *restart = a->offers[a->n_offers - 1];
    mw_relay_params(a, restart);
    assert_string_not_equal(a->relay_ufrag, old_ufrag);
    assert_non_null(strstr(restart, "a=setup:actpass\r\n"));
    /* The client restarts ICE with the new credentials, then answers. */
    char ufrag[16];
    snprintf(ufrag, sizeof(ufrag), "rs%llu", (unsigned long long)a->id);
    snprintf(a->ufrag, sizeof(a->ufrag), "%s", ufrag);
    ovl_transport_ice_restart_t r = {
        .local_ufrag = a->ufrag, .remote_ufrag = a->relay_ufrag, .remote_pwd = a->relay_pwd};
    assert_int_equal(ovl_transport_restart_ice(a->t, &r, ovl_clock_now()), 0);
    mw_answer_offer(&w, a);
    a->auto_answer = true;
    assert_true(mw_wait(&w, cond_restarted, a, WAIT));
    uint32_t ssrc = announced_ssrc(b, "p1 p1-audio");
    rtp_wait_t rw = {a, b, ssrc, 500};
    b->rtp = 0;
    assert_true(mw_wait(&w, cond_rtp_arrived, &rw, WAIT));
    assert_int_equal(a->failed, 0);
    mw_free(&w);
}

/* Commands the plane refuses at once, on the signaling thread. */
static void test_commands_refused(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 1, OVL_SEC(2));
    mw_client_t *a = mw_join(&w, "meetingA", 1);
    assert_int_equal(ovl_media_join(w.m, "meetingA", 1, "p1"), OVL_ERR_STATE);
    assert_int_equal(ovl_media_join(w.m, "meetingA", 9, "p 9"), OVL_ERR_ARG);
    assert_int_equal(ovl_media_join(w.m, "", 9, "p9"), OVL_ERR_ARG);
    assert_int_equal(ovl_media_offer(w.m, 1, "v=0\r\n"), OVL_ERR_PARSE);
    assert_int_equal(ovl_media_offer(w.m, 77, "v=0\r\n"), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_media_answer(w.m, 77, "v=0\r\n"), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_media_ice_restart(w.m, 77), OVL_ERR_NOTFOUND);
    /* An offer without a DTLS fingerprint cannot be answered (RFC 8827 §6.5). */
    char *offer = mw_client_offer(a);
    char *fp = strstr(offer, "a=fingerprint:");
    while (fp) {
        fp[2] = 'X'; /* a=Xingerprint: an unknown attribute */
        fp = strstr(fp, "a=fingerprint:");
    }
    assert_int_equal(ovl_media_offer(w.m, 1, offer), OVL_ERR_UNSUPPORTED);
    free(offer);
    /* The participant can still offer properly afterwards. */
    offer = mw_client_offer(a);
    assert_int_equal(ovl_media_offer(w.m, 1, offer), 0);
    free(offer);
    assert_true(mw_wait(&w, mw_cond_connected, a, WAIT));
    ovl_media_leave(w.m, 1);
    ovl_media_leave(w.m, 1); /* twice: nothing */
    ovl_media_end(w.m, "meetingA");
    mw_pump(&w, 500);
    ovl_media_stats_t st;
    ovl_media_stats(w.m, 0, &st);
    assert_int_equal(st.participants, 0);
    assert_int_equal(st.rooms, 0);
    mw_free(&w);
}

/* The meeting ends with people in it: everyone goes at once, nobody gets FAILED. */
static void test_meeting_end_frees_everything(void **state)
{
    (void)state;
    mw_t w;
    mw_init(&w, 2, OVL_SEC(2));
    mw_client_t *a = mw_connect(&w, "meetingA", 1);
    mw_client_t *b = mw_connect(&w, "meetingA", 2);
    ovl_media_end(w.m, "meetingA");
    mw_pump(&w, 500);
    ovl_media_stats_t st;
    uint64_t parts = 0, rooms = 0;
    for (size_t i = 0; i < ovl_media_worker_count(w.m); i++) {
        ovl_media_stats(w.m, i, &st);
        parts += st.participants, rooms += st.rooms;
    }
    assert_int_equal(parts, 0);
    assert_int_equal(rooms, 0);
    assert_int_equal(a->failed + b->failed, 0);
    /* The ids are free again on the signaling side. */
    assert_int_equal(ovl_media_join(w.m, "meetingA", 1, "p1"), 0);
    mw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_is_ice_lite_and_connects),
        cmocka_unit_test(test_receive_video_off_and_on),
        cmocka_unit_test(test_rtp_forwarded_within_the_room_only),
        cmocka_unit_test(test_silent_client_fails_and_is_retired),
        cmocka_unit_test(test_ice_restart_keeps_the_call),
        cmocka_unit_test(test_commands_refused),
        cmocka_unit_test(test_meeting_end_frees_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
