/*
 * One peer's WebRTC transport (mediasoup's WebRtcTransport): ICE + DTLS-SRTP over one BUNDLEd,
 * rtcp-muxed 5-tuple, sans-IO. It composes the protocol cores of relay/proto and serves both ends:
 *
 * - OVL_TRANSPORT_SERVER, the relay (one per participant): ICE-lite agent (ovl_ice_lite_t), DTLS
 *   server (a=setup:passive), SRTP profiles AEAD_AES_128_GCM first, then AES_CM_128_HMAC_SHA1_80.
 * - OVL_TRANSPORT_CLIENT, the synthetic peer: controlling ICE client (ovl_ice_client_t) checking the
 *   relay's candidates, DTLS client (a=setup:active) started as soon as ICE selects a pair.
 *
 * Datagrams in: ovl_transport_on_datagram() with the caller's path_id (an opaque name for the UDP
 * socket or ICE-TCP connection it came on; for TCP the caller removes the RFC 4571 framing) and the
 * sender's address. RFC 7983 demultiplexing sends STUN to ICE; DTLS is fed to the DTLS engine only
 * from a trusted path (one that passed an ICE check); SRTP/SRTCP only from a trusted path and only
 * once DTLS-SRTP keys exist, decrypted in place and handed to on_rtp/on_rtcp. Everything else is
 * dropped and counted by reason (ovl_transport_stats).
 *
 * Datagrams out: the `send` callback, for STUN answers and checks, DTLS flights and (through
 * ovl_transport_send_rtp/_rtcp) media. Media goes to the ICE-selected pair only, and only in state
 * CONNECTED (no media to or from a peer before its handshake completes). ovl_transport_protect_rtp
 * protects without sending, for callers that queue their own packet buffer (zero copy).
 *
 * Time: every call takes `now`; ovl_transport_next_timeout() is the earliest of the ICE and DTLS
 * timers, when ovl_transport_on_timeout() wants to run. Nothing here reads a clock or opens a socket.
 *
 * Events (ovl_transport_event_t) go to on_state. They are queued while the engines run and
 * delivered at the end of the public call that caused them, so on_state may call back into the
 * transport (send media, restart ICE, close) — except ovl_transport_free: free it later, outside
 * the callbacks. on_rtp/on_rtcp run synchronously inside on_datagram and may send media on this or
 * any other transport. `send` must not call into the transport.
 *
 * Memory: the transport allocates at creation (and OpenSSL during the DTLS handshake, libsrtp once
 * per new SSRC), never per packet. One transport belongs to one thread (its media worker).
 */
#ifndef OVL_TRANSPORT_H
#define OVL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/ice.h"
#include "relay/proto/srtp.h"
#include "relay/proto/stun.h"

typedef struct ovl_transport ovl_transport_t;
typedef struct ovl_transport_map ovl_transport_map_t; /* transport_map.h */

typedef enum ovl_transport_role {
    OVL_TRANSPORT_SERVER = 1, /* the relay: ICE-lite, DTLS server */
    OVL_TRANSPORT_CLIENT = 2, /* the synthetic peer: controlling ICE, DTLS client */
} ovl_transport_role_t;

typedef enum ovl_transport_state {
    OVL_TRANSPORT_CONNECTING = 0, /* ICE has selected no pair yet, or DTLS has not finished */
    OVL_TRANSPORT_CONNECTED,      /* a pair is selected and the SRTP keys are in place: media flows */
    OVL_TRANSPORT_FAILED,         /* see the FAILED / CONSENT_LOST event; terminal, except that an ICE
                                   * failure with DTLS intact is undone by ovl_transport_restart_ice */
    OVL_TRANSPORT_CLOSED,         /* close_notify sent or received; terminal */
} ovl_transport_state_t;

typedef enum ovl_transport_event_type {
    OVL_TRANSPORT_EVENT_ICE_SELECTED = 1, /* path: media goes there from now on (first nomination or a switch) */
    OVL_TRANSPORT_EVENT_ICE_RESTARTED,    /* path: an ICE restart completed (new credentials nominated a pair) */
    OVL_TRANSPORT_EVENT_DTLS_CONNECTED,   /* profile: the negotiated SRTP protection profile */
    OVL_TRANSPORT_EVENT_CONNECTED,        /* path, profile: ready for media (also again after a recovery) */
    OVL_TRANSPORT_EVENT_CONSENT_LOST,     /* path: RFC 7675 consent expired; state FAILED; reason */
    OVL_TRANSPORT_EVENT_FAILED,           /* error, reason: ICE or DTLS failed */
    OVL_TRANSPORT_EVENT_CLOSED,           /* the peer sent a DTLS close_notify */
} ovl_transport_event_type_t;

