/*
 * libFuzzer target: the synthetic peer's receivers (codecs/media_receiver.c) fed arbitrary RTP, as the relay
 * (or anyone who got past SRTP) could send it: a video receiver with NACK/RTX and PLI, and an audio receiver.
 *
 * Input: records of [flags] [len] [packet]; flags bit 0 picks the audio receiver, bit 1 advances the clock by
 * 40 ms, bit 2 makes the packet's SSRC the RTX SSRC, bit 3 the media SSRC (the receivers' own SSRCs, so that
 * most packets reach the code past the SSRC check). After each record the feedback due is built and parsed back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/media_receiver.h"
#include "relay/proto/rtcp.h"

#define SSRC 0x11223344u
#define RTX  0x55667788u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_media_receiver_t *v = NULL, *a = NULL;
    ovl_media_receiver_cfg_t vc = {.kind = OVL_MEDIA_VIDEO,
                                   .ssrc = SSRC,
                                   .pt = 96,
                                   .clock = 90000,
                                   .rtx_ssrc = RTX,
                                   .rtx_pt = 97,
                                   .local_ssrc = 1,
                                   .nack = true,
                                   .pli = true};
    ovl_media_receiver_cfg_t ac = {.kind = OVL_MEDIA_AUDIO, .ssrc = SSRC, .pt = 111, .clock = 48000};
    const uint8_t *p = data, *end = data + size;
    ovl_time_t now = OVL_SEC(100);
    uint8_t pkt[OVL_MEDIA_MAX_RTP], fb[1500];
    if (ovl_media_receiver_new(&vc, &v) != 0 || ovl_media_receiver_new(&ac, &a) != 0)
        abort();
    while (end - p >= 2) {
        uint8_t flags = p[0];
        size_t len = p[1] * 6u;
        p += 2;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        memcpy(pkt, p, len);
        p += len;
        if (len >= 12 && (flags & 12)) {
            uint32_t ssrc = flags & 4 ? RTX : SSRC;
            pkt[8] = (uint8_t)(ssrc >> 24), pkt[9] = (uint8_t)(ssrc >> 16), pkt[10] = (uint8_t)(ssrc >> 8),
            pkt[11] = (uint8_t)ssrc;
        }
        if (flags & 2)
            now += OVL_MS(40);
        ovl_media_receiver_t *r = flags & 1 ? a : v;
        (void)ovl_media_receiver_on_rtp(r, pkt, len, now);
        if (ovl_media_receiver_next_timeout(r) <= now) {
            ovl_wbuf_t w;
            ovl_rtcp_iter_t it;
            ovl_rtcp_msg_t m;
            ovl_wbuf_init(&w, fb, sizeof(fb));
            if (ovl_media_receiver_feedback(r, now, &w) < 0)
                abort();
            ovl_rtcp_iter_init(&it, fb, w.len);
            while (w.len && ovl_rtcp_next(&it, &m) == 0)
                if (m.kind != OVL_RTCP_NACK && m.kind != OVL_RTCP_PLI)
                    abort();
        }
    }
    ovl_media_receiver_stats_t st;
    ovl_rtcp_rb_t rb;
    ovl_media_receiver_stats(v, &st);
    if (st.frames_verified > st.frames_decoded)
        abort();
    (void)ovl_media_receiver_report(v, now, &rb);
    ovl_media_receiver_free(v);
    ovl_media_receiver_free(a);
    return 0;
}
