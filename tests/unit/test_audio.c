/* libopus encoder/decoder wrapper, tone generator, RMS and RFC 6464 level. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codecs/audio.h"
#include "codecs/opus.h"

static double db(double ratio)
{
    return 20.0 * log10(ratio);
}

static void test_tone_and_rms(void **state)
{
    (void)state;
    ovl_audio_tone_t t;
    int16_t pcm[2 * 4800];

    /* 4800 samples of 440 Hz are exactly 44 periods: RMS = amplitude / sqrt(2). */
    ovl_audio_tone_init(&t, 440, 0.5);
    ovl_audio_tone_fill(&t, pcm, 4800, 1);
    assert_true(fabs(ovl_audio_rms(pcm, 4800) - 0.5 / sqrt(2)) < 1e-3);
    /* The phase carries over between calls: two halves equal one whole. */
    int16_t whole[960], half[960];
    ovl_audio_tone_init(&t, 1000, 0.3);
    ovl_audio_tone_fill(&t, whole, 960, 1);
    ovl_audio_tone_init(&t, 1000, 0.3);
    ovl_audio_tone_fill(&t, half, 480, 1);
    ovl_audio_tone_fill(&t, half + 480, 480, 1);
    assert_memory_equal(whole, half, sizeof(whole));
    /* Stereo: the same sample on both channels. */
    ovl_audio_tone_init(&t, 440, 1.0);
    ovl_audio_tone_fill(&t, pcm, 4800, 2);
    for (int i = 0; i < 4800; i++)
        assert_int_equal(pcm[2 * i], pcm[2 * i + 1]);
    assert_int_equal(ovl_audio_rms(pcm, 0), 0);
}

/* RFC 6464 §3: level in -dBov, 0 dBov being a full-scale square wave; 127 for silence. */
static void test_level(void **state)
{
    (void)state;
    ovl_audio_tone_t t;
    int16_t pcm[4800];

    ovl_audio_tone_init(&t, 440, 1.0); /* full-scale sine: -3.01 dBov */
    ovl_audio_tone_fill(&t, pcm, 4800, 1);
    assert_int_equal(ovl_audio_level(pcm, 4800), 3);
    ovl_audio_tone_init(&t, 440, 0.1); /* -20 dBFS sine: -23 dBov */
    ovl_audio_tone_fill(&t, pcm, 4800, 1);
    assert_int_equal(ovl_audio_level(pcm, 4800), 23);
    ovl_audio_tone_init(&t, 440, 0.01); /* -40 dBFS sine: -43 dBov */
    ovl_audio_tone_fill(&t, pcm, 4800, 1);
    assert_int_equal(ovl_audio_level(pcm, 4800), 43);

    for (int i = 0; i < 4800; i++) /* full-scale square wave: 0 dBov */
        pcm[i] = i % 2 ? 32767 : -32768;
    assert_int_equal(ovl_audio_level(pcm, 4800), 0);
    for (int i = 0; i < 4800; i++) /* one-LSB square wave: -90.3 dBov */
        pcm[i] = i % 2 ? 1 : -1;
    assert_int_equal(ovl_audio_level(pcm, 4800), 90);
    memset(pcm, 0, sizeof(pcm)); /* digital silence */
    assert_int_equal(ovl_audio_level(pcm, 4800), OVL_OPUS_LEVEL_SILENCE);
    pcm[0] = 1; /* quieter than -127 dBov still reads 127 */
    assert_int_equal(ovl_audio_level(pcm, 4800), 127);
    assert_int_equal(ovl_audio_level(pcm, 0), 127);
}

/* Encode a tone, decode it: after the codec settles, the level matches and the RMS is within 1 dB. */
static void check_roundtrip(unsigned channels, unsigned bitrate, bool fec)
{
    ovl_audio_enc_cfg_t cfg = {.channels = channels, .bitrate = bitrate, .fec = fec, .packet_loss_perc = 10};
    ovl_audio_enc_t *enc;
    ovl_audio_dec_t *dec;
    ovl_audio_tone_t t;
    int16_t in[2 * OVL_AUDIO_FRAME], out[2 * OVL_AUDIO_MAX_FRAME];
    uint8_t pkt[OVL_AUDIO_MAX_PACKET];
    size_t len, samples;

    assert_int_equal(ovl_audio_enc_new(&cfg, &enc), 0);
    assert_int_equal(ovl_audio_dec_new(channels, &dec), 0);
    ovl_audio_tone_init(&t, 440, 0.5);
    for (int i = 0; i < 50; i++) {
        ovl_audio_tone_fill(&t, in, OVL_AUDIO_FRAME, channels);
        assert_int_equal(ovl_audio_enc_encode(enc, in, pkt, sizeof(pkt), &len), 0);
        assert_true(len > 2 && len <= sizeof(pkt));
        ovl_opus_packet_t p;
        assert_int_equal(ovl_opus_parse(pkt, len, &p), 0);
        assert_int_equal(p.samples, OVL_AUDIO_FRAME);
        assert_int_equal(p.toc.stereo, channels == 2);
        assert_int_equal(ovl_audio_dec_decode(dec, pkt, len, out, OVL_AUDIO_MAX_FRAME, &samples), 0);
        assert_int_equal(samples, OVL_AUDIO_FRAME);
        if (i < 10)
            continue;
        double rin = ovl_audio_rms(in, OVL_AUDIO_FRAME * channels);
        double rout = ovl_audio_rms(out, OVL_AUDIO_FRAME * channels);
        if (fabs(db(rout / rin)) > 1.0)
            fail_msg("%u ch %u bit/s frame %d: decoded RMS %.4f, tone %.4f", channels, bitrate, i, rout, rin);
        int lin = ovl_audio_level(in, OVL_AUDIO_FRAME * channels);
        int lout = ovl_audio_level(out, OVL_AUDIO_FRAME * channels);
        assert_true(lout >= lin - 1 && lout <= lin + 1);
    }
    ovl_audio_dec_free(dec);
    ovl_audio_enc_free(enc);
}

