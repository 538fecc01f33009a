/*
 * The routing layer's objects as its files share them; not part of the public API (route.h).
 *
 *   room ──owns──> participant ──owns──> producer (<= 3) ──lists──> consumer (one per subscriber)
 *                              ──owns──> consumer (one per other participant's producer)
 *
 * A consumer is owned by its subscriber and listed by its producer (back-refs both ways); when
 * the producer goes, the consumer stays (CLOSING) until the subscriber's SDP has retired its
 * section.
 */
#ifndef OVL_ROUTE_INT_H
#define OVL_ROUTE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/cursor.h"
#include "relay/proto/rtp.h"
#include "relay/proto/rtp_stats.h"
#include "relay/proto/sdp.h"
#include "relay/route/ext.h"
#include "relay/route/route.h"
#include "relay/route/rtx_buffer.h"
#include "relay/route/ssrc_map.h"
#include "relay/route/thin.h"
#include "relay/route/twcc.h"

#define OVL_ROUTE_RTCP_MTU    1200 /* bytes of plaintext RTCP per compound */
#define OVL_ROUTE_NACK_UP_MAX 64   /* sequence numbers remembered per producer for upstream NACK dedup */
#define OVL_ROUTE_NACK_UP_GAP OVL_MS(100)
#define OVL_ROUTE_KF_RETRY    OVL_SEC(1) /* a waiting consumer asks again after this */
#define OVL_ROUTE_MID_LEN     24
#define OVL_ROUTE_NAME_LEN    48

typedef struct ovl_route_producer ovl_route_producer_t;
typedef struct ovl_route_consumer ovl_route_consumer_t;

/* Keyframe requests to one producer's publisher (a small stage of its own, keyframe.c). */
typedef struct ovl_route_kf {
    bool ever_sent;
    ovl_time_t last_sent;
    bool pending;     /* a request waits for the rate-limit window to end */
    bool pending_fir; /* ... and a subscriber asked with FIR */
    bool answered;    /* a keyframe arrived after the last request */
    uint8_t fir_seq;  /* RFC 5104 §4.3.1.1 command sequence number, one per new request */
    uint64_t sent, absorbed;
} ovl_route_kf_t;

struct ovl_route_producer {
    ovl_route_participant_t *owner; /* back-ref */
    ovl_route_slot_t slot;
    bool video;
    bool live;     /* announced and consumed; the screen slot becomes live on its first packet */
    bool activate; /* first packet seen while not live: on_timeout makes it live */
    char mid[OVL_SDP_TOKEN_LEN];
    char cname[256];
    char stream_id[OVL_ROUTE_NAME_LEN], track_id[OVL_ROUTE_NAME_LEN];
    uint32_t ssrc, rtx_ssrc; /* 0: not known yet (learnt from the mid extension) */
    uint32_t clock;
    ovl_rtp_stats_t stats;
    ovl_rtp_unwrap_t unwrap;
    bool have_seq;
    int64_t ext_base; /* added to unwrapped sequence numbers: positive, and above the old SSRC's after a change */
    int64_t highest;  /* highest extended sequence number */
    bool have_sr;     /* the publisher's last sender report */
    uint64_t sr_ntp;
    uint32_t sr_rtp;
    ovl_time_t sr_at;
    bool have_last; /* the last packet in order: timestamp and arrival */
    uint32_t last_ts;
    ovl_time_t last_at;
    ovl_route_rtx_t *rtx; /* owned; video only */
    ovl_route_kf_t kf;
    struct {
        int64_t seq;
        ovl_time_t at;
    } nack_up[OVL_ROUTE_NACK_UP_MAX];
    size_t nack_up_next;
    uint32_t level_avg; /* smoothed loudness (127 - RFC 6464 level) * 256 */
    ovl_time_t level_at;
    ovl_route_consumer_t **consumers; /* owned array of borrowed consumers */
    size_t n_consumers, cap_consumers;
    uint64_t packets, octets;
};

typedef enum ovl_route_cstate {
    OVL_ROUTE_C_NEW,      /* to be offered to the subscriber */
    OVL_ROUTE_C_OFFERED,  /* in the outstanding offer */
    OVL_ROUTE_C_ACTIVE,   /* accepted: forwarding */
    OVL_ROUTE_C_CLOSING,  /* producer gone: to be retired in the next offer */
    OVL_ROUTE_C_RETIRING, /* retired in the outstanding offer */
    OVL_ROUTE_C_REFUSED,  /* the subscriber rejected its section: kept so it is not offered again */
} ovl_route_cstate_t;

