/*
 * Packet-buffer pool: one per media worker, allocated once at start, never shared between
 * threads (so no locks), no allocation per packet.
 *
 * Each packet (ovl_pkt_t) is one fixed-size buffer with its bytes at `data` (length `len`):
 *
 *   buf: [ headroom: OVL_POOL_HEADROOM | data: OVL_POOL_DATA | tailroom: OVL_POOL_TAILROOM ]
 *
 * - The headroom lets a header grow in place in front of the bytes (ovl_pkt_push): an RTP header
 *   gaining a header extension or the RFC 4588 original sequence number of a retransmission, the
 *   2-byte RFC 4571 length of ICE-TCP framing, a TURN ChannelData header.
 * - OVL_POOL_DATA bytes is the largest datagram received; anything longer is dropped.
 * - The tailroom is where SRTP protect writes its trailer (auth tag, MKI) after the payload.
 *   OVL_POOL_TAILROOM is the SRTP wrapper's maximum overhead, so any buffer can be protected in place.
 *
 * A packet has a reference count so one received packet can be handed to several users (the
 * send queue, a retransmission buffer) without copying: ovl_pool_get returns it with one
 * reference, each user that keeps it takes ovl_pkt_ref and drops it with ovl_pkt_unref; the last
 * unref returns it to the pool. In builds with AddressSanitizer a returned buffer is poisoned, so
 * touching a packet after its last unref is reported.
 */
#ifndef OVL_IO_POOL_H
#define OVL_IO_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/srtp.h"

#define OVL_POOL_HEADROOM 128u
#define OVL_POOL_DATA     2048u
#define OVL_POOL_TAILROOM ((size_t)OVL_SRTP_MAX_OVERHEAD)
#define OVL_POOL_BUF      (OVL_POOL_HEADROOM + OVL_POOL_DATA + OVL_POOL_TAILROOM)

typedef struct ovl_pool ovl_pool_t;
typedef struct ovl_pkt ovl_pkt_t;

struct ovl_pkt {
    uint8_t *data; /* first byte of the packet, inside buf */
    size_t len;    /* bytes at data */
    /* private to pool.c */
    uint32_t refs;
    ovl_pool_t *pool; /* back-ref */
    ovl_pkt_t *next;  /* free list */
    _Alignas(64) uint8_t buf[OVL_POOL_BUF];
};

typedef struct ovl_pool_stats {
    size_t capacity;    /* packets in the pool */
    size_t in_use;      /* packets handed out and not yet returned */
    size_t high_water;  /* most packets in use at once */
    uint64_t exhausted; /* ovl_pool_get calls that found the pool empty */
} ovl_pool_stats_t;

/**
 * Allocates a pool of `count` packets (count >= 1) in one block, up front. Returns 0,
 * OVL_ERR_ARG or OVL_ERR_NOMEM.
 */
int ovl_pool_new(ovl_pool_t **out, size_t count);

/** Frees the pool and every packet in it; packets still referenced must not be used after. */
void ovl_pool_free(ovl_pool_t *pool);

/**
 * Takes a free packet with one reference, `data` at the start of its data area (after the
 * headroom) and `len` 0. Returns NULL when every packet is in use (the caller drops what it was
 * going to put in it and counts the drop; the pool counts it in `exhausted` too).
 */
ovl_pkt_t *ovl_pool_get(ovl_pool_t *pool);

/** Reads the pool's counters into *out. */
void ovl_pool_stats(const ovl_pool_t *pool, ovl_pool_stats_t *out);

/** Adds a reference for one more user of `pkt` (fan-out); returns pkt. */
ovl_pkt_t *ovl_pkt_ref(ovl_pkt_t *pkt);

/** Drops one reference; the last one returns the packet to its pool. */
void ovl_pkt_unref(ovl_pkt_t *pkt);

/** Current reference count (for tests and assertions). */
uint32_t ovl_pkt_refs(const ovl_pkt_t *pkt);

/** Free bytes in front of data. */
size_t ovl_pkt_headroom(const ovl_pkt_t *pkt);

/** Free bytes after data + len, up to the end of the buffer (tailroom included). */
size_t ovl_pkt_tailroom(const ovl_pkt_t *pkt);

/** Grows the packet at the front by n bytes (data -= n, len += n). Returns 0 or OVL_ERR_LIMIT. */
int ovl_pkt_push(ovl_pkt_t *pkt, size_t n);

/** Removes n bytes from the front (data += n, len -= n). Returns 0 or OVL_ERR_LIMIT. */
int ovl_pkt_pull(ovl_pkt_t *pkt, size_t n);

/** Grows the packet at the end by n bytes (len += n). Returns 0 or OVL_ERR_LIMIT. */
int ovl_pkt_put(ovl_pkt_t *pkt, size_t n);

#endif
