/*
 * UDP socket of a media worker: batched receive into pool packets and a bounded send queue
 * flushed in batches.
 *
 * Receive: ovl_udp_recv reads up to `batch` datagrams with one recvmmsg, straight into packets
 * from the worker's pool, each with its sender's address (and, with `pktinfo`, the local address
 * it was sent to). A datagram longer than OVL_POOL_DATA is dropped and counted; when the pool is
 * exhausted datagrams are read into a scratch buffer and dropped (counted), so a full pool never
 * leaves the socket readable forever. Between calls the socket keeps up to `batch` packets from
 * the pool ready for the next receive (they count as in use in the pool's statistics).
 *
 * Send: ovl_udp_send queues (packet reference, destination); ovl_udp_flush sends the queue with
 * one sendmmsg per `batch` datagrams. The event loop flushes once per turn; a send that finds the
 * queue full flushes first. Nothing ever blocks: when the kernel says EAGAIN the rest stays
 * queued (the caller waits for the socket to become writable), beyond `send_queue` datagrams new
 * ones are dropped and counted, and a datagram the kernel refuses for itself (ECONNREFUSED,
 * EHOSTUNREACH, a bad address...) is dropped and counted without disturbing the others.
 *
 * Addresses are the kernel's: struct sockaddr_in or sockaddr_in6. On a dual-stack socket IPv4
 * peers appear as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d).
 *
 * Single-threaded: a socket, its queue and its pool belong to one worker thread.
 */
#ifndef OVL_IO_UDP_H
#define OVL_IO_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "relay/io/pool.h"
#include "relay/proto/base.h"

/* Most datagrams per recvmmsg/sendmmsg call. */
#define OVL_UDP_BATCH_MAX 32u
/* Default bound of the send queue, in datagrams. */
#define OVL_UDP_SEND_QUEUE_DEFAULT 1024u

typedef struct ovl_udp ovl_udp_t;

/* A local address: where a datagram was received, or the source to send one from. */
typedef struct ovl_udp_local {
    sa_family_t family; /* AF_INET or AF_INET6; 0: unknown / let the kernel choose */
    int ifindex;        /* receiving interface (0 when sending: the route decides) */
    union {
        struct in_addr v4;
        struct in6_addr v6; /* IPv4-mapped on a dual-stack socket receiving IPv4 */
    } addr;
} ovl_udp_local_t;

/* One received datagram. */
typedef struct ovl_udp_dgram {
    ovl_pkt_t *pkt;              /* one reference, owned by whoever received it */
    struct sockaddr_storage src; /* sender */
    socklen_t srclen;
    ovl_udp_local_t local; /* local address it was sent to (family 0 unless `pktinfo`) */
} ovl_udp_dgram_t;

/*
 * For tests: replacements of the two batch system calls, with the semantics of recvmmsg(2) and
 * sendmmsg(2) (return a count, or -1 with errno set). Loopback never makes sendmmsg return
 * EAGAIN or EINTR; these let a test do so.
 */
typedef struct ovl_udp_sys {
    int (*recvmmsg)(int fd, struct mmsghdr *msgs, unsigned n, void *ctx);
    int (*sendmmsg)(int fd, struct mmsghdr *msgs, unsigned n, void *ctx);
    void *ctx;
} ovl_udp_sys_t;

typedef struct ovl_udp_config {
    const char *addr;         /* numeric IPv4 or IPv6 address to bind; NULL: any ("::" if dual_stack) */
    uint16_t port;            /* 0: the kernel picks one (see ovl_udp_port) */
    bool dual_stack;          /* IPv6 socket that also serves IPv4 (IPV6_V6ONLY off); IPv6 addresses only */
    int rcvbuf, sndbuf;       /* SO_RCVBUF/SO_SNDBUF in bytes; 0 keeps the system default (see ovl_udp_new) */
    bool pktinfo;             /* report local addresses (IP_PKTINFO / IPV6_RECVPKTINFO) */
    unsigned batch;           /* datagrams per system call, 1..OVL_UDP_BATCH_MAX; 0: OVL_UDP_BATCH_MAX */
    size_t send_queue;        /* most datagrams queued for sending; 0: OVL_UDP_SEND_QUEUE_DEFAULT */
    const ovl_udp_sys_t *sys; /* tests only; NULL: the kernel's recvmmsg/sendmmsg */
} ovl_udp_config_t;

