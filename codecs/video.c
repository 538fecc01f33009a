#include "codecs/video.h"

#include <stdlib.h>
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

/* ---- Images and the test pattern ---- */

int ovl_video_image_init(ovl_video_image_t *img, unsigned width, unsigned height)
{
    memset(img, 0, sizeof(*img));
    if (width == 0 || height == 0 || width > 16383 || height > 16383)
        return OVL_ERR_ARG;
    size_t cw = (width + 1) / 2, ch = (height + 1) / 2;
    size_t ysize = (size_t)width * height, csize = cw * ch;
    if ((img->buf = malloc(ysize + 2 * csize)) == NULL)
        return OVL_ERR_NOMEM;
    img->width = width;
    img->height = height;
    img->planes[0] = img->buf;
    img->planes[1] = img->buf + ysize;
    img->planes[2] = img->buf + ysize + csize;
    img->strides[0] = width;
    img->strides[1] = img->strides[2] = cw;
    return 0;
}

void ovl_video_image_dispose(ovl_video_image_t *img)
{
    free(img->buf);
    memset(img, 0, sizeof(*img));
}

#define COUNTER_BITS   16
#define COUNTER_BLOCKS (2 + COUNTER_BITS + 2) /* guards 1,0 + bits (MSB first) + guards 0,1 */
#define LUMA_WHITE     235
#define LUMA_BLACK     16

/* Side of a counter block: 16 pixels (one macroblock) when it fits, else 8; 0 if none fits. */
static unsigned block_size(unsigned width, unsigned height)
{
    if (width >= 16 * (COUNTER_BLOCKS + 2) && height >= 16 * 3)
        return 16;
    if (width >= 8 * (COUNTER_BLOCKS + 2) && height >= 8 * 3)
        return 8;
    return 0;
}

static int counter_bit(uint32_t n, unsigned i)
{
    if (i < 2)
        return i == 0;
    if (i >= 2 + COUNTER_BITS)
        return i == COUNTER_BLOCKS - 1;
    return (n >> (COUNTER_BITS - 1 - (i - 2))) & 1;
}

static void fill_rect(uint8_t *plane, size_t stride, unsigned x, unsigned y, unsigned w, unsigned h, uint8_t v)
{
    for (unsigned r = 0; r < h; r++)
        memset(plane + (size_t)(y + r) * stride + x, v, w);
}

void ovl_video_pattern_draw(ovl_video_image_t *img, uint32_t n)
{
    unsigned w = img->width, h = img->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    unsigned bs = block_size(w, h);

    /* Still background: a diagonal luma gradient over a bluish tint. */
    for (unsigned y = 0; y < h; y++) {
        uint8_t *row = img->planes[0] + (size_t)y * img->strides[0];
        for (unsigned x = 0; x < w; x++)
            row[x] = (uint8_t)(48 + (x + y) * 144 / (w + h));
    }
    fill_rect(img->planes[1], img->strides[1], 0, 0, cw, ch, 144);
    fill_rect(img->planes[2], img->strides[2], 0, 0, cw, ch, 112);

    /* A bar moving 8 pixels a frame, below the counter row. */
    unsigned top = bs ? 3 * bs : 0, bar = w / 16 > 8 ? w / 16 : 8;
    unsigned x0 = (unsigned)((n * 8u) % w), bw = x0 + bar <= w ? bar : w - x0;
    fill_rect(img->planes[0], img->strides[0], x0, top, bw, h - top, LUMA_WHITE);
    fill_rect(img->planes[1], img->strides[1], x0 / 2, top / 2, (bw + 1) / 2, ch - top / 2, 64);
    fill_rect(img->planes[2], img->strides[2], x0 / 2, top / 2, (bw + 1) / 2, ch - top / 2, 200);

    if (bs == 0)
        return;
    /* The frame counter: a grey strip with one block per bit, one block in from the corner. */
    fill_rect(img->planes[0], img->strides[0], 0, bs, w, bs, 128);
    fill_rect(img->planes[1], img->strides[1], 0, bs / 2, cw, bs / 2, 128);
    fill_rect(img->planes[2], img->strides[2], 0, bs / 2, cw, bs / 2, 128);
    for (unsigned i = 0; i < COUNTER_BLOCKS; i++)
        fill_rect(img->planes[0], img->strides[0], bs * (1 + i), bs, bs, bs,
                  counter_bit(n, i) ? LUMA_WHITE : LUMA_BLACK);
}

