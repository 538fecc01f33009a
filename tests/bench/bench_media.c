/*
 * bench_media: the media plane forwarding SRTP over loopback, measured on the worker thread.
 *
 * One media worker (relay/io/media.h, real UDP on 127.0.0.1) and in-process clients from the unit
 * tests' fixture (tests/unit/media_world.h: CLIENT-role transports with ICE + DTLS-SRTP, AES-GCM as
 * Chromium negotiates it). Per scenario, M meetings of one publisher and S subscribers; each
 * publisher sends PAYLOAD-byte RTP packets on its audio track as fast as the subscribers keep up
 * (a window of WINDOW packets in flight per meeting). Printed: packets forwarded and delivered per
 * second, the worker thread's CPU time per forwarded packet (one unprotect per packet in, one
 * rewrite + protect + sendmmsg slot per packet out: the number to compare, as it depends little on
 * what else the 2 shared cores do), and loss. The clients' own decryption runs on the bench's main
 * thread and is not counted.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The fixture asserts with cmocka's names; here a failed assertion ends the bench. */
static void bench_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "bench_media: %s (%s:%d)\n", what, file, line);
    exit(1);
}
#define BENCH_FAIL(what)       bench_fail(what, __FILE__, __LINE__)
#define fail_msg(...)          BENCH_FAIL("failed")
#define assert_true(c)         ((c) ? (void)0 : BENCH_FAIL(#c))
#define assert_non_null(p)     assert_true((p) != NULL)
#define assert_null(p)         assert_true((p) == NULL)
#define assert_int_equal(a, b) assert_true((long long)(a) == (long long)(b))
#define OVL_TEST_DATA          bench_data_dir()

/* tests/data, found from this file's path (benchmarks get no OVL_TEST_DATA from the build). */
static const char *bench_data_dir(void)
{
    static char dir[400];
    snprintf(dir, sizeof(dir), "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    snprintf(slash ? slash : dir, sizeof(dir) - (size_t)(slash ? slash - dir : 0), "/../data");
    return dir;
}

#include "tests/unit/media_world.h"

#define PAYLOAD     1000
#define WINDOW      64
#define RUN_SECONDS 2.0

/* Linux: the CPU clock of thread `tid` (the kernel's CPUCLOCK_SCHED encoding, as glibc builds it). */
static clockid_t thread_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6u);
}

/* The worker thread: the task named "ovl-worker-0". */
static clockid_t worker_clock(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    clockid_t id = (clockid_t)-1;
    while (d && (e = readdir(d)) != NULL) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f) && strncmp(comm, "ovl-worker-0", 12) == 0)
            id = thread_clock((pid_t)atoi(e->d_name));
        fclose(f);
    }
    if (d)
        closedir(d);
    return id;
}

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_packet(mw_client_t *c, uint16_t seq)
{
    uint8_t buf[PAYLOAD + 12 + OVL_SRTP_MAX_OVERHEAD];
    uint32_t ts = 960u * seq, ssrc = 221197464u;
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    memset(buf + 12, 0x5a, PAYLOAD);
    size_t len = 12 + PAYLOAD;
    return ovl_transport_send_rtp(c->t, buf, &len, sizeof(buf));
}

/* Reads every waiting datagram of every client into its transport. */
static void drain(mw_t *w)
{
    ovl_time_t now = ovl_clock_now();
    uint8_t buf[2048];
    for (size_t i = 0; i < w->n; i++) {
        mw_client_t *c = w->c[i];
        ssize_t r;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        while ((r = recvfrom(c->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl)) > 0) {
            ovl_addr_t from;
            ovl_addr_from_sockaddr(&from, (struct sockaddr *)&ss);
            ovl_transport_on_datagram(c->t, MW_PATH, &from, buf, (size_t)r, now);
            sl = sizeof(ss);
        }
        if (ovl_transport_next_timeout(c->t) <= now)
            ovl_transport_on_timeout(c->t, now);
    }
    for (size_t i = 0; i < ovl_media_worker_count(w->m); i++)
        ovl_media_poll(w->m, i, 64, mw_on_event, w);
}

