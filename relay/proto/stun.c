/* STUN parsing and MESSAGE-INTEGRITY / FINGERPRINT checks (RFC 8489). The builder is stun_build.c. */
#include "relay/proto/stun.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "relay/proto/crc32.h"

/*
 * RFC 8489 §14.1 MAPPED-ADDRESS and §14.2 XOR-MAPPED-ADDRESS (same layout; the latter XORs the
 * port with the cookie's top 16 bits and the address with the cookie, or cookie || transaction id
 * for IPv6):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |0 0 0 0 0 0 0 0|    Family     |         Port / X-Port         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                                                               |
 *  |          Address / X-Address (32 bits or 128 bits)            |
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Family 0x01 is IPv4 (value length 8), 0x02 is IPv6 (value length 20).
 */
static int parse_address(const uint8_t *v, size_t len, const uint8_t *xor_mask, ovl_addr_t *out)
{
    const uint8_t *p = v, *end = v + len;
    uint8_t reserved, family, ip[16];
    uint16_t port;
    const uint8_t *raw;

    if (ovl_get_u8(&p, end, &reserved) < 0 || ovl_get_u8(&p, end, &family) < 0 || ovl_get_u16(&p, end, &port) < 0)
        return OVL_ERR_PARSE;
    size_t ip_len = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
    if (ip_len == 0 || ovl_left(p, end) != ip_len || ovl_get_block(&p, end, ip_len, &raw) < 0)
        return OVL_ERR_PARSE;
    memcpy(ip, raw, ip_len);
    if (xor_mask != NULL) {
        port ^= (uint16_t)(OVL_STUN_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < ip_len; i++)
            ip[i] ^= xor_mask[i];
    }
    if (ip_len == 4)
        ovl_addr_set_ipv4(out, ip, port);
    else
        ovl_addr_set_ipv6(out, ip, port);
    return 0;
}

/*
 * RFC 8489 §14.8 ERROR-CODE:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Reserved, should be 0         |Class|     Number    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      Reason Phrase (variable)                                ..
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Class 3..6, number 0..99.
 */
static int parse_error_code(const uint8_t *v, size_t len, ovl_stun_msg_t *msg)
{
    const uint8_t *p = v, *end = v + len;
    uint32_t word;
    if (ovl_get_u32(&p, end, &word) < 0)
        return OVL_ERR_PARSE;
    unsigned cls = (word >> 8) & 0x7, number = word & 0xff;
    if (cls < 3 || cls > 6 || number > 99)
        return OVL_ERR_PARSE;
    msg->error_code = (uint16_t)(cls * 100 + number);
    msg->error_reason.s = (const char *)p;
    msg->error_reason.len = ovl_left(p, end);
    return 0;
}

/* A 32- or 64-bit value that must fill the attribute exactly. (Loads rather than ovl_get_u64, which
 * gcc 12 at -O2 flags as maybe-uninitialized once inlined here.) */
static int get_fixed(const uint8_t *v, size_t len, size_t want, uint64_t *out)
{
    if (len != want)
        return OVL_ERR_PARSE;
    *out = want == 8 ? (uint64_t)ovl_load_u32(v) << 32 | ovl_load_u32(v + 4) : ovl_load_u32(v);
    return 0;
}

static void set_text(ovl_stun_text_t *t, const uint8_t *v, size_t len)
{
    t->s = (const char *)v;
    t->len = len;
}

static void note_unknown(ovl_stun_msg_t *msg, uint16_t type)
{
    for (size_t i = 0; i < msg->unknown_count; i++)
        if (msg->unknown[i] == type)
            return;
    if (msg->unknown_count < OVL_STUN_MAX_UNKNOWN)
        msg->unknown[msg->unknown_count++] = type;
}

