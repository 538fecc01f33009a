/*
 * The synthetic peer's media thread end to end over real UDP on 127.0.0.1, without the server: this test plays
 * the signaling server (it hands each peer JOINED, the relay's answer and relay offers through the peer's rings)
 * and a minimal relay (one SERVER-role ovl_transport_t per peer behind a transport map on one UDP socket; it
 * forwards every RTP and RTCP packet from one peer to the others unchanged, re-encrypted per receiver, and
 * announces each publisher's own SSRCs in its offers). So everything of the peer is real: ICE, DTLS, SRTP,
 * libvpx/libopus, RTP, NACK/RTX, PLI, RTCP reports, the summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/overleg-peer/peer.h"
#include "relay/io/clock.h"
#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/udp.h"
#include "relay/proto/sdp_client.h"
#include "relay/transport/transport.h"
#include "relay/transport/transport_map.h"

#define MAX_PEERS 3
#define PATH      1
#define DEADLINE  OVL_SEC(60)

typedef struct relay relay_t;

typedef struct rpeer {
    relay_t *r;
    int idx;
    char id[16], ufrag[16], pwd[40];
    ovl_peer_opts_t opts;
    ovl_peer_media_t *m;
    ovl_transport_t *t; /* the relay's transport to this peer */
    ovl_sdp_t *local;   /* the relay's last description to this peer */
    uint32_t audio, video, rtx;
    bool joined, offered, done;
    bool subscribed[MAX_PEERS];
    unsigned next_mid;
    ovl_time_t join_at;
    ovl_peer_report_t report;
} rpeer_t;

struct relay {
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    ovl_udp_t *udp;
    ovl_transport_map_t *map;
    ovl_dtls_cert_t *cert;
    ovl_timer_t timer;
    ovl_time_t deadline;
    rpeer_t peers[MAX_PEERS];
    size_t n;
    bool timed_out;
    uint8_t buf[OVL_MEDIA_BUF];
};

/* ---- the relay's side of a datagram ---- */

static void relay_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    relay_t *r = ((rpeer_t *)user)->r;
    struct sockaddr_storage ss;
    size_t sslen;
    ovl_pkt_t *p;
    (void)path_id;
    if (ovl_addr_to_sockaddr(to, &ss, &sslen) != 0 || len > OVL_POOL_DATA || !(p = ovl_pool_get(r->pool)))
        return;
    memcpy(p->data, data, len);
    p->len = len;
    (void)ovl_udp_send(r->udp, p, (struct sockaddr *)&ss, (socklen_t)sslen, NULL);
    ovl_pkt_unref(p);
}

/* Forwarding: every packet to every other peer that receives this one's tracks (RTCP to all others). */
static void forward(rpeer_t *from, const uint8_t *buf, size_t len, bool rtcp)
{
    relay_t *r = from->r;
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *q = &r->peers[i];
        size_t n = len;
        if (q == from || !q->t || ovl_transport_state(q->t) != OVL_TRANSPORT_CONNECTED ||
            (!rtcp && !q->subscribed[from->idx]) || len > OVL_MEDIA_MAX_RTP)
            continue;
        memcpy(r->buf, buf, len);
        if (rtcp)
            (void)ovl_transport_send_rtcp(q->t, r->buf, &n, sizeof(r->buf));
        else
            (void)ovl_transport_send_rtp(q->t, r->buf, &n, sizeof(r->buf));
    }
}

static void on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    (void)now;
    forward(user, buf, len, false);
}

static void on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    (void)now;
    forward(user, buf, len, true);
}

static void on_state(void *user, const ovl_transport_event_t *ev)
{
    rpeer_t *p = user;
    if (ev->type == OVL_TRANSPORT_EVENT_FAILED || ev->type == OVL_TRANSPORT_EVENT_CONSENT_LOST)
        fprintf(stderr, "relay: peer %s: %s: %s\n", p->id, ovl_transport_event_name(ev->type), ev->reason);
}

/* ---- the signaling side ---- */

