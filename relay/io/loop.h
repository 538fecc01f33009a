/*
 * A small epoll event loop, in the spirit of redis's ae.c: file descriptors with read/write
 * interest and a callback, a timer heap, and hooks that run at the end of every turn.
 *
 * One turn (ovl_loop_turn):
 *   1. sleep in epoll_wait until a descriptor is ready, the earliest timer is due, or another
 *      thread calls ovl_loop_wakeup (never longer than `max_wait`);
 *   2. read the clock once (ovl_loop_now) and call the callbacks of the ready descriptors;
 *   3. read the clock again and fire the due timers;
 *   4. call the end-of-turn hooks in the order they were added (the UDP send queue flushes
 *      here: whatever the turn produced leaves in one sendmmsg).
 *
 * Level-triggered: a descriptor that still has data is reported again next turn, so a callback
 * may read a bounded amount and return, leaving room for timers and other descriptors.
 *
 * Single-threaded, except ovl_loop_wakeup and ovl_loop_stop, which any thread may call.
 */
#ifndef OVL_IO_LOOP_H
#define OVL_IO_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/io/timer.h"
#include "relay/proto/base.h"

typedef struct ovl_loop ovl_loop_t;

/* Interest and readiness bits. An error or hang-up is reported as ready in whichever directions
 * are of interest (the next read or write returns it); epoll reports them even with no interest,
 * so remove a descriptor that hung up rather than clearing its interest. */
enum {
    OVL_LOOP_READ = 1u << 0,
    OVL_LOOP_WRITE = 1u << 1,
};

/** Called when `fd` is ready; `events` holds the ready OVL_LOOP_* bits of its interest. */
typedef void (*ovl_loop_io_cb)(ovl_loop_t *loop, int fd, unsigned events, void *ctx);

/** Called at the end of every turn. */
typedef void (*ovl_loop_hook_cb)(ovl_loop_t *loop, void *ctx);

/* The most end-of-turn hooks one loop holds. */
#define OVL_LOOP_MAX_HOOKS 8

/**
 * Creates a loop: an epoll instance, its wakeup eventfd and a timer heap with room for
 * `timer_capacity` timers before it grows (0: a default). Returns 0, OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_loop_new(ovl_loop_t **out, size_t timer_capacity);

/** Closes the loop's own descriptors and frees it. Registered descriptors are not closed. */
void ovl_loop_free(ovl_loop_t *loop);

/**
 * Watches `fd` (which the caller keeps owning) for `events` (OVL_LOOP_READ/WRITE, may be 0) and
 * calls cb(loop, fd, ready, ctx). Returns 0, OVL_ERR_STATE if fd is already watched, OVL_ERR_ARG,
 * OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_loop_add(ovl_loop_t *loop, int fd, unsigned events, ovl_loop_io_cb cb, void *ctx);

/** Changes the interest of a watched fd. Returns 0, OVL_ERR_NOTFOUND or OVL_ERR_IO. */
int ovl_loop_modify(ovl_loop_t *loop, int fd, unsigned events);

/**
 * Stops watching `fd`; safe inside any callback, including fd's own: readiness already collected
 * for it in this turn is discarded. Call it before closing fd. Returns 0 or OVL_ERR_NOTFOUND.
 */
int ovl_loop_remove(ovl_loop_t *loop, int fd);

/** Adds a hook called at the end of every turn. Returns 0 or OVL_ERR_LIMIT. */
int ovl_loop_add_hook(ovl_loop_t *loop, ovl_loop_hook_cb cb, void *ctx);

/** The loop's timer heap (borrowed): arm timers in it with ovl_timer_schedule. */
ovl_timers_t *ovl_loop_timers(ovl_loop_t *loop);

/** Monotonic time read at the start of this turn's dispatch (updated again before timers run). */
ovl_time_t ovl_loop_now(const ovl_loop_t *loop);

/**
 * Runs one turn, sleeping at most `max_wait` microseconds (OVL_TIME_NEVER: until something
 * happens; 0: do not sleep). Returns the number of descriptor callbacks and timers run (>= 0),
 * or OVL_ERR_IO if epoll_wait failed (EINTR is not a failure).
 */
int ovl_loop_turn(ovl_loop_t *loop, ovl_time_t max_wait);

/**
 * Runs turns until ovl_loop_stop is called (also if it was called before ovl_loop_run started).
 * Consumes the stop request on return. Returns 0 or OVL_ERR_IO.
 */
int ovl_loop_run(ovl_loop_t *loop);

/** Asks ovl_loop_run to return after the current turn. Any thread may call it. */
void ovl_loop_stop(ovl_loop_t *loop);

/** True if a stop was requested and ovl_loop_run has not consumed it yet. */
bool ovl_loop_stopping(const ovl_loop_t *loop);

/** Wakes the loop from epoll_wait (it runs a turn). Any thread may call it; async-signal-safe. */
void ovl_loop_wakeup(ovl_loop_t *loop);

#endif
