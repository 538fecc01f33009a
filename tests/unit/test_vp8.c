/* VP8 RTP payload descriptor and payload header (RFC 7741 §4.2, §4.3; RFC 6386 §9.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

#include "codecs/video.h"
#include "codecs/vp8.h"
#include "codecs/vp8_packetizer.h"

/*
 * First 10 octets of a key frame and 4 of a delta frame, as libvpx 1.12 encoded the 640x360 test
 * pattern (frames 0 and 1, 500 kbit/s): frame tag, start code 9d 01 2a, width 0x0280, height 0x0168.
 */
#define LIBVPX_KEY   0x10, 0x3f, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01
#define LIBVPX_DELTA 0x71, 0x34, 0x00, 0xe4

struct vector {
    const char *what;
    uint8_t bytes[24];
    size_t len;
    size_t min_len; /* every shorter prefix must fail; this one and longer ones parse alike */
    ovl_vp8_info_t want;
};

static const struct vector vectors[] = {
    {"§4.2 mandatory octet only, S=1 PID=0, libvpx delta frame",
     {0x10, LIBVPX_DELTA},
     5,
     4,
     {.desc = {.start = true, .len = 1}, .frame_start = true, .show_frame = true, .first_part_size = 0x003471 >> 5}},
    {"§4.2 Figure 2 left: X, I with 7-bit PictureID, continuation packet",
     {0x80, 0x80, 0x2a, 0xaa},
     4,
     4,
     {.desc = {.has_picture_id = true, .picture_id = 42, .picture_id_off = 2, .len = 3}}},
    {"§4.2 Figure 2 right: N, S, I (15-bit), L, T, K; libvpx key frame 640x360",
     {0xb0, 0xf0, 0x92, 0x34, 0x56, 0xb1, LIBVPX_KEY, 0xee},
     17,
     16,
     {.desc = {.non_reference = true,
               .start = true,
               .has_picture_id = true,
               .picture_id_15bit = true,
               .picture_id = 0x1234,
               .has_tl0picidx = true,
               .tl0picidx = 0x56,
               .has_tid = true,
               .tid = 2,
               .layer_sync = true,
               .has_keyidx = true,
               .keyidx = 17,
               .picture_id_off = 2,
               .tl0picidx_off = 4,
               .len = 6},
      .frame_start = true,
      .keyframe = true,
      .show_frame = true,
      .first_part_size = 0x003f10 >> 5,
      .width = 640,
      .height = 360}},
    {"§4.2 R and RSV bits set are ignored",
     {0xc8 | 0x10 | 0x80, 0x80 | 0x0f, 0x05, LIBVPX_DELTA},
     7,
     6,
     {.desc = {.start = true, .has_picture_id = true, .picture_id = 5, .picture_id_off = 2, .len = 3},
      .frame_start = true,
      .show_frame = true,
      .first_part_size = 0x003471 >> 5}},
    {"§4.2 S=1 with PID=3 starts a later partition: no payload header",
     {0x13, 0x10, 0x3f, 0x00},
     4,
     2,
     {.desc = {.start = true, .pid = 3, .len = 1}}},
    {"§4.2 K without T: the octet is present, TID ignored",
     {0x80, 0x10, 0xff, 0x01},
     4,
     4,
     {.desc = {.has_keyidx = true, .keyidx = 31, .len = 3}}},
    {"§4.2 T without K: KEYIDX ignored",
     {0x80, 0x20, 0xe5, 0x01},
     4,
     4,
     {.desc = {.has_tid = true, .tid = 3, .layer_sync = true, .len = 3}}},
    {"§4.2 L without T is accepted from a lax sender",
     {0x80, 0x40, 0x07, 0x01},
     4,
     4,
     {.desc = {.has_tl0picidx = true, .tl0picidx = 7, .tl0picidx_off = 2, .len = 3}}},
    {"§4.3 key frame with scaling bits: 0x4280 is width 640, hscale 1",
     {0x10, 0x10, 0x3f, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0x68, 0xc1},
     11,
     11,
     {.desc = {.start = true, .len = 1},
      .frame_start = true,
      .keyframe = true,
      .show_frame = true,
      .first_part_size = 0x003f10 >> 5,
      .width = 640,
      .height = 360,
      .hscale = 1,
      .vscale = 3}},
};

