/*
 * A sans-IO TURN server core (RFC 8656) for the built-in TURN-over-TLS of the relay: clients
 * reach it over a TCP or TLS stream, allocations have UDP semantics, and an allocation may only
 * reach the relay itself.
 *
 * What is special here: the relayed transport address is virtual. An Allocate gets an address
 * from a configured IP and port range that is never bound to a socket; what a client sends to a
 * peer comes out of the core as "payload from relayed address R to peer P" (to_peer), and the
 * media plane feeds "payload from peer P to relayed address R" back in (ovl_turn_server_from_peer).
 * Peers are only the relay's own media addresses (a list the caller configures): a permission,
 * channel or Send indication towards anything else is refused (403) or dropped. So the media plane
 * can short-circuit an allocation into its transports: to the relay's ICE-lite transport, R is the
 * remote candidate the browser's relayed candidate announced, and a datagram "from R" is simply
 * one more path of that transport — no UDP socket, no second hop, no open relay.
 *
 * Supported (RFC 8656): Allocate (§7.2; REQUESTED-TRANSPORT UDP only, REQUESTED-ADDRESS-FAMILY,
 * EVEN-PORT without reservation, DONT-FRAGMENT accepted — moot for a virtual relay), Refresh
 * (§8.2; lifetime 0 deletes), CreatePermission (§10.2, 300 s), ChannelBind (§11.2, numbers
 * 0x4000-0x4FFF, 600 s, a number stays unusable for another 300 s after it expires), Send and Data
 * indications (§10.3, §10.4), ChannelData both ways (§11.4-11.6, padded to 4 bytes on the stream,
 * §11.5), a retransmitted Allocate answered again (Chromium retransmits requests even over TCP),
 * and Binding requests answered like a STUN server. Not supported: RESERVATION-TOKEN (508),
 * ADDITIONAL-ADDRESS-FAMILY (ignored: one family per allocation), TCP allocations (RFC 6062: 442),
 * MESSAGE-INTEGRITY-SHA256 / PASSWORD-ALGORITHMS (RFC 8489 §9.2 with MD5 keys only).
 *
 * Credentials: long-term (RFC 8489 §9.2) with the TURN REST scheme that coturn calls
 * use-auth-secret: USERNAME = "<expiry unix seconds>:<participant>", password =
 * base64(HMAC-SHA1(secret, USERNAME)), key = MD5(USERNAME ":" REALM ":" password). The first
 * request gets 401 with REALM and a NONCE; nonces are stateless (expiry and an HMAC over it and
 * the session under a key the caller supplies) and expire after nonce_lifetime (438). A username
 * whose expiry has passed is refused (401). Every later request of a session must use the
 * username its allocation was made with (441).
 *
 * Framing (RFC 8656 §11.5, RFC 8489 §5): on the stream, a message whose first two bits are 00 is
 * STUN (20 + its length field bytes), 01 is ChannelData (4 + its length, padded to a multiple of
 * 4); anything else ends the stream (ovl_turn_session_feed returns OVL_ERR_PARSE: close it).
 *
 * Quotas: sessions (connections), allocations in total, allocations per participant (the part
 * of USERNAME after the ':'), one allocation per session (RFC 8656 §2.2: per 5-tuple),
 * permissions and channels per allocation; lifetimes bounded by max_lifetime.
 *
 * Time: `now` (monotonic microseconds) comes with every call; wall time (for the expiry in
 * USERNAME) is the caller's unix_time at creation advanced by `now`, re-synchronised with
 * ovl_turn_server_set_unix_time. Expiries are exact when a packet uses them and swept every
 * second otherwise (ovl_turn_server_next_timeout / _on_timeout).
 *
 * Output goes through callbacks (ovl_turn_callbacks_t), synchronously; they must not call back
 * into the server. Memory: sessions are allocated when opened; nothing is allocated per packet.
 * One server belongs to one thread.
 *
 * How clients reach it on the one TLS port (measured with Chromium 156 and libwebsockets 4.1.6):
 * Chromium's TURN-over-TLS ClientHello carries the URI's host name as SNI (none for an IP
 * literal) and no ALPN extension at all, while its HTTPS ClientHello offers h2 and http/1.1; so
 * ALPN "stun.turn" (RFC 7443) cannot be relied on, and "no ALPN" is only a hint (non-browser HTTP
 * clients may omit it too). What decides is the first decrypted byte: TURN starts with a STUN
 * request (top bits 00, e.g. 0x00 0x03 Allocate), HTTP with a method letter. libwebsockets does
 * exactly that sort after TLS when the vhost has LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG
 * with listen_accept_role "raw-skt" and listen_accept_protocol naming a raw protocol: such a
 * connection (also one adopted with lws_adopt_descriptor_vhost) arrives there already decrypted
 * (LWS_CALLBACK_RAW_ADOPT, then RAW_RX from the first byte on), and lws_write(LWS_WRITE_RAW)
 * encrypts the answers. That raw protocol is where sessions of this core live.
 */
