/*
 * Meeting ids and meeting-link tokens.
 *
 * A meeting id is 128 random bits (RAND_bytes), written as 22 base64url characters. A token is
 * base64url(payload || HMAC-SHA256(secret, "overleg-token-v1" || payload)) where the payload is
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  version = 1  |     role      |  expiry (unix seconds, 64 bits)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    ...expiry                  |  meeting id    :
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   :            meeting id (16 bytes)              |   name len    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   name (0..64 bytes UTF-8)...                                 |
 *
 * Verification is constant-time (CRYPTO_memcmp) and pure: the caller passes the wall-clock time.
 * Revocation is not part of the token; the caller checks the meetings store.
 */
#ifndef OVL_TOKEN_H
#define OVL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define OVL_MEETING_ID_BYTES 16
#define OVL_MEETING_ID_LEN   22 /* base64url characters, without NUL */
#define OVL_TOKEN_NAME_MAX   64 /* bytes */
#define OVL_TOKEN_MAX_LEN    200
#define OVL_SECRET_BYTES     32

typedef enum { OVL_ROLE_NONE = 0, OVL_ROLE_HOST = 1, OVL_ROLE_GUEST = 2 } ovl_role_t;

typedef enum {
    OVL_TOKEN_OK = 0,
    OVL_TOKEN_MALFORMED,     /* not a token at all */
    OVL_TOKEN_FORGED,        /* MAC does not match: other secret or altered */
    OVL_TOKEN_EXPIRED,       /* genuine but past its expiry */
    OVL_TOKEN_WRONG_MEETING, /* genuine but for another meeting */
} ovl_token_status_t;

typedef struct ovl_token_claims {
    char meeting[OVL_MEETING_ID_LEN + 1];
    ovl_role_t role;
    int64_t expires;                   /* unix seconds */
    char name[OVL_TOKEN_NAME_MAX + 1]; /* optional display name; "" when none */
} ovl_token_claims_t;

/** Stable name of a role: "host", "guest" ("none" otherwise). */
const char *ovl_role_name(ovl_role_t role);

/** Parses "host"/"guest"; OVL_ROLE_NONE for anything else. */
ovl_role_t ovl_role_parse(const char *s);

/** Makes a fresh meeting id: 16 bytes from RAND_bytes, base64url into `out`. 0 or OVL_ERR_CRYPTO. */
int ovl_meeting_id_new(char out[OVL_MEETING_ID_LEN + 1]);

/** Checks that `id` is a well-formed meeting id (22 base64url chars for 16 bytes). 0 or OVL_ERR_PARSE. */
int ovl_meeting_id_check(const char *id);

/**
 * Issues a token for `claims` (meeting must be a valid id, role host or guest, name at most 64
 * bytes) into `out` (capacity `cap`, NUL-terminated). Returns 0, OVL_ERR_ARG or OVL_ERR_LIMIT.
 */
int ovl_token_issue(const uint8_t *secret, size_t secret_len, const ovl_token_claims_t *claims, char *out, size_t cap);

/**
 * Verifies `token` for `meeting_id` at wall time `now` (unix seconds). Returns 0 with *claims
 * filled and *status OVL_TOKEN_OK, or OVL_ERR_AUTH with *status saying why. Claims are cleared on
 * entry and only filled on success.
 */
int ovl_token_verify(const uint8_t *secret, size_t secret_len, const char *token, const char *meeting_id, int64_t now,
                     ovl_token_claims_t *claims, ovl_token_status_t *status);

#endif
