/* UDP socket with batched receive and a bounded, batched send queue (see udp.h). */
#include "relay/io/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Control-message space for one local address, either family. */
#define CTRL_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

typedef union ctrl {
    char buf[CTRL_SPACE];
    struct cmsghdr align;
} ctrl_t;

typedef union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} addr_t;

/* One queued datagram. */
struct out {
    ovl_pkt_t *pkt; /* owned reference */
    addr_t dst;
    socklen_t dstlen;
    ovl_udp_local_t from;
};

struct ovl_udp {
    int fd; /* owned */
    int family;
    uint16_t port;
    unsigned batch;
    int rcvbuf, sndbuf;
    bool pktinfo;
    ovl_udp_sys_t sys;
    ovl_pool_t *pool; /* borrowed */

    /* receive: packets taken from the pool for the next call, and a sink for drops */
    ovl_pkt_t *spare[OVL_UDP_BATCH_MAX]; /* owned references */
    unsigned nspare;
    struct mmsghdr rx_msgs[OVL_UDP_BATCH_MAX];
    struct iovec rx_iov[OVL_UDP_BATCH_MAX];
    ctrl_t rx_ctrl[OVL_UDP_BATCH_MAX];
    struct sockaddr_storage scratch_name;
    uint8_t scratch[OVL_POOL_DATA];

    /* send: a ring of `cap` entries from `head` */
    struct out *queue; /* owned */
    size_t cap, head, count;
    struct mmsghdr tx_msgs[OVL_UDP_BATCH_MAX];
    struct iovec tx_iov[OVL_UDP_BATCH_MAX];
    ctrl_t tx_ctrl[OVL_UDP_BATCH_MAX];

    ovl_udp_stats_t stats;
};

/* The kernel's calls; a batch of one uses the single-datagram call, which is cheaper. */
static int kernel_recvmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    (void)ctx;
    if (n != 1)
        return recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
    ssize_t r = recvmsg(fd, &msgs[0].msg_hdr, MSG_DONTWAIT);
    if (r < 0)
        return -1;
    msgs[0].msg_len = (unsigned)r;
    return 1;
}

static int kernel_sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, void *ctx)
{
    (void)ctx;
    if (n != 1)
        return sendmmsg(fd, msgs, n, MSG_DONTWAIT);
    ssize_t r = sendmsg(fd, &msgs[0].msg_hdr, MSG_DONTWAIT);
    if (r < 0)
        return -1;
    msgs[0].msg_len = (unsigned)r;
    return 1;
}

/* Sets a buffer size; above the system maximum, tries the privileged variant. */
static void set_buffer(int fd, int opt, int force_opt, int bytes, int *granted)
{
    socklen_t len = sizeof(*granted);
    if (bytes > 0) {
        setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
        getsockopt(fd, SOL_SOCKET, opt, granted, &len);
        /* Linux reports twice the requested size (bookkeeping overhead) when it grants it. */
        if (*granted / 2 < bytes)
            setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes));
    }
    len = sizeof(*granted);
    getsockopt(fd, SOL_SOCKET, opt, granted, &len);
}

static int parse_bind_addr(const ovl_udp_config_t *cfg, addr_t *a, socklen_t *alen)
{
    const char *s = cfg->addr && cfg->addr[0] ? cfg->addr : NULL;
    *a = (addr_t){0};
    if (s && inet_pton(AF_INET, s, &a->v4.sin_addr) == 1) {
        if (cfg->dual_stack)
            return OVL_ERR_ARG; /* dual stack needs an IPv6 socket */
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons(cfg->port);
        *alen = sizeof(a->v4);
        return 0;
    }
    if (!s && !cfg->dual_stack) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_addr.s_addr = htonl(INADDR_ANY);
        a->v4.sin_port = htons(cfg->port);
        *alen = sizeof(a->v4);
        return 0;
    }
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons(cfg->port);
    if (s && inet_pton(AF_INET6, s, &a->v6.sin6_addr) != 1)
        return OVL_ERR_ARG;
    if (!s)
        a->v6.sin6_addr = in6addr_any;
    *alen = sizeof(a->v6);
    return 0;
}

