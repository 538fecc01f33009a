/*
 * Bounds-checked cursors for every wire parser and builder.
 *
 * Reading: a decoder holds `const uint8_t *p, *end` and calls ovl_get_*(&p, end, &v); each call
 * checks the remaining length first, advances `p` only on success and returns 0 or OVL_ERR_PARSE.
 * Network byte order throughout.
 *
 * Writing: an ovl_wbuf_t wraps caller storage; each ovl_put_* checks the remaining capacity and
 * returns 0 or OVL_ERR_LIMIT without writing a partial value.
 */
#ifndef OVL_CURSOR_H
#define OVL_CURSOR_H

#include <stdint.h>
#include <string.h>

#include "relay/proto/base.h"

static inline size_t ovl_left(const uint8_t *p, const uint8_t *end)
{
    return (size_t)(end - p);
}

static inline int ovl_get_u8(const uint8_t **p, const uint8_t *end, uint8_t *v)
{
    if (ovl_left(*p, end) < 1)
        return OVL_ERR_PARSE;
    *v = (*p)[0];
    *p += 1;
    return 0;
}

static inline int ovl_get_u16(const uint8_t **p, const uint8_t *end, uint16_t *v)
{
    if (ovl_left(*p, end) < 2)
        return OVL_ERR_PARSE;
    *v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
    *p += 2;
    return 0;
}

static inline int ovl_get_u24(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (ovl_left(*p, end) < 3)
        return OVL_ERR_PARSE;
    *v = (uint32_t)(*p)[0] << 16 | (uint32_t)(*p)[1] << 8 | (*p)[2];
    *p += 3;
    return 0;
}

static inline int ovl_get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (ovl_left(*p, end) < 4)
        return OVL_ERR_PARSE;
    *v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
    *p += 4;
    return 0;
}

static inline int ovl_get_u64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint32_t hi = 0, lo = 0;
    if (ovl_left(*p, end) < 8)
        return OVL_ERR_PARSE;
    ovl_get_u32(p, end, &hi);
    ovl_get_u32(p, end, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/** Takes `len` bytes as a sub-block: *blk points at them, *p moves past them. */
static inline int ovl_get_block(const uint8_t **p, const uint8_t *end, size_t len, const uint8_t **blk)
{
    if (ovl_left(*p, end) < len)
        return OVL_ERR_PARSE;
    *blk = *p;
    *p += len;
    return 0;
}

static inline int ovl_skip(const uint8_t **p, const uint8_t *end, size_t len)
{
    const uint8_t *unused;
    return ovl_get_block(p, end, len, &unused);
}

/* Big-endian stores into memory the caller has already bounds-checked (in-place rewrites). */
static inline void ovl_store_u16(uint8_t *d, uint16_t v)
{
    d[0] = (uint8_t)(v >> 8);
    d[1] = (uint8_t)v;
}

static inline void ovl_store_u32(uint8_t *d, uint32_t v)
{
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}

static inline uint16_t ovl_load_u16(const uint8_t *s)
{
    return (uint16_t)(s[0] << 8 | s[1]);
}

static inline uint32_t ovl_load_u32(const uint8_t *s)
{
    return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

typedef struct ovl_wbuf {
    uint8_t *base; /* borrowed */
    size_t len;
    size_t cap;
} ovl_wbuf_t;

static inline void ovl_wbuf_init(ovl_wbuf_t *b, uint8_t *base, size_t cap)
{
    b->base = base;
    b->len = 0;
    b->cap = cap;
}

static inline int ovl_put_bytes(ovl_wbuf_t *b, const void *src, size_t len)
{
    if (b->cap - b->len < len)
        return OVL_ERR_LIMIT;
    if (len)
        memcpy(b->base + b->len, src, len);
    b->len += len;
    return 0;
}

static inline int ovl_put_zeros(ovl_wbuf_t *b, size_t len)
{
    if (b->cap - b->len < len)
        return OVL_ERR_LIMIT;
    memset(b->base + b->len, 0, len);
    b->len += len;
    return 0;
}

static inline int ovl_put_u8(ovl_wbuf_t *b, uint8_t v)
{
    return ovl_put_bytes(b, &v, 1);
}

static inline int ovl_put_u16(ovl_wbuf_t *b, uint16_t v)
{
    uint8_t d[2];
    ovl_store_u16(d, v);
    return ovl_put_bytes(b, d, 2);
}

static inline int ovl_put_u24(ovl_wbuf_t *b, uint32_t v)
{
    uint8_t d[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return ovl_put_bytes(b, d, 3);
}

static inline int ovl_put_u32(ovl_wbuf_t *b, uint32_t v)
{
    uint8_t d[4];
    ovl_store_u32(d, v);
    return ovl_put_bytes(b, d, 4);
}

static inline int ovl_put_u64(ovl_wbuf_t *b, uint64_t v)
{
    uint8_t d[8];
    ovl_store_u32(d, (uint32_t)(v >> 32));
    ovl_store_u32(d + 4, (uint32_t)v);
    return ovl_put_bytes(b, d, 8);
}

#endif
