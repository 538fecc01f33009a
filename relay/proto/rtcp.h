/*
 * RTCP (RFC 3550 §6) with the feedback messages a WebRTC SFU handles: generic NACK and PLI
 * (RFC 4585), FIR (RFC 5104), REMB (draft-alvestrand-rmcat-remb-03) and transport-wide
 * congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 * Sans-IO and allocation-free.
 *
 * Reading a compound packet (what the relay does with each unprotected SRTCP datagram):
 *
 *     ovl_rtcp_iter_t it;
 *     ovl_rtcp_msg_t m;
 *     ovl_rtcp_iter_init(&it, buf, len);
 *     while (ovl_rtcp_next(&it, &m) == 0) {
 *         switch (m.kind) {
 *         case OVL_RTCP_PLI:  ... m.u.pli.media_ssrc ...
 *         case OVL_RTCP_NACK: ovl_rtcp_nack_expand(&m.u.nack, lost, cap, &n); ...
 *         case OVL_RTCP_TWCC: ovl_rtcp_twcc_decode(&m.u.twcc, on_status, ctx); ...
 *         default: break;  // OVL_RTCP_UNKNOWN / OVL_RTCP_MALFORMED are skipped
 *         }
 *     }
 *     if (it.err == OVL_ERR_PARSE) ...  // the compound's framing broke; count it, drop the rest
 *
 * Every list in a message (report blocks, SDES items, SSRCs, NACK pairs, FIR entries, TWCC
 * chunks) stays a view into the packet with accessors; the packet must outlive the message.
 * A message of a known kind has been checked completely, so its accessors cannot fail on it.
 *
 * Writing: each ovl_rtcp_build_* appends one RTCP packet to an ovl_wbuf_t, whole or not at all
 * (OVL_ERR_LIMIT leaves the buffer as it was). A compound is several calls into one buffer;
 * ovl_rtcp_build_report starts one the RFC 3550 way (SR or RR, then SDES CNAME).
 *
 * Rewriting in place (forwarding feedback upstream): ovl_rtcp_set_sender_ssrc,
 * ovl_rtcp_set_media_ssrc, ovl_rtcp_set_fci_ssrc.
 */
#ifndef OVL_RTCP_H
#define OVL_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/cursor.h"

/* Packet types: RFC 3550 §12.1, RFC 4585 §6.1. */
#define OVL_RTCP_PT_SR    200
#define OVL_RTCP_PT_RR    201
#define OVL_RTCP_PT_SDES  202
#define OVL_RTCP_PT_BYE   203
#define OVL_RTCP_PT_APP   204
#define OVL_RTCP_PT_RTPFB 205
#define OVL_RTCP_PT_PSFB  206

/* Feedback message types (FMT). */
#define OVL_RTCP_FMT_NACK 1  /* RTPFB, RFC 4585 §6.2.1 */
#define OVL_RTCP_FMT_TWCC 15 /* RTPFB, transport-wide cc draft §3.1 */
#define OVL_RTCP_FMT_PLI  1  /* PSFB, RFC 4585 §6.3.1 */
#define OVL_RTCP_FMT_FIR  4  /* PSFB, RFC 5104 §4.3.1 */
#define OVL_RTCP_FMT_AFB  15 /* PSFB application layer feedback, RFC 4585 §6.4; REMB lives here */

#define OVL_RTCP_MAX_COUNT   31 /* RC / SC field */
#define OVL_RTCP_SDES_CNAME  1
#define OVL_RTCP_RB_LEN      24          /* bytes per report block */
#define OVL_RTCP_NTP_UNIX_S  2208988800u /* seconds from 1900-01-01 (NTP era 0) to 1970-01-01 */
#define OVL_RTCP_TWCC_TICK   250         /* µs per receive-delta unit */
#define OVL_RTCP_TWCC_REF_US 64000       /* µs per reference-time unit */

typedef enum ovl_rtcp_kind {
    OVL_RTCP_UNKNOWN = 0, /* well framed, but a type or FMT not parsed here (APP, XR, SLI, ...) */
    OVL_RTCP_MALFORMED,   /* a known type whose body does not parse; skip it */
    OVL_RTCP_SR,
    OVL_RTCP_RR,
    OVL_RTCP_SDES,
    OVL_RTCP_BYE,
    OVL_RTCP_NACK, /* RTPFB FMT 1 */
    OVL_RTCP_TWCC, /* RTPFB FMT 15 */
    OVL_RTCP_PLI,  /* PSFB FMT 1 */
    OVL_RTCP_FIR,  /* PSFB FMT 4 */
    OVL_RTCP_REMB, /* PSFB FMT 15 with the "REMB" identifier */
} ovl_rtcp_kind_t;

