/*
 * SDP for WebRTC: a data model, a parser, a writer, and the relay's answer and offer builders.
 *
 * Syntax: RFC 8866 (SDP). Usage: RFC 9429 (JSEP), RFC 8843 (BUNDLE), RFC 8839 (ICE), RFC 8842 (DTLS setup),
 * RFC 8122 (fingerprint), RFC 8285 (extmap), RFC 8830 (msid), RFC 5576 (ssrc), RFC 8851 (rid), RFC 8853
 * (simulcast), RFC 4585 (rtcp-fb), RFC 6544 (tcptype).
 *
 * The model is plain structs the caller may read and edit. Every `char *` member and every array pointer is owned
 * by the ovl_sdp_t that holds it and freed by ovl_sdp_free; fixed `char[]` members are NUL-terminated and "" means
 * absent. Nothing here is on the packet path: parsing allocates (bounded by the OVL_SDP_MAX_* limits).
 *
 * Nothing is silently lost: attributes the model does not know are kept in `attrs` (name and value) and written
 * back, so parse -> write -> parse gives an equal model. The writer puts known lines in one canonical order (the
 * order Chromium uses) with CRLF line endings.
 */
#ifndef OVL_SDP_H
#define OVL_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/cursor.h"

/* Limits. Input beyond them fails with OVL_ERR_LIMIT (and the line number), never with unbounded growth. */
#define OVL_SDP_MAX_SIZE         65536 /* bytes of SDP text */
#define OVL_SDP_MAX_LINE         4096  /* bytes of one line */
#define OVL_SDP_MAX_MEDIA        64    /* m= sections */
#define OVL_SDP_MAX_CODECS       128   /* payload types per m= line (RTP has 128) */
#define OVL_SDP_MAX_FB           16    /* a=rtcp-fb per payload type (and wildcard ones per section) */
#define OVL_SDP_MAX_EXTMAPS      32    /* a=extmap per section */
#define OVL_SDP_MAX_SSRCS        64    /* a=ssrc lines per section */
#define OVL_SDP_MAX_SSRC_GROUPS  16    /* a=ssrc-group per section */
#define OVL_SDP_MAX_GROUP_SSRCS  8     /* SSRCs in one a=ssrc-group */
#define OVL_SDP_MAX_RIDS         8     /* a=rid per section */
#define OVL_SDP_MAX_SIM_STREAMS  8     /* streams per direction of a=simulcast */
#define OVL_SDP_MAX_SIM_ALTS     4     /* alternatives per simulcast stream */
#define OVL_SDP_MAX_MSIDS        4     /* a=msid per section */
#define OVL_SDP_MAX_CANDIDATES   64    /* a=candidate per section */
#define OVL_SDP_MAX_FINGERPRINTS 4     /* a=fingerprint per level */
#define OVL_SDP_MAX_GROUPS       4     /* a=group at session level */
#define OVL_SDP_MAX_BW           4     /* b= lines per level */
#define OVL_SDP_MAX_ATTRS        128   /* attributes the model does not know, per level */
#define OVL_SDP_MAX_LINES        16    /* other lines (i= u= e= p= r= z= k=) per level */

/* Sizes of fixed text members, including the NUL. */
#define OVL_SDP_TOKEN_LEN 65  /* mids, msid ids (RFC 8830: 1*64 token-char), encoding names, proto, ... */
#define OVL_SDP_ICE_LEN   257 /* ice-ufrag / ice-pwd (RFC 8839: at most 256 ice-char) */
#define OVL_SDP_ADDR_LEN  256 /* addresses: IPv4, IPv6 or a host name (mDNS candidates) */
#define OVL_SDP_FB_LEN    48  /* one rtcp-fb value: "nack pli", "ccm fir", "trr-int 100" */
#define OVL_SDP_RID_LEN   33  /* rid-id */

typedef enum {
    OVL_SDP_DIR_NONE = 0, /* no direction attribute (means sendrecv, RFC 8866 §6.7) */
    OVL_SDP_DIR_SENDRECV,
    OVL_SDP_DIR_SENDONLY,
    OVL_SDP_DIR_RECVONLY,
    OVL_SDP_DIR_INACTIVE,
} ovl_sdp_dir_t;