typedef struct ovl_transport_event {
    ovl_transport_event_type_t type;
    ovl_transport_state_t state; /* the transport's state after the event */
    ovl_ice_path_t path;         /* ICE_SELECTED, ICE_RESTARTED, CONNECTED, CONSENT_LOST */
    ovl_srtp_profile_t profile;  /* DTLS_CONNECTED, CONNECTED */
    int error;                   /* CONSENT_LOST, FAILED: an OVL_ERR_* (AUTH: fingerprint; AGAIN: timeout) */
    const char *reason;          /* CONSENT_LOST, FAILED: one sentence; valid during the callback */
} ovl_transport_event_t;

/* Why a received datagram was dropped (the index into ovl_transport_stats_t.drops). */
typedef enum ovl_transport_drop {
    OVL_TRANSPORT_DROP_UNKNOWN = 0,  /* RFC 7983: neither STUN, DTLS, RTP nor RTCP (or empty) */
    OVL_TRANSPORT_DROP_STUN_PARSE,   /* malformed STUN, FINGERPRINT missing or wrong */
    OVL_TRANSPORT_DROP_STUN_AUTH,    /* USERNAME / MESSAGE-INTEGRITY missing or wrong (answered 400/401) */
    OVL_TRANSPORT_DROP_STUN_OTHER,   /* not a check/answer ICE expects, role conflict, ICE failed */
    OVL_TRANSPORT_DROP_UNTRUSTED,    /* DTLS, SRTP or SRTCP from a path that has not passed an ICE check */
    OVL_TRANSPORT_DROP_DTLS,         /* DTLS after the handshake failed or the transport closed */
    OVL_TRANSPORT_DROP_NOT_READY,    /* SRTP or SRTCP before DTLS-SRTP keys exist (or after failure/close) */
    OVL_TRANSPORT_DROP_SRTP_AUTH,    /* SRTP/SRTCP authentication tag wrong */
    OVL_TRANSPORT_DROP_SRTP_REPLAY,  /* SRTP/SRTCP duplicate or older than the replay window */
    OVL_TRANSPORT_DROP_SRTP_INVALID, /* SRTP/SRTCP malformed or too short */
    OVL_TRANSPORT_DROP_NO_PATH,      /* outgoing: a DTLS datagram with no path to send it on */
    OVL_TRANSPORT_DROP_COUNT
} ovl_transport_drop_t;

typedef struct ovl_transport_stats {
    uint64_t rx_datagrams, rx_bytes;            /* everything handed to on_datagram */
    uint64_t rx_stun, rx_dtls, rx_rtp, rx_rtcp; /* accepted (a STUN answered with an error is a drop) */
    uint64_t tx_datagrams, tx_bytes;            /* everything given to `send` */
    uint64_t tx_stun, tx_dtls, tx_rtp, tx_rtcp; /* media: protected (by send_* or protect_*) */
    uint64_t drops[OVL_TRANSPORT_DROP_COUNT];
} ovl_transport_stats_t;

/* Every datagram out. path_id and `to` say where; data is valid during the call only (copy it). */
typedef void (*ovl_transport_send_cb)(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data,
                                      size_t len);
/* Decrypted RTP or RTCP (compound) in the caller's buffer, valid during the call only. */
typedef void (*ovl_transport_media_cb)(void *user, uint8_t *buf, size_t len, ovl_time_t now);
typedef void (*ovl_transport_state_cb)(void *user, const ovl_transport_event_t *ev);

#define OVL_TRANSPORT_MAX_CANDIDATES OVL_ICE_CLIENT_MAX_REMOTE

