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
 * start (started_monotonic_ms), so the cut in one peer and the news in another can be compared. Bounds are
 * generous (a loaded 2-core machine, sanitizers); the numbers are printed for the record.
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

static char port_env[48] = "OVERLEG_PUBLIC_PORT=0";
static const char *const env[] = {"OVERLEG_PUBLIC_IP=127.0.0.1", port_env, NULL}; /* consent timeout: default */
static ovl_srv_t srv;

typedef struct peer {
    pid_t pid;
    char out[256], err[256];
    int code; /* exit code, -1 while running or killed */
    json_t *json;
} peer_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    static int n;
    va_start(ap, transport);
    while (argc < 31 && (argv[argc] = va_arg(ap, const char *)))
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    memset(p, 0, sizeof(*p));
    p->code = -1;
    snprintf(p->out, sizeof(p->out), "%s/tcp-peer%d.json", srv.dir, n);
    snprintf(p->err, sizeof(p->err), "%s/tcp-peer%d.err", srv.dir, n++);
    fflush(NULL);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        execv(OVL_PEER_BIN, (char *const *)argv);
        _exit(127);
    }
}

/* Waits up to timeout_ms for the peer; its exit code (and JSON summary, when it printed one), or -1. */
static int peer_wait(peer_t *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int st;
    while (p->pid > 0) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            p->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            fprintf(stderr, "peer %s did not finish in time\n", p->out);
            break;
        }
        usleep(50000);
    }
    json_error_t e;
    p->json = json_load_file(p->out, 0, &e);
    return p->code;
}

static void peer_show(const peer_t *p)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cat '%s' '%s' >&2", p->err, p->out);
    if (system(cmd) != 0)
        fprintf(stderr, "(no output)\n");
}

static void peer_done(peer_t *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    json_decref(p->json);
    p->json = NULL;
}

static void check(const peer_t *p, bool ok, const char *what)
{
    if (!ok) {
        peer_show(p);
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
    int st = 0;
    int rc = ovl_srv_stop(&srv, 30000, &st);
    ovl_srv_cleanup(&srv);
    return rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Two peers over ICE-TCP decode each other; 5 % loss on one is repaired by NACK/RTX (RFC 4585, RFC 4588) as
 * over UDP: every lost video packet comes back (as RTX from the relay's retransmission buffer). */
static void test_two_tcp_peers(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t a, b;
    make_links(host, guest, sizeof(host));
    peer_start(&a, host, "TcpA", "tcp", "--expect-peers", "1", "--duration", "6", NULL);
    peer_start(&b, guest, "TcpB", "tcp", "--expect-peers", "1", "--duration", "6", "--loss", "5", "--seed", "7", NULL);
    peer_wait(&a, 60000);
    peer_wait(&b, 60000);
    check(&a, a.code == 0, "exit code");
    check(&b, b.code == 0, "exit code");
    assert_path(&a, "tcp");
    assert_path(&b, "tcp");
    assert_decoded(&a, "TcpB");
    assert_decoded(&b, "TcpA");
    json_t *r = remote_must(&b, "TcpA"), *v = json_object_get(r, "video");
    check(&b, num(json_object_get(b.json, "loss"), "dropped_packets") > 10, "--loss dropped too little");
    check(&b, num(r, "nacks_sent") > 0 && num(v, "rtx_packets") > 0, "no NACK/RTX");
    check(&b, num(v, "packets_lost") == 0, "a video packet was not repaired");
    fprintf(stderr, "[tcp+tcp] connected in %.0f / %.0f ms; %lld / %lld video frames; %lld NACKs, %lld RTX\n",
            connect_ms(&a), connect_ms(&b), (long long)num(remote_must(&a, "TcpB"), "video_frames_decoded"),
            (long long)num(r, "video_frames_decoded"), (long long)num(r, "nacks_sent"),
            (long long)num(v, "rtx_packets"));
    peer_done(&a);
    peer_done(&b);
}

/* One peer over UDP, one over TCP: the relay forwards between the two kinds of path. */
static void test_mixed_call(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t u, t;
    make_links(host, guest, sizeof(host));
    peer_start(&u, host, "Udp", "udp", "--expect-peers", "1", "--duration", "5", NULL);
    peer_start(&t, guest, "Tcp", "tcp", "--expect-peers", "1", "--duration", "5", NULL);
    peer_wait(&u, 60000);
    peer_wait(&t, 60000);
    check(&u, u.code == 0, "exit code");
    check(&t, t.code == 0, "exit code");
    assert_path(&u, "udp");
    assert_path(&t, "tcp");
    assert_decoded(&u, "Tcp");
    assert_decoded(&t, "Udp");
    fprintf(stderr, "[udp+tcp] connected in %.0f ms over UDP, %.0f ms over TCP\n", connect_ms(&u), connect_ms(&t));
    peer_done(&u);
    peer_done(&t);
}

/* The ICE-TCP connection of a third participant is closed mid-call without a word. The relay drops the path at
 * once; it was that participant's only one, so it is media-disconnected exactly as on consent failure. */
static void test_cut_mid_call(void **state)
{
    (void)state;
    char host[512], guest[512];
    peer_t a, b, c;
    make_links(host, guest, sizeof(host));
    peer_start(&a, host, "StayUdp", "udp", "--expect-peers", "1", "--duration", "10", NULL);
    peer_start(&b, guest, "StayTcp", "tcp", "--expect-peers", "1", "--duration", "10", NULL);
    peer_start(&c, guest, "Cut", "tcp", "--cut-after", "3", "--duration", "40", NULL);
    peer_wait(&c, 60000);
    peer_wait(&a, 60000);
    peer_wait(&b, 60000);

    /* The cut participant: its connection went 3 s after media was up, and the server ended its session with
     * media-failed (its WebSocket stayed up: only the relay's reaction can have told it). */
    json_t *tl = json_object_get(c.json, "timeline_ms");
    check(&c, c.code == 5, "the cut peer was not ended by the server (exit 5)");
    check(&c, strstr(json_string_value(json_object_get(c.json, "reason")), "media-failed") != NULL,
          "not ended with media-failed");
    check(&c, json_is_number(json_object_get(tl, "cut")), "no cut");
    double cut = real(c.json, "started_monotonic_ms") + real(tl, "cut");
    double c_told = real(tl, "ended") - real(tl, "cut");
    check(&c, c_told >= 0 && c_told < 5000, "the cut peer heard too late");
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
        check(p, told[i] >= -2 && told[i] < 5000, "participant-left too long after the cut"); /* ms rounding */
        /* The two others kept decoding each other through the cut and the renegotiation after it. */
        assert_decoded(p, other[i]);
        gap[i] = real(o, "max_video_gap_ms");
        after[i] = real(p->json, "started_monotonic_ms") + real(o, "last_video_ms") - cut;
        check(p, after[i] > 2000, "video stopped at the cut");
        check(p, gap[i] < 3000, "a long gap in the video");
        check(p, num(o, "video_frames_decoded") >= 90, "too few video frames");
    }
    fprintf(stderr,
            "[cut] others told %.0f / %.0f ms after the cut, the cut peer %.0f ms; the others' longest video gap "
            "%.0f / %.0f ms, video until %.0f / %.0f ms after the cut\n",
            told[0], told[1], c_told, gap[0], gap[1], after[0], after[1]);
    peer_done(&a);
    peer_done(&b);
    peer_done(&c);
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
