/* Shared between turn_msg.c, turn_server.c and turn_alloc.c; not part of the public API. */
#ifndef OVL_TURN_INTERNAL_H
#define OVL_TURN_INTERNAL_H

#include "relay/proto/turn.h"

/* Bits of ovl_turn_attrs_t.has. */
enum {
    OVL_TURN_HAS_LIFETIME = 1u << 0,
    OVL_TURN_HAS_PEER = 1u << 1,
    OVL_TURN_HAS_CHANNEL = 1u << 2,
    OVL_TURN_HAS_TRANSPORT = 1u << 3,
    OVL_TURN_HAS_FAMILY = 1u << 4,
    OVL_TURN_HAS_EVEN_PORT = 1u << 5,
    OVL_TURN_HAS_DONT_FRAGMENT = 1u << 6,
    OVL_TURN_HAS_RESERVATION = 1u << 7,
    OVL_TURN_HAS_DATA = 1u << 8,
    OVL_TURN_HAS_ADDITIONAL_FAMILY = 1u << 9,
};

/* The TURN attributes of one message (RFC 8656 §18), borrowed from the packet; first occurrence
 * wins, except XOR-PEER-ADDRESS, which CreatePermission may repeat (§10.1). */
typedef struct ovl_turn_attrs {
    uint32_t has;
    uint32_t lifetime; /* seconds */
    ovl_addr_t peers[OVL_TURN_MAX_PERMISSIONS];
    size_t n_peers;
    bool too_many_peers; /* more XOR-PEER-ADDRESS than peers[] holds */
    uint16_t channel;
    uint8_t transport; /* REQUESTED-TRANSPORT protocol */
    uint8_t family;    /* REQUESTED-ADDRESS-FAMILY: 0x01 IPv4, 0x02 IPv6 */
    bool even_port_r;  /* EVEN-PORT's R bit: reserve the next port too */
    const uint8_t *data;
    size_t data_len;
    uint16_t unknown[OVL_STUN_MAX_UNKNOWN]; /* comprehension-required types neither STUN nor TURN */
    size_t n_unknown;
} ovl_turn_attrs_t;

/**
 * Walks the attributes of a message that ovl_stun_parse accepted (0 or OVL_ERR_UNSUPPORTED) up to
 * MESSAGE-INTEGRITY (RFC 8489 §14.5) into *a (cleared first). Returns 0 or OVL_ERR_PARSE when a
 * TURN attribute has the wrong size or an address family other than 1 or 2 (answer 400).
 */
int ovl_turn_attrs_parse(const ovl_stun_msg_t *m, ovl_turn_attrs_t *a);

/** Appends XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS / XOR-MAPPED-ADDRESS (RFC 8489 §14.2 layout)
 * under the builder's transaction id. */
int ovl_turn_add_xor_address(ovl_stun_builder_t *b, uint16_t type, const ovl_addr_t *addr);

/** RFC 8489 §14.2 decoding of an XOR address value (the same layout for every XOR attribute). */
int ovl_turn_get_xor_address(const uint8_t *v, size_t len, const uint8_t txid[OVL_STUN_TXID_LEN], ovl_addr_t *out);

/** Splits a TURN REST username "<expiry>:<participant>": 1..19 decimal digits, a ':', and a
 * non-empty participant. Returns 0 or OVL_ERR_PARSE. */
int ovl_turn_rest_username(const char *u, size_t len, int64_t *expiry, size_t *participant_off);

/** Writes a nonce valid until now + lifetime for session id: 16 hex digits of the expiry and 16 of
 * HMAC-SHA1(key, expiry || id). out holds OVL_TURN_NONCE_LEN characters (no NUL). */
int ovl_turn_nonce_make(const uint8_t key[OVL_TURN_NONCE_KEY_LEN], uint64_t id, ovl_time_t expiry,
                        char out[OVL_TURN_NONCE_LEN]);

/** True when nonce[0..len) is one of ours for session id and has not expired at now. */
bool ovl_turn_nonce_valid(const uint8_t key[OVL_TURN_NONCE_KEY_LEN], uint64_t id, const char *nonce, size_t len,
                          ovl_time_t now);

/* ---- server state (turn_server.c owns it; turn_alloc.c handles the requests) ------------------ */

typedef struct ovl_turn_perm {
    ovl_addr_t ip; /* port 0 */
    ovl_time_t expires;
} ovl_turn_perm_t;

typedef struct ovl_turn_chan {
    uint16_t number;
    ovl_addr_t peer;
    ovl_time_t expires; /* the binding; the entry stays OVL_TURN_CHANNEL_REUSE longer, unusable */
} ovl_turn_chan_t;