/** Stable lower-case name of a kind ("sr", "nack", "twcc", ...). */
const char *ovl_rtcp_kind_name(ovl_rtcp_kind_t kind);

/* ---- Report blocks (RFC 3550 §6.4.1) ---- */

typedef struct ovl_rtcp_rb {
    uint32_t ssrc;           /* source this block reports on */
    uint8_t fraction_lost;   /* since the previous report, in 1/256 */
    int32_t cumulative_lost; /* 24-bit signed on the wire */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;         /* interarrival jitter, timestamp units */
    uint32_t lsr;            /* middle 32 bits of the last SR's NTP time, 0 if none */
    uint32_t dlsr;           /* delay since that SR, 1/65536 s */
} ovl_rtcp_rb_t;

typedef struct ovl_rtcp_rb_list {
    const uint8_t *p; /* borrowed: count * 24 bytes in the packet */
    uint8_t count;
} ovl_rtcp_rb_list_t;

/** Decodes report block i (< count). Returns 0 or OVL_ERR_ARG. */
int ovl_rtcp_rb_get(const ovl_rtcp_rb_list_t *l, size_t i, ovl_rtcp_rb_t *rb);

typedef struct ovl_rtcp_sender_info {
    uint64_t ntp; /* NTP timestamp, 32.32 fixed point seconds since 1900 */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
} ovl_rtcp_sender_info_t;

typedef struct ovl_rtcp_sr {
    uint32_t ssrc;
    ovl_rtcp_sender_info_t info;
    ovl_rtcp_rb_list_t blocks;
} ovl_rtcp_sr_t;

typedef struct ovl_rtcp_rr {
    uint32_t ssrc;
    ovl_rtcp_rb_list_t blocks;
} ovl_rtcp_rr_t;

/* ---- SDES (RFC 3550 §6.5) ---- */

typedef struct ovl_rtcp_sdes {
    const uint8_t *chunks; /* borrowed */
    size_t len;
    uint8_t count; /* SC */
} ovl_rtcp_sdes_t;

typedef struct ovl_rtcp_sdes_item {
    uint32_t ssrc; /* of the chunk holding the item */
    uint8_t type;  /* OVL_RTCP_SDES_CNAME, ... */
    uint8_t len;
    const uint8_t *text; /* borrowed: UTF-8, not NUL-terminated */
} ovl_rtcp_sdes_item_t;

typedef struct ovl_rtcp_sdes_iter {
    const uint8_t *p, *end, *chunk;
    uint32_t ssrc;
    size_t chunks_left;
    bool in_chunk;
    int err; /* sticky OVL_ERR_PARSE */
} ovl_rtcp_sdes_iter_t;

/** Starts a walk over every item of every chunk. Caller storage; no dispose. */
void ovl_rtcp_sdes_iter_init(ovl_rtcp_sdes_iter_t *it, const ovl_rtcp_sdes_t *sdes);
/** Next item: 0, OVL_ERR_NOTFOUND at the end, OVL_ERR_PARSE on a malformed list. */
int ovl_rtcp_sdes_next(ovl_rtcp_sdes_iter_t *it, ovl_rtcp_sdes_item_t *item);
/** First CNAME item. Returns 0 or OVL_ERR_NOTFOUND. */
int ovl_rtcp_sdes_cname(const ovl_rtcp_sdes_t *sdes, ovl_rtcp_sdes_item_t *item);

/* ---- BYE (RFC 3550 §6.6) ---- */

typedef struct ovl_rtcp_bye {
    const uint8_t *ssrcs; /* borrowed: count * 4 bytes */
    uint8_t count;
    const uint8_t *reason; /* borrowed; NULL when absent */
    uint8_t reason_len;
} ovl_rtcp_bye_t;

/** SSRC i of a BYE (i < count; 0 otherwise). */
uint32_t ovl_rtcp_bye_ssrc(const ovl_rtcp_bye_t *bye, size_t i);

/* ---- Feedback messages (RFC 4585 §6.1 common header) ---- */

