/* RTP (RFC 3550 §5.1) with RFC 8285 header extensions: parse to a view, rewrite in place, build. */
#include "relay/proto/rtp.h"

#include <string.h>

/*
 * RFC 3550 §5.1, RTP fixed header:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 3550 §5.3.1, header extension (present when X = 1, after the CSRCs):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 *
 * "length" counts 32-bit words after this 4-byte header. With P = 1 the last octet of the packet
 * counts the padding octets, itself included (§5.1), so it is at least 1.
 */
int ovl_rtp_parse(ovl_rtp_t *rtp, const uint8_t *pkt, size_t len)
{
    const uint8_t *p = pkt, *end = pkt + len;
    uint8_t b0, b1;
    int ret = OVL_ERR_PARSE;

    memset(rtp, 0, sizeof(*rtp));
    if (pkt == NULL)
        goto Exit;
    if (ovl_get_u8(&p, end, &b0) || ovl_get_u8(&p, end, &b1) || ovl_get_u16(&p, end, &rtp->seq) ||
        ovl_get_u32(&p, end, &rtp->timestamp) || ovl_get_u32(&p, end, &rtp->ssrc))
        goto Exit;
    if ((b0 >> 6) != OVL_RTP_VERSION)
        goto Exit;
    rtp->padding = (b0 & 0x20) != 0;
    rtp->extension = (b0 & 0x10) != 0;
    rtp->csrc_count = b0 & 0x0f;
    rtp->marker = (b1 & 0x80) != 0;
    rtp->payload_type = b1 & 0x7f;
    if (ovl_skip(&p, end, (size_t)rtp->csrc_count * 4))
        goto Exit;

    if (rtp->extension) {
        uint16_t words;
        const uint8_t *blk;
        if (ovl_get_u16(&p, end, &rtp->ext_profile) || ovl_get_u16(&p, end, &words) ||
            ovl_get_block(&p, end, (size_t)words * 4, &blk))
            goto Exit;
        rtp->ext_off = (size_t)(blk - pkt);
        rtp->ext_len = (size_t)words * 4;
        if (rtp->ext_profile == OVL_RTP_EXT_ONE_BYTE)
            rtp->ext_form = OVL_RTP_EXT_ONE_BYTE_FORM;
        else if ((rtp->ext_profile & 0xfff0u) == OVL_RTP_EXT_TWO_BYTE)
            rtp->ext_form = OVL_RTP_EXT_TWO_BYTE_FORM;
        else
            rtp->ext_form = OVL_RTP_EXT_OTHER;
    }

    rtp->payload_off = (size_t)(p - pkt);
    rtp->payload_len = ovl_left(p, end);
    if (rtp->padding) {
        uint8_t pad = pkt[len - 1]; /* len >= 12 here */
        if (pad == 0 || pad > rtp->payload_len)
            goto Exit;
        rtp->padding_len = pad;
        rtp->payload_len -= pad;
    }
    rtp->data = pkt;
    rtp->len = len;
    ret = 0;

Exit:
    if (ret)
        memset(rtp, 0, sizeof(*rtp));
    return ret;
}

uint32_t ovl_rtp_csrc(const ovl_rtp_t *rtp, size_t i)
{
    if (i >= rtp->csrc_count)
        return 0;
    return ovl_load_u32(rtp->data + OVL_RTP_HEADER_LEN + 4 * i);
}

/* ---- RFC 8285 elements ---- */

void ovl_rtp_ext_iter_init(ovl_rtp_ext_iter_t *it, const ovl_rtp_t *rtp)
{
    it->form = rtp->ext_form;
    it->base = rtp->data;
    if (rtp->ext_form == OVL_RTP_EXT_ONE_BYTE_FORM || rtp->ext_form == OVL_RTP_EXT_TWO_BYTE_FORM) {
        it->p = rtp->data + rtp->ext_off;
        it->end = it->p + rtp->ext_len;
    } else {
        it->p = it->end = NULL;
    }
}

/*
 * RFC 8285 §4.2, one-byte header element (len = value bytes - 1; id 1..14; id 15 ends the walk):
 *
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * |  ID   |  len  |
 * +-+-+-+-+-+-+-+-+
 *
 * RFC 8285 §4.3, two-byte header element (length = value bytes, 0..255; id 1..255):
 *
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       ID      |     length    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * In both forms a 0 byte is padding (between elements or after the last). A one-byte header
 * with id 0 and a non-zero len is skipped as one byte too, as libwebrtc does.
 */
