/*
 * bench_relay: the whole relay under load. It starts the real `build/overleg serve` (a fresh data
 * directory, a kernel-chosen port, media_workers = 2), makes meetings with `overleg meeting create
 * --json`, and joins synthetic participants through the WebSocket protocol exactly as browsers do
 * (join, Chromium's offer, the relay's answer, relay offers answered; bench_relay_sig.h and
 * bench_relay_sdp.h). Each participant is a CLIENT relay/transport (ICE, DTLS, SRTP) on its own UDP
 * socket in this one process (bench_relay_gen.h); publishers replay VP8 and Opus encoded once at
 * start (bench_relay_clip.h), with RTCP reports every second.
 *
 * Per scenario (one table row): forwarded packets per second counted at the receivers, the relay
 * process's CPU seconds per million forwarded packets (/proc/<pid>/stat utime + stime: the relay
 * process alone, all its threads), latency the relay adds (receive minus send time, one monotonic
 * clock, p50/p99), loss, the relay's resident memory per participant above its idle size, and the
 * CPU of the relay, of this load generator and of everything else on the machine. Under it:
 * references that say how far to trust the row on a shared machine (bench_relay_sys.h): the
 * latency of a bare two-thread echo measured during the same windows, how late the generator's
 * own timers ran, packets a starved generator skipped. Before the table, a kernel reference (a
 * bare sendmmsg/recvmmsg loop on loopback): compare ratios to it, not absolute numbers. Every
 * figure of the row is the median over the windows (latency percentiles of all packets together
 * are under it).
 *
 * Environment (all optional):
 *   OVL_BENCH_SECONDS     measured seconds per scenario (default 10), split into
 *   OVL_BENCH_WINDOWS     windows (default 5; medians are over these)
 *   OVL_BENCH_WARMUP      seconds of traffic before measuring, once every stream flows (default 2)
 *   OVL_BENCH_SCENARIOS   "MxP+S,...": M meetings of P publishers and S receivers (default "10x4+0,1x2+48")
 *   OVL_BENCH_VIDEO_KBPS  video bitrate of the clip (default 1000)
 *   OVL_BENCH_WORKERS     the relay's media_workers (default 2)
 *   OVL_BENCH_GEN_THREADS load generator loop threads (default 1)
 *   OVL_BENCH_NICE        nice value for this process and the server it starts (default: unchanged;
 *                         e.g. -10, as root, to measure beside other work on a shared machine)
 * Not part of `make test`; `make bench` runs it (about 30 s per scenario with the defaults).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

/* The integration harness starts the server and runs its CLI; it finds the binary here. */
static char bench_overleg_bin[4096];
#define OVL_OVERLEG_BIN bench_overleg_bin
#include "../integration/ovl_harness.c"

#include "bench_relay_clip.h"
#include "bench_relay_gen.h"
#include "bench_relay_sdp.h"
#include "bench_relay_sig.h"
#include "bench_relay_sys.h"

#define MAX_SCENARIOS 8
#define MAX_PARTS     256
#define SETUP_TIMEOUT 60.0 /* s: joins and negotiation; then every stream flowing */

typedef struct scenario {
    unsigned meetings, publishers, receivers;
} scenario_t;

typedef struct opts {
    double seconds, warmup;
    int nice; /* 100: leave as is */
    unsigned windows, video_kbps, workers, gen_threads;
    scenario_t sc[MAX_SCENARIOS];
    size_t n_sc;
} opts_t;

/* A participant as the main thread sees it: its signaling and its generator part. */
typedef struct member {
    part_t part;
    sig_conn_t ws;
    char meeting[64], token[256];
    bool joined, welcomed, answered;
    unsigned relay_offers;
} member_t;

/* Snapshot of every counter at a window boundary. */
typedef struct snap {
    double t, relay_cpu, gen_cpu, gen_thread_cpu[GEN_MAX_THREADS];
    sys_machine_t machine;
    unsigned long long udp_drops;
} snap_t;

