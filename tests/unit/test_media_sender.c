/*
 * The synthetic peer's sending streams (codecs/media_sender.c): RTP packetization of VP8 (RFC 7741) and Opus
 * (RFC 7587), header extensions (RFC 8285, RFC 6464, RFC 8843), RTX retransmission (RFC 4588 §4) and SR
 * sender information (RFC 3550 §6.4.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "codecs/media_sender.h"
#include "codecs/vp8.h"
#include "relay/proto/rtp.h"

#define MAX_OUT 64

typedef struct out {
    uint8_t pkt[MAX_OUT][OVL_MEDIA_MAX_RTP];
    size_t len[MAX_OUT];
    bool rtx[MAX_OUT];
    size_t n;
} out_t;

static void emit(void *ctx, uint8_t *pkt, size_t len, size_t cap, bool rtx)
{
    out_t *o = ctx;
    assert_true(cap >= len + OVL_SRTP_MAX_OVERHEAD); /* room to protect in place */
    assert_true(o->n < MAX_OUT);
    memcpy(o->pkt[o->n], pkt, len);
    o->len[o->n] = len;
    o->rtx[o->n] = rtx;
    o->n++;
    memset(pkt, 0xEE, len); /* the callback may overwrite the buffer (SRTP in place): the history must not care */
}

static ovl_media_sender_t *video_sender(out_t *o, unsigned history, uint32_t rtx_ssrc)
{
    ovl_media_sender_cfg_t cfg = {.kind = OVL_MEDIA_VIDEO,
                                  .ssrc = 0x11111111,
                                  .pt = 96,
                                  .clock = 90000,
                                  .rtx_ssrc = rtx_ssrc,
                                  .rtx_pt = 97,
                                  .first_seq = 65534, /* wraps inside the first frame */
                                  .first_rtx_seq = 500,
                                  .first_picture_id = 1234,
                                  .mid_ext_id = 4,
                                  .mid = "1",
                                  .max_payload = 1200,
                                  .history = history,
                                  .emit = emit,
                                  .ctx = o};
    ovl_media_sender_t *s = NULL;
    assert_int_equal(ovl_media_sender_new(&cfg, &s), 0);
    return s;
}

static void parse(const out_t *o, size_t i, ovl_rtp_t *rtp)
{
    assert_int_equal(ovl_rtp_parse(rtp, o->pkt[i], o->len[i]), 0);
}

/* RFC 7741 §4.1: one timestamp per frame, the marker on its last packet, consecutive sequence numbers; §4.2:
 * S=1 on the first packet only, the same 15-bit PictureID on all. RFC 8843 §15.2: the mid in every packet. */
static void test_video_packets(void **state)
{
    (void)state;
    out_t o = {0};
    ovl_media_sender_t *s = video_sender(&o, 0, 0x22222222);
    uint8_t frame[3000];
    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7);
    assert_int_equal(ovl_media_sender_video_frame(s, frame, sizeof(frame), true, 90000, OVL_SEC(1)), 0);
    assert_int_equal(o.n, 3);
    size_t total = 0;
    for (size_t i = 0; i < o.n; i++) {
        ovl_rtp_t rtp;
        ovl_vp8_desc_t d;
        ovl_rtp_ext_elem_t e;
        parse(&o, i, &rtp);
        assert_false(o.rtx[i]);
        assert_int_equal(rtp.ssrc, 0x11111111);
        assert_int_equal(rtp.payload_type, 96);
        assert_int_equal(rtp.timestamp, 90000);
        assert_int_equal(rtp.seq, (uint16_t)(65534 + i));
        assert_int_equal(rtp.marker, i == 2);
        assert_true(rtp.payload_len <= 1200);
        assert_int_equal(ovl_rtp_ext_find(&rtp, 4, &e), 0);
        assert_int_equal(e.len, 1);
        assert_int_equal(e.data[0], '1');
        assert_int_equal(ovl_vp8_parse_desc(ovl_rtp_payload(&rtp), rtp.payload_len, &d), 0);
        assert_int_equal(d.start, i == 0);
        assert_true(d.has_picture_id && d.picture_id_15bit);
        assert_int_equal(d.picture_id, 1234);
        assert_memory_equal(ovl_rtp_payload(&rtp) + d.len, frame + total, rtp.payload_len - d.len);
        total += rtp.payload_len - d.len;
    }
    assert_int_equal(total, sizeof(frame));
    /* The next frame: next sequence number, next PictureID. */
    assert_int_equal(ovl_media_sender_video_frame(s, frame, 100, false, 93000, OVL_SEC(1) + OVL_MS(33)), 0);
    ovl_rtp_t rtp;
    ovl_vp8_desc_t d;
    parse(&o, 3, &rtp);
    assert_int_equal(rtp.seq, 1);
    assert_true(rtp.marker);
    assert_int_equal(ovl_vp8_parse_desc(ovl_rtp_payload(&rtp), rtp.payload_len, &d), 0);
    assert_int_equal(d.picture_id, 1235);
    ovl_media_sender_stats_t st;
    ovl_media_sender_stats(s, &st);
    assert_int_equal(st.frames, 2);
    assert_int_equal(st.keyframes, 1);
    assert_int_equal(st.packets, 4);
    ovl_media_sender_free(s);
}