#ifndef OVL_TURN_H
#define OVL_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/stun.h"

/* RFC 8656 §18: methods. */
enum {
    OVL_TURN_ALLOCATE = 0x003,
    OVL_TURN_REFRESH = 0x004,
    OVL_TURN_SEND = 0x006,
    OVL_TURN_DATA = 0x007,
    OVL_TURN_CREATE_PERMISSION = 0x008,
    OVL_TURN_CHANNEL_BIND = 0x009,
};

/* RFC 8656 §18: attributes. */
enum {
    OVL_TURN_ATTR_CHANNEL_NUMBER = 0x000c,
    OVL_TURN_ATTR_LIFETIME = 0x000d,
    OVL_TURN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    OVL_TURN_ATTR_DATA = 0x0013,
    OVL_TURN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    OVL_TURN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    OVL_TURN_ATTR_EVEN_PORT = 0x0018,
    OVL_TURN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    OVL_TURN_ATTR_DONT_FRAGMENT = 0x001a,
    OVL_TURN_ATTR_RESERVATION_TOKEN = 0x0022,
    OVL_TURN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
};

/* RFC 8656 §18 and RFC 8489 §14.8: error codes the server answers with. */
enum {
    OVL_TURN_ERR_BAD_REQUEST = 400,
    OVL_TURN_ERR_UNAUTHENTICATED = 401,
    OVL_TURN_ERR_FORBIDDEN = 403,
    OVL_TURN_ERR_UNKNOWN_ATTRIBUTE = 420,
    OVL_TURN_ERR_ALLOCATION_MISMATCH = 437,
    OVL_TURN_ERR_STALE_NONCE = 438,
    OVL_TURN_ERR_FAMILY_NOT_SUPPORTED = 440,
    OVL_TURN_ERR_WRONG_CREDENTIALS = 441,
    OVL_TURN_ERR_UNSUPPORTED_TRANSPORT = 442,
    OVL_TURN_ERR_PEER_FAMILY_MISMATCH = 443,
    OVL_TURN_ERR_QUOTA_REACHED = 486,
    OVL_TURN_ERR_INSUFFICIENT_CAPACITY = 508,
};

#define OVL_TURN_CHANNEL_MIN       0x4000 /* RFC 8656 §12: channel numbers a client may bind */
#define OVL_TURN_CHANNEL_MAX       0x4fff
#define OVL_TURN_PROTO_UDP         17           /* REQUESTED-TRANSPORT value (an IANA protocol number) */
#define OVL_TURN_PERMISSION_LIFE   OVL_SEC(300) /* RFC 8656 §9 */
#define OVL_TURN_CHANNEL_LIFE      OVL_SEC(600) /* RFC 8656 §12 */
#define OVL_TURN_CHANNEL_REUSE     OVL_SEC(300) /* §12: an expired number is not rebound to another peer for this long */
#define OVL_TURN_MAX_PEERS         16           /* allowed peer addresses in a configuration */
#define OVL_TURN_MAX_PERMISSIONS   8            /* per allocation */
#define OVL_TURN_MAX_CHANNELS      16           /* per allocation */
#define OVL_TURN_USERNAME_MAX      513          /* RFC 8489 §14.3 */
#define OVL_TURN_REST_PASSWORD_LEN 28           /* base64 of a 20-byte HMAC-SHA1, without NUL */
#define OVL_TURN_NONCE_KEY_LEN     32
#define OVL_TURN_NONCE_LEN         32    /* characters of the nonces this server issues */
#define OVL_TURN_MESSAGE_MAX       65556 /* longest framed message: ChannelData 4 + 65535 + padding */