typedef struct result {
    double pps, cpu_per_m, loss, p50_ms, p99_ms, all_p50_ms, all_p99_ms, p999_ms, echo_p50_ms, echo_p99_ms, late_p50_ms,
        late_p99_ms, rss_mb_per_part, relay_core, gen_core, gen_busiest, other_core;
    double pps_min, pps_max;
    unsigned long rss_idle_kb, rss_kb;
    unsigned long long udp_drops, keyframe_requests, gen_errors, failures, relay_offers, skipped;
    double nominal_pps; /* what receivers would get if every publisher kept its clip's pace */
    double setup_s, flowing_s;
    bool flowing;
} result_t;

typedef struct run {
    const opts_t *o;
    const scenario_t *sc;
    ovl_srv_t srv;
    sig_ctx_t sig;
    gen_t *gen;
    member_t *m;
    size_t n;
    char *pub_offer, *recv_offer; /* templates */
    ovl_dtls_cert_t *cert;
    ovl_dtls_fingerprint_t fp;
    part_t **parts; /* every member's part, grouped by generator thread */
    char workers_env[64];
    const char *env[8]; /* the server's extra environment (the harness borrows it) */
    bool failed;
} run_t;

/* ---- options ---------------------------------------------------------------------------------------- */

static double env_num(const char *name, double def, double lo, double hi)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return def;
    double d = strtod(v, &end);
    if (*end || d < lo || d > hi) {
        fprintf(stderr, "bench_relay: %s=%s ignored (want %g..%g)\n", name, v, lo, hi);
        return def;
    }
    return d;
}

static int parse_scenarios(const char *text, opts_t *o)
{
    o->n_sc = 0;
    for (const char *p = text; *p && o->n_sc < MAX_SCENARIOS;) {
        scenario_t s = {0};
        int used = 0;
        if (sscanf(p, "%ux%u+%u%n", &s.meetings, &s.publishers, &s.receivers, &used) != 3 || s.meetings == 0 ||
            s.publishers == 0 || s.publishers + s.receivers > 50 ||
            s.meetings * (s.publishers + s.receivers) > MAX_PARTS)
            return -1;
        o->sc[o->n_sc++] = s;
        p += used;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return o->n_sc ? 0 : -1;
}

static void opts_read(opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->seconds = env_num("OVL_BENCH_SECONDS", 10, 0.5, 3600);
    o->windows = (unsigned)env_num("OVL_BENCH_WINDOWS", 5, 1, GEN_MAX_WINDOWS);
    o->warmup = env_num("OVL_BENCH_WARMUP", 2, 0, 600);
    o->video_kbps = (unsigned)env_num("OVL_BENCH_VIDEO_KBPS", 1000, 50, 8000);
    o->workers = (unsigned)env_num("OVL_BENCH_WORKERS", 2, 1, 64);
    o->gen_threads = (unsigned)env_num("OVL_BENCH_GEN_THREADS", 1, 1, GEN_MAX_THREADS);
    o->nice = (int)env_num("OVL_BENCH_NICE", 100, -20, 19);
    const char *sc = getenv("OVL_BENCH_SCENARIOS");
    if (!sc || parse_scenarios(sc, o) != 0) {
        if (sc)
            fprintf(stderr, "bench_relay: OVL_BENCH_SCENARIOS=%s ignored (want e.g. 10x4+0,1x2+48)\n", sc);
        parse_scenarios("10x4+0,1x2+48", o);
    }
}

/* ---- signaling (main thread) -------------------------------------------------------------------------- */

static void send_json(run_t *r, member_t *mb, json_t *j)
{
    if (!j || sig_send(&mb->ws, j) != 0) {
        fprintf(stderr, "bench_relay: participant %u: cannot send on its WebSocket\n", mb->part.idx);
        r->failed = true;
    }
    json_decref(j);
}

static void on_message(run_t *r, member_t *mb, json_t *j)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *sdp = json_string_value(json_object_get(j, "sdp"));
    if (!type)
        return;
    if (strcmp(type, "welcome") == 0 && !mb->welcomed) {
        mb->welcomed = true;
        char *offer = sdp_offer(mb->part.publisher ? r->pub_offer : r->recv_offer, &mb->part.id);
        send_json(r, mb, offer ? json_pack("{s:s, s:s}", "type", "offer", "sdp", offer) : NULL);
        free(offer);
    } else if (strcmp(type, "answer") == 0 && sdp) {
        if (sdp_read_relay(sdp, &mb->part.relay) != 0) {
            fprintf(stderr, "bench_relay: participant %u: unusable relay answer\n", mb->part.idx);
            r->failed = true;
        }
        mb->answered = true;
    } else if (strcmp(type, "offer") == 0 && sdp) {
        char *ans = sdp_answer(sdp, &mb->part.id, &r->fp);
        mb->relay_offers++;
        send_json(r, mb, ans ? json_pack("{s:s, s:s}", "type", "answer", "sdp", ans) : NULL);
        free(ans);
    } else if (strcmp(type, "error") == 0 || strcmp(type, "end") == 0 || strcmp(type, "lobby-wait") == 0) {
        char *text = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "bench_relay: participant %u got %s\n", mb->part.idx, text ? text : type);
        free(text);
        r->failed = true;
    }
}

