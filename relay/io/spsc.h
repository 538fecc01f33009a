/*
 * Single-producer single-consumer lock-free ring of fixed-size messages, with an eventfd that
 * wakes the consumer's event loop. This is how the signaling thread and each media worker talk:
 * one queue per direction, so each queue has exactly one producer thread and one consumer thread.
 *
 * The ring holds a power-of-two number of messages; head (consumer) and tail (producer) live on
 * their own cache lines, and each side caches the other's index so it touches the shared line
 * only when the ring looks empty or full. A full ring makes ovl_spsc_push return OVL_ERR_AGAIN:
 * the producer decides (retry later, drop and count) and never blocks.
 *
 * Wakeups: the consumer watches ovl_spsc_fd() for reading in its loop. The producer writes the
 * eventfd only when the consumer may be asleep: the consumer announces that (ovl_spsc_prepare_wait)
 * when it finds the ring empty, and the first push after that signals once; pushes while the
 * consumer is busy cost no system call. A Dekker-style pair of sequentially consistent fences
 * (producer: publish tail, fence, read flag; consumer: set flag, fence, read tail) guarantees
 * that a message is never left unseen while the consumer sleeps. ovl_spsc_consume runs the
 * whole consumer side of this protocol.
 *
 * Ownership of what messages point to: a message is copied into the ring by value. If it holds
 * heap pointers (an SDP string, say), a successful push hands them to the consumer, which frees
 * them after handling the message; after OVL_ERR_AGAIN the producer still owns them.
 * ovl_spsc_free passes each message still in the ring to a dispose function so nothing leaks.
 */
#ifndef OVL_IO_SPSC_H
#define OVL_IO_SPSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

typedef struct ovl_spsc ovl_spsc_t;

/** Handles one message in place (valid only during the call); may take what it points to. */
typedef void (*ovl_spsc_msg_cb)(void *msg, void *ctx);

/* Counters. Producer-side ones are written by the producer, consumer-side ones by the consumer:
 * read them on the owning thread, or after both have stopped. */
typedef struct ovl_spsc_stats {
    uint64_t pushes;  /* producer: messages pushed */
    uint64_t full;    /* producer: pushes refused, ring full */
    uint64_t signals; /* producer: eventfd writes */
    uint64_t pops;    /* consumer: messages taken */
    uint64_t kicks;   /* consumer: self-wakeups after a budget ran out */
} ovl_spsc_stats_t;

/**
 * Creates a ring of `capacity` messages (a power of two, >= 2) of `msg_size` bytes (> 0) and its
 * eventfd. Returns 0, OVL_ERR_ARG, OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_spsc_new(ovl_spsc_t **out, size_t capacity, size_t msg_size);

/**
 * Frees the ring after both threads are done with it, passing each message still in it to
 * dispose(msg, ctx) first when dispose is not NULL.
 */
void ovl_spsc_free(ovl_spsc_t *q, ovl_spsc_msg_cb dispose, void *ctx);

/**
 * Producer: copies msg_size bytes from `msg` into the ring and wakes the consumer if it may be
 * asleep. Returns 0 (the consumer now owns what msg points to) or OVL_ERR_AGAIN (ring full; the
 * producer still owns it).
 */
int ovl_spsc_push(ovl_spsc_t *q, const void *msg);

/** Consumer: copies the oldest message to `msg` and removes it. Returns 0 or OVL_ERR_AGAIN. */
int ovl_spsc_pop(ovl_spsc_t *q, void *msg);

/**
 * Consumer: tells the producer the consumer is about to sleep, then looks again. Returns true if
 * the ring is empty (sleep: the next push will signal the eventfd), false if messages arrived
 * (pop them first).
 */
bool ovl_spsc_prepare_wait(ovl_spsc_t *q);

/**
 * Consumer, from its loop's read callback on ovl_spsc_fd: resets the eventfd, then handles up to
 * `budget` messages in order with fn(msg, ctx). If the ring empties it prepares to wait; if the
 * budget runs out first it signals its own eventfd so its loop comes back next turn. Returns the
 * number of messages handled.
 */
size_t ovl_spsc_consume(ovl_spsc_t *q, size_t budget, ovl_spsc_msg_cb fn, void *ctx);

/** The eventfd the consumer watches for reading (owned by the ring). */
int ovl_spsc_fd(const ovl_spsc_t *q);

/** Reads the counters into *out (see ovl_spsc_stats_t about threads). */
void ovl_spsc_stats(const ovl_spsc_t *q, ovl_spsc_stats_t *out);

#endif