static int open_socket(ovl_udp_t *udp, const ovl_udp_config_t *cfg)
{
    int ret, on = 1;
    addr_t a;
    socklen_t alen;

    if ((ret = parse_bind_addr(cfg, &a, &alen)) != 0)
        return ret;
    udp->family = a.sa.sa_family;
    if ((udp->fd = socket(udp->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return OVL_ERR_IO;
    if (udp->family == AF_INET6) {
        int v6only = !cfg->dual_stack;
        if (setsockopt(udp->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
            return OVL_ERR_IO;
    }
    if (cfg->pktinfo) {
        int r = udp->family == AF_INET ? setsockopt(udp->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on))
                                       : setsockopt(udp->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
        if (r != 0)
            return OVL_ERR_IO;
    }
    set_buffer(udp->fd, SO_RCVBUF, SO_RCVBUFFORCE, cfg->rcvbuf, &udp->rcvbuf);
    set_buffer(udp->fd, SO_SNDBUF, SO_SNDBUFFORCE, cfg->sndbuf, &udp->sndbuf);
    if (bind(udp->fd, &a.sa, alen) != 0)
        return OVL_ERR_IO;
    alen = sizeof(a);
    if (getsockname(udp->fd, &a.sa, &alen) != 0)
        return OVL_ERR_IO;
    udp->port = ntohs(udp->family == AF_INET ? a.v4.sin_port : a.v6.sin6_port);
    return 0;
}

int ovl_udp_new(ovl_udp_t **out, const ovl_udp_config_t *cfg, ovl_pool_t *pool)
{
    int ret;
    ovl_udp_t *udp = NULL;

    *out = NULL;
    if (!pool || cfg->batch > OVL_UDP_BATCH_MAX || cfg->rcvbuf < 0 || cfg->sndbuf < 0)
        return OVL_ERR_ARG;
    if (!(udp = calloc(1, sizeof(*udp))))
        return OVL_ERR_NOMEM;
    udp->fd = -1;
    udp->pool = pool;
    udp->batch = cfg->batch ? cfg->batch : OVL_UDP_BATCH_MAX;
    udp->pktinfo = cfg->pktinfo;
    udp->sys = cfg->sys ? *cfg->sys : (ovl_udp_sys_t){.recvmmsg = kernel_recvmmsg, .sendmmsg = kernel_sendmmsg};
    udp->cap = cfg->send_queue ? cfg->send_queue : OVL_UDP_SEND_QUEUE_DEFAULT;
    if (!(udp->queue = calloc(udp->cap, sizeof(*udp->queue)))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    if ((ret = open_socket(udp, cfg)) != 0)
        goto Exit;
    *out = udp;
    udp = NULL;
Exit:
    ovl_udp_free(udp);
    return ret;
}

void ovl_udp_free(ovl_udp_t *udp)
{
    if (!udp)
        return;
    if (udp->fd >= 0)
        close(udp->fd);
    for (unsigned i = 0; i < udp->nspare; i++)
        ovl_pkt_unref(udp->spare[i]);
    for (size_t i = 0; i < udp->count; i++)
        ovl_pkt_unref(udp->queue[(udp->head + i) % udp->cap].pkt);
    free(udp->queue);
    free(udp);
}

int ovl_udp_fd(const ovl_udp_t *udp)
{
    return udp->fd;
}

uint16_t ovl_udp_port(const ovl_udp_t *udp)
{
    return udp->port;
}

int ovl_udp_family(const ovl_udp_t *udp)
{
    return udp->family;
}

void ovl_udp_buffers(const ovl_udp_t *udp, int *rcvbuf, int *sndbuf)
{
    *rcvbuf = udp->rcvbuf;
    *sndbuf = udp->sndbuf;
}

size_t ovl_udp_queued(const ovl_udp_t *udp)
{
    return udp->count;
}

void ovl_udp_stats(const ovl_udp_t *udp, ovl_udp_stats_t *out)
{
    *out = udp->stats;
    out->tx_queued = udp->count;
}

/* ---- receive ---- */

static void read_local(struct msghdr *h, ovl_udp_local_t *local)
{
    *local = (ovl_udp_local_t){0};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            local->family = AF_INET;
            local->ifindex = pi.ipi_ifindex;
            local->addr.v4 = pi.ipi_addr; /* the header's destination address */
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            local->family = AF_INET6;
            local->ifindex = (int)pi.ipi6_ifindex;
            local->addr.v6 = pi.ipi6_addr;
        }
    }
}

/* One receive system call over the n messages prepared in rx_msgs; EINTR is retried.
 * Returns the number of datagrams, OVL_ERR_AGAIN, or OVL_ERR_IO (counted). */
static int rx_call(ovl_udp_t *udp, unsigned n)
{
    int r;
    do
        r = udp->sys.recvmmsg(udp->fd, udp->rx_msgs, n, udp->sys.ctx);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return OVL_ERR_AGAIN;
        udp->stats.rx_errors++;
        return OVL_ERR_IO;
    }
    udp->stats.rx_calls += r > 0;
    return r;
}

/* Reads one batch into the scratch buffer and drops it: the pool is exhausted. */
static int recv_drop(ovl_udp_t *udp)
{
    for (unsigned i = 0; i < udp->batch; i++) {
        udp->rx_iov[i] = (struct iovec){.iov_base = udp->scratch, .iov_len = sizeof(udp->scratch)};
        udp->rx_msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &udp->scratch_name,
            .msg_namelen = sizeof(udp->scratch_name),
            .msg_iov = &udp->rx_iov[i],
            .msg_iovlen = 1,
        };
    }
    int r = rx_call(udp, udp->batch);
    if (r < 0)
        return r;
    udp->stats.rx_nobuf += (unsigned)r;
    return 0;
}

/* The spare packet that message i of a receive call reads into: spares are used from the top
 * of the stack down. */
static ovl_pkt_t **spare_for(ovl_udp_t *udp, unsigned i)
{
    return &udp->spare[udp->nspare - 1 - i];
}

/* Points message i at its spare packet and at out[i] for the sender's address. */
static void prepare_rx(ovl_udp_t *udp, ovl_udp_dgram_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        udp->rx_iov[i] = (struct iovec){.iov_base = (*spare_for(udp, i))->data, .iov_len = OVL_POOL_DATA};
        udp->rx_msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &out[i].src,
            .msg_namelen = sizeof(out[i].src),
            .msg_iov = &udp->rx_iov[i],
            .msg_iovlen = 1,
            .msg_control = udp->pktinfo ? udp->rx_ctrl[i].buf : NULL,
            .msg_controllen = udp->pktinfo ? sizeof(udp->rx_ctrl[i].buf) : 0,
        };
    }
}

