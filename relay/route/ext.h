/*
 * RTP header extensions as the router handles them (RFC 8285): which URIs it knows, what it does
 * with each, and the per-participant id mapping taken from that participant's own negotiation.
 *
 * Each participant numbers extensions its own way (its first offer picks the ids), so the router
 * never copies an extension block: it reads the publisher's elements by the publisher's ids and
 * writes a fresh block for each subscriber with the subscriber's ids, keeping only what the
 * subscriber negotiated. Per URI the policy is one of:
 *   FORWARD  the value travels unchanged (audio level, video orientation, toffset, ...);
 *   RELAY    the router writes its own value (abs-send-time: its send time; mid: the
 *            subscriber's mid of that consumer);
 *   CONSUME  read on input, never forwarded (transport-wide sequence numbers belong to the
 *            publisher's transport; rid/repaired-rid name the publisher's encodings).
 */
#ifndef OVL_ROUTE_EXT_H
#define OVL_ROUTE_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/sdp.h"

typedef enum ovl_route_ext {
    OVL_ROUTE_EXT_AUDIO_LEVEL = 0, /* RFC 6464 */
    OVL_ROUTE_EXT_ABS_SEND_TIME,   /* webrtc abs-send-time, 6.18 fixed point seconds */
    OVL_ROUTE_EXT_TRANSPORT_CC,    /* draft-holmer-rmcat-transport-wide-cc-extensions-01 */
    OVL_ROUTE_EXT_MID,             /* RFC 8843 §15.2 */
    OVL_ROUTE_EXT_RID,             /* RFC 8852 */
    OVL_ROUTE_EXT_RRID,            /* RFC 8852 repaired-rtp-stream-id */
    OVL_ROUTE_EXT_TOFFSET,         /* RFC 5450 */
    OVL_ROUTE_EXT_VIDEO_ORIENTATION,
    OVL_ROUTE_EXT_PLAYOUT_DELAY,
    OVL_ROUTE_EXT_CONTENT_TYPE,
    OVL_ROUTE_EXT_COLOR_SPACE,
    OVL_ROUTE_EXT_COUNT,
} ovl_route_ext_t;

typedef enum { OVL_ROUTE_EXT_FORWARD, OVL_ROUTE_EXT_RELAY, OVL_ROUTE_EXT_CONSUME } ovl_route_ext_policy_t;

/** The extension a URI names, or OVL_ROUTE_EXT_COUNT for one the router does not know. */
ovl_route_ext_t ovl_route_ext_from_uri(const char *uri);

/** What the router does with an extension. */
ovl_route_ext_policy_t ovl_route_ext_policy(ovl_route_ext_t ext);

/* What one participant negotiated for one media kind: from the relay's answer to its first offer. */
typedef struct ovl_route_caps {
    bool ok;        /* the participant has an accepted section of this kind */
    uint8_t pt;     /* payload type of the codec (opus / VP8) */
    bool has_rtx;   /* RFC 4588 RTX negotiated for it */
    uint8_t rtx_pt; /* its RTX payload type */
    uint32_t clock; /* RTP clock rate */
    bool nack, pli, fir, remb, twcc;
    uint8_t id[OVL_ROUTE_EXT_COUNT]; /* extension -> id (0: not negotiated) */
    uint8_t ext_of[256];             /* id -> extension + 1 (0: not one the router knows) */
    bool two_byte;                   /* some id is above 14: write the two-byte form (RFC 8285 §4.3) */
} ovl_route_caps_t;

/**
 * Fills caps from the first accepted section of `kind` in the relay's answer (rejected sections
 * are skipped). caps->ok is false when there is none. Never fails.
 */
void ovl_route_caps_from_sdp(ovl_route_caps_t *caps, const ovl_sdp_t *answer, ovl_sdp_kind_t kind);

/* One element to write in a subscriber's block. */
typedef struct ovl_route_ext_val {
    uint8_t ext; /* ovl_route_ext_t */
    uint8_t len; /* 1..16 */
    const uint8_t *data;
} ovl_route_ext_val_t;

/**
 * Writes an RFC 8285 extension block (4-byte header, elements, zero padding to 32 bits) for the
 * subscriber `caps` at out (room for cap bytes): each value in vals whose extension the
 * subscriber negotiated, under the subscriber's id. Returns the block's length (0 when nothing
 * was negotiated: then the packet has no extension), or -1 when it does not fit.
 */
long ovl_route_ext_write_block(const ovl_route_caps_t *caps, const ovl_route_ext_val_t *vals, size_t n, uint8_t *out,
                               size_t cap);

/** abs-send-time value (24 bits, 6.18 fixed point seconds, wrapping every 64 s) of time `now`. */
static inline uint32_t ovl_route_abs_send_time(ovl_time_t now)
{
    return (uint32_t)(((now << 18) / 1000000u) & 0xffffffu);
}

#endif
