/*
 * ICE over STUN, sans-IO, both ends of what Overleg needs:
 *
 * - ovl_ice_lite_t: the relay's side, a lite agent (RFC 8445 §2.5, §6.1.1: host candidates only, always
 *   controlled, never sends checks). It answers the browser's connectivity checks, remembers which
 *   (remote address, local path) pairs passed one, follows the browser's nomination (USE-CANDIDATE)
 *   and tracks consent freshness (RFC 7675) on the selected pair.
 * - ovl_ice_client_t: a controlling agent for a synthetic peer written in C (tests, load generation):
 *   sends checks with aggressive nomination to the relay's candidates, retransmits per RFC 8489
 *   §6.2.1, then keeps consent alive (RFC 7675).
 *
 * A "path" is (remote address, path_id): path_id is the caller's opaque name for the local socket or
 * accepted ICE-TCP connection a packet came on, so the same remote address over UDP and over TCP are
 * two different pairs. Nothing here opens sockets, reads a clock (every call takes `now`) or keeps
 * global state; answers are written to the caller's ovl_wbuf_t. The packet path does not allocate:
 * the agents live in caller storage; only the HMAC inside OpenSSL allocates (once per STUN check).
 *
 * Per datagram, the relay's transport does:
 *
 *     if (ovl_demux_classify(pkt, len) == OVL_DEMUX_STUN) {
 *         ovl_wbuf_init(&out, buf, sizeof(buf));        // on ICE-TCP: out.len = 2 for RFC 4571
 *         ovl_ice_lite_on_stun(&ice, pkt, len, &from, path_id, now, &out, &ev);
 *         if (out grew) send it on path_id to from;      // an answer, whatever the return value
 *         if (ev.type == OVL_ICE_EVENT_SELECTED) send media to ev.path from now on;
 *     } else if (!ovl_ice_lite_is_trusted(&ice, &from, path_id)) {
 *         drop;                                          // DTLS/SRTP only from checked addresses
 *     }
 *     ... and at ovl_ice_lite_next_timeout(&ice): ovl_ice_lite_on_timeout(&ice, now, &ev).
 */
#ifndef OVL_ICE_H
#define OVL_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/cursor.h"
#include "relay/proto/stun.h"

#define OVL_ICE_UFRAG_MAX            256 /* RFC 8839 §5.4: ice-ufrag is 4..256 characters */
#define OVL_ICE_PWD_MAX              256 /* RFC 8839 §5.4: ice-pwd is 22..256 characters */
#define OVL_ICE_LITE_MAX_PAIRS       8   /* validated pairs remembered per agent; the oldest is evicted */
#define OVL_ICE_CLIENT_MAX_REMOTE    4   /* remote candidates a client checks */
#define OVL_ICE_CLIENT_CONSENT_TXIDS 8   /* outstanding consent checks a response may answer */

/* Where packets go: the remote transport address and the caller's local path (socket, TCP connection). */
typedef struct ovl_ice_path {
    ovl_addr_t addr;
    uint64_t path_id;
} ovl_ice_path_t;

typedef enum ovl_ice_event_type {
    OVL_ICE_EVENT_NONE = 0,
    OVL_ICE_EVENT_SELECTED,        /* the selected pair is now ev.path (first nomination or a switch) */
    OVL_ICE_EVENT_CONSENT_LOST,    /* RFC 7675 §5.1: no valid check/response for consent_timeout; stop sending */
    OVL_ICE_EVENT_CONNECT_TIMEOUT, /* lite: nothing nominated within connect_timeout */
    OVL_ICE_EVENT_FAILED,          /* client: every check failed */
} ovl_ice_event_type_t;

/* One event per call at most; type NONE when nothing happened. */
typedef struct ovl_ice_event {
    ovl_ice_event_type_t type;
    ovl_ice_path_t path; /* SELECTED: the new pair; CONSENT_LOST: the pair that lost it */
} ovl_ice_event_t;

