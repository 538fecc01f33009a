/* libvpx VP8 encoder/decoder wrapper, test pattern, and the whole path through RTP payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codecs/video.h"
#include "codecs/vp8.h"
#include "codecs/vp8_packetizer.h"

static void test_pattern_roundtrip(void **state)
{
    (void)state;
    static const unsigned sizes[][2] = {{640, 360}, {320, 180}, {176, 144}, {1280, 720}, {641, 361}};
    static const uint32_t values[] = {0, 1, 0xabcd, 0x5555, 65535, 65536 + 5};
    for (size_t s = 0; s < OVL_ARRAY_LEN(sizes); s++) {
        ovl_video_image_t img;
        assert_int_equal(ovl_video_image_init(&img, sizes[s][0], sizes[s][1]), 0);
        for (size_t v = 0; v < OVL_ARRAY_LEN(values); v++) {
            uint32_t n;
            ovl_video_pattern_draw(&img, values[v]);
            assert_int_equal(ovl_video_pattern_read(&img, &n), 0);
            assert_int_equal(n, values[v] & 0xffff);
        }
        ovl_video_image_dispose(&img);
    }
    /* Too small for the counter: drawn without it, and reading fails. */
    ovl_video_image_t img;
    uint32_t n = 7;
    assert_int_equal(ovl_video_image_init(&img, 160, 120), 0);
    ovl_video_pattern_draw(&img, 3);
    assert_int_equal(ovl_video_pattern_read(&img, &n), OVL_ERR_PARSE);
    assert_int_equal(n, 0);
    ovl_video_image_dispose(&img);
    /* A picture that is not the pattern (flat grey) has no guard blocks. */
    assert_int_equal(ovl_video_image_init(&img, 640, 360), 0);
    memset(img.buf, 128, 640 * 360 * 3 / 2);
    assert_int_equal(ovl_video_pattern_read(&img, &n), OVL_ERR_PARSE);
    ovl_video_image_dispose(&img);
}

/* Something moves: consecutive frames differ outside the counter, and the pattern repeats exactly. */
static void test_pattern_moves(void **state)
{
    (void)state;
    ovl_video_image_t a, b;
    assert_int_equal(ovl_video_image_init(&a, 640, 360), 0);
    assert_int_equal(ovl_video_image_init(&b, 640, 360), 0);
    ovl_video_pattern_draw(&a, 10);
    ovl_video_pattern_draw(&b, 11);
    size_t below = 48 * 640; /* luma below the counter rows */
    assert_memory_not_equal(a.planes[0] + below, b.planes[0] + below, 640 * 360 - below);
    ovl_video_pattern_draw(&b, 10);
    assert_memory_equal(a.buf, b.buf, 640 * 360 * 3 / 2);
    ovl_video_image_dispose(&a);
    ovl_video_image_dispose(&b);

    ovl_video_image_t z;
    memset(&z, 0, sizeof(z));
    ovl_video_image_dispose(&z);
    assert_int_equal(ovl_video_image_init(&z, 0, 10), OVL_ERR_ARG);
    assert_int_equal(ovl_video_image_init(&z, 10, 16384), OVL_ERR_ARG);
}

static void test_encoder_config(void **state)
{
    (void)state;
    ovl_video_enc_t *e = (void *)1;
    const ovl_video_enc_cfg_t ok = {.width = 320, .height = 180, .fps = 30, .bitrate_kbps = 200};
    ovl_video_enc_cfg_t bad[6];
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad); i++)
        bad[i] = ok;
    bad[0].width = 321;
    bad[1].height = 0;
    bad[2].fps = 0;
    bad[3].bitrate_kbps = 0;
    bad[4].cpu_used = 17;
    bad[5].threads = 2;
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad); i++) {
        assert_int_equal(ovl_video_enc_new(&bad[i], &e), OVL_ERR_ARG);
        assert_null(e);
    }
    assert_int_equal(ovl_video_enc_new(&ok, &e), 0);
    ovl_video_image_t img;
    ovl_video_encoded_t out;
    assert_int_equal(ovl_video_image_init(&img, 640, 360), 0);
    assert_int_equal(ovl_video_enc_encode(e, &img, false, &out), OVL_ERR_ARG); /* wrong size */
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(e);
    ovl_video_enc_free(NULL);
}

