/*
 * libFuzzer target: the VP8 frame assembler fed arbitrary packets in arbitrary order.
 *
 * Input: one configuration octet, then records of
 *   [seq step: int8] [flags: bit 0 marker, bit 1 next timestamp, bit 2 jump 1000 ahead] [len] [payload]
 * (a record cut short by the end of the input uses what is left). Checks the frames that come out:
 * in sequence order, within the limits, and what the assembler says about them holds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "codecs/vp8_packetizer.h"

static int32_t seq_diff(uint16_t a, uint16_t b)
{
    int32_t d = (int32_t)((uint16_t)(a - b));
    return d >= 0x8000 ? d - 0x10000 : d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_vp8_depacketizer_t *d;
    const uint8_t *p = data, *end = data + size;
    uint16_t seq = 65500, last_seq = 0;
    uint32_t ts = 0;
    int have_last = 0;
    unsigned records = 0;

    if (size < 1)
        return 0;
    ovl_vp8_depacketizer_cfg_t cfg = {
        .window = 16u << (p[0] & 3),      /* 16..128 */
        .reorder = 1 + ((p[0] >> 2) & 7), /* 1..8 */
        .max_packet = 255,
        .max_frame = 256u << ((p[0] >> 5) & 3), /* 256..2048 */
    };
    p++;
    if (ovl_vp8_depacketizer_new(&cfg, &d) != 0)
        abort();
    while (end - p >= 3) {
        seq = (uint16_t)(seq + (int8_t)p[0]);
        uint8_t flags = p[1];
        size_t len = p[2];
        p += 3;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        if (flags & 2)
            ts += 3000;
        if (flags & 4)
            seq = (uint16_t)(seq + 1000);
        /* Order is only defined within half the sequence space: forget the last frame before the
         * stream can have moved that far (a jump, or 200 steps of at most 128). */
        if ((flags & 4) || ++records % 200 == 0)
            have_last = 0;
        (void)ovl_vp8_depacketizer_push(d, seq, flags & 1, ts, p, len);
        p += len;

        ovl_vp8_frame_t fr;
        while (ovl_vp8_depacketizer_pop(d, &fr) == 0) {
            if (fr.data == NULL || fr.len == 0 || fr.len > cfg.max_frame || fr.packets == 0 ||
                fr.packets > cfg.window || (uint16_t)(fr.last_seq - fr.first_seq) != fr.packets - 1)
                abort();
            if (fr.keyframe && (fr.width == 0 || fr.height == 0 || !fr.decodable))
                abort();
            if (have_last && seq_diff(fr.first_seq, last_seq) <= 0) /* frames come out in order */
                abort();
            volatile uint8_t sum = 0; /* touch every octet: ASan checks the frame buffer */
            for (size_t i = 0; i < fr.len; i++)
                sum ^= fr.data[i];
            (void)sum;
            last_seq = fr.last_seq;
            have_last = 1;
        }
    }
    ovl_vp8_depacketizer_stats_t s;
    ovl_vp8_depacketizer_get_stats(d, &s);
    if (s.keyframes > s.frames)
        abort();
    ovl_vp8_depacketizer_free(d);
    return 0;
}
