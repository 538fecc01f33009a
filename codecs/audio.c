#include "codecs/audio.h"

#include <math.h>
#include <stdlib.h>

#include <opus/opus.h>

static int from_opus(int err)
{
    switch (err) {
    case OPUS_BAD_ARG:
        return OVL_ERR_ARG;
    case OPUS_BUFFER_TOO_SMALL:
        return OVL_ERR_LIMIT;
    case OPUS_INVALID_PACKET:
        return OVL_ERR_PARSE;
    case OPUS_ALLOC_FAIL:
        return OVL_ERR_NOMEM;
    default:
        return OVL_ERR_UNSUPPORTED;
    }
}

/* ---- Encoder ---- */

struct ovl_audio_enc {
    OpusEncoder *opus; /* owned */
    unsigned channels;
};

int ovl_audio_enc_new(const ovl_audio_enc_cfg_t *cfg, ovl_audio_enc_t **out)
{
    ovl_audio_enc_t *e = NULL;
    int err, ret;

    *out = NULL;
    ret = OVL_ERR_ARG;
    if ((cfg->channels != 1 && cfg->channels != 2) ||
        (cfg->bitrate != 0 && (cfg->bitrate < 6000 || cfg->bitrate > 510000)) || cfg->packet_loss_perc > 100 ||
        cfg->complexity < 0 || cfg->complexity > 10)
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        goto Exit;
    e->channels = cfg->channels;
    if ((e->opus = opus_encoder_create(OVL_AUDIO_RATE, (int)cfg->channels, OPUS_APPLICATION_VOIP, &err)) == NULL) {
        ret = from_opus(err);
        goto Exit;
    }
    if ((cfg->bitrate && (err = opus_encoder_ctl(e->opus, OPUS_SET_BITRATE((opus_int32)cfg->bitrate))) != OPUS_OK) ||
        (err = opus_encoder_ctl(e->opus, OPUS_SET_INBAND_FEC(cfg->fec ? 1 : 0))) != OPUS_OK ||
        (err = opus_encoder_ctl(e->opus, OPUS_SET_PACKET_LOSS_PERC((int)cfg->packet_loss_perc))) != OPUS_OK ||
        (err = opus_encoder_ctl(e->opus, OPUS_SET_DTX(cfg->dtx ? 1 : 0))) != OPUS_OK ||
        (cfg->complexity && (err = opus_encoder_ctl(e->opus, OPUS_SET_COMPLEXITY(cfg->complexity))) != OPUS_OK)) {
        ret = from_opus(err);
        goto Exit;
    }
    *out = e;
    e = NULL;
    ret = 0;
Exit:
    ovl_audio_enc_free(e);
    return ret;
}

void ovl_audio_enc_free(ovl_audio_enc_t *e)
{
    if (e == NULL)
        return;
    opus_encoder_destroy(e->opus);
    free(e);
}

int ovl_audio_enc_encode(ovl_audio_enc_t *e, const int16_t *pcm, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (pcm == NULL || out == NULL || cap == 0)
        return OVL_ERR_ARG;
    opus_int32 max = cap > OVL_AUDIO_MAX_PACKET ? OVL_AUDIO_MAX_PACKET : (opus_int32)cap;
    opus_int32 n = opus_encode(e->opus, pcm, OVL_AUDIO_FRAME, out, max);
    if (n < 0)
        return from_opus(n);
    *len = (size_t)n;
    return 0;
}

/* ---- Decoder ---- */

struct ovl_audio_dec {
    OpusDecoder *opus; /* owned */
    unsigned channels;
};

int ovl_audio_dec_new(unsigned channels, ovl_audio_dec_t **out)
{
    ovl_audio_dec_t *d;
    int err;

    *out = NULL;
    if (channels != 1 && channels != 2)
        return OVL_ERR_ARG;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return OVL_ERR_NOMEM;
    d->channels = channels;
    if ((d->opus = opus_decoder_create(OVL_AUDIO_RATE, (int)channels, &err)) == NULL) {
        free(d);
        return from_opus(err);
    }
    *out = d;
    return 0;
}

void ovl_audio_dec_free(ovl_audio_dec_t *d)
{
    if (d == NULL)
        return;
    opus_decoder_destroy(d->opus);
    free(d);
}

int ovl_audio_dec_decode(ovl_audio_dec_t *d, const uint8_t *pkt, size_t len, int16_t *pcm, size_t cap, size_t *samples)
{
    *samples = 0;
    if (pkt == NULL || len == 0 || len > INT32_MAX || pcm == NULL)
        return OVL_ERR_ARG;
    int frame = cap > OVL_AUDIO_MAX_FRAME ? OVL_AUDIO_MAX_FRAME : (int)cap;
    int n = opus_decode(d->opus, pkt, (opus_int32)len, pcm, frame, 0);
    if (n < 0)
        return from_opus(n);
    *samples = (size_t)n;
    return 0;
}

int ovl_audio_dec_recover(ovl_audio_dec_t *d, const uint8_t *next, size_t next_len, size_t lost, int16_t *pcm,
                          size_t cap, size_t *samples)
{
    *samples = 0;
    /* libopus conceals or recovers exactly frame_size samples, a multiple of 2.5 ms. */
    if (pcm == NULL || lost == 0 || lost % 120 != 0 || lost > cap || lost > OVL_AUDIO_MAX_FRAME ||
        (next != NULL && (next_len == 0 || next_len > INT32_MAX)))
        return OVL_ERR_ARG;
    int n = next ? opus_decode(d->opus, next, (opus_int32)next_len, pcm, (int)lost, 1)
                 : opus_decode(d->opus, NULL, 0, pcm, (int)lost, 0);
    if (n < 0)
        return from_opus(n);
    *samples = (size_t)n;
    return 0;
}

/* ---- Signals and levels ---- */

void ovl_audio_tone_init(ovl_audio_tone_t *t, double freq_hz, double amplitude)
{
    t->phase = 0;
    t->step = 2 * M_PI * freq_hz / OVL_AUDIO_RATE;
    t->amplitude = amplitude < 0 ? 0 : amplitude > 1 ? 1 : amplitude;
}

void ovl_audio_tone_fill(ovl_audio_tone_t *t, int16_t *pcm, size_t samples, unsigned channels)
{
    for (size_t i = 0; i < samples; i++) {
        int16_t v = (int16_t)lrint(32767.0 * t->amplitude * sin(t->phase));
        for (unsigned c = 0; c < channels; c++)
            pcm[i * channels + c] = v;
        t->phase += t->step;
        if (t->phase >= 2 * M_PI)
            t->phase -= 2 * M_PI;
    }
}

double ovl_audio_rms(const int16_t *pcm, size_t n)
{
    double sum = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)pcm[i] * pcm[i];
    return sqrt(sum / (double)n) / 32768.0;
}

/*
 * RFC 6464 §3: "The audio level is expressed in -dBov, with values from 0 to 127 representing 0
 * to -127 dBov. dBov is the level, in decibels, relative to the overload point of the system";
 * 0 dBov is a full-scale square wave (RMS 1), so a full-scale sine is -3 dBov. 127 is also used
 * for digital silence.
 */
uint8_t ovl_audio_level(const int16_t *pcm, size_t n)
{
    double rms = ovl_audio_rms(pcm, n);
    if (rms <= 0)
        return 127;
    double level = -20.0 * log10(rms);
    if (level <= 0)
        return 0;
    if (level >= 127)
        return 127;
    return (uint8_t)lrint(level);
}