typedef struct ovl_rtcp_fb {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci; /* borrowed: feedback control information */
    size_t fci_len;
} ovl_rtcp_fb_t;

typedef struct ovl_rtcp_nack {
    ovl_rtcp_fb_t fb;
    size_t count; /* PID/BLP pairs */
} ovl_rtcp_nack_t;

/** PID/BLP pair i (< count). Returns 0 or OVL_ERR_ARG. */
int ovl_rtcp_nack_get(const ovl_rtcp_nack_t *nack, size_t i, uint16_t *pid, uint16_t *blp);

/**
 * Lists the lost sequence numbers of a NACK in order (PID, then PID+1..PID+16 for each set BLP
 * bit). Fills at most `cap` entries of `out`; *n is how many were written. Returns 0, or
 * OVL_ERR_LIMIT when `cap` was too small (the first `cap` numbers are written).
 */
int ovl_rtcp_nack_expand(const ovl_rtcp_nack_t *nack, uint16_t *out, size_t cap, size_t *n);

typedef struct ovl_rtcp_fir {
    ovl_rtcp_fb_t fb;
    size_t count; /* FCI entries */
} ovl_rtcp_fir_t;

typedef struct ovl_rtcp_fir_entry {
    uint32_t ssrc; /* media sender asked for a decoder refresh */
    uint8_t seq;   /* command sequence number */
} ovl_rtcp_fir_entry_t;

/** FIR entry i (< count). Returns 0 or OVL_ERR_ARG. */
int ovl_rtcp_fir_get(const ovl_rtcp_fir_t *fir, size_t i, ovl_rtcp_fir_entry_t *e);

typedef struct ovl_rtcp_remb {
    ovl_rtcp_fb_t fb;
    uint64_t bitrate; /* bits per second, mantissa << exp (saturates at UINT64_MAX) */
    uint8_t exp;
    uint32_t mantissa;
    const uint8_t *ssrcs; /* borrowed: count * 4 bytes */
    uint8_t count;
} ovl_rtcp_remb_t;

/** SSRC i of a REMB (i < count; 0 otherwise). */
uint32_t ovl_rtcp_remb_ssrc(const ovl_rtcp_remb_t *remb, size_t i);

/** REMB bitrate as BR Exp (6 bits) / BR Mantissa (18 bits), the largest value <= bps. */
void ovl_rtcp_remb_encode(uint64_t bps, uint8_t *exp, uint32_t *mantissa);
/** mantissa * 2^exp, saturating at UINT64_MAX. */
uint64_t ovl_rtcp_remb_decode(uint8_t exp, uint32_t mantissa);

/* ---- Transport-wide congestion control feedback (RTPFB FMT 15) ---- */

typedef enum ovl_rtcp_twcc_symbol {
    OVL_TWCC_NOT_RECEIVED = 0,
    OVL_TWCC_SMALL_DELTA = 1, /* received, 8-bit unsigned delta */
    OVL_TWCC_LARGE_DELTA = 2, /* received, 16-bit signed delta */
    OVL_TWCC_NO_DELTA = 3,    /* "reserved" in §3.1.1, "received w/o recv delta" in its examples */
} ovl_rtcp_twcc_symbol_t;

typedef struct ovl_rtcp_twcc {
    ovl_rtcp_fb_t fb;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t ref_time; /* 24-bit signed, in 64 ms units */
    uint8_t fb_count;
    const uint8_t *chunks; /* borrowed: packet chunks then receive deltas */
    size_t chunks_len;     /* bytes of packet chunks */
    const uint8_t *deltas; /* borrowed */
    size_t deltas_len;     /* bytes of receive deltas the chunks call for */
} ovl_rtcp_twcc_t;

/** One packet's status in a feedback. */
typedef struct ovl_rtcp_twcc_status {
    uint16_t seq;
    uint8_t symbol;     /* ovl_rtcp_twcc_symbol_t */
    bool received;      /* symbol != NOT_RECEIVED */
    bool has_time;      /* SMALL_DELTA or LARGE_DELTA */
    int32_t delta;      /* receive delta in 250 µs units (0 without one) */
    int64_t arrival_us; /* ref_time * 64000 + sum of deltas * 250, when has_time */
} ovl_rtcp_twcc_status_t;

/** Called once per packet, in sequence order; a non-zero return stops the walk and is returned. */
typedef int (*ovl_rtcp_twcc_cb_t)(void *ctx, const ovl_rtcp_twcc_status_t *st);