static void assert_info_equal(const char *what, const ovl_vp8_info_t *got, const ovl_vp8_info_t *want)
{
    if (memcmp(got, want, sizeof(*got)) != 0)
        fail_msg("%s: fields differ (pid %u/%u len %zu/%zu key %d/%d %ux%u/%ux%u picture_id %u/%u)", what,
                 got->desc.pid, want->desc.pid, got->desc.len, want->desc.len, got->keyframe, want->keyframe,
                 got->width, got->height, want->width, want->height, got->desc.picture_id, want->desc.picture_id);
}

static void test_vp8_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < OVL_ARRAY_LEN(vectors); i++) {
        ovl_vp8_info_t got;
        const struct vector *v = &vectors[i];
        assert_int_equal(ovl_vp8_parse(v->bytes, v->len, &got), 0);
        assert_info_equal(v->what, &got, &v->want);
    }
}

/* Every prefix shorter than the vector's minimum fails with everything cleared; longer ones parse. */
static void test_vp8_truncation(void **state)
{
    (void)state;
    static const ovl_vp8_info_t zero;
    for (size_t i = 0; i < OVL_ARRAY_LEN(vectors); i++) {
        const struct vector *v = &vectors[i];
        for (size_t len = 0; len <= v->len; len++) {
            ovl_vp8_info_t got;
            memset(&got, 0xa5, sizeof(got));
            int ret = ovl_vp8_parse(v->bytes, len, &got);
            if (len < v->min_len) {
                if (ret != OVL_ERR_PARSE || memcmp(&got, &zero, sizeof(got)) != 0)
                    fail_msg("%s: prefix of %zu octets: ret %d, want parse error and a cleared result", v->what, len,
                             ret);
            } else {
                if (ret != 0)
                    fail_msg("%s: prefix of %zu octets: ret %d", v->what, len, ret);
                assert_info_equal(v->what, &got, &v->want);
            }
        }
    }
}

static void test_vp8_malformed(void **state)
{
    (void)state;
    ovl_vp8_info_t info;
    ovl_vp8_desc_t desc;
    /* RFC 6386 §9.1: a key frame must carry the start code 9d 01 2a. */
    const uint8_t bad_start[] = {0x10, 0x10, 0x3f, 0x00, 0x9d, 0x01, 0x2b, 0x80, 0x02, 0x68, 0x01};
    /* A zero width cannot be decoded. */
    const uint8_t zero_width[] = {0x10, 0x10, 0x3f, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0xc0, 0x68, 0x01};
    /* Descriptor with nothing after it. */
    const uint8_t no_payload[] = {0x90, 0x80, 0x81, 0x02};

    assert_int_equal(ovl_vp8_parse(bad_start, sizeof(bad_start), &info), OVL_ERR_PARSE);
    assert_int_equal(ovl_vp8_parse(zero_width, sizeof(zero_width), &info), OVL_ERR_PARSE);
    assert_int_equal(ovl_vp8_parse(no_payload, sizeof(no_payload), &info), OVL_ERR_PARSE);
    assert_int_equal(ovl_vp8_parse_desc(no_payload, sizeof(no_payload), &desc), OVL_ERR_PARSE);
    assert_int_equal(ovl_vp8_parse(NULL, 0, &info), OVL_ERR_PARSE);
    /* The bad start code only matters for key frames: as a continuation packet it is plain data. */
    uint8_t cont[sizeof(bad_start)];
    memcpy(cont, bad_start, sizeof(cont));
    cont[0] = 0x00;
    assert_int_equal(ovl_vp8_parse(cont, sizeof(cont), &info), 0);
    assert_false(info.frame_start);
    assert_false(info.keyframe);
}