static void test_roundtrip(void **state)
{
    (void)state;
    check_roundtrip(1, 32000, true);
    check_roundtrip(1, 24000, false);
    check_roundtrip(2, 48000, true);
    check_roundtrip(1, 0, false); /* libopus's own bitrate */
}

/* Squared error between two frames, relative to the reference's energy (in dB). */
static double error_db(const int16_t *ref, const int16_t *got, size_t n)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)ref[i] - got[i];
        e += d * d;
        r += (double)ref[i] * ref[i];
    }
    return 10.0 * log10((e + 1) / (r + 1));
}

/*
 * In-band FEC: with packet 30 lost, decoding packet 31's LBRR copy gives back a frame much closer
 * to what the whole stream decodes to than concealment (PLC) does. RFC 6716 §2.1.7.
 */
static void test_fec_recovers_a_lost_packet(void **state)
{
    (void)state;
    enum { N = 40, LOST = 30 };
    ovl_audio_enc_cfg_t cfg = {.channels = 1, .bitrate = 32000, .fec = true, .packet_loss_perc = 20};
    ovl_audio_enc_t *enc;
    ovl_audio_dec_t *ref, *fec, *plc;
    ovl_audio_tone_t t;
    static uint8_t pkt[N][OVL_AUDIO_MAX_PACKET];
    size_t len[N], ns;
    int16_t in[OVL_AUDIO_FRAME], a[OVL_AUDIO_MAX_FRAME], b[OVL_AUDIO_MAX_FRAME], c[OVL_AUDIO_MAX_FRAME];

    assert_int_equal(ovl_audio_enc_new(&cfg, &enc), 0);
    ovl_audio_tone_init(&t, 440, 0.5);
    for (int i = 0; i < N; i++) {
        ovl_audio_tone_fill(&t, in, OVL_AUDIO_FRAME, 1);
        assert_int_equal(ovl_audio_enc_encode(enc, in, pkt[i], sizeof(pkt[i]), &len[i]), 0);
    }
    ovl_opus_packet_t p;
    assert_int_equal(ovl_opus_parse(pkt[LOST + 1], len[LOST + 1], &p), 0);
    assert_true(p.lbrr);

    assert_int_equal(ovl_audio_dec_new(1, &ref), 0);
    assert_int_equal(ovl_audio_dec_new(1, &fec), 0);
    assert_int_equal(ovl_audio_dec_new(1, &plc), 0);
    for (int i = 0; i < LOST; i++) {
        assert_int_equal(ovl_audio_dec_decode(ref, pkt[i], len[i], a, OVL_AUDIO_MAX_FRAME, &ns), 0);
        assert_int_equal(ovl_audio_dec_decode(fec, pkt[i], len[i], b, OVL_AUDIO_MAX_FRAME, &ns), 0);
        assert_int_equal(ovl_audio_dec_decode(plc, pkt[i], len[i], c, OVL_AUDIO_MAX_FRAME, &ns), 0);
    }
    assert_int_equal(ovl_audio_dec_decode(ref, pkt[LOST], len[LOST], a, OVL_AUDIO_MAX_FRAME, &ns), 0);
    assert_int_equal(
        ovl_audio_dec_recover(fec, pkt[LOST + 1], len[LOST + 1], OVL_AUDIO_FRAME, b, OVL_AUDIO_MAX_FRAME, &ns), 0);
    assert_int_equal(ns, OVL_AUDIO_FRAME);
    assert_int_equal(ovl_audio_dec_recover(plc, NULL, 0, OVL_AUDIO_FRAME, c, OVL_AUDIO_MAX_FRAME, &ns), 0);
    assert_int_equal(ns, OVL_AUDIO_FRAME);
    double e_fec = error_db(a, b, OVL_AUDIO_FRAME), e_plc = error_db(a, c, OVL_AUDIO_FRAME);
    print_message("lost frame: FEC error %.1f dB, PLC error %.1f dB (relative to the frame's energy)\n", e_fec, e_plc);
    assert_true(e_fec < -10);
    assert_true(e_fec < e_plc - 6);
    assert_true(fabs(db(ovl_audio_rms(b, OVL_AUDIO_FRAME) / ovl_audio_rms(a, OVL_AUDIO_FRAME))) < 3);
    /* And the packet after the loss decodes normally after its FEC was used. */
    assert_int_equal(ovl_audio_dec_decode(fec, pkt[LOST + 1], len[LOST + 1], b, OVL_AUDIO_MAX_FRAME, &ns), 0);
    assert_int_equal(ns, OVL_AUDIO_FRAME);
    ovl_audio_dec_free(ref);
    ovl_audio_dec_free(fec);
    ovl_audio_dec_free(plc);
    ovl_audio_enc_free(enc);
}

