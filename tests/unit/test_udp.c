/* UDP socket: batched receive into pool packets with source addresses, batched sends, the
 * bounded send queue (EAGAIN, EINTR, partial sends, per-datagram errors), local addresses
 * (IP_PKTINFO / IPV6_PKTINFO) and dual stack. Real sockets on loopback, ports chosen by the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/io/udp.h"

/* A plain socket bound to addr:0 (the test's peer). */
static int peer_socket(int family, const char *addr, struct sockaddr_storage *bound, socklen_t *blen)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
        len = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
        len = sizeof(*a);
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    *blen = sizeof(*bound);
    assert_int_equal(getsockname(fd, (struct sockaddr *)bound, blen), 0);
    return fd;
}

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
    return a;
}

/* Receives one datagram within 2 s; returns its length. */
static ssize_t recv_within(int fd, void *buf, size_t len, struct sockaddr_storage *from)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) != 1)
        return -1;
    socklen_t flen = sizeof(*from);
    return recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &flen);
}

/* Waits (at most 2 s) until the udp socket is readable. */
static void wait_readable(ovl_udp_t *udp)
{
    struct pollfd p = {.fd = ovl_udp_fd(udp), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
}

static ovl_udp_t *open_udp(const ovl_udp_config_t *cfg, ovl_pool_t *pool)
{
    ovl_udp_t *udp;
    assert_int_equal(ovl_udp_new(&udp, cfg, pool), 0);
    assert_true(ovl_udp_port(udp) != 0);
    return udp;
}

static void fill(uint8_t *buf, size_t len, int seq)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seq * 31 + i);
}

static void test_udp_config_errors(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    ovl_udp_t *udp;
    assert_int_equal(ovl_pool_new(&pool, 4), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .dual_stack = true};
    assert_int_equal(ovl_udp_new(&udp, &cfg, pool), OVL_ERR_ARG);
    cfg = (ovl_udp_config_t){.addr = "not-an-address"};
    assert_int_equal(ovl_udp_new(&udp, &cfg, pool), OVL_ERR_ARG);
    cfg = (ovl_udp_config_t){.addr = "127.0.0.1", .batch = OVL_UDP_BATCH_MAX + 1};
    assert_int_equal(ovl_udp_new(&udp, &cfg, pool), OVL_ERR_ARG);
    assert_null(udp);
    /* A port already taken. */
    cfg = (ovl_udp_config_t){.addr = "127.0.0.1"};
    ovl_udp_t *first = open_udp(&cfg, pool);
    cfg.port = ovl_udp_port(first);
    assert_int_equal(ovl_udp_new(&udp, &cfg, pool), OVL_ERR_IO);
    ovl_udp_free(first);
    ovl_pool_free(pool);
}

static void test_udp_buffers_granted(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    assert_int_equal(ovl_pool_new(&pool, 4), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .rcvbuf = 1 << 20, .sndbuf = 1 << 19};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int rcv, snd;
    ovl_udp_buffers(udp, &rcv, &snd);
    /* The kernel reports twice what it granted; root may exceed rmem_max with the FORCE option. */
    assert_true(rcv >= 1 << 20);
    assert_true(snd >= 1 << 19);
    assert_int_equal(ovl_udp_family(udp), AF_INET);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* Datagrams already waiting arrive in one batch, with their sizes, bytes and sender. */
static void test_udp_recv_batch(void **state)
{
    (void)state;
    enum { N = 40 };
    ovl_pool_t *pool;
    ovl_udp_dgram_t d[OVL_UDP_BATCH_MAX];
    size_t n;
    uint8_t buf[OVL_POOL_DATA];
    struct sockaddr_storage peer;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 64), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .rcvbuf = 1 << 20};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), OVL_ERR_AGAIN);
    assert_int_equal(n, 0);

    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    struct sockaddr_in to = v4("127.0.0.1", ovl_udp_port(udp));
    for (int i = 0; i < N; i++) {
        size_t len = i == 0 ? 0 : i == 1 ? OVL_POOL_DATA : (size_t)(1 + i * 37);
        fill(buf, len, i);
        assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
    }
    int seen = 0;
    assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), 0);
    assert_int_equal(n, OVL_UDP_BATCH_MAX); /* all were waiting: a full batch in one call */
    for (int round = 0; seen < N; round++) {
        if (round > 0)
            assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), 0);
        for (size_t k = 0; k < n; k++, seen++) {
            size_t len = seen == 0 ? 0 : seen == 1 ? OVL_POOL_DATA : (size_t)(1 + seen * 37);
            assert_int_equal(d[k].pkt->len, len);
            fill(buf, len, seen);
            assert_memory_equal(d[k].pkt->data, buf, len);
            assert_int_equal(ovl_pkt_headroom(d[k].pkt), OVL_POOL_HEADROOM);
            assert_int_equal(d[k].srclen, peerlen);
            assert_memory_equal(&d[k].src, &peer, peerlen);
            assert_int_equal(d[k].local.family, 0); /* pktinfo off */
            ovl_pkt_unref(d[k].pkt);
        }
    }
    assert_int_equal(seen, N);
    assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), OVL_ERR_AGAIN);
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.rx_packets, N);
    assert_int_equal(st.rx_calls, 2);
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_stats_t ps;
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 0);
    ovl_pool_free(pool);
}