/* The descriptor-only parser agrees with the full one and needs no payload header. */
static void test_vp8_desc_only(void **state)
{
    (void)state;
    const uint8_t first_octet_of_keyframe[] = {0x90, 0xe0, 0x80, 0x01, 0x02, 0x40, 0x10};
    ovl_vp8_desc_t d;
    ovl_vp8_info_t info;
    assert_int_equal(ovl_vp8_parse_desc(first_octet_of_keyframe, sizeof(first_octet_of_keyframe), &d), 0);
    assert_int_equal(d.len, 6);
    assert_int_equal(d.picture_id, 1);
    assert_int_equal(d.tl0picidx, 2);
    assert_int_equal(d.tid, 1);
    /* ovl_vp8_parse wants the 3-octet payload header of a frame start. */
    assert_int_equal(ovl_vp8_parse(first_octet_of_keyframe, sizeof(first_octet_of_keyframe), &info), OVL_ERR_PARSE);
}

static void test_vp8_rewrite(void **state)
{
    (void)state;
    uint8_t pkt[24];
    ovl_vp8_info_t info;
    const struct vector *full = &vectors[2], *seven = &vectors[1], *plain = &vectors[0];

    /* 15-bit PictureID and TL0PICIDX; the M bit stays, nothing else moves. */
    memcpy(pkt, full->bytes, full->len);
    ovl_vp8_rewrite_t rw = {.set_picture_id = true, .picture_id = 0x7ffe, .set_tl0picidx = true, .tl0picidx = 0x99};
    assert_int_equal(ovl_vp8_rewrite(pkt, full->len, &rw), 0);
    const uint8_t want[] = {0xb0, 0xf0, 0xff, 0xfe, 0x99, 0xb1, LIBVPX_KEY, 0xee};
    assert_memory_equal(pkt, want, sizeof(want));
    assert_int_equal(ovl_vp8_parse(pkt, full->len, &info), 0);
    assert_int_equal(info.desc.picture_id, 0x7ffe);
    assert_int_equal(info.desc.tl0picidx, 0x99);

    /* A value past 15 bits wraps. */
    rw = (ovl_vp8_rewrite_t){.set_picture_id = true, .picture_id = 0x8001};
    assert_int_equal(ovl_vp8_rewrite(pkt, full->len, &rw), 0);
    assert_int_equal(pkt[2], 0x80);
    assert_int_equal(pkt[3], 0x01);

    /* A 7-bit field keeps its width: the value is taken modulo 128, M stays 0. */
    memcpy(pkt, seven->bytes, seven->len);
    rw = (ovl_vp8_rewrite_t){.set_picture_id = true, .picture_id = 0x1234};
    assert_int_equal(ovl_vp8_rewrite(pkt, seven->len, &rw), 0);
    assert_int_equal(pkt[2], 0x34);
    assert_int_equal(ovl_vp8_parse(pkt, seven->len, &info), 0);
    assert_false(info.desc.picture_id_15bit);
    assert_int_equal(info.desc.picture_id, 0x34);

    /* Asking for an absent field writes nothing at all. */
    memcpy(pkt, seven->bytes, seven->len);
    rw = (ovl_vp8_rewrite_t){.set_picture_id = true, .picture_id = 9, .set_tl0picidx = true, .tl0picidx = 1};
    assert_int_equal(ovl_vp8_rewrite(pkt, seven->len, &rw), OVL_ERR_NOTFOUND);
    assert_memory_equal(pkt, seven->bytes, seven->len);
    memcpy(pkt, plain->bytes, plain->len);
    rw = (ovl_vp8_rewrite_t){.set_picture_id = true};
    assert_int_equal(ovl_vp8_rewrite(pkt, plain->len, &rw), OVL_ERR_NOTFOUND);
    assert_memory_equal(pkt, plain->bytes, plain->len);

    /* Nothing to set is fine; a malformed descriptor is refused. */
    rw = (ovl_vp8_rewrite_t){0};
    assert_int_equal(ovl_vp8_rewrite(pkt, plain->len, &rw), 0);
    assert_int_equal(ovl_vp8_rewrite(pkt, 1, &rw), OVL_ERR_PARSE);
    uint8_t truncated[] = {0x90, 0x80, 0x81};
    rw = (ovl_vp8_rewrite_t){.set_picture_id = true};
    assert_int_equal(ovl_vp8_rewrite(truncated, sizeof(truncated), &rw), OVL_ERR_PARSE);
}