typedef enum ovl_ice_state {
    OVL_ICE_CHECKING = 0, /* no pair selected yet */
    OVL_ICE_CONNECTED,    /* a pair is selected and has consent */
    OVL_ICE_FAILED,       /* consent lost, connect timeout, or (client) every check failed; terminal
                           * until an ICE restart */
} ovl_ice_state_t;

/** Stable name of an event type ("none", "selected", "consent-lost", "connect-timeout", "failed"). */
const char *ovl_ice_event_name(ovl_ice_event_type_t type);

/* Credentials: NUL-terminated copies, so the agent never borrows SDP strings. */
typedef struct ovl_ice_ufrag {
    size_t len;
    char s[OVL_ICE_UFRAG_MAX + 1];
} ovl_ice_ufrag_t;

typedef struct ovl_ice_pwd {
    size_t len;
    char s[OVL_ICE_PWD_MAX + 1];
} ovl_ice_pwd_t;

/** Copies a NUL-terminated ufrag (NULL means "") into *u. Returns 0 or OVL_ERR_ARG when too long. */
int ovl_ice_ufrag_set(ovl_ice_ufrag_t *u, const char *s);

/** Copies a NUL-terminated password (NULL means "") into *p. Returns 0 or OVL_ERR_ARG when too long. */
int ovl_ice_pwd_set(ovl_ice_pwd_t *p, const char *s);

/* ---------------------------------------------------------------------------------------------- */
/* Lite agent (the relay)                                                                         */

typedef struct ovl_ice_lite_config {
    ovl_time_t consent_timeout; /* RFC 7675 §5.1: 30 s without a valid check on the selected pair */
    ovl_time_t connect_timeout; /* 30 s from init (or a restart without a selected pair) to nomination */
    const char *software;       /* SOFTWARE in success answers, or NULL (default); borrowed, must outlive */
} ovl_ice_lite_config_t;

/** Fills *cfg with the defaults above. */
void ovl_ice_lite_config_default(ovl_ice_lite_config_t *cfg);

/* A validated pair (private to ice.c; visible only so the agent can live in caller storage). */
typedef struct ovl_ice_lite_pair {
    ovl_ice_path_t path;
    ovl_time_t last_check; /* last valid check from it */
    uint32_t generation;   /* credentials generation that validated it */
    bool used;
} ovl_ice_lite_pair_t;

/* The agent, in caller storage. Members are private: use the functions. */
typedef struct ovl_ice_lite {
    ovl_ice_lite_config_t cfg;
    ovl_ice_state_t state;
    uint32_t generation;         /* bumped by every restart */
    ovl_ice_ufrag_t local_ufrag; /* current generation */
    ovl_ice_pwd_t local_pwd;
    ovl_ice_ufrag_t remote_ufrag; /* empty until known: then any remote ufrag is accepted */
    bool old_valid;               /* restart pending: the previous generation still answers */
    ovl_ice_ufrag_t old_local_ufrag;
    ovl_ice_pwd_t old_local_pwd;
    ovl_ice_ufrag_t old_remote_ufrag;
    ovl_ice_lite_pair_t pairs[OVL_ICE_LITE_MAX_PAIRS];
    bool has_selected;
    ovl_ice_path_t selected;
    ovl_time_t consent_at;       /* last valid check on the selected pair */
    ovl_time_t connect_deadline; /* when no pair is selected */
} ovl_ice_lite_t;

/**
 * Initialises *agent in caller storage with cfg (copied; NULL for defaults) and the local credentials
 * the relay put in its SDP (copied). now starts the connect timer. Returns 0, or OVL_ERR_ARG for an
 * empty or too long ufrag/pwd (then *agent is zeroed).
 */
int ovl_ice_lite_init(ovl_ice_lite_t *agent, const ovl_ice_lite_config_t *cfg, const char *local_ufrag,
                      const char *local_pwd, ovl_time_t now);

/** Wipes the credentials. The agent owns nothing else. */
void ovl_ice_lite_dispose(ovl_ice_lite_t *agent);