/* Services every connection for about `seconds`: joins, offers, answers. */
static void pump(run_t *r, double seconds)
{
    double end = sys_now() + seconds;
    do {
        double left = end - sys_now();
        sig_service(&r->sig, left > 0.01 ? 10 : left > 0 ? (int)(left * 1000) + 1 : 0);
        for (size_t i = 0; i < r->n; i++) {
            member_t *mb = &r->m[i];
            if (mb->ws.established && !mb->joined) {
                mb->joined = true;
                send_json(r, mb,
                          json_pack("{s:s, s:s, s:s, s:s}", "type", "join", "meeting", mb->meeting, "token", mb->token,
                                    "name", mb->part.publisher ? "Bench publisher" : "Bench receiver"));
            }
            json_t *j;
            while ((j = sig_take(&mb->ws))) {
                on_message(r, mb, j);
                json_decref(j);
            }
            if (mb->ws.closed && !r->failed) {
                fprintf(stderr, "bench_relay: participant %u: WebSocket closed (%d)\n", mb->part.idx,
                        mb->ws.close_code);
                r->failed = true;
            }
        }
    } while (sys_now() < end);
}

typedef bool (*cond_fn)(const run_t *r);

/* Pumps until cond holds, the run failed or `timeout` seconds pass. */
static bool pump_until(run_t *r, cond_fn cond, double timeout)
{
    double end = sys_now() + timeout;
    while (!r->failed && !cond(r) && sys_now() < end)
        pump(r, 0.02);
    return !r->failed && cond(r);
}

static bool all_answered(const run_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (!r->m[i].answered)
            return false;
    return true;
}

static bool all_flowing(const run_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (GEN_LOAD(r->m[i].part.n_seen) < r->m[i].part.expect)
            return false;
    return true;
}

/* ---- one scenario ----------------------------------------------------------------------------------------- */

static void snapshot(const run_t *r, snap_t *s)
{
    s->t = sys_now();
    s->relay_cpu = sys_proc_cpu(r->srv.pid);
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    s->gen_cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    for (size_t i = 0; i < r->gen->n_threads; i++)
        s->gen_thread_cpu[i] = gen_thread_cpu(&r->gen->th[i]);
    sys_machine(&s->machine);
    s->udp_drops = sys_udp_buffer_drops();
}

/* Sums window w over the generator threads into *out. */
static void window_sum(const gen_t *g, unsigned w, gen_win_t *out)
{
    for (size_t t = 0; t < g->n_threads; t++) {
        const gen_win_t *x = &g->th[t].win[w];
        out->sent += GEN_LOAD(x->sent);
        out->expected += GEN_LOAD(x->expected);
        out->received += GEN_LOAD(x->received);
        for (size_t b = 0; b < GEN_HIST_N; b++) {
            out->hist[b] += GEN_LOAD(x->hist[b]);
            out->late[b] += GEN_LOAD(x->late[b]);
        }
    }
}

