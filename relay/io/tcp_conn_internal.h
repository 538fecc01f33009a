/* Private to tcp_conn.c (the packet path) and tcp_setup.c (sets, connections, accessors). */
#ifndef OVL_IO_TCP_CONN_INTERNAL_H
#define OVL_IO_TCP_CONN_INTERNAL_H

#include <sys/uio.h>

#include "relay/io/tcp_conn.h"
#include "relay/io/timer.h"

/* One queued frame: a packet reference and its RFC 4571 length prefix. */
struct qent {
    ovl_pkt_t *pkt; /* owned reference */
    uint16_t len;   /* payload bytes at pkt->data */
    uint8_t hdr[2]; /* big-endian len */
};

/* A ring of queued frames of one class; capacity queue_frames, so it never overflows. */
struct ring {
    struct qent *e; /* inside the connection's allocation */
    size_t cap, head, count;
};

struct ovl_tcp_conn {
    ovl_tcp_set_t *set; /* back-ref */
    int fd;             /* owned; -1 once closed */
    uint64_t path_id;
    ovl_addr_t peer, local;
    ovl_tcp_frame_cb on_frame;
    ovl_tcp_close_cb on_close;
    void *ctx; /* borrowed */

    bool stun_only, validated;
    bool got_frame;  /* a whole frame arrived */
    bool want_write; /* EPOLLOUT interest is on */
    bool dirty;      /* in set->dirty */
    bool pending_rx; /* initial bytes wait in rx for the first timer run */
    bool dead;       /* closed; memory released when depth drops to 0 */
    unsigned depth;  /* entry points and callbacks running on this connection */

    ovl_time_t created, last_rx;
    ovl_timer_t timer;

    uint8_t *rx; /* set->rx_cap bytes inside the allocation */
    size_t rx_len;

    struct ring q[OVL_TCP_PRIO_COUNT];
    struct qent inflight; /* a frame partly written: finished before anything else */
    size_t inflight_off;  /* bytes of it (prefix included) already written */
    bool has_inflight;
    size_t queued_bytes, queued_frames;

    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_t *prev, *next;   /* set->conns */
    ovl_tcp_conn_t *dprev, *dnext; /* set->dirty */
};

struct ovl_tcp_set {
    ovl_loop_t *loop; /* borrowed */
    ovl_pool_t *pool; /* borrowed */
    ovl_tcp_config_t cfg;
    ovl_tcp_sys_t sys;
    bool has_sys;
    ovl_tcp_conn_t *conns; /* every open connection */
    ovl_tcp_conn_t *dirty; /* connections with frames queued this turn and no EPOLLOUT wait */
    ovl_tcp_set_stats_t st;
    struct iovec iov[2 * OVL_TCP_WRITE_FRAMES];
};

/** The loop's callback for a connection's socket (ctx: the connection). */
void ovl_tcp_conn_on_io(ovl_loop_t *loop, int fd, unsigned events, void *ctx);

/** The connection's timer: initial bytes, then the timeouts (ctx: the connection). */
void ovl_tcp_conn_on_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx);

/** The set's end-of-turn hook: ovl_tcp_set_flush (ctx: the set). */
void ovl_tcp_set_on_turn_end(ovl_loop_t *loop, void *ctx);

/** The earliest timeout that applies to c now, or OVL_TIME_NEVER. */
ovl_time_t ovl_tcp_conn_earliest(const ovl_tcp_conn_t *c);

#endif