typedef enum {
    OVL_SDP_SETUP_NONE = 0,
    OVL_SDP_SETUP_ACTPASS,
    OVL_SDP_SETUP_ACTIVE,
    OVL_SDP_SETUP_PASSIVE,
    OVL_SDP_SETUP_HOLDCONN,
} ovl_sdp_setup_t;

typedef enum {
    OVL_SDP_KIND_AUDIO = 0,
    OVL_SDP_KIND_VIDEO,
    OVL_SDP_KIND_APPLICATION,
    OVL_SDP_KIND_OTHER, /* any other media token; the text is in ovl_sdp_media_t.media */
} ovl_sdp_kind_t;

/* a=fingerprint (RFC 8122 §5): hash function name as written ("sha-256") and the digest bytes. */
typedef struct ovl_sdp_fingerprint {
    char hash[16];
    uint8_t bytes[64];
    size_t len;
} ovl_sdp_fingerprint_t;

/* ICE and DTLS parameters; present at session level, media level or both (media level wins). */
typedef struct ovl_sdp_transport {
    char ufrag[OVL_SDP_ICE_LEN];
    char pwd[OVL_SDP_ICE_LEN];
    char options[128]; /* a=ice-options value ("trickle") */
    ovl_sdp_fingerprint_t fingerprints[OVL_SDP_MAX_FINGERPRINTS];
    size_t n_fingerprints;
    ovl_sdp_setup_t setup;
} ovl_sdp_transport_t;

/* b=<type>:<value> (RFC 8866 §5.8). */
typedef struct ovl_sdp_bw {
    char type[16];
    uint32_t value;
} ovl_sdp_bw_t;

/* An attribute the model does not interpret: a=<name>[:<value>]. value is NULL for a flag ("a=foo"). */
typedef struct ovl_sdp_attr {
    char *name;  /* owned */
    char *value; /* owned, may be NULL */
} ovl_sdp_attr_t;

/* A line of another type the model keeps as text: i= u= e= p= r= z= k=. */
typedef struct ovl_sdp_line {
    char type;
    char *value; /* owned */
} ovl_sdp_line_t;

/* One payload type: m= entry + a=rtpmap + a=fmtp + a=rtcp-fb lines for that payload type. */
typedef struct ovl_sdp_codec {
    uint8_t pt;
    char name[OVL_SDP_TOKEN_LEN]; /* encoding name ("opus", "VP8", "rtx"); "" when there is no a=rtpmap */
    uint32_t clock;               /* clock rate */
    uint8_t channels;             /* encoding parameters; 0 = not written */
    int16_t apt;                  /* fmtp apt= (RTX associated payload type, RFC 4588 §8.6); -1 = none */
    char *fmtp;                   /* owned; the other fmtp parameters as written ("minptime=10;useinbandfec=1") */
    char fb[OVL_SDP_MAX_FB][OVL_SDP_FB_LEN]; /* a=rtcp-fb values for this payload type, in order */
    size_t n_fb;
} ovl_sdp_codec_t;

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §8). */
typedef struct ovl_sdp_extmap {
    uint16_t id;
    ovl_sdp_dir_t dir; /* OVL_SDP_DIR_NONE when not written */
    char uri[256];
    char *attrs; /* owned, may be NULL */
} ovl_sdp_extmap_t;

/* a=msid:<stream id> [<track id>] (RFC 8830 §2). */
typedef struct ovl_sdp_msid {
    char stream[OVL_SDP_TOKEN_LEN];
    char track[OVL_SDP_TOKEN_LEN]; /* "" when absent */
} ovl_sdp_msid_t;

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1). */
typedef struct ovl_sdp_ssrc {
    uint32_t ssrc;
    char attr[32]; /* "cname", "msid", ... */
    char *value;   /* owned, may be NULL */
} ovl_sdp_ssrc_t;

/* a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2): FID (RTX), SIM, FEC-FR. */
typedef struct ovl_sdp_ssrc_group {
    char semantics[16];
    uint32_t ssrcs[OVL_SDP_MAX_GROUP_SSRCS];
    size_t n_ssrcs;
} ovl_sdp_ssrc_group_t;