typedef struct ovl_transport_config {
    ovl_transport_role_t role;
    /* ICE credentials (copied). Server: local ufrag and pwd (our SDP) required, remote ufrag (the
     * peer's SDP) or NULL to accept any until ovl_transport_restart_ice sets one. Client: local ufrag,
     * remote ufrag and pwd (the relay's SDP) required, and the relay's candidates, each reached
     * through the caller's path_id (checked in order). */
    const char *local_ufrag, *local_pwd;
    const char *remote_ufrag, *remote_pwd;
    const ovl_ice_path_t *remote_candidates; /* client; copied; at most OVL_TRANSPORT_MAX_CANDIDATES */
    size_t n_remote_candidates;
    /* DTLS: the process's certificate (borrowed for the call; OpenSSL keeps its own references) and
     * the peer's a=fingerprint (copied). */
    const ovl_dtls_cert_t *cert;
    const ovl_dtls_fingerprint_t *remote_fingerprint;
    const ovl_srtp_profile_t *srtp_profiles; /* preference order; NULL: AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80 */
    size_t n_srtp_profiles;
    size_t dtls_mtu;                           /* 0: OVL_DTLS_DEFAULT_MTU */
    const ovl_ice_lite_config_t *ice_lite;     /* server; NULL: defaults (30 s consent, 30 s connect) */
    const ovl_ice_client_config_t *ice_client; /* client; NULL: defaults; its random is replaced by ours */
    ovl_ice_random_fn random;                  /* client: txids, tie-breaker; NULL: OpenSSL RAND_bytes */
    void *random_user;
    /* Optional, borrowed: a map the transport keeps its ufrags and trusted paths in (transport_map.h).
     * Must outlive the transport. */
    ovl_transport_map_t *map;
    /* Callbacks (send and on_state required) and their context. */
    ovl_transport_send_cb send;
    ovl_transport_media_cb on_rtp, on_rtcp;
    ovl_transport_state_cb on_state;
    void *user;
} ovl_transport_config_t;

/* New ICE credentials for ovl_transport_restart_ice (RFC 8445 §9), copied. */
typedef struct ovl_transport_ice_restart {
    const char *local_ufrag, *local_pwd;     /* server: both required; client: ufrag required */
    const char *remote_ufrag, *remote_pwd;   /* server: ufrag or NULL; client: both required */
    const ovl_ice_path_t *remote_candidates; /* client: NULL keeps the current candidates */
    size_t n_remote_candidates;
} ovl_transport_ice_restart_t;

/** Stable names: "connecting", "connected", "failed", "closed". */
const char *ovl_transport_state_name(ovl_transport_state_t state);

/** Stable names: "ice-selected", "ice-restarted", "dtls-connected", "connected", "consent-lost", "failed", "closed". */
const char *ovl_transport_event_name(ovl_transport_event_type_t type);

/** Stable metric-friendly names of drop reasons ("unknown", "stun-parse", ..., "no-path"); "?" if out of range. */
const char *ovl_transport_drop_name(ovl_transport_drop_t reason);

/**
 * Creates a transport; `now` starts its timers (server: ICE connect timeout; client: the first check
 * is due at once, at ovl_transport_next_timeout). Nothing is sent from here. With cfg->map the
 * transport registers its local ufrag there. *out owns the transport (ovl_transport_free).
 * Errors: OVL_ERR_ARG (missing or invalid field; local ufrag already in cfg->map), OVL_ERR_LIMIT
 * (cfg->map full), OVL_ERR_NOMEM, OVL_ERR_CRYPTO. *out is NULL on error.
 */
int ovl_transport_new(const ovl_transport_config_t *cfg, ovl_time_t now, ovl_transport_t **out);

/** Frees the transport (no close_notify: see ovl_transport_close), wiping its keys, and removes it
 * from its map. Never from inside one of its own callbacks. NULL is a no-op. */
void ovl_transport_free(ovl_transport_t *t);

/**
 * Handles one received datagram (buf[0..len), the caller's; SRTP is decrypted in place, so buf is
 * modified) that came from `from` on path_id. Returns 0 when it was consumed (a STUN check or answer,
 * a DTLS record, media delivered to on_rtp/on_rtcp) or the negative error of the drop, which is also
 * counted in the stats: OVL_ERR_PARSE (unknown or malformed), OVL_ERR_AUTH (STUN credentials, SRTP
 * tag), OVL_ERR_NOTFOUND (untrusted source), OVL_ERR_STATE (not ready, failed or closed),
 * OVL_ERR_REPLAY, OVL_ERR_UNSUPPORTED. A STUN request may be answered (through `send`) either way.
 */
int ovl_transport_on_datagram(ovl_transport_t *t, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf, size_t len,
                              ovl_time_t now);

/**
 * The same for a STUN message the caller already parsed with ovl_stun_parse (result 0 or
 * OVL_ERR_UNSUPPORTED), e.g. to route it by USERNAME first (transport_map.h). Same returns.
 */
