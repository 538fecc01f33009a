/*
 * RTP packets (RFC 3550 §5.1) and their header extensions (RFC 8285), sans-IO and allocation-free.
 *
 * Reading: ovl_rtp_parse() checks a packet once and fills an ovl_rtp_t view of offsets into the
 * caller's buffer; nothing is copied. Extension elements are found by id (ovl_rtp_ext_find) or
 * walked in order (ovl_rtp_ext_next); both return pointers into the packet.
 *
 * Rewriting (the SFU's per-subscriber step): ovl_rtp_set_* and ovl_rtp_ext_write/_set_id change
 * the packet in place. They take the view and the same buffer, writable (`pkt` must be the
 * pointer the view was parsed from, or they return OVL_ERR_ARG); the view is kept in step.
 *
 * Building (synthetic peer, tests): ovl_rtp_build() writes a header with CSRCs and extension
 * elements into an ovl_wbuf_t; the caller appends the payload, then optionally ovl_rtp_pad().
 *
 * Sequence arithmetic: 16-bit sequence numbers and 32-bit timestamps compared modulo 2^16/2^32
 * and unwrapped to 64-bit values (RFC 3550 App. A.1 style).
 */
#ifndef OVL_RTP_H
#define OVL_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/cursor.h"

#define OVL_RTP_VERSION      2
#define OVL_RTP_HEADER_LEN   12 /* fixed header, no CSRC */
#define OVL_RTP_MAX_CSRC     15
#define OVL_RTP_EXT_ONE_BYTE 0xBEDEu /* RFC 8285 §4.2 "defined by profile" */
#define OVL_RTP_EXT_TWO_BYTE 0x1000u /* RFC 8285 §4.3: 0x100 in the top 12 bits, 4 "appbits" below */

/** Which RFC 8285 form the header extension block has. */
typedef enum ovl_rtp_ext_form {
    OVL_RTP_EXT_NONE = 0, /* X bit clear */
    OVL_RTP_EXT_ONE_BYTE_FORM,
    OVL_RTP_EXT_TWO_BYTE_FORM,
    OVL_RTP_EXT_OTHER, /* some other profile's block: carried, but holds no RFC 8285 elements */
} ovl_rtp_ext_form_t;

/** A parsed RTP packet: a view into the caller's buffer (offsets count from `data`). */
typedef struct ovl_rtp {
    const uint8_t *data; /* borrowed: the packet as passed to ovl_rtp_parse */
    size_t len;          /* whole packet, padding included */
    bool padding;        /* P bit */
    bool extension;      /* X bit */
    bool marker;         /* M bit */
    uint8_t csrc_count;  /* CC */
    uint8_t payload_type;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    ovl_rtp_ext_form_t ext_form;
    uint16_t ext_profile; /* "defined by profile" (0xBEDE, 0x100x, ...); 0 without an extension */
    size_t ext_off;       /* first byte of extension data (after its 4-byte header) */
    size_t ext_len;       /* bytes of extension data (length field * 4) */
    size_t payload_off;
    size_t payload_len; /* padding removed */
    uint8_t padding_len;
} ovl_rtp_t;

/**
 * Parses one RTP packet (RFC 3550 §5.1, §5.3.1). Checks version 2, that CSRCs and the
 * extension block fit, and that the padding count (P bit) is at least 1 and fits after the
 * header. Extension elements are checked lazily, by ovl_rtp_ext_next/_find.
 * In: `pkt` (borrowed; must outlive the view), `len`. Out: *rtp (cleared on entry).
 * Returns 0 or OVL_ERR_PARSE.
 */
int ovl_rtp_parse(ovl_rtp_t *rtp, const uint8_t *pkt, size_t len);

/** Pointer to the payload (padding excluded); `rtp->payload_len` bytes. */
static inline const uint8_t *ovl_rtp_payload(const ovl_rtp_t *rtp)
{
    return rtp->data + rtp->payload_off;
}

/** The i-th CSRC (i < csrc_count; 0 otherwise). */
uint32_t ovl_rtp_csrc(const ovl_rtp_t *rtp, size_t i);

/* ---- RFC 8285 header extension elements ---- */

/** One extension element: id, value length and a pointer to the value inside the packet. */
typedef struct ovl_rtp_ext_elem {
    uint8_t id;          /* one-byte form 1..14, two-byte form 1..255 */
    uint8_t len;         /* value length: one-byte form 1..16, two-byte form 0..255 */
    const uint8_t *data; /* borrowed: the value, inside the packet */
    size_t off;          /* offset of the value from the start of the packet */
} ovl_rtp_ext_elem_t;

/** For building: one element to write (see ovl_rtp_build). */
typedef struct ovl_rtp_ext_put {
    uint8_t id;
    uint8_t len;
    const uint8_t *data; /* borrowed for the call */
} ovl_rtp_ext_put_t;

/** Walks the extension elements of a parsed packet in wire order. Caller storage; no dispose. */
typedef struct ovl_rtp_ext_iter {
    const uint8_t *base, *p, *end;
    ovl_rtp_ext_form_t form;
} ovl_rtp_ext_iter_t;

/** Starts a walk over `rtp`'s extension elements (none if the packet has no RFC 8285 block). */
void ovl_rtp_ext_iter_init(ovl_rtp_ext_iter_t *it, const ovl_rtp_t *rtp);

