/*
 * VP8 video for the synthetic peer and the benchmark: a thin libvpx encoder (realtime, CBR,
 * error-resilient) and decoder, I420 images, and a moving test pattern that carries its frame
 * number so a receiver can check which frame it decoded. Allocates; not for the relay's path.
 */
#ifndef OVL_VIDEO_H
#define OVL_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

/* An I420 picture: full-size Y plane, U and V planes of ((width+1)/2) x ((height+1)/2). */
typedef struct ovl_video_image {
    unsigned width, height;
    uint8_t *planes[3]; /* Y, U, V */
    size_t strides[3];
    uint8_t *buf; /* owned when made by ovl_video_image_init; NULL for a borrowed view */
} ovl_video_image_t;

/** Allocates an I420 image of width x height (1..16383 each). OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_video_image_init(ovl_video_image_t *img, unsigned width, unsigned height);

/** Frees what ovl_video_image_init allocated; safe on a zeroed or borrowed image. */
void ovl_video_image_dispose(ovl_video_image_t *img);

/**
 * Draws test pattern frame n: a still gradient, a bar moving 8 pixels a frame, and a row of
 * black/white blocks holding n's low 16 bits between guard blocks (when the image is at least
 * 176x24; 16-pixel blocks from 352 wide, aligned to VP8 macroblocks). Pure function of (size, n).
 */
void ovl_video_pattern_draw(ovl_video_image_t *img, uint32_t n);

/**
 * Reads the frame number back from a (decoded) pattern image. Returns 0 with *n (0..65535), or
 * OVL_ERR_PARSE when the guard blocks are not where the pattern puts them.
 */
int ovl_video_pattern_read(const ovl_video_image_t *img, uint32_t *n);

/* ---- Encoder ---- */

typedef struct ovl_video_enc ovl_video_enc_t;

typedef struct ovl_video_enc_cfg {
    unsigned width, height;     /* even, at most 16383 */
    unsigned fps;               /* frames per second, 1..120 */
    unsigned bitrate_kbps;      /* CBR target */
    int cpu_used;               /* libvpx speed, -16..16 (0 means the default, -6, as WebRTC) */
    unsigned keyframe_interval; /* frames between automatic key frames; 0: only when forced */
    bool error_resilient;       /* VPX_ERROR_RESILIENT_DEFAULT: decodable after losses */
    unsigned threads;           /* 0 or 1: one thread */
} ovl_video_enc_cfg_t;

/* One encoded frame; data is borrowed from the encoder until its next call. */
typedef struct ovl_video_encoded {
    const uint8_t *data;
    size_t len; /* 0 when the encoder produced no frame */
    bool keyframe;
} ovl_video_encoded_t;

/** Creates a VP8 encoder (realtime deadline, no lag, CBR). OVL_ERR_ARG, OVL_ERR_NOMEM, OVL_ERR_UNSUPPORTED. */
int ovl_video_enc_new(const ovl_video_enc_cfg_t *cfg, ovl_video_enc_t **out);

/** Frees the encoder (NULL is fine). */
void ovl_video_enc_free(ovl_video_enc_t *enc);

/**
 * Encodes one image of the configured size (one frame interval after the previous one).
 * force_keyframe makes it a key frame (answer to a PLI/FIR). OVL_ERR_ARG for a wrong size,
 * OVL_ERR_UNSUPPORTED when libvpx fails.
 */
int ovl_video_enc_encode(ovl_video_enc_t *enc, const ovl_video_image_t *img, bool force_keyframe,
                         ovl_video_encoded_t *out);

/* ---- Decoder ---- */

typedef struct ovl_video_dec ovl_video_dec_t;

/** Creates a VP8 decoder (one thread). OVL_ERR_NOMEM, OVL_ERR_UNSUPPORTED. */
int ovl_video_dec_new(ovl_video_dec_t **out);

/** Frees the decoder (NULL is fine). */
void ovl_video_dec_free(ovl_video_dec_t *dec);

/**
 * Decodes one complete VP8 frame. Returns 0 with *out a borrowed view of the picture (valid until
 * the next call; planes NULL and sizes 0 if the frame is not for display), or OVL_ERR_PARSE when
 * libvpx rejects the frame or marks it corrupted (undecodable: ask for a key frame).
 */
int ovl_video_dec_decode(ovl_video_dec_t *dec, const uint8_t *data, size_t len, ovl_video_image_t *out);

#endif
