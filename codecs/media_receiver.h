/*
 * One RTP stream the synthetic peer receives (another participant's audio or video track, as the relay
 * forwards it), sans-IO: decrypted RTP in, decoded frames counted (and checked), RTCP feedback out.
 *
 * Video: packets (and RTX retransmissions, RFC 4588 §4: the original sequence number in the first two
 * payload octets, unwrapped back into the media stream) go through a NACK generator (nack.h) and the VP8
 * frame assembler (vp8_packetizer.h) into libvpx. Complete frames are decoded when decodable (a key frame,
 * or nothing lost since the last one); the decoded picture's test-pattern number is read back (video.h), so
 * a frame counts as verified only when the picture really is the sender's. Missing packets are NACKed at
 * once and again every `retry`; a packet given up is filled in the assembler so its frame is dropped at
 * once, and from then on frames are undecodable until a key frame, which is asked for with PLI
 * (RFC 4585 §6.3.1; at most every pli_interval, the first one pli_interval after the first packet, so that
 * the key frame the relay asks for a new subscriber has time to come).
 *
 * Audio: Opus packets are decoded in order by libopus; a gap is filled with the next packet's in-band FEC
 * (RFC 7587 §3.3) or concealment (PLC), late packets are dropped. The level of the decoded audio is kept.
 *
 * Both keep RFC 3550 receive statistics (rtp_stats.h) for receiver reports, with LSR/DLSR from the
 * sender's last SR. Allocates at creation (decoder, assembler, NACK list) and inside libvpx/libopus.
 */
#ifndef OVL_MEDIA_RECEIVER_H
#define OVL_MEDIA_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/media.h"
#include "codecs/nack.h"
#include "relay/proto/base.h"
#include "relay/proto/cursor.h"
#include "relay/proto/rtcp.h"

typedef struct ovl_media_receiver_cfg {
    ovl_media_kind_t kind;
    uint32_t ssrc;           /* media SSRC */
    uint8_t pt;              /* Opus or VP8 payload type */
    uint32_t clock;          /* its RTP clock rate */
    uint32_t rtx_ssrc;       /* video: RTX SSRC, 0 when none */
    uint8_t rtx_pt;          /* RTX payload type */
    uint32_t local_ssrc;     /* sender SSRC of the feedback we send (RFC 4585 §6.1) */
    bool nack;               /* video: ask for retransmissions */
    bool pli;                /* video: ask for key frames */
    ovl_time_t pli_interval; /* 0: 500 ms */
    ovl_nack_cfg_t nack_cfg; /* zeros: nack.h defaults */
    unsigned reorder; /* video: packets the assembler waits for a missing one; 0: 256 with NACK (which gives up first),
                         16 without */
} ovl_media_receiver_cfg_t;

typedef struct ovl_media_receiver_stats {
    uint64_t packets;            /* media packets accepted (RTX ones counted apart) */
    uint64_t octets;             /* their payload octets */
    uint64_t rtx_packets;        /* RTX packets received */
    uint64_t recovered;          /* missing packets that came after all (mostly by RTX) */
    uint64_t duplicates;         /* packets already received (duplicates, needless retransmissions) */
    uint64_t late;               /* audio packets after their turn; video packets after their frame was given up */
    uint64_t ignored;            /* unknown SSRC or payload type, malformed RTP or VP8, padding-only RTX */
    uint64_t lost;               /* sequence numbers given up as lost (never arrived) */
    uint64_t frames_decoded;     /* video frames / Opus packets decoded */
    uint64_t keyframes;          /* video key frames decoded */
    uint64_t frames_undecodable; /* video frames never complete, or complete but not decodable (a loss since the
                                  * last key frame) or failed in libvpx, after the first key frame */
    uint64_t frames_before_key;  /* video frames that came before any key frame (not decodable yet) */
    uint64_t frames_verified;    /* decoded video pictures whose test-pattern number read back */
    uint64_t frames_concealed;   /* audio frames made up by FEC or PLC */
    uint64_t nack_packets;       /* NACK feedback messages sent */
    uint64_t nack_seqs;          /* sequence numbers in them (a repeat counts again) */
    uint64_t plis;               /* PLIs sent */
    ovl_time_t first_packet_at;  /* 0 until then */
    ovl_time_t first_frame_at;   /* first decoded frame; 0 until then */
    ovl_time_t last_frame_at;    /* latest decoded frame; 0 until then */
    ovl_time_t max_frame_gap;    /* longest time between two decoded frames in a row (a stall in the media) */
    ovl_time_t max_frame_gap_at; /* when that gap ended */
    uint32_t last_pattern;       /* test-pattern number of the last verified picture */
    uint8_t audio_level;         /* RFC 6464 level (-dBov) of the last decoded audio frame; 127 = silence */
    int64_t rtcp_lost;           /* RFC 3550 A.3 cumulative lost, as in our receiver reports */
} ovl_media_receiver_stats_t;

typedef struct ovl_media_receiver ovl_media_receiver_t;

/** Creates a receiver (cfg copied) with its decoder. OVL_ERR_ARG, OVL_ERR_NOMEM, OVL_ERR_UNSUPPORTED (codec). */
int ovl_media_receiver_new(const ovl_media_receiver_cfg_t *cfg, ovl_media_receiver_t **out);

/** Frees it (NULL is fine). */
void ovl_media_receiver_free(ovl_media_receiver_t *r);

/** True when an RTP packet with this SSRC belongs to the stream (its media or its RTX SSRC). */
bool ovl_media_receiver_owns(const ovl_media_receiver_t *r, uint32_t ssrc);

/**
 * Takes one decrypted RTP packet of the stream (media or RTX; borrowed, not modified) that arrived at `now`,
 * and decodes whatever became complete. Returns 0, OVL_ERR_PARSE (malformed), OVL_ERR_NOTFOUND (another SSRC
 * or payload type), OVL_ERR_REPLAY (duplicate or late): dropped and counted.
 */
int ovl_media_receiver_on_rtp(ovl_media_receiver_t *r, const uint8_t *pkt, size_t len, ovl_time_t now);

/**
 * Appends the feedback due at `now` to b as RTCP packets: a generic NACK for the missing sequence numbers
 * (RFC 4585 §6.2.1) and a PLI (§6.3.1) when a key frame is needed; nothing when nothing is due. Gives up
 * packets that waited too long. Returns the number of RTCP packets appended, or OVL_ERR_LIMIT when b is full
 * (what did not fit is sent next time).
 */
int ovl_media_receiver_feedback(ovl_media_receiver_t *r, ovl_time_t now, ovl_wbuf_t *b);

/** When ovl_media_receiver_feedback has something to do (OVL_TIME_NEVER: nothing). */
ovl_time_t ovl_media_receiver_next_timeout(const ovl_media_receiver_t *r);

/** Notes the stream's sender report (for LSR/DLSR in our reports, RFC 3550 §6.4.1). */
void ovl_media_receiver_on_sr(ovl_media_receiver_t *r, const ovl_rtcp_sr_t *sr, ovl_time_t now);

/** Fills a report block about the stream for our RR/SR at `now`. OVL_ERR_AGAIN before its first packet. */
int ovl_media_receiver_report(ovl_media_receiver_t *r, ovl_time_t now, ovl_rtcp_rb_t *rb);

/** The stream's media SSRC. */
uint32_t ovl_media_receiver_ssrc(const ovl_media_receiver_t *r);

/** Copies the counters. */
void ovl_media_receiver_stats(const ovl_media_receiver_t *r, ovl_media_receiver_stats_t *out);

#endif
