/*
 * bench_io: packets per second of one media worker echoing UDP datagrams over loopback, with
 * recvmmsg/sendmmsg batches of 32 against one system call per datagram (recvmsg/sendmsg).
 *
 * A client thread keeps WINDOW datagrams in flight to the worker (it always batches, so only the
 * worker changes between the two modes) and counts the echoes for RUN_SECONDS after a short
 * warm-up. Each mode runs RUNS times; the median is printed, with the worker thread's CPU time
 * per datagram (which depends less on what else the machine is doing than the rate does).
 * Total time: about RUNS * 2 * (RUN_SECONDS + WARMUP) seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay/io/clock.h"
#include "relay/io/worker.h"

#define RUNS         5
#define RUN_SECONDS  0.3
#define WARMUP       0.05
#define WINDOW       256
#define PAYLOAD      1200
#define CLIENT_BATCH 32

struct worker_ctx {
    clockid_t cpu; /* the worker thread's CPU clock */
    volatile int cpu_ready;
};

static int on_start(ovl_worker_t *w, void *ctx)
{
    (void)w;
    struct worker_ctx *c = ctx;
    if (pthread_getcpuclockid(pthread_self(), &c->cpu) != 0)
        return OVL_ERR_IO;
    __atomic_store_n(&c->cpu_ready, 1, __ATOMIC_RELEASE);
    return 0;
}

static void on_datagrams(ovl_worker_t *w, ovl_udp_dgram_t *d, size_t n, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        ovl_udp_send(ovl_worker_udp(w), d[i].pkt, (struct sockaddr *)&d[i].src, d[i].srclen, NULL);
}

static double cpu_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct result {
    double pps;
    double cpu_us_per_pkt;
    unsigned long long lost;
};

/* One run: a fresh worker with `batch`, the client on this thread. */
static int run_once(unsigned batch, struct result *res)
{
    int ret = -1, fd = -1;
    ovl_worker_t *w = NULL;
    struct worker_ctx wc = {0};
    ovl_worker_config_t cfg = {
        .udp = {.addr = "127.0.0.1", .rcvbuf = 4 << 20, .sndbuf = 4 << 20, .batch = batch},
        .pool_packets = 2048,
    };
    ovl_worker_hooks_t hooks = {.on_start = on_start, .on_datagrams = on_datagrams, .ctx = &wc};
    if (ovl_worker_new(&w, &cfg, &hooks) != 0 || ovl_worker_start(w) != 0)
        goto Exit;
    while (!__atomic_load_n(&wc.cpu_ready, __ATOMIC_ACQUIRE))
        sched_yield();

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(ovl_worker_port(w)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
        goto Exit;

    static uint8_t out[PAYLOAD], in[CLIENT_BATCH * 2][PAYLOAD];
    struct mmsghdr smsg[CLIENT_BATCH], rmsg[CLIENT_BATCH * 2];
    struct iovec siov[CLIENT_BATCH], riov[CLIENT_BATCH * 2];
    for (int i = 0; i < CLIENT_BATCH; i++) {
        siov[i] = (struct iovec){.iov_base = out, .iov_len = sizeof(out)};
        smsg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &siov[i], .msg_iovlen = 1}};
    }
    for (int i = 0; i < CLIENT_BATCH * 2; i++) {
        riov[i] = (struct iovec){.iov_base = in[i], .iov_len = sizeof(in[i])};
        rmsg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &riov[i], .msg_iovlen = 1}};
    }

    ovl_time_t start = ovl_clock_now();
    ovl_time_t measure_from = start + (ovl_time_t)(WARMUP * 1e6);
    ovl_time_t end = measure_from + (ovl_time_t)(RUN_SECONDS * 1e6);
    unsigned long long inflight = 0, received = 0, lost = 0;
    int measuring = 0;
    double cpu0 = 0;
    for (;;) {
        ovl_time_t now = ovl_clock_now();
        if (!measuring && now >= measure_from) {
            measuring = 1;
            received = 0;
            cpu0 = cpu_seconds(wc.cpu);
        }
        if (now >= end)
            break;
        if (inflight < WINDOW) {
            unsigned n = WINDOW - inflight < CLIENT_BATCH ? (unsigned)(WINDOW - inflight) : CLIENT_BATCH;
            int s = sendmmsg(fd, smsg, n, 0);
            if (s > 0)
                inflight += (unsigned)s;
        }
        int r = recvmmsg(fd, rmsg, CLIENT_BATCH * 2, MSG_DONTWAIT, NULL);
        if (r > 0) {
            inflight = inflight > (unsigned)r ? inflight - (unsigned)r : 0;
            received += (unsigned)r;
        } else if (inflight >= WINDOW) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 100) == 0) { /* the window is lost: start over */
                lost += inflight;
                inflight = 0;
            }
        }
    }
    double cpu = cpu_seconds(wc.cpu) - cpu0;
    res->pps = (double)received / RUN_SECONDS;
    res->cpu_us_per_pkt = received ? cpu * 1e6 / (double)received : 0;
    res->lost = lost;
    ret = 0;
Exit:
    if (fd >= 0)
        close(fd);
    ovl_worker_free(w);
    return ret;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(void)
{
    const unsigned batches[2] = {OVL_UDP_BATCH_MAX, 1};
    double pps[2][RUNS], cpu[2][RUNS], mpps[2], mcpu[2];
    unsigned long long lost[2] = {0, 0};

    printf("bench_io: UDP echo through one media worker over loopback\n");
    printf("  %d-byte datagrams, %d in flight, median of %d runs of %.2f s per mode\n", PAYLOAD, WINDOW, RUNS,
           RUN_SECONDS);
    /* Alternate the modes so that a noisy moment on a shared machine hits both alike. */
    for (int r = 0; r < RUNS; r++) {
        for (int m = 0; m < 2; m++) {
            struct result res;
            if (run_once(batches[m], &res) != 0) {
                fprintf(stderr, "bench_io: worker setup failed\n");
                return 1;
            }
            pps[m][r] = res.pps;
            cpu[m][r] = res.cpu_us_per_pkt;
            lost[m] += res.lost;
        }
    }
    for (int m = 0; m < 2; m++) {
        mpps[m] = median(pps[m], RUNS);
        mcpu[m] = median(cpu[m], RUNS);
    }
    printf("  %-34s %12s %16s %8s\n", "worker", "echoes/s", "worker CPU/pkt", "lost");
    printf("  %-34s %12.0f %13.2f us %8llu\n", "batch 32 (recvmmsg/sendmmsg)", mpps[0], mcpu[0], lost[0]);
    printf("  %-34s %12.0f %13.2f us %8llu\n", "batch 1 (recvmsg/sendmsg)", mpps[1], mcpu[1], lost[1]);
    printf("  ratio batch 32 / batch 1: %.2fx echoes/s, %.2fx less worker CPU per packet\n", mpps[0] / mpps[1],
           mcpu[1] / mcpu[0]);
    return 0;
}
