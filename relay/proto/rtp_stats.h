/*
 * Receive statistics of one RTP stream (RFC 3550 App. A.1, A.3, A.8): sequence tracking with
 * wrap-around and restart detection, expected/lost counts, the fraction lost per report
 * interval and the interarrival jitter. Fed per packet with (seq, RTP timestamp, arrival time);
 * read out as the fields of an RTCP report block. Sans-IO, caller storage, no allocation.
 */
#ifndef OVL_RTP_STATS_H
#define OVL_RTP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/rtcp.h"

#define OVL_RTP_STATS_MAX_DROPOUT  3000 /* RFC 3550 App. A.1 */
#define OVL_RTP_STATS_MAX_MISORDER 100

typedef struct ovl_rtp_stats {
    uint32_t clock_rate; /* RTP timestamp units per second */
    bool started;
    uint16_t max_seq;        /* highest sequence number seen */
    uint64_t cycles;         /* sequence number wraps, times 65536 */
    uint64_t base_seq;       /* first sequence number (extended) */
    uint32_t bad_seq;        /* last 'bad' sequence number + 1 (A.1) */
    uint64_t received;       /* packets counted (duplicates included, as in A.1) */
    uint64_t expected_prior; /* at the previous report (A.3) */
    uint64_t received_prior;
    ovl_time_t first_arrival;
    bool have_transit;
    uint32_t last_ts;  /* RTP timestamp of the last in-order packet */
    int64_t transit;   /* arrival (timestamp units) - RTP timestamp of that packet */
    uint64_t jitter16; /* jitter * 16, timestamp units (A.8) */
} ovl_rtp_stats_t;

/** Starts statistics for a stream with the given RTP clock rate (e.g. 90000, 48000). */
void ovl_rtp_stats_init(ovl_rtp_stats_t *s, uint32_t clock_rate);

/**
 * Counts one received packet (RFC 3550 App. A.1 update_seq, without probation: SRTP has
 * already authenticated the source). The jitter (A.8) is updated for in-order packets that
 * start a new frame (a new RTP timestamp), as libwebrtc does, since packets of one video frame
 * leave the sender in a burst with one timestamp.
 * Returns 0, or OVL_ERR_AGAIN when the packet jumped too far and is held until the next packet
 * confirms the new sequence (then the stream is re-synchronised; A.1's "bad_seq").
 */
int ovl_rtp_stats_update(ovl_rtp_stats_t *s, uint16_t seq, uint32_t rtp_ts, ovl_time_t arrival);

/** Extended highest sequence number received (cycles + max_seq), 32 bits as in a report. */
uint32_t ovl_rtp_stats_ext_max(const ovl_rtp_stats_t *s);
/** Packets expected so far (A.3): extended max - base + 1; 0 before the first packet. */
uint64_t ovl_rtp_stats_expected(const ovl_rtp_stats_t *s);
/** Cumulative lost (A.3): expected - received; negative with duplicates. */
int64_t ovl_rtp_stats_lost(const ovl_rtp_stats_t *s);
/** Interarrival jitter in timestamp units (A.8). */
uint32_t ovl_rtp_stats_jitter(const ovl_rtp_stats_t *s);

/**
 * Fills the statistics fields of a report block: fraction_lost (over the interval since the
 * previous call, A.3), cumulative_lost (clamped to 24 bits signed), highest_seq and jitter.
 * ssrc, lsr and dlsr are left for the caller. Starts a new interval.
 */
void ovl_rtp_stats_fill_report(ovl_rtp_stats_t *s, ovl_rtcp_rb_t *rb);

#endif