/* a=rid:<id> send|recv [<params>] (RFC 8851 §10). */
typedef struct ovl_sdp_rid {
    char id[OVL_SDP_RID_LEN];
    bool send;    /* true: send, false: recv */
    char *params; /* owned, may be NULL: "pt=96;max-width=640" */
} ovl_sdp_rid_t;

/* One direction of a=simulcast (RFC 8853 §5.1): streams separated by ';', alternatives by ','. */
typedef struct ovl_sdp_sim_alt {
    char rid[OVL_SDP_RID_LEN];
    bool paused; /* written with a leading '~' */
} ovl_sdp_sim_alt_t;

typedef struct ovl_sdp_sim_stream {
    size_t n_alts;
    ovl_sdp_sim_alt_t alts[OVL_SDP_MAX_SIM_ALTS];
} ovl_sdp_sim_stream_t;

typedef struct ovl_sdp_sim_list {
    size_t n_streams;
    ovl_sdp_sim_stream_t streams[OVL_SDP_MAX_SIM_STREAMS];
} ovl_sdp_sim_list_t;

typedef struct ovl_sdp_simulcast {
    ovl_sdp_sim_list_t send, recv; /* n_streams == 0: that direction is absent */
    bool recv_first;               /* recv was written before send */
} ovl_sdp_simulcast_t;

typedef enum { OVL_SDP_CAND_UDP = 0, OVL_SDP_CAND_TCP } ovl_sdp_cand_proto_t;
typedef enum { OVL_SDP_CAND_HOST = 0, OVL_SDP_CAND_SRFLX, OVL_SDP_CAND_PRFLX, OVL_SDP_CAND_RELAY } ovl_sdp_cand_type_t;
typedef enum {
    OVL_SDP_TCPTYPE_NONE = 0,
    OVL_SDP_TCPTYPE_ACTIVE,
    OVL_SDP_TCPTYPE_PASSIVE,
    OVL_SDP_TCPTYPE_SO,
} ovl_sdp_tcptype_t;

/* a=candidate (RFC 8839 §5.1, tcptype RFC 6544 §4.5). Candidates with another transport or type stay in attrs. */
typedef struct ovl_sdp_candidate {
    char foundation[33];
    uint16_t component; /* 1..256 */
    ovl_sdp_cand_proto_t proto;
    uint32_t priority;
    char address[OVL_SDP_ADDR_LEN];
    uint16_t port;
    ovl_sdp_cand_type_t type;
    char raddr[OVL_SDP_ADDR_LEN]; /* "" when absent */
    bool has_rport;
    uint16_t rport;
    ovl_sdp_tcptype_t tcptype;
    bool has_generation, has_network_id, has_network_cost;
    uint32_t generation, network_id, network_cost;
    char ufrag[OVL_SDP_ICE_LEN]; /* "" when absent */
    char *ext;                   /* owned, may be NULL: other extension name/value pairs, space separated, as written */
} ovl_sdp_candidate_t;

