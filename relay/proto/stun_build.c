/* STUN message builder (RFC 8489) into caller storage. Layouts are drawn above the parsers in stun.c. */
#include <string.h>

#include "relay/proto/crc32.h"
#include "relay/proto/stun.h"

#define MAX_MESSAGE_LENGTH 0xfffcu /* largest multiple of 4 the 16-bit length field holds */
#define MAX_TEXT_LEN       763     /* §14.8, §14.14: reason phrase and SOFTWARE */

/* Records the first error and removes everything of the message from the buffer. */
static int fail(ovl_stun_builder_t *b, int err)
{
    if (b->err == 0) {
        b->err = err;
        if (b->out != NULL)
            b->out->len = b->start;
    }
    return b->err;
}

static uint8_t *msg_base(ovl_stun_builder_t *b)
{
    return b->out->base + b->start;
}

static size_t msg_len(const ovl_stun_builder_t *b)
{
    return b->out->len - b->start;
}

static void set_length(ovl_stun_builder_t *b, size_t body_len)
{
    ovl_store_u16(msg_base(b) + 2, (uint16_t)body_len);
}

int ovl_stun_build_start(ovl_stun_builder_t *b, ovl_wbuf_t *out, ovl_stun_class_t cls, uint16_t method,
                         const uint8_t txid[OVL_STUN_TXID_LEN])
{
    memset(b, 0, sizeof(*b));
    b->out = out;
    if (out == NULL || txid == NULL || method > 0x0fff || (unsigned)cls > OVL_STUN_ERROR) {
        b->out = NULL;
        return fail(b, OVL_ERR_ARG);
    }
    b->start = out->len;
    memcpy(b->txid, txid, OVL_STUN_TXID_LEN);
    unsigned c = (unsigned)cls;
    uint16_t type = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) |
                               ((c & 1) << 4) | ((c & 2) << 7));
    if (ovl_put_u16(out, type) < 0 || ovl_put_u16(out, 0) < 0 || ovl_put_u32(out, OVL_STUN_MAGIC_COOKIE) < 0 ||
        ovl_put_bytes(out, txid, OVL_STUN_TXID_LEN) < 0)
        return fail(b, OVL_ERR_LIMIT);
    return 0;
}

/* Appends type, length and the value in up to two pieces, then padding; keeps the header length current. */
static int put_attr2(ovl_stun_builder_t *b, uint16_t type, const void *v1, size_t l1, const void *v2, size_t l2)
{
    if (b->err)
        return b->err;
    if (b->has_fingerprint || (b->has_integrity && type != OVL_STUN_ATTR_FINGERPRINT))
        return fail(b, OVL_ERR_STATE);
    size_t len = l1 + l2, pad = (4 - len % 4) % 4;
    if (len > 0xffff || msg_len(b) - OVL_STUN_HEADER_LEN + 4 + len + pad > MAX_MESSAGE_LENGTH)
        return fail(b, OVL_ERR_LIMIT);
    if (ovl_put_u16(b->out, type) < 0 || ovl_put_u16(b->out, (uint16_t)len) < 0 || ovl_put_bytes(b->out, v1, l1) < 0 ||
        ovl_put_bytes(b->out, v2, l2) < 0 || b->out->cap - b->out->len < pad)
        return fail(b, OVL_ERR_LIMIT);
    memset(b->out->base + b->out->len, b->pad, pad);
    b->out->len += pad;
    set_length(b, msg_len(b) - OVL_STUN_HEADER_LEN);
    return 0;
}

int ovl_stun_add_attr(ovl_stun_builder_t *b, uint16_t type, const void *value, size_t len)
{
    if (value == NULL && len != 0)
        return fail(b, OVL_ERR_ARG);
    return put_attr2(b, type, value, len, NULL, 0);
}

/* Family, port and address per RFC 8489 §14.1/§14.2; XORed when xor is set. */
static int put_address(ovl_stun_builder_t *b, uint16_t type, const ovl_addr_t *a, bool xor)
{
    uint8_t v[20], mask[16];
    size_t ip_len;

    if (a == NULL || (a->family != OVL_ADDR_IPV4 && a->family != OVL_ADDR_IPV6))
        return fail(b, OVL_ERR_ARG);
    ip_len = a->family == OVL_ADDR_IPV4 ? 4 : 16;
    ovl_store_u32(mask, OVL_STUN_MAGIC_COOKIE);
    memcpy(mask + 4, b->txid, OVL_STUN_TXID_LEN);
    uint16_t port = a->port;
    if (xor)
        port ^= (uint16_t)(OVL_STUN_MAGIC_COOKIE >> 16);
    v[0] = 0;
    v[1] = a->family == OVL_ADDR_IPV4 ? 0x01 : 0x02;
    ovl_store_u16(v + 2, port);
    for (size_t i = 0; i < ip_len; i++)
        v[4 + i] = xor? a->ip[i] ^ mask[i] : a->ip[i];
    return put_attr2(b, type, v, 4 + ip_len, NULL, 0);
}

int ovl_stun_add_xor_mapped_address(ovl_stun_builder_t *b, const ovl_addr_t *addr)
{
    return put_address(b, OVL_STUN_ATTR_XOR_MAPPED_ADDRESS, addr, true);
}

int ovl_stun_add_mapped_address(ovl_stun_builder_t *b, const ovl_addr_t *addr)
{
    return put_address(b, OVL_STUN_ATTR_MAPPED_ADDRESS, addr, false);
}