typedef struct ovl_turn_alloc {
    bool active;
    ovl_addr_t relayed;
    ovl_time_t expires;
    uint8_t txid[OVL_STUN_TXID_LEN]; /* of the Allocate that made it: a retransmission is answered again */
    char username[OVL_TURN_USERNAME_MAX];
    size_t username_len, participant_off;
    uint8_t key[OVL_STUN_LONG_TERM_KEYLEN];
    ovl_turn_perm_t perms[OVL_TURN_MAX_PERMISSIONS];
    size_t n_perms;
    ovl_turn_chan_t chans[OVL_TURN_MAX_CHANNELS];
    size_t n_chans;
} ovl_turn_alloc_t;

struct ovl_turn_session {
    ovl_turn_server_t *srv; /* back-ref */
    void *ctx;              /* borrowed */
    uint64_t id;
    ovl_addr_t client;
    ovl_turn_alloc_t alloc;
    ovl_turn_session_t *prev, *next;   /* srv->sessions */
    ovl_turn_session_t *aprev, *anext; /* srv->allocs, while alloc.active */
    size_t rx_len;
    uint8_t rx[]; /* srv->cfg.max_message bytes: a message split across feeds */
};

struct ovl_turn_server {
    ovl_turn_config_t cfg; /* resolved; pointers below are the owned copies */
    char realm[128];
    size_t realm_len;
    uint8_t *secret; /* owned */
    char software[128];
    ovl_addr_t peers[OVL_TURN_MAX_PEERS];
    ovl_turn_callbacks_t cb;
    int64_t unix_base;
    ovl_time_t mono_base;
    ovl_turn_session_t *sessions, *allocs;
    ovl_turn_session_t **by_port; /* owned; port - port_min -> session with that relayed port */
    size_t n_ports, port_cursor;
    uint64_t next_id;
    ovl_time_t next_sweep;
    ovl_turn_stats_t st;
    size_t out_cap;
    uint8_t *out; /* owned scratch for every message built */
};

/* A message being built in srv->out. */
typedef struct ovl_turn_reply {
    ovl_wbuf_t w;
    ovl_stun_builder_t b;
} ovl_turn_reply_t;

/** Starts a response (or indication) of class cls to method/txid in srv->out, with SOFTWARE. */
void ovl_turn_reply_start(ovl_turn_session_t *s, ovl_turn_reply_t *r, ovl_stun_class_t cls, uint16_t method,
                          const uint8_t txid[OVL_STUN_TXID_LEN]);

/** Finishes (MESSAGE-INTEGRITY under key when not NULL, FINGERPRINT) and sends it to the client. */
void ovl_turn_reply_send(ovl_turn_session_t *s, ovl_turn_reply_t *r, const uint8_t *key);

/** Answers m with an error: code and reason, REALM and a fresh NONCE when with_nonce, signed with
 * key when not NULL. Counts it. */
void ovl_turn_reply_error(ovl_turn_session_t *s, const ovl_stun_msg_t *m, uint16_t code, const char *reason,
                          const uint8_t *key, bool with_nonce, ovl_time_t now);

/** Wall-clock seconds at now. */
int64_t ovl_turn_unix_now(const ovl_turn_server_t *srv, ovl_time_t now);

/** Deletes the session's allocation (event DELETED). */
void ovl_turn_alloc_delete(ovl_turn_session_t *s);

/** Handles an authenticated Allocate, Refresh, CreatePermission or ChannelBind (turn_alloc.c). */
void ovl_turn_handle_request(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a, int attrs_ret,
                             ovl_time_t now);

/** True when ip (its address only) is one of the configured peers'. */
bool ovl_turn_peer_ip_allowed(const ovl_turn_server_t *srv, const ovl_addr_t *ip);

/** True when addr (address and port) is a configured peer (port 0 in the configuration: any). */
bool ovl_turn_peer_allowed(const ovl_turn_server_t *srv, const ovl_addr_t *addr);

/** Removes expired permissions, and channels past their reuse guard (OVL_TURN_CHANNEL_REUSE). */
void ovl_turn_prune(ovl_turn_alloc_t *al, ovl_time_t now);

/** Makes sure the expiry sweep runs within a second (an allocation exists now). */
void ovl_turn_sweep_arm(ovl_turn_server_t *srv, ovl_time_t now);

/** The allocation's unexpired permission for peer's IP, or NULL. */
const ovl_turn_perm_t *ovl_turn_find_perm(const ovl_turn_alloc_t *al, const ovl_addr_t *peer, ovl_time_t now);

#endif