int ovl_rtp_ext_next(ovl_rtp_ext_iter_t *it, ovl_rtp_ext_elem_t *elem)
{
    *elem = (ovl_rtp_ext_elem_t){0};
    if (it->p == NULL)
        return OVL_ERR_NOTFOUND;
    while (it->p < it->end) {
        uint8_t b = it->p[0], id, vlen;
        size_t hlen;
        if (b == 0 || (it->form == OVL_RTP_EXT_ONE_BYTE_FORM && (b >> 4) == 0)) {
            it->p++;
            continue;
        }
        if (it->form == OVL_RTP_EXT_ONE_BYTE_FORM) {
            id = b >> 4;
            if (id == 15) { /* §4.2: stop processing the whole block here */
                it->p = it->end;
                return OVL_ERR_NOTFOUND;
            }
            vlen = (uint8_t)((b & 0x0f) + 1);
            hlen = 1;
        } else {
            if (ovl_left(it->p, it->end) < 2) {
                it->p = it->end;
                return OVL_ERR_PARSE;
            }
            id = b;
            vlen = it->p[1];
            hlen = 2;
        }
        if (ovl_left(it->p, it->end) - hlen < vlen) {
            it->p = it->end;
            return OVL_ERR_PARSE;
        }
        elem->id = id;
        elem->len = vlen;
        elem->data = it->p + hlen;
        elem->off = (size_t)(elem->data - it->base);
        it->p += hlen + vlen;
        return 0;
    }
    return OVL_ERR_NOTFOUND;
}

int ovl_rtp_ext_find(const ovl_rtp_t *rtp, uint8_t id, ovl_rtp_ext_elem_t *elem)
{
    ovl_rtp_ext_iter_t it;
    int ret;
    ovl_rtp_ext_iter_init(&it, rtp);
    while ((ret = ovl_rtp_ext_next(&it, elem)) == 0) {
        if (elem->id == id)
            return 0;
    }
    memset(elem, 0, sizeof(*elem));
    return ret;
}

/* ---- In-place rewrites ---- */

int ovl_rtp_set_ssrc(ovl_rtp_t *rtp, uint8_t *pkt, uint32_t ssrc)
{
    if (pkt == NULL || pkt != rtp->data)
        return OVL_ERR_ARG;
    ovl_store_u32(pkt + 8, ssrc);
    rtp->ssrc = ssrc;
    return 0;
}

int ovl_rtp_set_seq(ovl_rtp_t *rtp, uint8_t *pkt, uint16_t seq)
{
    if (pkt == NULL || pkt != rtp->data)
        return OVL_ERR_ARG;
    ovl_store_u16(pkt + 2, seq);
    rtp->seq = seq;
    return 0;
}

int ovl_rtp_set_timestamp(ovl_rtp_t *rtp, uint8_t *pkt, uint32_t ts)
{
    if (pkt == NULL || pkt != rtp->data)
        return OVL_ERR_ARG;
    ovl_store_u32(pkt + 4, ts);
    rtp->timestamp = ts;
    return 0;
}

int ovl_rtp_set_marker(ovl_rtp_t *rtp, uint8_t *pkt, bool marker)
{
    if (pkt == NULL || pkt != rtp->data)
        return OVL_ERR_ARG;
    pkt[1] = (uint8_t)((pkt[1] & 0x7f) | (marker ? 0x80 : 0));
    rtp->marker = marker;
    return 0;
}

int ovl_rtp_set_payload_type(ovl_rtp_t *rtp, uint8_t *pkt, uint8_t pt)
{
    if (pkt == NULL || pkt != rtp->data || pt > 127)
        return OVL_ERR_ARG;
    pkt[1] = (uint8_t)((pkt[1] & 0x80) | pt);
    rtp->payload_type = pt;
    return 0;
}

int ovl_rtp_ext_write(const ovl_rtp_t *rtp, uint8_t *pkt, uint8_t id, const void *val, size_t len)
{
    ovl_rtp_ext_elem_t e;
    int ret;
    if (pkt == NULL || pkt != rtp->data || (val == NULL && len > 0))
        return OVL_ERR_ARG;
    if ((ret = ovl_rtp_ext_find(rtp, id, &e)) != 0)
        return ret;
    if (e.len != len)
        return OVL_ERR_ARG;
    if (len > 0)
        memcpy(pkt + e.off, val, len);
    return 0;
}

int ovl_rtp_ext_set_id(const ovl_rtp_t *rtp, uint8_t *pkt, uint8_t id, uint8_t new_id)
{
    ovl_rtp_ext_elem_t e;
    int ret;
    if (pkt == NULL || pkt != rtp->data || new_id == 0)
        return OVL_ERR_ARG;
    if (rtp->ext_form == OVL_RTP_EXT_ONE_BYTE_FORM && new_id > 14)
        return OVL_ERR_ARG;
    if ((ret = ovl_rtp_ext_find(rtp, id, &e)) != 0)
        return ret;
    if (rtp->ext_form == OVL_RTP_EXT_ONE_BYTE_FORM)
        pkt[e.off - 1] = (uint8_t)(new_id << 4 | (e.len - 1));
    else
        pkt[e.off - 2] = new_id;
    return 0;
}

