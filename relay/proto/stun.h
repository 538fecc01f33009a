/*
 * STUN messages (RFC 8489, formerly RFC 5389): a zero-allocation parser into a view that borrows the
 * packet, MESSAGE-INTEGRITY (HMAC-SHA1, short- and long-term keys) and FINGERPRINT checks, and a
 * builder that writes into caller storage. Only what ICE needs: Binding, the address attributes,
 * USERNAME, PRIORITY, USE-CANDIDATE, ICE-CONTROLLING/CONTROLLED, ERROR-CODE, UNKNOWN-ATTRIBUTES,
 * SOFTWARE, REALM and NONCE. No sockets, no clock, no transactions (those belong to ICE).
 *
 * Receiving, in order (RFC 8489 §6.3):
 *
 *     ovl_stun_msg_t m;
 *     int r = ovl_stun_parse(pkt, len, &m);         // OVL_ERR_UNSUPPORTED: m is complete but lists
 *     if (r < 0 && r != OVL_ERR_UNSUPPORTED) drop;  //   unknown comprehension-required attributes
 *     ovl_stun_check_fingerprint(&m);               // ICE requires it; 0 or an error
 *     ovl_stun_check_integrity(&m, key, key_len);   // constant time; 0 or OVL_ERR_AUTH
 *     if (r == OVL_ERR_UNSUPPORTED) answer 420 with m.unknown[0 .. m.unknown_count)
 *
 * Sending:
 *
 *     ovl_stun_builder_t b;
 *     ovl_stun_build_start(&b, &wbuf, OVL_STUN_SUCCESS, OVL_STUN_BINDING, txid);
 *     ovl_stun_add_xor_mapped_address(&b, &from);
 *     ovl_stun_build_finish(&b, pwd, pwd_len);      // MESSAGE-INTEGRITY + FINGERPRINT, or nothing
 *                                                   //   written at all on any error
 */
#ifndef OVL_STUN_H
#define OVL_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/cursor.h"

#define OVL_STUN_HEADER_LEN       20
#define OVL_STUN_MAGIC_COOKIE     0x2112a442u
#define OVL_STUN_TXID_LEN         12
#define OVL_STUN_FINGERPRINT_XOR  0x5354554eu /* "STUN", RFC 8489 §14.7 */
#define OVL_STUN_INTEGRITY_LEN    20          /* HMAC-SHA1 */
#define OVL_STUN_LONG_TERM_KEYLEN 16          /* MD5(username ":" realm ":" password) */
#define OVL_STUN_MAX_UNKNOWN      8           /* unknown required attributes remembered for a 420 */

/* RFC 8489 §5: the two class bits C1 C0. */
typedef enum ovl_stun_class {
    OVL_STUN_REQUEST = 0,
    OVL_STUN_INDICATION = 1,
    OVL_STUN_SUCCESS = 2,
    OVL_STUN_ERROR = 3,
} ovl_stun_class_t;

/* RFC 8489 §18.2: the only method ICE uses. */
#define OVL_STUN_BINDING 0x001

/* RFC 8489 §18.3, RFC 8445 §16.1: attribute types. Below 0x8000 they are comprehension-required. */
enum {
    OVL_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    OVL_STUN_ATTR_USERNAME = 0x0006,
    OVL_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    OVL_STUN_ATTR_ERROR_CODE = 0x0009,
    OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000a,
    OVL_STUN_ATTR_REALM = 0x0014,
    OVL_STUN_ATTR_NONCE = 0x0015,
    OVL_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    OVL_STUN_ATTR_PRIORITY = 0x0024,
    OVL_STUN_ATTR_USE_CANDIDATE = 0x0025,
    OVL_STUN_ATTR_SOFTWARE = 0x8022,
    OVL_STUN_ATTR_FINGERPRINT = 0x8028,
    OVL_STUN_ATTR_ICE_CONTROLLED = 0x8029,
    OVL_STUN_ATTR_ICE_CONTROLLING = 0x802a,
};

/* RFC 8489 §14.8, RFC 8445 §16.1: error codes ICE answers with. */
enum {
    OVL_STUN_ERR_BAD_REQUEST = 400,
    OVL_STUN_ERR_UNAUTHENTICATED = 401,
    OVL_STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
    OVL_STUN_ERR_ROLE_CONFLICT = 487,
};

/* Bits of ovl_stun_msg_t.has: which attributes were present (first occurrence is the one kept). */
enum {
    OVL_STUN_HAS_MAPPED_ADDRESS = 1u << 0,
    OVL_STUN_HAS_XOR_MAPPED_ADDRESS = 1u << 1,
    OVL_STUN_HAS_USERNAME = 1u << 2,
    OVL_STUN_HAS_INTEGRITY = 1u << 3,
    OVL_STUN_HAS_FINGERPRINT = 1u << 4,
    OVL_STUN_HAS_ERROR_CODE = 1u << 5,
    OVL_STUN_HAS_UNKNOWN_ATTRIBUTES = 1u << 6,
    OVL_STUN_HAS_REALM = 1u << 7,
    OVL_STUN_HAS_NONCE = 1u << 8,
    OVL_STUN_HAS_PRIORITY = 1u << 9,
    OVL_STUN_HAS_USE_CANDIDATE = 1u << 10,
    OVL_STUN_HAS_SOFTWARE = 1u << 11,
    OVL_STUN_HAS_ICE_CONTROLLED = 1u << 12,
    OVL_STUN_HAS_ICE_CONTROLLING = 1u << 13,
};