/* Oversized datagrams are dropped; an exhausted pool drops (and drains) instead of stalling. */
static void test_udp_recv_drops(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    ovl_udp_dgram_t d[OVL_UDP_BATCH_MAX];
    size_t n;
    static uint8_t buf[4000];
    struct sockaddr_storage peer;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 4), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .rcvbuf = 1 << 20};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    struct sockaddr_in to = v4("127.0.0.1", ovl_udp_port(udp));

    /* 2049 bytes, then 10, then 3000: the two long ones are dropped. */
    size_t lens[3] = {OVL_POOL_DATA + 1, 10, 3000};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendto(fd, buf, lens[i], 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)lens[i]);
    assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].pkt->len, 10);
    assert_memory_equal(&d[0].src, &peer, peerlen);
    ovl_pkt_unref(d[0].pkt);
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.rx_truncated, 2);

    /* Ten datagrams, four packets: four arrive, six are dropped, the socket is drained. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(sendto(fd, buf, 100, 0, (struct sockaddr *)&to, sizeof(to)), 100);
    assert_int_equal(ovl_udp_recv(udp, d, OVL_UDP_BATCH_MAX, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ovl_udp_recv(udp, d + 4, OVL_UDP_BATCH_MAX, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ovl_udp_recv(udp, d + 4, OVL_UDP_BATCH_MAX, &n), OVL_ERR_AGAIN);
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.rx_nobuf, 6);
    assert_int_equal(st.rx_packets, 5);
    ovl_pool_stats_t ps;
    ovl_pool_stats(pool, &ps);
    assert_true(ps.exhausted >= 1);
    for (int i = 0; i < 4; i++)
        ovl_pkt_unref(d[i].pkt);
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 0);
    ovl_pool_free(pool);
}

/* Queued datagrams leave only on flush, in batches; the queue holds its own reference. */
static void test_udp_send_batches(void **state)
{
    (void)state;
    enum { N = 10 };
    ovl_pool_t *pool;
    uint8_t buf[OVL_POOL_DATA];
    struct sockaddr_storage peer, from;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 16), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .batch = 4};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    for (int i = 0; i < N; i++) {
        ovl_pkt_t *pkt = ovl_pool_get(pool);
        pkt->len = (size_t)(50 + i);
        fill(pkt->data, pkt->len, i);
        assert_int_equal(ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, peerlen, NULL), 0);
        assert_int_equal(ovl_pkt_refs(pkt), 2);
        ovl_pkt_unref(pkt); /* the queue keeps it alive */
    }
    assert_int_equal(ovl_udp_queued(udp), N);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1); /* nothing sent before flush */
    assert_int_equal(ovl_udp_flush(udp), 0);
    assert_int_equal(ovl_udp_queued(udp), 0);
    for (int i = 0; i < N; i++) {
        ssize_t len = recv_within(fd, buf, sizeof(buf), &from);
        assert_int_equal(len, 50 + i);
        uint8_t want[OVL_POOL_DATA];
        fill(want, (size_t)len, i);
        assert_memory_equal(buf, want, (size_t)len);
        struct sockaddr_in *f = (struct sockaddr_in *)&from;
        assert_int_equal(ntohs(f->sin_port), ovl_udp_port(udp));
    }
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.tx_packets, N);
    assert_int_equal(st.tx_calls, 3); /* 4 + 4 + 2 */
    assert_int_equal(st.tx_queue_high_water, N);
    ovl_pool_stats_t ps;
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 0); /* every reference was returned */
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* A send that finds the queue full flushes it first instead of dropping. */
static void test_udp_send_flushes_when_full(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    uint8_t buf[64];
    struct sockaddr_storage peer, from;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 4), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .send_queue = 8};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    ovl_pkt_t *pkt = ovl_pool_get(pool);
    pkt->len = 1;
    for (int i = 0; i < 20; i++) {
        /* the same packet queued 20 times: fan-out of one buffer */
        assert_int_equal(ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, peerlen, NULL), 0);
        if (ovl_udp_queued(udp) == 8)
            assert_int_equal(ovl_pkt_refs(pkt), 9);
    }
    assert_int_equal(ovl_udp_flush(udp), 0);
    ovl_pkt_unref(pkt);
    for (int i = 0; i < 20; i++)
        assert_int_equal(recv_within(fd, buf, sizeof(buf), &from), 1);
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.tx_packets, 20);
    assert_int_equal(st.tx_queue_full, 0);
    assert_int_equal(st.tx_queue_high_water, 8);
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* A fake sendmmsg in front of the kernel's: loopback never says EAGAIN or EINTR, this does. */
struct fake {
    int eagain;    /* fail with EAGAIN while set */
    int eintr;     /* fail with EINTR this many times */
    unsigned most; /* send at most this many per call (0: all) */
    int calls;
};

