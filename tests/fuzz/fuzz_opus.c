/*
 * libFuzzer target: Opus TOC and packet parser (RFC 6716 §3) and the RFC 6464 audio level. The
 * packet parser must agree with libopus's opus_packet_parse on validity, frame count, frame sizes
 * and where the frames start, on any input.
 */
#include <stdint.h>
#include <stdlib.h>

#include <opus/opus.h>

#include "codecs/opus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_opus_packet_t p;
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    unsigned char toc;
    int offset = -1;

    if (size > 100000)
        return 0;
    int mine = ovl_opus_parse(data, size, &p);
    int theirs = opus_packet_parse(data, (opus_int32)size, &toc, frames, sizes, &offset);
    if ((mine == 0) != (theirs > 0))
        abort();
    if (mine == 0) {
        size_t used = p.frame_off, off = p.frame_off;
        if (p.frames != (unsigned)theirs || p.frame_off != (size_t)offset || p.samples > OVL_OPUS_MAX_SAMPLES)
            abort();
        for (int i = 0; i < theirs; i++) {
            if (p.frame_len[i] != sizes[i] || frames[i] != data + off || p.frame_len[i] > OVL_OPUS_MAX_FRAME_BYTES)
                abort();
            off += p.frame_len[i];
            used += p.frame_len[i];
        }
        if (used > size || size > used + p.padding || (p.padding == 0 && used != size))
            abort();
        if (p.lbrr && (p.toc.mode == OVL_OPUS_CELT || p.frame_len[0] == 0))
            abort();
        if ((uint32_t)opus_packet_get_nb_samples(data, (opus_int32)size, 48000) != p.samples)
            abort();
    }
    uint32_t samples;
    int sret = ovl_opus_packet_samples(data, size, &samples);
    int nb = size ? opus_packet_get_nb_samples(data, (opus_int32)size, 48000) : OPUS_BAD_ARG;
    if (nb > 0 ? (sret != 0 || samples != (uint32_t)nb) : sret == 0)
        abort();
    if (mine == 0 && sret != 0)
        abort();

    if (size >= 1) {
        ovl_opus_toc_t t;
        ovl_opus_parse_toc(data[0], &t);
        if (t.config != data[0] >> 3 || t.code != (data[0] & 3) || t.frame_samples < 120 || t.frame_samples > 2880)
            abort();
        if ((unsigned)opus_packet_get_samples_per_frame(data, 48000) != t.frame_samples)
            abort();
        if (opus_packet_get_nb_channels(data) != (t.stereo ? 2 : 1))
            abort();
    }

    bool voice;
    uint8_t level, out[1];
    ovl_wbuf_t b;
    if (ovl_opus_level_parse(data, size, &voice, &level) == 0) {
        ovl_wbuf_init(&b, out, sizeof(out));
        if (size != 1 || level > 127 || ovl_opus_level_build(&b, voice, level) != 0 || out[0] != data[0])
            abort();
    } else if (size == 1) {
        abort();
    }
    return 0;
}