static void post(rpeer_t *p, ovl_peer_msg_type_t type, const char *id, const char *name, char *sdp)
{
    ovl_peer_msg_t m = {.type = type, .sdp = sdp};
    snprintf(m.id, sizeof(m.id), "%s", id ? id : "");
    snprintf(m.name, sizeof(m.name), "%s", name ? name : "");
    assert_int_equal(ovl_peer_media_post(p->m, &m), 0);
}

static char *text_of(const ovl_sdp_t *sdp)
{
    char *text;
    size_t len;
    assert_int_equal(ovl_sdp_client_text(sdp, &text, &len), 0);
    return text;
}

/* Adds the tracks of every other peer that has offered to `q`'s next relay offer. */
static void renegotiate(relay_t *r, rpeer_t *q)
{
    ovl_sdp_t *offer = NULL;
    bool any = false;
    char mids[2 * MAX_PEERS][8];
    size_t used = 0;
    assert_int_equal(ovl_sdp_offer_begin(q->local, &offer), 0);
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *p = &r->peers[i];
        if (p == q || !p->offered || q->subscribed[i])
            continue;
        snprintf(mids[used], sizeof(mids[used]), "%u", q->next_mid++);
        ovl_sdp_send_track_t a = {OVL_SDP_KIND_AUDIO, mids[used++], p->id, "audio", p->id, p->audio, 0};
        snprintf(mids[used], sizeof(mids[used]), "%u", q->next_mid++);
        ovl_sdp_send_track_t v = {OVL_SDP_KIND_VIDEO, mids[used++], p->id, "camera", p->id, p->video, p->rtx};
        assert_int_equal(ovl_sdp_offer_add_send(offer, &a), 0);
        assert_int_equal(ovl_sdp_offer_add_send(offer, &v), 0);
        q->subscribed[i] = true;
        any = true;
    }
    if (!any) {
        ovl_sdp_free(offer);
        return;
    }
    post(q, OVL_PEER_MSG_OFFER, NULL, NULL, text_of(offer));
    ovl_sdp_free(q->local);
    q->local = offer;
}

static void on_peer_offer(relay_t *r, rpeer_t *p, const char *text)
{
    ovl_sdp_t *offer = NULL, *answer = NULL;
    ovl_sdp_client_remote_t remote;
    ovl_sdp_candidate_t cand = {.foundation = "1",
                                .component = 1,
                                .proto = OVL_SDP_CAND_UDP,
                                .priority = 2130706431,
                                .address = "127.0.0.1",
                                .type = OVL_SDP_CAND_HOST};
    ovl_sdp_local_t local = {.ice_ufrag = p->ufrag,
                             .ice_pwd = p->pwd,
                             .session_id = 77,
                             .session_version = 2,
                             .candidates = &cand,
                             .n_candidates = 1};
    cand.port = ovl_udp_port(r->udp);
    memcpy(local.fingerprint_sha256, ovl_dtls_cert_fingerprint(r->cert)->bytes, 32);
    assert_int_equal(ovl_sdp_parse(text, strlen(text), &offer, NULL), 0);
    /* The peer's SSRCs: a=ssrc in its audio section, the FID group in its video section. */
    assert_int_equal(offer->n_media, 2);
    p->audio = offer->media[0].ssrcs[0].ssrc;
    p->video = offer->media[1].ssrc_groups[0].ssrcs[0];
    p->rtx = offer->media[1].ssrc_groups[0].ssrcs[1];
    assert_int_equal(ovl_sdp_client_remote(offer, &remote), 0); /* its ufrag and fingerprint (setup actpass) */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &answer), 0);
    ovl_transport_config_t tc = {.role = OVL_TRANSPORT_SERVER,
                                 .local_ufrag = p->ufrag,
                                 .local_pwd = p->pwd,
                                 .remote_ufrag = remote.ice_ufrag,
                                 .cert = r->cert,
                                 .remote_fingerprint = &remote.fingerprint,
                                 .map = r->map,
                                 .send = relay_send,
                                 .on_rtp = on_rtp,
                                 .on_rtcp = on_rtcp,
                                 .on_state = on_state,
                                 .user = p};
    assert_int_equal(ovl_transport_new(&tc, ovl_loop_now(r->loop), &p->t), 0);
    post(p, OVL_PEER_MSG_ANSWER, NULL, NULL, text_of(answer));
    p->local = answer;
    p->next_mid = (unsigned)answer->n_media;
    p->offered = true;
    ovl_sdp_free(offer);
    for (size_t i = 0; i < r->n; i++)
        if (r->peers[i].offered)
            renegotiate(r, &r->peers[i]);
}

