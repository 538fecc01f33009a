/*
 * VP8 in RTP as the relay sees it (RFC 7741): the payload descriptor, the payload header of the
 * first packet of a frame, the key frame header (RFC 6386 §9.1), and in-place rewriting of the
 * picture ID and TL0PICIDX for layer switches. No allocation; every parser checks its own input.
 */
#ifndef OVL_VP8_H
#define OVL_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

/* Largest descriptor: mandatory octet, X octet, 2-octet PictureID, TL0PICIDX, TID/Y/KEYIDX. */
#define OVL_VP8_DESC_MAX 6
/* Bytes of VP8 payload a key frame's first packet needs: frame tag (3), start code (3), sizes (4). */
#define OVL_VP8_KEYFRAME_HEADER 10

/* The RTP payload descriptor (RFC 7741 §4.2). Absent optional fields read 0 and have offset 0. */
typedef struct ovl_vp8_desc {
    bool non_reference; /* N: no other frame references this one */
    bool start;         /* S: the payload begins a VP8 partition */
    uint8_t pid;        /* partition index, 0..7 */

    bool has_picture_id;   /* I */
    bool picture_id_15bit; /* M: the PictureID field is 15 bits (2 octets), else 7 bits (1 octet) */
    uint16_t picture_id;
    bool has_tl0picidx; /* L */
    uint8_t tl0picidx;
    bool has_tid;    /* T: tid and layer_sync are meaningful */
    uint8_t tid;     /* temporal layer index, 0..3 */
    bool layer_sync; /* Y */
    bool has_keyidx; /* K */
    uint8_t keyidx;  /* 0..31 */

    size_t picture_id_off; /* offset of the PictureID field in the payload */
    size_t tl0picidx_off;  /* offset of TL0PICIDX */
    size_t len;            /* descriptor length: the VP8 payload starts at this offset */
} ovl_vp8_desc_t;

/* One packet: descriptor, and what the first packet of a frame says about the frame. */
typedef struct ovl_vp8_info {
    ovl_vp8_desc_t desc;
    bool frame_start; /* S=1 and PID=0: the VP8 payload header follows the descriptor (§4.3) */

    /* Only when frame_start: the payload header (RFC 7741 §4.3, RFC 6386 §9.1 frame tag). */
    bool keyframe;            /* P bit is 0 */
    bool show_frame;          /* H */
    uint8_t version;          /* VER */
    uint32_t first_part_size; /* Size0 + 8 * Size1 + 2048 * Size2 */

    /* Only when keyframe: the key frame header after the start code 9d 01 2a (RFC 6386 §9.1). */
    uint16_t width, height; /* 14 bits each, never 0 */
    uint8_t hscale, vscale; /* 2-bit upscaling modes */
} ovl_vp8_info_t;

/**
 * Parses the payload descriptor at the start of an RTP payload (RFC 7741 §4.2). At least one
 * octet of VP8 payload must follow it. Returns 0, or OVL_ERR_PARSE with *out cleared.
 */
int ovl_vp8_parse_desc(const uint8_t *payload, size_t len, ovl_vp8_desc_t *out);

/**
 * Parses one RTP payload: the descriptor, and when the packet starts a frame (S=1, PID=0) the
 * 3-octet payload header; for key frames (P=0, RFC 7741 §4.3) also the start code and the frame
 * size. A first packet too short for its header, a bad start code or a zero dimension is
 * OVL_ERR_PARSE. Pure function; *out is cleared on entry.
 */
int ovl_vp8_parse(const uint8_t *payload, size_t len, ovl_vp8_info_t *out);

/* What ovl_vp8_rewrite changes. */
typedef struct ovl_vp8_rewrite {
    bool set_picture_id;
    uint16_t picture_id; /* masked to the field's width: 15 bits, or 7 bits for a 1-octet field */
    bool set_tl0picidx;
    uint8_t tl0picidx;
} ovl_vp8_rewrite_t;

/**
 * Rewrites PictureID and/or TL0PICIDX in place in an RTP payload, keeping the PictureID field's
 * width (a 7-bit field keeps 7 bits, so an SFU should prefer senders using 15 bits, as browsers
 * do). Returns 0; OVL_ERR_PARSE for a malformed descriptor; OVL_ERR_NOTFOUND when a field to set
 * is absent, in which case nothing is written.
 */
int ovl_vp8_rewrite(uint8_t *payload, size_t len, const ovl_vp8_rewrite_t *rw);

#endif