static double hist_quantile(const uint64_t *hist, double q)
{
    uint64_t total = 0, acc = 0;
    for (size_t b = 0; b < GEN_HIST_N; b++)
        total += hist[b];
    if (!total)
        return 0;
    for (size_t b = 0; b < GEN_HIST_N; b++) {
        acc += hist[b];
        if ((double)acc >= q * (double)total)
            return sys_hist_value(b) / 1000.0; /* ms */
    }
    return sys_hist_value(GEN_HIST_N - 1) / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Per-window figures and their medians. */
static void compute(run_t *r, const snap_t *s, result_t *res)
{
    unsigned nw = r->o->windows;
    double pps[GEN_MAX_WINDOWS], cpu[GEN_MAX_WINDOWS], loss[GEN_MAX_WINDOWS], relay[GEN_MAX_WINDOWS],
        gen[GEN_MAX_WINDOWS], busiest[GEN_MAX_WINDOWS], other[GEN_MAX_WINDOWS], p50[GEN_MAX_WINDOWS],
        p99[GEN_MAX_WINDOWS];
    gen_win_t *all = calloc(1, sizeof(*all)), *w = calloc(1, sizeof(*w));
    if (!all || !w) {
        free(all);
        free(w);
        return;
    }
    res->pps_min = 1e18;
    for (unsigned i = 0; i < nw; i++) {
        memset(w, 0, sizeof(*w));
        window_sum(r->gen, i, w);
        double dt = s[i + 1].t - s[i].t, rc = s[i + 1].relay_cpu - s[i].relay_cpu, gc = s[i + 1].gen_cpu - s[i].gen_cpu;
        double mc = s[i + 1].machine.busy - s[i].machine.busy;
        pps[i] = (double)w->received / dt;
        p50[i] = hist_quantile(w->hist, 0.50);
        p99[i] = hist_quantile(w->hist, 0.99);
        cpu[i] = w->received ? rc / ((double)w->received / 1e6) : 0;
        loss[i] = w->expected ? 100.0 * (1.0 - (double)w->received / (double)w->expected) : 0;
        relay[i] = 100.0 * rc / dt;
        gen[i] = 100.0 * gc / dt;
        other[i] = 100.0 * (mc - rc - gc) / dt;
        busiest[i] = 0;
        for (size_t t = 0; t < r->gen->n_threads; t++) {
            double b = 100.0 * (s[i + 1].gen_thread_cpu[t] - s[i].gen_thread_cpu[t]) / dt;
            busiest[i] = b > busiest[i] ? b : busiest[i];
        }
        res->pps_min = pps[i] < res->pps_min ? pps[i] : res->pps_min;
        res->pps_max = pps[i] > res->pps_max ? pps[i] : res->pps_max;
        all->sent += w->sent;
        all->expected += w->expected;
        all->received += w->received;
        for (size_t b = 0; b < GEN_HIST_N; b++) {
            all->hist[b] += w->hist[b];
            all->late[b] += w->late[b];
        }
    }
    res->pps = median(pps, nw);
    res->cpu_per_m = median(cpu, nw);
    res->loss = median(loss, nw);
    res->relay_core = median(relay, nw);
    res->gen_core = median(gen, nw);
    res->gen_busiest = median(busiest, nw);
    res->other_core = median(other, nw);
    /* One stall of a shared machine can own the p99 of all windows together: the table shows the
     * windows' median, the details the percentiles of all packets. */
    res->p50_ms = median(p50, nw);
    res->p99_ms = median(p99, nw);
    res->all_p50_ms = hist_quantile(all->hist, 0.50);
    res->all_p99_ms = hist_quantile(all->hist, 0.99);
    res->p999_ms = hist_quantile(all->hist, 0.999);
    res->late_p50_ms = hist_quantile(all->late, 0.50);
    res->late_p99_ms = hist_quantile(all->late, 0.99);
    res->udp_drops = s[nw].udp_drops - s[0].udp_drops;
    free(all);
    free(w);
}

/* Members, meetings and identities for the scenario. */
static int plan(run_t *r)
{
    const scenario_t *sc = r->sc;
    unsigned per = sc->publishers + sc->receivers;
    r->n = (size_t)sc->meetings * per;
    if (!(r->m = calloc(r->n, sizeof(*r->m))))
        return -1;
    for (unsigned mt = 0; mt < sc->meetings; mt++) {
        char meeting[64], host[256], guest[256];
        if (ovl_make_meeting(&r->srv, meeting, host, guest, NULL) != 0) {
            fprintf(stderr, "bench_relay: `overleg meeting create` failed\n");
            return -1;
        }
        for (unsigned k = 0; k < per; k++) {
            member_t *mb = &r->m[mt * per + k];
            part_t *p = &mb->part;
            p->idx = mt * per + k;
            p->meeting = mt;
            p->publisher = k < sc->publishers;
            p->slot = k; /* publishers first: slots 0..P-1 */
            p->fanout = per - 1;
            p->expect = 2 * (sc->publishers - (p->publisher ? 1 : 0));
            snprintf(p->id.ufrag, sizeof(p->id.ufrag), "bn%05u", p->idx);
            snprintf(p->id.pwd, sizeof(p->id.pwd), "benchpassword%05uabcdefghijk", p->idx);
            p->id.fingerprint = ovl_dtls_cert_fingerprint_text(r->cert);
            p->id.ssrc_salt = (p->idx + 1) * 0x9E3779B1u;
            snprintf(mb->meeting, sizeof(mb->meeting), "%s", meeting);
            snprintf(mb->token, sizeof(mb->token), "%s", k == 0 ? host : guest);
        }
    }
    return 0;
}

/* Transports for everyone, then the generator threads (participant i on thread i mod threads). */
static int start_generator(run_t *r, const clip_t *clip)
{
    if (!(r->parts = calloc(r->n, sizeof(*r->parts))) || !(r->gen = calloc(1, sizeof(*r->gen))))
        return -1;
    r->gen->clip = clip;
    r->gen->window = -1;
    r->gen->n_threads = r->o->gen_threads < r->n ? r->o->gen_threads : r->n;
    size_t used = 0;
    for (size_t t = 0; t < r->gen->n_threads; t++) {
        size_t first = used;
        for (size_t i = t; i < r->n; i += r->gen->n_threads)
            r->parts[used++] = &r->m[i].part;
        if (gen_thread_init(r->gen, &r->gen->th[t], r->parts + first, used - first) != 0)
            return -1;
    }
    for (size_t i = 0; i < r->n; i++)
        if (gen_part_start(&r->m[i].part, r->cert) != 0)
            return -1;
    for (size_t t = 0; t < r->gen->n_threads; t++)
        if (gen_thread_start(&r->gen->th[t]) != 0)
            return -1;
    return 0;
}

/* The last `lines` lines of a file, on stderr. */
static void print_tail(const char *path, int lines)
{
    static char buf[16384];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = 0;
    if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) != 0)
        rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = buf + n;
    for (int k = 0; p > buf && k <= lines; p--)
        k += p[-1] == '\n';
    fprintf(stderr, "bench_relay: the end of the server's log (%s):\n%s", path, p);
}

