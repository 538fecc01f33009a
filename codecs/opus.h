/*
 * Opus in RTP as the relay sees it: the TOC byte and packet framing (RFC 6716 §3, carried as in
 * RFC 7587), whether a packet carries in-band FEC (LBRR, RFC 6716 §4.2.3), and the client-to-mixer
 * audio level header extension (RFC 6464). No allocation; every parser checks its own input.
 */
#ifndef OVL_OPUS_H
#define OVL_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "relay/proto/cursor.h"

#define OVL_OPUS_MAX_FRAMES      48   /* RFC 6716 §3.2.5: M is at most 48 */
#define OVL_OPUS_MAX_FRAME_BYTES 1275 /* RFC 6716 §3.4 R2 */
#define OVL_OPUS_MAX_SAMPLES     5760 /* 120 ms at 48 kHz, RFC 6716 §3.4 R5 */

typedef enum ovl_opus_mode {
    OVL_OPUS_SILK = 0,
    OVL_OPUS_HYBRID,
    OVL_OPUS_CELT,
} ovl_opus_mode_t;

/* Audio bandwidth (RFC 6716 §2, Table 1). */
typedef enum ovl_opus_bandwidth {
    OVL_OPUS_NB = 0, /* narrowband, 4 kHz */
    OVL_OPUS_MB,     /* medium-band, 6 kHz */
    OVL_OPUS_WB,     /* wideband, 8 kHz */
    OVL_OPUS_SWB,    /* super-wideband, 12 kHz */
    OVL_OPUS_FB,     /* fullband, 20 kHz */
} ovl_opus_bandwidth_t;

/* The TOC byte (RFC 6716 §3.1). */
typedef struct ovl_opus_toc {
    uint8_t config; /* 0..31 */
    ovl_opus_mode_t mode;
    ovl_opus_bandwidth_t bandwidth;
    uint16_t frame_samples; /* samples per frame per channel at 48 kHz: 120 (2.5 ms) .. 2880 (60 ms) */
    bool stereo;            /* s */
    uint8_t code;           /* c: 0 one frame, 1 two equal, 2 two different, 3 any number */
} ovl_opus_toc_t;

/* One Opus packet (RFC 6716 §3.2); offsets are into the parsed packet. */
typedef struct ovl_opus_packet {
    ovl_opus_toc_t toc;
    unsigned frames;                         /* 1..48 */
    uint32_t samples;                        /* duration at 48 kHz: frames * toc.frame_samples, at most 5760 */
    bool vbr;                                /* code 2, or code 3 with v=1 */
    size_t padding;                          /* code 3 padding: its length octets plus the padding octets (P of R6) */
    size_t frame_off;                        /* offset of the first frame; the frames follow each other */
    uint16_t frame_len[OVL_OPUS_MAX_FRAMES]; /* 0 is a valid length (DTX or lost frame) */
    bool lbrr; /* the first frame's SILK layer carries LBRR data: in-band FEC for the packet before */
} ovl_opus_packet_t;

/** Decodes a TOC byte (RFC 6716 §3.1, Table 2). Every byte is a valid TOC. */
void ovl_opus_parse_toc(uint8_t toc, ovl_opus_toc_t *out);

/**
 * Parses an Opus packet: TOC, frame count (code 3's count byte), padding and frame lengths, with
 * every validity rule R1..R7 of RFC 6716 §3.4, and the LBRR flags of the first frame when it has
 * a SILK layer. Returns 0, or OVL_ERR_PARSE with *out cleared.
 */
int ovl_opus_parse(const uint8_t *pkt, size_t len, ovl_opus_packet_t *out);

/**
 * Duration of an Opus packet in samples at 48 kHz (RFC 6716 §3.1-§3.2), from its first one or two
 * bytes; the rest is not validated (use ovl_opus_parse for that). OVL_ERR_PARSE if too short or
 * if code 3's count is 0 or the duration passes 120 ms.
 */
int ovl_opus_packet_samples(const uint8_t *pkt, size_t len, uint32_t *samples);

/** Audio bandwidth in Hz: 4000, 6000, 8000, 12000 or 20000. */
unsigned ovl_opus_bandwidth_hz(ovl_opus_bandwidth_t bw);

/* RFC 6464 audio level: 0 is 0 dBov (loudest), 127 is -127 dBov or digital silence. */
#define OVL_OPUS_LEVEL_SILENCE 127

/**
 * Parses the data of an RFC 6464 audio level header extension element (one octet: V and the
 * level in -dBov, the same in the one-byte and two-byte header forms). len must be 1.
 * Returns 0 or OVL_ERR_PARSE, with the outputs cleared on entry.
 */
int ovl_opus_level_parse(const uint8_t *data, size_t len, bool *voice, uint8_t *level);

/**
 * Appends the one octet of RFC 6464 audio level data (V, level) to b. level must be 0..127
 * (else OVL_ERR_ARG); OVL_ERR_LIMIT if b is full.
 */
int ovl_opus_level_build(ovl_wbuf_t *b, bool voice, uint8_t level);

#endif