static void poll_peers(relay_t *r)
{
    ovl_peer_msg_t m;
    bool all_done = true;
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *p = &r->peers[i];
        while (ovl_peer_media_poll(p->m, &m) == 0) {
            if (m.type == OVL_PEER_MSG_SEND_OFFER) {
                on_peer_offer(r, p, m.sdp);
            } else if (m.type == OVL_PEER_MSG_SEND_ANSWER) {
                ovl_sdp_t *a = NULL;
                assert_int_equal(ovl_sdp_parse(m.sdp, strlen(m.sdp), &a, NULL), 0);
                ovl_sdp_free(a);
            } else if (m.type == OVL_PEER_MSG_DONE) {
                p->done = true;
            }
            free(m.sdp);
        }
        all_done = all_done && p->done;
    }
    if (all_done)
        ovl_loop_stop(r->loop);
}

/* ---- the loop ---- */

static void rearm(relay_t *r)
{
    ovl_time_t t = r->deadline;
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *p = &r->peers[i];
        ovl_time_t x = p->t ? ovl_transport_next_timeout(p->t) : OVL_TIME_NEVER;
        if (!p->joined && p->join_at < t)
            t = p->join_at;
        if (x < t)
            t = x;
    }
    (void)ovl_timer_schedule(ovl_loop_timers(r->loop), &r->timer, t);
}

static void join_peer(relay_t *r, rpeer_t *p)
{
    p->joined = true;
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *q = &r->peers[i];
        if (q == p || !q->joined)
            continue;
        post(p, OVL_PEER_MSG_PARTICIPANT, q->id, q->opts.name, NULL);
        post(q, OVL_PEER_MSG_PARTICIPANT, p->id, p->opts.name, NULL);
    }
    post(p, OVL_PEER_MSG_JOINED, p->id, NULL, NULL);
}

static void on_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    relay_t *r = ctx;
    (void)timer;
    if (now >= r->deadline) {
        r->timed_out = true;
        ovl_loop_stop(r->loop);
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        rpeer_t *p = &r->peers[i];
        if (!p->joined && p->join_at <= now)
            join_peer(r, p);
        if (p->t && ovl_transport_next_timeout(p->t) <= now)
            ovl_transport_on_timeout(p->t, now);
    }
    rearm(r);
}