int ovl_video_pattern_read(const ovl_video_image_t *img, uint32_t *n)
{
    unsigned bs = block_size(img->width, img->height);
    uint32_t v = 0;

    *n = 0;
    if (bs == 0 || img->planes[0] == NULL)
        return OVL_ERR_PARSE;
    for (unsigned i = 0; i < COUNTER_BLOCKS; i++) {
        /* Mean luma of the block's centre, away from edges the codec may blur. */
        unsigned sum = 0, x0 = bs * (1 + i) + bs / 4, y0 = bs + bs / 4;
        for (unsigned y = y0; y < y0 + bs / 2; y++)
            for (unsigned x = x0; x < x0 + bs / 2; x++)
                sum += img->planes[0][(size_t)y * img->strides[0] + x];
        int bit = sum / (bs / 2 * bs / 2) >= (LUMA_WHITE + LUMA_BLACK) / 2;
        if (i < 2 || i >= 2 + COUNTER_BITS) {
            if (bit != counter_bit(0, i))
                return OVL_ERR_PARSE;
        } else {
            v = v << 1 | (uint32_t)bit;
        }
    }
    *n = v;
    return 0;
}

/* ---- Encoder ---- */

struct ovl_video_enc {
    vpx_codec_ctx_t codec;
    bool inited;
    ovl_video_enc_cfg_t cfg;
    vpx_codec_pts_t pts;
    uint8_t *buf; /* owned: the last encoded frame */
    size_t cap;
};

int ovl_video_enc_new(const ovl_video_enc_cfg_t *cfg, ovl_video_enc_t **out)
{
    ovl_video_enc_t *e = NULL;
    vpx_codec_enc_cfg_t vc;
    int ret;

    *out = NULL;
    ret = OVL_ERR_ARG;
    if (cfg->width == 0 || cfg->height == 0 || cfg->width > 16383 || cfg->height > 16383 || cfg->width % 2 ||
        cfg->height % 2 || cfg->fps == 0 || cfg->fps > 120 || cfg->bitrate_kbps == 0 || cfg->cpu_used < -16 ||
        cfg->cpu_used > 16 || cfg->threads > 1)
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        goto Exit;
    e->cfg = *cfg;
    ret = OVL_ERR_UNSUPPORTED;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &vc, 0) != VPX_CODEC_OK)
        goto Exit;
    vc.g_w = cfg->width;
    vc.g_h = cfg->height;
    vc.g_timebase.num = 1;
    vc.g_timebase.den = (int)cfg->fps;
    vc.g_threads = 1;
    vc.g_pass = VPX_RC_ONE_PASS;
    vc.g_lag_in_frames = 0;
    vc.g_error_resilient = cfg->error_resilient ? VPX_ERROR_RESILIENT_DEFAULT : 0;
    vc.rc_end_usage = VPX_CBR;
    vc.rc_target_bitrate = cfg->bitrate_kbps;
    vc.rc_dropframe_thresh = 0; /* one output frame per input: the peer's frame count stays exact */
    vc.rc_min_quantizer = 2;
    vc.rc_max_quantizer = 56;
    vc.rc_undershoot_pct = 100;
    vc.rc_overshoot_pct = 15;
    vc.rc_buf_initial_sz = 500;
    vc.rc_buf_optimal_sz = 600;
    vc.rc_buf_sz = 1000;
    if (cfg->keyframe_interval) {
        vc.kf_mode = VPX_KF_AUTO;
        vc.kf_min_dist = 0;
        vc.kf_max_dist = cfg->keyframe_interval;
    } else {
        vc.kf_mode = VPX_KF_DISABLED;
    }
    if (vpx_codec_enc_init(&e->codec, vpx_codec_vp8_cx(), &vc, 0) != VPX_CODEC_OK)
        goto Exit;
    e->inited = true;
    if (vpx_codec_control(&e->codec, VP8E_SET_CPUUSED, cfg->cpu_used ? cfg->cpu_used : -6) != VPX_CODEC_OK ||
        vpx_codec_control(&e->codec, VP8E_SET_NOISE_SENSITIVITY, 0u) != VPX_CODEC_OK ||
        vpx_codec_control(&e->codec, VP8E_SET_STATIC_THRESHOLD, 1u) != VPX_CODEC_OK)
        goto Exit;
    *out = e;
    e = NULL;
    ret = 0;