/* One m= section and everything under it. */
typedef struct ovl_sdp_media {
    ovl_sdp_kind_t kind;
    char media[16];          /* the m= media token as written */
    uint16_t port;           /* 0 = rejected, unless bundle_only (RFC 8843 §6) */
    char proto[32];          /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
    char *fmt;               /* owned: the format list of a non-RTP section ("webrtc-datachannel"); NULL for RTP */
    ovl_sdp_codec_t *codecs; /* RTP payload types in m= line order */
    size_t n_codecs;
    char conn_type[4];                /* c= address type "IP4"/"IP6"; "" when there is no c= line */
    char conn_addr[OVL_SDP_ADDR_LEN]; /* c= address */
    ovl_sdp_bw_t bw[OVL_SDP_MAX_BW];
    size_t n_bw;
    char mid[OVL_SDP_TOKEN_LEN];
    ovl_sdp_dir_t dir;
    ovl_sdp_transport_t ice;
    bool rtcp_mux, rtcp_rsize, bundle_only, end_of_candidates, extmap_allow_mixed;
    char fb_any[OVL_SDP_MAX_FB][OVL_SDP_FB_LEN]; /* a=rtcp-fb:* values */
    size_t n_fb_any;
    ovl_sdp_extmap_t *extmaps;
    size_t n_extmaps;
    ovl_sdp_msid_t msids[OVL_SDP_MAX_MSIDS];
    size_t n_msids;
    ovl_sdp_ssrc_t *ssrcs;
    size_t n_ssrcs;
    ovl_sdp_ssrc_group_t ssrc_groups[OVL_SDP_MAX_SSRC_GROUPS];
    size_t n_ssrc_groups;
    ovl_sdp_rid_t rids[OVL_SDP_MAX_RIDS];
    size_t n_rids;
    ovl_sdp_simulcast_t *simulcast; /* owned, NULL when absent */
    ovl_sdp_candidate_t *candidates;
    size_t n_candidates;
    ovl_sdp_line_t lines[OVL_SDP_MAX_LINES]; /* i= k= */
    size_t n_lines;
    ovl_sdp_attr_t *attrs;
    size_t n_attrs;
} ovl_sdp_media_t;

/* a=group:<semantics> <mid>... (RFC 5888 §5); BUNDLE per RFC 8843. */
typedef struct ovl_sdp_group {
    char semantics[16];
    char mids[OVL_SDP_MAX_MEDIA][OVL_SDP_TOKEN_LEN];
    size_t n_mids;
} ovl_sdp_group_t;

/* A whole session description. */
typedef struct ovl_sdp {
    char origin_user[OVL_SDP_TOKEN_LEN]; /* o= <username> ("-") */
    uint64_t sess_id, sess_version;
    char origin_type[4];                /* "IP4"/"IP6" */
    char origin_addr[OVL_SDP_ADDR_LEN]; /* o= <unicast-address> */
    char *name;                         /* owned: s= text ("-") */
    uint64_t t_start, t_stop;           /* t= */
    char conn_type[4];                  /* session-level c=; "" when absent */
    char conn_addr[OVL_SDP_ADDR_LEN];
    ovl_sdp_bw_t bw[OVL_SDP_MAX_BW];
    size_t n_bw;
    ovl_sdp_group_t groups[OVL_SDP_MAX_GROUPS];
    size_t n_groups;
    bool ice_lite, extmap_allow_mixed;
    ovl_sdp_dir_t dir;
    ovl_sdp_transport_t ice;
    char *msid_semantic; /* owned, NULL when absent: the text after "a=msid-semantic:" as written (" WMS *") */
    ovl_sdp_media_t *media;
    size_t n_media;
    ovl_sdp_line_t lines[OVL_SDP_MAX_LINES]; /* i= u= e= p= r= z= k= */
    size_t n_lines;
    ovl_sdp_attr_t *attrs;
    size_t n_attrs;
} ovl_sdp_t;

/* Where parsing stopped. */
typedef struct ovl_sdp_error {
    size_t line;      /* 1-based line number; 0 when the whole input is at fault (too large, empty) */
    const char *what; /* static English text ("bad a=rtpmap"), never NULL after a failed parse */
} ovl_sdp_error_t;

/** A new empty session description (v=0, s=-, t=0 0, o=- 0 0 IN IP4 0.0.0.0). Free with ovl_sdp_free. */
int ovl_sdp_new(ovl_sdp_t **out);

/** Frees a description and everything it owns. NULL is fine. */
void ovl_sdp_free(ovl_sdp_t *sdp);

/** A deep copy of `src` into a new description (*out, freed with ovl_sdp_free). */
int ovl_sdp_dup(const ovl_sdp_t *src, ovl_sdp_t **out);

/**
 * Parses `len` bytes of SDP text (CRLF or LF line endings; at most OVL_SDP_MAX_SIZE). On success *out is a new
 * description the caller frees with ovl_sdp_free. On failure *out is NULL, the result is OVL_ERR_PARSE (malformed),
 * OVL_ERR_LIMIT (an OVL_SDP_MAX_* limit) or OVL_ERR_NOMEM, and `err` (may be NULL) says where and what.
 */