static void run_free(run_t *r)
{
    if (r->gen)
        for (size_t t = 0; t < r->gen->n_threads; t++)
            gen_thread_dispose(&r->gen->th[t]);
    free(r->parts);
    free(r->gen);
    sig_dispose(&r->sig);
    for (size_t i = 0; i < r->n; i++)
        sig_conn_dispose(&r->m[i].ws);
    free(r->m);
    int st = 0;
    bool bad = r->failed;
    if (r->srv.pid > 0 && ovl_srv_stop(&r->srv, 15000, &st) != 0) {
        fprintf(stderr, "bench_relay: the server did not stop on SIGTERM\n");
        bad = true;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_relay: the server ended with wait status %#x\n", (unsigned)st);
        bad = true;
    }
    if (bad && r->srv.dir[0])
        print_tail(r->srv.log_path, 15);
    if (r->srv.dir[0])
        ovl_srv_cleanup(&r->srv);
    free(r->pub_offer);
    free(r->recv_offer);
}

/* Starts the server and joins everyone; returns once every receiver gets every stream (or the
 * wait timed out: res->flowing false). 0, or -1 when the run cannot go on. */
static int setup(run_t *r, const clip_t *clip, result_t *res)
{
    /* The harness adds OVERLEG_LISTEN (127.0.0.1, a kernel-chosen port), the data directory and the
     * kernel-chosen media ports; these come on top. */
    snprintf(r->workers_env, sizeof(r->workers_env), "OVERLEG_MEDIA_WORKERS=%u", r->o->workers);
    const char *env[] = {"OVERLEG_MEDIA_BIND=127.0.0.1",
                         "OVERLEG_PUBLIC_IP=127.0.0.1",
                         "OVERLEG_MAX_CONNECTIONS_PER_IP=1000",
                         "OVERLEG_DEMO_MEETING=false",
                         "OVERLEG_DRAIN_TIME=1s",
                         r->workers_env,
                         NULL};
    memcpy(r->env, env, sizeof(env));
    if (!(r->pub_offer = sdp_load("chromium-offer-av-screen.sdp")) ||
        !(r->recv_offer = sdp_load("chromium-offer-recvonly.sdp")))
        return -1;
    if (ovl_srv_init(&r->srv, r->env) != 0 || ovl_srv_start(&r->srv) != 0) {
        fprintf(stderr, "bench_relay: cannot start %s serve\n", bench_overleg_bin);
        return -1;
    }
    usleep(300000);
    res->rss_idle_kb = sys_proc_status_kb(r->srv.pid, "VmRSS");
    double t0 = sys_now();
    if (plan(r) != 0 || sig_init(&r->sig) != 0)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (sig_connect(&r->sig, &r->m[i].ws, r->srv.port) != 0)
            return -1;
    if (!pump_until(r, all_answered, SETUP_TIMEOUT)) {
        fprintf(stderr, "bench_relay: not every participant joined and got the relay's answer\n");
        return -1;
    }
    if (start_generator(r, clip) != 0) {
        fprintf(stderr, "bench_relay: cannot start the load generator\n");
        return -1;
    }
    res->flowing = pump_until(r, all_flowing, SETUP_TIMEOUT);
    res->setup_s = sys_now() - t0;
    if (!res->flowing && !r->failed)
        fprintf(stderr, "bench_relay: not every receiver gets every stream after %.0f s; measuring anyway\n",
                SETUP_TIMEOUT);
    return r->failed ? -1 : 0;
}

