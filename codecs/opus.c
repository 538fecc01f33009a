#include "codecs/opus.h"

#include <string.h>

/*
 * RFC 6716 §3.1, Figure 1: The TOC Byte, and Table 2: TOC Byte Configuration Parameters.
 *
 *                               0
 *                               0 1 2 3 4 5 6 7
 *                              +-+-+-+-+-+-+-+-+
 *                              | config  |s| c |
 *                              +-+-+-+-+-+-+-+-+
 *
 *    +-----------------------+-----------+-----------+-------------------+
 *    | Configuration         | Mode      | Bandwidth | Frame Sizes       |
 *    | Number(s)             |           |           |                   |
 *    +-----------------------+-----------+-----------+-------------------+
 *    | 0...3                 | SILK-only | NB        | 10, 20, 40, 60 ms |
 *    | 4...7                 | SILK-only | MB        | 10, 20, 40, 60 ms |
 *    | 8...11                | SILK-only | WB        | 10, 20, 40, 60 ms |
 *    | 12...13               | Hybrid    | SWB       | 10, 20 ms         |
 *    | 14...15               | Hybrid    | FB        | 10, 20 ms         |
 *    | 16...19               | CELT-only | NB        | 2.5, 5, 10, 20 ms |
 *    | 20...23               | CELT-only | WB        | 2.5, 5, 10, 20 ms |
 *    | 24...27               | CELT-only | SWB       | 2.5, 5, 10, 20 ms |
 *    | 28...31               | CELT-only | FB        | 2.5, 5, 10, 20 ms |
 *    +-----------------------+-----------+-----------+-------------------+
 */
void ovl_opus_parse_toc(uint8_t toc, ovl_opus_toc_t *out)
{
    static const uint16_t silk[4] = {480, 960, 1920, 2880}; /* 10, 20, 40, 60 ms */
    static const uint16_t celt[4] = {120, 240, 480, 960};   /* 2.5, 5, 10, 20 ms */
    uint8_t config = toc >> 3;

    memset(out, 0, sizeof(*out));
    out->config = config;
    out->stereo = (toc & 0x04) != 0;
    out->code = toc & 0x03;
    if (config < 12) {
        out->mode = OVL_OPUS_SILK;
        out->bandwidth = (ovl_opus_bandwidth_t)(OVL_OPUS_NB + config / 4);
        out->frame_samples = silk[config & 3];
    } else if (config < 16) {
        out->mode = OVL_OPUS_HYBRID;
        out->bandwidth = config < 14 ? OVL_OPUS_SWB : OVL_OPUS_FB;
        out->frame_samples = silk[config & 1];
    } else {
        out->mode = OVL_OPUS_CELT;
        /* CELT has no medium-band: NB, WB, SWB, FB. */
        static const ovl_opus_bandwidth_t bw[4] = {OVL_OPUS_NB, OVL_OPUS_WB, OVL_OPUS_SWB, OVL_OPUS_FB};
        out->bandwidth = bw[(config - 16) / 4];
        out->frame_samples = celt[config & 3];
    }
}

unsigned ovl_opus_bandwidth_hz(ovl_opus_bandwidth_t bw)
{
    switch (bw) {
    case OVL_OPUS_NB:
        return 4000;
    case OVL_OPUS_MB:
        return 6000;
    case OVL_OPUS_WB:
        return 8000;
    case OVL_OPUS_SWB:
        return 12000;
    default:
        return 20000;
    }
}

/*
 * RFC 6716 §3.2.1: a frame length is one or two octets.
 *    o  0: No frame (discontinuous transmission (DTX) or lost packet)
 *    o  1...251: Length of the frame in bytes
 *    o  252...255: A second byte is needed.  The total length is
 *       (second_byte*4)+first_byte
 */
static int get_frame_len(const uint8_t **p, const uint8_t *end, uint16_t *len)
{
    uint8_t b0, b1;
    int ret;

    if ((ret = ovl_get_u8(p, end, &b0)) != 0)
        return ret;
    if (b0 < 252) {
        *len = b0;
        return 0;
    }
    if ((ret = ovl_get_u8(p, end, &b1)) != 0)
        return ret;
    *len = (uint16_t)(b1 * 4 + b0);
    return 0;
}