/* keyframe_interval: automatic key frames no further apart than asked; 0 means only when forced. */
static void test_encoder_keyframes(void **state)
{
    (void)state;
    ovl_video_enc_cfg_t cfg = {.width = 320, .height = 180, .fps = 30, .bitrate_kbps = 200, .keyframe_interval = 10};
    ovl_video_image_t img;
    assert_int_equal(ovl_video_image_init(&img, 320, 180), 0);
    for (int pass = 0; pass < 2; pass++) {
        ovl_video_enc_t *e;
        unsigned keys = 0, last = 0;
        cfg.keyframe_interval = pass ? 0 : 10;
        assert_int_equal(ovl_video_enc_new(&cfg, &e), 0);
        for (uint32_t n = 0; n < 40; n++) {
            ovl_video_encoded_t out;
            ovl_video_pattern_draw(&img, n);
            assert_int_equal(ovl_video_enc_encode(e, &img, n == 25, &out), 0);
            assert_true(out.len > 0); /* frame dropping is off */
            if (out.keyframe) {
                assert_true(n - last <= 10 || n == 0 || pass == 1);
                keys++;
                last = n;
            }
            if (n == 0 || n == 25)
                assert_true(out.keyframe);
        }
        if (pass == 0)
            assert_true(keys >= 4);
        else
            assert_int_equal(keys, 2);
        ovl_video_enc_free(e);
    }
    ovl_video_image_dispose(&img);
}

/* The decoder refuses what it cannot decode: junk, a delta frame first, a truncated frame. */
static void test_decoder_undecodable(void **state)
{
    (void)state;
    ovl_video_enc_cfg_t cfg = {.width = 320, .height = 180, .fps = 30, .bitrate_kbps = 300};
    ovl_video_enc_t *e;
    ovl_video_dec_t *d;
    ovl_video_image_t img, out;
    ovl_video_encoded_t enc;
    static uint8_t key[64 * 1024], delta[64 * 1024];
    size_t key_len, delta_len;

    assert_int_equal(ovl_video_enc_new(&cfg, &e), 0);
    assert_int_equal(ovl_video_image_init(&img, 320, 180), 0);
    ovl_video_pattern_draw(&img, 0);
    assert_int_equal(ovl_video_enc_encode(e, &img, false, &enc), 0);
    memcpy(key, enc.data, key_len = enc.len);
    ovl_video_pattern_draw(&img, 1);
    assert_int_equal(ovl_video_enc_encode(e, &img, false, &enc), 0);
    memcpy(delta, enc.data, delta_len = enc.len);

    uint8_t junk[200];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 5);
    assert_int_equal(ovl_video_dec_new(&d), 0);
    assert_int_equal(ovl_video_dec_decode(d, junk, sizeof(junk), &out), OVL_ERR_PARSE);
    assert_int_equal(ovl_video_dec_decode(d, delta, delta_len, &out), OVL_ERR_PARSE);
    assert_int_equal(ovl_video_dec_decode(d, key, key_len / 2, &out), OVL_ERR_PARSE);
    assert_int_equal(ovl_video_dec_decode(d, key, 0, &out), OVL_ERR_ARG);
    assert_null(out.planes[0]);
    /* The whole key frame, then the delta frame, decode; the counter reads back. */
    uint32_t n;
    assert_int_equal(ovl_video_dec_decode(d, key, key_len, &out), 0);
    assert_int_equal(out.width, 320);
    assert_int_equal(out.height, 180);
    assert_int_equal(ovl_video_pattern_read(&out, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ovl_video_dec_decode(d, delta, delta_len, &out), 0);
    assert_int_equal(ovl_video_pattern_read(&out, &n), 0);
    assert_int_equal(n, 1);
    /* The same delta frame cut short, on a decoder that has its reference. */
    ovl_video_dec_free(d);
    assert_int_equal(ovl_video_dec_new(&d), 0);
    assert_int_equal(ovl_video_dec_decode(d, key, key_len, &out), 0);
    assert_int_equal(ovl_video_dec_decode(d, delta, delta_len - 1, &out), OVL_ERR_PARSE);
    ovl_video_dec_free(d);
    ovl_video_dec_free(NULL);
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(e);
}