/* RFC 4588 §4: a retransmission goes on the RTX SSRC with the RTX payload type and the RTX stream's own
 * sequence numbers, keeps the timestamp and marker, and starts its payload with the original sequence number. */
static void test_rtx(void **state)
{
    (void)state;
    out_t o = {0};
    ovl_media_sender_t *s = video_sender(&o, 16, 0x22222222);
    uint8_t frame[2000] = {1, 2, 3};
    assert_int_equal(ovl_media_sender_video_frame(s, frame, sizeof(frame), true, 3000, OVL_SEC(1)), 0);
    assert_int_equal(o.n, 2);
    ovl_rtp_t orig1, rtx;
    parse(&o, 1, &orig1);
    uint16_t seqs[] = {orig1.seq, 65534, 4242};
    ovl_media_sender_on_nack(s, seqs, 3);
    assert_int_equal(o.n, 4); /* 4242 was never sent */
    parse(&o, 2, &rtx);
    assert_true(o.rtx[2]);
    assert_int_equal(rtx.ssrc, 0x22222222);
    assert_int_equal(rtx.payload_type, 97);
    assert_int_equal(rtx.seq, 500);
    assert_int_equal(rtx.timestamp, 3000);
    assert_true(rtx.marker);
    assert_int_equal(rtx.payload_len, orig1.payload_len + 2);
    assert_int_equal(ovl_load_u16(ovl_rtp_payload(&rtx)), orig1.seq);
    assert_memory_equal(ovl_rtp_payload(&rtx) + 2, ovl_rtp_payload(&orig1), orig1.payload_len);
    parse(&o, 3, &rtx);
    assert_int_equal(rtx.seq, 501);
    assert_int_equal(ovl_load_u16(ovl_rtp_payload(&rtx)), 65534);
    assert_false(rtx.marker);

    /* The history holds 16 packets: after 20 more the first ones are gone. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(ovl_media_sender_video_frame(s, frame, 100, false, 6000 + 3000 * (uint32_t)i, OVL_SEC(2)), 0);
    size_t before = o.n;
    uint16_t old = 65534;
    ovl_media_sender_on_nack(s, &old, 1);
    assert_int_equal(o.n, before);
    ovl_media_sender_stats_t st;
    ovl_media_sender_stats(s, &st);
    assert_int_equal(st.nack_seqs, 4);
    assert_int_equal(st.rtx_packets, 2);
    assert_int_equal(st.nack_missed, 2);
    ovl_media_sender_free(s);

    /* Without RTX nothing is resent (the original again would repeat an SRTP packet index). */
    o.n = 0;
    s = video_sender(&o, 0, 0);
    assert_int_equal(ovl_media_sender_video_frame(s, frame, 100, true, 0, OVL_SEC(1)), 0);
    parse(&o, 0, &orig1);
    ovl_media_sender_on_nack(s, &orig1.seq, 1);
    assert_int_equal(o.n, 1);
    ovl_media_sender_free(s);
}