int ovl_transport_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                          ovl_time_t now);

/**
 * Protects the RTP packet buf[0..*len) in place for the peer and sends it to the selected pair.
 * cap is the size of buf: cap - *len must be at least OVL_SRTP_MAX_OVERHEAD. Errors (nothing sent,
 * *len unchanged): OVL_ERR_STATE (not CONNECTED), OVL_ERR_PARSE, OVL_ERR_LIMIT, OVL_ERR_REPLAY (this
 * SSRC and sequence number were already sent), OVL_ERR_CRYPTO.
 */
int ovl_transport_send_rtp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap);

/** Like ovl_transport_send_rtp for an RTCP (compound) packet (SRTCP). */
int ovl_transport_send_rtcp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap);

/**
 * Like ovl_transport_send_rtp without sending: protects in place and copies the selected pair to
 * *to, for a caller that queues its own (reference-counted) buffer. Same errors.
 */
int ovl_transport_protect_rtp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap, ovl_ice_path_t *to);

/** Like ovl_transport_protect_rtp for RTCP. */
int ovl_transport_protect_rtcp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap, ovl_ice_path_t *to);

/** Earliest time ovl_transport_on_timeout wants to run (OVL_TIME_NEVER when no timer runs). */
ovl_time_t ovl_transport_next_timeout(const ovl_transport_t *t);

/** Runs the ICE and DTLS timers due at now (early calls are harmless): retransmissions, checks,
 * consent, timeouts. */
void ovl_transport_on_timeout(ovl_transport_t *t, ovl_time_t now);

/**
 * ICE restart (RFC 8445 §9) with new credentials; DTLS and SRTP are not renegotiated. Media keeps
 * flowing on the current pair until a check with the new credentials nominates one (then
 * ICE_RESTARTED, and ICE_SELECTED if the pair changed); the server keeps answering checks with the
 * previous credentials until then. A transport FAILED by ICE (consent lost, connect timeout) with
 * DTLS intact returns to CONNECTING. Errors: OVL_ERR_ARG (missing credentials, the local ufrag
 * unchanged or used by another transport in the map), OVL_ERR_STATE (DTLS failed, or closed).
 */
int ovl_transport_restart_ice(ovl_transport_t *t, const ovl_transport_ice_restart_t *r, ovl_time_t now);

/** Sends DTLS close_notify (when connected) and moves to CLOSED: no more media either way. */
void ovl_transport_close(ovl_transport_t *t);

/** The transport's state. */
ovl_transport_state_t ovl_transport_state(const ovl_transport_t *t);

/** The role it was created with. */
ovl_transport_role_t ovl_transport_role(const ovl_transport_t *t);

/** The negotiated SRTP profile, OVL_SRTP_PROFILE_NONE before DTLS connected. */
ovl_srtp_profile_t ovl_transport_profile(const ovl_transport_t *t);

/**
 * The caller's path `path_id` closed for good (an ICE-TCP connection ended: RFC 6544 pairs live and die with
 * their connection). Server: the lite agent forgets the pairs on it; if media went there, it moves to the most
 * recently checked other pair (ICE_SELECTED), or, with none left, the transport fails at once as on consent
 * expiry (CONSENT_LOST with a reason, state FAILED) instead of 30 s later. Client: losing the selected path is
 * the same CONSENT_LOST. Events are delivered before it returns. A no-op for an unknown path or a transport
 * already failed or closed.
 */
void ovl_transport_path_closed(ovl_transport_t *t, uint64_t path_id, ovl_time_t now);

/** Copies the pair media goes to into *path. Returns 0 or OVL_ERR_NOTFOUND (none selected). */
int ovl_transport_selected_path(const ovl_transport_t *t, ovl_ice_path_t *path);

/** True when DTLS, SRTP and SRTCP are accepted from (addr, path_id): it passed an ICE check. */
bool ovl_transport_is_trusted(const ovl_transport_t *t, const ovl_addr_t *addr, uint64_t path_id);

/** The current local ICE ufrag (NUL-terminated, owned by t; changes with an ICE restart). */
const char *ovl_transport_local_ufrag(const ovl_transport_t *t);

/** Copies the counters into *out. */
void ovl_transport_stats(const ovl_transport_t *t, ovl_transport_stats_t *out);

#endif
