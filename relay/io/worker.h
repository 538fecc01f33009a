/*
 * A media worker: one thread running one event loop with its own packet pool, its own UDP
 * socket (port base + i), a queue of commands from the signaling thread and a queue of events
 * back to it. Nothing in a worker is shared with another thread except the two queues, so the
 * packet path takes no lock.
 *
 * The worker knows no protocol. What happens to datagrams, commands and time is decided by a set
 * of hooks (ovl_worker_hooks_t) that the routing layer implements; all of them run on the worker
 * thread. Each loop turn: received datagrams go to on_datagrams in batches, commands to
 * on_command, the periodic tick and any timers armed in ovl_worker_timers() fire, and at the end
 * of the turn the UDP send queue leaves in batches (one sendmmsg per batch).
 *
 * Threads: ovl_worker_new, _start, _stop, _join, _free, _post and _poll_events are for the
 * controlling (signaling) thread; ovl_worker_emit and the accessors are for the hooks, on the
 * worker thread.
 */
#ifndef OVL_IO_WORKER_H
#define OVL_IO_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/spsc.h"
#include "relay/io/timer.h"
#include "relay/io/udp.h"
#include "relay/proto/base.h"

typedef struct ovl_worker ovl_worker_t;

/*
 * A command (signaling -> worker) or an event (worker -> signaling). Its meaning (`type`, `id`,
 * `arg`) belongs to the layers above. `payload` is either NULL or heap data that the message
 * owns: once a post or emit succeeds it belongs to the receiving side, which frees it with
 * ovl_worker_msg_dispose (or keeps it and frees it later the same way); if the post or emit
 * fails, the sender still owns it.
 */
typedef struct ovl_worker_msg {
    uint32_t type;
    uint32_t flags;
    uint64_t id;                         /* meeting, participant or transport concerned */
    uint64_t arg;                        /* a small value */
    void *payload;                       /* owned, or NULL (e.g. an SDP string) */
    size_t len;                          /* bytes at payload */
    void (*payload_free)(void *payload); /* how to free payload; NULL: free() */
} ovl_worker_msg_t;

/** Frees msg->payload (with payload_free, or free()) and clears it. The message itself is the caller's. */
void ovl_worker_msg_dispose(ovl_worker_msg_t *msg);

/* What the routing layer plugs into a worker. Every hook is optional and runs on the worker thread. */
typedef struct ovl_worker_hooks {
    /** Before the first turn. A negative return ends the thread with that result. */
    int (*on_start)(ovl_worker_t *w, void *ctx);
    /**
     * A batch of datagrams received in one system call. The packets are borrowed: the worker
     * drops its references when the hook returns, so a hook that keeps one (or queues it with
     * ovl_udp_send, which takes its own) takes a reference with ovl_pkt_ref.
     */
    void (*on_datagrams)(ovl_worker_t *w, ovl_udp_dgram_t *dgrams, size_t n, void *ctx);
    /** A command from signaling; the hook now owns msg->payload (see ovl_worker_msg_t). */
    void (*on_command)(ovl_worker_t *w, ovl_worker_msg_t *msg, void *ctx);
    /** Every `tick` of the configuration, at loop time `now`. */
    void (*on_tick)(ovl_worker_t *w, ovl_time_t now, void *ctx);
    /** After the last turn, before the thread ends (the send queue is flushed once more after it). */
    void (*on_stop)(ovl_worker_t *w, void *ctx);
    void *ctx; /* borrowed, passed to every hook */
} ovl_worker_hooks_t;

typedef struct ovl_worker_config {
    unsigned index;        /* worker number i */
    uint16_t port_base;    /* UDP port is port_base + index; 0: a port the kernel picks (tests) */
    ovl_udp_config_t udp;  /* address, dual stack, buffers, pktinfo, batch, send queue (port ignored) */
    size_t pool_packets;   /* packet buffers; 0: 4096 */
    size_t queue_capacity; /* messages per direction, a power of two; 0: 1024 */
    size_t rx_batches;     /* receive calls per readable socket per turn; 0: 8 */
    size_t command_budget; /* commands handled per turn; 0: 64 */
    ovl_time_t tick;       /* period of on_tick in microseconds; 0: no tick */
} ovl_worker_config_t;

/**
 * Creates a worker without starting it: allocates its pool, binds its UDP socket (so the port
 * is known and errors are reported here), creates its loop and queues. `hooks` is copied.
 * Returns 0, OVL_ERR_ARG, OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_worker_new(ovl_worker_t **out, const ovl_worker_config_t *cfg, const ovl_worker_hooks_t *hooks);

/** Starts the worker thread. Returns 0, OVL_ERR_STATE (already started) or OVL_ERR_IO. */
int ovl_worker_start(ovl_worker_t *w);

/** Asks the worker thread to finish its turn and end. Any thread; returns at once. */
void ovl_worker_stop(ovl_worker_t *w);

/**
 * Waits for the worker thread to end. Returns the thread's result (0, or the error that ended
 * it), or OVL_ERR_STATE if it was not started or already joined.
 */
int ovl_worker_join(ovl_worker_t *w);

/**
 * Stops and joins the thread if it runs, then frees everything: queued messages' payloads,
 * queued datagrams, the socket, the loop and the pool.
 */
void ovl_worker_free(ovl_worker_t *w);

/**
 * Signaling thread: queues a command for the worker and wakes it. Returns 0 (the worker owns
 * msg->payload now) or OVL_ERR_AGAIN (queue full; the caller still owns it).
 */
int ovl_worker_post(ovl_worker_t *w, const ovl_worker_msg_t *msg);

/** Signaling thread: eventfd that becomes readable when the worker has emitted events. */
int ovl_worker_events_fd(const ovl_worker_t *w);

/**
 * Signaling thread: handles up to `budget` events in order with fn(msg, ctx) (fn owns each
 * msg->payload), following the wakeup protocol of ovl_spsc_consume. Returns how many.
 */
size_t ovl_worker_poll_events(ovl_worker_t *w, size_t budget, void (*fn)(ovl_worker_msg_t *msg, void *ctx), void *ctx);

/**
 * Worker thread: queues an event for signaling and wakes it if needed. Returns 0 (signaling
 * owns msg->payload now) or OVL_ERR_AGAIN (queue full; the caller still owns it).
 */
int ovl_worker_emit(ovl_worker_t *w, const ovl_worker_msg_t *msg);

/** Worker number i. */
unsigned ovl_worker_index(const ovl_worker_t *w);

/** UDP port the worker's socket is bound to (host byte order). */
uint16_t ovl_worker_port(const ovl_worker_t *w);

/* The worker's parts, borrowed (the worker owns them). Once the thread runs, use them only from
 * hooks, on the worker thread; before start or after join, any thread may (e.g. to read stats). */

/** The worker's event loop: register more descriptors (ICE-TCP connections) or hooks in it. */
ovl_loop_t *ovl_worker_loop(ovl_worker_t *w);

/** The worker's UDP socket: queue datagrams with ovl_udp_send; read its counters. */
ovl_udp_t *ovl_worker_udp(ovl_worker_t *w);

/** The worker's packet pool: ovl_pool_get for packets the hooks build. */
ovl_pool_t *ovl_worker_pool(ovl_worker_t *w);

/** The worker's timer heap: arm per-transport timers (embedded ovl_timer_t) in it. */
ovl_timers_t *ovl_worker_timers(ovl_worker_t *w);

#endif
