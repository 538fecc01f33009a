/*
 * DTLS-SRTP endpoint (RFC 5764, RFC 8827 §6.5), sans-IO, over OpenSSL 3.
 *
 * One ovl_dtls_t per WebRTC transport. Bytes in: ovl_dtls_feed() with each received DTLS datagram
 * (RFC 7983 first byte 20..63) and the caller's `now`. Bytes out: the `on_output` callback, once
 * per datagram to send, called synchronously from inside ovl_dtls_start/feed/on_timeout/close
 * (flights are packed into datagrams of at most `mtu` bytes). Events out: `on_event` (connected
 * with the SRTP keys, failed with a reason, closed). Time: ovl_dtls_next_timeout() says when to
 * call ovl_dtls_on_timeout(); nothing here reads a clock.
 *
 * Peer authentication is by certificate fingerprint only (RFC 8122, RFC 8827): any certificate,
 * self-signed included, is accepted if and only if its hash equals the a=fingerprint of the remote
 * SDP. A mismatch fails the handshake at the peer's Certificate message (before Finished) with
 * OVL_ERR_AUTH and "peer certificate fingerprint does not match a=fingerprint".
 *
 * Version: DTLS 1.2 (OpenSSL 3.0 implements no DTLS 1.3; Chromium accepts 1.2). use_srtp
 * (RFC 5764 §4.1.2) offers the configured profiles in preference order; the server's order decides.
 *
 * Retransmission (RFC 6347 §4.2.4) runs on the caller's clock: initial timeout 1 s, doubling, capped
 * at 8 s, failing after 5 retransmissions (about 31 s). OpenSSL's own DTLS timer compares against
 * the wall clock (gettimeofday) and cannot be told the time, nor forced to expire (see dtls.c), so:
 * its durations are set to ours through DTLS_set_timer_cb; when our deadline passes we ask OpenSSL
 * to retransmit (DTLSv1_handle_timeout, which re-sends the flight with fresh record numbers); if
 * OpenSSL's wall clock disagrees (a test's simulated clock, a stepped system clock) we re-send the
 * last flight's datagrams ourselves, byte for byte. Either way the caller's clock decides when.
 *
 * Callbacks must not call back into the same ovl_dtls_t, except the read-only ovl_dtls_state.
 * An ovl_dtls_t belongs to one thread (the media worker owning the transport).
 */
#ifndef OVL_DTLS_H
#define OVL_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/srtp.h"

typedef enum ovl_dtls_role {
    OVL_DTLS_CLIENT = 1, /* a=setup:active: sends the ClientHello */
    OVL_DTLS_SERVER = 2, /* a=setup:passive: the relay's role in answers */
} ovl_dtls_role_t;

typedef enum ovl_dtls_state {
    OVL_DTLS_NEW = 0,    /* client before ovl_dtls_start */
    OVL_DTLS_CONNECTING, /* handshake in progress (a server waits here for the ClientHello) */
    OVL_DTLS_CONNECTED,
    OVL_DTLS_FAILED,
    OVL_DTLS_CLOSED, /* close_notify sent or received */
} ovl_dtls_state_t;

/* SRTP master keys exported per RFC 5764 §4.2, already split by direction. */
typedef struct ovl_dtls_srtp_keys {
    ovl_srtp_profile_t profile;              /* negotiated via use_srtp */
    size_t master_len;                       /* key_len + salt_len of the profile */
    uint8_t local[OVL_SRTP_MAX_MASTER_LEN];  /* our write key || salt: the OUTBOUND session */
    uint8_t remote[OVL_SRTP_MAX_MASTER_LEN]; /* the peer's write key || salt: the INBOUND session */
} ovl_dtls_srtp_keys_t;

typedef enum ovl_dtls_event_type {
    OVL_DTLS_EVENT_CONNECTED = 1,
    OVL_DTLS_EVENT_FAILED,
    OVL_DTLS_EVENT_CLOSED, /* the peer sent close_notify */
} ovl_dtls_event_type_t;

