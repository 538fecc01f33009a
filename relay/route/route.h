/*
 * The SFU's routing layer, sans-IO: rooms, participants, producers (incoming tracks) and consumers
 * (outgoing tracks), in mediasoup's vocabulary.
 *
 *   room         one meeting's media on one worker; owns its participants. No globals: two rooms
 *                never share anything.
 *   participant  one peer connection (one BUNDLEd transport). Publishes up to three producers
 *                (audio, camera, screen) and receives one consumer per other participant's
 *                producer.
 *   producer     a track a participant sends: SSRC (+ RTX SSRC), receive statistics, a
 *                retransmission buffer (video), keyframe-request and upstream-NACK state.
 *   consumer     a track the relay sends to one subscriber: its own SSRC, RTX SSRC, payload
 *                types, extension ids, sequence numbers and timestamps.
 *
 * What goes in: decrypted RTP and RTCP from a participant's transport (ovl_route_on_rtp,
 * ovl_route_on_rtcp), SDP from signaling (ovl_route_participant_offer/_answer), transport state
 * (ovl_route_participant_set_connected) and time (every call takes `now`; ovl_route_on_timeout).
 * What comes out: plaintext RTP and RTCP through each participant's sink (the transport protects
 * it in place and sends it), and events (SDP to send, tracks added and removed, active speaker,
 * keyframe requests) through the room's callback. The layer never reads a clock, opens a socket
 * or allocates per packet: every packet it sends is written into a buffer the sink lends it.
 *
 * Threads: a room belongs to one media worker; nothing here is thread-safe or needs to be.
 */
#ifndef OVL_ROUTE_H
#define OVL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/sdp.h"
#include "relay/route/thin.h"

typedef struct ovl_route_room ovl_route_room_t;
typedef struct ovl_route_participant ovl_route_participant_t;

/* What a participant may publish: one of each. */
typedef enum ovl_route_slot {
    OVL_ROUTE_SLOT_AUDIO = 0,
    OVL_ROUTE_SLOT_CAMERA = 1,
    OVL_ROUTE_SLOT_SCREEN = 2,
    OVL_ROUTE_SLOTS = 3,
} ovl_route_slot_t;

/* ---- The sink: how the room hands packets to a participant's transport ---- */

/*
 * One packet buffer lent by the sink. `data` has `cap` writable bytes, SRTP tailroom included
 * (cap must leave OVL_SRTP_MAX_OVERHEAD bytes after the longest packet the room writes, which is
 * at most OVL_ROUTE_MAX_PACKET). `handle` is the sink's own (in production: the ovl_pkt_t of the
 * worker's pool that holds `data`); the room never looks at it.
 */
typedef struct ovl_route_buf {
    uint8_t *data;
    size_t cap;
    void *handle;
} ovl_route_buf_t;

#define OVL_ROUTE_MAX_PACKET 1500 /* longest RTP or RTCP packet the room writes */

/*
 * Given at ovl_route_participant_add; every function is called synchronously from inside a room
 * call and must not call back into the room.
 *  - get_buffer: lends a free buffer; 0, or a negative error when none is free (the room drops
 *    what it was going to write and counts it).
 *  - send_rtp / send_rtcp: the filled buffer (len bytes of plaintext at data) goes to the
 *    participant; ownership of the buffer passes to the sink, which protects in place (SRTP/SRTCP)
 *    and queues it, or drops it (transport not ready). is_audio lets the transport prioritise.
 *  - put_buffer: gives back a lent buffer the room did not use.
 */
typedef struct ovl_route_sink {
    int (*get_buffer)(void *ctx, ovl_route_buf_t *out);
    void (*send_rtp)(void *ctx, ovl_route_buf_t *buf, size_t len, bool is_audio);
    void (*send_rtcp)(void *ctx, ovl_route_buf_t *buf, size_t len);
    void (*put_buffer)(void *ctx, ovl_route_buf_t *buf);
    void *ctx; /* borrowed; the participant's transport */
} ovl_route_sink_t;

/* ---- Events up ---- */

typedef enum ovl_route_event_type {
    OVL_ROUTE_EV_SDP,              /* u.sdp: send this offer or answer to `participant` */
    OVL_ROUTE_EV_TRACK_ADDED,      /* u.track: `participant` now publishes this track */
    OVL_ROUTE_EV_TRACK_REMOVED,    /* u.track: that track is gone (participant left) */
    OVL_ROUTE_EV_ACTIVE_SPEAKER,   /* u.speaker: `participant` is the new active speaker */
    OVL_ROUTE_EV_KEYFRAME_REQUEST, /* u.keyframe: a keyframe request went to publisher `participant` */
} ovl_route_event_type_t;