static bool all_flowing(mw_t *w, void *arg)
{
    size_t *subs = arg;
    for (size_t i = 0; i < w->n; i++)
        if (i % (*subs + 1) == 0)
            send_packet(w->c[i], (uint16_t)(60000 + (w->c[i]->rtp & 1023)));
    for (size_t i = 0; i < w->n; i++)
        if (i % (*subs + 1) != 0 && w->c[i]->rtp == 0)
            return false;
    return true;
}

static void scenario(size_t meetings, size_t subs)
{
    mw_t w;
    mw_init(&w, 1, OVL_SEC(30));
    uint64_t id = 1;
    for (size_t m = 0; m < meetings; m++) {
        char name[32];
        snprintf(name, sizeof(name), "bench%zu", m);
        for (size_t s = 0; s <= subs; s++)
            mw_connect(&w, name, id++);
    }
    if (!mw_wait(&w, all_flowing, &subs, 20000))
        fail_msg("media does not flow to every subscriber");
    mw_pump(&w, 200);
    for (size_t i = 0; i < w.n; i++)
        w.c[i]->rtp = 0;
    clockid_t cpu = worker_clock();
    uint64_t sent = 0, delivered = 0;
    uint16_t seq = 1;
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(cpu), t1;
    while ((t1 = seconds(CLOCK_MONOTONIC)) - t0 < RUN_SECONDS && seq < 59000) {
        for (size_t m = 0; m < meetings; m++)
            for (int k = 0; k < 16; k++)
                send_packet(w.c[m * (subs + 1)], (uint16_t)(seq + k));
        seq = (uint16_t)(seq + 16);
        sent += 16 * meetings;
        /* Keep at most WINDOW packets per meeting in flight. */
        for (int spin = 0; spin < 2000; spin++) {
            drain(&w);
            delivered = 0;
            for (size_t i = 0; i < w.n; i++)
                delivered += w.c[i]->rtp;
            if (delivered + (uint64_t)WINDOW * meetings * subs >= sent * subs)
                break;
            struct pollfd pfd = {.fd = w.c[1]->fd, .events = POLLIN};
            poll(&pfd, 1, 1);
        }
    }
    double c1 = seconds(cpu);
    mw_pump(&w, 300);
    delivered = 0;
    for (size_t i = 0; i < w.n; i++)
        delivered += w.c[i]->rtp;
    ovl_media_stats_t st;
    ovl_media_stats(w.m, 0, &st);
    double secs = t1 - t0, expected = (double)sent * (double)subs;
    double rx_batch = st.rx_calls ? (double)st.rx_packets / (double)st.rx_calls : 0;
    double tx_batch = st.tx_calls ? (double)st.tx_packets / (double)st.tx_calls : 0;
    printf("%2zu meeting(s) x (1 publisher + %2zu subscribers), %d-byte RTP: %8.0f packets in/s, %8.0f forwarded "
           "and delivered/s, worker CPU %.2f us per forwarded packet, loss %.2f%%, datagrams per recvmmsg %.1f, "
           "per sendmmsg %.1f\n",
           meetings, subs, PAYLOAD, (double)sent / secs, (double)delivered / secs,
           (c1 - c0) * 1e6 / (double)(delivered ? delivered : 1), expected > 0 ? 100.0 * (1 - delivered / expected) : 0,
           rx_batch, tx_batch);
    mw_free(&w);
}

int main(void)
{
    printf("bench_media: one media worker, SRTP %s, loopback UDP, %.1f s per scenario\n", "AEAD_AES_128_GCM",
           RUN_SECONDS);
    scenario(1, 1);
    scenario(1, 4);
    scenario(2, 3);
    return 0;
}
