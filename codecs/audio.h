/*
 * Opus audio for the synthetic peer, the benchmark and later the mixer: a thin libopus encoder
 * (48 kHz, 20 ms frames, VOIP application, in-band FEC, optional DTX) and decoder (with FEC and
 * packet loss concealment), a tone generator, and the RMS / RFC 6464 level of a frame.
 */
#ifndef OVL_AUDIO_H
#define OVL_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

#define OVL_AUDIO_RATE       48000 /* samples per second per channel */
#define OVL_AUDIO_FRAME      960   /* samples per channel in one 20 ms frame */
#define OVL_AUDIO_MAX_FRAME  5760  /* samples per channel in the longest Opus packet (120 ms) */
#define OVL_AUDIO_MAX_PACKET 1500  /* output room that always suffices for one encoded frame */

/* ---- Encoder ---- */

typedef struct ovl_audio_enc ovl_audio_enc_t;

typedef struct ovl_audio_enc_cfg {
    unsigned channels;         /* 1 or 2 */
    unsigned bitrate;          /* bits per second, 6000..510000; 0 for libopus's choice */
    bool fec;                  /* in-band FEC: LBRR copies of the previous frame in each packet */
    unsigned packet_loss_perc; /* expected loss 0..100, which sets how much FEC the encoder spends */
    bool dtx;                  /* discontinuous transmission: 1-2 octet packets in silence */
    int complexity;            /* 0..10; 0 means libopus's default (10) */
} ovl_audio_enc_cfg_t;

/** Creates an encoder (OPUS_APPLICATION_VOIP, 48 kHz). OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_audio_enc_new(const ovl_audio_enc_cfg_t *cfg, ovl_audio_enc_t **out);

/** Frees the encoder (NULL is fine). */
void ovl_audio_enc_free(ovl_audio_enc_t *enc);

/**
 * Encodes one 20 ms frame (OVL_AUDIO_FRAME samples per channel, interleaved) into out (cap
 * octets; OVL_AUDIO_MAX_PACKET always suffices). With DTX, a packet of 1-2 octets means silence
 * and need not be sent. OVL_ERR_LIMIT when cap is too small, OVL_ERR_ARG otherwise.
 */
int ovl_audio_enc_encode(ovl_audio_enc_t *enc, const int16_t *pcm, uint8_t *out, size_t cap, size_t *len);

/* ---- Decoder ---- */

typedef struct ovl_audio_dec ovl_audio_dec_t;

/** Creates a 48 kHz decoder for 1 or 2 output channels. OVL_ERR_ARG, OVL_ERR_NOMEM. */
int ovl_audio_dec_new(unsigned channels, ovl_audio_dec_t **out);

/** Frees the decoder (NULL is fine). */
void ovl_audio_dec_free(ovl_audio_dec_t *dec);

/**
 * Decodes one packet into pcm (room for cap samples per channel, interleaved; OVL_AUDIO_MAX_FRAME
 * always suffices); *samples gets the samples per channel. OVL_ERR_PARSE for a corrupt packet.
 */
int ovl_audio_dec_decode(ovl_audio_dec_t *dec, const uint8_t *pkt, size_t len, int16_t *pcm, size_t cap,
                         size_t *samples);

/**
 * Makes up for a lost packet of `lost` samples per channel (a multiple of 120, e.g. 960). With the
 * packet after the loss (next, next_len) it decodes that packet's in-band FEC copy of the lost
 * one, or conceals (PLC) when it carries none; with next == NULL it conceals. Then decode `next`
 * itself normally. OVL_ERR_ARG, OVL_ERR_PARSE.
 */
int ovl_audio_dec_recover(ovl_audio_dec_t *dec, const uint8_t *next, size_t next_len, size_t lost, int16_t *pcm,
                          size_t cap, size_t *samples);

/* ---- Signals and levels ---- */

/* A sine tone generator; caller storage, nothing to dispose. */
typedef struct ovl_audio_tone {
    double phase, step, amplitude;
} ovl_audio_tone_t;

/** Prepares a tone of freq_hz at 48 kHz, amplitude relative to full scale (0..1). */
void ovl_audio_tone_init(ovl_audio_tone_t *t, double freq_hz, double amplitude);

/** Writes the next `samples` samples per channel (the same on every channel, interleaved). */
void ovl_audio_tone_fill(ovl_audio_tone_t *t, int16_t *pcm, size_t samples, unsigned channels);

/** RMS of n samples relative to full scale (32768): 0 for silence, about 0.707 for a full sine. */
double ovl_audio_rms(const int16_t *pcm, size_t n);

/**
 * RFC 6464 level of n samples: the RMS in -dBov, rounded, 0 (full-scale square wave) to 127
 * (-127 dBov or quieter, and digital silence). A full-scale sine is 3.
 */
uint8_t ovl_audio_level(const int16_t *pcm, size_t n);

#endif