/**
 * Sets the remote ufrag from the peer's SDP (current generation). Checks must then carry USERNAME
 * "<local ufrag>:<remote ufrag>" exactly; before, any remote part is accepted (RFC 8445 §7.3 lets
 * checks arrive before the answer). The remote password is not needed: a lite agent never sends
 * requests, and requests and their answers are both keyed with the local password (RFC 8445 §7.2.2).
 * Returns 0 or OVL_ERR_ARG.
 */
int ovl_ice_lite_set_remote(ovl_ice_lite_t *agent, const char *remote_ufrag);

/**
 * ICE restart (RFC 8445 §9) with new local credentials and the new remote ufrag (NULL or "" if not
 * known yet; ovl_ice_lite_set_remote later). With a selected pair, media keeps flowing to it and
 * checks with the previous credentials are still answered (and refresh consent) until a check with
 * the new credentials nominates a pair; then the previous credentials and the pairs they validated
 * are forgotten. Without a selected pair the previous credentials are dropped at once, a failed
 * agent returns to checking, and the connect timer restarts at now. Returns 0 or OVL_ERR_ARG.
 */
int ovl_ice_lite_restart(ovl_ice_lite_t *agent, const char *local_ufrag, const char *local_pwd,
                         const char *remote_ufrag, ovl_time_t now);

/**
 * Handles one STUN datagram (or RFC 4571 frame) that arrived from `from` on path_id. An answer, if
 * any, is appended to out (sent back to `from` on the same path); *ev (cleared first) reports a
 * selected pair change. Returns:
 *   0                   a valid check: success answer (XOR-MAPPED-ADDRESS = from, MESSAGE-INTEGRITY,
 *                       FINGERPRINT) in out; or a Binding indication (keepalive), nothing to send.
 *   OVL_ERR_PARSE       not a well-formed STUN message, FINGERPRINT missing or wrong: dropped.
 *   OVL_ERR_UNSUPPORTED not a Binding request/indication: dropped; or, when out grew, an
 *                       authenticated request with unknown comprehension-required attributes: 420.
 *   OVL_ERR_AUTH        USERNAME or MESSAGE-INTEGRITY missing (400 in out) or wrong (401 in out;
 *                       RFC 8489 §9.1.3: no MESSAGE-INTEGRITY on it, nothing learnt from the check).
 *   OVL_ERR_STATE       role conflict: the peer also claims ICE-CONTROLLED (RFC 8445 §7.3.1.1): 487 in
 *                       out; or the agent has failed: dropped.
 *   OVL_ERR_LIMIT       out too small for the answer (nothing written; the check still counted).
 */
int ovl_ice_lite_on_stun(ovl_ice_lite_t *agent, const uint8_t *pkt, size_t len, const ovl_addr_t *from,
                         uint64_t path_id, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_event_t *ev);

/**
 * The same for a message the caller already parsed with ovl_stun_parse (result 0 or
 * OVL_ERR_UNSUPPORTED; msg->unknown_count tells the latter), e.g. to find the agent by
 * ovl_ice_username_local_ufrag first. Same returns as ovl_ice_lite_on_stun.
 */
int ovl_ice_lite_on_stun_msg(ovl_ice_lite_t *agent, const ovl_stun_msg_t *msg, const ovl_addr_t *from, uint64_t path_id,
                             ovl_time_t now, ovl_wbuf_t *out, ovl_ice_event_t *ev);

/**
 * For a relay port shared by many transports: the local (relay) ufrag a check is addressed to, the
 * part of USERNAME before the first ':' (RFC 8445 §7.2.2), borrowed from the message. Look the
 * transport up by it, then hand the message to its agent. Returns 0 or OVL_ERR_NOTFOUND.
 */
int ovl_ice_username_local_ufrag(const ovl_stun_msg_t *msg, ovl_stun_text_t *ufrag);

/**
 * True when (addr, path_id) passed a check and is still valid: the relay accepts DTLS and SRTP only
 * from such pairs. False once the agent has failed. No allocation; at most OVL_ICE_LITE_MAX_PAIRS
 * address compares, the selected pair first.
 */
bool ovl_ice_lite_is_trusted(const ovl_ice_lite_t *agent, const ovl_addr_t *addr, uint64_t path_id);

