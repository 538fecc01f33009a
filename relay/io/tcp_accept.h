/*
 * The wait between accepting an ICE-TCP connection and handing it to its media worker, on the
 * thread that owns the TCP port (signaling): the connection's first RFC 4571 frame (a STUN Binding
 * request, RFC 6544 §3 / RFC 8445 §7.2.2) names the relay ufrag, and the ufrag names the worker
 * (ufrag.h). The frame usually arrives with the first byte, but it may come in pieces: each
 * connection waits here, without blocking, until the whole frame can be peeked.
 *
 *   ovl_tcp_accept_add(fd)  -> peek at once; whole frame: on_ready(fd, ufrag) now
 *                           -> else watched (edge-triggered: one wake-up per new segment, so a
 *                              half frame never spins) until the frame is whole, the peer closes,
 *                              it cannot be ICE-TCP, or `timeout` passes (then closed).
 *
 * Nothing is read from the socket: the frame stays in it for the worker's connection to read.
 * One epoll fd (ovl_tcp_accept_fd) covers every waiting connection and a timer; the owner watches
 * it and calls ovl_tcp_accept_service when it is readable. At most `max_pending` wait; more are
 * closed. Single-threaded.
 */
#ifndef OVL_IO_TCP_ACCEPT_H
#define OVL_IO_TCP_ACCEPT_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/stun.h"

typedef struct ovl_tcp_accept ovl_tcp_accept_t;

/** A connection's first frame is whole: fd (now the callee's) and its relay ufrag (borrowed for the call). */
typedef void (*ovl_tcp_accept_cb)(void *ctx, int fd, const ovl_stun_text_t *ufrag);

typedef struct ovl_tcp_accept_stats {
    uint64_t added;     /* connections given to ovl_tcp_accept_add */
    uint64_t ready;     /* handed to on_ready */
    uint64_t not_ice;   /* closed: the first bytes are not an ICE-TCP Binding request */
    uint64_t timed_out; /* closed: no whole frame within the timeout */
    uint64_t closed;    /* closed by the peer (or an error) before the frame was whole */
    uint64_t full;      /* closed: max_pending were waiting */
    size_t pending;     /* waiting now */
} ovl_tcp_accept_stats_t;

/**
 * Creates the waiter: at most max_pending connections (1..4096) wait at most `timeout` each
 * (checked about every 250 ms). on_ready(ctx, ...) gets each ready connection. 0, OVL_ERR_ARG,
 * OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_tcp_accept_new(ovl_tcp_accept_t **out, size_t max_pending, ovl_time_t timeout, ovl_tcp_accept_cb on_ready,
                       void *ctx);

/** Closes every waiting connection and frees the waiter. NULL is fine. */
void ovl_tcp_accept_free(ovl_tcp_accept_t *a);

/** The fd to watch for readability (owned by the waiter). */
int ovl_tcp_accept_fd(const ovl_tcp_accept_t *a);

/** Takes fd (a non-blocking connected TCP socket): hands it on at once or makes it wait. */
void ovl_tcp_accept_add(ovl_tcp_accept_t *a, int fd, ovl_time_t now);

/** Handles what became readable and closes connections that waited too long. Never blocks. */
void ovl_tcp_accept_service(ovl_tcp_accept_t *a, ovl_time_t now);

/** Copies the counters into *out. */
void ovl_tcp_accept_stats(const ovl_tcp_accept_t *a, ovl_tcp_accept_stats_t *out);

#endif
