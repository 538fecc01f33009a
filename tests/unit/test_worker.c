/* Media worker: an echo hook over real loopback sockets (batched receive, source addresses,
 * batched echo), commands and events through the queues with owned payloads, the tick, and a
 * clean start/stop/free in every order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/io/clock.h"
#include "relay/io/worker.h"

#define N_DGRAMS 200

/* What the echo hook saw; written on the worker thread, read after join. */
struct echo {
    size_t batches, total, max_batch;
    size_t sizes[N_DGRAMS];
    struct sockaddr_storage src[N_DGRAMS];
    socklen_t srclen[N_DGRAMS];
    int send_errors;
    int started, stopped;
    int start_result;
    unsigned ticks;
};

static int echo_start(ovl_worker_t *w, void *ctx)
{
    (void)w;
    struct echo *e = ctx;
    e->started++;
    return e->start_result;
}

static void echo_stop(ovl_worker_t *w, void *ctx)
{
    (void)w;
    struct echo *e = ctx;
    e->stopped++;
}

/* The echo: every datagram goes back where it came from, through the batched send queue. */
static void echo_datagrams(ovl_worker_t *w, ovl_udp_dgram_t *d, size_t n, void *ctx)
{
    struct echo *e = ctx;
    e->batches++;
    if (n > e->max_batch)
        e->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        if (e->total < N_DGRAMS) {
            e->sizes[e->total] = d[i].pkt->len;
            memcpy(&e->src[e->total], &d[i].src, d[i].srclen);
            e->srclen[e->total] = d[i].srclen;
        }
        e->total++;
        if (ovl_udp_send(ovl_worker_udp(w), d[i].pkt, (struct sockaddr *)&d[i].src, d[i].srclen, NULL) != 0)
            e->send_errors++;
    }
}

/* Commands come back as events, payload and all (ownership moves on). A real hook would count
 * and drop an event the full queue refuses; this one waits for the test to drain it, so that the
 * test can expect every event. */
static void echo_command(ovl_worker_t *w, ovl_worker_msg_t *msg, void *ctx)
{
    (void)ctx;
    ovl_worker_msg_t ev = *msg;
    ev.type = msg->type + 1000;
    while (ovl_worker_emit(w, &ev) == OVL_ERR_AGAIN)
        sched_yield();
}

static void echo_tick(ovl_worker_t *w, ovl_time_t now, void *ctx)
{
    struct echo *e = ctx;
    (void)now;
    if (++e->ticks == 3) {
        ovl_worker_msg_t ev = {.type = 77, .arg = e->ticks};
        ovl_worker_emit(w, &ev);
    }
}

static ovl_worker_hooks_t echo_hooks(struct echo *e)
{
    return (ovl_worker_hooks_t){
        .on_start = echo_start,
        .on_datagrams = echo_datagrams,
        .on_command = echo_command,
        .on_tick = echo_tick,
        .on_stop = echo_stop,
        .ctx = e,
    };
}

static ovl_worker_config_t test_config(void)
{
    return (ovl_worker_config_t){
        .index = 3,
        .port_base = 0, /* the kernel picks a port */
        .udp = {.addr = "127.0.0.1", .rcvbuf = 4 << 20, .sndbuf = 1 << 20},
        .pool_packets = 256,
        .queue_capacity = 64,
    };
}

static void fill(uint8_t *buf, size_t len, int seq)
{
    buf[0] = (uint8_t)seq;
    for (size_t i = 1; i < len; i++)
        buf[i] = (uint8_t)(seq * 7 + i);
}

static size_t size_of(int i)
{
    return 1 + (size_t)i * 7 % 1400;
}

