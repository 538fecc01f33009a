/*
 * bench_turn: what it costs to get one datagram from a TURN allocation (on the signaling thread)
 * into the media worker that owns the destination port, 1200-byte datagrams.
 *
 *   hop:   the way before issue 6's short-circuit: sendto() on the allocation's UDP socket, and
 *          the worker's recvmmsg (batches of 32) on its own socket (loopback; no NAT hairpin).
 *   lane:  ovl_media_turn_send (copy into a packet the worker lent, push on a lock-free ring) and
 *          the worker's side (ring, transport map lookup, packet back to the pool), through a
 *          real media plane with one worker.
 *
 * Printed: the process's CPU time per datagram (both threads; getrusage), median of RUNS runs of
 * COUNT datagrams, so figures from a shared machine can be compared as a ratio.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/io/media.h"

#define RUNS    5
#define COUNT   50000
#define PAYLOAD 1200
#define BATCH   32

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- hop: sendto on one socket, recvmmsg on the worker's ---- */

struct hop {
    int rx;
    volatile long received;
    volatile int stop;
};

static void *hop_worker(void *arg)
{
    struct hop *h = arg;
    static uint8_t bufs[BATCH][2048];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    while (!h->stop) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
            msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        struct timespec to = {0, 50000000};
        int n = recvmmsg(h->rx, msgs, BATCH, MSG_WAITFORONE, &to);
        if (n > 0)
            __atomic_add_fetch(&h->received, n, __ATOMIC_RELAXED);
    }
    return NULL;
}

static double run_hop(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(a);
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(rx, (struct sockaddr *)&a, &sl) != 0) {
        perror("hop sockets");
        exit(1);
    }
    struct timeval tv = {0, 50000};
    setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct hop h = {.rx = rx};
    pthread_t th;
    pthread_create(&th, NULL, hop_worker, &h);
    uint8_t data[PAYLOAD];
    memset(data, 0x80, sizeof(data));
    double t0 = cpu_now();
    long sent = 0;
    for (long i = 0; i < COUNT; i++) {
        /* Keep the receive buffer from overflowing: stay at most 64 datagrams ahead (sleeping). */
        while (sent - __atomic_load_n(&h.received, __ATOMIC_RELAXED) > 64)
            usleep(20);
        if (sendto(tx, data, sizeof(data), 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)sizeof(data))
            sent++;
    }
    while (__atomic_load_n(&h.received, __ATOMIC_RELAXED) < sent)
        usleep(20);
    double cpu = cpu_now() - t0;
    h.stop = 1;
    pthread_join(th, NULL);
    close(rx);
    close(tx);
    return cpu / (double)sent;
}

/* ---- lane: the media plane's TURN short-circuit ---- */

static void no_op(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *from, const uint8_t *data, size_t len)
{
    (void)ctx, (void)relayed, (void)from, (void)data, (void)len;
}

static double run_lane(ovl_media_t *m)
{
    ovl_addr_t relayed, to;
    uint8_t data[PAYLOAD];
    memset(data, 0x80, sizeof(data)); /* RTP-looking, from a source no transport knows: looked up, dropped */
    ovl_addr_parse(&relayed, "127.0.0.1", 50000);
    ovl_addr_parse(&to, "127.0.0.1", ovl_media_worker_port(m, 0));
    double t0 = cpu_now();
    long sent = 0;
    for (long i = 0; i < COUNT; i++) {
        int r;
        while ((r = ovl_media_turn_send(m, &relayed, &to, data, sizeof(data))) == OVL_ERR_AGAIN) {
            /* As the signaling loop would: sleep until the worker lends packets again, take them. */
            struct pollfd pfd = {.fd = ovl_media_turn_fd(m, 0), .events = POLLIN};
            poll(&pfd, 1, 10);
            ovl_media_turn_poll(m, 0, 1024, no_op, NULL);
        }
        sent += r == 0;
    }
    /* Until the worker has lent every packet again: it has taken the last datagram. */
    ovl_media_stats_t st;
    do {
        usleep(1000);
        ovl_media_turn_poll(m, 0, 1024, no_op, NULL);
        ovl_media_stats(m, 0, &st);
    } while (st.turn_rx_packets % COUNT != 0 || st.turn_rx_packets == 0);
    return (cpu_now() - t0) / (double)sent;
}

int main(void)
{
    double hop[RUNS], lane[RUNS];
    char err[256];
    ovl_media_t *m = NULL;
    ovl_media_config_t cfg = {.workers = 1, .bind = "127.0.0.1", .public_ips = "127.0.0.1", .pool_packets = 4096};
    if (ovl_media_new(&cfg, &m, err, sizeof(err)) != 0 || ovl_media_start(m) != 0) {
        fprintf(stderr, "bench_turn: %s\n", err);
        return 1;
    }
    usleep(100000);
    ovl_media_turn_poll(m, 0, 1024, no_op, NULL);
    for (int r = 0; r < RUNS; r++) {
        hop[r] = run_hop();
        lane[r] = run_lane(m);
    }
    ovl_media_free(m);
    qsort(hop, RUNS, sizeof(double), cmp);
    qsort(lane, RUNS, sizeof(double), cmp);
    printf("bench_turn: %d-byte datagrams from a TURN allocation into the owning worker, CPU per datagram "
           "(both threads, median of %d x %d)\n",
           PAYLOAD, RUNS, COUNT);
    printf("  UDP hop (sendto + recvmmsg/32)   %6.2f us\n", hop[RUNS / 2] * 1e6);
    printf("  short-circuit (lent packet+ring)  %6.2f us   (%.1fx less)\n", lane[RUNS / 2] * 1e6,
           hop[RUNS / 2] / lane[RUNS / 2]);
    return 0;
}
