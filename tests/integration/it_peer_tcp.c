/*
 * Integration: the synthetic peer over ICE-TCP (RFC 6544: one connection from the peer, `tcptype active`, to
 * the relay's passive candidate on the HTTPS port; RFC 4571 framing) through the real `overleg serve`, with the
 * server's default consent timeout (30 s, RFC 7675), run as separate processes like it_peer.c:
 *
 *   - two peers over TCP decode each other's audio and video; with --loss 5 on one of them NACK/RTX repairs its
 *     video as over UDP (the counters in the summaries say so) and key frames arrive;
 *   - a mixed call: one peer over UDP, one over TCP;
 *   - the connection cut mid-call: a third peer over TCP closes its connection abruptly (--cut-after) without
 *     leaving; the relay removes that path at once, and since it was the participant's only path, treats it as
 *     media-disconnected (the consent-failure path): the others get participant-left {reason: media-failed}
 *     and the cut peer end {media-failed}, both well before the 30 s consent timeout, while the two others keep
 *     decoding each other.
 *
 * Timings are measured on CLOCK_MONOTONIC, which every process of the machine shares: each summary carries its
 * start (started_monotonic_ms), so the cut in one peer and the news in another can be compared. Made for a
 * loaded 2-core machine (and sanitizers): peers run until they decoded enough (--min-frames), the two that stay
 * in the cut test until this test ends them; time bounds get what the load measurably cost the peers (how late
 * their timers fired, max_loop_lag_ms); the numbers are printed for the record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ovl_harness.h"

/* --min-frames of peers whose decoding is checked: what assert_decoded asks for, and with at least 50 audio and
 * 50 video frames each way, more than the 100 RFC 4571 frames assert_path asks for. */
#define MIN_FRAMES "50"

static char port_env[48] = "OVERLEG_PUBLIC_PORT=0";
static const char *const env[] = {"OVERLEG_PUBLIC_IP=127.0.0.1", port_env, NULL}; /* consent timeout: default */
static ovl_srv_t srv;

typedef ovl_it_peer_t peer_t;

static void make_links(char *host, char *guest, size_t cap)
{
    char out[4096];
    json_error_t e;
    assert_int_equal(ovl_cli(&srv, out, sizeof(out), "meeting", "create", "--title", "TCP", "--json", NULL), 0);
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    snprintf(host, cap, "%s", json_string_value(json_object_get(j, "host_link")));
    snprintf(guest, cap, "%s", json_string_value(json_object_get(j, "guest_link")));
    json_decref(j);
}

/* Starts build/overleg-peer --link LINK --name NAME --json --insecure --transport T ARGS... (NULL-terminated). */
static void peer_start(peer_t *p, const char *link, const char *name, const char *transport, ...)
{
    const char *argv[32] = {"overleg-peer", "--link",     link,          "--name", name,
                            "--json",       "--insecure", "--transport", transport};
    int argc = 9;
    va_list ap;
    va_start(ap, transport);
    while (argc < 31 && (argv[argc] = va_arg(ap, const char *)))
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    assert_int_equal(ovl_it_peer_start(p, srv.dir, "tcp-peer", argv), 0);
}

static void check(const peer_t *p, bool ok, const char *what)
{
    if (!ok) {
        ovl_it_peer_show(p);
        fail_msg("%s: %s", p->out, what);
    }
}