typedef struct ovl_turn_server ovl_turn_server_t;
typedef struct ovl_turn_session ovl_turn_session_t;

typedef enum ovl_turn_alloc_event_type {
    OVL_TURN_ALLOC_CREATED = 1,
    OVL_TURN_ALLOC_DELETED, /* refreshed to 0, expired, or its session closed */
} ovl_turn_alloc_event_type_t;

typedef struct ovl_turn_alloc_event {
    ovl_turn_alloc_event_type_t type;
    ovl_addr_t relayed;   /* the virtual relayed transport address */
    ovl_addr_t client;    /* the client's address as the session saw it (XOR-MAPPED-ADDRESS) */
    const char *username; /* borrowed for the call: "<expiry>:<participant>", not NUL-terminated */
    size_t username_len;
} ovl_turn_alloc_event_t;

typedef struct ovl_turn_callbacks {
    /** Bytes for a session's client stream: one STUN message or one padded ChannelData. Valid
     * during the call only. */
    void (*to_client)(void *user, ovl_turn_session_t *s, void *session_ctx, const uint8_t *data, size_t len);
    /** A UDP payload the client sent from relayed address `relayed` to `peer` (always one of the
     * configured peers). Valid during the call only. */
    void (*to_peer)(void *user, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len);
    /** An allocation was created or deleted (optional). */
    void (*on_allocation)(void *user, ovl_turn_session_t *s, void *session_ctx, const ovl_turn_alloc_event_t *ev);
    void *user; /* borrowed */
} ovl_turn_callbacks_t;

/* Zero fields take the defaults in brackets. */
typedef struct ovl_turn_config {
    const char *realm;     /* REALM (required, copied, at most 127 characters) */
    const uint8_t *secret; /* the shared REST secret (required, copied) */
    size_t secret_len;
    uint8_t nonce_key[OVL_TURN_NONCE_KEY_LEN]; /* random key of this server's nonces (caller's CSPRNG) */
    ovl_addr_t relay_ip;                       /* relayed addresses: this IP (port ignored) ... */
    uint16_t port_min, port_max;               /* ... and a port in [port_min, port_max] (required) */
    const ovl_addr_t *peers;                   /* the relay's own media addresses (copied); port 0: any port */
    size_t n_peers;                            /* 1 .. OVL_TURN_MAX_PEERS */
    int64_t unix_time;                         /* wall clock (unix seconds) at the `now` given to _new */
    ovl_time_t default_lifetime;               /* [600 s] RFC 8656 §7.2 */
    ovl_time_t max_lifetime;                   /* [3600 s] */
    ovl_time_t nonce_lifetime;                 /* [600 s] */
    size_t max_sessions;                       /* [4096] */
    size_t max_allocations;                    /* [1024] in total */
    size_t max_allocations_per_user;           /* [8] per participant */
    size_t max_message;                        /* [4096] longest framed message accepted from a client */
    const char *software;                      /* SOFTWARE in responses (copied), NULL: none */
} ovl_turn_config_t;

typedef struct ovl_turn_stats {
    size_t sessions, allocations;        /* now */
    uint64_t allocations_total;          /* allocations made, ever */
    uint64_t permissions, channel_binds; /* successful CreatePermission and ChannelBind requests */
    uint64_t requests, responses_ok;     /* requests handled, success responses sent */
    /* error responses by code (RFC 8656 §18, RFC 8489 §14.8); 4xx_other: 440 and 443 */
    uint64_t err_400, err_401, err_403, err_420, err_437, err_438, err_441, err_442, err_486, err_508, err_4xx_other;
    uint64_t indications_in, channel_data_in;    /* from clients */
    uint64_t to_peer_packets, to_peer_bytes;     /* relayed towards peers */
    uint64_t from_peer_packets, from_peer_bytes; /* relayed towards clients */
    uint64_t dropped;                            /* data without allocation, permission or channel; malformed */
    uint64_t expired;                            /* allocations that reached their lifetime */
} ovl_turn_stats_t;

/**
 * Creates a server with cfg (copied) and callbacks (copied). Returns 0, OVL_ERR_ARG (a required
 * field missing, a port range that is empty or starts at 0, too many peers, a peer family unlike
 * relay_ip's) or OVL_ERR_NOMEM.
 */