/* A byte string inside the parsed packet (borrowed; not NUL-terminated). */
typedef struct ovl_stun_text {
    const char *s;
    size_t len;
} ovl_stun_text_t;

/*
 * The parsed view of one message. Every pointer borrows from the packet given to ovl_stun_parse,
 * which must outlive the view. Fields whose OVL_STUN_HAS_* bit is clear are zero.
 */
typedef struct ovl_stun_msg {
    const uint8_t *pkt; /* borrowed: the whole message */
    size_t len;         /* OVL_STUN_HEADER_LEN + the header's message length */
    ovl_stun_class_t cls;
    uint16_t method; /* 12 bits */
    uint8_t txid[OVL_STUN_TXID_LEN];
    uint32_t has; /* OVL_STUN_HAS_* */

    ovl_addr_t mapped;     /* MAPPED-ADDRESS */
    ovl_addr_t xor_mapped; /* XOR-MAPPED-ADDRESS, already un-XORed */
    ovl_stun_text_t username, realm, nonce, software;
    uint16_t error_code; /* ERROR-CODE as class * 100 + number, e.g. 401 */
    ovl_stun_text_t error_reason;
    uint32_t priority;
    uint64_t ice_controlled, ice_controlling; /* tie-breakers */

    size_t integrity_off;   /* offset of the MESSAGE-INTEGRITY attribute's header in pkt */
    size_t fingerprint_off; /* offset of the FINGERPRINT attribute's header in pkt */

    uint16_t unknown[OVL_STUN_MAX_UNKNOWN]; /* unknown comprehension-required types, no duplicates */
    size_t unknown_count;                   /* how many of unknown[] are set */
} ovl_stun_msg_t;

/**
 * Parses one whole STUN message (RFC 8489 §5, §14) of exactly len bytes into *msg (cleared first),
 * without allocating. Checks: header top bits zero, magic cookie, message length a multiple of 4
 * and equal to len - 20, every attribute (with its padding) inside the message, fixed-size
 * attributes of their size, address families 1 or 2, FINGERPRINT last. Attributes after
 * MESSAGE-INTEGRITY other than FINGERPRINT are skipped (§14.5); unknown comprehension-optional
 * attributes (>= 0x8000) are skipped.
 * Returns 0; OVL_ERR_PARSE for a malformed message (do not answer it); OVL_ERR_UNSUPPORTED when
 * the message is well formed but carries unknown comprehension-required attributes: *msg is
 * then complete, so the caller can authenticate it and answer 420 listing msg->unknown.
 */
int ovl_stun_parse(const uint8_t *pkt, size_t len, ovl_stun_msg_t *msg);

/**
 * Checks MESSAGE-INTEGRITY (RFC 8489 §14.5) with key: for short-term credentials (ICE) the key is
 * the password's bytes; for long-term ones it is ovl_stun_long_term_key's output. HMAC-SHA1 through
 * OpenSSL, compared in constant time. Returns 0, OVL_ERR_NOTFOUND when the message has no
 * MESSAGE-INTEGRITY, OVL_ERR_AUTH on mismatch, OVL_ERR_CRYPTO if OpenSSL fails.
 */
int ovl_stun_check_integrity(const ovl_stun_msg_t *msg, const uint8_t *key, size_t key_len);

/**
 * Checks FINGERPRINT (RFC 8489 §14.7: CRC-32 of the message up to it, XOR 0x5354554e).
 * Returns 0, OVL_ERR_NOTFOUND when absent, OVL_ERR_PARSE on mismatch (the packet is not STUN).
 */
int ovl_stun_check_fingerprint(const ovl_stun_msg_t *msg);

/**
 * The long-term credential key (RFC 8489 §9.2.2 with the MD5 algorithm, as in RFC 5389 §15.4):
 * MD5(username ":" realm ":" password), the strings already SASLprep/OpaqueString-processed by the
 * caller. Writes 16 bytes to key. Returns 0 or OVL_ERR_CRYPTO.
 */
int ovl_stun_long_term_key(const char *username, size_t username_len, const char *realm, size_t realm_len,
                           const char *password, size_t password_len, uint8_t key[OVL_STUN_LONG_TERM_KEYLEN]);

/*
 * Builder state, on the caller's stack. The message is appended to out at out->len (so a caller may
 * reserve room in front, e.g. the RFC 4571 length prefix). The first error is sticky: every later
 * call returns it, and out->len is rolled back so nothing of the message remains.
 */
