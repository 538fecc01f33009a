/*
 * SRTP and SRTCP (RFC 3711, RFC 7714) over libsrtp2: one session per direction of a transport.
 *
 * A session is made from one protection profile and the master key and salt of ONE direction
 * (as DTLS-SRTP exports them, RFC 5764 §4.2) and is either inbound (unprotect) or outbound
 * (protect). It is SSRC-agnostic (libsrtp's ssrc_any_inbound / ssrc_any_outbound template), so one
 * session serves every stream of a participant's BUNDLEd transport: the SFU unprotects all of a
 * publisher's SSRCs with one inbound session and protects everything it forwards to a subscriber
 * with one outbound session. libsrtp keeps one replay window and rollover counter per SSRC, made the
 * first time an SSRC is seen (an inbound one only after its first packet authenticates): that is an
 * allocation per stream, never per packet.
 *
 * All four transforms work in place on (buf, *len, cap). Protecting grows the packet by the
 * profile's tag (and, for SRTCP, the E flag and index); libsrtp's rule is that SRTP_MAX_TRAILER_LEN
 * (+4 for SRTCP) writable bytes follow the packet, whatever the profile. This wrapper owns that
 * rule: it refuses with OVL_ERR_LIMIT, before touching the buffer, when cap - *len is smaller than
 * OVL_SRTP_MAX_OVERHEAD. Packet-buffer pools therefore give every buffer OVL_SRTP_MAX_OVERHEAD bytes
 * of tailroom; what actually goes on the wire is ovl_srtp_profile_info()->rtp_overhead/rtcp_overhead.
 *
 * Replay (RFC 3711 §3.3.2): every session keeps a 1024-packet window per SSRC (configurable), on
 * both sides: inbound it rejects duplicates and packets older than the window (OVL_ERR_REPLAY);
 * outbound it refuses to protect the same (SSRC, sequence number) twice, because re-encrypting a
 * packet index reuses the keystream (AES-CM) or the GCM nonce (AEAD: two different packets under
 * one nonce give away the GHASH key, i.e. forgeries). allow_repeat_tx turns the outbound refusal
 * off; it is safe ONLY if the repeated packet is byte-identical to the first (header and header
 * extensions included). The relay answers NACKs through RTX (its own SSRC and sequence numbers, so
 * no repeat) or by resending the already protected bytes it kept, and leaves allow_repeat_tx off.
 *
 * Process-global state: libsrtp's crypto kernel (srtp_init) is initialised once, on the first
 * ovl_srtp_new, under pthread_once. That is the library's global, not ours; it is never shut down.
 * A session itself is not thread-safe: it belongs to the one media worker that owns its transport.
 */
#ifndef OVL_SRTP_H
#define OVL_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

/* SRTP protection profiles, valued as their DTLS-SRTP identifiers (RFC 5764 §4.1.2, RFC 7714 §14.2). */
typedef enum ovl_srtp_profile {
    OVL_SRTP_PROFILE_NONE = 0,
    OVL_SRTP_AES128_CM_SHA1_80 = 0x0001, /* AES_CM_128_HMAC_SHA1_80 */
    OVL_SRTP_AEAD_AES_128_GCM = 0x0007,  /* AEAD_AES_128_GCM, 16-octet tag */
} ovl_srtp_profile_t;

typedef struct ovl_srtp_profile_info {
    ovl_srtp_profile_t profile;
    const char *name;      /* RFC name: "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80" */
    const char *dtls_name; /* OpenSSL's use_srtp name: "SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80" */
    size_t key_len;        /* master key octets */
    size_t salt_len;       /* master salt octets */
    size_t rtp_overhead;   /* octets SRTP adds to an RTP packet (tag) */
    size_t rtcp_overhead;  /* octets SRTCP adds to an RTCP packet (E+index, tag) */
} ovl_srtp_profile_info_t;

#define OVL_SRTP_MAX_KEY_LEN    16
#define OVL_SRTP_MAX_SALT_LEN   14
#define OVL_SRTP_MAX_MASTER_LEN (OVL_SRTP_MAX_KEY_LEN + OVL_SRTP_MAX_SALT_LEN)