/* RFC 7587 §4.2 one Opus packet per RTP packet; RFC 6464 §3 the level extension: V bit and -dBov. */
static void test_audio(void **state)
{
    (void)state;
    out_t o = {0};
    ovl_media_sender_cfg_t cfg = {.kind = OVL_MEDIA_AUDIO,
                                  .ssrc = 77,
                                  .pt = 111,
                                  .clock = 48000,
                                  .first_seq = 9,
                                  .level_ext_id = 1,
                                  .mid_ext_id = 4,
                                  .mid = "0",
                                  .emit = emit,
                                  .ctx = &o};
    ovl_media_sender_t *s;
    uint8_t opus[40] = {0x78, 1, 2, 3};
    ovl_rtp_t rtp;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_media_sender_new(&cfg, &s), 0);
    assert_int_equal(ovl_media_sender_audio_frame(s, opus, sizeof(opus), 960, 25, true, OVL_SEC(1)), 0);
    assert_int_equal(ovl_media_sender_audio_frame(s, opus, sizeof(opus), 1920, 127, false, OVL_SEC(1)), 0);
    assert_int_equal(o.n, 2);
    parse(&o, 0, &rtp);
    assert_int_equal(rtp.seq, 9);
    assert_int_equal(rtp.timestamp, 960);
    assert_false(rtp.marker);
    assert_int_equal(rtp.payload_len, sizeof(opus));
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), 0);
    assert_int_equal(e.data[0], 0x80 | 25);
    parse(&o, 1, &rtp);
    assert_int_equal(rtp.seq, 10);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), 0);
    assert_int_equal(e.data[0], 127);
    assert_int_equal(ovl_media_sender_video_frame(s, opus, sizeof(opus), true, 0, 0), OVL_ERR_STATE);
    assert_int_equal(ovl_media_sender_audio_frame(s, opus, 0, 0, 0, false, 0), OVL_ERR_ARG);
    ovl_media_sender_free(s);
}

/* RFC 3550 §6.4.1: the SR's RTP timestamp is the sampling instant of the NTP time, moved on from the last frame. */
static void test_sender_info(void **state)
{
    (void)state;
    out_t o = {0};
    ovl_media_sender_t *s = video_sender(&o, 0, 0);
    ovl_rtcp_sender_info_t si;
    uint8_t frame[100] = {0};
    assert_int_equal(ovl_media_sender_info(s, OVL_SEC(1), 42, &si), OVL_ERR_AGAIN);
    assert_int_equal(ovl_media_sender_video_frame(s, frame, sizeof(frame), true, 4294967000u, OVL_SEC(1)), 0);
    assert_int_equal(ovl_media_sender_info(s, OVL_SEC(1) + OVL_MS(500), 0x1234567800000000ull, &si), 0);
    assert_int_equal(si.ntp, 0x1234567800000000ull);
    assert_int_equal(si.rtp_ts, (uint32_t)(4294967000u + 45000u)); /* wraps */
    assert_int_equal(si.packet_count, 1);
    ovl_rtp_t rtp;
    parse(&o, 0, &rtp);
    assert_int_equal(si.octet_count, rtp.payload_len);
    assert_int_equal(ovl_media_sender_ssrc(s), 0x11111111);
    ovl_media_sender_free(s);
}

static void test_config_errors(void **state)
{
    (void)state;
    out_t o = {0};
    ovl_media_sender_t *s = (ovl_media_sender_t *)&o;
    ovl_media_sender_cfg_t cfg = {.kind = OVL_MEDIA_VIDEO, .ssrc = 1, .pt = 96, .clock = 90000, .emit = emit};
    cfg.history = 100; /* not a power of two */
    assert_int_equal(ovl_media_sender_new(&cfg, &s), OVL_ERR_ARG);
    assert_null(s);
    cfg.history = 0;
    cfg.rtx_ssrc = 1; /* the same as the media SSRC */
    assert_int_equal(ovl_media_sender_new(&cfg, &s), OVL_ERR_ARG);
    cfg.rtx_ssrc = 0;
    cfg.mid_ext_id = 4; /* without a mid */
    assert_int_equal(ovl_media_sender_new(&cfg, &s), OVL_ERR_ARG);
    cfg.mid_ext_id = 0;
    cfg.emit = NULL;
    assert_int_equal(ovl_media_sender_new(&cfg, &s), OVL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_video_packets), cmocka_unit_test(test_rtx),           cmocka_unit_test(test_audio),
        cmocka_unit_test(test_sender_info),   cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