typedef struct ovl_dtls_event {
    ovl_dtls_event_type_t type;
    const ovl_dtls_srtp_keys_t *keys; /* CONNECTED: valid during the callback; wipe your copy when done */
    int error;                        /* FAILED: OVL_ERR_AUTH, OVL_ERR_UNSUPPORTED, OVL_ERR_AGAIN (timeout), ... */
    const char *reason;               /* FAILED: one sentence for logs and the user */
} ovl_dtls_event_t;

typedef void (*ovl_dtls_output_cb)(void *user, const uint8_t *datagram, size_t len);
typedef void (*ovl_dtls_event_cb)(void *user, const ovl_dtls_event_t *ev);

#define OVL_DTLS_DEFAULT_MTU 1200 /* datagram size (UDP payload); below any WebRTC path's MTU */
#define OVL_DTLS_MAX_MTU     1500

typedef struct ovl_dtls_config {
    ovl_dtls_role_t role;
    const ovl_dtls_cert_t *cert;                      /* borrowed for the call */
    const ovl_dtls_fingerprint_t *remote_fingerprint; /* copied; from the remote SDP */
    const ovl_srtp_profile_t *profiles;               /* preference order; NULL: GCM, then AES-CM */
    size_t n_profiles;
    size_t mtu;                /* 0: OVL_DTLS_DEFAULT_MTU; at most OVL_DTLS_MAX_MTU */
    ovl_time_t rto_initial;    /* 0: 1 s */
    ovl_time_t rto_max;        /* 0: 8 s */
    unsigned max_retransmits;  /* 0: 5 */
    ovl_dtls_output_cb output; /* required */
    ovl_dtls_event_cb event;   /* required */
    void *user;
} ovl_dtls_config_t;

typedef struct ovl_dtls ovl_dtls_t;

/**
 * Creates an endpoint. Nothing is sent yet: a client sends its ClientHello in ovl_dtls_start; a
 * server answers the first ClientHello fed to it. *out owns it (ovl_dtls_free). Errors: OVL_ERR_ARG
 * (missing cert, fingerprint or callbacks; unknown role or profile; bad mtu), OVL_ERR_NOMEM,
 * OVL_ERR_CRYPTO.
 */
int ovl_dtls_new(const ovl_dtls_config_t *cfg, ovl_dtls_t **out);

/** Frees the endpoint (no close_notify; see ovl_dtls_close). NULL is a no-op. */
void ovl_dtls_free(ovl_dtls_t *d);

/** Client: sends the first flight and arms the retransmission timer. Server: no-op. */
int ovl_dtls_start(ovl_dtls_t *d, ovl_time_t now);

/**
 * Processes one received datagram (borrowed for the call). Garbage, truncated or replayed records
 * are dropped by DTLS without harm and return 0. Returns the failure's error if this datagram made
 * the handshake fail (the FAILED event has been emitted), OVL_ERR_STATE once failed or closed.
 */
int ovl_dtls_feed(ovl_dtls_t *d, const uint8_t *datagram, size_t len, ovl_time_t now);

/** When ovl_dtls_on_timeout should next be called; OVL_TIME_NEVER when no timer runs. */
ovl_time_t ovl_dtls_next_timeout(const ovl_dtls_t *d);

/**
 * Retransmits if the deadline has passed (early calls do nothing); fails the handshake with
 * OVL_ERR_AGAIN ("DTLS handshake timed out") after max_retransmits. Returns 0 or that error.
 */
int ovl_dtls_on_timeout(ovl_dtls_t *d, ovl_time_t now);

/** Sends close_notify (once connected) and moves to CLOSED. */
int ovl_dtls_close(ovl_dtls_t *d);

/** The current state. */
ovl_dtls_state_t ovl_dtls_state(const ovl_dtls_t *d);

#endif
