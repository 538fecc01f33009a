/*
 * A producer's retransmission buffer: the last N packets of one video track, kept so that the
 * relay answers a subscriber's NACK itself (RFC 4585 §6.2.1, resent as RFC 4588 RTX) instead of
 * asking the publisher again.
 *
 * Storage: one slab of N fixed slots allocated when the producer is created (N a power of two,
 * 512 by default: about 1.5-2 s of a 1-2 Mbit/s camera), indexed by extended sequence number
 * modulo N. Each slot holds a copy of the packet in normalised form (header fields, the
 * forwardable extension values, payload, padding length), so a retransmission is rebuilt for each
 * subscriber exactly like a first transmission.
 *
 * Why a copy and not a reference to the received pool buffer: a reference would pin one worker
 * pool buffer per stored packet, 512 per video track, and a 25-person meeting would exhaust the
 * worker's pool (4096 buffers) with nothing in flight. The copy costs one memcpy per received
 * packet (not per subscriber) and the memory is bounded and visible: N * sizeof(slot) per video
 * producer (about 650 KB for 512 slots).
 */
#ifndef OVL_ROUTE_RTX_BUFFER_H
#define OVL_ROUTE_RTX_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/route/ext.h"

#define OVL_ROUTE_FWD_EXT_MAX     6    /* forwardable extension values kept per packet */
#define OVL_ROUTE_RTX_PAYLOAD_MAX 1232 /* larger payloads are forwarded but not kept */
#define OVL_ROUTE_RTX_EXT_BYTES   48   /* (ext, len, value) triplets kept per packet */

/* One received packet, normalised: what forwarding and retransmission write out again. */
typedef struct ovl_route_pkt {
    int64_t ext_seq; /* the publisher's sequence number, extended */
    uint16_t seq;
    uint32_t ts;
    bool marker;
    bool keyframe;          /* the first packet of a VP8 key frame */
    const uint8_t *payload; /* borrowed */
    size_t payload_len;     /* padding excluded */
    uint8_t pad_len;        /* RTP padding to write after the payload (0: none) */
    size_t n_ext;
    ovl_route_ext_val_t ext[OVL_ROUTE_FWD_EXT_MAX]; /* FORWARD-policy values */
} ovl_route_pkt_t;

typedef struct ovl_route_rtx ovl_route_rtx_t;

/** A buffer of `n` slots (a power of two, 16..4096). OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_route_rtx_new(size_t n, ovl_route_rtx_t **out);

/** Frees the buffer (NULL is fine). */
void ovl_route_rtx_free(ovl_route_rtx_t *b);

/**
 * Keeps a copy of pkt in the slot of pkt->ext_seq. Returns 0; OVL_ERR_REPLAY when that packet is
 * already there (a duplicate: forward nothing); OVL_ERR_LIMIT when it is not kept (payload or
 * extensions too large, or older than the packet holding its slot).
 */
int ovl_route_rtx_put(ovl_route_rtx_t *b, const ovl_route_pkt_t *pkt);

/** True when the packet with this extended sequence number is kept. */
bool ovl_route_rtx_has(const ovl_route_rtx_t *b, int64_t ext_seq);

/**
 * Fills *out with a view of the kept packet (valid until the next put). Returns 0 or
 * OVL_ERR_NOTFOUND.
 */
int ovl_route_rtx_get(const ovl_route_rtx_t *b, int64_t ext_seq, ovl_route_pkt_t *out);

#endif