static void on_readable(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    relay_t *r = ctx;
    ovl_udp_dgram_t d[32];
    size_t n = 0;
    (void)fd;
    (void)events;
    if (ovl_udp_recv(r->udp, d, 32, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        ovl_addr_t from;
        if (ovl_addr_from_sockaddr(&from, (struct sockaddr *)&d[i].src) == 0)
            (void)ovl_transport_map_dispatch(r->map, PATH, &from, d[i].pkt->data, d[i].pkt->len, ovl_loop_now(loop),
                                             NULL);
        ovl_pkt_unref(d[i].pkt);
    }
    rearm(r);
}

static void on_turn_end(ovl_loop_t *loop, void *ctx)
{
    relay_t *r = ctx;
    (void)loop;
    poll_peers(r);
    rearm(r);
    (void)ovl_udp_flush(r->udp);
}

static void wake(void *ctx)
{
    ovl_loop_wakeup(((relay_t *)ctx)->loop);
}

static ovl_peer_opts_t peer_opts(const char *name)
{
    ovl_peer_opts_t o = {.link = "in-process",
                         .name = name,
                         .duration = OVL_SEC(3),
                         .expect = 0,
                         .seed = 1,
                         .bind = "127.0.0.1",
                         .linger = OVL_MS(500),
                         .wait_more = OVL_SEC(10),
                         .width = 320,
                         .height = 180,
                         .fps = 30,
                         .video_kbps = 300};
    return o;
}

/* Runs `n` peers (join_at: offsets from now) through the relay until every one is done. */
static void run(relay_t *r, const ovl_peer_opts_t *opts, const ovl_time_t *join_after, size_t n)
{
    ovl_udp_config_t uc = {.addr = "127.0.0.1"};
    char err[200];
    memset(r, 0, sizeof(*r));
    assert_int_equal(ovl_loop_new(&r->loop, 16), 0);
    assert_int_equal(ovl_pool_new(&r->pool, 1024), 0);
    assert_int_equal(ovl_udp_new(&r->udp, &uc, r->pool), 0);
    assert_int_equal(ovl_transport_map_new(16, NULL, &r->map), 0);
    assert_int_equal(ovl_dtls_cert_generate(&r->cert), 0);
    assert_int_equal(ovl_loop_add(r->loop, ovl_udp_fd(r->udp), OVL_LOOP_READ, on_readable, r), 0);
    assert_int_equal(ovl_loop_add_hook(r->loop, on_turn_end, r), 0);
    ovl_timer_init(&r->timer, on_timer, r);
    ovl_time_t now = ovl_clock_now();
    r->deadline = now + DEADLINE;
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        rpeer_t *p = &r->peers[i];
        p->r = r;
        p->idx = (int)i;
        p->opts = opts[i];
        snprintf(p->id, sizeof(p->id), "p%d", (int)i + 1);
        snprintf(p->ufrag, sizeof(p->ufrag), "rel%d", (int)i + 1);
        snprintf(p->pwd, sizeof(p->pwd), "relaypassword0123456789%d", (int)i + 1);
        p->join_at = now + join_after[i];
        if (ovl_peer_media_new(&p->opts, wake, r, &p->m, err, sizeof(err)) != 0)
            fail_msg("peer %zu: %s", i, err);
        assert_int_equal(ovl_peer_media_start(p->m), 0);
    }
    rearm(r);
    assert_int_equal(ovl_loop_run(r->loop), 0);
    if (r->timed_out)
        for (size_t i = 0; i < n; i++)
            ovl_peer_media_interrupt(r->peers[i].m);
    for (size_t i = 0; i < n; i++) {
        rpeer_t *p = &r->peers[i];
        ovl_peer_media_join(p->m);
        p->report = *ovl_peer_media_report(p->m);
        ovl_peer_media_free(p->m);
        ovl_transport_free(p->t);
        ovl_sdp_free(p->local);
    }
    ovl_transport_map_free(r->map);
    ovl_udp_free(r->udp);
    ovl_pool_free(r->pool);
    ovl_loop_free(r->loop);
    ovl_dtls_cert_free(r->cert);
    assert_false(r->timed_out);
}

/* On a failure, the whole summary helps. */
static void dump(const ovl_peer_report_t *rep)
{
    char *text = ovl_peer_report_json(rep);
    fprintf(stderr, "%s\n", text ? text : "?");
    free(text);
}

static const ovl_peer_remote_report_t *remote(const ovl_peer_report_t *rep, const char *id)
{
    for (size_t i = 0; i < rep->n_remotes; i++)
        if (strcmp(rep->remotes[i].id, id) == 0)
            return &rep->remotes[i];
    fail_msg("no remote %s", id);
    return NULL;
}

/* What a run with min_frames = min_video promises (the peers run until they have it, within wait_more), checked
 * again, and that it is the real thing: the sender's pattern, the tone. */
static void assert_decoded(const ovl_peer_remote_report_t *x, uint64_t min_video)
{
    const ovl_media_receiver_stats_t *a = &x->audio.st, *v = &x->video.st;
    if (v->frames_decoded < min_video || a->frames_decoded < min_video)
        fail_msg("remote %s: audio %llu video %llu frames decoded", x->id, (unsigned long long)a->frames_decoded,
                 (unsigned long long)v->frames_decoded);
    assert_int_equal(v->frames_verified, v->frames_decoded); /* every picture is the sender's test pattern */
    assert_int_equal(v->frames_undecodable, 0);
    assert_true(v->keyframes >= 1);
    assert_true(a->audio_level < 20); /* the tone (-10 dBov or so), not silence (127) */
}

