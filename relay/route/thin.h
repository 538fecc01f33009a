/*
 * Video thinning for one receiver on a thin path (issue 6, "Thin and slow links"), sans-IO.
 *
 * Three small pieces, each a plain struct the routing layer embeds (no allocation, no clock):
 *
 *   ovl_thin_ctl_t   per receiver: the thinning level from its path (UDP, TCP, TURN) and its
 *                    congestion signals (RTCP fraction lost, ICE-TCP send backlog and dropped
 *                    video frames). Up at once on trouble, down one level per OVL_THIN_CALM of
 *                    quiet (hysteresis).
 *   ovl_thin_gate_t  per video consumer: decides per VP8 frame (codecs/vp8.h descriptor) whether
 *                    it goes out, so that the receiver's decoder never sees a frame whose
 *                    reference was dropped.
 *   ovl_thin_seq_t   per consumer: the sequence-number map, publisher -> receiver, in segments, so
 *                    that dropped frames leave no gap (no NACK storm) and NACKs for packets sent
 *                    before a drop still find the right packet.
 *
 * Levels (the gate applies max(receiver level, receiver's wish) per consumer):
 *
 *   ALL     every frame.
 *   BASE    temporal base layer only: frames with TID > 0 and frames marked non-reference (N) are
 *           dropped; both are safe to drop (nothing in the base layer references them). A stream
 *           without temporal layers passes unchanged. Going back to ALL, TID > 0 frames resume at a
 *           layer-sync (Y) frame or a key frame.
 *   SLIDES  key frames only, one asked for every OVL_THIN_SLIDE_EVERY: a still picture that
 *           refreshes. Dropping a VP8 delta frame breaks the reference chain, so after any dropped
 *           delta only a key frame may pass.
 *   PAUSED  nothing; the receiver keeps showing the last frame. Leaving it waits for a key frame,
 *           which is asked for at once.
 *
 * Picture ID and TL0PICIDX are left as the publisher wrote them: frames are only ever dropped
 * where libwebrtc's VP8 reference finder tolerates a gap (TID > 0 frames, which it tracks per
 * TL0PICIDX; or everything up to a key frame, which needs no reference). Sequence numbers are
 * rewritten (ovl_thin_seq_t); timestamps are not (time really passed).
 */
#ifndef OVL_ROUTE_THIN_H
#define OVL_ROUTE_THIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

typedef enum ovl_thin_level {
    OVL_THIN_ALL = 0,
    OVL_THIN_BASE,
    OVL_THIN_SLIDES,
    OVL_THIN_PAUSED,
    OVL_THIN_LEVELS
} ovl_thin_level_t;

/* The receiver's selected path. */
typedef enum ovl_thin_path {
    OVL_THIN_PATH_UDP = 0,
    OVL_THIN_PATH_TCP, /* ICE-TCP to the relay */
    OVL_THIN_PATH_TURN /* relayed through TURN (over TCP or TLS) */
} ovl_thin_path_t;

/* Why a video frame was not forwarded (one counter each). */
typedef enum ovl_thin_reason {
    OVL_THIN_R_LAYER = 0, /* TID > 0 or non-reference frame at level BASE (or waiting for a layer sync) */
    OVL_THIN_R_SLIDES,    /* delta frame at level SLIDES */
    OVL_THIN_R_PAUSED,    /* level PAUSED from congestion */
    OVL_THIN_R_RECEIVER,  /* the receiver asked for no camera video (`receive`) */
    OVL_THIN_R_KEYFRAME,  /* waiting for a key frame after a dropped reference frame */
    OVL_THIN_REASONS
} ovl_thin_reason_t;

#define OVL_THIN_CALM        OVL_SEC(4) /* quiet time before the level comes down one step */
#define OVL_THIN_SLIDE_EVERY OVL_SEC(3) /* key frame requests at level SLIDES */
#define OVL_THIN_KF_EVERY    OVL_SEC(1) /* key frame requests while waiting for one otherwise */
#define OVL_THIN_SEGMENTS    4          /* sequence-number segments remembered for NACKs */

/* Thresholds: fraction lost (RFC 3550 §6.4.1, in 1/256) and ICE-TCP send backlog (bytes). */
#define OVL_THIN_LOSS_BASE      26 /* ~10 % on UDP */
#define OVL_THIN_LOSS_SLIDES    64 /* 25 % on UDP */
#define OVL_THIN_TCP_LOSS_BASE  5  /* ~2 % on TCP/TURN: loss there means a queue already dropped */
#define OVL_THIN_TCP_BACKLOG    (32u * 1024u)
#define OVL_THIN_TCP_BACKLOG_HI (96u * 1024u)

/* ---- the level controller, per receiver ---- */

typedef struct ovl_thin_ctl {
    ovl_thin_path_t path;
    ovl_thin_level_t raised; /* level set by the last trouble */
    ovl_time_t trouble_at;   /* when */
    bool have_tcp;
    uint64_t tcp_drops; /* last video-drop count seen */
    uint64_t raises;    /* times trouble raised the level */
} ovl_thin_ctl_t;

/** Clears the controller: UDP, level ALL. */
void ovl_thin_ctl_init(ovl_thin_ctl_t *ctl);

/** The receiver's selected path changed. TCP and TURN never go below BASE and react to backlog. */
void ovl_thin_ctl_set_path(ovl_thin_ctl_t *ctl, ovl_thin_path_t path);