static uint32_t attr_bit(uint16_t type)
{
    switch (type) {
    case OVL_STUN_ATTR_MAPPED_ADDRESS:
        return OVL_STUN_HAS_MAPPED_ADDRESS;
    case OVL_STUN_ATTR_XOR_MAPPED_ADDRESS:
        return OVL_STUN_HAS_XOR_MAPPED_ADDRESS;
    case OVL_STUN_ATTR_USERNAME:
        return OVL_STUN_HAS_USERNAME;
    case OVL_STUN_ATTR_MESSAGE_INTEGRITY:
        return OVL_STUN_HAS_INTEGRITY;
    case OVL_STUN_ATTR_FINGERPRINT:
        return OVL_STUN_HAS_FINGERPRINT;
    case OVL_STUN_ATTR_ERROR_CODE:
        return OVL_STUN_HAS_ERROR_CODE;
    case OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES:
        return OVL_STUN_HAS_UNKNOWN_ATTRIBUTES;
    case OVL_STUN_ATTR_REALM:
        return OVL_STUN_HAS_REALM;
    case OVL_STUN_ATTR_NONCE:
        return OVL_STUN_HAS_NONCE;
    case OVL_STUN_ATTR_PRIORITY:
        return OVL_STUN_HAS_PRIORITY;
    case OVL_STUN_ATTR_USE_CANDIDATE:
        return OVL_STUN_HAS_USE_CANDIDATE;
    case OVL_STUN_ATTR_SOFTWARE:
        return OVL_STUN_HAS_SOFTWARE;
    case OVL_STUN_ATTR_ICE_CONTROLLED:
        return OVL_STUN_HAS_ICE_CONTROLLED;
    case OVL_STUN_ATTR_ICE_CONTROLLING:
        return OVL_STUN_HAS_ICE_CONTROLLING;
    default:
        return 0;
    }
}

/* One known attribute's value (first occurrence only; the caller filters repeats). */
static int parse_known(ovl_stun_msg_t *msg, uint16_t type, const uint8_t *v, size_t len, size_t off)
{
    uint8_t mask[16];
    uint64_t u64 = 0;
    int ret = 0;

    switch (type) {
    case OVL_STUN_ATTR_MAPPED_ADDRESS:
        return parse_address(v, len, NULL, &msg->mapped);
    case OVL_STUN_ATTR_XOR_MAPPED_ADDRESS:
        ovl_store_u32(mask, OVL_STUN_MAGIC_COOKIE);
        memcpy(mask + 4, msg->txid, OVL_STUN_TXID_LEN);
        return parse_address(v, len, mask, &msg->xor_mapped);
    case OVL_STUN_ATTR_USERNAME:
        set_text(&msg->username, v, len);
        return 0;
    case OVL_STUN_ATTR_REALM:
        set_text(&msg->realm, v, len);
        return 0;
    case OVL_STUN_ATTR_NONCE:
        set_text(&msg->nonce, v, len);
        return 0;
    case OVL_STUN_ATTR_SOFTWARE:
        set_text(&msg->software, v, len);
        return 0;
    case OVL_STUN_ATTR_ERROR_CODE:
        return parse_error_code(v, len, msg);
    case OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES: /* §14.9: a list of 16-bit types */
        return len % 2 == 0 ? 0 : OVL_ERR_PARSE;
    case OVL_STUN_ATTR_MESSAGE_INTEGRITY:
        msg->integrity_off = off;
        return len == OVL_STUN_INTEGRITY_LEN ? 0 : OVL_ERR_PARSE;
    case OVL_STUN_ATTR_FINGERPRINT:
        msg->fingerprint_off = off;
        return len == 4 ? 0 : OVL_ERR_PARSE;
    case OVL_STUN_ATTR_PRIORITY: /* RFC 8445 §7.1.1: 32 bits */
        ret = get_fixed(v, len, 4, &u64);
        msg->priority = (uint32_t)u64;
        return ret;
    case OVL_STUN_ATTR_USE_CANDIDATE: /* RFC 8445 §7.1.2: no value */
        return len == 0 ? 0 : OVL_ERR_PARSE;
    case OVL_STUN_ATTR_ICE_CONTROLLED: /* RFC 8445 §7.1.3: 64-bit tie-breaker */
        return get_fixed(v, len, 8, &msg->ice_controlled);
    case OVL_STUN_ATTR_ICE_CONTROLLING:
        return get_fixed(v, len, 8, &msg->ice_controlling);
    default:
        return OVL_ERR_PARSE;
    }
}