int ovl_turn_server_new(ovl_turn_server_t **out, const ovl_turn_config_t *cfg, const ovl_turn_callbacks_t *cb,
                        ovl_time_t now);

/** Frees every session (no events) and the server. NULL is fine. */
void ovl_turn_server_free(ovl_turn_server_t *srv);

/** Re-synchronises the wall clock: unix_time (seconds) is the time at `now`. */
void ovl_turn_server_set_unix_time(ovl_turn_server_t *srv, int64_t unix_time, ovl_time_t now);

/**
 * A client connection opened (after TLS): `client` is its address (XOR-MAPPED-ADDRESS), ctx is
 * passed back to to_client and on_allocation. Returns 0, OVL_ERR_LIMIT (max_sessions: refuse the
 * connection) or OVL_ERR_NOMEM.
 */
int ovl_turn_session_open(ovl_turn_server_t *srv, const ovl_addr_t *client, void *ctx, ovl_time_t now,
                          ovl_turn_session_t **out);

/** The connection closed: deletes its allocation (on_allocation DELETED) and frees the session. */
void ovl_turn_session_close(ovl_turn_session_t *s);

/**
 * Bytes received on the session's stream (any split). Every whole message is handled in order;
 * an incomplete one waits for the next call. Returns 0, OVL_ERR_PARSE (the stream is not TURN:
 * close the connection) or OVL_ERR_LIMIT (a message longer than max_message: close it).
 */
int ovl_turn_session_feed(ovl_turn_session_t *s, const uint8_t *data, size_t len, ovl_time_t now);

/** True while the session has an allocation. */
bool ovl_turn_session_allocated(const ovl_turn_session_t *s);

/** The session's relayed address (OVL_ADDR_NONE without allocation). */
ovl_addr_t ovl_turn_session_relayed(const ovl_turn_session_t *s);

/**
 * A UDP payload from `peer` to the relayed address `relayed` (the media plane's answer towards a
 * TURN client): goes to the allocation's client as ChannelData when a channel is bound to peer,
 * else as a Data indication. Returns 0, OVL_ERR_NOTFOUND (no such allocation), OVL_ERR_STATE (no
 * permission for peer's IP: dropped, RFC 8656 §10.4) or OVL_ERR_ARG (len above 65535 or beyond
 * what fits a message; dropped). Drops are counted.
 */
int ovl_turn_server_from_peer(ovl_turn_server_t *srv, const ovl_addr_t *relayed, const ovl_addr_t *peer,
                              const uint8_t *data, size_t len, ovl_time_t now);

/** When ovl_turn_server_on_timeout wants to run (absolute), or OVL_TIME_NEVER. */
ovl_time_t ovl_turn_server_next_timeout(const ovl_turn_server_t *srv);

/** Deletes what expired by `now`: allocations (on_allocation DELETED), permissions, channels. */
void ovl_turn_server_on_timeout(ovl_turn_server_t *srv, ovl_time_t now);

/** Copies the counters into *out. */
void ovl_turn_server_stats(const ovl_turn_server_t *srv, ovl_turn_stats_t *out);

/* ---- helpers (pure) -------------------------------------------------------------------------- */

/**
 * The size of the next message on a TURN stream (RFC 8656 §11.5, RFC 8489 §5) from its first
 * bytes: STUN (first two bits 00) 20 + length, ChannelData (01) 4 + length rounded up to 4.
 * Returns 0 with *frame_len set, OVL_ERR_AGAIN (fewer than 4 bytes) or OVL_ERR_PARSE (first bits
 * 10 or 11, or a STUN length not a multiple of 4).
 */
int ovl_turn_frame_len(const uint8_t *buf, size_t len, size_t *frame_len);

/**
 * The TURN REST password of a username (coturn's use-auth-secret): base64(HMAC-SHA1(secret,
 * username)), OVL_TURN_REST_PASSWORD_LEN characters and a NUL into out (cap at least
 * OVL_TURN_REST_PASSWORD_LEN + 1). Returns 0, OVL_ERR_ARG or OVL_ERR_CRYPTO.
 */
int ovl_turn_rest_password(const uint8_t *secret, size_t secret_len, const char *username, size_t username_len,
                           char *out, size_t cap);

#endif
