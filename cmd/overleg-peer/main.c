/*
 * overleg-peer: a synthetic participant for testing a call without a browser (see peer.h).
 *
 *   overleg-peer --link URL [--name N] [--duration S] [--expect-peers K] [--min-frames N] [--loss P]
 *                [--seed N] [--json] [--insecure | --ca-file FILE] [--bind ADDR] [--transport udp|tcp] [--cut-after S]
 *                [--video WxH] [--fps N] [--video-kbps N]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cmd/overleg-peer/peer.h"

#define VERSION "0.1.0"

static ovl_peer_media_t *running; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        ovl_peer_media_interrupt(running); /* async-signal-safe: an atomic store and an eventfd write */
    else
        _exit(130);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: overleg-peer --link URL [options]\n"
               "Joins the meeting of a link (https://HOST[:PORT]/m/MEETING#t=TOKEN) as a browser would, sends a\n"
               "moving test pattern (VP8) and a tone (Opus), decodes everyone else and prints a summary.\n"
               "  --name N          display name (default: peer-<pid>)\n"
               "  --duration S      seconds of media after joining (default 10)\n"
               "  --expect-peers K  exit 0 only if audio and video of K other participants decoded; waits up to\n"
               "                    60 s past the duration for them, then stays 3 s more (or as long as they\n"
               "                    took, if longer) so they can decode us\n"
               "  --min-frames N    with --expect-peers: a participant counts as decoded only after N of its\n"
               "                    audio and N of its video frames (default 1); so the run lasts until then\n"
               "                    (within the same 60 s), not a fixed time that a loaded machine may not fill\n"
               "  --loss P          drop P%% of the received media packets (NACK/RTX must repair video)\n"
               "  --seed N          seed of the --loss generator (default: random; always reported)\n"
               "  --json            print the summary as JSON\n"
               "  --insecure        accept any server certificate (the self-signed one of a test server)\n"
               "  --ca-file FILE    also trust the CAs (or self-signed certificate) in this PEM file\n"
               "  --bind ADDR       local address for media (default: any IPv4 and IPv6 address)\n"
               "  --transport T     udp (default): the relay's UDP candidates; tcp: ICE-TCP only, one connection\n"
               "                    to the relay's passive TCP candidate (RFC 6544, RFC 4571 framing), as a\n"
               "                    browser does where UDP is blocked; the summary says which path was used\n"
               "  --cut-after S     test hook (tcp only): S seconds after media is up, close the ICE-TCP\n"
               "                    connection abruptly without leaving; the relay should drop us at once\n"
               "                    (with --expect-peers: S seconds after the expected peers were decoded)\n"
               "  --video WxH       video size (default 640x360); --fps N (30); --video-kbps N (500)\n"
               "exit codes: 0 ok, 1 fewer peers decoded than expected, 2 usage or bad link, 3 server unreachable\n"
               "(TCP, TLS, certificate, WebSocket), 4 join refused or session ended by the server, 5 media failed,\n"
               "6 internal error\n");
}

static int number(const char *flag, const char *v, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < min || d > max) {
        fprintf(stderr, "overleg-peer: %s wants a number from %g to %g, not \"%s\"\n", flag, min, max, v);
        return OVL_PEER_EXIT_USAGE;
    }
    *out = d;
    return 0;
}

static int parse_video(const char *v, ovl_peer_opts_t *o)
{
    unsigned w, h;
    char tail;
    if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 1920 || h > 1088 || (w | h) & 1) {
        fprintf(stderr, "overleg-peer: --video wants WIDTHxHEIGHT, even, from 16x16 to 1920x1088, not \"%s\"\n", v);
        return OVL_PEER_EXIT_USAGE;
    }
    o->width = w;
    o->height = h;
    return 0;
}