/*
 * RFC 8489 §5 message header, §14 attributes:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |0 0|     STUN Message Type     |         Message Length        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Magic Cookie                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                                                               |
 *  |                     Transaction ID (96 bits)                  |
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Message Type:  0                 1
 *                 2  3  4 5 6 7 8 9 0 1 2 3 4 5
 *                +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *                |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 *                |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 *                +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Each attribute (§14), padded to a multiple of 4 bytes; Length excludes the padding:
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Type                  |            Length             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Value (variable)                ....
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int parse_header(const uint8_t **p, const uint8_t *end, ovl_stun_msg_t *msg)
{
    uint16_t type, length;
    uint32_t cookie;
    const uint8_t *txid;

    if (ovl_get_u16(p, end, &type) < 0 || ovl_get_u16(p, end, &length) < 0 || ovl_get_u32(p, end, &cookie) < 0 ||
        ovl_get_block(p, end, OVL_STUN_TXID_LEN, &txid) < 0)
        return OVL_ERR_PARSE;
    if ((type & 0xc000) != 0 || cookie != OVL_STUN_MAGIC_COOKIE || length % 4 != 0 || ovl_left(*p, end) != length)
        return OVL_ERR_PARSE;
    msg->cls = (ovl_stun_class_t)(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
    msg->method = (uint16_t)((type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80));
    memcpy(msg->txid, txid, OVL_STUN_TXID_LEN);
    return 0;
}

int ovl_stun_parse(const uint8_t *pkt, size_t len, ovl_stun_msg_t *msg)
{
    const uint8_t *p = pkt, *end = pkt + len;
    bool after_integrity = false, after_fingerprint = false;
    int ret;

    memset(msg, 0, sizeof(*msg));
    if (pkt == NULL || (ret = parse_header(&p, end, msg)) < 0) {
        ret = OVL_ERR_PARSE;
        goto Exit;
    }
    while (p != end) {
        size_t off = (size_t)(p - pkt);
        uint16_t type, vlen;
        const uint8_t *value;
        if (after_fingerprint || ovl_get_u16(&p, end, &type) < 0 || ovl_get_u16(&p, end, &vlen) < 0 ||
            ovl_get_block(&p, end, vlen, &value) < 0 || ovl_skip(&p, end, (4 - vlen % 4) % 4) < 0) {
            ret = OVL_ERR_PARSE; /* §14.7: FINGERPRINT is last; §14: attributes stay inside the message */
            goto Exit;
        }
        /* §14.5: after MESSAGE-INTEGRITY only FINGERPRINT counts (MESSAGE-INTEGRITY-SHA256, which we
         * do not implement, is ignored too). */
        if (after_integrity && type != OVL_STUN_ATTR_FINGERPRINT)
            continue;
        uint32_t bit = attr_bit(type);
        if (bit == 0) {
            if (type < 0x8000) /* §14: comprehension-required */
                note_unknown(msg, type);
            continue;
        }
        if (msg->has & bit) /* §14: only the first occurrence is processed */
            continue;
        if ((ret = parse_known(msg, type, value, vlen, off)) < 0)
            goto Exit;
        msg->has |= bit;
        after_integrity |= type == OVL_STUN_ATTR_MESSAGE_INTEGRITY;
        after_fingerprint |= type == OVL_STUN_ATTR_FINGERPRINT;
    }
    msg->pkt = pkt;
    msg->len = len;
    ret = msg->unknown_count != 0 ? OVL_ERR_UNSUPPORTED : 0;

Exit:
    if (ret < 0 && ret != OVL_ERR_UNSUPPORTED)
        memset(msg, 0, sizeof(*msg));
    return ret;
}