/**
 * Walks the status_count packets of a parsed TWCC feedback. Returns 0, the callback's non-zero
 * value, or OVL_ERR_PARSE (only for a view that did not come from ovl_rtcp_next).
 */
int ovl_rtcp_twcc_decode(const ovl_rtcp_twcc_t *twcc, ovl_rtcp_twcc_cb_t cb, void *ctx);

/**
 * The same into an array: fills at most `cap` entries; *n is how many were written.
 * Returns 0, or OVL_ERR_LIMIT when status_count > cap (the first `cap` are written).
 */
int ovl_rtcp_twcc_decode_array(const ovl_rtcp_twcc_t *twcc, ovl_rtcp_twcc_status_t *out, size_t cap, size_t *n);

/** Input of the TWCC builder: one transport-wide sequence number and what became of it. */
typedef struct ovl_rtcp_twcc_arrival {
    uint16_t seq;
    bool received;
    ovl_time_t arrival_us; /* receiver's clock; ignored when !received */
} ovl_rtcp_twcc_arrival_t;

/* ---- One RTCP packet of a compound ---- */

typedef struct ovl_rtcp_msg {
    ovl_rtcp_kind_t kind;
    uint8_t pt;
    uint8_t count;       /* RC, SC or FMT field */
    size_t off;          /* offset of this packet in the compound */
    const uint8_t *raw;  /* borrowed: this packet, header and padding included */
    size_t raw_len;      /* (length + 1) * 4 */
    const uint8_t *body; /* borrowed: after the 4-byte header, padding excluded */
    size_t body_len;
    union {
        ovl_rtcp_sr_t sr;
        ovl_rtcp_rr_t rr;
        ovl_rtcp_sdes_t sdes;
        ovl_rtcp_bye_t bye;
        ovl_rtcp_nack_t nack;
        ovl_rtcp_twcc_t twcc;
        ovl_rtcp_fb_t pli;
        ovl_rtcp_fir_t fir;
        ovl_rtcp_remb_t remb;
    } u;
} ovl_rtcp_msg_t;

/** Walks the packets of one compound RTCP packet. Caller storage; no dispose. */
typedef struct ovl_rtcp_iter {
    const uint8_t *base, *p, *end; /* borrowed */
    int err;                       /* 0 while walking, OVL_ERR_NOTFOUND at the end, OVL_ERR_PARSE on broken framing */
} ovl_rtcp_iter_t;

/** Starts a walk over `len` bytes at `pkt` (borrowed; must outlive every message). */
void ovl_rtcp_iter_init(ovl_rtcp_iter_t *it, const uint8_t *pkt, size_t len);

/**
 * Next packet of the compound (RFC 3550 §6.1, App. A.2): version 2, the length field consumed
 * exactly, padding (P) within the packet's own length (on any packet, not only the last: libwebrtc
 * pads each transport-cc feedback of a compound). Its body is classified and parsed
 * into m->u; a body that does not parse gives kind OVL_RTCP_MALFORMED and the walk goes on.
 * Returns 0 with *m filled, OVL_ERR_NOTFOUND at the end, or OVL_ERR_PARSE when the framing is
 * broken (empty input, bad version or length, bad padding count); the error sticks in it->err.
 */
int ovl_rtcp_next(ovl_rtcp_iter_t *it, ovl_rtcp_msg_t *m);

/* ---- In-place rewrites: `compound` is the writable buffer the message was read from ---- */

/**
 * Rewrites the sender SSRC of an SR, RR or any RTPFB/PSFB packet (also UNKNOWN ones).
 * Returns 0 or OVL_ERR_ARG (other packet type, or `compound` is not the walked buffer).
 */
int ovl_rtcp_set_sender_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, uint32_t ssrc);

/** Rewrites the media source SSRC of any RTPFB/PSFB packet (NACK, PLI, TWCC, ...). 0 or OVL_ERR_ARG. */
int ovl_rtcp_set_media_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, uint32_t ssrc);

/** Rewrites the SSRC of FIR entry i or of REMB SSRC i (those live in the FCI). 0 or OVL_ERR_ARG. */
int ovl_rtcp_set_fci_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, size_t i, uint32_t ssrc);

/* ---- Builders: each appends one packet, or nothing and an error ---- */

