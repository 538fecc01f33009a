/*
 * Timer heap: a binary min-heap of timers embedded in their owners' structs.
 *
 * A timer (ovl_timer_t) lives inside the object it belongs to (a transport, a stream), so arming
 * one allocates nothing; the heap holds pointers to them in an array that grows by doubling only
 * when more timers are armed at once than ever before. Schedule, reschedule and cancel are
 * O(log n); the earliest deadline is O(1). Equal deadlines fire in the order they were scheduled.
 *
 * The heap never reads a clock: ovl_timers_run(now) fires what is due at the `now` it is given.
 * A run fires exactly the timers that were due when it began (minus those cancelled meanwhile);
 * callbacks may cancel or reschedule any timer, including the one firing, and may schedule new
 * ones: a timer (re)armed during a run fires in a later run at the earliest, even if its deadline
 * is already past, so a callback that re-arms itself for `now` cannot starve the loop.
 *
 * Single-threaded: a heap and its timers belong to one thread (one event loop).
 */
#ifndef OVL_IO_TIMER_H
#define OVL_IO_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

typedef struct ovl_timer ovl_timer_t;

/** Called when `timer` fires; `now` is the time passed to ovl_timers_run. The timer is idle. */
typedef void (*ovl_timer_cb)(ovl_timer_t *timer, ovl_time_t now, void *ctx);

/* Embedded in its owner. Members are private to timer.c; use the functions below. */
struct ovl_timer {
    ovl_time_t when;          /* deadline while armed */
    uint64_t seq;             /* scheduling order: breaks ties between equal deadlines */
    size_t slot;              /* index in the heap array, or one of the states in timer.c */
    ovl_timer_t *prev, *next; /* links in the ready list of a run in progress */
    ovl_timer_cb cb;
    void *ctx; /* borrowed */
};

/* A heap of timers. Members are private to timer.c. */
typedef struct ovl_timers {
    ovl_timer_t **heap; /* owned array of borrowed timers */
    size_t len, cap;
    uint64_t seq;
    ovl_timer_t *ready_head, *ready_tail; /* timers due in the run in progress */
    bool running;
} ovl_timers_t;

/** Prepares an idle timer that will call cb(timer, now, ctx). Storage is the caller's. */
void ovl_timer_init(ovl_timer_t *timer, ovl_timer_cb cb, void *ctx);

/** True while the timer is scheduled (in the heap or due in the run in progress). */
bool ovl_timer_armed(const ovl_timer_t *timer);

/** Deadline of an armed timer; OVL_TIME_NEVER when idle. */
ovl_time_t ovl_timer_when(const ovl_timer_t *timer);

/**
 * Prepares an empty heap in caller storage with room for `capacity` armed timers before it first
 * grows (0 picks a small default). Returns 0 or OVL_ERR_NOMEM.
 */
int ovl_timers_init(ovl_timers_t *timers, size_t capacity);

/** Releases the heap's array; timers still armed become idle (their storage is their owners'). */
void ovl_timers_dispose(ovl_timers_t *timers);

/**
 * Arms `timer` for absolute time `when`, or moves it there if it is already armed (reschedule).
 * Returns 0, or OVL_ERR_NOMEM if the heap had to grow and could not (the timer is then idle).
 * Rescheduling an armed timer never allocates and never fails.
 */
int ovl_timer_schedule(ovl_timers_t *timers, ovl_timer_t *timer, ovl_time_t when);

/** Disarms `timer`; does nothing if it is idle. Safe inside any timer callback. */
void ovl_timer_cancel(ovl_timers_t *timers, ovl_timer_t *timer);

/** Number of armed timers. */
size_t ovl_timers_count(const ovl_timers_t *timers);

/** Earliest deadline of all armed timers, or OVL_TIME_NEVER if none is armed. */
ovl_time_t ovl_timers_first(const ovl_timers_t *timers);

/**
 * Time from `now` until the earliest deadline: 0 if a timer is due, OVL_TIME_NEVER if none is
 * armed. This is how long the event loop may sleep.
 */
ovl_time_t ovl_timers_next(const ovl_timers_t *timers, ovl_time_t now);

/**
 * Fires every timer whose deadline is at or before `now`, earliest first (equal deadlines in
 * scheduling order). Each timer is disarmed just before its callback runs. Returns how many
 * fired. Calling it from inside one of its own callbacks does nothing and returns 0.
 */
size_t ovl_timers_run(ovl_timers_t *timers, ovl_time_t now);

#endif
