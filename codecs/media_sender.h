/*
 * One RTP stream the synthetic peer sends (an audio or a video track), sans-IO: encoded frames in, RTP
 * packets out through a callback, NACKs answered with RTX from a send history, sender-report fields.
 *
 * - Video: each VP8 frame is packetized (RFC 7741, vp8_packetizer.h) into packets of at most max_payload,
 *   one RTP timestamp per frame, the marker bit on its last packet (RFC 7741 §4.1).
 * - Audio: one Opus packet per RTP packet (RFC 7587 §4.2), with the RFC 6464 audio level when negotiated.
 * - Both carry the RFC 8843 mid header extension when negotiated (one-byte form, RFC 8285 §4.2).
 * - Retransmission (RFC 4588): every video packet is kept in a ring of `history` packets; a NACKed sequence
 *   number still there is sent again as RTX: the RTX SSRC and payload type, the RTX stream's own sequence
 *   number, the original timestamp and marker, and the original sequence number (OSN) in the first two
 *   octets of the payload (§4). Never the original packet again: SRTP refuses a repeated packet index.
 *
 * Packets go to cfg.emit in a buffer of the sender's with OVL_SRTP_MAX_OVERHEAD octets of room after them,
 * which the callback may protect in place (ovl_transport_send_rtp). Allocates at creation only.
 */
#ifndef OVL_MEDIA_SENDER_H
#define OVL_MEDIA_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/media.h"
#include "relay/proto/base.h"
#include "relay/proto/rtcp.h"

/* One plaintext RTP packet (len octets at pkt, cap writable), valid during the call; rtx tells retransmissions. */
typedef void (*ovl_media_emit_cb)(void *ctx, uint8_t *pkt, size_t len, size_t cap, bool rtx);

typedef struct ovl_media_sender_cfg {
    ovl_media_kind_t kind;
    uint32_t ssrc;
    uint8_t pt;
    uint32_t clock;            /* RTP clock rate: 48000 (Opus), 90000 (VP8) */
    uint32_t rtx_ssrc;         /* video: the RTX SSRC (FID group); 0: no RTX, NACKs stay unanswered */
    uint8_t rtx_pt;            /* RTX payload type (apt = pt) */
    uint16_t first_seq;        /* random in a real sender (RFC 3550 §5.1) */
    uint16_t first_rtx_seq;    /* the RTX stream's own first sequence number */
    uint16_t first_picture_id; /* VP8 15-bit PictureID of the first frame */
    uint8_t level_ext_id;      /* audio: RFC 6464 extension id, 0: none */
    uint8_t mid_ext_id;        /* RFC 8843 mid extension id, 0: none */
    const char *mid;           /* the section's mid (copied; 1..16 octets) when mid_ext_id is set */
    size_t max_payload;        /* video: largest RTP payload, descriptor included; 0: 1200 */
    unsigned history;          /* video: packets kept for retransmission, a power of two 16..4096; 0: 512 */
    ovl_media_emit_cb emit;    /* required */
    void *ctx;                 /* passed to emit */
} ovl_media_sender_cfg_t;

typedef struct ovl_media_sender_stats {
    uint64_t frames;      /* frames sent (video frames, Opus packets) */
    uint64_t keyframes;   /* video key frames */
    uint64_t packets;     /* original RTP packets */
    uint64_t octets;      /* their payload octets (the SR octet count, RFC 3550 §6.4.1) */
    uint64_t nack_seqs;   /* sequence numbers asked for by NACKs */
    uint64_t rtx_packets; /* retransmissions sent */
    uint64_t nack_missed; /* asked for but no longer in the history, or no RTX negotiated */
} ovl_media_sender_stats_t;

typedef struct ovl_media_sender ovl_media_sender_t;

/** Creates a sender (cfg copied). OVL_ERR_ARG, OVL_ERR_NOMEM. Free with ovl_media_sender_free. */
int ovl_media_sender_new(const ovl_media_sender_cfg_t *cfg, ovl_media_sender_t **out);

/** Frees it (NULL is fine). */
void ovl_media_sender_free(ovl_media_sender_t *s);

/**
 * Sends one encoded VP8 frame (borrowed for the call) with RTP timestamp `ts`, as its packets through emit.
 * OVL_ERR_STATE for an audio sender, OVL_ERR_ARG for an empty frame, the packetizer's errors.
 */
int ovl_media_sender_video_frame(ovl_media_sender_t *s, const uint8_t *frame, size_t len, bool keyframe, uint32_t ts,
                                 ovl_time_t now);

/**
 * Sends one Opus packet with RTP timestamp `ts` and, when negotiated, its RFC 6464 level (0..127 -dBov) and
 * voice activity. OVL_ERR_STATE for a video sender, OVL_ERR_ARG for an empty or too large packet.
 */
int ovl_media_sender_audio_frame(ovl_media_sender_t *s, const uint8_t *opus, size_t len, uint32_t ts, uint8_t level,
                                 bool voice, ovl_time_t now);

/** Answers the n NACKed sequence numbers with RTX, each from the history if it is still there. */
void ovl_media_sender_on_nack(ovl_media_sender_t *s, const uint16_t *seqs, size_t n);

/**
 * Sender information for an SR at `now` with wall-clock NTP time `ntp` (RFC 3550 §6.4.1): the RTP timestamp
 * of the last frame moved on by the time since it was sent, and the packet and octet counts. Returns 0, or
 * OVL_ERR_AGAIN before the first frame (send an RR then).
 */
int ovl_media_sender_info(const ovl_media_sender_t *s, ovl_time_t now, uint64_t ntp, ovl_rtcp_sender_info_t *out);

/** The stream's SSRC. */
uint32_t ovl_media_sender_ssrc(const ovl_media_sender_t *s);

/** Copies the counters. */
void ovl_media_sender_stats(const ovl_media_sender_t *s, ovl_media_sender_stats_t *out);

#endif