typedef struct ovl_stun_builder {
    ovl_wbuf_t *out; /* borrowed */
    size_t start;    /* offset of the message header in out */
    uint8_t txid[OVL_STUN_TXID_LEN];
    uint8_t pad;          /* value of padding bytes: 0 (RFC 8489 §14); RFC 5769's vectors use 0x20 */
    bool has_integrity;   /* only FINGERPRINT may follow */
    bool has_fingerprint; /* nothing may follow */
    int err;              /* first error, sticky */
} ovl_stun_builder_t;

/**
 * Starts a message in out: header with class, method (12 bits) and the caller's 12-byte transaction
 * id (RFC 8489 §6: cryptographically random for requests, copied from the request for responses).
 * Returns 0, OVL_ERR_LIMIT (out too small) or OVL_ERR_ARG.
 */
int ovl_stun_build_start(ovl_stun_builder_t *b, ovl_wbuf_t *out, ovl_stun_class_t cls, uint16_t method,
                         const uint8_t txid[OVL_STUN_TXID_LEN]);

/** Appends any attribute: type, length, value, padding to 4 bytes. Returns 0 or the sticky error. */
int ovl_stun_add_attr(ovl_stun_builder_t *b, uint16_t type, const void *value, size_t len);

/** XOR-MAPPED-ADDRESS (RFC 8489 §14.2) for an IPv4 or IPv6 address. */
int ovl_stun_add_xor_mapped_address(ovl_stun_builder_t *b, const ovl_addr_t *addr);

/** MAPPED-ADDRESS (RFC 8489 §14.1), for RFC 3489 clients only. */
int ovl_stun_add_mapped_address(ovl_stun_builder_t *b, const ovl_addr_t *addr);

/** USERNAME (RFC 8489 §14.3); an ICE check carries "<receiver ufrag>:<sender ufrag>" (RFC 8445 §7.2.2). */
int ovl_stun_add_username(ovl_stun_builder_t *b, const char *username, size_t len);

/** SOFTWARE (RFC 8489 §14.14), a NUL-terminated string of at most 763 bytes. */
int ovl_stun_add_software(ovl_stun_builder_t *b, const char *software);

/** PRIORITY (RFC 8445 §7.1.1). */
int ovl_stun_add_priority(ovl_stun_builder_t *b, uint32_t priority);

/** USE-CANDIDATE (RFC 8445 §7.1.2), empty. */
int ovl_stun_add_use_candidate(ovl_stun_builder_t *b);

/** ICE-CONTROLLING with the agent's 64-bit tie-breaker (RFC 8445 §7.1.3). */
int ovl_stun_add_ice_controlling(ovl_stun_builder_t *b, uint64_t tie_breaker);

/** ICE-CONTROLLED with the agent's 64-bit tie-breaker (RFC 8445 §7.1.3). */
int ovl_stun_add_ice_controlled(ovl_stun_builder_t *b, uint64_t tie_breaker);

/** ERROR-CODE (RFC 8489 §14.8): code 300..699 and a reason phrase (NUL-terminated, <= 763 bytes). */
int ovl_stun_add_error_code(ovl_stun_builder_t *b, uint16_t code, const char *reason);

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): the n types a 420 answer lists. */
int ovl_stun_add_unknown_attributes(ovl_stun_builder_t *b, const uint16_t *types, size_t n);

/**
 * MESSAGE-INTEGRITY (RFC 8489 §14.5): sets the header length to include it, then appends the
 * HMAC-SHA1 of everything before it under key (short-term: the password's bytes).
 */
int ovl_stun_add_integrity(ovl_stun_builder_t *b, const uint8_t *key, size_t key_len);

/** FINGERPRINT (RFC 8489 §14.7): sets the header length to include it, appends CRC-32 ^ 0x5354554e. */
int ovl_stun_add_fingerprint(ovl_stun_builder_t *b);

/**
 * Finishes the message: MESSAGE-INTEGRITY under key (skipped when key is NULL), then FINGERPRINT.
 * Returns 0 (the message occupies out->base[b->start .. out->len)) or the first error of any step
 * (then out->len is back where ovl_stun_build_start found it).
 */
int ovl_stun_build_finish(ovl_stun_builder_t *b, const uint8_t *key, size_t key_len);

/**
 * HMAC-SHA1 of head[0..head_len) followed by body[0..body_len) under key, into out (20 bytes), through
 * OpenSSL's EVP_MAC. Two pieces so MESSAGE-INTEGRITY can hash a patched header copy plus the packet
 * without copying it. Returns 0 or OVL_ERR_CRYPTO.
 */
int ovl_stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len, const uint8_t *body,
                       size_t body_len, uint8_t out[OVL_STUN_INTEGRITY_LEN]);

/** Stable name of a class ("request", "indication", "success", "error"). */
const char *ovl_stun_class_name(ovl_stun_class_t cls);

#endif
