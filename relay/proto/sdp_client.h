/*
 * The client's side of Overleg's negotiation (signaling/PROTOCOL.md "Media negotiation"), for the synthetic
 * peer (cmd/overleg-peer) and tests: what a browser does with SDP, without a browser.
 *
 *   1. ovl_sdp_client_offer: the first offer, as a browser makes it: one BUNDLE group (RFC 8843) of an audio
 *      section (Opus) and a camera section (VP8 + RTX, RFC 4588), both sendrecv, with a=msid, a=ssrc cname/msid
 *      and a=ssrc-group:FID (RFC 5576 §4.2), ICE credentials, the DTLS fingerprint and setup:actpass, no
 *      candidates (the relay is ICE-lite and learns the peer's address from its checks).
 *   2. ovl_sdp_client_remote + ovl_sdp_client_send_params: from the relay's answer, what the transport needs
 *      (the relay's ICE credentials, fingerprint and UDP candidates) and what the senders need (the payload
 *      types and header extension ids the answer kept).
 *   3. ovl_sdp_client_tracks + ovl_sdp_client_answer: each later relay offer lists the other participants'
 *      tracks as sendonly sections (a=msid:<publisher> <audio|camera|screen>, SSRC and RTX SSRC); the peer
 *      maps SSRCs to publishers with them and answers every section (recvonly for the relay's, sendonly for
 *      its own, inactive and rejected ones mirrored), keeping mids, payload types and extension ids.
 *
 * Allocation is fine here (SDP is not on the packet path); descriptions are the plain model of sdp.h.
 */
#ifndef OVL_SDP_CLIENT_H
#define OVL_SDP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/sdp.h"

/* What the client's offer uses; the relay's answer keeps them (it answers with the offerer's numbers). */
#define OVL_SDP_CLIENT_MID_AUDIO  "0"
#define OVL_SDP_CLIENT_MID_VIDEO  "1"
#define OVL_SDP_CLIENT_PT_OPUS    111
#define OVL_SDP_CLIENT_PT_VP8     96
#define OVL_SDP_CLIENT_PT_RTX     97
#define OVL_SDP_CLIENT_EXT_LEVEL  1 /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
#define OVL_SDP_CLIENT_EXT_MID    4 /* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843 §15.2) */
#define OVL_SDP_CLIENT_URI_LEVEL  "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define OVL_SDP_CLIENT_URI_MID    "urn:ietf:params:rtp-hdrext:sdes:mid"
#define OVL_SDP_CLIENT_MAX_CANDS  4 /* UDP candidates taken from the relay (the ICE client checks at most 4) */
#define OVL_SDP_CLIENT_MAX_TRACKS OVL_SDP_MAX_MEDIA

/* The client's own parameters. Everything is borrowed for the duration of the call. */
typedef struct ovl_sdp_client_local {
    const char *ice_ufrag;                     /* 4..256 ice-char (RFC 8839 §5.4) */
    const char *ice_pwd;                       /* 22..256 ice-char */
    const ovl_dtls_fingerprint_t *fingerprint; /* of the client's DTLS certificate */
    uint64_t session_id;                       /* o= sess-id, stable for the connection */
    uint64_t session_version;                  /* o= sess-version, increased per description */
    const char *cname;                         /* RTCP CNAME (RFC 7022), 1..255 visible characters */
    const char *stream_id;                     /* a=msid stream id, 1..64 token-char */
    uint32_t audio_ssrc;                       /* 0: no audio section */
    uint32_t video_ssrc;                       /* 0: no video section */
    uint32_t video_rtx_ssrc;                   /* 0: no RTX (and no FID group) */
} ovl_sdp_client_local_t;

/**
 * Builds the client's first offer (RFC 9429 §5.2.1) from `l`: sections OVL_SDP_CLIENT_MID_AUDIO (opus/48000/2,
 * minptime=10;useinbandfec=1, audio level and mid extensions) and OVL_SDP_CLIENT_MID_VIDEO (VP8/90000 with
 * nack, nack pli and ccm fir; rtx/90000 apt=VP8; mid extension), sendrecv, rtcp-mux and rtcp-rsize, a=msid
 * "<stream_id> audio|camera", a=ssrc cname/msid lines and the FID group. *out is new (ovl_sdp_free).
 * OVL_ERR_ARG for invalid parameters, OVL_ERR_NOMEM.
 */
int ovl_sdp_client_offer(const ovl_sdp_client_local_t *l, ovl_sdp_t **out);

/* The relay's end of the transport, from its answer (or a later offer: a change means an ICE restart). */
typedef struct ovl_sdp_client_remote {
    char ice_ufrag[OVL_SDP_ICE_LEN];
    char ice_pwd[OVL_SDP_ICE_LEN];
    ovl_dtls_fingerprint_t fingerprint; /* the first fingerprint with a hash OpenSSL knows (sha-256 first) */
    bool ice_lite;
    ovl_sdp_setup_t setup;
    ovl_addr_t candidates[OVL_SDP_CLIENT_MAX_CANDS]; /* UDP candidates with numeric addresses, in SDP order */
    size_t n_candidates;
    /* ICE-TCP: `tcptype passive` candidates (RFC 6544 §4.5), the ones an active client connects to, in SDP order */
    ovl_addr_t tcp_candidates[OVL_SDP_CLIENT_MAX_CANDS];
    size_t n_tcp_candidates;
} ovl_sdp_client_remote_t;

