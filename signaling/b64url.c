/* Base64url without padding, RFC 4648 §5 (the URL- and filename-safe alphabet). */
#include "signaling/b64url.h"

#include "relay/proto/base.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t ovl_b64url_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int ovl_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < ovl_b64url_len(n) + 1)
        return OVL_ERR_LIMIT;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (left > 1)
            out[o++] = alphabet[(v >> 6) & 63];
        if (left > 2)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
    return 0;
}

int ovl_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    *outlen = 0;
    if (n % 4 == 1)
        return OVL_ERR_PARSE;
    size_t need = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    if (need > cap)
        return OVL_ERR_LIMIT;
    for (size_t i = 0; i < n; i += 4) {
        size_t chunk = n - i < 4 ? n - i : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = 0;
            if (k < chunk && (d = value_of(in[i + k])) < 0)
                return OVL_ERR_PARSE;
            v = v << 6 | (uint32_t)d;
        }
        /* Trailing bits of a short final group must be zero (canonical encoding). */
        if ((chunk == 2 && (v & 0xffff)) || (chunk == 3 && (v & 0xff)))
            return OVL_ERR_PARSE;
        out[o++] = (uint8_t)(v >> 16);
        if (chunk > 2)
            out[o++] = (uint8_t)(v >> 8);
        if (chunk > 3)
            out[o++] = (uint8_t)v;
    }
    *outlen = o;
    return 0;
}
