/*
 * Transport-wide congestion control, receive side (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * §3): the arrival time of every packet a participant sends, by the transport-wide sequence number
 * its header extension carries (one counter per transport, across all its SSRCs), turned into
 * RTCP feedback (RTPFB FMT 15) every ~100 ms so the publisher's send-side estimator (Chromium's
 * GCC) adapts its bitrate.
 *
 * A window of the last OVL_ROUTE_TWCC_WINDOW sequence numbers after the first one not yet
 * reported; each feedback covers [next, highest] and moves `next` past what it reported.
 * Packets arriving after their number was reported as lost are ignored (counted in `late`).
 */
#ifndef OVL_ROUTE_TWCC_H
#define OVL_ROUTE_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/cursor.h"
#include "relay/proto/rtp.h"

#define OVL_ROUTE_TWCC_WINDOW 1024 /* a power of two */
#define OVL_ROUTE_TWCC_MAX_FB 256  /* packets described by one feedback packet at most */

typedef struct ovl_route_twcc {
    ovl_rtp_unwrap_t unwrap;
    bool started;
    int64_t next;    /* first extended sequence number not reported yet */
    int64_t highest; /* highest extended sequence number recorded */
    uint8_t fb_count;
    uint64_t late, recorded;
    ovl_time_t arrival[OVL_ROUTE_TWCC_WINDOW];
    uint8_t got[OVL_ROUTE_TWCC_WINDOW];
} ovl_route_twcc_t;

/** Starts an empty recorder (caller storage; nothing to dispose). */
void ovl_route_twcc_init(ovl_route_twcc_t *t);

/** Records that transport-wide sequence number `seq` arrived at `now`. */
void ovl_route_twcc_record(ovl_route_twcc_t *t, uint16_t seq, ovl_time_t now);

/** True when packets arrived that no feedback has described yet. */
bool ovl_route_twcc_pending(const ovl_route_twcc_t *t);

/**
 * Appends feedback packets (sender SSRC, media SSRC) describing everything recorded since the
 * last call to b, as many as fit. Returns 0 (also when nothing was pending) or OVL_ERR_LIMIT when
 * not even one packet fit (nothing is lost: the rest goes into the next call).
 */
int ovl_route_twcc_build(ovl_route_twcc_t *t, ovl_wbuf_t *b, uint32_t sender, uint32_t media);

#endif