/* Writable bytes that must follow a packet handed to a protect function: libsrtp's
 * SRTP_MAX_TRAILER_LEN (16-octet tag + 128-octet MKI) plus 4 for the SRTCP index (checked at build). */
#define OVL_SRTP_MAX_OVERHEAD 148

/* Default replay window, packets per SSRC (libsrtp accepts 64..32767). */
#define OVL_SRTP_DEFAULT_REPLAY_WINDOW 1024

typedef enum ovl_srtp_direction {
    OVL_SRTP_INBOUND = 1,  /* unprotect what the peer sent */
    OVL_SRTP_OUTBOUND = 2, /* protect what we send */
} ovl_srtp_direction_t;

typedef struct ovl_srtp_config {
    ovl_srtp_profile_t profile;
    ovl_srtp_direction_t direction;
    const uint8_t *master;  /* borrowed for the call: master key then master salt (RFC 5764 §4.2 order) */
    size_t master_len;      /* must be key_len + salt_len of the profile */
    uint32_t replay_window; /* 0: OVL_SRTP_DEFAULT_REPLAY_WINDOW */
    bool allow_repeat_tx;   /* outbound only; see the file comment before turning it on */
} ovl_srtp_config_t;

typedef struct ovl_srtp_session ovl_srtp_session_t;

/** The profile table entry for `profile`, or NULL for an unknown profile. Static storage. */
const ovl_srtp_profile_info_t *ovl_srtp_profile_info(ovl_srtp_profile_t profile);

/** The profile whose `name` or `dtls_name` is `name` (exact match), or NULL. */
const ovl_srtp_profile_info_t *ovl_srtp_profile_by_name(const char *name);

/**
 * Creates a session from `cfg` (the key bytes are copied and wiped from our copies after libsrtp
 * has expanded them). On success *out owns the session (free with ovl_srtp_free). Errors:
 * OVL_ERR_ARG (unknown profile or direction, wrong key length, window out of range),
 * OVL_ERR_NOMEM, OVL_ERR_CRYPTO (libsrtp refused). *out is NULL on error.
 */
int ovl_srtp_new(const ovl_srtp_config_t *cfg, ovl_srtp_session_t **out);

/** Frees a session and every per-SSRC state in it. NULL is a no-op. */
void ovl_srtp_free(ovl_srtp_session_t *s);

/** The session's profile. */
ovl_srtp_profile_t ovl_srtp_session_profile(const ovl_srtp_session_t *s);

/**
 * Protects the RTP packet buf[0..*len) in place; on success *len is the SRTP length. `cap` is the
 * size of buf: cap - *len must be at least OVL_SRTP_MAX_OVERHEAD, else OVL_ERR_LIMIT and buf is not
 * written. Errors: OVL_ERR_STATE (inbound session), OVL_ERR_PARSE (not an RTP packet),
 * OVL_ERR_LIMIT, OVL_ERR_REPLAY (this SSRC and sequence number were already protected),
 * OVL_ERR_CRYPTO. On error *len is unchanged.
 */
int ovl_srtp_protect_rtp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len, size_t cap);

/**
 * Verifies and decrypts the SRTP packet buf[0..*len) in place; on success *len is the RTP length.
 * Errors: OVL_ERR_STATE (outbound session), OVL_ERR_PARSE (malformed or too short), OVL_ERR_AUTH
 * (tag mismatch: forged, corrupted or wrong key), OVL_ERR_REPLAY (already received, or older than
 * the window), OVL_ERR_CRYPTO. On error the packet must be dropped; *len is unchanged.
 */
int ovl_srtp_unprotect_rtp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len);

/** Like ovl_srtp_protect_rtp for a (compound) RTCP packet: SRTCP with the E flag set. */
int ovl_srtp_protect_rtcp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len, size_t cap);

/** Like ovl_srtp_unprotect_rtp for an SRTCP packet. */
int ovl_srtp_unprotect_rtcp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len);

/**
 * Forgets the per-SSRC state (replay window, rollover counter) of `ssrc`, e.g. when a track ends,
 * so a long-lived session does not accumulate streams. OVL_ERR_NOTFOUND if the SSRC was never seen.
 */
int ovl_srtp_remove_stream(ovl_srtp_session_t *s, uint32_t ssrc);

#endif
