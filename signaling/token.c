/* Meeting-link tokens: HMAC-SHA256 over a small binary payload, base64url. See token.h. */
#include "signaling/token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "relay/proto/cursor.h"
#include "signaling/b64url.h"

#define TOKEN_VERSION 1
#define MAC_LEN       32
#define PAYLOAD_MAX   (1 + 1 + 8 + OVL_MEETING_ID_BYTES + 1 + OVL_TOKEN_NAME_MAX)

static const char domain[] = "overleg-token-v1";

const char *ovl_role_name(ovl_role_t role)
{
    switch (role) {
    case OVL_ROLE_HOST:
        return "host";
    case OVL_ROLE_GUEST:
        return "guest";
    default:
        return "none";
    }
}

ovl_role_t ovl_role_parse(const char *s)
{
    if (s && strcmp(s, "host") == 0)
        return OVL_ROLE_HOST;
    if (s && strcmp(s, "guest") == 0)
        return OVL_ROLE_GUEST;
    return OVL_ROLE_NONE;
}

int ovl_meeting_id_new(char out[OVL_MEETING_ID_LEN + 1])
{
    uint8_t raw[OVL_MEETING_ID_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return OVL_ERR_CRYPTO;
    return ovl_b64url_encode(raw, sizeof(raw), out, OVL_MEETING_ID_LEN + 1);
}

static int meeting_id_decode(const char *id, uint8_t raw[OVL_MEETING_ID_BYTES])
{
    size_t n = 0;
    if (!id || strlen(id) != OVL_MEETING_ID_LEN)
        return OVL_ERR_PARSE;
    if (ovl_b64url_decode(id, OVL_MEETING_ID_LEN, raw, OVL_MEETING_ID_BYTES, &n) != 0 || n != OVL_MEETING_ID_BYTES)
        return OVL_ERR_PARSE;
    return 0;
}

int ovl_meeting_id_check(const char *id)
{
    uint8_t raw[OVL_MEETING_ID_BYTES];
    return meeting_id_decode(id, raw);
}

static int mac_of(const uint8_t *secret, size_t secret_len, const uint8_t *payload, size_t len, uint8_t mac[MAC_LEN])
{
    int ret = OVL_ERR_CRYPTO;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL, secret, secret_len);
    size_t out_len = MAC_LEN;
    if (!key || !(md = EVP_MD_CTX_new()))
        goto Exit;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSignUpdate(md, domain, sizeof(domain) - 1) != 1 || EVP_DigestSignUpdate(md, payload, len) != 1 ||
        EVP_DigestSignFinal(md, mac, &out_len) != 1 || out_len != MAC_LEN)
        goto Exit;
    ret = 0;
Exit:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ret;
}

int ovl_token_issue(const uint8_t *secret, size_t secret_len, const ovl_token_claims_t *claims, char *out, size_t cap)
{
    uint8_t buf[PAYLOAD_MAX + MAC_LEN];
    uint8_t meeting[OVL_MEETING_ID_BYTES];
    size_t name_len = strlen(claims->name);
    size_t n = 0;
    int ret;

    if (cap > 0)
        out[0] = '\0';
    if (!secret || secret_len == 0 || (claims->role != OVL_ROLE_HOST && claims->role != OVL_ROLE_GUEST) ||
        name_len > OVL_TOKEN_NAME_MAX || meeting_id_decode(claims->meeting, meeting) != 0)
        return OVL_ERR_ARG;
    buf[n++] = TOKEN_VERSION;
    buf[n++] = (uint8_t)claims->role;
    for (int i = 7; i >= 0; i--)
        buf[n++] = (uint8_t)((uint64_t)claims->expires >> (8 * i));
    memcpy(buf + n, meeting, sizeof(meeting));
    n += sizeof(meeting);
    buf[n++] = (uint8_t)name_len;
    memcpy(buf + n, claims->name, name_len);
    n += name_len;
    if ((ret = mac_of(secret, secret_len, buf, n, buf + n)) != 0)
        return ret;
    return ovl_b64url_encode(buf, n + MAC_LEN, out, cap);
}

int ovl_token_verify(const uint8_t *secret, size_t secret_len, const char *token, const char *meeting_id, int64_t now,
                     ovl_token_claims_t *claims, ovl_token_status_t *status)
{
    uint8_t buf[PAYLOAD_MAX + MAC_LEN], mac[MAC_LEN], want_meeting[OVL_MEETING_ID_BYTES];
    const uint8_t *p = buf, *end, *meeting = NULL, *name = NULL;
    uint8_t version = 0, role = 0, name_len = 0;
    uint64_t expires = 0;
    size_t n = 0, tlen = token ? strlen(token) : 0;

    memset(claims, 0, sizeof(*claims));
    *status = OVL_TOKEN_MALFORMED;
    if (tlen == 0 || tlen > OVL_TOKEN_MAX_LEN || ovl_b64url_decode(token, tlen, buf, sizeof(buf), &n) != 0 ||
        n < MAC_LEN + 1)
        return OVL_ERR_AUTH;
    end = buf + n - MAC_LEN;
    /* Authenticate before interpreting anything, in constant time. */
    if (mac_of(secret, secret_len, buf, (size_t)(end - buf), mac) != 0) {
        *status = OVL_TOKEN_FORGED;
        return OVL_ERR_AUTH;
    }
    if (CRYPTO_memcmp(mac, end, MAC_LEN) != 0) {
        *status = OVL_TOKEN_FORGED;
        return OVL_ERR_AUTH;
    }
    if (ovl_get_u8(&p, end, &version) != 0 || version != TOKEN_VERSION || ovl_get_u8(&p, end, &role) != 0 ||
        (role != OVL_ROLE_HOST && role != OVL_ROLE_GUEST) || ovl_get_u64(&p, end, &expires) != 0 ||
        ovl_get_block(&p, end, OVL_MEETING_ID_BYTES, &meeting) != 0 || ovl_get_u8(&p, end, &name_len) != 0 ||
        name_len > OVL_TOKEN_NAME_MAX || ovl_get_block(&p, end, name_len, &name) != 0 || p != end)
        return OVL_ERR_AUTH;
    if (meeting_id_decode(meeting_id, want_meeting) != 0 ||
        CRYPTO_memcmp(want_meeting, meeting, OVL_MEETING_ID_BYTES) != 0) {
        *status = OVL_TOKEN_WRONG_MEETING;
        return OVL_ERR_AUTH;
    }
    if ((int64_t)expires <= now) {
        *status = OVL_TOKEN_EXPIRED;
        return OVL_ERR_AUTH;
    }
    memcpy(claims->meeting, meeting_id, OVL_MEETING_ID_LEN);
    claims->role = (ovl_role_t)role;
    claims->expires = (int64_t)expires;
    memcpy(claims->name, name, name_len);
    *status = OVL_TOKEN_OK;
    return 0;
}
