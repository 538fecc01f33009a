#include "codecs/vp8.h"

#include <string.h>

#include "relay/proto/cursor.h"

/*
 * RFC 7741 §4.2, Figure 2: VP8 Payload Descriptor (left: 7-bit PictureID, right: 15-bit).
 *
 *          0 1 2 3 4 5 6 7                      0 1 2 3 4 5 6 7
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *         |X|R|N|S|R| PID | (REQUIRED)        |X|R|N|S|R| PID | (REQUIRED)
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *    X:   |I|L|T|K| RSV   | (OPTIONAL)   X:   |I|L|T|K| RSV   | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *    I:   |M| PictureID   | (OPTIONAL)   I:   |M| PictureID   | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *    L:   |   TL0PICIDX   | (OPTIONAL)        |   PictureID   |
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *    T/K: |TID|Y| KEYIDX  | (OPTIONAL)   L:   |   TL0PICIDX   | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
 *                                        T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *                                             +-+-+-+-+-+-+-+-+
 *
 * R and RSV bits are ignored, as §4.2 requires of receivers. The TID/Y/KEYIDX octet is present
 * when T or K is 1; TID and Y are meaningful only when T is 1, KEYIDX only when K is 1. §4.2 says
 * a sender setting L must also set T; a receiver need not enforce it, so L alone is accepted.
 */
int ovl_vp8_parse_desc(const uint8_t *payload, size_t len, ovl_vp8_desc_t *out)
{
    const uint8_t *p = payload, *end = payload + len;
    uint8_t b0, x, v;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = ovl_get_u8(&p, end, &b0)) != 0)
        goto Exit;
    out->non_reference = (b0 & 0x20) != 0;
    out->start = (b0 & 0x10) != 0;
    out->pid = b0 & 0x07;
    if (b0 & 0x80) {
        if ((ret = ovl_get_u8(&p, end, &x)) != 0)
            goto Exit;
        if (x & 0x80) {
            out->has_picture_id = true;
            out->picture_id_off = (size_t)(p - payload);
            if ((ret = ovl_get_u8(&p, end, &v)) != 0)
                goto Exit;
            if (v & 0x80) {
                uint8_t lo;
                if ((ret = ovl_get_u8(&p, end, &lo)) != 0)
                    goto Exit;
                out->picture_id_15bit = true;
                out->picture_id = (uint16_t)((v & 0x7f) << 8 | lo);
            } else {
                out->picture_id = v;
            }
        }
        if (x & 0x40) {
            out->has_tl0picidx = true;
            out->tl0picidx_off = (size_t)(p - payload);
            if ((ret = ovl_get_u8(&p, end, &out->tl0picidx)) != 0)
                goto Exit;
        }
        if (x & 0x30) {
            if ((ret = ovl_get_u8(&p, end, &v)) != 0)
                goto Exit;
            if (x & 0x20) {
                out->has_tid = true;
                out->tid = v >> 6;
                out->layer_sync = (v & 0x20) != 0;
            }
            if (x & 0x10) {
                out->has_keyidx = true;
                out->keyidx = v & 0x1f;
            }
        }
    }
    /* A packet carries VP8 data: an empty payload after the descriptor is malformed. */
    if (p == end) {
        ret = OVL_ERR_PARSE;
        goto Exit;
    }
    out->len = (size_t)(p - payload);
    ret = 0;
Exit:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/*
 * RFC 7741 §4.3, Figure 3: VP8 Payload Header, present when S=1 and PID=0. It is the frame tag of
 * RFC 6386 §9.1, a little-endian 24-bit field: P (key_frame, 0 = key frame) is bit 0, VER bits
 * 1-3, H (show_frame) bit 4, and the 19-bit first partition size bits 5-23.
 *
 *          0 1 2 3 4 5 6 7
 *         +-+-+-+-+-+-+-+-+
 *         |Size0|H| VER |P|
 *         +-+-+-+-+-+-+-+-+
 *         |     Size1     |
 *         +-+-+-+-+-+-+-+-+
 *         |     Size2     |
 *         +-+-+-+-+-+-+-+-+
 *         | Octets 4..N of|
 *         | VP8 payload   |
 *         :               :
 *         +-+-+-+-+-+-+-+-+
 *
 * RFC 6386 §9.1: a key frame's tag is followed by
 *
 *    Start code byte 0     0x9d
 *    Start code byte 1     0x01
 *    Start code byte 2     0x2a
 *
 *    16 bits      :     (2 bits Horizontal Scale << 14) | Width (14 bits)
 *    16 bits      :     (2 bits Vertical Scale << 14) | Height (14 bits)
 *
 * (the 16-bit fields are little-endian, like the rest of the VP8 bitstream).
 */
static int parse_payload_header(const uint8_t *p, const uint8_t *end, ovl_vp8_info_t *out)
{
    const uint8_t *tag, *sc, *dim;
    int ret;

    if ((ret = ovl_get_block(&p, end, 3, &tag)) != 0)
        return ret;
    uint32_t raw = (uint32_t)tag[0] | (uint32_t)tag[1] << 8 | (uint32_t)tag[2] << 16;
    out->keyframe = (raw & 1) == 0;
    out->version = (uint8_t)((raw >> 1) & 7);
    out->show_frame = (raw >> 4) & 1;
    out->first_part_size = raw >> 5;
    if (!out->keyframe)
        return 0;
    if ((ret = ovl_get_block(&p, end, 3, &sc)) != 0 || (ret = ovl_get_block(&p, end, 4, &dim)) != 0)
        return ret;
    if (sc[0] != 0x9d || sc[1] != 0x01 || sc[2] != 0x2a)
        return OVL_ERR_PARSE;
    uint16_t h = (uint16_t)(dim[0] | dim[1] << 8), v = (uint16_t)(dim[2] | dim[3] << 8);
    out->width = h & 0x3fff;
    out->hscale = (uint8_t)(h >> 14);
    out->height = v & 0x3fff;
    out->vscale = (uint8_t)(v >> 14);
    if (out->width == 0 || out->height == 0)
        return OVL_ERR_PARSE;
    return 0;
}

int ovl_vp8_parse(const uint8_t *payload, size_t len, ovl_vp8_info_t *out)
{
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = ovl_vp8_parse_desc(payload, len, &out->desc)) != 0)
        goto Exit;
    out->frame_start = out->desc.start && out->desc.pid == 0;
    if (out->frame_start)
        ret = parse_payload_header(payload + out->desc.len, payload + len, out);
Exit:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

int ovl_vp8_rewrite(uint8_t *payload, size_t len, const ovl_vp8_rewrite_t *rw)
{
    ovl_vp8_desc_t d;
    int ret;

    if ((ret = ovl_vp8_parse_desc(payload, len, &d)) != 0)
        return ret;
    /* Check every field first, so that a failure writes nothing. */
    if ((rw->set_picture_id && !d.has_picture_id) || (rw->set_tl0picidx && !d.has_tl0picidx))
        return OVL_ERR_NOTFOUND;
    if (rw->set_picture_id) {
        uint8_t *f = payload + d.picture_id_off;
        if (d.picture_id_15bit)
            ovl_store_u16(f, (uint16_t)(0x8000 | (rw->picture_id & 0x7fff)));
        else
            f[0] = (uint8_t)(rw->picture_id & 0x7f);
    }
    if (rw->set_tl0picidx)
        payload[d.tl0picidx_off] = rw->tl0picidx;
    return 0;
}