static void test_worker_udp_echo(void **state)
{
    (void)state;
    struct echo e = {0};
    ovl_worker_t *w;
    ovl_worker_config_t cfg = test_config();
    ovl_worker_hooks_t hooks = echo_hooks(&e);
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_index(w), 3);
    assert_true(ovl_worker_port(w) != 0);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    socklen_t melen = sizeof(me);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &melen), 0);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(ovl_worker_port(w)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    /* All 200 are waiting in the worker's socket before its thread starts: it must read them in
     * full batches of OVL_UDP_BATCH_MAX. */
    uint8_t buf[2048];
    for (int i = 0; i < N_DGRAMS; i++) {
        fill(buf, size_of(i), i);
        assert_int_equal(sendto(fd, buf, size_of(i), 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)size_of(i));
    }
    assert_int_equal(ovl_worker_start(w), 0);
    assert_int_equal(ovl_worker_start(w), OVL_ERR_STATE);

    static int got[N_DGRAMS];
    memset(got, 0, sizeof(got));
    for (int k = 0; k < N_DGRAMS; k++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 2000), 1); /* every echo within 2 s */
        struct sockaddr_in from;
        socklen_t fromlen = sizeof(from);
        ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
        assert_true(len >= 1);
        int seq = buf[0];
        /* The first byte holds seq mod 256: find the datagram by it and by its length. */
        int found = -1;
        for (int i = seq; i < N_DGRAMS; i += 256)
            if (size_of(i) == (size_t)len && !got[i])
                found = i;
        assert_true(found >= 0);
        uint8_t want[2048];
        fill(want, (size_t)len, found);
        assert_memory_equal(buf, want, (size_t)len);
        assert_int_equal(from.sin_port, to.sin_port); /* echoed from the worker's port */
        got[found] = 1;
    }
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_join(w), 0);
    assert_int_equal(ovl_worker_join(w), OVL_ERR_STATE);

    assert_int_equal(e.total, N_DGRAMS);
    assert_int_equal(e.max_batch, OVL_UDP_BATCH_MAX);
    assert_true(e.batches <= N_DGRAMS / OVL_UDP_BATCH_MAX + 1); /* 7 batches: 6 x 32 + 8 */
    assert_int_equal(e.send_errors, 0);
    for (int i = 0; i < N_DGRAMS; i++) {
        assert_int_equal(e.sizes[i], size_of(i)); /* loopback keeps order */
        assert_int_equal(e.srclen[i], sizeof(struct sockaddr_in));
        assert_memory_equal(&e.src[i], &me, sizeof(me));
    }
    ovl_udp_stats_t us;
    ovl_udp_stats(ovl_worker_udp(w), &us);
    assert_int_equal(us.rx_packets, N_DGRAMS);
    assert_int_equal(us.tx_packets, N_DGRAMS);
    assert_true(us.tx_calls < N_DGRAMS); /* batched: sendmmsg, not one call per datagram */
    ovl_pool_stats_t ps;
    ovl_pool_stats(ovl_worker_pool(w), &ps);
    assert_true(ps.in_use <= OVL_UDP_BATCH_MAX); /* only the socket's spare packets */
    assert_int_equal(ps.exhausted, 0);
    assert_int_equal(e.started, 1);
    assert_int_equal(e.stopped, 1);
    close(fd);
    ovl_worker_free(w);
}

struct events {
    int n;
    uint32_t last_type;
};

static void check_event(ovl_worker_msg_t *msg, void *ctx)
{
    struct events *ev = ctx;
    char want[32];
    snprintf(want, sizeof(want), "offer %d", ev->n);
    assert_int_equal(msg->type, 1000u + (uint32_t)ev->n);
    assert_int_equal(msg->id, (uint64_t)ev->n * 11u);
    assert_non_null(msg->payload);
    assert_string_equal(msg->payload, want);
    assert_int_equal(msg->len, strlen(want));
    ovl_worker_msg_dispose(msg); /* signaling owns the payload now */
    assert_null(msg->payload);
    ev->n++;
}

/* Signaling posts commands with heap payloads; the worker hands them back as events. */
static void test_worker_commands_and_events(void **state)
{
    (void)state;
    enum { N = 300 }; /* more than the queue holds: exercises AGAIN and wakeups */
    struct echo e = {0};
    ovl_worker_t *w;
    ovl_worker_config_t cfg = test_config();
    ovl_worker_hooks_t hooks = echo_hooks(&e);
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_start(w), 0);
    struct events ev = {0};
    int posted = 0;
    int efd = ovl_worker_events_fd(w);
    for (int rounds = 0; ev.n < N && rounds < 100000; rounds++) {
        while (posted < N) {
            char text[32];
            snprintf(text, sizeof(text), "offer %d", posted);
            ovl_worker_msg_t m = {.type = (uint32_t)posted, .id = (uint64_t)posted * 11u, .len = strlen(text)};
            m.payload = strdup(text);
            if (ovl_worker_post(w, &m) != 0) {
                free(m.payload); /* refused: still ours */
                break;
            }
            posted++;
        }
        struct pollfd p = {.fd = efd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 2000), 1); /* events keep coming, each within 2 s */
        ovl_worker_poll_events(w, 64, check_event, &ev);
    }
    assert_int_equal(ev.n, N);
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_join(w), 0);
    ovl_worker_free(w);
}

struct tick_seen {
    uint32_t type;
    uint64_t arg;
};

static void on_tick_event(ovl_worker_msg_t *msg, void *ctx)
{
    struct tick_seen *t = ctx;
    t->type = msg->type;
    t->arg = msg->arg;
    ovl_worker_msg_dispose(msg);
}

/* The tick hook runs periodically on the worker thread (every millisecond here). */
static void test_worker_tick(void **state)
{
    (void)state;
    struct echo e = {0};
    ovl_worker_t *w;
    ovl_worker_config_t cfg = test_config();
    cfg.tick = OVL_MS(1);
    ovl_worker_hooks_t hooks = echo_hooks(&e);
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_start(w), 0);
    struct pollfd p = {.fd = ovl_worker_events_fd(w), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1); /* the third tick within 2 s */
    struct tick_seen t = {0};
    assert_int_equal(ovl_worker_poll_events(w, 8, on_tick_event, &t), 1);
    assert_int_equal(t.type, 77);
    assert_int_equal(t.arg, 3);
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_join(w), 0);
    assert_true(e.ticks >= 3);
    ovl_worker_free(w);
}