/* Warm-up, then the windows, with the echo probe running beside them. */
static void measure(run_t *r, result_t *res)
{
    snap_t s[GEN_MAX_WINDOWS + 1];
    sys_probe_t probe;
    const opts_t *o = r->o;
    pump(r, o->warmup);
    if (sys_probe_start(&probe) != 0)
        fprintf(stderr, "bench_relay: the echo probe did not start\n");
    for (unsigned w = 0; w < o->windows; w++) {
        snapshot(r, &s[w]);
        GEN_STORE(r->gen->window, (int)w);
        pump(r, o->seconds / o->windows);
    }
    snapshot(r, &s[o->windows]);
    GEN_STORE(r->gen->window, -1);
    res->rss_kb = sys_proc_status_kb(r->srv.pid, "VmRSS");
    sys_probe_stop(&probe);
    res->echo_p50_ms = hist_quantile(probe.hist, 0.50);
    res->echo_p99_ms = hist_quantile(probe.hist, 0.99);
    pump(r, 0.5); /* the last window's packets still in flight */
    compute(r, s, res);
    res->rss_mb_per_part = ((double)res->rss_kb - (double)res->rss_idle_kb) / 1024.0 / (double)r->n;
}

/* Counters over the whole run. */
static void totals(const run_t *r, const clip_t *clip, result_t *res)
{
    for (size_t t = 0; t < r->gen->n_threads; t++) {
        res->keyframe_requests += GEN_LOAD(r->gen->th[t].keyframe_requests);
        res->gen_errors += GEN_LOAD(r->gen->th[t].errors);
        res->skipped += GEN_LOAD(r->gen->th[t].skipped);
    }
    double per_pub = 50.0 + (double)clip->video_packets / CLIP_SECONDS; /* packets/s of one publisher */
    for (size_t i = 0; i < r->n; i++) {
        res->nominal_pps += r->m[i].part.publisher ? per_pub * r->m[i].part.fanout : 0;
        res->failures += GEN_LOAD(r->m[i].part.failures);
        res->relay_offers += r->m[i].relay_offers;
    }
}

static int run_scenario(const opts_t *o, const scenario_t *sc, const clip_t *clip, ovl_dtls_cert_t *cert, result_t *res)
{
    int ret = -1, st;
    run_t r = {.o = o, .sc = sc, .cert = cert, .fp = *ovl_dtls_cert_fingerprint(cert), .srv = {.pid = -1}};
    memset(res, 0, sizeof(*res));
    if (setup(&r, clip, res) != 0)
        goto Exit;
    measure(&r, res);
    totals(&r, clip, res);
    if (waitpid(r.srv.pid, &st, WNOHANG) == r.srv.pid) {
        fprintf(stderr, "bench_relay: the server exited during the run\n");
        r.srv.pid = -1;
        goto Exit;
    }
    ret = r.failed ? -1 : 0;
Exit:
    run_free(&r);
    return ret;
}