/*
 * Real libvpx output, packetized: the parser's key frame flag matches libvpx's VPX_FRAME_IS_KEY on
 * every frame, and its frame size matches libvpx's own vpx_codec_peek_stream_info.
 */
static void check_libvpx_size(unsigned width, unsigned height)
{
    ovl_video_enc_cfg_t cfg = {
        .width = width, .height = height, .fps = 30, .bitrate_kbps = 300, .error_resilient = true};
    ovl_video_enc_t *enc;
    ovl_video_image_t img;
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t pcfg = {.max_payload = 600, .first_picture_id = 100, .tl0picidx = true};

    assert_int_equal(ovl_video_enc_new(&cfg, &enc), 0);
    assert_int_equal(ovl_video_image_init(&img, width, height), 0);
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &pcfg), 0);
    for (uint32_t n = 0; n < 8; n++) {
        ovl_video_encoded_t frame;
        ovl_video_pattern_draw(&img, n);
        assert_int_equal(ovl_video_enc_encode(enc, &img, n == 5, &frame), 0);
        assert_true(frame.len > 0);
        assert_int_equal(frame.keyframe, n == 0 || n == 5);

        /* libvpx's peek succeeds on key frames only (VPX_CODEC_UNSUP_BITSTREAM otherwise). */
        vpx_codec_stream_info_t si = {.sz = sizeof(si)};
        vpx_codec_err_t peek = vpx_codec_peek_stream_info(vpx_codec_vp8_dx(), frame.data, (unsigned)frame.len, &si);
        assert_int_equal(peek == VPX_CODEC_OK, frame.keyframe);
        assert_int_equal(si.is_kf != 0, frame.keyframe);

        uint8_t pkt[600];
        size_t len;
        bool marker;
        unsigned packets, i = 0;
        assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame.data, frame.len, false, &packets), 0);
        while (ovl_vp8_packetizer_next(&pk, pkt, sizeof(pkt), &len, &marker) == 0) {
            ovl_vp8_info_t info;
            assert_int_equal(ovl_vp8_parse(pkt, len, &info), 0);
            assert_int_equal(info.frame_start, i == 0);
            assert_int_equal(info.keyframe, i == 0 && frame.keyframe);
            assert_int_equal(info.desc.picture_id, 100 + n);
            assert_int_equal(info.desc.tl0picidx, n);
            if (info.keyframe) {
                assert_int_equal(info.width, si.w);
                assert_int_equal(info.height, si.h);
                assert_int_equal(info.width, width);
                assert_int_equal(info.height, height);
            }
            if (i == 0) /* the payload header's partition size fits the frame */
                assert_true(info.first_part_size > 0 && info.first_part_size < frame.len);
            i++;
        }
        assert_int_equal(i, packets);
    }
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
}

static void test_vp8_libvpx_frames(void **state)
{
    (void)state;
    check_libvpx_size(640, 360);
    check_libvpx_size(320, 180);
    check_libvpx_size(1280, 720);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vp8_vectors),   cmocka_unit_test(test_vp8_truncation),
        cmocka_unit_test(test_vp8_malformed), cmocka_unit_test(test_vp8_desc_only),
        cmocka_unit_test(test_vp8_rewrite),   cmocka_unit_test(test_vp8_libvpx_frames),
    };
    return cmocka_run_group_tests_name("vp8 (RFC 7741)", tests, NULL, NULL);
}