static int64_t num(const json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

static double real(const json_t *j, const char *key)
{
    return json_number_value(json_object_get(j, key)); /* integer or real */
}

/* The most the peer's media timer ever fired after its time, in ms: how much CPU starvation it saw. */
static double lag_ms(const peer_t *p)
{
    return real(p->json, "max_loop_lag_ms");
}

static json_t *remote_must(const peer_t *p, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(p->json, "remotes"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    check(p, false, "a remote is missing");
    return NULL;
}

/* Decoded audio and video of `name`, every video frame a real picture of the sender's test pattern. */
static void assert_decoded(const peer_t *p, const char *name)
{
    json_t *r = remote_must(p, name), *v = json_object_get(r, "video");
    check(p, num(r, "audio_frames_decoded") >= 25 && num(r, "video_frames_decoded") >= 15, "decoded too little");
    check(p, num(v, "frames_verified") == num(v, "frames_decoded"), "a picture is not the test pattern");
    check(p, num(r, "undecodable_frames") == 0, "undecodable frames");
    check(p, num(v, "keyframes") >= 1, "no key frame");
}

/* Most of the video `sender` sent reached `p` as decoded frames (at least half: the rest went before p's
 * subscription was set up or after it left). A relay that loses or holds back video fails this however long the
 * peers run; a slow machine does not, the sender then sends less too. */
static void assert_share(const peer_t *p, const char *name, const peer_t *sender)
{
    int64_t sent = num(json_object_get(json_object_get(sender->json, "sent"), "video"), "frames");
    int64_t got = num(remote_must(p, name), "video_frames_decoded");
    if (sent <= 0 || 2 * got < sent) {
        fprintf(stderr, "%lld of %lld video frames of %s\n", (long long)got, (long long)sent, name);
        check(p, false, "decoded less than half of the video sent");
    }
}

/* The summary says the media went over `transport` to the relay's matching candidate: over TCP the HTTPS port
 * (srv.port), with frames both ways and nothing dropped from the send queue's audio class. */
static void assert_path(const peer_t *p, const char *transport)
{
    const char *path = json_string_value(json_object_get(p->json, "path"));
    char want[64];
    check(p, strcmp(json_string_value(json_object_get(p->json, "transport")), transport) == 0, "wrong transport");
    check(p, path != NULL, "no path");
    if (strcmp(transport, "tcp") == 0) {
        json_t *t = json_object_get(p->json, "tcp");
        snprintf(want, sizeof(want), "tcp 127.0.0.1:%u", srv.port);
        check(p, strcmp(path, want) == 0, "not the relay's passive TCP candidate on the HTTPS port");
        check(p, num(t, "tx_frames") > 100 && num(t, "rx_frames") > 100, "few RFC 4571 frames");
        check(p, num(t, "dropped_audio") == 0, "audio dropped from the TCP send queue");
    } else {
        check(p, strncmp(path, "udp 127.0.0.1:", 14) == 0, "not a UDP path");
        check(p, json_object_get(p->json, "tcp") == NULL, "TCP counters on a UDP peer");
    }
}

/* Milliseconds from joining to media connected (ICE + DTLS), for the record. */
static double connect_ms(const peer_t *p)
{
    json_t *tl = json_object_get(p->json, "timeline_ms");
    return real(tl, "connected") - real(tl, "joined");
}

static int group_setup(void **state)
{
    (void)state;
    if (ovl_srv_init(&srv, env) != 0 || ovl_srv_start(&srv) != 0)
        return -1;
    snprintf(port_env, sizeof(port_env), "OVERLEG_PUBLIC_PORT=%u", srv.port); /* for the CLI's links */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return ovl_srv_finish(&srv);
}

/* Two peers over ICE-TCP decode each other; 5 % loss on one is repaired by NACK/RTX (RFC 4585, RFC 4588) as
 * over UDP: every lost video packet comes back (as RTX from the relay's retransmission buffer). */
static void test_two_tcp_peers(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t a, b;
    make_links(host, guest, sizeof(host));
    peer_start(&a, host, "TcpA", "tcp", "--expect-peers", "1", "--duration", "6", "--min-frames", MIN_FRAMES, NULL);
    peer_start(&b, guest, "TcpB", "tcp", "--expect-peers", "1", "--duration", "6", "--loss", "5", "--seed", "7",
               "--min-frames", MIN_FRAMES, NULL);
    ovl_it_peer_wait(&a, 60000);
    ovl_it_peer_wait(&b, 60000);
    check(&a, a.code == 0, "exit code");
    check(&b, b.code == 0, "exit code");
    assert_path(&a, "tcp");
    assert_path(&b, "tcp");
    assert_decoded(&a, "TcpB");
    assert_decoded(&b, "TcpA");
    assert_share(&a, "TcpB", &b);
    assert_share(&b, "TcpA", &a);
    json_t *r = remote_must(&b, "TcpA"), *v = json_object_get(r, "video");
    /* --loss really dropped about 5 %: at least 2 % of the media packets that reached it (the seeded generator
     * stays above 2.3 % from the 100th packet on; at least 100 come with --min-frames 50). */
    int64_t dropped = num(json_object_get(b.json, "loss"), "dropped_packets");
    int64_t seen = dropped + num(json_object_get(r, "audio"), "packets") + num(v, "packets");
    check(&b, dropped > 0 && dropped * 50 >= seen, "--loss dropped too little");
    check(&b, num(r, "nacks_sent") > 0 && num(v, "rtx_packets") > 0, "no NACK/RTX");
    check(&b, num(v, "packets_lost") == 0, "a video packet was not repaired");
    fprintf(stderr, "[tcp+tcp] connected in %.0f / %.0f ms; %lld / %lld video frames; %lld NACKs, %lld RTX\n",
            connect_ms(&a), connect_ms(&b), (long long)num(remote_must(&a, "TcpB"), "video_frames_decoded"),
            (long long)num(r, "video_frames_decoded"), (long long)num(r, "nacks_sent"),
            (long long)num(v, "rtx_packets"));
    ovl_it_peer_done(&a);
    ovl_it_peer_done(&b);
}

/* One peer over UDP, one over TCP: the relay forwards between the two kinds of path. */
static void test_mixed_call(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t u, t;
    make_links(host, guest, sizeof(host));
    peer_start(&u, host, "Udp", "udp", "--expect-peers", "1", "--duration", "5", "--min-frames", MIN_FRAMES, NULL);
    peer_start(&t, guest, "Tcp", "tcp", "--expect-peers", "1", "--duration", "5", "--min-frames", MIN_FRAMES, NULL);
    ovl_it_peer_wait(&u, 60000);
    ovl_it_peer_wait(&t, 60000);
    check(&u, u.code == 0, "exit code");
    check(&t, t.code == 0, "exit code");
    assert_path(&u, "udp");
    assert_path(&t, "tcp");
    assert_decoded(&u, "Tcp");
    assert_decoded(&t, "Udp");
    assert_share(&u, "Tcp", &t);
    assert_share(&t, "Udp", &u);
    fprintf(stderr, "[udp+tcp] connected in %.0f ms over UDP, %.0f ms over TCP\n", connect_ms(&u), connect_ms(&t));
    ovl_it_peer_done(&u);
    ovl_it_peer_done(&t);
}

/* The ICE-TCP connection of a third participant is closed mid-call without a word. The relay drops the path at
 * once; it was that participant's only one, so it is media-disconnected exactly as on consent failure. */
static void test_cut_mid_call(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t a, b, c;
    make_links(host, guest, sizeof(host));
    /* The two that stay run until this test ends them (SIGTERM: a clean stop, exit 0 with their summary), 5 s
     * after the cut peer has finished: so there is always video after the cut to look for, however slowly the
     * machine got to the cut. The cut comes 3 s after the cut peer decoded both others (--min-frames). */
    peer_start(&a, host, "StayUdp", "udp", "--expect-peers", "1", "--duration", "60", NULL);
    peer_start(&b, guest, "StayTcp", "tcp", "--expect-peers", "1", "--duration", "60", NULL);
    peer_start(&c, guest, "Cut", "tcp", "--expect-peers", "2", "--min-frames", "30", "--cut-after", "3", "--duration",
               "40", NULL);
    ovl_it_peer_wait(&c, 90000);
    sleep(5);
    kill(a.pid, SIGTERM);
    kill(b.pid, SIGTERM);
    ovl_it_peer_wait(&a, 30000);
    ovl_it_peer_wait(&b, 30000);

    /* The cut participant: its connection went 3 s after it decoded the others, and the server ended its session
     * with media-failed (its WebSocket stayed up: only the relay's reaction can have told it). Time bounds here
     * get what the load measurably cost the peers involved: the most their timers fired late (lag_ms). */
    json_t *tl = json_object_get(c.json, "timeline_ms");
    check(&c, c.code == 5, "the cut peer was not ended by the server (exit 5)");
    check(&c, strstr(json_string_value(json_object_get(c.json, "reason")), "media-failed") != NULL,
          "not ended with media-failed");
    check(&c, json_is_number(json_object_get(tl, "cut")), "no cut");
    double cut = real(c.json, "started_monotonic_ms") + real(tl, "cut");
    double c_told = real(tl, "ended") - real(tl, "cut");
    check(&c, c_told >= 0 && c_told < 5000 + lag_ms(&c), "the cut peer heard too late");
    assert_decoded(&c, "StayUdp"); /* it was really in the call before the cut */
    assert_decoded(&c, "StayTcp");

    peer_t *stay[2] = {&a, &b};
    const char *other[2] = {"StayTcp", "StayUdp"};
    double told[2], gap[2], after[2];
    for (int i = 0; i < 2; i++) {
        peer_t *p = stay[i];
        check(p, p->code == 0, "exit code");
        json_t *r = remote_must(p, "Cut"), *o = remote_must(p, other[i]);
        check(p, json_is_true(json_object_get(r, "complete")), "the cut peer was never decoded");
        check(p, json_is_true(json_object_get(r, "left")), "the cut peer is still there");
        check(p, strcmp(json_string_value(json_object_get(r, "left_reason")), "media-failed") == 0,
              "left, but not with media-failed");
        /* Told well before the 30 s consent timeout: the close, not consent expiry, removed it. */
        told[i] = real(p->json, "started_monotonic_ms") + real(r, "left_ms") - cut;
        check(p, told[i] >= -2 && told[i] < 5000 + lag_ms(p) + lag_ms(&c), /* -2: ms rounding */
              "participant-left too long after the cut");
        /* The two others kept decoding each other through the cut and the renegotiation after it. */
        assert_decoded(p, other[i]);
        gap[i] = real(o, "max_video_gap_ms");
        after[i] = real(p->json, "started_monotonic_ms") + real(o, "last_video_ms") - cut;
        check(p, after[i] > 2000, "video stopped at the cut");
        check(p, gap[i] < 3000 + lag_ms(p) + lag_ms(stay[1 - i]), "a long gap in the video");
        assert_share(p, other[i], stay[1 - i]);
    }
    fprintf(stderr,
            "[cut] others told %.0f / %.0f ms after the cut, the cut peer %.0f ms; the others' longest video gap "
            "%.0f / %.0f ms, video until %.0f / %.0f ms after the cut\n",
            told[0], told[1], c_told, gap[0], gap[1], after[0], after[1]);
    ovl_it_peer_done(&a);
    ovl_it_peer_done(&b);
    ovl_it_peer_done(&c);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_tcp_peers),
        cmocka_unit_test(test_mixed_call),
        cmocka_unit_test(test_cut_mid_call),
    };
    if (argc > 1) /* one test by name, for debugging */
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