struct ovl_route_consumer {
    ovl_route_participant_t *sub;   /* back-ref: the subscriber, owner */
    ovl_route_producer_t *producer; /* back-ref; NULL once the producer is gone */
    ovl_route_cstate_t state;
    ovl_route_slot_t slot;
    bool video;
    bool no_room; /* the subscriber's SDP had no room for it */
    bool reused;  /* its mid came from the subscriber's free list (given back on rollback) */
    char mid[OVL_ROUTE_MID_LEN];
    uint64_t publisher;
    uint32_t ssrc, rtx_ssrc; /* rtx_ssrc 0: the subscriber has no RTX for this kind */
    bool waiting_kf;         /* video: nothing goes out until a keyframe starts */
    bool resync;             /* the next packet forwarded re-bases sequence numbers and timestamps */
    bool started;            /* something was sent */
    ovl_time_t wait_since;
    ovl_thin_seq_t seq;   /* publisher -> subscriber sequence numbers, in segments (dropped frames leave no gap) */
    ovl_thin_gate_t gate; /* video: which frames go out at the subscriber's thinning level */
    uint32_t ts_off;
    uint16_t last_seq; /* highest sequence number sent */
    uint32_t last_ts;
    ovl_time_t last_at;
    uint16_t rtx_seq;
    uint32_t packets, octets;
    bool have_fir; /* the subscriber's last FIR command sequence number (RFC 5104 §4.3.1.2) */
    uint8_t fir_seq;
};

struct ovl_route_participant {
    ovl_route_room_t *room; /* back-ref */
    uint64_t id;
    ovl_route_sink_t sink;
    bool connected;
    bool negotiated;                                  /* the first offer was answered */
    ovl_route_caps_t caps[2];                         /* [0] audio, [1] video */
    ovl_route_producer_t *producers[OVL_ROUTE_SLOTS]; /* owned */
    ovl_route_consumer_t **consumers;                 /* owned */
    size_t n_consumers, cap_consumers;
    ovl_route_ssrc_map_t by_ssrc; /* consumer media and RTX SSRCs -> consumer */
    uint32_t rtcp_ssrc;           /* sender SSRC of the relay's RR, REMB, NACK, PLI, TWCC to it */
    ovl_route_twcc_t twcc;
    ovl_time_t next_report, next_twcc;
    bool has_remb;
    uint64_t remb_bps;   /* its downlink estimate (REMB it sent) */
    ovl_thin_ctl_t thin; /* its video thinning level (path, loss, ICE-TCP backlog) */
    bool camera_off;     /* it asked for no camera video (`receive` video:false) */
    ovl_time_t remb_at;
    ovl_sdp_t *local; /* owned: the relay's current local description */
    ovl_sdp_t *offer; /* owned: the outstanding relay offer, or NULL */
    bool dirty;       /* changes wait for the next offer */
    ovl_time_t offer_retry;
    unsigned next_mid;
    struct {
        char mid[OVL_ROUTE_MID_LEN];
        bool video;
    } * free_mids; /* owned: retired relay sections that may be refilled */
    size_t n_free_mids;
};

struct ovl_route_room {
    uint64_t id;
    size_t max_participants;
    uint64_t rng;
    ovl_time_t clock_mono;
    uint64_t clock_unix_us;
    uint64_t min_video_bps, max_bps;
    ovl_time_t keyframe_gap, report_every, twcc_every, speaker_every;
    size_t rtx_packets;
    char cname[64];
    ovl_route_event_cb_t on_event;
    void *ctx;
    ovl_route_participant_t **parts; /* owned */
    size_t n_parts;
    ovl_time_t next_timeout;
    bool has_speaker;
    uint64_t speaker;
    ovl_time_t speaker_at, speaker_eval;
    ovl_route_stats_t stats;
};