/* ---- main ---------------------------------------------------------------------------------------------------- */

static int find_server(void)
{
    ssize_t n = readlink("/proc/self/exe", bench_overleg_bin, sizeof(bench_overleg_bin) - 16);
    if (n <= 0)
        return -1;
    bench_overleg_bin[n] = '\0';
    char *slash = strrchr(bench_overleg_bin, '/');
    if (!slash)
        return -1;
    strcpy(slash + 1, "overleg");
    return access(bench_overleg_bin, X_OK);
}

/*
 * OVL_BENCH_NICE: this process's nice value (the server inherits it) and, where the kernel groups
 * CPU time by session (sched_autogroup), its session group's (the group competes with other
 * sessions' groups whatever the nice values inside it are).
 */
static int autogroup_nice(void)
{
    int nice = 0;
    FILE *f = fopen("/proc/self/autogroup", "r");
    if (f) {
        if (fscanf(f, "/autogroup-%*d nice %d", &nice) != 1)
            nice = 0;
        fclose(f);
    }
    return nice;
}

static int set_autogroup_nice(int nice)
{
    FILE *f = fopen("/proc/self/autogroup", "w");
    if (!f)
        return -1;
    fprintf(f, "%d", nice);
    return fclose(f);
}

/* Sets both; returns the session group's previous nice value (which main puts back at exit). */
static int set_nice(int nice)
{
    int before = autogroup_nice();
    if (setpriority(PRIO_PROCESS, 0, nice) != 0)
        fprintf(stderr, "bench_relay: OVL_BENCH_NICE=%d: %s\n", nice, strerror(errno));
    if (access("/proc/self/autogroup", F_OK) == 0 && set_autogroup_nice(nice) != 0)
        fprintf(stderr, "bench_relay: OVL_BENCH_NICE=%d: session group: %s\n", nice, strerror(errno));
    return before;
}

static void print_header(const opts_t *o, const clip_t *clip)
{
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(f);
    }
    printf("bench_relay: the real `overleg serve` (media_workers = %u) under synthetic WebRTC participants\n",
           o->workers);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    printf("  machine: %ld CPUs online, load average %.2f %.2f %.2f at start; relay and generator at nice %d\n",
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2], errno ? 0 : nice);
    printf("  clip: VP8 %dx%d %d fps at %u kbit/s -> %.0f kbit/s, %.0f packets/s (%d s, key frame at the start); "
           "Opus 20 ms -> %.0f kbit/s\n",
           CLIP_WIDTH, CLIP_HEIGHT, CLIP_FPS, o->video_kbps, (double)clip->video_bytes * 8 / CLIP_SECONDS / 1000,
           (double)clip->video_packets / CLIP_SECONDS, CLIP_SECONDS,
           (double)clip->audio_bytes * 8 / CLIP_SECONDS / 1000);
    printf("  load generator: %u epoll loop thread(s) in this process; %.0f s measured per scenario in %u windows "
           "after %.0f s of warm-up\n",
           o->gen_threads, o->seconds, o->windows, o->warmup);
}

static void print_details(const result_t *x)
{
    printf("      rate      %.0f..%.0f pkt/s over the windows, %.0f if every publisher kept pace; set-up %.1f s%s\n",
           x->pps_min, x->pps_max, x->nominal_pps, x->setup_s, x->flowing ? "" : " (NOT every stream flowed)");
    printf("      latency   all packets p50 %.2f p99 %.2f p99.9 %.2f ms; machine echo (two wake-ups, no work) p50 %.2f "
           "p99 %.2f ms; generator "
           "timers late p50 %.2f p99 %.2f ms\n",
           x->all_p50_ms, x->all_p99_ms, x->p999_ms, x->echo_p50_ms, x->echo_p99_ms, x->late_p50_ms, x->late_p99_ms);
    printf("      relay     RSS %.1f MB (idle %.1f MB); key frame requests %llu; relay offers answered %llu\n",
           (double)x->rss_kb / 1024, (double)x->rss_idle_kb / 1024, x->keyframe_requests, x->relay_offers);
    printf("      generator busiest thread %.0f%% of a core; frames and audio packets skipped when starved %llu; "
           "errors %llu; transport failures %llu; UDP buffer drops (machine) %llu\n",
           x->gen_busiest, x->skipped, x->gen_errors, x->failures, x->udp_drops);
}