static int fake_sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    struct fake *f = ctx;
    f->calls++;
    if (f->eagain) {
        errno = EAGAIN;
        return -1;
    }
    if (f->eintr > 0) {
        f->eintr--;
        errno = EINTR;
        return -1;
    }
    if (f->most && n > f->most)
        n = f->most;
    return sendmmsg(fd, msgs, n, MSG_DONTWAIT);
}

static int real_recvmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    (void)ctx;
    return recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
}

/* EAGAIN keeps the queue; beyond its bound new datagrams are dropped and counted; the kept ones
 * leave, in order, once the socket accepts them again. */
static void test_udp_full_queue_drops_and_counts(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    uint8_t buf[64];
    struct sockaddr_storage peer, from;
    socklen_t peerlen;
    struct fake fake = {.eagain = 1};
    ovl_udp_sys_t sys = {.recvmmsg = real_recvmmsg, .sendmmsg = fake_sendmmsg, .ctx = &fake};
    assert_int_equal(ovl_pool_new(&pool, 16), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .send_queue = 8, .sys = &sys};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    for (int i = 0; i < 12; i++) {
        ovl_pkt_t *pkt = ovl_pool_get(pool);
        pkt->len = 1;
        pkt->data[0] = (uint8_t)i;
        int ret = ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, peerlen, NULL);
        assert_int_equal(ret, i < 8 ? 0 : OVL_ERR_LIMIT);
        ovl_pkt_unref(pkt); /* a dropped packet goes straight back to the pool */
    }
    assert_int_equal(ovl_udp_flush(udp), OVL_ERR_AGAIN);
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.tx_queue_full, 4);
    assert_int_equal(st.tx_queued, 8);
    assert_int_equal(st.tx_blocked, 5); /* one per refused send's flush, one for ours */
    assert_int_equal(st.tx_packets, 0);
    ovl_pool_stats_t ps;
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 8);

    fake.eagain = 0;
    assert_int_equal(ovl_udp_flush(udp), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(recv_within(fd, buf, sizeof(buf), &from), 1);
        assert_int_equal(buf[0], i);
    }
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 0);
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* EINTR is retried; a kernel that takes fewer datagrams than offered gets the rest next call. */
static void test_udp_flush_eintr_and_partial(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    uint8_t buf[64];
    struct sockaddr_storage peer, from;
    socklen_t peerlen;
    struct fake fake = {.eintr = 2, .most = 3};
    ovl_udp_sys_t sys = {.recvmmsg = real_recvmmsg, .sendmmsg = fake_sendmmsg, .ctx = &fake};
    assert_int_equal(ovl_pool_new(&pool, 16), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1", .sys = &sys};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    for (int i = 0; i < 10; i++) {
        ovl_pkt_t *pkt = ovl_pool_get(pool);
        pkt->len = 1;
        pkt->data[0] = (uint8_t)i;
        assert_int_equal(ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, peerlen, NULL), 0);
        ovl_pkt_unref(pkt);
    }
    assert_int_equal(ovl_udp_flush(udp), 0);
    assert_int_equal(fake.calls, 2 + 4); /* two interrupted, then 3 + 3 + 3 + 1 */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(recv_within(fd, buf, sizeof(buf), &from), 1);
        assert_int_equal(buf[0], i);
    }
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* Datagrams the kernel refuses for themselves are dropped and counted; the others still leave. */
static void test_udp_per_datagram_errors(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    uint8_t buf[64];
    struct sockaddr_storage peer, from;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 8), 0);
    ovl_udp_config_t cfg = {.addr = "127.0.0.1"};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = in6addr_loopback};
    struct sockaddr_in port0 = v4("127.0.0.1", 0);
    ovl_pkt_t *pkt = NULL;
    for (int i = 0; i < 5; i++) {
        pkt = ovl_pool_get(pool);
        pkt->len = 1;
        pkt->data[0] = (uint8_t)i;
        int ret;
        if (i == 1) /* an IPv6 destination on an IPv4 socket: EAFNOSUPPORT */
            ret = ovl_udp_send(udp, pkt, (struct sockaddr *)&six, sizeof(six), NULL);
        else if (i == 3) /* port 0: EINVAL */
            ret = ovl_udp_send(udp, pkt, (struct sockaddr *)&port0, sizeof(port0), NULL);
        else
            ret = ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, peerlen, NULL);
        assert_int_equal(ret, 0);
        if (i < 4)
            ovl_pkt_unref(pkt);
    }
    /* An address that cannot be a socket address is refused up front. */
    assert_int_equal(ovl_udp_send(udp, pkt, (struct sockaddr *)&peer, sizeof(struct sockaddr_storage), NULL),
                     OVL_ERR_ARG);
    ovl_pkt_unref(pkt);
    assert_int_equal(ovl_udp_flush(udp), 0);
    ovl_udp_stats_t st;
    ovl_udp_stats(udp, &st);
    assert_int_equal(st.tx_errors, 2);
    assert_int_equal(st.tx_last_errno, EINVAL);
    assert_int_equal(st.tx_packets, 3);
    /* The datagrams around the refused ones arrived: 0, 2, 4. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recv_within(fd, buf, sizeof(buf), &from), 1);
        assert_int_equal(buf[0], 2 * i);
    }
    ovl_pool_stats_t ps;
    ovl_pool_stats(pool, &ps);
    assert_int_equal(ps.in_use, 0);
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* Echoes one datagram back from the local address it was received on (or not); returns the
 * source address the peer saw, as text. */