/*
 * RFC 6716 §3.2.5: code 3 padding. "Values from 0...254 indicate that 0...254 bytes of padding are
 * included, in addition to the byte(s) used to indicate the size of the padding. If the value is
 * 255, then the size of the additional padding is 254 bytes, plus the padding value encoded in
 * the next byte." Consumes the length octets; *trailing is the padding octets at the packet's end.
 */
static int get_padding(const uint8_t **p, const uint8_t *end, size_t *trailing)
{
    uint8_t v;
    int ret;

    *trailing = 0;
    do {
        if ((ret = ovl_get_u8(p, end, &v)) != 0)
            return ret;
        *trailing += v == 255 ? 254 : v;
    } while (v == 255);
    return 0;
}

/*
 * RFC 6716 §4.2.3: the SILK layer begins with one VAD flag per SILK frame (one for a 10 or 20 ms
 * Opus frame, two for 40 ms, three for 60 ms) and one LBRR flag, for the mid channel and then for
 * the side channel of a stereo packet. "Because these are the first symbols decoded by the range
 * coder and because they are coded as binary values with uniform probability, they can be
 * extracted directly from the most significant bits of the first byte of compressed data."
 */
static bool first_frame_has_lbrr(const ovl_opus_toc_t *toc, const uint8_t *frame, size_t len)
{
    if (toc->mode == OVL_OPUS_CELT || len == 0)
        return false;
    unsigned silk_frames = toc->frame_samples <= 960 ? 1 : toc->frame_samples / 960;
    unsigned channels = toc->stereo ? 2 : 1;
    for (unsigned ch = 1; ch <= channels; ch++) {
        unsigned bit = ch * (silk_frames + 1) - 1; /* 0 is the most significant bit */
        if (frame[0] & (0x80 >> bit))
            return true;
    }
    return false;
}

/*
 * RFC 6716 §3.2.5, Figure 5 (frame count byte) and Figure 6 (a VBR code 3 packet; a CBR one has
 * no N1..N[M-1] and M frames of (N-2-P)/M octets each):
 *
 *                               0
 *                               0 1 2 3 4 5 6 7
 *                              +-+-+-+-+-+-+-+-+
 *                              |v|p|     M     |
 *                              +-+-+-+-+-+-+-+-+
 *
 *       0                   1                   2                   3
 *       0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      | config  |s|1|1|1|p|     M     | Padding length (Optional)     :
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      : N1 (1-2 bytes): N2 (1-2 bytes):     ...       :     N[M-1]    |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |                                                               |
 *      :               Compressed frame 1 (N1 bytes)...                :
 *      |                                                               |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      :                              ...                              :
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      :                     Compressed frame M...                     :
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      :                  Opus Padding (Optional)...                   |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * On return *p is at the first frame and *end before the trailing padding.
 */
static int parse_code3(const uint8_t **p, const uint8_t **end, ovl_opus_packet_t *out)
{
    const uint8_t *hdr;
    size_t trailing = 0;
    uint8_t fc;
    int ret;

    if ((ret = ovl_get_u8(p, *end, &fc)) != 0)
        return ret;
    out->vbr = (fc & 0x80) != 0;
    out->frames = fc & 0x3f;
    /* R5: at least one frame, and no more than 120 ms of audio. */
    if (out->frames == 0 || out->frames * out->toc.frame_samples > OVL_OPUS_MAX_SAMPLES)
        return OVL_ERR_PARSE;
    if (fc & 0x40) {
        hdr = *p;
        if ((ret = get_padding(p, *end, &trailing)) != 0)
            return ret;
        if (trailing > ovl_left(*p, *end)) /* R6, R7: the padding must fit */
            return OVL_ERR_PARSE;
        out->padding = (size_t)(*p - hdr) + trailing;
        *end -= trailing;
    }
    if (out->vbr) {
        size_t sum = 0;
        for (unsigned i = 0; i + 1 < out->frames; i++) {
            if ((ret = get_frame_len(p, *end, &out->frame_len[i])) != 0)
                return ret;
            sum += out->frame_len[i];
        }
        if (sum > ovl_left(*p, *end)) /* R7 */
            return OVL_ERR_PARSE;
        size_t last = ovl_left(*p, *end) - sum;
        if (last > OVL_OPUS_MAX_FRAME_BYTES) /* R2 */
            return OVL_ERR_PARSE;
        out->frame_len[out->frames - 1] = (uint16_t)last;
    } else {
        size_t n = ovl_left(*p, *end);
        if (n % out->frames != 0 || n / out->frames > OVL_OPUS_MAX_FRAME_BYTES) /* R6, R2 */
            return OVL_ERR_PARSE;
        for (unsigned i = 0; i < out->frames; i++)
            out->frame_len[i] = (uint16_t)(n / out->frames);
    }
    return 0;
}