/**
 * Reads the transport parameters of the BUNDLE-tag section (the first accepted mid of the BUNDLE group, else
 * the first accepted section) into *out (cleared first). UDP candidates go to `candidates`, passive TCP ones to
 * `tcp_candidates`; other TCP types, host names (mDNS) and candidates past OVL_SDP_CLIENT_MAX_CANDS are skipped.
 * OVL_ERR_NOTFOUND when no section is accepted; OVL_ERR_UNSUPPORTED when ICE credentials or a usable fingerprint are
 * missing, or setup is active (the client is always the DTLS client).
 */
int ovl_sdp_client_remote(const ovl_sdp_t *sdp, ovl_sdp_client_remote_t *out);

/* The client's sending streams as the relay's answer accepted them. */
typedef struct ovl_sdp_client_send {
    bool audio, video;      /* the relay receives this section (recvonly or sendrecv in its answer) */
    uint8_t audio_pt;       /* Opus payload type */
    uint8_t video_pt;       /* VP8 payload type */
    bool rtx;               /* RTX for VP8 negotiated (rtx_pt valid) */
    uint8_t rtx_pt;         /* RTX payload type (RFC 4588 §8.6 apt = video_pt) */
    uint8_t audio_level_id; /* RFC 6464 extension id in the audio section, 0 when not negotiated */
    uint8_t audio_mid_id;   /* RFC 8843 sdes:mid extension id (audio), 0 when not negotiated */
    uint8_t video_mid_id;   /* the same for video */
    bool nack, pli, fir;    /* video rtcp-fb the relay accepted (RFC 4585, RFC 5104) */
} ovl_sdp_client_send_t;

/**
 * Reads what the answer (or a relay offer: the same sections) says about the client's own sections
 * OVL_SDP_CLIENT_MID_AUDIO and OVL_SDP_CLIENT_MID_VIDEO into *out (cleared first). A section the relay rejected,
 * or answered sendonly or inactive, is not sent on. Returns 0 (even if nothing is accepted).
 */
int ovl_sdp_client_send_params(const ovl_sdp_t *sdp, ovl_sdp_client_send_t *out);

/* One track the relay sends the client: a sendonly section of a relay offer. */
typedef struct ovl_sdp_client_track {
    char mid[OVL_SDP_TOKEN_LEN];
    ovl_sdp_kind_t kind;            /* OVL_SDP_KIND_AUDIO or OVL_SDP_KIND_VIDEO */
    char stream[OVL_SDP_TOKEN_LEN]; /* a=msid stream id: the publishing participant */
    char track[OVL_SDP_TOKEN_LEN];  /* a=msid track id: "audio", "camera", "screen" (as the relay wrote it) */
    uint32_t ssrc;                  /* media SSRC (first of the FID group, else the first a=ssrc) */
    uint32_t rtx_ssrc;              /* RTX SSRC (second of the FID group), 0 when none */
    uint8_t pt;                     /* Opus or VP8 payload type */
    bool has_rtx;                   /* an rtx codec with apt = pt is offered (rtx_pt valid) */
    uint8_t rtx_pt;
    uint32_t clock;   /* RTP clock rate of pt */
    uint8_t mid_id;   /* sdes:mid extension id, 0 when none */
    uint8_t level_id; /* ssrc-audio-level extension id, 0 when none */
} ovl_sdp_client_track_t;

/**
 * Lists the tracks a relay offer sends: every accepted, sendonly (or sendrecv) audio/video section other than
 * the client's own two, with a supported codec, an SSRC and an a=msid (section-level, else from a=ssrc msid).
 * Fills at most `cap` entries of `out`; *n is how many were written. Returns 0, or OVL_ERR_LIMIT when there
 * were more than `cap` (the first `cap` are written).
 */
int ovl_sdp_client_tracks(const ovl_sdp_t *offer, ovl_sdp_client_track_t *out, size_t cap, size_t *n);

/**
 * Builds the client's answer to a relay offer (RFC 3264 §6, RFC 9429 §5.3.1): every section in offer order with
 * its mid; Opus / VP8 (+ RTX) with the offered payload types and fmtp, the supported rtcp-fb values and
 * extension ids the offer has; direction mirrored (relay sendonly -> recvonly; the client's own sections, which
 * the relay offers recvonly, -> sendonly with the client's a=msid/a=ssrc lines; inactive -> inactive); anything
 * else (other kinds, no supported codec, port 0) rejected with port 0. The client's ICE credentials and
 * fingerprint in every accepted section, setup:active, rtcp-mux, rtcp-rsize when offered, and a BUNDLE group of
 * the accepted mids. *out is new (ovl_sdp_free). OVL_ERR_ARG (bad `l`), OVL_ERR_UNSUPPORTED (no section could
 * be accepted), OVL_ERR_NOMEM.
 */
int ovl_sdp_client_answer(const ovl_sdp_t *offer, const ovl_sdp_client_local_t *l, ovl_sdp_t **out);

/**
 * Writes `sdp` as a new NUL-terminated string (*text, freed with free(); *len without the NUL).
 * The errors of ovl_sdp_write, and OVL_ERR_NOMEM.
 */
int ovl_sdp_client_text(const ovl_sdp_t *sdp, char **text, size_t *len);

#endif
