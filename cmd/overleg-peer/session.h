/*
 * The peer's media session, without sockets or a clock of its own (the media thread, media.c, gives it
 * datagrams, messages and `now`, and sends what it asks to): SDP with the relay (relay/proto/sdp_client.h),
 * the WebRTC transport in its client role, one sender per own track, one receiver per remote track, RTCP, the
 * simulated loss, and when to stop.
 *
 *   JOINED            -> our offer (SEND_OFFER)
 *   ANSWER            -> transport created towards the relay's UDP candidates (or, with --transport tcp, once
 *                        the connection to its passive ICE-TCP candidate is up); ICE, DTLS, then CONNECTED:
 *                        audio every 20 ms and video every frame interval start, RTCP every second
 *   OFFER             -> receivers for the tracks it adds (SSRC -> publisher), our answer (SEND_ANSWER)
 *   PARTICIPANT/LEFT  -> names and departures for the report
 *   the end           -> K=0: after the duration; K>0: once K remotes decoded (audio and video) and the
 *                        duration passed, plus `linger`; or, short of K, `wait_more` after the duration.
 *                        Then DONE is posted and the report is final.
 */
#ifndef OVL_PEER_SESSION_H
#define OVL_PEER_SESSION_H

#include "cmd/overleg-peer/peer.h"
#include "relay/proto/addr.h"

typedef struct ovl_peer_session ovl_peer_session_t;

typedef struct ovl_peer_session_cfg {
    const ovl_peer_opts_t *opts; /* borrowed; outlives the session */
    const ovl_dtls_cert_t *cert; /* borrowed */
    uint64_t path_v4, path_v6;   /* path ids of the IPv4 and IPv6 sockets; 0 when there is none */
    uint64_t path_tcp;           /* path id of the ICE-TCP connection (opts->tcp) */
    ovl_time_t clock_mono;       /* NTP anchor for sender reports: unix_us is the wall time at clock_mono */
    uint64_t clock_unix_us;
    /* A datagram to send on path_id to `to` (data valid during the call); `video`: video RTP, which may wait
     * behind everything else on ICE-TCP. */
    void (*send)(void *ctx, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len, bool video);
    /* ICE-TCP (opts->tcp): start connecting to the relay's passive candidate `to` (RFC 6544 active side), without
     * blocking; the media thread then calls ovl_peer_session_on_tcp. 0 or an OVL_ERR_*. */
    int (*tcp_connect)(void *ctx, const ovl_addr_t *to);
    /* --cut-after: close the ICE-TCP connection now, abruptly, without a word to the relay. */
    void (*tcp_cut)(void *ctx);
    /* A message for the signaling thread; msg->sdp is handed over. */
    void (*post)(void *ctx, ovl_peer_msg_t *msg);
    void *ctx;
} ovl_peer_session_cfg_t;

/** Creates a session (encoders, ICE credentials, SSRCs). OVL_ERR_ARG, OVL_ERR_NOMEM, OVL_ERR_UNSUPPORTED. */
int ovl_peer_session_new(const ovl_peer_session_cfg_t *cfg, ovl_time_t now, ovl_peer_session_t **out);

/** Frees it (NULL is fine). */
void ovl_peer_session_free(ovl_peer_session_t *s);

/** A message from the signaling thread (takes msg->sdp). */
void ovl_peer_session_on_msg(ovl_peer_session_t *s, ovl_peer_msg_t *msg, ovl_time_t now);

/** A datagram received on path_id from `from` (buf is modified: SRTP is decrypted in place). */
void ovl_peer_session_on_datagram(ovl_peer_session_t *s, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf,
                                  size_t len, ovl_time_t now);

/**
 * ICE-TCP: the connection to the relay came up (`up`), could not be made, or closed (`reason`, one phrase). Up:
 * ICE starts over it. Not made: the session ends (media failed). Closed under a running transport: the
 * transport loses its path (ovl_transport_path_closed) and the session ends, unless --cut-after closed it.
 */
void ovl_peer_session_on_tcp(ovl_peer_session_t *s, bool up, const char *reason, ovl_time_t now);

/** When ovl_peer_session_on_timeout wants to run (OVL_TIME_NEVER when done). */
ovl_time_t ovl_peer_session_next_timeout(const ovl_peer_session_t *s);

/** Runs what is due at `now`: transport timers, frames to encode and send, RTCP, feedback, the end. */
void ovl_peer_session_on_timeout(ovl_peer_session_t *s, ovl_time_t now);

/** Ends the session now with this code and reason (DONE is posted); a no-op once done. code < 0: decide
 * from what was decoded (an interruption). */
void ovl_peer_session_stop(ovl_peer_session_t *s, int code, const char *reason, ovl_time_t now);

/** True once DONE was posted. */
bool ovl_peer_session_done(const ovl_peer_session_t *s);

/** Fills the report (at any time; final once done). */
void ovl_peer_session_report(const ovl_peer_session_t *s, ovl_time_t now, ovl_peer_report_t *out);

#endif