/** Copies the selected pair to *path. Returns 0 or OVL_ERR_NOTFOUND (nothing selected). */
int ovl_ice_lite_selected(const ovl_ice_lite_t *agent, ovl_ice_path_t *path);

/** The agent's state. */
ovl_ice_state_t ovl_ice_lite_state(const ovl_ice_lite_t *agent);

/** When ovl_ice_lite_on_timeout wants to run next (OVL_TIME_NEVER once failed). */
ovl_time_t ovl_ice_lite_next_timeout(const ovl_ice_lite_t *agent);

/**
 * Runs the timers due at now: forgets non-selected pairs that sent no valid check for
 * consent_timeout, and reports (in *ev, cleared first) CONSENT_LOST when the selected pair's consent
 * expired or CONNECT_TIMEOUT when nothing was nominated in time. Either moves the agent to
 * OVL_ICE_FAILED and forgets every pair. Safe to call early.
 */
void ovl_ice_lite_on_timeout(ovl_ice_lite_t *agent, ovl_time_t now, ovl_ice_event_t *ev);

/**
 * The caller's local path `path_id` is gone (an ICE-TCP connection closed: RFC 6544 §4.1 ties the pair to the
 * connection, so nothing can reach the peer on it any more). Every pair on it is forgotten. When the selected
 * pair was on it: with another validated pair left, the most recently checked one is selected (SELECTED in
 * *ev, cleared first; its consent runs from its last check); with none left, the agent fails exactly as on
 * consent expiry (CONSENT_LOST, OVL_ICE_FAILED, every pair forgotten), without waiting for the timeout.
 * Nothing happens once failed.
 */
void ovl_ice_lite_path_closed(ovl_ice_lite_t *agent, uint64_t path_id, ovl_time_t now, ovl_ice_event_t *ev);

/* ---------------------------------------------------------------------------------------------- */
/* Controlling client (the synthetic peer)                                                        */

/* Writes len unpredictable bytes (transaction ids, tie-breaker, consent jitter). */
typedef void (*ovl_ice_random_fn)(void *user, uint8_t *buf, size_t len);

typedef struct ovl_ice_client_config {
    ovl_time_t rto;              /* RFC 8489 §6.2.1: initial RTO 500 ms, doubled per retransmission */
    unsigned max_transmissions;  /* Rc = 7 */
    unsigned last_wait;          /* Rm = 16: a check fails Rm * rto after its last transmission */
    ovl_time_t pacing;           /* Ta (RFC 8445 §14.2): 50 ms between first transmissions */
    ovl_time_t consent_interval; /* RFC 7675 §5.1: 5 s, each randomised to 0.8..1.2 of it */
    ovl_time_t consent_timeout;  /* RFC 7675 §5.1: 30 s without a response */
    uint32_t priority;           /* PRIORITY (RFC 8445 §7.1.1): a UDP peer-reflexive candidate's */
    ovl_ice_random_fn random;    /* required */
    void *random_user;           /* borrowed, passed to random */
} ovl_ice_client_config_t;

/** Fills *cfg with the defaults above; random stays NULL and must be set. */
void ovl_ice_client_config_default(ovl_ice_client_config_t *cfg);

/* One remote candidate's check (private). */
typedef struct ovl_ice_client_check {
    ovl_ice_path_t remote;
    uint8_t txid[OVL_STUN_TXID_LEN];
    unsigned sent;   /* transmissions so far */
    ovl_time_t next; /* next transmission, or when the check gives up */
    ovl_time_t rto;  /* wait after the next transmission */
    int state;       /* private enum in ice_client.c */
} ovl_ice_client_check_t;