/* Hands the r datagrams received to out[], dropping truncated ones (their packets stay spares);
 * returns how many were handed out. */
static size_t collect_rx(ovl_udp_t *udp, ovl_udp_dgram_t *out, unsigned r)
{
    size_t got = 0;
    for (unsigned i = 0; i < r; i++) {
        struct msghdr *h = &udp->rx_msgs[i].msg_hdr;
        if (h->msg_flags & MSG_TRUNC) {
            udp->stats.rx_truncated++;
            continue;
        }
        ovl_pkt_t *pkt = *spare_for(udp, i);
        *spare_for(udp, i) = NULL;
        pkt->len = udp->rx_msgs[i].msg_len;
        ovl_udp_dgram_t *d = &out[got++];
        if (d != &out[i]) /* an earlier datagram was dropped: move the address down */
            memcpy(&d->src, &out[i].src, h->msg_namelen);
        d->pkt = pkt;
        d->srclen = h->msg_namelen;
        if (udp->pktinfo)
            read_local(h, &d->local);
        else
            d->local = (ovl_udp_local_t){0};
        udp->stats.rx_packets++;
        udp->stats.rx_bytes += pkt->len;
    }
    /* Keep the unused and truncated spares, compacted at the bottom of the stack. */
    unsigned keep = 0;
    for (unsigned i = 0; i < udp->nspare; i++)
        if (udp->spare[i])
            udp->spare[keep++] = udp->spare[i];
    udp->nspare = keep;
    return got;
}

int ovl_udp_recv(ovl_udp_t *udp, ovl_udp_dgram_t *out, size_t max, size_t *n)
{
    *n = 0;
    unsigned want = max < udp->batch ? (unsigned)max : udp->batch;
    if (want == 0)
        return OVL_ERR_ARG;
    while (udp->nspare < want) {
        ovl_pkt_t *pkt = ovl_pool_get(udp->pool);
        if (!pkt)
            break;
        udp->spare[udp->nspare++] = pkt;
    }
    if (udp->nspare == 0)
        return recv_drop(udp);
    if (want > udp->nspare)
        want = udp->nspare;
    prepare_rx(udp, out, want);
    int r = rx_call(udp, want);
    if (r < 0)
        return r;
    *n = collect_rx(udp, out, (unsigned)r);
    return 0;
}

