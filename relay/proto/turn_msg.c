/* TURN wire details: stream framing, attributes, XOR addresses, REST credentials, nonces. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "relay/proto/cursor.h"
#include "relay/proto/turn_internal.h"

/*
 * RFC 8656 §12.4 ChannelData, and how a stream tells it from STUN (RFC 8656 §12, RFC 7983: the
 * first two bits are 00 for STUN, 01 for ChannelData):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Channel Number        |            Length             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   /                       Application Data                        /
 *   /                                                               /
 *   |                               +-------------------------------+
 *   |                               |
 *   +-------------------------------+
 *
 * §12.5: over TCP and TLS the message is padded to a multiple of 4 bytes; the padding is not in
 * Length. A STUN message is 20 header bytes plus its Message Length (RFC 8489 §5).
 */
int ovl_turn_frame_len(const uint8_t *buf, size_t len, size_t *frame_len)
{
    *frame_len = 0;
    if (buf == NULL || len < 4)
        return OVL_ERR_AGAIN;
    size_t body = ovl_load_u16(buf + 2);
    switch (buf[0] >> 6) {
    case 0:
        if (body % 4 != 0)
            return OVL_ERR_PARSE;
        *frame_len = OVL_STUN_HEADER_LEN + body;
        return 0;
    case 1:
        *frame_len = (4 + body + 3) & ~(size_t)3;
        return 0;
    default:
        return OVL_ERR_PARSE;
    }
}

/*
 * RFC 8489 §14.2 XOR-MAPPED-ADDRESS layout, shared by XOR-PEER-ADDRESS (RFC 8656 §18.3) and
 * XOR-RELAYED-ADDRESS (§18.5):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                X-Address (Variable)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * X-Port is the port XOR the cookie's top 16 bits; X-Address the address XOR the cookie (IPv4) or
 * the cookie and the transaction id (IPv6).
 */
static void xor_mask(const uint8_t txid[OVL_STUN_TXID_LEN], uint8_t mask[16])
{
    ovl_store_u32(mask, OVL_STUN_MAGIC_COOKIE);
    memcpy(mask + 4, txid, OVL_STUN_TXID_LEN);
}

int ovl_turn_get_xor_address(const uint8_t *v, size_t len, const uint8_t txid[OVL_STUN_TXID_LEN], ovl_addr_t *out)
{
    const uint8_t *p = v, *end = v + len, *raw;
    uint8_t reserved, family, ip[16], mask[16];
    uint16_t port;

    memset(out, 0, sizeof(*out));
    if (ovl_get_u8(&p, end, &reserved) < 0 || ovl_get_u8(&p, end, &family) < 0 || ovl_get_u16(&p, end, &port) < 0)
        return OVL_ERR_PARSE;
    size_t ip_len = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
    if (ip_len == 0 || ovl_left(p, end) != ip_len || ovl_get_block(&p, end, ip_len, &raw) < 0)
        return OVL_ERR_PARSE;
    xor_mask(txid, mask);
    for (size_t i = 0; i < ip_len; i++)
        ip[i] = raw[i] ^ mask[i];
    port ^= (uint16_t)(OVL_STUN_MAGIC_COOKIE >> 16);
    if (ip_len == 4)
        ovl_addr_set_ipv4(out, ip, port);
    else
        ovl_addr_set_ipv6(out, ip, port);
    return 0;
}

int ovl_turn_add_xor_address(ovl_stun_builder_t *b, uint16_t type, const ovl_addr_t *addr)
{
    uint8_t v[20], mask[16];
    size_t ip_len = addr->family == OVL_ADDR_IPV4 ? 4 : addr->family == OVL_ADDR_IPV6 ? 16 : 0;
    if (ip_len == 0)
        return ovl_stun_add_attr(b, type, NULL, 1); /* no value with a length: records OVL_ERR_ARG */
    xor_mask(b->txid, mask);
    v[0] = 0;
    v[1] = ip_len == 4 ? 0x01 : 0x02;
    ovl_store_u16(v + 2, (uint16_t)(addr->port ^ (OVL_STUN_MAGIC_COOKIE >> 16)));
    for (size_t i = 0; i < ip_len; i++)
        v[4 + i] = addr->ip[i] ^ mask[i];
    return ovl_stun_add_attr(b, type, v, 4 + ip_len);
}

/* STUN attributes the parser knows (RFC 8489, RFC 8445): not unknown to a TURN server either. */
static bool stun_known(uint16_t type)
{
    switch (type) {
    case OVL_STUN_ATTR_MAPPED_ADDRESS:
    case OVL_STUN_ATTR_USERNAME:
    case OVL_STUN_ATTR_MESSAGE_INTEGRITY:
    case OVL_STUN_ATTR_ERROR_CODE:
    case OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES:
    case OVL_STUN_ATTR_REALM:
    case OVL_STUN_ATTR_NONCE:
    case OVL_STUN_ATTR_XOR_MAPPED_ADDRESS:
    case OVL_STUN_ATTR_PRIORITY:
    case OVL_STUN_ATTR_USE_CANDIDATE:
        return true;
    default:
        return false;
    }
}