static void kernel_reference(double *pps, double *us)
{
    double p[3] = {0}, u[3] = {0};
    for (int i = 0; i < 3; i++)
        if (sys_kernel_ref_once(0.5, &p[i], &u[i]) != 0)
            p[i] = u[i] = 0;
    *pps = median(p, 3);
    *us = median(u, 3);
    printf("  kernel reference: one thread, sendmmsg + recvmmsg of %d-byte datagrams over loopback, batches of %d: "
           "%.0f datagrams/s, %.2f us CPU per datagram sent and received (median of 3)\n\n",
           SYS_REF_BYTES, SYS_REF_BATCH, *pps, *us);
}

int main(void)
{
    opts_t o;
    clip_t *clip = calloc(1, sizeof(*clip));
    ovl_dtls_cert_t *cert = NULL;
    result_t res;
    int failed = 0;
    double kpps, kus;

    signal(SIGPIPE, SIG_IGN);
    opts_read(&o);
    if (find_server() != 0) {
        fprintf(stderr, "bench_relay: %s is missing (build it first)\n", bench_overleg_bin);
        return 1;
    }
    if (!clip || clip_make(clip, o.video_kbps) != 0 || ovl_dtls_cert_generate(&cert) != 0)
        return 1;
    int group_nice = o.nice != 100 ? set_nice(o.nice) : 0;
    print_header(&o, clip);
    kernel_reference(&kpps, &kus);
    printf("  %-26s %5s %10s %11s %8s %8s %8s %7s %9s %7s %7s %7s\n", "scenario", "parts", "fwd pkt/s", "CPU s/Mpkt",
           "x kernel", "lat p50", "lat p99", "loss %", "MB/part", "relay%", "gen%", "other%");
    for (size_t i = 0; i < o.n_sc; i++) {
        const scenario_t *sc = &o.sc[i];
        char name[64];
        snprintf(name, sizeof(name), "%ux%u (%u pub, %u recv)", sc->meetings, sc->publishers + sc->receivers,
                 sc->publishers, sc->receivers);
        const result_t *x = &res;
        if (run_scenario(&o, sc, clip, cert, &res) != 0) {
            printf("  %-26s failed (see stderr)\n", name);
            failed = 1;
            continue;
        }
        printf("  %-26s %5u %10.0f %11.2f %8.2f %5.2f ms %5.2f ms %7.3f %9.2f %7.1f %7.1f %7.1f\n", name,
               sc->meetings * (sc->publishers + sc->receivers), x->pps, x->cpu_per_m, kus > 0 ? x->cpu_per_m / kus : 0,
               x->p50_ms, x->p99_ms, x->loss, x->rss_mb_per_part, x->relay_core, x->gen_core, x->other_core);
        print_details(x);
        fflush(stdout);
    }
    printf(
        "\n  fwd pkt/s: RTP packets receivers got per second; CPU s/Mpkt: relay process CPU (user + system, all\n"
        "  threads) per million of them; x kernel: that per packet over the kernel reference's cost of one\n"
        "  datagram; lat: receive minus send time (relay, both kernels' loopback, and this generator's own\n"
        "  scheduling); loss: packets sent in the windows that never arrived; MB/part: relay RSS above idle per\n"
        "  participant; relay%% / gen%% / other%%: CPU of one core used by the relay, this generator, and everything\n"
        "  else on the machine. Every figure of the row is the median over the windows.\n");
    if (o.nice != 100 && access("/proc/self/autogroup", F_OK) == 0)
        set_autogroup_nice(group_nice); /* the group is the whole session's: leave it as it was */
    ovl_dtls_cert_free(cert);
    clip_dispose(clip);
    free(clip);
    return failed;
}