/* Three peers decode each other's audio and video; the JSON summary says so. */
static void test_three_peers(void **state)
{
    (void)state;
    relay_t *r = calloc(1, sizeof(*r));
    ovl_peer_opts_t o[3] = {peer_opts("Ann"), peer_opts("Bob"), peer_opts("Cas")};
    ovl_time_t at[3] = {0, 0, 0};
    for (size_t i = 0; i < 3; i++) {
        o[i].expect = 2;
        o[i].min_frames =
            30; /* run until 30 frames of each other, not for a fixed time a loaded machine may not fill */
    }
    run(r, o, at, 3);
    for (size_t i = 0; i < 3; i++) {
        const ovl_peer_report_t *rep = &r->peers[i].report;
        if (rep->code != 0) {
            dump(rep);
            fail_msg("peer %zu: exit %d: %s", i, rep->code, rep->reason);
        }
        if (rep->n_remotes != 2)
            dump(rep);
        assert_int_equal(rep->complete, 2);
        assert_int_equal(rep->n_remotes, 2);
        assert_string_equal(rep->profile, "AEAD_AES_128_GCM");
        /* No packet of an SSRC that no relay offer named; packets that came just before the offer naming their
         * SSRC was applied are fine (this relay forwards as soon as it has sent the offer). */
        assert_int_equal(rep->unknown_ssrc - rep->unknown_ssrc_named, 0);
        assert_true(rep->rtcp_received > 0);
        assert_true(rep->rtt_us >= 0); /* the other peers' receiver reports come back through the relay */
        for (size_t k = 0; k < 3; k++)
            if (k != i) {
                const ovl_peer_remote_report_t *x = remote(rep, r->peers[k].id);
                assert_decoded(x, 30);
                /* at least half of the video the other sent (the rest: before the subscription, after leaving) */
                assert_true(2 * x->video.st.frames_decoded >= r->peers[k].report.video_sent.frames);
            }
        /* The summary as JSON: what a test script reads. */
        char *text = ovl_peer_report_json(rep);
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        assert_non_null(j);
        assert_true(json_is_true(json_object_get(j, "ok")));
        assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 0);
        assert_int_equal(json_array_size(json_object_get(j, "remotes")), 2);
        json_t *rem = json_array_get(json_object_get(j, "remotes"), 0);
        assert_string_equal(json_string_value(json_object_get(rem, "id")), rep->remotes[0].id);
        assert_int_equal(json_integer_value(json_object_get(rem, "video_frames_decoded")),
                         rep->remotes[0].video.st.frames_decoded);
        assert_true(json_is_real(json_object_get(rem, "first_video_ms")));
        assert_non_null(json_object_get(json_object_get(rem, "video"), "nacks_sent"));
        json_decref(j);
        free(text);
        FILE *devnull = fopen("/dev/null", "w");
        ovl_peer_report_print(rep, devnull);
        fclose(devnull);
    }
    /* Names came through PARTICIPANT messages. */
    assert_string_equal(remote(&r->peers[0].report, "p2")->name, "Bob");
    free(r);
}