int ovl_sdp_parse(const char *text, size_t len, ovl_sdp_t **out, ovl_sdp_error_t *err);

/**
 * Appends the SDP text of `sdp` (CRLF line endings) to `out`. OVL_ERR_LIMIT when it does not fit (out is then
 * unchanged), OVL_ERR_ARG when a member holds text that cannot be written (a line break, a space in a token, a
 * missing mandatory field).
 */
int ovl_sdp_write(const ovl_sdp_t *sdp, ovl_wbuf_t *out);

/**
 * Parses a candidate attribute value (RFC 8839 §5.1: the text after "a=candidate:", also what a browser trickles
 * after "candidate:") into `out` (cleared first). OVL_ERR_UNSUPPORTED for a well-formed candidate whose transport
 * or type the model does not have; OVL_ERR_PARSE / OVL_ERR_LIMIT otherwise. out->ext may be allocated: release
 * it with ovl_sdp_candidate_dispose.
 */
int ovl_sdp_candidate_parse(const char *s, size_t n, ovl_sdp_candidate_t *out);

/** Frees what a candidate owns (ext) and clears it. */
void ovl_sdp_candidate_dispose(ovl_sdp_candidate_t *c);

/** Appends the candidate attribute value (without "a=candidate:") to `out`; OVL_ERR_LIMIT / OVL_ERR_ARG. */
int ovl_sdp_candidate_write(const ovl_sdp_candidate_t *c, ovl_wbuf_t *out);

/**
 * RFC 8445 §5.1.2.1 priority: (2^24)*type_pref + (2^8)*local_pref + (256 - component). For ICE-TCP candidates
 * RFC 6544 §4.2 puts the direction in local_pref (host: active 6, passive 4, so 2, times 2^13).
 */
uint32_t ovl_sdp_candidate_priority(unsigned type_pref, unsigned local_pref, unsigned component);

/** The section with this mid, or NULL. */
ovl_sdp_media_t *ovl_sdp_find_mid(const ovl_sdp_t *sdp, const char *mid);

/** The payload type `pt` of section `m`, or NULL. */
ovl_sdp_codec_t *ovl_sdp_find_codec(const ovl_sdp_media_t *m, unsigned pt);

/** True when the section is rejected: port 0 without a=bundle-only (RFC 8843 §6). */
bool ovl_sdp_media_rejected(const ovl_sdp_media_t *m);

/** The first BUNDLE group (RFC 8843), or NULL. */
const ovl_sdp_group_t *ovl_sdp_bundle(const ovl_sdp_t *sdp);

/** The section's direction with the session-level default applied (absent everywhere: sendrecv). */
ovl_sdp_dir_t ovl_sdp_media_dir(const ovl_sdp_t *sdp, const ovl_sdp_media_t *m);

/**
 * The ICE/DTLS parameters that apply to section `m`: each of ufrag, pwd, options, fingerprints and setup from the
 * section when it has them, else from the session level. `out` is caller storage.
 */
void ovl_sdp_media_transport(const ovl_sdp_t *sdp, const ovl_sdp_media_t *m, ovl_sdp_transport_t *out);

/** Stable lower-case name of a direction ("sendrecv", ...; "" for NONE). */
const char *ovl_sdp_dir_name(ovl_sdp_dir_t dir);

/* ---- The relay's answer and offers (sdp_answer.c, sdp_offer.c) ---- */

/* What the relay puts in its descriptions about itself. Everything is borrowed for the duration of the call. */
typedef struct ovl_sdp_local {
    const char *ice_ufrag;                 /* 4..256 ice-char (RFC 8839 §5.4) */
    const char *ice_pwd;                   /* 22..256 ice-char */
    uint8_t fingerprint_sha256[32];        /* SHA-256 of the relay's DTLS certificate (RFC 8122) */
    uint64_t session_id;                   /* o= sess-id, stable for the peer connection */
    uint64_t session_version;              /* o= sess-version; the caller increases it per description */
    const ovl_sdp_candidate_t *candidates; /* the relay's candidates (UDP host, TCP passive host) */
    size_t n_candidates;
    bool opus_dtx;                  /* answer Opus with usedtx=1 (RFC 7587 §6.1) */
    const char *const *extmap_uris; /* supported header extensions; NULL: ovl_sdp_default_extmaps */
    size_t n_extmap_uris;
} ovl_sdp_local_t;