/* ---- send ---- */

int ovl_udp_send(ovl_udp_t *udp, ovl_pkt_t *pkt, const struct sockaddr *dst, socklen_t dstlen,
                 const ovl_udp_local_t *from)
{
    if (!dst || dstlen < sizeof(sa_family_t) || dstlen > sizeof(addr_t))
        return OVL_ERR_ARG;
    if (from && from->family && from->family != AF_INET && from->family != AF_INET6)
        return OVL_ERR_ARG;
    if (from && from->family == AF_INET6 && udp->family == AF_INET)
        return OVL_ERR_ARG;
    if (udp->count == udp->cap) {
        ovl_udp_flush(udp);
        if (udp->count == udp->cap) {
            udp->stats.tx_queue_full++;
            return OVL_ERR_LIMIT;
        }
    }
    struct out *o = &udp->queue[(udp->head + udp->count) % udp->cap];
    o->pkt = ovl_pkt_ref(pkt);
    memcpy(&o->dst, dst, dstlen);
    o->dstlen = dstlen;
    o->from = from ? *from : (ovl_udp_local_t){0};
    if (++udp->count > udp->stats.tx_queue_high_water)
        udp->stats.tx_queue_high_water = udp->count;
    return 0;
}

/* Writes the control message that makes the datagram leave from `from`; returns its length. */
static size_t write_from(const ovl_udp_t *udp, const ovl_udp_local_t *from, ctrl_t *ctrl)
{
    memset(ctrl, 0, sizeof(*ctrl));
    struct cmsghdr *c = &ctrl->align;
    if (udp->family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = from->addr.v4};
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    struct in6_pktinfo pi = {0};
    if (from->family == AF_INET) { /* IPv4 on a dual-stack socket: the mapped form */
        pi.ipi6_addr.s6_addr[10] = pi.ipi6_addr.s6_addr[11] = 0xff;
        memcpy(&pi.ipi6_addr.s6_addr[12], &from->addr.v4, 4);
    } else {
        pi.ipi6_addr = from->addr.v6;
    }
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    return CMSG_SPACE(sizeof(pi));
}

/* Fills the send batch from the head of the queue; returns its size. */
static unsigned fill_batch(ovl_udp_t *udp)
{
    unsigned n = udp->count < udp->batch ? (unsigned)udp->count : udp->batch;
    for (unsigned i = 0; i < n; i++) {
        struct out *o = &udp->queue[(udp->head + i) % udp->cap];
        size_t ctrllen = o->from.family ? write_from(udp, &o->from, &udp->tx_ctrl[i]) : 0;
        udp->tx_iov[i] = (struct iovec){.iov_base = o->pkt->data, .iov_len = o->pkt->len};
        udp->tx_msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &o->dst,
            .msg_namelen = o->dstlen,
            .msg_iov = &udp->tx_iov[i],
            .msg_iovlen = 1,
            .msg_control = ctrllen ? udp->tx_ctrl[i].buf : NULL,
            .msg_controllen = ctrllen,
        };
    }
    return n;
}

static void pop(ovl_udp_t *udp)
{
    ovl_pkt_unref(udp->queue[udp->head].pkt);
    udp->queue[udp->head].pkt = NULL;
    udp->head = (udp->head + 1) % udp->cap;
    udp->count--;
}

int ovl_udp_flush(ovl_udp_t *udp)
{
    while (udp->count) {
        unsigned n = fill_batch(udp);
        int r = udp->sys.sendmmsg(udp->fd, udp->tx_msgs, n, udp->sys.ctx);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                udp->stats.tx_blocked++;
                return OVL_ERR_AGAIN;
            }
            /* sendmmsg reports an error only when the first datagram of the batch fails (had
             * an earlier one been sent, it would have returned that count): drop it, go on. */
            udp->stats.tx_errors++;
            udp->stats.tx_last_errno = errno;
            pop(udp);
            continue;
        }
        if (r == 0) { /* nothing sent and no error: treat as a full socket */
            udp->stats.tx_blocked++;
            return OVL_ERR_AGAIN;
        }
        udp->stats.tx_calls++;
        for (int i = 0; i < r; i++) {
            udp->stats.tx_packets++;
            udp->stats.tx_bytes += udp->tx_msgs[i].msg_len;
            pop(udp);
        }
    }
    return 0;
}
