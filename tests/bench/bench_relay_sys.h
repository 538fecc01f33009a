/*
 * bench_relay's view of the machine: a process's CPU time (utime + stime of /proc/<pid>/stat, what
 * `top` and `ps` show for any server, so another media server can be measured the same way) and
 * resident memory (VmRSS), the whole machine's CPU use (/proc/stat) and UDP buffer drops
 * (/proc/net/snmp), and a reference for this machine's kernel: packets per second and CPU per
 * packet of a plain sendmmsg/recvmmsg loop of 1200-byte datagrams over loopback in one thread.
 * Included once, by bench_relay.c.
 */
#ifndef OVL_BENCH_RELAY_SYS_H
#define OVL_BENCH_RELAY_SYS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "relay/io/clock.h"

/* CPU seconds (user + system) of process pid so far, or -1. */
static double sys_proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Key:   123 kB" value of /proc/<pid>/status in kB, or 0. */
static unsigned long sys_proc_status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    unsigned long v = 0;
    size_t k = strlen(key);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            v = strtoul(line + k + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* The machine's CPU time so far (all cores, seconds): busy (not idle or iowait) and total. */
typedef struct sys_machine {
    double busy, total;
} sys_machine_t;

static void sys_machine(sys_machine_t *m)
{
    unsigned long long v[10] = {0};
    memset(m, 0, sizeof(*m));
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (n < 8)
        return;
    unsigned long long total = 0;
    for (int i = 0; i < 8; i++) /* guest time is already inside user */
        total += v[i];
    double hz = (double)sysconf(_SC_CLK_TCK);
    m->total = (double)total / hz;
    m->busy = (double)(total - v[3] - v[4]) / hz;
}

/* UDP datagrams the kernel dropped for want of socket buffer, machine-wide, so far. */
static unsigned long long sys_udp_buffer_drops(void)
{
    char line[512], names[512] = "";
    unsigned long long drops = 0;
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Udp: ", 5) != 0)
            continue;
        if (!names[0]) {
            snprintf(names, sizeof(names), "%s", line);
            continue;
        }
        /* Walk the names and values side by side. */
        char *ns = NULL, *vs = NULL;
        char *nt = strtok_r(names, " \n", &ns), *vt = strtok_r(line, " \n", &vs);
        while (nt && vt) {
            if (strcmp(nt, "RcvbufErrors") == 0 || strcmp(nt, "SndbufErrors") == 0)
                drops += strtoull(vt, NULL, 10);
            nt = strtok_r(NULL, " \n", &ns);
            vt = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return drops;
}

static double sys_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double sys_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define SYS_HIST_N 481 /* latency buckets: see sys_hist_bucket */

/*
 * Latency histogram bucket of `us` microseconds: 4 us wide below 1024 us (buckets 0..255), then 16
 * per power of two (at most 6 % wide) up to 2^24 us (16 s, buckets 256..479), then one overflow.
 */
static size_t sys_hist_bucket(uint64_t us)
{
    if (us < 1024)
        return (size_t)(us / 4);
    unsigned e = 63u - (unsigned)__builtin_clzll(us); /* 10.. */
    if (e >= 24)
        return SYS_HIST_N - 1;
    return 256 + (e - 10) * 16 + (size_t)((us >> (e - 4)) & 15);
}

/* The middle of bucket b, in microseconds (the overflow bucket reads as 2^24 us). */
static double sys_hist_value(size_t b)
{
    if (b < 256)
        return (double)b * 4 + 2;
    if (b >= SYS_HIST_N - 1)
        return (double)(1u << 24);
    unsigned e = 10 + (unsigned)(b - 256) / 16, sub = (unsigned)(b - 256) % 16;
    return (double)((16u + sub) << (e - 4)) + (double)(1u << (e - 4)) / 2;
}

#define SYS_REF_BATCH 32
#define SYS_REF_BYTES 1200

/*
 * One run of the kernel reference: this thread sends batches of SYS_REF_BATCH 1200-byte datagrams
 * with sendmmsg from one loopback socket to another and reads them back with recvmmsg, for
 * `seconds`. Out: datagrams per second and CPU microseconds per datagram (one send + one receive).
 * 0 or -1.
 */
static int sys_kernel_ref_once(double seconds, double *pps, double *us_per_pkt)
{
    int ret = -1, a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    static uint8_t out[SYS_REF_BYTES], in[SYS_REF_BATCH][SYS_REF_BYTES];
    struct mmsghdr smsg[SYS_REF_BATCH], rmsg[SYS_REF_BATCH];
    struct iovec siov[SYS_REF_BATCH], riov[SYS_REF_BATCH];
    int big = 4 << 20;
    if (a < 0 || b < 0 || bind(b, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(b, (struct sockaddr *)&sin, &sl) != 0 || connect(a, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        goto Exit;
    setsockopt(b, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    for (int i = 0; i < SYS_REF_BATCH; i++) {
        siov[i] = (struct iovec){.iov_base = out, .iov_len = sizeof(out)};
        smsg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &siov[i], .msg_iovlen = 1}};
        riov[i] = (struct iovec){.iov_base = in[i], .iov_len = sizeof(in[i])};
        rmsg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &riov[i], .msg_iovlen = 1}};
    }
    unsigned long long got = 0;
    double t0 = sys_now(), c0 = sys_thread_cpu(), t1;
    do {
        int s = sendmmsg(a, smsg, SYS_REF_BATCH, 0);
        for (int left = s; left > 0;) {
            struct pollfd p = {.fd = b, .events = POLLIN};
            if (poll(&p, 1, 100) <= 0)
                break; /* lost: never on loopback with a 4 MB buffer */
            int r = recvmmsg(b, rmsg, (unsigned)left, MSG_DONTWAIT, NULL);
            if (r > 0) {
                left -= r;
                got += (unsigned)r;
            }
        }
        t1 = sys_now();
    } while (t1 - t0 < seconds);
    *pps = (double)got / (t1 - t0);
    *us_per_pkt = got ? (sys_thread_cpu() - c0) * 1e6 / (double)got : 0;
    ret = got ? 0 : -1;
Exit:
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return ret;
}

/*
 * The machine's own latency, measured beside the relay: a probe thread sends a timestamped datagram
 * over loopback every SYS_PROBE_EVERY_US to an echo thread, which sends it straight back; the
 * probe records the round trip. That is two thread wake-ups through the kernel, as a packet
 * through the relay has (the relay's worker, then the receiver), with no work in between: on an
 * idle machine some tens of microseconds, on a shared one whatever the scheduler and hypervisor
 * add. Read the relay's latency against it.
 */
#define SYS_PROBE_EVERY_US 2000

typedef struct sys_probe {
    int probe_fd, echo_fd;
    pthread_t probe_th, echo_th;
    bool started;
    int stop;                  /* atomic */
    uint64_t hist[SYS_HIST_N]; /* atomic; written by the probe thread */
} sys_probe_t;

static void *sys_echo_main(void *arg)
{
    sys_probe_t *p = arg;
    uint8_t buf[64];
    struct sockaddr_storage from;
    for (;;) {
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(p->echo_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0 || __atomic_load_n(&p->stop, __ATOMIC_RELAXED))
            return NULL;
        sendto(p->echo_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
}

static void *sys_probe_main(void *arg)
{
    sys_probe_t *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        ovl_time_t sent = ovl_clock_now(), back = 0;
        if (send(p->probe_fd, &sent, sizeof(sent), 0) == (ssize_t)sizeof(sent)) {
            struct pollfd pfd = {.fd = p->probe_fd, .events = POLLIN};
            if (poll(&pfd, 1, 2000) == 1 && recv(p->probe_fd, &back, sizeof(back), 0) == (ssize_t)sizeof(back) &&
                back == sent) {
                uint64_t *h = &p->hist[sys_hist_bucket(ovl_clock_now() - sent)];
                __atomic_store_n(h, __atomic_load_n(h, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
            }
        }
        usleep(SYS_PROBE_EVERY_US);
    }
    return NULL;
}

/* Starts the two threads. 0 or -1. */
static int sys_probe_start(sys_probe_t *p)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    memset(p, 0, sizeof(*p));
    p->probe_fd = socket(AF_INET, SOCK_DGRAM, 0);
    p->echo_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (p->probe_fd < 0 || p->echo_fd < 0 || bind(p->echo_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(p->echo_fd, (struct sockaddr *)&sin, &sl) != 0 ||
        connect(p->probe_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        pthread_create(&p->echo_th, NULL, sys_echo_main, p) != 0)
        return -1;
    if (pthread_create(&p->probe_th, NULL, sys_probe_main, p) != 0) {
        __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
        send(p->probe_fd, "x", 1, 0); /* wakes the echo thread, which sees stop */
        pthread_join(p->echo_th, NULL);
        return -1;
    }
    p->started = true;
    return 0;
}

/* Stops and joins the threads and closes the sockets (safe after a failed start). */
static void sys_probe_stop(sys_probe_t *p)
{
    if (p->started) {
        __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
        pthread_join(p->probe_th, NULL);
        send(p->probe_fd, "x", 1, 0);
        pthread_join(p->echo_th, NULL);
        p->started = false;
    }
    if (p->probe_fd >= 0)
        close(p->probe_fd);
    if (p->echo_fd >= 0)
        close(p->echo_fd);
    p->probe_fd = p->echo_fd = -1;
}

#endif