int ovl_stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len, const uint8_t *body,
                       size_t body_len, uint8_t out[OVL_STUN_INTEGRITY_LEN])
{
    static const uint8_t empty_key[1] = {0};
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    size_t out_len = 0;
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    int ret = OVL_ERR_CRYPTO;

    if (key == NULL) /* an empty key is legal HMAC; OpenSSL wants a non-NULL pointer for it */
        key = empty_key, key_len = 0;
    if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL || (ctx = EVP_MAC_CTX_new(mac)) == NULL)
        goto Exit;
    if (!EVP_MAC_init(ctx, key, key_len, params) || !EVP_MAC_update(ctx, head, head_len) ||
        !EVP_MAC_update(ctx, body, body_len) || !EVP_MAC_final(ctx, out, &out_len, OVL_STUN_INTEGRITY_LEN) ||
        out_len != OVL_STUN_INTEGRITY_LEN)
        goto Exit;
    ret = 0;

Exit:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ret;
}

/*
 * RFC 8489 §14.5: the HMAC covers the message up to (excluding) MESSAGE-INTEGRITY, with the header's
 * length field set as if MESSAGE-INTEGRITY were the last attribute. The header is patched in a copy,
 * the packet itself stays read-only.
 */
int ovl_stun_check_integrity(const ovl_stun_msg_t *msg, const uint8_t *key, size_t key_len)
{
    uint8_t head[OVL_STUN_HEADER_LEN], mac[OVL_STUN_INTEGRITY_LEN];
    int ret;

    if (!(msg->has & OVL_STUN_HAS_INTEGRITY))
        return OVL_ERR_NOTFOUND;
    size_t off = msg->integrity_off;
    memcpy(head, msg->pkt, OVL_STUN_HEADER_LEN);
    ovl_store_u16(head + 2, (uint16_t)(off + 4 + OVL_STUN_INTEGRITY_LEN - OVL_STUN_HEADER_LEN));
    if ((ret = ovl_stun_hmac_sha1(key, key_len, head, sizeof(head), msg->pkt + OVL_STUN_HEADER_LEN,
                                  off - OVL_STUN_HEADER_LEN, mac)) < 0)
        return ret;
    return CRYPTO_memcmp(mac, msg->pkt + off + 4, OVL_STUN_INTEGRITY_LEN) == 0 ? 0 : OVL_ERR_AUTH;
}

/* RFC 8489 §14.7. FINGERPRINT is the last attribute (the parser enforces it), so the header's length
 * field already has the value the CRC must see. */
int ovl_stun_check_fingerprint(const ovl_stun_msg_t *msg)
{
    if (!(msg->has & OVL_STUN_HAS_FINGERPRINT))
        return OVL_ERR_NOTFOUND;
    size_t off = msg->fingerprint_off;
    uint32_t want = ovl_crc32(0, msg->pkt, off) ^ OVL_STUN_FINGERPRINT_XOR;
    return ovl_load_u32(msg->pkt + off + 4) == want ? 0 : OVL_ERR_PARSE;
}

int ovl_stun_long_term_key(const char *username, size_t username_len, const char *realm, size_t realm_len,
                           const char *password, size_t password_len, uint8_t key[OVL_STUN_LONG_TERM_KEYLEN])
{
    EVP_MD_CTX *ctx = NULL;
    unsigned int out_len = 0;
    int ret = OVL_ERR_CRYPTO;

    memset(key, 0, OVL_STUN_LONG_TERM_KEYLEN);
    if ((ctx = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ||
        !EVP_DigestUpdate(ctx, username, username_len) || !EVP_DigestUpdate(ctx, ":", 1) ||
        !EVP_DigestUpdate(ctx, realm, realm_len) || !EVP_DigestUpdate(ctx, ":", 1) ||
        !EVP_DigestUpdate(ctx, password, password_len) || !EVP_DigestFinal_ex(ctx, key, &out_len) ||
        out_len != OVL_STUN_LONG_TERM_KEYLEN)
        goto Exit;
    ret = 0;

Exit:
    EVP_MD_CTX_free(ctx);
    return ret;
}

const char *ovl_stun_class_name(ovl_stun_class_t cls)
{
    switch (cls) {
    case OVL_STUN_REQUEST:
        return "request";
    case OVL_STUN_INDICATION:
        return "indication";
    case OVL_STUN_SUCCESS:
        return "success";
    case OVL_STUN_ERROR:
        return "error";
    }
    return "unknown";
}
