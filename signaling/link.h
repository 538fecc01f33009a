/*
 * Meeting links as `overleg meeting create` and POST /api/meetings make them (meetings.c):
 *
 *     https://HOST[:PORT]/m/MEETING#t=TOKEN
 *
 * HOST is a DNS name, an IPv4 address or a bracketed IPv6 address; PORT defaults to 443; MEETING is the
 * meeting id and TOKEN the join token, both base64url (token.h). A client (the synthetic peer, a test) reads a
 * link back into what the join needs: where to open wss://HOST:PORT/ws and what to put in `join`.
 */
#ifndef OVL_LINK_H
#define OVL_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "signaling/token.h"

typedef struct ovl_link {
    char host[254];                       /* without brackets, NUL-terminated */
    uint16_t port;                        /* 443 when the link has none */
    char meeting[OVL_MEETING_ID_LEN + 1]; /* the meeting id */
    char token[OVL_TOKEN_MAX_LEN + 1];    /* the `t` value of the fragment */
} ovl_link_t;

/**
 * Parses a meeting link into *out (cleared first). Accepts the form above only (scheme https, case-insensitive;
 * an optional trailing '/' after MEETING; other fragment parameters after '&' are ignored). Returns 0, or
 * OVL_ERR_PARSE with *why (may be NULL) a static sentence saying what is wrong.
 */
int ovl_link_parse(const char *url, ovl_link_t *out, const char **why);

#endif