Exit:
    ovl_video_enc_free(e);
    return ret;
}

void ovl_video_enc_free(ovl_video_enc_t *e)
{
    if (e == NULL)
        return;
    if (e->inited)
        vpx_codec_destroy(&e->codec);
    free(e->buf);
    free(e);
}

static int append(ovl_video_enc_t *e, size_t *len, const void *data, size_t n)
{
    if (*len + n > e->cap) {
        size_t cap = e->cap ? e->cap : 64 * 1024;
        while (cap < *len + n)
            cap *= 2;
        uint8_t *b = realloc(e->buf, cap);
        if (b == NULL)
            return OVL_ERR_NOMEM;
        e->buf = b;
        e->cap = cap;
    }
    memcpy(e->buf + *len, data, n);
    *len += n;
    return 0;
}

int ovl_video_enc_encode(ovl_video_enc_t *e, const ovl_video_image_t *img, bool force_keyframe,
                         ovl_video_encoded_t *out)
{
    vpx_image_t vi;
    vpx_codec_iter_t iter = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    size_t len = 0;
    int ret;

    memset(out, 0, sizeof(*out));
    if (img->width != e->cfg.width || img->height != e->cfg.height || img->planes[0] == NULL)
        return OVL_ERR_ARG;
    /* A view of the caller's planes; libvpx only reads them. */
    if (vpx_img_wrap(&vi, VPX_IMG_FMT_I420, img->width, img->height, 1, img->planes[0]) == NULL)
        return OVL_ERR_ARG;
    for (int i = 0; i < 3; i++) {
        vi.planes[i] = img->planes[i];
        vi.stride[i] = (int)img->strides[i];
    }
    if (vpx_codec_encode(&e->codec, &vi, e->pts++, 1, force_keyframe ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME) !=
        VPX_CODEC_OK)
        return OVL_ERR_UNSUPPORTED;
    while ((pkt = vpx_codec_get_cx_data(&e->codec, &iter)) != NULL) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        if ((ret = append(e, &len, pkt->data.frame.buf, pkt->data.frame.sz)) != 0)
            return ret;
        if (pkt->data.frame.flags & VPX_FRAME_IS_KEY)
            out->keyframe = true;
    }
    out->data = len ? e->buf : NULL;
    out->len = len;
    return 0;
}

/* ---- Decoder ---- */

struct ovl_video_dec {
    vpx_codec_ctx_t codec;
    bool inited;
};

int ovl_video_dec_new(ovl_video_dec_t **out)
{
    ovl_video_dec_t *d;
    vpx_codec_dec_cfg_t dc = {.threads = 1};

    *out = NULL;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return OVL_ERR_NOMEM;
    if (vpx_codec_dec_init(&d->codec, vpx_codec_vp8_dx(), &dc, 0) != VPX_CODEC_OK) {
        free(d);
        return OVL_ERR_UNSUPPORTED;
    }
    d->inited = true;
    *out = d;
    return 0;
}

void ovl_video_dec_free(ovl_video_dec_t *d)
{
    if (d == NULL)
        return;
    if (d->inited)
        vpx_codec_destroy(&d->codec);
    free(d);
}

int ovl_video_dec_decode(ovl_video_dec_t *d, const uint8_t *data, size_t len, ovl_video_image_t *out)
{
    vpx_codec_iter_t iter = NULL;
    vpx_image_t *vi;
    int corrupted = 0;

    memset(out, 0, sizeof(*out));
    if (data == NULL || len == 0 || len > UINT32_MAX)
        return OVL_ERR_ARG;
    if (vpx_codec_decode(&d->codec, data, (unsigned int)len, NULL, 0) != VPX_CODEC_OK)
        return OVL_ERR_PARSE;
    if (vpx_codec_control(&d->codec, VP8D_GET_FRAME_CORRUPTED, &corrupted) == VPX_CODEC_OK && corrupted)
        return OVL_ERR_PARSE;
    if ((vi = vpx_codec_get_frame(&d->codec, &iter)) == NULL)
        return 0; /* a frame not for display */
    if (vi->fmt != VPX_IMG_FMT_I420)
        return OVL_ERR_UNSUPPORTED;
    out->width = vi->d_w;
    out->height = vi->d_h;
    for (int i = 0; i < 3; i++) {
        out->planes[i] = vi->planes[i];
        out->strides[i] = (size_t)vi->stride[i];
    }
    return 0;
}