typedef struct ovl_udp_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_calls;     /* receive system calls that returned datagrams */
    uint64_t rx_nobuf;     /* datagrams dropped: packet pool exhausted */
    uint64_t rx_truncated; /* datagrams dropped: longer than OVL_POOL_DATA */
    uint64_t rx_errors;    /* receive calls that failed (other than EAGAIN/EINTR) */
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_calls;      /* send system calls that sent datagrams */
    uint64_t tx_queue_full; /* datagrams dropped: send queue full */
    uint64_t tx_errors;     /* datagrams dropped: the kernel refused them */
    uint64_t tx_blocked;    /* flushes stopped by EAGAIN */
    int tx_last_errno;      /* errno of the last refused datagram */
    size_t tx_queued;       /* datagrams waiting now */
    size_t tx_queue_high_water;
} ovl_udp_stats_t;

/**
 * Opens a non-blocking UDP socket bound as `cfg` says, receiving into packets of `pool`
 * (borrowed; it must outlive the socket and belong to the same thread). When a buffer size is
 * above the system maximum (net.core.rmem_max/wmem_max), SO_RCVBUFFORCE/SO_SNDBUFFORCE is tried
 * (needs CAP_NET_ADMIN); ovl_udp_buffers tells what the kernel granted. Returns 0, OVL_ERR_ARG
 * (bad address or option), OVL_ERR_NOMEM or OVL_ERR_IO (socket, option or bind failed).
 */
int ovl_udp_new(ovl_udp_t **out, const ovl_udp_config_t *cfg, ovl_pool_t *pool);

/** Closes the socket, drops the queued datagrams' references and frees it. */
void ovl_udp_free(ovl_udp_t *udp);

/** The socket's descriptor (owned by udp), to watch in an event loop. */
int ovl_udp_fd(const ovl_udp_t *udp);

/** Local port the socket is bound to (host byte order). */
uint16_t ovl_udp_port(const ovl_udp_t *udp);

/** Address family of the socket: AF_INET or AF_INET6. */
int ovl_udp_family(const ovl_udp_t *udp);

/** Receive and send buffer sizes the kernel granted, in bytes (as getsockopt reports them). */
void ovl_udp_buffers(const ovl_udp_t *udp, int *rcvbuf, int *sndbuf);

/**
 * Receives up to min(max, batch) datagrams with one system call into out[0..*n). Each
 * out[i].pkt carries one reference that the caller now owns (drop it with ovl_pkt_unref).
 * Returns 0 (with *n possibly 0 if everything read had to be dropped: call again),
 * OVL_ERR_AGAIN when no datagram is waiting, or OVL_ERR_IO when the call failed (counted).
 */
int ovl_udp_recv(ovl_udp_t *udp, ovl_udp_dgram_t *out, size_t max, size_t *n);

/**
 * Queues pkt->data[0..len) for `dst`, sent from `from` (NULL or family 0: the kernel chooses;
 * otherwise typically the `local` of a received datagram, so a reply leaves from the address
 * the peer used). The queue takes its own reference: the caller keeps its own. When the queue is
 * full, flushes first; if it is still full the datagram is dropped and counted. Returns 0,
 * OVL_ERR_LIMIT (dropped: queue full) or OVL_ERR_ARG (address length or `from` family unusable).
 */
int ovl_udp_send(ovl_udp_t *udp, ovl_pkt_t *pkt, const struct sockaddr *dst, socklen_t dstlen,
                 const ovl_udp_local_t *from);

/**
 * Sends the queue, `batch` datagrams per system call, until it is empty or the kernel says
 * EAGAIN. Returns 0 (queue empty) or OVL_ERR_AGAIN (datagrams remain: flush again when the
 * socket is writable).
 */
int ovl_udp_flush(ovl_udp_t *udp);

/** Datagrams waiting in the send queue. */
size_t ovl_udp_queued(const ovl_udp_t *udp);

/** Reads the socket's counters into *out. */
void ovl_udp_stats(const ovl_udp_t *udp, ovl_udp_stats_t *out);

#endif