/* ---- Building ---- */

static bool fits_one_byte_form(const ovl_rtp_ext_put_t *ext, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ext[i].id < 1 || ext[i].id > 14 || ext[i].len < 1 || ext[i].len > 16)
            return false;
    }
    return true;
}

static int put_extensions(ovl_wbuf_t *b, const ovl_rtp_ext_put_t *ext, size_t n)
{
    bool one = fits_one_byte_form(ext, n);
    size_t data_len = 0;
    int ret;
    for (size_t i = 0; i < n; i++) {
        if (ext[i].id == 0 || (ext[i].data == NULL && ext[i].len > 0))
            return OVL_ERR_ARG;
        data_len += (one ? 1u : 2u) + ext[i].len;
    }
    size_t words = (data_len + 3) / 4;
    if (words > 0xffff)
        return OVL_ERR_ARG;
    if ((ret = ovl_put_u16(b, one ? OVL_RTP_EXT_ONE_BYTE : OVL_RTP_EXT_TWO_BYTE)) ||
        (ret = ovl_put_u16(b, (uint16_t)words)))
        return ret;
    for (size_t i = 0; i < n; i++) {
        if (one)
            ret = ovl_put_u8(b, (uint8_t)(ext[i].id << 4 | (ext[i].len - 1)));
        else if ((ret = ovl_put_u8(b, ext[i].id)) == 0)
            ret = ovl_put_u8(b, ext[i].len);
        if (ret || (ret = ovl_put_bytes(b, ext[i].data, ext[i].len)))
            return ret;
    }
    return ovl_put_zeros(b, words * 4 - data_len);
}

int ovl_rtp_build(ovl_wbuf_t *b, const ovl_rtp_hdr_t *h, const ovl_rtp_ext_put_t *ext, size_t n_ext)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;

    if (h->payload_type > 127 || h->csrc_count > OVL_RTP_MAX_CSRC || (h->csrc_count && h->csrcs == NULL) ||
        (n_ext && ext == NULL))
        goto Exit;
    uint8_t b0 = (uint8_t)(OVL_RTP_VERSION << 6 | (n_ext ? 0x10 : 0) | h->csrc_count);
    uint8_t b1 = (uint8_t)((h->marker ? 0x80 : 0) | h->payload_type);
    if ((ret = ovl_put_u8(b, b0)) || (ret = ovl_put_u8(b, b1)) || (ret = ovl_put_u16(b, h->seq)) ||
        (ret = ovl_put_u32(b, h->timestamp)) || (ret = ovl_put_u32(b, h->ssrc)))
        goto Exit;
    for (size_t i = 0; i < h->csrc_count; i++) {
        if ((ret = ovl_put_u32(b, h->csrcs[i])))
            goto Exit;
    }
    if (n_ext && (ret = put_extensions(b, ext, n_ext)))
        goto Exit;
    ret = 0;

Exit:
    if (ret)
        b->len = mark;
    return ret;
}

int ovl_rtp_pad(ovl_wbuf_t *b, size_t pkt_off, uint8_t pad_len)
{
    size_t mark = b->len;
    int ret;
    if (pad_len == 0 || pkt_off > b->len || b->len - pkt_off < OVL_RTP_HEADER_LEN)
        return OVL_ERR_ARG;
    if ((ret = ovl_put_zeros(b, pad_len - 1u)) || (ret = ovl_put_u8(b, pad_len))) {
        b->len = mark;
        return ret;
    }
    b->base[pkt_off] |= 0x20;
    return 0;
}

/* ---- Unwrapping (RFC 3550 App. A.1 keeps a cycle count; this keeps the highest value) ---- */

int64_t ovl_rtp_unwrap_seq(ovl_rtp_unwrap_t *u, uint16_t seq)
{
    if (!u->started) {
        u->started = true;
        u->highest = seq;
        return seq;
    }
    int64_t v = u->highest + ovl_rtp_seq_diff(seq, (uint16_t)u->highest);
    if (v > u->highest)
        u->highest = v;
    return v;
}

int64_t ovl_rtp_unwrap_ts(ovl_rtp_unwrap_t *u, uint32_t ts)
{
    if (!u->started) {
        u->started = true;
        u->highest = ts;
        return ts;
    }
    int64_t v = u->highest + ovl_rtp_ts_diff(ts, (uint32_t)u->highest);
    if (v > u->highest)
        u->highest = v;
    return v;
}