/*
 * The synthetic peer's video path: 640x360 pattern at 30 fps, libvpx, RTP payloads of at most
 * 1200 octets (RFC 7741), a network that swaps neighbouring packets and loses the second packet of
 * the first frame from frame 10 on that has two (frames grow as the rate control ramps up), the
 * frame assembler, libvpx again. The receiver asks for a key frame (PLI) when the
 * assembler says so, and the sender forces one on the next frame.
 */
#define FRAMES 30

typedef struct {
    uint16_t seq;
    bool marker;
    uint32_t ts;
    size_t len;
    uint8_t data[1200];
} wire_t;

typedef struct {
    ovl_vp8_depacketizer_t *depack;
    ovl_video_dec_t *dec;
    uint8_t *sent[FRAMES + 8]; /* each encoded frame, to compare with what comes out */
    size_t sent_len[FRAMES + 8];
    bool decoded[FRAMES + 8], popped[FRAMES + 8];
    unsigned decoded_count, undecodable_popped;
    bool pli, was_needed;
} receiver_t;

static void receive(receiver_t *rx, const wire_t *w)
{
    ovl_vp8_frame_t fr;
    assert_int_equal(ovl_vp8_depacketizer_push(rx->depack, w->seq, w->marker, w->ts, w->data, w->len), 0);
    while (ovl_vp8_depacketizer_pop(rx->depack, &fr) == 0) {
        unsigned n = fr.timestamp / 3000;
        assert_true(n < FRAMES + 8);
        rx->popped[n] = true;
        assert_int_equal(fr.len, rx->sent_len[n]);
        assert_memory_equal(fr.data, rx->sent[n], fr.len);
        if (!fr.decodable) {
            rx->undecodable_popped++;
            continue;
        }
        ovl_video_image_t pic;
        uint32_t counter;
        assert_int_equal(ovl_video_dec_decode(rx->dec, fr.data, fr.len, &pic), 0);
        assert_int_equal(pic.width, 640);
        assert_int_equal(pic.height, 360);
        assert_int_equal(ovl_video_pattern_read(&pic, &counter), 0);
        assert_int_equal(counter, n); /* the picture shown is the frame sent */
        rx->decoded[n] = true;
        rx->decoded_count++;
    }
    /* One PLI per loss: when the assembler starts asking for a key frame (it asks from the start
     * too, but the first frame is a key frame anyway). */
    bool needed = ovl_vp8_depacketizer_keyframe_needed(rx->depack);
    if (needed && !rx->was_needed)
        rx->pli = true;
    rx->was_needed = needed;
}

/* The network: loses the second packet of one frame, and swaps every two neighbouring packets. */
typedef struct {
    ovl_vp8_packetizer_t pk;
    uint16_t seq;
    unsigned lost_frame; /* 0 until chosen */
    bool dropped, holding;
    wire_t held, w;
} net_t;

static void send_frame(net_t *net, receiver_t *rx, const ovl_video_encoded_t *frame, uint32_t n)
{
    unsigned packets, i = 0;
    wire_t *w = &net->w;

    assert_int_equal(ovl_vp8_packetizer_frame(&net->pk, frame->data, frame->len, false, &packets), 0);
    if (net->lost_frame == 0 && n >= 10 && packets >= 2)
        net->lost_frame = n;
    while (ovl_vp8_packetizer_next(&net->pk, w->data, sizeof(w->data), &w->len, &w->marker) == 0) {
        w->seq = net->seq++;
        w->ts = n * 3000;
        assert_true(w->len <= 1200);
        if (n == net->lost_frame && i++ == 1) {
            net->dropped = true;
            continue;
        }
        if (!net->holding) {
            net->held = *w;
            net->holding = true;
        } else {
            receive(rx, w);
            receive(rx, &net->held);
            net->holding = false;
        }
    }
}

