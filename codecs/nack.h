/*
 * Receiver-side NACK generation (RFC 4585 §6.2.1 Generic NACK, as RFC 4588 §3 uses it to ask for
 * retransmissions): which sequence numbers of one RTP stream are missing, when to ask for each (again),
 * and when to give up on it. Sans-IO: fed with the sequence numbers that arrive and `now`; the caller builds
 * the RTCP (ovl_rtcp_build_nack) from what ovl_nack_poll returns and calls back at ovl_nack_next_timeout.
 *
 * A gap is asked for at once (the next poll), then every `retry` until the packet arrives (by RTX or late),
 * `max_retries` requests were made, or it has been missing for `max_age`: then it is reported lost once and
 * forgotten. A gap wider than the list (`capacity`) is not asked for at all (the stream needs a key frame):
 * ovl_nack_on_packet says so and counts the sequence numbers as lost. Allocates its list once, at creation.
 */
#ifndef OVL_NACK_H
#define OVL_NACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/rtp.h"

typedef struct ovl_nack_cfg {
    ovl_time_t retry;     /* between requests for one sequence number; 0: 30 ms (a loopback or LAN RTT, twice) */
    unsigned max_retries; /* requests per sequence number; 0: 10 */
    ovl_time_t max_age;   /* longest a sequence number is waited for; 0: 1 s */
    size_t capacity;      /* missing sequence numbers tracked at once, 1..4096; 0: 256 */
} ovl_nack_cfg_t;

typedef struct ovl_nack_stats {
    uint64_t missing;   /* sequence numbers found missing (gaps) */
    uint64_t requests;  /* sequence numbers put in NACKs (a retry counts again) */
    uint64_t recovered; /* missing ones that arrived after all */
    uint64_t lost;      /* given up: retries or age exhausted, or a gap too wide to ask for */
    uint64_t overflows; /* gaps too wide for the list */
    uint64_t late;      /* arrivals older than the newest that were not missing (duplicates, reordered) */
} ovl_nack_stats_t;

/* What one arrival did. */
typedef struct ovl_nack_result {
    size_t added;   /* sequence numbers newly missing before this one */
    bool recovered; /* this one was missing and is now here */
    bool overflow;  /* the gap before it was too wide: not asked for (ask for a key frame instead) */
    bool late;      /* older than the newest and not missing: a duplicate or a late arrival */
} ovl_nack_result_t;

typedef struct ovl_nack ovl_nack_t;

/** Creates a generator (cfg copied; NULL for the defaults). OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_nack_new(const ovl_nack_cfg_t *cfg, ovl_nack_t **out);

/** Frees it (NULL is fine). */
void ovl_nack_free(ovl_nack_t *n);

/**
 * Records the arrival of sequence number `seq` at `now` (an original or a repaired packet). The first
 * arrival starts the stream. *res (may be NULL) says what it did.
 */
void ovl_nack_on_packet(ovl_nack_t *n, uint16_t seq, ovl_time_t now, ovl_nack_result_t *res);

/**
 * What is due at `now`: the sequence numbers to ask for in a NACK now (ascending, at most nack_cap; the rest
 * stay due), each then waiting `retry` for its next request; and the sequence numbers given up (at most
 * lost_cap; the rest are reported at the next poll), which are forgotten. Either array may be NULL with cap 0.
 */
void ovl_nack_poll(ovl_nack_t *n, ovl_time_t now, uint16_t *nack, size_t nack_cap, size_t *n_nack, uint16_t *lost,
                   size_t lost_cap, size_t *n_lost);

/** Forgets every missing sequence number (not counted as lost) and restarts at the next arrival: the stream
 * starts over (a key frame after which nothing older is wanted). Counters are kept. */
void ovl_nack_reset(ovl_nack_t *n);

/** When ovl_nack_poll has something to do (OVL_TIME_NEVER: nothing missing). */
ovl_time_t ovl_nack_next_timeout(const ovl_nack_t *n);

/** Sequence numbers missing now. */
size_t ovl_nack_pending(const ovl_nack_t *n);

/** Copies the counters. */
void ovl_nack_stats(const ovl_nack_t *n, ovl_nack_stats_t *out);

#endif