static void echo_and_see_source(ovl_udp_t *udp, int peerfd, const struct sockaddr *to, socklen_t tolen, int use_local,
                                ovl_udp_dgram_t *d_out, char *seen, size_t seenlen)
{
    ovl_udp_dgram_t d[1];
    size_t n;
    uint8_t buf[16];
    struct sockaddr_storage from;
    assert_int_equal(sendto(peerfd, "ping", 4, 0, to, tolen), 4);
    wait_readable(udp);
    assert_int_equal(ovl_udp_recv(udp, d, 1, &n), 0);
    assert_int_equal(n, 1);
    *d_out = d[0];
    assert_int_equal(
        ovl_udp_send(udp, d[0].pkt, (struct sockaddr *)&d[0].src, d[0].srclen, use_local ? &d[0].local : NULL), 0);
    ovl_pkt_unref(d[0].pkt);
    d_out->pkt = NULL;
    assert_int_equal(ovl_udp_flush(udp), 0);
    assert_int_equal(recv_within(peerfd, buf, sizeof(buf), &from), 4);
    if (from.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, seen, (socklen_t)seenlen);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, seen, (socklen_t)seenlen);
}

/* A socket bound to the wildcard learns which local address a datagram was sent to
 * (IP_PKTINFO) and replies from it: the whole 127/8 is loopback, so 127.0.0.2 is a second
 * local address that the kernel would not pick by itself for a peer at 127.0.0.1. */