typedef struct ovl_route_event {
    ovl_route_event_type_t type;
    uint64_t room;        /* the room's id (config) */
    uint64_t participant; /* the participant concerned */
    union {
        struct {
            const char *type; /* "offer" or "answer" */
            const char *text; /* borrowed for the callback; NUL-terminated SDP */
            size_t len;
        } sdp;
        struct {
            ovl_route_slot_t slot;
            const char *stream_id; /* a=msid stream id subscribers see ("ovl-<participant>") */
            const char *track_id;  /* a=msid track id ("ovl-<participant>-audio|camera|screen") */
        } track;
        struct {
            bool has_previous;
            uint64_t previous;
            uint8_t level; /* smoothed RFC 6464 level of the new speaker, -dBov (0 loudest) */
        } speaker;
        struct {
            ovl_route_slot_t slot;
            bool fir;          /* sent as FIR (RFC 5104), else PLI (RFC 4585) */
            uint64_t sent;     /* requests sent to this producer so far */
            uint64_t absorbed; /* requests merged into an earlier one by the rate limit */
        } keyframe;
    } u;
} ovl_route_event_t;

/** Event callback: everything in *ev is borrowed for the call; it must not call into the room. */
typedef void (*ovl_route_event_cb_t)(void *ctx, const ovl_route_event_t *ev);

/* ---- The room ---- */

typedef struct ovl_route_room_config {
    uint64_t id;             /* the meeting; echoed in events */
    size_t max_participants; /* 0: 50; at most 256 */
    uint64_t seed;           /* randomness for SSRCs, first sequence numbers and timestamps */
    /* Wall-clock anchor for RTCP NTP times: unix_us is the Unix time (µs) at monotonic time mono. */
    ovl_time_t clock_mono;
    uint64_t clock_unix_us;
    uint64_t min_video_bps;   /* REMB floor per video stream; 0: 100 kbit/s */
    uint64_t max_bps;         /* REMB ceiling per publisher; 0: 2.5 Mbit/s */
    ovl_time_t keyframe_gap;  /* least time between keyframe requests to one producer; 0: 400 ms */
    ovl_time_t report_every;  /* RR/SR/REMB period; 0: 1 s */
    ovl_time_t twcc_every;    /* transport-cc feedback period; 0: 100 ms */
    ovl_time_t speaker_every; /* least time between active speaker changes; 0: 1 s */
    size_t rtx_packets;       /* video retransmission buffer, a power of two 16..4096; 0: 512 */
    const char *cname;        /* the relay's RTCP CNAME in reports to publishers; NULL: "overleg" */
    ovl_route_event_cb_t on_event;
    void *ctx; /* borrowed, passed to on_event */
} ovl_route_room_config_t;

/** Creates an empty room (the config is copied; cname is copied). OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_route_room_new(const ovl_route_room_config_t *cfg, ovl_route_room_t **out);

/** Frees the room and every participant in it, without events. NULL is fine. */
void ovl_route_room_free(ovl_route_room_t *room);

/** Moves the NTP anchor (the worker re-reads both clocks now and then). */
void ovl_route_room_set_clock(ovl_route_room_t *room, ovl_time_t mono, uint64_t unix_us);

/* ---- Participants ---- */

/**
 * Adds a participant with the caller's id (unique in the room) and its sink (copied). It sends
 * and receives nothing until its first offer is answered. Out: *out (owned by the room).
 * OVL_ERR_LIMIT (room full), OVL_ERR_STATE (id taken), OVL_ERR_ARG, OVL_ERR_NOMEM.
 */
int ovl_route_participant_add(ovl_route_room_t *room, uint64_t id, const ovl_route_sink_t *sink, ovl_time_t now,
                              ovl_route_participant_t **out);

/**
 * Removes a participant: its consumers go, its producers go (TRACK_REMOVED events), and every
 * participant that received them gets a relay offer retiring those sections. Nobody else's
 * transport is touched. `p` is freed.
 */
void ovl_route_participant_remove(ovl_route_room_t *room, ovl_route_participant_t *p, ovl_time_t now);

/** The participant with this id, or NULL. */
ovl_route_participant_t *ovl_route_participant_find(const ovl_route_room_t *room, uint64_t id);

/** The participant's id. */
uint64_t ovl_route_participant_id(const ovl_route_participant_t *p);

/**
 * The transport's state: connected once DTLS-SRTP is up (media may flow), not connected when it
 * is lost. Connecting arms the periodic RTCP and, for video the participant receives, asks the
 * publishers for a keyframe so its decoders start clean.
 */
void ovl_route_participant_set_connected(ovl_route_participant_t *p, bool connected, ovl_time_t now);

/**
 * The client's first offer (SDP text, len bytes). The room parses it, creates the participant's
 * producers from its sending sections (SSRC from a=ssrc, RTX SSRC from a=ssrc-group:FID, codecs,
 * payload types and extension ids from that offer), builds the answer with `local` (the relay's
 * ICE credentials, DTLS fingerprint, candidates; borrowed) and emits it (EV_SDP "answer"). Then
 * the relay is the only offerer: other participants get offers for the new tracks, this one an
 * offer for theirs. OVL_ERR_STATE (not the first offer), OVL_ERR_PARSE / OVL_ERR_LIMIT (bad SDP),
 * OVL_ERR_UNSUPPORTED (nothing the relay can take), OVL_ERR_NOMEM. On error nothing changed.
 */