/* --loss 5 on one peer: every video frame still decodes, repaired by NACK/RTX, and the summary shows it. */
static void test_loss_repaired(void **state)
{
    (void)state;
    relay_t *r = calloc(1, sizeof(*r));
    ovl_peer_opts_t o[2] = {peer_opts("Ann"), peer_opts("Bob")};
    ovl_time_t at[2] = {0, 0};
    o[0].expect = o[1].expect = 1;
    o[0].min_frames = o[1].min_frames = 50; /* >= 100 media packets through the loss stage */
    o[1].loss = 5;
    o[1].seed = 7;
    o[0].duration = o[1].duration = OVL_SEC(4);
    run(r, o, at, 2);
    const ovl_peer_report_t *a = &r->peers[0].report, *b = &r->peers[1].report;
    assert_int_equal(a->code, 0);
    if (b->code != 0) {
        dump(b);
        fail_msg("exit %d: %s", b->code, b->reason);
    }
    const ovl_peer_remote_report_t *x = remote(b, "p1");
    assert_decoded(x, 30);
    /* About 5 % dropped: at least 2 % of the packets that reached the loss stage (seed 7 stays above 2.3 % from
     * the 100th packet on). */
    assert_true(b->dropped > 0 && b->dropped * 50 >= b->dropped + x->audio.st.packets + x->video.st.packets);
    assert_int_equal(x->video.dropped + x->audio.dropped, b->dropped);
    assert_true(x->video.st.nack_packets > 0);
    assert_true(x->video.st.rtx_packets > 0);
    assert_int_equal(x->video.st.lost, 0);
    assert_true(a->video_sent.rtx_packets >= x->video.st.rtx_packets);
    assert_true(x->audio.st.frames_concealed > 0); /* audio is not retransmitted: FEC/PLC */
    /* Most of what was sent was decoded (the rest: before B's transport was up, or after it left). */
    assert_true(2 * x->video.st.frames_decoded >= a->video_sent.frames);
    free(r);
}

/* A peer that joins 2 s later decodes its first video frame within a second of its transport being up. */
static void test_late_joiner(void **state)
{
    (void)state;
    relay_t *r = calloc(1, sizeof(*r));
    ovl_peer_opts_t o[3] = {peer_opts("Ann"), peer_opts("Bob"), peer_opts("Late")};
    ovl_time_t at[3] = {0, 0, OVL_SEC(2)};
    for (size_t i = 0; i < 3; i++)
        o[i].expect = 2;
    run(r, o, at, 3);
    const ovl_peer_report_t *late = &r->peers[2].report;
    for (size_t i = 0; i < 3; i++)
        if (r->peers[i].report.code != 0) {
            dump(&r->peers[i].report);
            fail_msg("peer %zu: exit %d: %s", i, r->peers[i].report.code, r->peers[i].report.reason);
        }
    for (size_t k = 0; k < 2; k++) {
        const ovl_peer_remote_report_t *x = remote(late, r->peers[k].id);
        ovl_time_t first = x->video.st.first_frame_at - late->connected_at;
        /* 1 s, plus what the load measurably cost the late peer and the publisher: the most their media timers
         * fired late (a few ms when the machine is idle). */
        ovl_time_t allow = OVL_SEC(1) + late->max_loop_lag + r->peers[k].report.max_loop_lag;
        assert_true(x->video.st.first_frame_at > late->connected_at);
        if (first > allow)
            fail_msg("first video frame of %s after %llu ms (allowed %llu)", x->id, (unsigned long long)(first / 1000),
                     (unsigned long long)(allow / 1000));
    }
    free(r);
}

/* Fewer peers than expected: exit code 1 after waiting, with a reason; K = 0 just runs for the duration. */
static void test_expectation(void **state)
{
    (void)state;
    relay_t *r = calloc(1, sizeof(*r));
    ovl_peer_opts_t o[2] = {peer_opts("Ann"), peer_opts("Bob")};
    ovl_time_t at[2] = {0, 0};
    o[0].expect = 2;
    o[0].duration = o[1].duration = OVL_SEC(1);
    o[0].wait_more = OVL_SEC(1);
    run(r, o, at, 2);
    assert_int_equal(r->peers[0].report.code, OVL_PEER_EXIT_EXPECT);
    assert_non_null(strstr(r->peers[0].report.reason, "1 of 2"));
    assert_int_equal(r->peers[1].report.code, 0);
    free(r);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_peers),
        cmocka_unit_test(test_loss_repaired),
        cmocka_unit_test(test_late_joiner),
        cmocka_unit_test(test_expectation),
    };
    if (argc > 1) /* one test by name, for debugging */
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