/** A receiver report about video the relay sends this receiver: fraction lost (1/256). */
void ovl_thin_ctl_loss(ovl_thin_ctl_t *ctl, uint8_t fraction_lost, ovl_time_t now);

/**
 * ICE-TCP send-queue state of the receiver's connection (tcp_conn.h): bytes waiting now, and the
 * total of video frames the queue has dropped so far (a rise raises the level one step).
 */
void ovl_thin_ctl_tcp(ovl_thin_ctl_t *ctl, size_t queued_bytes, uint64_t video_drops, ovl_time_t now);

/** The level at `now`: the raised level, one step lower per OVL_THIN_CALM since the last trouble. Pure. */
ovl_thin_level_t ovl_thin_ctl_level(const ovl_thin_ctl_t *ctl, ovl_time_t now);

/* ---- the sequence-number map, per consumer ---- */

/*
 * Segments, newest first: publisher extended numbers [start, end] go out as (uint16)(ext + off).
 * Between one segment's end and the next one's start lie dropped frames: no output number.
 */
typedef struct ovl_thin_seq {
    struct {
        int64_t start, end; /* end: highest number forwarded (start - 1 before the first) */
        uint16_t off;
    } seg[OVL_THIN_SEGMENTS];
    size_t n;
    bool gap; /* frames were dropped after seg[0].end: seg[0] takes nothing newer */
} ovl_thin_seq_t;

/** Starts over (consumer (re)start): the first packet, publisher number ext, goes out as `out`. */
void ovl_thin_seq_reset(ovl_thin_seq_t *m, int64_t ext, uint16_t out);

/** A new segment from ext, numbered right after the last number sent (no gap seen). No-op before a reset. */
void ovl_thin_seq_rebase(ovl_thin_seq_t *m, int64_t ext);

/** ext was forwarded. */
void ovl_thin_seq_sent(ovl_thin_seq_t *m, int64_t ext);

/** The output number of publisher number ext; false when it has none (dropped, or before the map). */
bool ovl_thin_seq_out(const ovl_thin_seq_t *m, int64_t ext, uint16_t *out);

/**
 * The publisher number of output number `out` (a NACK) that was sent, given the publisher's
 * highest extended number (16-bit numbers are taken nearest to it); false when none was sent.
 */
bool ovl_thin_seq_in(const ovl_thin_seq_t *m, uint16_t out, int64_t highest, int64_t *ext);

/* ---- the frame gate, per video consumer ---- */

/* What the gate needs of one packet (from the RTP header and the VP8 descriptor). */
typedef struct ovl_thin_pkt {
    int64_t ext_seq; /* publisher extended sequence number */
    uint32_t ts;
    bool frame_start;   /* S=1, PID=0 */
    bool keyframe;      /* frame_start and P=0 */
    bool has_tid;       /* the descriptor carries a temporal layer index */
    uint8_t tid;        /* TID */
    bool layer_sync;    /* Y */
    bool non_reference; /* N */
} ovl_thin_pkt_t;

typedef struct ovl_thin_verdict {
    bool forward;
    bool new_frame;        /* the packet started a frame (as first seen) */
    bool want_keyframe;    /* ask the publisher for a key frame now (already rate-limited) */
    ovl_thin_reason_t why; /* when !forward */
    bool frame_dropped;    /* a new frame was dropped (count it under `why`) */
} ovl_thin_verdict_t;

typedef struct ovl_thin_gate {
    bool have_frame;
    uint32_t frame_ts; /* the newest frame seen, and its decision */
    bool frame_fwd;
    ovl_thin_reason_t frame_why;        /* why it was dropped */
    ovl_thin_level_t level;             /* level applied to the newest frame */
    bool need_key;                      /* a reference frame was dropped: only a key frame may pass */
    bool need_sync;                     /* TID > 0 frames were dropped: they resume at a layer sync */
    int64_t drop_hi;                    /* highest publisher number dropped from the newest frames */
    ovl_time_t next_kf;                 /* want_keyframe not before this */
    uint64_t dropped[OVL_THIN_REASONS]; /* frames */
} ovl_thin_gate_t;

/** Clears the gate (forwards everything until told otherwise). */
void ovl_thin_gate_init(ovl_thin_gate_t *g);

/**
 * The stream starts over (the consumer re-bases, e.g. the publisher changed SSRC and its
 * timestamps jump anywhere): forgets the newest frame so the next packet starts one. Counters stay.
 */
void ovl_thin_gate_restart(ovl_thin_gate_t *g);

/**
 * One video packet for this consumer at `level` (by_receiver: PAUSED because the receiver asked,
 * for the reason). Decides per frame (a new RTP timestamp starts one), keeps `m` in step: a
 * forwarded packet after dropped frames starts a new segment, so the receiver sees no gap.
 * *v is cleared on entry. A key frame always passes unless PAUSED.
 */
void ovl_thin_gate_packet(ovl_thin_gate_t *g, ovl_thin_seq_t *m, ovl_thin_level_t level, bool by_receiver,
                          const ovl_thin_pkt_t *pkt, ovl_time_t now, ovl_thin_verdict_t *v);

/** Stable names: "all", "base", "slides", "paused". */
const char *ovl_thin_level_name(ovl_thin_level_t level);

/** Stable metric names: "layer", "slides", "paused", "receiver", "keyframe". */
const char *ovl_thin_reason_name(ovl_thin_reason_t why);

#endif
