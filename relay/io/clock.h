/*
 * The relay's clock: the one place that reads the operating system's time.
 *
 * Everything else receives `now` (ovl_time_t, monotonic microseconds) from the event loop. RTCP
 * sender reports also need wall-clock time as an NTP timestamp (RFC 3550 §6.4.1); the loop reads
 * both clocks once, back to back, into an ovl_clock_pair_t, and sans-IO code derives the NTP time
 * of any later `now` from that anchor with ovl_clock_ntp_at() without reading a clock itself.
 */
#ifndef OVL_IO_CLOCK_H
#define OVL_IO_CLOCK_H

#include <stdint.h>

#include "relay/proto/base.h"

/* Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01): RFC 868, RFC 5905 §6. */
#define OVL_CLOCK_NTP_UNIX_OFFSET 2208988800u

/* Both clocks read at (nearly) the same instant. */
typedef struct ovl_clock_pair {
    ovl_time_t mono; /* CLOCK_MONOTONIC, microseconds */
    uint64_t wall;   /* CLOCK_REALTIME, microseconds since the Unix epoch */
} ovl_clock_pair_t;

/** Monotonic time now, in microseconds (CLOCK_MONOTONIC; never goes back, unrelated to wall time). */
ovl_time_t ovl_clock_now(void);

/** Wall-clock time now, in microseconds since the Unix epoch (CLOCK_REALTIME; may jump). */
uint64_t ovl_clock_wall(void);

/** Reads both clocks back to back into *out (the anchor for ovl_clock_ntp_at). */
void ovl_clock_pair(ovl_clock_pair_t *out);

/**
 * Converts microseconds since the Unix epoch to a 64-bit NTP timestamp (RFC 5905 §6, as RFC 3550
 * §4 uses it): seconds since 1900 in the high 32 bits (wrapping in 2036, era 1), the fraction of a
 * second in units of 2^-32 s in the low 32 bits. Pure; reads no clock.
 */
uint64_t ovl_clock_ntp_from_unix(uint64_t unix_us);

/**
 * NTP timestamp of monotonic time `now`, given an anchor read earlier by ovl_clock_pair(): the
 * anchor's wall time advanced (or moved back) by `now - anchor->mono`. Pure; reads no clock.
 */
uint64_t ovl_clock_ntp_at(const ovl_clock_pair_t *anchor, ovl_time_t now);

#endif