static int parse_args(int argc, char **argv, ovl_peer_opts_t *o)
{
    double d;
    bool seeded = false;
    int ret;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--json") != 0 && strcmp(a, "--insecure") != 0 && strcmp(a, "--help") != 0 &&
                     strcmp(a, "-h") != 0 && strcmp(a, "--version") != 0;
        if (takes && !v) {
            fprintf(stderr, "overleg-peer: %s needs a value (see --help)\n", a);
            return OVL_PEER_EXIT_USAGE;
        }
        ret = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--version") == 0) {
            printf("overleg-peer %s\n", VERSION);
            exit(0);
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--insecure") == 0) {
            o->insecure = true;
        } else if (strcmp(a, "--link") == 0) {
            o->link = v;
        } else if (strcmp(a, "--name") == 0) {
            o->name = v;
        } else if (strcmp(a, "--ca-file") == 0) {
            o->ca_file = v;
        } else if (strcmp(a, "--bind") == 0) {
            o->bind = v;
        } else if (strcmp(a, "--transport") == 0) {
            if (strcmp(v, "udp") != 0 && strcmp(v, "tcp") != 0) {
                fprintf(stderr, "overleg-peer: --transport wants udp or tcp, not \"%s\"\n", v);
                return OVL_PEER_EXIT_USAGE;
            }
            o->tcp = strcmp(v, "tcp") == 0;
        } else if (strcmp(a, "--cut-after") == 0) {
            if ((ret = number(a, v, 0.1, 86400, &d)) == 0)
                o->cut_after = (ovl_time_t)(d * 1e6);
        } else if (strcmp(a, "--duration") == 0) {
            if ((ret = number(a, v, 0.1, 86400, &d)) == 0)
                o->duration = (ovl_time_t)(d * 1e6);
        } else if (strcmp(a, "--expect-peers") == 0) {
            if ((ret = number(a, v, 0, OVL_PEER_MAX_REMOTES - 1, &d)) == 0)
                o->expect = (unsigned)d;
        } else if (strcmp(a, "--min-frames") == 0) {
            if ((ret = number(a, v, 1, 100000, &d)) == 0)
                o->min_frames = (unsigned)d;
        } else if (strcmp(a, "--loss") == 0) {
            ret = number(a, v, 0, 100, &o->loss);
        } else if (strcmp(a, "--seed") == 0) {
            if ((ret = number(a, v, 0, 9007199254740992.0, &d)) == 0)
                o->seed = (uint64_t)d;
            seeded = true;
        } else if (strcmp(a, "--video") == 0) {
            ret = parse_video(v, o);
        } else if (strcmp(a, "--fps") == 0) {
            if ((ret = number(a, v, 1, 60, &d)) == 0)
                o->fps = (unsigned)d;
        } else if (strcmp(a, "--video-kbps") == 0) {
            if ((ret = number(a, v, 50, 10000, &d)) == 0)
                o->video_kbps = (unsigned)d;
        } else {
            fprintf(stderr, "overleg-peer: unknown argument %s (see --help)\n", a);
            return OVL_PEER_EXIT_USAGE;
        }
        if (ret)
            return ret;
        if (takes)
            i++;
    }
    if (!o->link) {
        usage(stderr);
        return OVL_PEER_EXIT_USAGE;
    }
    if (o->cut_after && !o->tcp) {
        fprintf(stderr, "overleg-peer: --cut-after needs --transport tcp\n");
        return OVL_PEER_EXIT_USAGE;
    }
    if (!seeded) {
        uint32_t r = 0;
        (void)RAND_bytes((unsigned char *)&r, sizeof(r));
        o->seed = r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char name[32], err[OVL_PEER_REASON_LEN + 64] = "";
    ovl_peer_opts_t o = {.duration = OVL_SEC(10),
                         .min_frames = 1,
                         .linger = OVL_SEC(3),
                         .wait_more = OVL_SEC(60),
                         .width = 640,
                         .height = 360,
                         .fps = 30,
                         .video_kbps = 500};
    int ret;
    if ((ret = parse_args(argc, argv, &o)) != 0)
        return ret;
    snprintf(name, sizeof(name), "peer-%d", (int)getpid());
    if (!o.name)
        o.name = name;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ret = ovl_peer_signal_run(&o, &running, err, sizeof(err));
    if (ret != 0) {
        fprintf(stderr, "overleg-peer: %s\n", err);
        return ret;
    }
    const ovl_peer_report_t *r = ovl_peer_media_report(running);
    ret = r->code;
    if (o.json) {
        char *text = ovl_peer_report_json(r);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        ovl_peer_report_print(r, stdout);
    }
    if (ret != OVL_PEER_EXIT_OK)
        fprintf(stderr, "overleg-peer: %s\n", r->reason);
    ovl_peer_media_t *m = running;
    running = NULL;
    ovl_peer_media_free(m);
    return ret;
}