/* DTX: in silence the encoder sends 1-2 octet packets (RFC 6716 §2.1.9); without it, never. */
static void test_dtx(void **state)
{
    (void)state;
    int16_t silence[OVL_AUDIO_FRAME] = {0};
    uint8_t pkt[OVL_AUDIO_MAX_PACKET];
    for (int dtx = 0; dtx < 2; dtx++) {
        ovl_audio_enc_cfg_t cfg = {.channels = 1, .bitrate = 32000, .fec = true, .packet_loss_perc = 10, .dtx = dtx};
        ovl_audio_enc_t *enc;
        ovl_audio_dec_t *dec;
        unsigned tiny = 0;
        assert_int_equal(ovl_audio_enc_new(&cfg, &enc), 0);
        assert_int_equal(ovl_audio_dec_new(1, &dec), 0);
        for (int i = 0; i < 50; i++) {
            size_t len, ns;
            int16_t out[OVL_AUDIO_MAX_FRAME];
            assert_int_equal(ovl_audio_enc_encode(enc, silence, pkt, sizeof(pkt), &len), 0);
            tiny += len <= 2;
            assert_int_equal(ovl_audio_dec_decode(dec, pkt, len, out, OVL_AUDIO_MAX_FRAME, &ns), 0);
            assert_int_equal(ns, OVL_AUDIO_FRAME);
            assert_true(ovl_audio_level(out, ns) >= 90); /* silence stays (near) silent */
        }
        if (dtx)
            assert_true(tiny >= 30);
        else
            assert_int_equal(tiny, 0);
        ovl_audio_dec_free(dec);
        ovl_audio_enc_free(enc);
    }
}

static void test_errors(void **state)
{
    (void)state;
    ovl_audio_enc_t *enc = (void *)1;
    ovl_audio_dec_t *dec = (void *)1;
    ovl_audio_enc_cfg_t bad[] = {
        {.channels = 0},
        {.channels = 3},
        {.channels = 1, .bitrate = 5000},
        {.channels = 1, .packet_loss_perc = 101},
        {.channels = 1, .complexity = 11},
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad); i++) {
        assert_int_equal(ovl_audio_enc_new(&bad[i], &enc), OVL_ERR_ARG);
        assert_null(enc);
    }
    assert_int_equal(ovl_audio_dec_new(3, &dec), OVL_ERR_ARG);
    assert_null(dec);

    ovl_audio_enc_cfg_t cfg = {.channels = 1, .complexity = 5};
    int16_t pcm[OVL_AUDIO_MAX_FRAME] = {0};
    uint8_t out[OVL_AUDIO_MAX_PACKET];
    size_t len, ns;
    assert_int_equal(ovl_audio_enc_new(&cfg, &enc), 0);
    assert_int_equal(ovl_audio_enc_encode(enc, pcm, out, 0, &len), OVL_ERR_ARG);
    assert_int_equal(ovl_audio_dec_new(1, &dec), 0);
    const uint8_t odd_code1[] = {0x79, 1, 2, 3}; /* RFC 6716 §3.4 R3 */
    assert_int_equal(ovl_audio_dec_decode(dec, odd_code1, sizeof(odd_code1), pcm, OVL_AUDIO_MAX_FRAME, &ns),
                     OVL_ERR_PARSE);
    assert_int_equal(ovl_audio_dec_decode(dec, odd_code1, 0, pcm, OVL_AUDIO_MAX_FRAME, &ns), OVL_ERR_ARG);
    const uint8_t sixty_ms[] = {0x18, 0x00}; /* SILK 60 ms does not fit in 960 samples */
    assert_int_equal(ovl_audio_dec_decode(dec, sixty_ms, sizeof(sixty_ms), pcm, OVL_AUDIO_FRAME, &ns), OVL_ERR_LIMIT);
    assert_int_equal(ovl_audio_dec_recover(dec, NULL, 0, 100, pcm, OVL_AUDIO_MAX_FRAME, &ns), OVL_ERR_ARG);
    assert_int_equal(ovl_audio_dec_recover(dec, NULL, 0, 960, pcm, 480, &ns), OVL_ERR_ARG);
    assert_int_equal(ovl_audio_dec_recover(dec, odd_code1, 0, 960, pcm, 960, &ns), OVL_ERR_ARG);
    ovl_audio_dec_free(dec);
    ovl_audio_enc_free(enc);
    ovl_audio_dec_free(NULL);
    ovl_audio_enc_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tone_and_rms), cmocka_unit_test(test_level),
        cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_fec_recovers_a_lost_packet),
        cmocka_unit_test(test_dtx),          cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("audio (libopus)", tests, NULL, NULL);
}
