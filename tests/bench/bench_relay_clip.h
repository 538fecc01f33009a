/*
 * bench_relay's media: a few seconds of real VP8 (the codecs/ moving test pattern, libvpx realtime
 * CBR at the target bitrate, 640x360, 30 fps, one key frame at the start, with film grain so the
 * encoder spends its budget) and Opus (a tone, 20 ms
 * frames, FEC), encoded ONCE at start and packetized (RFC 7741 payload descriptor with a 15-bit
 * PictureID). Publishers replay these payloads in a loop with their own sequence numbers,
 * timestamps and PictureIDs, so the load generator spends no time encoding. The clip restarts on
 * its key frame, so a replay is a valid VP8 stream (a key frame every CLIP_SECONDS seconds, and on
 * request).
 * Included once, by bench_relay.c.
 */
#ifndef OVL_BENCH_RELAY_CLIP_H
#define OVL_BENCH_RELAY_CLIP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/audio.h"
#include "codecs/video.h"
#include "codecs/vp8_packetizer.h"

#define CLIP_SECONDS     3
#define CLIP_FPS         30
#define CLIP_WIDTH       640
#define CLIP_HEIGHT      360
#define CLIP_MAX_PAYLOAD 1140 /* VP8 descriptor + data; with header, extensions, trailer and tag ~1200 B */
#define CLIP_MAX_PKTS    256  /* per frame */

typedef struct clip_pkt {
    uint8_t *data; /* owned; the RTP payload */
    uint16_t len;
    bool marker; /* last packet of its frame */
} clip_pkt_t;

typedef struct clip_frame {
    clip_pkt_t *pkts; /* owned */
    unsigned n;
    bool keyframe;
} clip_frame_t;

typedef struct clip {
    clip_frame_t video[CLIP_SECONDS * CLIP_FPS];
    size_t n_video;
    clip_pkt_t audio[CLIP_SECONDS * 50];
    size_t n_audio;
    uint64_t video_bytes, video_packets, audio_bytes; /* payload, over the clip */
} clip_t;

static void clip_dispose(clip_t *c)
{
    for (size_t i = 0; i < c->n_video; i++) {
        for (unsigned k = 0; k < c->video[i].n; k++)
            free(c->video[i].pkts[k].data);
        free(c->video[i].pkts);
    }
    for (size_t i = 0; i < c->n_audio; i++)
        free(c->audio[i].data);
    memset(c, 0, sizeof(*c));
}

static int clip_add_frame(clip_t *c, ovl_vp8_packetizer_t *pk, const ovl_video_encoded_t *enc)
{
    clip_frame_t *f = &c->video[c->n_video];
    unsigned n = 0;
    if (ovl_vp8_packetizer_frame(pk, enc->data, enc->len, false, &n) != 0 || n > CLIP_MAX_PKTS)
        return -1;
    if (!(f->pkts = calloc(n, sizeof(*f->pkts))))
        return -1;
    f->keyframe = enc->keyframe;
    for (f->n = 0; f->n < n; f->n++) {
        uint8_t buf[CLIP_MAX_PAYLOAD];
        size_t len = 0;
        bool marker = false;
        if (ovl_vp8_packetizer_next(pk, buf, sizeof(buf), &len, &marker) != 0 || !(f->pkts[f->n].data = malloc(len)))
            return -1;
        memcpy(f->pkts[f->n].data, buf, len);
        f->pkts[f->n].len = (uint16_t)len;
        f->pkts[f->n].marker = marker;
        c->video_bytes += len;
        c->video_packets++;
    }
    c->n_video++;
    return 0;
}

/*
 * Film grain over the luma plane (a fixed pseudo-random pattern per frame, +-GRAIN): the bare test
 * pattern is so simple that libvpx's CBR undershoots a 1 Mbit/s target by half; a camera image is
 * never that clean. With grain the encoder spends its whole budget, as it does on a real camera.
 */
#define CLIP_GRAIN 6
static void clip_add_grain(ovl_video_image_t *img, uint32_t frame)
{
    uint32_t x = 2463534242u ^ (frame * 2654435761u);
    for (unsigned r = 0; r < img->height; r++) {
        uint8_t *row = img->planes[0] + r * img->strides[0];
        for (unsigned c = 0; c < img->width; c++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
            int v = row[c] + (int)(x % (2 * CLIP_GRAIN + 1)) - CLIP_GRAIN;
            row[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

/* Encodes and packetizes the clip at `video_kbps`. 0, or -1 with a line on stderr. */
static int clip_make(clip_t *c, unsigned video_kbps)
{
    int ret = -1;
    ovl_video_enc_t *venc = NULL;
    ovl_audio_enc_t *aenc = NULL;
    ovl_video_image_t img = {0};
    ovl_vp8_packetizer_t pk;
    memset(c, 0, sizeof(*c));
    ovl_video_enc_cfg_t vcfg = {
        .width = CLIP_WIDTH,
        .height = CLIP_HEIGHT,
        .fps = CLIP_FPS,
        .bitrate_kbps = video_kbps,
        .keyframe_interval = 0, /* the clip's first frame only; the replay loops back to it */
        .error_resilient = true,
    };
    ovl_vp8_packetizer_cfg_t pcfg = {.max_payload = CLIP_MAX_PAYLOAD};
    ovl_audio_enc_cfg_t acfg = {.channels = 1, .bitrate = 32000, .fec = true, .packet_loss_perc = 5};
    if (ovl_video_enc_new(&vcfg, &venc) != 0 || ovl_video_image_init(&img, CLIP_WIDTH, CLIP_HEIGHT) != 0 ||
        ovl_vp8_packetizer_init(&pk, &pcfg) != 0 || ovl_audio_enc_new(&acfg, &aenc) != 0)
        goto Exit;
    for (uint32_t i = 0; i < CLIP_SECONDS * CLIP_FPS; i++) {
        ovl_video_encoded_t enc;
        ovl_video_pattern_draw(&img, i);
        clip_add_grain(&img, i);
        if (ovl_video_enc_encode(venc, &img, i == 0, &enc) != 0)
            goto Exit;
        if (enc.len && clip_add_frame(c, &pk, &enc) != 0)
            goto Exit;
    }
    ovl_audio_tone_t tone;
    ovl_audio_tone_init(&tone, 440.0, 0.3);
    for (size_t i = 0; i < CLIP_SECONDS * 50; i++) {
        int16_t pcm[OVL_AUDIO_FRAME];
        uint8_t out[OVL_AUDIO_MAX_PACKET];
        size_t len = 0;
        ovl_audio_tone_fill(&tone, pcm, OVL_AUDIO_FRAME, 1);
        if (ovl_audio_enc_encode(aenc, pcm, out, sizeof(out), &len) != 0 || !(c->audio[i].data = malloc(len)))
            goto Exit;
        memcpy(c->audio[i].data, out, len);
        c->audio[i].len = (uint16_t)len;
        c->audio_bytes += len;
        c->n_audio++;
    }
    ret = c->n_video == CLIP_SECONDS * CLIP_FPS && c->video[0].keyframe ? 0 : -1;
Exit:
    if (ret != 0)
        fprintf(stderr, "bench_relay: encoding the clip failed (%zu video frames)\n", c->n_video);
    ovl_audio_enc_free(aenc);
    ovl_video_enc_free(venc);
    ovl_video_image_dispose(&img);
    return ret;
}

#endif