static void test_udp_pktinfo_v4(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    ovl_udp_dgram_t d;
    char seen[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
    struct sockaddr_storage peer;
    socklen_t peerlen;
    assert_int_equal(ovl_pool_new(&pool, 8), 0);
    ovl_udp_config_t cfg = {.addr = "0.0.0.0", .pktinfo = true};
    ovl_udp_t *udp = open_udp(&cfg, pool);
    int fd = peer_socket(AF_INET, "127.0.0.1", &peer, &peerlen);
    struct sockaddr_in to = v4("127.0.0.2", ovl_udp_port(udp));

    echo_and_see_source(udp, fd, (struct sockaddr *)&to, sizeof(to), 1, &d, seen, sizeof(seen));
    assert_int_equal(d.local.family, AF_INET);
    inet_ntop(AF_INET, &d.local.addr.v4, local, sizeof(local));
    assert_string_equal(local, "127.0.0.2");
    assert_true(d.local.ifindex > 0);
    assert_string_equal(seen, "127.0.0.2");

    /* Without the local address, the kernel picks 127.0.0.1: the pktinfo reply was not luck. */
    echo_and_see_source(udp, fd, (struct sockaddr *)&to, sizeof(to), 0, &d, seen, sizeof(seen));
    assert_string_equal(seen, "127.0.0.1");
    close(fd);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

/* A dual-stack socket serves IPv4 peers (as IPv4-mapped addresses) and IPv6 peers, and replies
 * to an IPv4 peer from the mapped local address it used. */
static void test_udp_dual_stack(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    ovl_udp_dgram_t d;
    char seen[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
    struct sockaddr_storage peer4, peer6;
    socklen_t peer4len, peer6len;
    assert_int_equal(ovl_pool_new(&pool, 8), 0);
    ovl_udp_config_t cfg = {.dual_stack = true, .pktinfo = true}; /* NULL address: "::" */
    ovl_udp_t *udp = open_udp(&cfg, pool);
    assert_int_equal(ovl_udp_family(udp), AF_INET6);
    int fd4 = peer_socket(AF_INET, "127.0.0.1", &peer4, &peer4len);
    struct sockaddr_in to4 = v4("127.0.0.2", ovl_udp_port(udp));

    echo_and_see_source(udp, fd4, (struct sockaddr *)&to4, sizeof(to4), 1, &d, seen, sizeof(seen));
    assert_int_equal(d.src.ss_family, AF_INET6);
    struct sockaddr_in6 *src6 = (struct sockaddr_in6 *)&d.src;
    inet_ntop(AF_INET6, &src6->sin6_addr, text, sizeof(text));
    assert_string_equal(text, "::ffff:127.0.0.1");
    assert_int_equal(src6->sin6_port, ((struct sockaddr_in *)&peer4)->sin_port);
    assert_int_equal(d.local.family, AF_INET6);
    inet_ntop(AF_INET6, &d.local.addr.v6, text, sizeof(text));
    assert_string_equal(text, "::ffff:127.0.0.2");
    assert_string_equal(seen, "127.0.0.2");

    int fd6 = peer_socket(AF_INET6, "::1", &peer6, &peer6len);
    struct sockaddr_in6 to6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(ovl_udp_port(udp)), .sin6_addr = in6addr_loopback};
    echo_and_see_source(udp, fd6, (struct sockaddr *)&to6, sizeof(to6), 1, &d, seen, sizeof(seen));
    assert_int_equal(d.srclen, peer6len);
    assert_memory_equal(&d.src, &peer6, peer6len);
    assert_string_equal(seen, "::1");
    close(fd4);
    close(fd6);
    ovl_udp_free(udp);
    ovl_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_config_errors),
        cmocka_unit_test(test_udp_buffers_granted),
        cmocka_unit_test(test_udp_recv_batch),
        cmocka_unit_test(test_udp_recv_drops),
        cmocka_unit_test(test_udp_send_batches),
        cmocka_unit_test(test_udp_send_flushes_when_full),
        cmocka_unit_test(test_udp_full_queue_drops_and_counts),
        cmocka_unit_test(test_udp_flush_eintr_and_partial),
        cmocka_unit_test(test_udp_per_datagram_errors),
        cmocka_unit_test(test_udp_pktinfo_v4),
        cmocka_unit_test(test_udp_dual_stack),
    };
    return cmocka_run_group_tests_name("io udp", tests, NULL, NULL);
}