/* ---- room.c ---- */
void ovl_route_emit(ovl_route_room_t *room, ovl_route_event_t *ev);
/** Asks for an ovl_route_on_timeout call no later than t. */
void ovl_route_schedule(ovl_route_room_t *room, ovl_time_t t);
uint32_t ovl_route_rand32(ovl_route_room_t *room);
/** NTP time (RFC 3550 §4) of monotonic time now. */
uint64_t ovl_route_ntp(const ovl_route_room_t *room, ovl_time_t now);
/** A buffer from p's sink with an RTCP writer over it (capped at OVL_ROUTE_RTCP_MTU). OVL_ERR_NOMEM. */
int ovl_route_rtcp_begin(ovl_route_participant_t *p, ovl_route_buf_t *buf, ovl_wbuf_t *w);
/** Sends what was written (or gives the buffer back when nothing was). */
void ovl_route_rtcp_end(ovl_route_participant_t *p, ovl_route_buf_t *buf, ovl_wbuf_t *w);
/** A fresh SSRC: not 0, not used by p (producers, consumers, its RTCP SSRC). */
uint32_t ovl_route_new_ssrc(ovl_route_room_t *room, const ovl_route_participant_t *p);

/* ---- producer.c ---- */
int ovl_route_producer_new(ovl_route_participant_t *owner, ovl_route_slot_t slot, ovl_route_producer_t **out);
/** Detaches every consumer (they go CLOSING), emits TRACK_REMOVED when live, frees. */
void ovl_route_producer_free(ovl_route_producer_t *pr, bool emit);
/** Makes a producer live: its retransmission buffer, TRACK_ADDED. */
int ovl_route_producer_go_live(ovl_route_producer_t *pr);
int ovl_route_consumer_new(ovl_route_participant_t *sub, ovl_route_producer_t *pr, ovl_route_consumer_t **out);
/** Removes a consumer from its subscriber and producer and frees it. */
void ovl_route_consumer_free(ovl_route_consumer_t *c);
/** The producer went away: the consumer stops and waits to be retired. */
void ovl_route_consumer_detach(ovl_route_consumer_t *c);
/** The consumer (re)starts: video waits for a keyframe, which is asked for. */
void ovl_route_consumer_restart(ovl_route_consumer_t *c, ovl_time_t now);
ovl_route_producer_t *ovl_route_producer_by_ssrc(const ovl_route_participant_t *p, uint32_t ssrc, bool *is_rtx);

/* ---- keyframe.c ---- */
/** A subscriber (or the relay) wants a keyframe from pr: sent now or when the rate limit allows. */
void ovl_route_kf_request(ovl_route_producer_t *pr, bool fir, ovl_time_t now);
/** A keyframe started arriving from pr. */
void ovl_route_kf_seen(ovl_route_producer_t *pr);
/** Pending requests and retries for waiting consumers. */
void ovl_route_kf_run(ovl_route_producer_t *pr, ovl_time_t now);

/* ---- forward.c ---- */
/** The thinning level for consumer c at now; *by_receiver when PAUSED because its subscriber asked. */
ovl_thin_level_t ovl_route_consumer_level(const ovl_route_consumer_t *c, ovl_time_t now, bool *by_receiver);
/** Writes pkt for consumer c (as RTX when rtx) into a sink buffer and sends it. 0 or an error. */
int ovl_route_consumer_send(ovl_route_consumer_t *c, const ovl_route_pkt_t *pkt, bool rtx, ovl_time_t now);

/** The extended publisher sequence number of 16-bit `seq`, nearest the highest received. */
static inline int64_t ovl_route_ext_of(const ovl_route_producer_t *pr, uint16_t seq)
{
    return pr->highest + (int16_t)(uint16_t)(seq - (uint16_t)pr->highest);
}

/* ---- reports.c ---- */
void ovl_route_reports_run(ovl_route_participant_t *p, ovl_time_t now);
void ovl_route_twcc_run(ovl_route_participant_t *p, ovl_time_t now);
/** NACKs seqs (extended) upstream to pr's publisher, skipping those asked for recently. */
void ovl_route_nack_upstream(ovl_route_producer_t *pr, const int64_t *seqs, size_t n, ovl_time_t now);

/* ---- negotiation.c ---- */
/** Creates missing consumers and sends offers to participants with changes. */
void ovl_route_negotiate(ovl_route_room_t *room, ovl_time_t now);
void ovl_route_negotiation_free(ovl_route_participant_t *p);

/* ---- speaker.c ---- */
void ovl_route_speaker_level(ovl_route_producer_t *pr, uint8_t level, ovl_time_t now);
void ovl_route_speaker_run(ovl_route_room_t *room, ovl_time_t now);

#endif