int ovl_stun_add_username(ovl_stun_builder_t *b, const char *username, size_t len)
{
    return ovl_stun_add_attr(b, OVL_STUN_ATTR_USERNAME, username, len);
}

int ovl_stun_add_software(ovl_stun_builder_t *b, const char *software)
{
    size_t len = software ? strlen(software) : 0;
    if (len > MAX_TEXT_LEN)
        return fail(b, OVL_ERR_ARG);
    return ovl_stun_add_attr(b, OVL_STUN_ATTR_SOFTWARE, software, len);
}

int ovl_stun_add_priority(ovl_stun_builder_t *b, uint32_t priority)
{
    uint8_t v[4];
    ovl_store_u32(v, priority);
    return put_attr2(b, OVL_STUN_ATTR_PRIORITY, v, 4, NULL, 0);
}

int ovl_stun_add_use_candidate(ovl_stun_builder_t *b)
{
    return put_attr2(b, OVL_STUN_ATTR_USE_CANDIDATE, NULL, 0, NULL, 0);
}

static int put_u64_attr(ovl_stun_builder_t *b, uint16_t type, uint64_t value)
{
    uint8_t v[8];
    ovl_store_u32(v, (uint32_t)(value >> 32));
    ovl_store_u32(v + 4, (uint32_t)value);
    return put_attr2(b, type, v, 8, NULL, 0);
}

int ovl_stun_add_ice_controlling(ovl_stun_builder_t *b, uint64_t tie_breaker)
{
    return put_u64_attr(b, OVL_STUN_ATTR_ICE_CONTROLLING, tie_breaker);
}

int ovl_stun_add_ice_controlled(ovl_stun_builder_t *b, uint64_t tie_breaker)
{
    return put_u64_attr(b, OVL_STUN_ATTR_ICE_CONTROLLED, tie_breaker);
}

int ovl_stun_add_error_code(ovl_stun_builder_t *b, uint16_t code, const char *reason)
{
    uint8_t v[4];
    size_t len = reason ? strlen(reason) : 0;
    if (code < 300 || code > 699 || len > MAX_TEXT_LEN)
        return fail(b, OVL_ERR_ARG);
    ovl_store_u32(v, (uint32_t)(code / 100) << 8 | (uint32_t)(code % 100));
    return put_attr2(b, OVL_STUN_ATTR_ERROR_CODE, v, 4, reason, len);
}

int ovl_stun_add_unknown_attributes(ovl_stun_builder_t *b, const uint16_t *types, size_t n)
{
    uint8_t v[2 * OVL_STUN_MAX_UNKNOWN];
    if (n > OVL_STUN_MAX_UNKNOWN || (types == NULL && n != 0))
        return fail(b, OVL_ERR_ARG);
    for (size_t i = 0; i < n; i++)
        ovl_store_u16(v + 2 * i, types[i]);
    return put_attr2(b, OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * n, NULL, 0);
}

/* §14.5: the length field counts MESSAGE-INTEGRITY while the HMAC is computed over what precedes it. */
int ovl_stun_add_integrity(ovl_stun_builder_t *b, const uint8_t *key, size_t key_len)
{
    uint8_t mac[OVL_STUN_INTEGRITY_LEN];
    int ret;

    if (b->err)
        return b->err;
    if (b->has_integrity || b->has_fingerprint)
        return fail(b, OVL_ERR_STATE);
    size_t body = msg_len(b) - OVL_STUN_HEADER_LEN;
    if (body + 4 + OVL_STUN_INTEGRITY_LEN > MAX_MESSAGE_LENGTH)
        return fail(b, OVL_ERR_LIMIT);
    set_length(b, body + 4 + OVL_STUN_INTEGRITY_LEN);
    if ((ret = ovl_stun_hmac_sha1(key, key_len, msg_base(b), msg_len(b), NULL, 0, mac)) < 0)
        return fail(b, ret);
    set_length(b, body);
    if ((ret = put_attr2(b, OVL_STUN_ATTR_MESSAGE_INTEGRITY, mac, sizeof(mac), NULL, 0)) < 0)
        return ret;
    b->has_integrity = true;
    return 0;
}

/* §14.7: CRC-32 over everything before FINGERPRINT, the length field already counting it. */
int ovl_stun_add_fingerprint(ovl_stun_builder_t *b)
{
    uint8_t v[4];
    int ret;

    if (b->err)
        return b->err;
    if (b->has_fingerprint)
        return fail(b, OVL_ERR_STATE);
    size_t body = msg_len(b) - OVL_STUN_HEADER_LEN;
    if (body + 8 > MAX_MESSAGE_LENGTH)
        return fail(b, OVL_ERR_LIMIT);
    set_length(b, body + 8);
    ovl_store_u32(v, ovl_crc32(0, msg_base(b), msg_len(b)) ^ OVL_STUN_FINGERPRINT_XOR);
    set_length(b, body);
    if ((ret = put_attr2(b, OVL_STUN_ATTR_FINGERPRINT, v, sizeof(v), NULL, 0)) < 0)
        return ret;
    b->has_fingerprint = true;
    return 0;
}

int ovl_stun_build_finish(ovl_stun_builder_t *b, const uint8_t *key, size_t key_len)
{
    if (key != NULL)
        ovl_stun_add_integrity(b, key, key_len);
    ovl_stun_add_fingerprint(b);
    return b->err;
}