/** The header extensions the relay accepts by default (RFC 8285 URIs), NULL-terminated. */
extern const char *const ovl_sdp_default_extmaps[];

/**
 * Builds the relay's answer to a client's offer (RFC 9429 §5.3, RFC 3264 §6). For each offered m= section, in
 * order, with its mid:
 *  - audio with opus/48000/2 and video with VP8/90000 (plus its RTX, apt) over UDP/TLS/RTP/SAVPF or RTP/SAVPF,
 *    with rtcp-mux, inside the first BUNDLE group (or the first such section when the offer has no BUNDLE):
 *    accepted with the offerer's payload type numbers and extmap ids, the supported rtcp-fb values the offer
 *    has, and direction sendrecv/sendonly -> recvonly (the relay receives the client's media on these sections
 *    and sends other participants' media on sections of its own later offers), recvonly/inactive -> inactive;
 *    rid/simulcast offered as send are answered as recv;
 *  - anything else (data channels, other codecs only, no rtcp-mux, port 0 in the offer): rejected with port 0.
 * The answer is ICE-lite (a=ice-lite), setup:passive, carries ICE credentials and the fingerprint in every
 * accepted section and the relay's candidates plus a=end-of-candidates in the first one (the BUNDLE tag). It has
 * no a=ice-options (a lite agent does not trickle) and no a=extmap-allow-mixed (one-byte header extensions only).
 * OVL_ERR_ARG for bad local parameters; OVL_ERR_UNSUPPORTED when the offer cannot be answered at all (no DTLS
 * fingerprint or ICE credentials, setup:passive, an ICE-lite offerer). *answer_out is freed with ovl_sdp_free.
 */
int ovl_sdp_answer_build(const ovl_sdp_t *offer, const ovl_sdp_local_t *local, ovl_sdp_t **answer_out);

/* One track the relay sends to this peer (another participant's audio or video). */
typedef struct ovl_sdp_send_track {
    ovl_sdp_kind_t kind;   /* OVL_SDP_KIND_AUDIO or OVL_SDP_KIND_VIDEO */
    const char *mid;       /* a new mid, unique in the session, or the mid of an inactive section to reuse */
    const char *stream_id; /* a=msid stream id (the publishing participant), 1..64 token-char */
    const char *track_id;  /* a=msid track id, 1..64 token-char */
    const char *cname;     /* the publisher's RTCP CNAME */
    uint32_t ssrc;         /* the SSRC the relay sends with */
    uint32_t rtx_ssrc;     /* video: the RTX SSRC (ssrc-group FID); 0 = no RTX */
} ovl_sdp_send_track_t;

/**
 * Starts the relay's next offer (RFC 9429 §5.2.2) from its current local description (the last answer or offer
 * it sent): same sections, mids, codecs and credentials, sess-version + 1, setup:actpass. *offer_out is new.
 */
int ovl_sdp_offer_begin(const ovl_sdp_t *current_local, ovl_sdp_t **offer_out);

/**
 * Adds a sendonly section for `t` to an offer from ovl_sdp_offer_begin (or refills the inactive section with
 * that mid): codecs, extmaps and transport copied from the first accepted section of the same kind (so payload
 * types stay consistent across the BUNDLE group, RFC 8843 §9.1), a=msid, a=ssrc cname/msid lines, an FID group
 * for RTX, and the mid appended to the BUNDLE group. OVL_ERR_STATE when the mid is taken by an active section
 * or no accepted section of that kind exists; OVL_ERR_LIMIT past OVL_SDP_MAX_MEDIA.
 */
int ovl_sdp_offer_add_send(ovl_sdp_t *offer, const ovl_sdp_send_track_t *t);

/** Retires the relay's send section `mid` in an offer: direction inactive, msid/ssrc lines removed. */
int ovl_sdp_offer_retire(ovl_sdp_t *offer, const char *mid);

#endif
