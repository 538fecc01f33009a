/* The media session's state, shared by session.c (negotiation, remotes, the end) and session_rtp.c (media). */
#ifndef OVL_PEER_SESSION_INT_H
#define OVL_PEER_SESSION_INT_H

#include "cmd/overleg-peer/session.h"
#include "codecs/audio.h"
#include "codecs/video.h"
#include "relay/proto/sdp_client.h"
#include "relay/transport/transport.h"

enum { SLOT_AUDIO = 0, SLOT_CAMERA = 1, SLOT_SCREEN = 2, SLOTS = 3 };

#define OVL_PEER_NACK_EXPAND 1024 /* sequence numbers one received NACK may ask for */
#define OVL_PEER_UNKNOWN     16   /* distinct unknown SSRCs remembered (the rest count as never named) */

/* One track the relay sends us (a section of a relay offer). */
typedef struct peer_track {
    char mid[OVL_SDP_TOKEN_LEN];
    char track[OVL_SDP_TOKEN_LEN];
    size_t remote; /* index in remotes */
    int slot;      /* SLOT_* */
    bool active;   /* still offered by the relay (SSRCs map to it) */
    uint32_t ssrc, rtx_ssrc;
    ovl_media_receiver_t *rx; /* owned */
    ovl_time_t added_at;
    uint64_t dropped; /* by --loss */
} peer_track_t;

typedef struct peer_remote {
    char id[OVL_PEER_ID_LEN];
    char name[OVL_PEER_ID_LEN];
    bool left;
    char reason[OVL_PEER_ID_LEN];
    ovl_time_t seen_at, left_at;
    int tracks[SLOTS]; /* latest track per slot, index in tracks, or -1 */
} peer_remote_t;

struct ovl_peer_session {
    ovl_peer_session_cfg_t cfg;
    const ovl_peer_opts_t *o;
    /* our side */
    char ufrag[9], pwd[25], cname[17], stream[17];
    uint32_t audio_ssrc, video_ssrc, rtx_ssrc;
    uint64_t sess_id, sess_version;
    /* the relay's side */
    bool offered, answered;
    ovl_sdp_client_remote_t remote;
    ovl_sdp_client_send_t send;
    ovl_transport_t *t; /* owned */
    bool connected;
    /* ICE-TCP (--transport tcp): the relay's passive candidate we connect to, and the connection's life */
    ovl_addr_t tcp_addr;
    bool tcp_wait, tcp_up, cut;
    ovl_time_t tcp_asked_at, tcp_up_at, cut_at;
    bool tx_video;      /* the RTP being sent now is video (ICE-TCP send priority) */
    ovl_ice_path_t sel; /* the pair media went over when the transport connected (for the report) */
    bool has_sel;
    /* sending */
    ovl_media_sender_t *asend, *vsend; /* owned */
    ovl_video_enc_t *venc;             /* owned */
    ovl_video_image_t img;             /* owned */
    ovl_audio_enc_t *aenc;             /* owned */
    ovl_audio_tone_t tone;
    uint32_t ats0, vts0, aframes, vframes;
    bool force_key;
    ovl_time_t media_at, next_audio, next_video, next_rtcp;
    /* receiving */
    peer_remote_t remotes[OVL_PEER_MAX_REMOTES];
    size_t n_remotes;
    peer_track_t tracks[OVL_PEER_MAX_TRACKS];
    size_t n_tracks;
    uint64_t prng;
    /* times and the end */
    char you[OVL_PEER_ID_LEN];
    ovl_time_t started_at, joined_at, answered_at, connected_at, complete_at, ended_at;
    bool done;
    int code;
    char reason[OVL_PEER_REASON_LEN];
    /* counters */
    struct {
        uint32_t ssrc;
        uint64_t packets;
    } unknown[OVL_PEER_UNKNOWN]; /* packets of SSRCs no answered relay offer named (yet) */
    size_t n_unknown;
    uint64_t dropped, unknown_ssrc, plis_received, firs_received, remb_bps, rtcp_sent, rtcp_received;
    int64_t rtt_us;
    uint8_t buf[OVL_MEDIA_BUF]; /* RTCP out */
    /* scratch space (no statics: several sessions may run in one process, each on its own thread) */
    ovl_sdp_client_track_t offered_tracks[OVL_SDP_CLIENT_MAX_TRACKS];
    uint16_t nacked[OVL_PEER_NACK_EXPAND];
};

/* session.c */
void ovl_peer_finish(ovl_peer_session_t *s, int code, const char *reason, ovl_time_t now);
void ovl_peer_check_end(ovl_peer_session_t *s, ovl_time_t now);
ovl_time_t ovl_peer_end_deadline(const ovl_peer_session_t *s);

/* session_rtp.c */
int ovl_peer_rtp_start(ovl_peer_session_t *s, ovl_time_t now);
void ovl_peer_rtp_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now);
void ovl_peer_rtp_on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now);
void ovl_peer_rtp_on_timeout(ovl_peer_session_t *s, ovl_time_t now);
ovl_time_t ovl_peer_rtp_next_timeout(const ovl_peer_session_t *s);
int ovl_peer_rtp_add_track(ovl_peer_session_t *s, const ovl_sdp_client_track_t *t, size_t remote, ovl_time_t now);
void ovl_peer_rtp_free(ovl_peer_session_t *s);

#endif