int ovl_route_participant_offer(ovl_route_participant_t *p, const char *sdp, size_t len, const ovl_sdp_local_t *local,
                                ovl_time_t now);

/**
 * The client's answer to the relay's outstanding offer. Sections it accepted start sending
 * (video after a keyframe); changes that came in meanwhile go out in the next offer.
 * OVL_ERR_STATE (no offer outstanding), OVL_ERR_PARSE (the offer is then rolled back and offered
 * again after a pause).
 */
int ovl_route_participant_answer(ovl_route_participant_t *p, const char *sdp, size_t len, ovl_time_t now);

/* ---- Thin paths (thin.h) ---- */

/**
 * The participant's selected path as the transport knows it (ICE-TCP, TURN or UDP): on TCP and
 * TURN the video it receives is thinned to at least OVL_THIN_BASE and follows the send backlog.
 */
void ovl_route_participant_set_path(ovl_route_participant_t *p, ovl_thin_path_t path);

/**
 * The state of the participant's ICE-TCP send queue (ovl_tcp_conn_stats): bytes waiting now and
 * the video frames it dropped so far. Call it every few hundred ms while the path is TCP.
 */
void ovl_route_participant_tcp_backlog(ovl_route_participant_t *p, size_t queued_bytes, uint64_t video_drops,
                                       ovl_time_t now);

/**
 * The participant's wish (`receive` message): video false stops every camera video it receives
 * (screen shares keep flowing); true resumes them, each with a key frame that is asked for.
 */
void ovl_route_participant_receive_video(ovl_route_participant_t *p, bool video, ovl_time_t now);

/** The participant's thinning level from its path and congestion at `now` (its wish not included). */
ovl_thin_level_t ovl_route_participant_thin_level(const ovl_route_participant_t *p, ovl_time_t now);

/* ---- Media ---- */

/**
 * One decrypted RTP packet from participant p (borrowed; not modified). Forwards it to every
 * consumer of its producer. Returns 0, or a negative error when the packet was dropped
 * (OVL_ERR_PARSE malformed, OVL_ERR_NOTFOUND unknown SSRC or payload type, OVL_ERR_REPLAY
 * duplicate); dropping is always safe and always counted.
 */
int ovl_route_on_rtp(ovl_route_room_t *room, ovl_route_participant_t *p, const uint8_t *buf, size_t len,
                     ovl_time_t now);

/**
 * One decrypted RTCP compound from participant p (borrowed). Sender reports and REMB are
 * recorded; PLI/FIR become keyframe requests to the publisher; NACKs are answered from the
 * retransmission buffer or sent upstream. Returns 0 or OVL_ERR_PARSE (broken framing; what was
 * before the break was handled).
 */
int ovl_route_on_rtcp(ovl_route_room_t *room, ovl_route_participant_t *p, const uint8_t *buf, size_t len,
                      ovl_time_t now);

/** When ovl_route_on_timeout wants to run next (OVL_TIME_NEVER: nothing scheduled). */
ovl_time_t ovl_route_next_timeout(const ovl_route_room_t *room);

/** Runs what is due at `now`: RTCP reports, transport-cc feedback, keyframe retries, speaker. */
void ovl_route_on_timeout(ovl_route_room_t *room, ovl_time_t now);

/* ---- Counters ---- */

typedef struct ovl_route_stats {
    uint64_t rtp_in;                        /* RTP packets given to ovl_route_on_rtp */
    uint64_t rtp_dropped;                   /* of those, dropped (malformed, unknown SSRC/PT, duplicate) */
    uint64_t rtp_out;                       /* RTP packets handed to sinks (forwarded and retransmitted) */
    uint64_t rtx_out;                       /* of those, RTX retransmissions answering NACKs */
    uint64_t rtcp_in;                       /* RTCP compounds received */
    uint64_t rtcp_out;                      /* RTCP compounds handed to sinks */
    uint64_t nack_seqs_in;                  /* sequence numbers NACKed by subscribers */
    uint64_t nack_seqs_up;                  /* sequence numbers NACKed upstream to publishers */
    uint64_t nack_unanswered;               /* NACKed numbers neither in the buffer nor requestable (no RTX, too old) */
    uint64_t keyframe_in;                   /* PLI/FIR received from subscribers */
    uint64_t keyframe_up;                   /* PLI/FIR sent to publishers */
    uint64_t no_buffer;                     /* packets not written because the sink had no buffer */
    uint64_t offers;                        /* relay offers emitted */
    uint64_t thin_frames[OVL_THIN_REASONS]; /* video frames not forwarded to a subscriber, per reason */
    uint64_t thin_raises;                   /* times congestion raised a subscriber's thinning level */
} ovl_route_stats_t;

/** Copies the room's counters. */
void ovl_route_room_stats(const ovl_route_room_t *room, ovl_route_stats_t *out);

#endif