/* The client, in caller storage. Members are private: use the functions. */
typedef struct ovl_ice_client {
    ovl_ice_client_config_t cfg;
    ovl_ice_state_t state;
    ovl_ice_ufrag_t local_ufrag, remote_ufrag;
    ovl_ice_pwd_t remote_pwd; /* keys requests and verifies answers (RFC 8445 §7.2.2) */
    uint64_t tie_breaker;
    ovl_ice_client_check_t checks[OVL_ICE_CLIENT_MAX_REMOTE];
    size_t n_checks;
    ovl_time_t next_first; /* pacing: earliest next first transmission */
    int selected;          /* index in checks, or -1 */
    ovl_addr_t mapped;     /* XOR-MAPPED-ADDRESS of the selecting answer */
    ovl_time_t next_consent, consent_ok;
    uint8_t consent_txids[OVL_ICE_CLIENT_CONSENT_TXIDS][OVL_STUN_TXID_LEN];
    size_t consent_next; /* ring index */
    size_t consent_used; /* valid entries in consent_txids */
} ovl_ice_client_t;

/**
 * Initialises *client with cfg (copied; cfg->random required), its own ufrag and the relay's
 * ufrag/pwd from the relay's SDP (copied). The local password is not needed: a lite peer never
 * checks us. Draws the 64-bit tie-breaker. Returns 0 or OVL_ERR_ARG.
 */
int ovl_ice_client_init(ovl_ice_client_t *client, const ovl_ice_client_config_t *cfg, const char *local_ufrag,
                        const char *remote_ufrag, const char *remote_pwd, ovl_time_t now);

/** Wipes the credentials. */
void ovl_ice_client_dispose(ovl_ice_client_t *client);

/**
 * Adds a remote (relay) candidate to check, reached through the caller's path_id. Checks go out in
 * the order added, Ta apart. Returns 0, OVL_ERR_LIMIT (OVL_ICE_CLIENT_MAX_REMOTE reached),
 * OVL_ERR_STATE (already connected or failed) or OVL_ERR_ARG.
 */
int ovl_ice_client_add_remote(ovl_ice_client_t *client, const ovl_addr_t *addr, uint64_t path_id);

/**
 * Does the next thing due at now, one per call: reports one event in *ev, or writes one Binding
 * request into out with its destination in *to. Returns 0 when it did something (out grew, or
 * ev->type is set), OVL_ERR_AGAIN when nothing is due (call again at ovl_ice_client_next_timeout),
 * OVL_ERR_LIMIT when out is too small. Requests carry USERNAME "<remote ufrag>:<local ufrag>",
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY (remote pwd) and FINGERPRINT; once
 * connected, consent checks go to the selected pair every consent_interval (randomised).
 */
int ovl_ice_client_poll(ovl_ice_client_t *client, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_path_t *to,
                        ovl_ice_event_t *ev);

/**
 * Handles one STUN datagram from `from` on path_id: a Binding answer to one of our checks is
 * accepted when its transaction id matches an outstanding check, it comes from the address and path
 * the check went to (RFC 8445 §7.2.5.2.1), and FINGERPRINT and MESSAGE-INTEGRITY (remote pwd) hold.
 * The first success selects its pair (*ev = SELECTED); later ones refresh consent. Returns 0 when
 * accepted, OVL_ERR_PARSE / OVL_ERR_AUTH / OVL_ERR_NOTFOUND (unknown transaction, wrong source) /
 * OVL_ERR_UNSUPPORTED (not a Binding answer) when dropped; an error answer fails its check and
 * returns OVL_ERR_STATE.
 */
int ovl_ice_client_on_stun(ovl_ice_client_t *client, const uint8_t *pkt, size_t len, const ovl_addr_t *from,
                           uint64_t path_id, ovl_time_t now, ovl_ice_event_t *ev);

/** When ovl_ice_client_poll has something to do next (OVL_TIME_NEVER when failed or nothing to check). */
ovl_time_t ovl_ice_client_next_timeout(const ovl_ice_client_t *client);

/** The client's state. */
ovl_ice_state_t ovl_ice_client_state(const ovl_ice_client_t *client);

/** Copies the selected pair to *path and our server-reflexive address (XOR-MAPPED-ADDRESS) to *mapped
 * (either may be NULL). Returns 0 or OVL_ERR_NOTFOUND. */
int ovl_ice_client_selected(const ovl_ice_client_t *client, ovl_ice_path_t *path, ovl_addr_t *mapped);

#endif