static void note_unknown(ovl_turn_attrs_t *a, uint16_t type)
{
    for (size_t i = 0; i < a->n_unknown; i++)
        if (a->unknown[i] == type)
            return;
    if (a->n_unknown < OVL_STUN_MAX_UNKNOWN)
        a->unknown[a->n_unknown++] = type;
}

/* A fixed-size value must have exactly its size. */
static int fixed(size_t len, size_t want)
{
    return len == want ? 0 : OVL_ERR_PARSE;
}

/*
 * One TURN attribute (RFC 8656 §18):
 *   CHANNEL-NUMBER (§18.1)          number (16) | RFFU = 0 (16)
 *   LIFETIME (§18.2)                seconds (32)
 *   XOR-PEER-ADDRESS (§18.3)        an XOR address
 *   DATA (§18.4)                    any bytes
 *   REQUESTED-ADDRESS-FAMILY (§18.6) family (8) | reserved (24)
 *   EVEN-PORT (§18.7)               R (1) | RFFU (7)
 *   REQUESTED-TRANSPORT (§18.8)     protocol (8) | RFFU (24)
 *   DONT-FRAGMENT (§18.9)           no value
 *   RESERVATION-TOKEN (§18.10)      token (64)
 *   ADDITIONAL-ADDRESS-FAMILY (§18.11) family (8) | reserved (24)
 */
static int parse_turn_attr(const ovl_stun_msg_t *m, ovl_turn_attrs_t *a, uint16_t type, const uint8_t *v, size_t len,
                           uint32_t *bit)
{
    *bit = 0;
    switch (type) {
    case OVL_TURN_ATTR_CHANNEL_NUMBER:
        *bit = OVL_TURN_HAS_CHANNEL;
        if (a->has & *bit)
            return 0;
        a->channel = len == 4 ? ovl_load_u16(v) : 0;
        return fixed(len, 4);
    case OVL_TURN_ATTR_LIFETIME:
        *bit = OVL_TURN_HAS_LIFETIME;
        if (a->has & *bit)
            return 0;
        a->lifetime = len == 4 ? ovl_load_u32(v) : 0;
        return fixed(len, 4);
    case OVL_TURN_ATTR_XOR_PEER_ADDRESS:
        *bit = OVL_TURN_HAS_PEER;
        if (a->n_peers == OVL_TURN_MAX_PERMISSIONS) {
            a->too_many_peers = true;
            return 0;
        }
        return ovl_turn_get_xor_address(v, len, m->txid, &a->peers[a->n_peers++]);
    case OVL_TURN_ATTR_DATA:
        *bit = OVL_TURN_HAS_DATA;
        if (!(a->has & *bit)) {
            a->data = v;
            a->data_len = len;
        }
        return 0;
    case OVL_TURN_ATTR_REQUESTED_ADDRESS_FAMILY:
        *bit = OVL_TURN_HAS_FAMILY;
        if (a->has & *bit)
            return 0;
        a->family = len == 4 ? v[0] : 0;
        return fixed(len, 4);
    case OVL_TURN_ATTR_EVEN_PORT:
        *bit = OVL_TURN_HAS_EVEN_PORT;
        if (a->has & *bit)
            return 0;
        a->even_port_r = len == 1 && (v[0] & 0x80) != 0;
        return fixed(len, 1);
    case OVL_TURN_ATTR_REQUESTED_TRANSPORT:
        *bit = OVL_TURN_HAS_TRANSPORT;
        if (a->has & *bit)
            return 0;
        a->transport = len == 4 ? v[0] : 0;
        return fixed(len, 4);
    case OVL_TURN_ATTR_DONT_FRAGMENT:
        *bit = OVL_TURN_HAS_DONT_FRAGMENT;
        return fixed(len, 0);
    case OVL_TURN_ATTR_RESERVATION_TOKEN:
        *bit = OVL_TURN_HAS_RESERVATION;
        return fixed(len, 8);
    case OVL_TURN_ATTR_ADDITIONAL_ADDRESS_FAMILY:
        *bit = OVL_TURN_HAS_ADDITIONAL_FAMILY;
        return fixed(len, 4);
    case OVL_TURN_ATTR_XOR_RELAYED_ADDRESS: /* a server's attribute: ignored in a request */
        return 0;
    default:
        if (type < 0x8000 && !stun_known(type)) /* RFC 8489 §14: comprehension-required */
            note_unknown(a, type);
        return 0;
    }
}

