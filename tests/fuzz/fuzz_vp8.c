/*
 * libFuzzer target: the VP8 payload descriptor / payload header parser (RFC 7741 §4.2, §4.3) and
 * the in-place rewrite. Checks the parser's own invariants, agrees with libvpx's key frame header
 * check (vpx_codec_peek_stream_info) on every frame start, and checks that a rewrite changes only
 * the fields it was asked to.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

#include "codecs/vp8.h"

static void check_desc(const ovl_vp8_desc_t *d, size_t size)
{
    if (d->len == 0 || d->len > OVL_VP8_DESC_MAX || d->len >= size || d->pid > 7)
        abort();
    if (d->has_picture_id != (d->picture_id_off != 0) || d->has_tl0picidx != (d->tl0picidx_off != 0))
        abort();
    if (d->picture_id_off + (d->picture_id_15bit ? 2 : 1) > d->len && d->has_picture_id)
        abort();
    if (d->tl0picidx_off >= d->len && d->has_tl0picidx)
        abort();
    if (d->picture_id > 0x7fff || (!d->picture_id_15bit && d->picture_id > 0x7f) || d->tid > 3 || d->keyidx > 31)
        abort();
}

static void check_against_libvpx(const uint8_t *data, size_t size, int ret, const ovl_vp8_info_t *info)
{
    ovl_vp8_desc_t d;
    if (ovl_vp8_parse_desc(data, size, &d) != 0 || !d.start || d.pid != 0)
        return;
    vpx_codec_stream_info_t si = {.sz = sizeof(si)};
    vpx_codec_err_t err = vpx_codec_peek_stream_info(vpx_codec_vp8_dx(), data + d.len, (unsigned)(size - d.len), &si);
    int ours = ret == 0 && info->keyframe;
    if ((err == VPX_CODEC_OK) != ours)
        abort();
    if (ours && (si.w != info->width || si.h != info->height))
        abort();
}

static void check_rewrite(const uint8_t *data, size_t size, const ovl_vp8_info_t *info, int ret)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    ovl_vp8_rewrite_t rw = {.set_picture_id = size & 1,
                            .picture_id = (uint16_t)(size * 7919u),
                            .set_tl0picidx = (size & 2) != 0,
                            .tl0picidx = (uint8_t)(size * 31u)};
    int r = ovl_vp8_rewrite(copy, size, &rw);
    ovl_vp8_desc_t d;
    int dret = ovl_vp8_parse_desc(data, size, &d);
    if ((dret != 0) != (r == OVL_ERR_PARSE) || (ret == 0 && dret != 0))
        abort();
    if (r != 0) {
        if (memcmp(copy, data, size) != 0) /* a refused rewrite writes nothing */
            abort();
        free(copy);
        return;
    }
    ovl_vp8_desc_t after;
    if (ovl_vp8_parse_desc(copy, size, &after) != 0 || after.len != d.len)
        abort();
    uint16_t mask = d.picture_id_15bit ? 0x7fff : 0x7f;
    if (rw.set_picture_id && after.picture_id != (rw.picture_id & mask))
        abort();
    if (!rw.set_picture_id && after.picture_id != d.picture_id)
        abort();
    if (rw.set_tl0picidx ? after.tl0picidx != rw.tl0picidx : after.tl0picidx != d.tl0picidx)
        abort();
    /* Everything else is untouched, the VP8 payload above all. */
    for (size_t i = 0; i < size; i++) {
        int in_pid = d.has_picture_id && i >= d.picture_id_off && i < d.picture_id_off + (d.picture_id_15bit ? 2u : 1u);
        int in_tl0 = d.has_tl0picidx && i == d.tl0picidx_off;
        if (!in_pid && !in_tl0 && copy[i] != data[i])
            abort();
    }
    (void)info;
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_vp8_info_t info;
    ovl_vp8_desc_t desc;
    int ret = ovl_vp8_parse(data, size, &info);
    int dret = ovl_vp8_parse_desc(data, size, &desc);

    if (ret == 0) {
        check_desc(&info.desc, size);
        if (dret != 0 || memcmp(&desc, &info.desc, sizeof(desc)) != 0)
            abort();
        if (info.frame_start != (info.desc.start && info.desc.pid == 0))
            abort();
        if (info.frame_start && size - info.desc.len < 3)
            abort();
        if (info.keyframe && (!info.frame_start || size - info.desc.len < OVL_VP8_KEYFRAME_HEADER || info.width == 0 ||
                              info.height == 0 || info.width > 0x3fff || info.height > 0x3fff))
            abort();
        if (!info.keyframe && (info.width || info.height))
            abort();
    }
    if (dret == 0)
        check_desc(&desc, size);
    check_against_libvpx(data, size, ret, &info);
    check_rewrite(data, size, &info, ret);
    return 0;
}
