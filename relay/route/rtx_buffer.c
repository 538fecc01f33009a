/*
 * The retransmission buffer: fixed slots in one slab, indexed by extended sequence number. See rtx_buffer.h.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/route/rtx_buffer.h"

typedef struct slot {
    int64_t ext_seq; /* -1: empty */
    uint32_t ts;
    uint16_t payload_len;
    uint8_t pad_len;
    bool marker, keyframe;
    uint8_t n_ext;
    uint8_t ext_len; /* bytes used in ext */
    uint8_t ext[OVL_ROUTE_RTX_EXT_BYTES];
    uint8_t payload[OVL_ROUTE_RTX_PAYLOAD_MAX];
} slot_t;

struct ovl_route_rtx {
    size_t mask;
    slot_t slots[];
};

int ovl_route_rtx_new(size_t n, ovl_route_rtx_t **out)
{
    *out = NULL;
    if (n < 16 || n > 4096 || (n & (n - 1)) != 0)
        return OVL_ERR_ARG;
    ovl_route_rtx_t *b = malloc(sizeof(*b) + n * sizeof(slot_t));
    if (!b)
        return OVL_ERR_NOMEM;
    b->mask = n - 1;
    for (size_t i = 0; i < n; i++)
        b->slots[i].ext_seq = -1;
    *out = b;
    return 0;
}

void ovl_route_rtx_free(ovl_route_rtx_t *b)
{
    free(b);
}

int ovl_route_rtx_put(ovl_route_rtx_t *b, const ovl_route_pkt_t *pkt)
{
    slot_t *s = &b->slots[(uint64_t)pkt->ext_seq & b->mask];
    size_t ext_len = 0;
    if (s->ext_seq == pkt->ext_seq)
        return OVL_ERR_REPLAY;
    if (s->ext_seq > pkt->ext_seq || pkt->payload_len > OVL_ROUTE_RTX_PAYLOAD_MAX)
        return OVL_ERR_LIMIT;
    for (size_t i = 0; i < pkt->n_ext; i++)
        ext_len += 2u + pkt->ext[i].len;
    if (ext_len > OVL_ROUTE_RTX_EXT_BYTES)
        return OVL_ERR_LIMIT;
    s->ext_seq = pkt->ext_seq;
    s->ts = pkt->ts;
    s->payload_len = (uint16_t)pkt->payload_len;
    s->pad_len = pkt->pad_len;
    s->marker = pkt->marker;
    s->keyframe = pkt->keyframe;
    s->n_ext = (uint8_t)pkt->n_ext;
    s->ext_len = (uint8_t)ext_len;
    uint8_t *e = s->ext;
    for (size_t i = 0; i < pkt->n_ext; i++) {
        e[0] = pkt->ext[i].ext;
        e[1] = pkt->ext[i].len;
        memcpy(e + 2, pkt->ext[i].data, pkt->ext[i].len);
        e += 2 + pkt->ext[i].len;
    }
    if (pkt->payload_len)
        memcpy(s->payload, pkt->payload, pkt->payload_len);
    return 0;
}

bool ovl_route_rtx_has(const ovl_route_rtx_t *b, int64_t ext_seq)
{
    return ext_seq >= 0 && b->slots[(uint64_t)ext_seq & b->mask].ext_seq == ext_seq;
}

int ovl_route_rtx_get(const ovl_route_rtx_t *b, int64_t ext_seq, ovl_route_pkt_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!ovl_route_rtx_has(b, ext_seq))
        return OVL_ERR_NOTFOUND;
    const slot_t *s = &b->slots[(uint64_t)ext_seq & b->mask];
    out->ext_seq = s->ext_seq;
    out->seq = (uint16_t)s->ext_seq;
    out->ts = s->ts;
    out->marker = s->marker;
    out->keyframe = s->keyframe;
    out->payload = s->payload;
    out->payload_len = s->payload_len;
    out->pad_len = s->pad_len;
    out->n_ext = s->n_ext;
    const uint8_t *e = s->ext;
    for (size_t i = 0; i < s->n_ext; i++) {
        out->ext[i].ext = e[0];
        out->ext[i].len = e[1];
        out->ext[i].data = e + 2;
        e += 2 + e[1];
    }
    return 0;
}