/* RFC 8489 §14: type (16), length (16), value padded to 4 bytes; attributes after
 * MESSAGE-INTEGRITY are ignored (§14.5). */
int ovl_turn_attrs_parse(const ovl_stun_msg_t *m, ovl_turn_attrs_t *a)
{
    memset(a, 0, sizeof(*a));
    if (m->pkt == NULL || m->len < OVL_STUN_HEADER_LEN)
        return OVL_ERR_PARSE;
    const uint8_t *p = m->pkt + OVL_STUN_HEADER_LEN, *end = m->pkt + m->len;
    while (p != end) {
        uint16_t type, vlen;
        const uint8_t *v;
        uint32_t bit;
        if (ovl_get_u16(&p, end, &type) < 0 || ovl_get_u16(&p, end, &vlen) < 0 ||
            ovl_get_block(&p, end, vlen, &v) < 0 || ovl_skip(&p, end, (4 - vlen % 4) % 4) < 0)
            return OVL_ERR_PARSE;
        if (type == OVL_STUN_ATTR_MESSAGE_INTEGRITY)
            break;
        if (parse_turn_attr(m, a, type, v, vlen, &bit) < 0)
            return OVL_ERR_PARSE;
        a->has |= bit;
    }
    return 0;
}

int ovl_turn_rest_username(const char *u, size_t len, int64_t *expiry, size_t *participant_off)
{
    int64_t v = 0;
    size_t i = 0;

    *expiry = 0;
    *participant_off = 0;
    for (; i < len && u[i] >= '0' && u[i] <= '9'; i++) {
        if (i == 18)
            return OVL_ERR_PARSE; /* 19 digits or more could overflow; real expiries have 10 */
        v = v * 10 + (u[i] - '0');
    }
    if (i == 0 || i + 1 >= len || u[i] != ':')
        return OVL_ERR_PARSE;
    *expiry = v;
    *participant_off = i + 1;
    return 0;
}

int ovl_turn_rest_password(const uint8_t *secret, size_t secret_len, const char *username, size_t username_len,
                           char *out, size_t cap)
{
    uint8_t mac[OVL_STUN_INTEGRITY_LEN];
    int ret;

    if (out == NULL || cap < OVL_TURN_REST_PASSWORD_LEN + 1 || secret == NULL || username == NULL)
        return OVL_ERR_ARG;
    if ((ret = ovl_stun_hmac_sha1(secret, secret_len, (const uint8_t *)username, username_len, NULL, 0, mac)) < 0)
        return ret;
    if (EVP_EncodeBlock((unsigned char *)out, mac, sizeof(mac)) != OVL_TURN_REST_PASSWORD_LEN)
        return OVL_ERR_CRYPTO;
    return 0;
}

static const char hex[] = "0123456789abcdef";

static void nonce_mac(const uint8_t key[OVL_TURN_NONCE_KEY_LEN], uint64_t id, ovl_time_t expiry, char out[16])
{
    uint8_t in[16], mac[OVL_STUN_INTEGRITY_LEN] = {0};
    ovl_store_u32(in, (uint32_t)(expiry >> 32));
    ovl_store_u32(in + 4, (uint32_t)expiry);
    ovl_store_u32(in + 8, (uint32_t)(id >> 32));
    ovl_store_u32(in + 12, (uint32_t)id);
    (void)ovl_stun_hmac_sha1(key, OVL_TURN_NONCE_KEY_LEN, in, sizeof(in), NULL, 0, mac); /* zeros on failure */
    for (size_t i = 0; i < 8; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
}

int ovl_turn_nonce_make(const uint8_t key[OVL_TURN_NONCE_KEY_LEN], uint64_t id, ovl_time_t expiry,
                        char out[OVL_TURN_NONCE_LEN])
{
    for (size_t i = 0; i < 16; i++)
        out[i] = hex[(expiry >> (60 - 4 * i)) & 15];
    nonce_mac(key, id, expiry, out + 16);
    return 0;
}

bool ovl_turn_nonce_valid(const uint8_t key[OVL_TURN_NONCE_KEY_LEN], uint64_t id, const char *nonce, size_t len,
                          ovl_time_t now)
{
    ovl_time_t expiry = 0;
    char want[16];
    if (nonce == NULL || len != OVL_TURN_NONCE_LEN)
        return false;
    for (size_t i = 0; i < 16; i++) {
        const char *d = memchr(hex, nonce[i], 16);
        if (d == NULL || nonce[i] == '\0')
            return false;
        expiry = expiry << 4 | (ovl_time_t)(d - hex);
    }
    if (now >= expiry)
        return false;
    nonce_mac(key, id, expiry, want);
    return CRYPTO_memcmp(want, nonce + 16, 16) == 0;
}
