/*
 * VP8 frames to RTP payloads and back (RFC 7741), for the synthetic peer and the benchmark; not on
 * the relay's packet path. The packetizer needs no memory of its own; the depacketizer (frame
 * assembler) allocates its bounded buffers once, at creation.
 */
#ifndef OVL_VP8_PACKETIZER_H
#define OVL_VP8_PACKETIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/vp8.h"
#include "relay/proto/base.h"

/* ---- Packetizer ---- */

typedef struct ovl_vp8_packetizer_cfg {
    size_t max_payload;        /* largest RTP payload, descriptor included (e.g. 1200) */
    uint16_t first_picture_id; /* 15-bit PictureID of the first frame (random in a real sender) */
    bool tl0picidx;            /* also send TL0PICIDX and TID=0 (every frame is a base layer frame) */
    uint8_t first_tl0picidx;
} ovl_vp8_packetizer_cfg_t;

/* Caller storage (ovl_vp8_packetizer_init); owns nothing, so there is no dispose. */
typedef struct ovl_vp8_packetizer {
    ovl_vp8_packetizer_cfg_t cfg;
    uint16_t picture_id; /* of the current (or next) frame */
    uint8_t tl0picidx;
    const uint8_t *frame; /* borrowed: the current frame, until its last packet is taken */
    size_t frame_len, off;
    bool non_reference;
    unsigned packets, next; /* packets of the current frame, and the index of the next one */
    bool started;           /* a frame was given; picture_id advances at the next one */
} ovl_vp8_packetizer_t;

/**
 * Prepares a packetizer. max_payload must leave room for the descriptor and one octet of
 * payload (OVL_ERR_ARG otherwise).
 */
int ovl_vp8_packetizer_init(ovl_vp8_packetizer_t *pk, const ovl_vp8_packetizer_cfg_t *cfg);

/**
 * Starts a frame (the encoder's output, borrowed until its last packet has been taken). Its
 * packets are of near-equal size, each at most max_payload. PictureID (and TL0PICIDX) advance by
 * one per frame. *packets (may be NULL) gets the number of packets. OVL_ERR_ARG for an empty
 * frame; OVL_ERR_STATE if the previous frame still has packets to take.
 */
int ovl_vp8_packetizer_frame(ovl_vp8_packetizer_t *pk, const uint8_t *frame, size_t len, bool non_reference,
                             unsigned *packets);

/**
 * Writes the next RTP payload of the current frame into out (cap octets) and sets *marker on the
 * frame's last packet (the caller puts it in the RTP header, with one timestamp per frame).
 * OVL_ERR_AGAIN when the frame has no packet left; OVL_ERR_LIMIT when cap is too small.
 */
int ovl_vp8_packetizer_next(ovl_vp8_packetizer_t *pk, uint8_t *out, size_t cap, size_t *len, bool *marker);

/* ---- Depacketizer (frame assembler) ---- */

typedef struct ovl_vp8_depacketizer ovl_vp8_depacketizer_t;

typedef struct ovl_vp8_depacketizer_cfg {
    size_t max_frame;  /* largest frame assembled (default 512 KiB); a larger one is dropped */
    size_t max_packet; /* largest RTP payload accepted (default 1500) */
    unsigned window;   /* packets buffered: a power of two, 16..16384 (default 512) */
    unsigned reorder;  /* a missing packet is given up once a packet this many sequence numbers
                          later has arrived (default 32; less than window) */
} ovl_vp8_depacketizer_cfg_t;

/* One assembled frame. data is borrowed: valid until the next call on the depacketizer. */
typedef struct ovl_vp8_frame {
    const uint8_t *data; /* the VP8 frame, descriptors removed */
    size_t len;
    uint32_t timestamp;
    uint16_t first_seq, last_seq;
    unsigned packets;
    bool keyframe;
    uint16_t width, height; /* key frames only */
    bool has_picture_id;
    uint16_t picture_id;
    /* The frame is a key frame, or every packet since the last key frame arrived: a decoder that
     * got the frames before it can decode it. False after a loss until the next key frame. */
    bool decodable;
} ovl_vp8_frame_t;

typedef struct ovl_vp8_depacketizer_stats {
    uint64_t packets;           /* pushed */
    uint64_t frames;            /* returned by pop */
    uint64_t keyframes;         /* of those, key frames */
    uint64_t frames_incomplete; /* frames of which some packets arrived, dropped as incomplete */
    uint64_t lost;              /* sequence numbers given up as lost */
    uint64_t late;              /* arrived after their place was given up or consumed */
    uint64_t duplicates;
    uint64_t malformed; /* descriptor did not parse, or payload larger than max_packet */
} ovl_vp8_depacketizer_stats_t;

/**
 * Creates a depacketizer; cfg may be NULL for the defaults, and a zero member means its default.
 * OVL_ERR_ARG for an invalid configuration, OVL_ERR_NOMEM. Free with ovl_vp8_depacketizer_free.
 */
int ovl_vp8_depacketizer_new(const ovl_vp8_depacketizer_cfg_t *cfg, ovl_vp8_depacketizer_t **out);

/** Frees a depacketizer and its buffers (NULL is fine). */
void ovl_vp8_depacketizer_free(ovl_vp8_depacketizer_t *d);

/**
 * Gives one received RTP packet (sequence number, marker bit, timestamp, payload, which is
 * copied). An empty payload (padding-only packet) fills its sequence number without data.
 * Returns 0 when kept; OVL_ERR_PARSE (malformed descriptor) or OVL_ERR_LIMIT (too large): the
 * packet counts as missing; OVL_ERR_REPLAY: duplicate or too late, ignored. Call
 * ovl_vp8_depacketizer_pop until OVL_ERR_AGAIN after each push.
 */
int ovl_vp8_depacketizer_push(ovl_vp8_depacketizer_t *d, uint16_t seq, bool marker, uint32_t timestamp,
                              const uint8_t *payload, size_t len);

/**
 * Takes the next complete frame, in sequence order: all its packets from the one with S=1 and
 * PID=0 to the one with the marker bit, contiguous and with one timestamp. A frame with a missing
 * packet waits until the packet is given up (see cfg.reorder), and is then dropped and counted.
 * Returns 0 with *out set, or OVL_ERR_AGAIN when no frame is ready.
 */
int ovl_vp8_depacketizer_pop(ovl_vp8_depacketizer_t *d, ovl_vp8_frame_t *out);

/**
 * True when the receiver should ask for a key frame (RTCP PLI): from the start until the first
 * key frame, and after any loss until the next one.
 */
bool ovl_vp8_depacketizer_keyframe_needed(const ovl_vp8_depacketizer_t *d);

/** Copies the counters. */
void ovl_vp8_depacketizer_get_stats(const ovl_vp8_depacketizer_t *d, ovl_vp8_depacketizer_stats_t *out);

#endif