/** SR with n (<= 31) report blocks. Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_sr(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_sender_info_t *si, const ovl_rtcp_rb_t *rb,
                      size_t n);
/** RR with n (<= 31) report blocks. Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_rr(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_rb_t *rb, size_t n);
/** SDES with one chunk holding one CNAME item (len 1..255). Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_sdes_cname(ovl_wbuf_t *b, uint32_t ssrc, const char *cname, size_t len);
/** BYE for n (<= 31) SSRCs with an optional reason (len <= 255). Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_bye(ovl_wbuf_t *b, const uint32_t *ssrcs, size_t n, const char *reason, size_t reason_len);
/**
 * Generic NACK for the n (>= 1) lost sequence numbers, best given in ascending order (then each
 * PID/BLP pair covers up to 17; any order is still encoded correctly, less compactly).
 * Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT.
 */
int ovl_rtcp_build_nack(ovl_wbuf_t *b, uint32_t sender, uint32_t media, const uint16_t *lost, size_t n);
/** PLI. Returns 0 or OVL_ERR_LIMIT. */
int ovl_rtcp_build_pli(ovl_wbuf_t *b, uint32_t sender, uint32_t media);
/** FIR with n (>= 1) entries; media SSRC 0 (RFC 5104 §4.3.1.2). Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_fir(ovl_wbuf_t *b, uint32_t sender, const ovl_rtcp_fir_entry_t *e, size_t n);
/** REMB of `bps` for n (<= 255) SSRCs; media SSRC 0. Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT. */
int ovl_rtcp_build_remb(ovl_wbuf_t *b, uint32_t sender, uint64_t bps, const uint32_t *ssrcs, size_t n);

/**
 * Transport-wide feedback for `pkts`: n >= 1 entries in strictly ascending (modulo 2^16) seq
 * order, the first being the base sequence number; seqs missing between entries are reported
 * not received. The reference time is the first received arrival in 64 ms units; deltas are in
 * 250 µs units relative to the previous received packet, small (0..255) or large (int16), with
 * the chunk encoding (run length, 1-bit or 2-bit status vector) chosen per stretch.
 * A delta beyond int16 ends the feedback early: *n_used (>= 1) says how many entries went in;
 * send the rest in another feedback with fb_count + 1.
 * Returns 0, OVL_ERR_ARG (empty or unordered input) or OVL_ERR_LIMIT.
 */
int ovl_rtcp_build_twcc(ovl_wbuf_t *b, uint32_t sender, uint32_t media, uint8_t fb_count,
                        const ovl_rtcp_twcc_arrival_t *pkts, size_t n, size_t *n_used);

/**
 * Starts a compound packet (RFC 3550 §6.1): an SR when `si` is given, else an RR, carrying the
 * n report blocks (more than 31 continue in further RR packets), then an SDES CNAME.
 * Feedback packets may be appended after it. Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT.
 */
int ovl_rtcp_build_report(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_sender_info_t *si, const ovl_rtcp_rb_t *rb,
                          size_t n, const char *cname, size_t cname_len);

/* ---- NTP time and round-trip time (RFC 3550 §4, §6.4.1) ---- */

/** 64-bit NTP timestamp (32.32 s since 1900) of a wall-clock time in µs since the Unix epoch. */
uint64_t ovl_rtcp_ntp_from_unix_us(uint64_t unix_us);
/** Inverse of ovl_rtcp_ntp_from_unix_us (NTP era 1 assumed when the top bit is 0, RFC 4330 §3). */
uint64_t ovl_rtcp_ntp_to_unix_us(uint64_t ntp);

/** The middle 32 bits of an NTP timestamp (16.16 s), as in LSR. */
static inline uint32_t ovl_rtcp_ntp_mid32(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

/** A delay in µs as 1/65536 s units (DLSR), saturating at UINT32_MAX. */
uint32_t ovl_rtcp_dlsr_from_us(uint64_t us);

/**
 * Round-trip time from a report block about our stream (RFC 3550 §6.4.1):
 * A - LSR - DLSR, where A is the middle 32 bits of the NTP time the report arrived (same clock
 * as the SR we sent). Out: *rtt_us (a negative result from clock granularity is 0).
 * Returns 0, or OVL_ERR_NOTFOUND when the block carries no LSR (no SR received yet).
 */
int ovl_rtcp_rtt_us(const ovl_rtcp_rb_t *rb, uint32_t arrival_mid32, uint64_t *rtt_us);

#endif