/*
 * RFC 6716 §3.2.2-§3.2.4: code 0 is one frame of N-1 octets; code 1 two frames of (N-1)/2 octets
 * each (R3: N-1 even); code 2 a frame length N1 then frames of N1 and N-2-N1 (or N-3-N1) octets
 * (R4: N1 fits). R1: at least the TOC byte; R2: no frame longer than 1275 octets.
 */
int ovl_opus_parse(const uint8_t *pkt, size_t len, ovl_opus_packet_t *out)
{
    const uint8_t *p = pkt, *end = pkt + len;
    uint8_t toc;
    size_t n;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = ovl_get_u8(&p, end, &toc)) != 0) /* R1 */
        goto Exit;
    ovl_opus_parse_toc(toc, &out->toc);
    ret = OVL_ERR_PARSE;
    switch (out->toc.code) {
    case 0:
        n = ovl_left(p, end);
        if (n > OVL_OPUS_MAX_FRAME_BYTES)
            goto Exit;
        out->frames = 1;
        out->frame_len[0] = (uint16_t)n;
        break;
    case 1:
        n = ovl_left(p, end);
        if (n % 2 != 0 || n / 2 > OVL_OPUS_MAX_FRAME_BYTES)
            goto Exit;
        out->frames = 2;
        out->frame_len[0] = out->frame_len[1] = (uint16_t)(n / 2);
        break;
    case 2:
        if ((ret = get_frame_len(&p, end, &out->frame_len[0])) != 0)
            goto Exit;
        ret = OVL_ERR_PARSE;
        if (out->frame_len[0] > ovl_left(p, end))
            goto Exit;
        n = ovl_left(p, end) - out->frame_len[0];
        if (n > OVL_OPUS_MAX_FRAME_BYTES)
            goto Exit;
        out->frames = 2;
        out->vbr = true;
        out->frame_len[1] = (uint16_t)n;
        break;
    default:
        if ((ret = parse_code3(&p, &end, out)) != 0)
            goto Exit;
        break;
    }
    out->frame_off = (size_t)(p - pkt);
    out->samples = out->frames * out->toc.frame_samples;
    out->lbrr = first_frame_has_lbrr(&out->toc, p, out->frame_len[0]);
    ret = 0;
Exit:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

int ovl_opus_packet_samples(const uint8_t *pkt, size_t len, uint32_t *samples)
{
    ovl_opus_toc_t toc;
    unsigned frames;

    *samples = 0;
    if (len < 1)
        return OVL_ERR_PARSE;
    ovl_opus_parse_toc(pkt[0], &toc);
    if (toc.code == 0)
        frames = 1;
    else if (toc.code != 3)
        frames = 2;
    else if (len < 2)
        return OVL_ERR_PARSE;
    else
        frames = pkt[1] & 0x3f;
    if (frames == 0 || frames * toc.frame_samples > OVL_OPUS_MAX_SAMPLES)
        return OVL_ERR_PARSE;
    *samples = frames * toc.frame_samples;
    return 0;
}

/*
 * RFC 6464 §3: the audio level extension in the one-byte and the two-byte header forms of
 * RFC 8285. Its data is one octet, V (voice activity) and the level in -dBov (0..127).
 *
 *     0                   1
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  ID   | len=0 |V| level       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      ID       |     len=1     |V|    level    |    0 (pad)    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int ovl_opus_level_parse(const uint8_t *data, size_t len, bool *voice, uint8_t *level)
{
    *voice = false;
    *level = 0;
    if (len != 1)
        return OVL_ERR_PARSE;
    *voice = (data[0] & 0x80) != 0;
    *level = data[0] & 0x7f;
    return 0;
}

int ovl_opus_level_build(ovl_wbuf_t *b, bool voice, uint8_t level)
{
    if (level > OVL_OPUS_LEVEL_SILENCE)
        return OVL_ERR_ARG;
    return ovl_put_u8(b, (uint8_t)((voice ? 0x80 : 0) | level));
}