/**
 * Next element. Skips padding bytes (0); in the one-byte form stops at id 15 (RFC 8285 §4.2).
 * Returns 0 with *elem filled, OVL_ERR_NOTFOUND at the end, OVL_ERR_PARSE if an element runs
 * past the block (the walk then stays at its end).
 */
int ovl_rtp_ext_next(ovl_rtp_ext_iter_t *it, ovl_rtp_ext_elem_t *elem);

/**
 * First element with `id`. Returns 0 with *elem filled, OVL_ERR_NOTFOUND, or OVL_ERR_PARSE if
 * the block is malformed before such an element is found.
 */
int ovl_rtp_ext_find(const ovl_rtp_t *rtp, uint8_t id, ovl_rtp_ext_elem_t *elem);

/* ---- In-place rewrites: `pkt` must be the buffer `rtp` was parsed from, writable ---- */

/** Sets the SSRC. Returns 0 or OVL_ERR_ARG (pkt is not rtp->data). */
int ovl_rtp_set_ssrc(ovl_rtp_t *rtp, uint8_t *pkt, uint32_t ssrc);
/** Sets the sequence number. Returns 0 or OVL_ERR_ARG. */
int ovl_rtp_set_seq(ovl_rtp_t *rtp, uint8_t *pkt, uint16_t seq);
/** Sets the timestamp. Returns 0 or OVL_ERR_ARG. */
int ovl_rtp_set_timestamp(ovl_rtp_t *rtp, uint8_t *pkt, uint32_t ts);
/** Sets the marker bit. Returns 0 or OVL_ERR_ARG. */
int ovl_rtp_set_marker(ovl_rtp_t *rtp, uint8_t *pkt, bool marker);
/** Sets the payload type (0..127). Returns 0 or OVL_ERR_ARG. */
int ovl_rtp_set_payload_type(ovl_rtp_t *rtp, uint8_t *pkt, uint8_t pt);

/**
 * Overwrites the value of the first element `id` with `len` bytes from `val`; the element must
 * already have exactly that length (transport-wide seq 2, abs-send-time 3, audio level 1).
 * Returns 0, OVL_ERR_NOTFOUND, OVL_ERR_ARG (other length, or pkt is not rtp->data) or
 * OVL_ERR_PARSE (malformed block).
 */
int ovl_rtp_ext_write(const ovl_rtp_t *rtp, uint8_t *pkt, uint8_t id, const void *val, size_t len);

/**
 * Renumbers the first element `id` to `new_id` (the receiver negotiated other ids).
 * One-byte form: new_id 1..14; two-byte form: 1..255. Returns 0, OVL_ERR_NOTFOUND,
 * OVL_ERR_ARG or OVL_ERR_PARSE.
 */
int ovl_rtp_ext_set_id(const ovl_rtp_t *rtp, uint8_t *pkt, uint8_t id, uint8_t new_id);

/* ---- Building ---- */

/** Fixed-header fields for ovl_rtp_build. */
typedef struct ovl_rtp_hdr {
    bool marker;
    uint8_t payload_type; /* 0..127 */
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    const uint32_t *csrcs; /* borrowed for the call; csrc_count entries */
    uint8_t csrc_count;    /* 0..15 */
} ovl_rtp_hdr_t;

/**
 * Appends an RTP header to `b`: fixed header, CSRCs and, when n_ext > 0, an RFC 8285 block in
 * the one-byte form if every element fits it (id 1..14, length 1..16), else in the two-byte
 * form (id 1..255, length 0..255), zero-padded to 32 bits. The caller then appends the payload.
 * Returns 0, OVL_ERR_ARG (bad field) or OVL_ERR_LIMIT (no room; nothing written).
 */
int ovl_rtp_build(ovl_wbuf_t *b, const ovl_rtp_hdr_t *h, const ovl_rtp_ext_put_t *ext, size_t n_ext);

/**
 * Ends the packet that starts at b->base + pkt_off with `pad_len` (1..255) bytes of padding
 * (zeros, the last one the count) and sets its P bit. Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT.
 */
int ovl_rtp_pad(ovl_wbuf_t *b, size_t pkt_off, uint8_t pad_len);

/* ---- Sequence number and timestamp arithmetic ---- */

/** a - b as a signed distance modulo 2^16 (positive when a is newer). */
static inline int32_t ovl_rtp_seq_diff(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(a - b);
}

/** True when `a` is newer than `b` (RFC 1982 serial-number order, half range). */
static inline bool ovl_rtp_seq_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000u;
}

/** a - b as a signed distance modulo 2^32. */
static inline int64_t ovl_rtp_ts_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(uint32_t)(a - b);
}

/**
 * Unwraps 16-bit sequence numbers (or, with bits = 32, timestamps) to 64-bit signed values.
 * The first value maps to itself; each next value maps to the one nearest the highest seen.
 */
typedef struct ovl_rtp_unwrap {
    int64_t highest;
    bool started;
} ovl_rtp_unwrap_t;

/** Resets an unwrapper (caller storage; no dispose). */
static inline void ovl_rtp_unwrap_init(ovl_rtp_unwrap_t *u)
{
    u->highest = 0;
    u->started = false;
}

/** Extended value of a 16-bit sequence number. */
int64_t ovl_rtp_unwrap_seq(ovl_rtp_unwrap_t *u, uint16_t seq);

/** Extended value of a 32-bit RTP timestamp. */
int64_t ovl_rtp_unwrap_ts(ovl_rtp_unwrap_t *u, uint32_t ts);

#endif