static void test_video_pipeline(void **state)
{
    (void)state;
    ovl_video_enc_cfg_t ecfg = {.width = 640, .height = 360, .fps = 30, .bitrate_kbps = 500, .error_resilient = true};
    ovl_vp8_packetizer_cfg_t pcfg = {.max_payload = 1200, .first_picture_id = 12345};
    ovl_vp8_depacketizer_cfg_t dcfg = {.reorder = 4};
    ovl_video_enc_t *enc;
    ovl_video_image_t img;
    static receiver_t rx;
    static net_t net;
    unsigned forced = 0, key_after_loss = 0;

    memset(&rx, 0, sizeof(rx));
    memset(&net, 0, sizeof(net));
    rx.was_needed = true;
    net.seq = 65000;
    assert_int_equal(ovl_video_enc_new(&ecfg, &enc), 0);
    assert_int_equal(ovl_video_image_init(&img, 640, 360), 0);
    assert_int_equal(ovl_vp8_packetizer_init(&net.pk, &pcfg), 0);
    assert_int_equal(ovl_vp8_depacketizer_new(&dcfg, &rx.depack), 0);
    assert_int_equal(ovl_video_dec_new(&rx.dec), 0);

    /* A few frames past FRAMES push the last holes out of the reorder window. */
    for (uint32_t n = 0; n < FRAMES + 4; n++) {
        ovl_video_encoded_t frame;
        bool force = rx.pli; /* the PLI reaches the sender before its next frame */
        ovl_video_pattern_draw(&img, n);
        assert_int_equal(ovl_video_enc_encode(enc, &img, force, &frame), 0);
        assert_true(frame.len > 0);
        assert_int_equal(frame.keyframe, n == 0 || force);
        if (force) {
            assert_true(net.dropped); /* no PLI without a loss */
            forced++;
            rx.pli = false;
            if (key_after_loss == 0)
                key_after_loss = n;
        }
        rx.sent[n] = malloc(frame.len);
        memcpy(rx.sent[n], frame.data, frame.len);
        rx.sent_len[n] = frame.len;
        send_frame(&net, &rx, &frame, n);
    }
    if (net.holding)
        receive(&rx, &net.held);

    ovl_vp8_depacketizer_stats_t s;
    ovl_vp8_depacketizer_get_stats(rx.depack, &s);
    print_message("lost a packet of frame %u; key frame %u after the PLI; %u frames decoded, %u held back\n",
                  net.lost_frame, key_after_loss, rx.decoded_count, rx.undecodable_popped);
    assert_true(net.dropped);
    assert_true(net.lost_frame >= 10 && net.lost_frame + 6 < FRAMES);
    assert_int_equal(s.frames_incomplete, 1); /* the frame with the loss */
    assert_int_equal(s.lost, 1);
    assert_false(rx.popped[net.lost_frame]);
    assert_int_equal(forced, 1); /* keyframe_needed was set, once */
    assert_true(key_after_loss > net.lost_frame && key_after_loss <= net.lost_frame + 6);
    assert_false(ovl_vp8_depacketizer_keyframe_needed(rx.depack));
    /* Every frame before the loss and from the recovery key frame on was decoded and showed the
     * right counter; the ones in between arrived whole but were held back as undecodable. */
    for (unsigned n = 0; n < FRAMES; n++) {
        bool want = n < net.lost_frame || n >= key_after_loss;
        if (rx.decoded[n] != want)
            fail_msg("frame %u: decoded %d, want %d (key frame after loss at %u)", n, rx.decoded[n], want,
                     key_after_loss);
    }
    assert_int_equal(rx.undecodable_popped, key_after_loss - net.lost_frame - 1);

    for (unsigned n = 0; n < FRAMES + 8; n++)
        free(rx.sent[n]);
    ovl_video_dec_free(rx.dec);
    ovl_vp8_depacketizer_free(rx.depack);
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_roundtrip),   cmocka_unit_test(test_pattern_moves),
        cmocka_unit_test(test_encoder_config),      cmocka_unit_test(test_encoder_keyframes),
        cmocka_unit_test(test_decoder_undecodable), cmocka_unit_test(test_video_pipeline),
    };
    return cmocka_run_group_tests_name("video (libvpx VP8)", tests, NULL, NULL);
}