/* A sendmmsg that says EAGAIN until the test lets it through (loopback never says EAGAIN). */
struct gate {
    atomic_int open;
    atomic_int refused;
};

static int gated_sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    struct gate *g = ctx;
    if (!atomic_load(&g->open)) {
        atomic_fetch_add(&g->refused, 1);
        errno = EAGAIN;
        return -1;
    }
    return sendmmsg(fd, msgs, n, MSG_DONTWAIT);
}

static int plain_recvmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    (void)ctx;
    return recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
}

/* After EAGAIN the worker keeps the echo queued and watches the socket for writing: the echo
 * leaves once the socket takes it, with no further traffic to wake the worker. */
static void test_worker_flushes_when_writable(void **state)
{
    (void)state;
    struct echo e = {0};
    struct gate g;
    atomic_init(&g.open, 0);
    atomic_init(&g.refused, 0);
    ovl_udp_sys_t sys = {.recvmmsg = plain_recvmmsg, .sendmmsg = gated_sendmmsg, .ctx = &g};
    ovl_worker_t *w;
    ovl_worker_config_t cfg = test_config();
    cfg.udp.sys = &sys;
    ovl_worker_hooks_t hooks = echo_hooks(&e);
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_start(w), 0);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(ovl_worker_port(w)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
    ovl_time_t start = ovl_clock_now();
    while (atomic_load(&g.refused) < 3 && ovl_clock_now() - start < OVL_SEC(2))
        sched_yield();
    assert_true(atomic_load(&g.refused) >= 3); /* tried, refused, tried again when "writable" */
    char buf[16];
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1); /* still queued */
    atomic_store(&g.open, 1);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    close(fd);
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_join(w), 0);
    ovl_udp_stats_t us;
    ovl_udp_stats(ovl_worker_udp(w), &us);
    assert_true(us.tx_blocked >= 3);
    assert_int_equal(us.tx_packets, 1);
    assert_int_equal(us.tx_queue_full, 0);
    ovl_worker_free(w);
}

/* Start, stop, join and free in every order, without leaks (ASan) or hangs. */
static void test_worker_lifecycle(void **state)
{
    (void)state;
    struct echo e = {0};
    ovl_worker_t *w;
    ovl_worker_config_t cfg = test_config();
    ovl_worker_hooks_t hooks = echo_hooks(&e);

    /* Never started: free alone; join refuses. */
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_join(w), OVL_ERR_STATE);
    ovl_worker_free(w);

    /* Started and freed at once: free stops and joins. */
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_start(w), 0);
    ovl_worker_free(w);

    /* Stopped before it started: the thread still ends. */
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_start(w), 0);
    assert_int_equal(ovl_worker_join(w), 0);
    ovl_worker_free(w);

    /* Commands never handled are freed with the worker (ASan reports a leak otherwise). */
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    for (int i = 0; i < 10; i++) {
        ovl_worker_msg_t m = {.type = 1, .payload = strdup("never read")};
        assert_int_equal(ovl_worker_post(w, &m), 0);
    }
    ovl_worker_free(w);

    /* A hook that refuses to start ends the thread with its error. */
    e.start_result = OVL_ERR_STATE;
    assert_int_equal(ovl_worker_new(&w, &cfg, &hooks), 0);
    assert_int_equal(ovl_worker_start(w), 0);
    assert_int_equal(ovl_worker_join(w), OVL_ERR_STATE);
    ovl_worker_free(w);

    /* No hooks at all: datagrams and commands are dropped cleanly. */
    assert_int_equal(ovl_worker_new(&w, &cfg, NULL), 0);
    assert_int_equal(ovl_worker_start(w), 0);
    ovl_worker_msg_t m = {.type = 1, .payload = strdup("dropped")};
    assert_int_equal(ovl_worker_post(w, &m), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(ovl_worker_port(w)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
    close(fd);
    ovl_worker_stop(w);
    assert_int_equal(ovl_worker_join(w), 0);
    ovl_worker_free(w);

    /* A port base: worker i binds base + i; a taken port is an error from ovl_worker_new. */
    assert_int_equal(ovl_worker_new(&w, &cfg, NULL), 0);
    uint16_t taken = ovl_worker_port(w);
    ovl_worker_t *w2;
    cfg.port_base = (uint16_t)(taken - cfg.index);
    assert_int_equal(ovl_worker_new(&w2, &cfg, NULL), OVL_ERR_IO);
    assert_null(w2);
    ovl_worker_free(w);
    assert_int_equal(ovl_worker_new(&w, &cfg, NULL), 0);
    assert_int_equal(ovl_worker_port(w), taken);
    ovl_worker_free(w);
    cfg.port_base = 65535;
    assert_int_equal(ovl_worker_new(&w, &cfg, NULL), OVL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_udp_echo),  cmocka_unit_test(test_worker_commands_and_events),
        cmocka_unit_test(test_worker_tick),      cmocka_unit_test(test_worker_flushes_when_writable),
        cmocka_unit_test(test_worker_lifecycle),
    };
    return cmocka_run_group_tests_name("io media worker", tests, NULL, NULL);
}
