/* Opus TOC and packet framing (RFC 6716 §3), LBRR flags (§4.2.3), audio level (RFC 6464). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <opus/opus.h>

#include "codecs/audio.h"
#include "codecs/opus.h"

/* RFC 6716 §3.1, Table 2, one row per configuration number. */
static void test_opus_toc_table(void **state)
{
    (void)state;
    static const struct {
        ovl_opus_mode_t mode;
        ovl_opus_bandwidth_t bw;
        uint16_t samples[4]; /* 10/20/40/60 ms for SILK, 10/20 for hybrid, 2.5/5/10/20 for CELT */
        unsigned first, count;
    } rows[] = {
        {OVL_OPUS_SILK, OVL_OPUS_NB, {480, 960, 1920, 2880}, 0, 4},
        {OVL_OPUS_SILK, OVL_OPUS_MB, {480, 960, 1920, 2880}, 4, 4},
        {OVL_OPUS_SILK, OVL_OPUS_WB, {480, 960, 1920, 2880}, 8, 4},
        {OVL_OPUS_HYBRID, OVL_OPUS_SWB, {480, 960}, 12, 2},
        {OVL_OPUS_HYBRID, OVL_OPUS_FB, {480, 960}, 14, 2},
        {OVL_OPUS_CELT, OVL_OPUS_NB, {120, 240, 480, 960}, 16, 4},
        {OVL_OPUS_CELT, OVL_OPUS_WB, {120, 240, 480, 960}, 20, 4},
        {OVL_OPUS_CELT, OVL_OPUS_SWB, {120, 240, 480, 960}, 24, 4},
        {OVL_OPUS_CELT, OVL_OPUS_FB, {120, 240, 480, 960}, 28, 4},
    };
    unsigned seen = 0;
    for (size_t r = 0; r < OVL_ARRAY_LEN(rows); r++) {
        for (unsigned i = 0; i < rows[r].count; i++) {
            unsigned config = rows[r].first + i;
            for (unsigned low = 0; low < 8; low++) { /* every s and c */
                ovl_opus_toc_t t;
                ovl_opus_parse_toc((uint8_t)(config << 3 | low), &t);
                assert_int_equal(t.config, config);
                assert_int_equal(t.mode, rows[r].mode);
                assert_int_equal(t.bandwidth, rows[r].bw);
                assert_int_equal(t.frame_samples, rows[r].samples[i]);
                assert_int_equal(t.stereo, (low & 4) != 0);
                assert_int_equal(t.code, low & 3);
            }
            seen++;
        }
    }
    assert_int_equal(seen, 32);
    assert_int_equal(ovl_opus_bandwidth_hz(OVL_OPUS_NB), 4000);
    assert_int_equal(ovl_opus_bandwidth_hz(OVL_OPUS_MB), 6000);
    assert_int_equal(ovl_opus_bandwidth_hz(OVL_OPUS_WB), 8000);
    assert_int_equal(ovl_opus_bandwidth_hz(OVL_OPUS_SWB), 12000);
    assert_int_equal(ovl_opus_bandwidth_hz(OVL_OPUS_FB), 20000);
}

/* TOC bytes used below: config 15 (hybrid FB 20 ms) mono with each code, and config 3 (SILK 60 ms). */
#define TOC_C0 0x78
#define TOC_C1 0x79
#define TOC_C2 0x7a
#define TOC_C3 0x7b

struct pkt_case {
    const char *what;
    uint8_t bytes[40];
    size_t len;
    int ret;
    unsigned frames;
    uint16_t lens[4];
    size_t frame_off, padding;
    uint32_t samples;
};

static const struct pkt_case cases[] = {
    {"§3.2.2 code 0, one frame of N-1", {TOC_C0, 0xaa, 0xbb}, 3, 0, 1, {2}, 1, 0, 960},
    {"§3.2.1 code 0 with an empty frame (DTX)", {TOC_C0}, 1, 0, 1, {0}, 1, 0, 960},
    {"§3.4 R1 an empty packet", {0}, 0, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.2.3 code 1, two frames of (N-1)/2", {TOC_C1, 1, 2, 3, 4}, 5, 0, 2, {2, 2}, 1, 0, 1920},
    {"§3.2.3 code 1 with no data: two empty frames", {TOC_C1}, 1, 0, 2, {0, 0}, 1, 0, 1920},
    {"§3.4 R3 code 1 with odd N-1", {TOC_C1, 1, 2, 3}, 4, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.2.4 code 2, N1=1 then the rest", {TOC_C2, 0x01, 0xaa, 0xbb, 0xcc}, 5, 0, 2, {1, 2}, 2, 0, 1920},
    {"§3.2.4 code 2, N1=0", {TOC_C2, 0x00, 0xbb}, 3, 0, 2, {0, 1}, 2, 0, 1920},
    {"§3.4 R4 code 2 without its length", {TOC_C2}, 1, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R4 code 2, N1 longer than the rest", {TOC_C2, 0x03, 0xaa, 0xbb}, 4, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R4 code 2, two-octet N1 cut short", {TOC_C2, 0xfc}, 2, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.2.5 code 3 CBR, M=3", {TOC_C3, 0x03, 1, 2, 3, 4, 5, 6}, 8, 0, 3, {2, 2, 2}, 2, 0, 2880},
    {"§3.4 R6 code 3 CBR, N-2 not a multiple of M", {TOC_C3, 0x03, 1, 2, 3, 4}, 6, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.2.5 code 3 VBR with padding: M=2, P=3",
     {TOC_C3, 0xc2, 0x02, 0x01, 0xaa, 0xbb, 0xcc, 0x00, 0x00},
     9,
     0,
     2,
     {1, 2},
     4,
     3,
     1920},
    {"§3.2.5 code 3 CBR with 5 padding octets: M=1",
     {TOC_C3, 0x41, 0x05, 0xaa, 0xbb, 0, 0, 0, 0, 0},
     10,
     0,
     1,
     {2},
     3,
     6,
     960},
    {"§3.4 R6 code 3, padding longer than the packet",
     {TOC_C3, 0x41, 0x05, 0xaa, 0, 0, 0},
     7,
     OVL_ERR_PARSE,
     0,
     {0},
     0,
     0,
     0},
    {"§3.4 R7 code 3 VBR, frame lengths past the end",
     {TOC_C3, 0x83, 0x02, 0x02, 0xaa, 0xbb, 0xcc},
     7,
     OVL_ERR_PARSE,
     0,
     {0},
     0,
     0,
     0},
    {"§3.2.5 code 3 VBR, M=3, last frame empty",
     {TOC_C3, 0x83, 0x02, 0x01, 0xaa, 0xbb, 0xcc},
     7,
     0,
     3,
     {2, 1, 0},
     4,
     0,
     2880},
    {"§3.4 R5 code 3 with M=0", {TOC_C3, 0x00}, 2, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R5 code 3 without the count byte", {TOC_C3}, 1, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R5 code 3, 7 x 20 ms = 140 ms", {TOC_C3, 0x07}, 2, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R5 code 3, 6 x 20 ms = 120 ms", {TOC_C3, 0x06}, 2, 0, 6, {0, 0, 0, 0}, 2, 0, 5760},
    {"§3.4 R5 SILK 60 ms x 2 = 120 ms", {0x1b, 0x02}, 2, 0, 2, {0, 0}, 2, 0, 5760},
    {"§3.4 R5 SILK 60 ms x 3 = 180 ms", {0x1b, 0x03}, 2, OVL_ERR_PARSE, 0, {0}, 0, 0, 0},
    {"§3.4 R5 CELT 2.5 ms x 48 = 120 ms", {0x83, 0x30}, 2, 0, 48, {0, 0, 0, 0}, 2, 0, 5760},
};

/*
 * Header, frames and padding account for every octet: the padding length octets are inside
 * frame_off and also counted in padding, so frame_off + frames <= len <= frame_off + frames + padding,
 * with equality when there is no padding.
 */
static void assert_frames_fit(const ovl_opus_packet_t *p, size_t len)
{
    size_t used = p->frame_off;
    for (unsigned i = 0; i < p->frames; i++)
        used += p->frame_len[i];
    assert_true(used <= len);
    assert_true(len <= used + p->padding);
    if (p->padding == 0)
        assert_int_equal(used, len);
}

static void check_case(const struct pkt_case *c)
{
    ovl_opus_packet_t p;
    int ret = ovl_opus_parse(c->bytes, c->len, &p);
    if (ret != c->ret)
        fail_msg("%s: ret %d, want %d", c->what, ret, c->ret);
    if (ret != 0) {
        static const ovl_opus_packet_t zero;
        assert_memory_equal(&p, &zero, sizeof(p));
        return;
    }
    assert_int_equal(p.frames, c->frames);
    for (unsigned i = 0; i < c->frames && i < 4; i++)
        if (p.frame_len[i] != c->lens[i])
            fail_msg("%s: frame %u has %u octets, want %u", c->what, i, p.frame_len[i], c->lens[i]);
    assert_int_equal(p.frame_off, c->frame_off);
    assert_int_equal(p.padding, c->padding);
    assert_int_equal(p.samples, c->samples);
    assert_frames_fit(&p, c->len);
    uint32_t samples;
    assert_int_equal(ovl_opus_packet_samples(c->bytes, c->len, &samples), 0);
    assert_int_equal(samples, c->samples);
}

static void test_opus_packets(void **state)
{
    (void)state;
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++)
        check_case(&cases[i]);
}

/* §3.2.1: lengths 252..255 take a second octet; §3.4 R2: no frame above 1275 octets. */
static void test_opus_long_frames(void **state)
{
    (void)state;
    static uint8_t pkt[2 * 1276 + 8];
    ovl_opus_packet_t p;

    memset(pkt, 0x55, sizeof(pkt));
    pkt[0] = TOC_C0;
    assert_int_equal(ovl_opus_parse(pkt, 1 + 1275, &p), 0);
    assert_int_equal(p.frame_len[0], 1275);
    assert_int_equal(ovl_opus_parse(pkt, 1 + 1276, &p), OVL_ERR_PARSE);

    pkt[0] = TOC_C1;
    assert_int_equal(ovl_opus_parse(pkt, 1 + 2 * 1275, &p), 0);
    assert_int_equal(ovl_opus_parse(pkt, 1 + 2 * 1276, &p), OVL_ERR_PARSE);

    /* Code 2, N1 = 4 * 1 + 252 = 256 in two octets, then a frame of 10. */
    pkt[0] = TOC_C2;
    pkt[1] = 252;
    pkt[2] = 1;
    assert_int_equal(ovl_opus_parse(pkt, 3 + 256 + 10, &p), 0);
    assert_int_equal(p.frame_len[0], 256);
    assert_int_equal(p.frame_len[1], 10);
    assert_int_equal(p.frame_off, 3);
    /* The largest two-octet length: 255 * 4 + 255 = 1275. */
    pkt[1] = 255;
    pkt[2] = 255;
    assert_int_equal(ovl_opus_parse(pkt, 3 + 1275 + 1275, &p), 0);
    assert_int_equal(ovl_opus_parse(pkt, 3 + 1275 + 1276, &p), OVL_ERR_PARSE);

    /* Code 3 CBR, one frame of 1276 breaks R2. */
    pkt[0] = TOC_C3;
    pkt[1] = 0x01;
    assert_int_equal(ovl_opus_parse(pkt, 2 + 1275, &p), 0);
    assert_int_equal(ovl_opus_parse(pkt, 2 + 1276, &p), OVL_ERR_PARSE);
    /* Code 3 VBR, M=2: 1 + 1275 is fine, the last frame at 1276 is not. */
    pkt[1] = 0x82;
    pkt[2] = 1;
    assert_int_equal(ovl_opus_parse(pkt, 3 + 1 + 1275, &p), 0);
    assert_int_equal(ovl_opus_parse(pkt, 3 + 1 + 1276, &p), OVL_ERR_PARSE);
}

/* §3.2.5: a padding length of 255 means 254 octets and another length octet. */
static void test_opus_padding_chain(void **state)
{
    (void)state;
    static uint8_t pkt[600];
    ovl_opus_packet_t p;

    memset(pkt, 0, sizeof(pkt));
    pkt[0] = TOC_C3;
    pkt[1] = 0x41; /* CBR, padding, M=1 */
    pkt[2] = 255;
    pkt[3] = 255;
    pkt[4] = 10;   /* padding: 254 + 254 + 10 octets, plus the 3 length octets */
    pkt[5] = 0xaa; /* a frame of 4 */
    size_t len = 5 + 4 + 254 + 254 + 10;
    assert_int_equal(ovl_opus_parse(pkt, len, &p), 0);
    assert_int_equal(p.padding, 3 + 518);
    assert_int_equal(p.frame_off, 5);
    assert_int_equal(p.frame_len[0], 4);
    /* Exactly the padding and no frame data: an empty frame; one octet less breaks R6. */
    assert_int_equal(ovl_opus_parse(pkt, 5 + 254 + 254 + 10, &p), 0);
    assert_int_equal(p.frame_len[0], 0);
    assert_int_equal(ovl_opus_parse(pkt, 5 + 254 + 254 + 10 - 1, &p), OVL_ERR_PARSE);
    /* The chain runs off the end. */
    assert_int_equal(ovl_opus_parse(pkt, 4, &p), OVL_ERR_PARSE);
}

/*
 * Every prefix of every case either fails (with the result cleared) or describes frames that lie
 * inside the prefix: truncation never reads past the end (ASan checks the reads).
 */
static void test_opus_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++) {
        for (size_t len = 0; len <= cases[i].len; len++) {
            uint8_t *copy = malloc(len ? len : 1); /* exact size so ASan sees any over-read */
            memcpy(copy, cases[i].bytes, len);
            ovl_opus_packet_t p;
            if (ovl_opus_parse(copy, len, &p) == 0)
                assert_frames_fit(&p, len);
            free(copy);
        }
    }
}

/* libopus's opus_packet_parse applies the same §3.4 rules: results must agree on any input. */
static void compare_with_libopus(const uint8_t *pkt, size_t len)
{
    ovl_opus_packet_t p;
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    unsigned char toc;
    int offset = -1;
    int mine = ovl_opus_parse(pkt, len, &p);
    int theirs = opus_packet_parse(pkt, (opus_int32)len, &toc, frames, sizes, &offset);
    if ((mine == 0) != (theirs > 0))
        fail_msg("len %zu toc %02x: ovl_opus_parse %d, opus_packet_parse %d", len, len ? pkt[0] : 0, mine, theirs);
    if (mine != 0)
        return;
    assert_int_equal(p.frames, theirs);
    assert_int_equal(p.frame_off, offset);
    size_t off = p.frame_off;
    for (int i = 0; i < theirs; i++) {
        assert_int_equal(p.frame_len[i], sizes[i]);
        assert_ptr_equal(frames[i], pkt + off);
        off += p.frame_len[i];
    }
    assert_frames_fit(&p, len);
    assert_int_equal(p.samples, (uint32_t)opus_packet_get_nb_samples(pkt, (opus_int32)len, 48000));
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_opus_against_libopus(void **state)
{
    (void)state;
    static uint8_t pkt[3000];
    uint32_t seed = 7741;

    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++)
        for (size_t len = 1; len <= cases[i].len; len++)
            compare_with_libopus(cases[i].bytes, len);
    /* Random packets, biased towards code 3 and small length octets so that many are valid. */
    for (int n = 0; n < 200000; n++) {
        size_t len = 1 + lcg(&seed) % (n % 10 == 0 ? sizeof(pkt) - 1 : 40);
        for (size_t i = 0; i < len; i++)
            pkt[i] = (uint8_t)lcg(&seed);
        if (n % 2)
            pkt[0] |= 3;
        if (len > 1 && n % 3 == 0)
            pkt[1] &= 0xc3; /* M <= 3 */
        for (size_t i = 2; i < len && i < 6 && n % 4 == 0; i++)
            pkt[i] &= 0x07;
        compare_with_libopus(pkt, len);
    }
}

/*
 * RFC 6716 §4.2.3: per channel, one VAD flag per SILK frame then the LBRR flag, read from the top
 * bits of the first frame. Bit positions: mono 10/20 ms 0x40, 40 ms 0x20, 60 ms 0x10; stereo
 * 20 ms mid 0x40 and side 0x10; stereo 60 ms mid 0x10 and side 0x01.
 */
static void test_opus_lbrr_bits(void **state)
{
    (void)state;
    static const struct {
        uint8_t toc, first;
        bool lbrr;
    } v[] = {
        {0x08, 0x40, true},  {0x08, 0xbf, false},                      /* SILK NB 20 ms mono */
        {0x00, 0x40, true},                                            /* SILK NB 10 ms mono */
        {0x10, 0x20, true},  {0x10, 0xdf, false},                      /* SILK NB 40 ms mono */
        {0x18, 0x10, true},  {0x18, 0xef, false},                      /* SILK NB 60 ms mono */
        {0x0c, 0x40, true},  {0x0c, 0x10, true},  {0x0c, 0xaf, false}, /* SILK NB 20 ms stereo */
        {0x1c, 0x10, true},  {0x1c, 0x01, true},  {0x1c, 0xee, false}, /* SILK NB 60 ms stereo */
        {0x68, 0x40, true},  {0x68, 0xbf, false},                      /* hybrid SWB 20 ms */
        {0xf8, 0xff, false}, {0xfc, 0xff, false},                      /* CELT FB 20 ms never */
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(v); i++) {
        uint8_t pkt[3] = {v[i].toc, v[i].first, 0x00};
        ovl_opus_packet_t p;
        assert_int_equal(ovl_opus_parse(pkt, sizeof(pkt), &p), 0);
        if (p.lbrr != v[i].lbrr)
            fail_msg("toc %02x first %02x: lbrr %d, want %d", v[i].toc, v[i].first, p.lbrr, v[i].lbrr);
    }
    /* An empty first frame (DTX) has no LBRR; code 2 looks at the first frame only. */
    uint8_t dtx[] = {0x08};
    uint8_t code2[] = {0x0a, 0x01, 0x00, 0x40};
    ovl_opus_packet_t p;
    assert_int_equal(ovl_opus_parse(dtx, sizeof(dtx), &p), 0);
    assert_false(p.lbrr);
    assert_int_equal(ovl_opus_parse(code2, sizeof(code2), &p), 0);
    assert_false(p.lbrr);
}

/*
 * The LBRR flag against libopus's own behaviour: decoding a packet's FEC in place of a lost one
 * differs from plain concealment exactly when the packet carries LBRR. Two decoders with the same
 * history, one recovers from packet k+1, the other conceals; compare with our flag. Only where the
 * configuration (mode, bandwidth) is the same before and after the loss: across a change libopus's
 * FEC path conceals in the new configuration, which differs from concealing in the old one.
 */
static void check_lbrr_with_libopus(unsigned channels, unsigned bitrate, bool fec, unsigned *with_lbrr)
{
    enum { N = 60 };
    ovl_audio_enc_cfg_t cfg = {.channels = channels, .bitrate = bitrate, .fec = fec, .packet_loss_perc = 20};
    ovl_audio_enc_t *enc;
    ovl_audio_tone_t left, right;
    static uint8_t pkt[N][OVL_AUDIO_MAX_PACKET];
    size_t len[N], ns;
    int16_t pcm[2 * OVL_AUDIO_FRAME], a[2 * OVL_AUDIO_MAX_FRAME], b[2 * OVL_AUDIO_MAX_FRAME];

    assert_int_equal(ovl_audio_enc_new(&cfg, &enc), 0);
    ovl_audio_tone_init(&left, 440, 0.5);
    ovl_audio_tone_init(&right, 660, 0.3);
    for (int i = 0; i < N; i++) {
        int16_t l[OVL_AUDIO_FRAME], r[OVL_AUDIO_FRAME];
        ovl_audio_tone_fill(&left, l, OVL_AUDIO_FRAME, 1);
        ovl_audio_tone_fill(&right, r, OVL_AUDIO_FRAME, 1);
        for (int s = 0; s < OVL_AUDIO_FRAME; s++) {
            if (channels == 2) {
                pcm[2 * s] = l[s];
                pcm[2 * s + 1] = r[s];
            } else {
                pcm[s] = l[s];
            }
        }
        assert_int_equal(ovl_audio_enc_encode(enc, pcm, pkt[i], sizeof(pkt[i]), &len[i]), 0);
    }
    *with_lbrr = 0;
    unsigned compared = 0;
    for (int k = 5; k < N - 1; k += 2) {
        ovl_audio_dec_t *da, *db;
        ovl_opus_packet_t p;
        if (pkt[k - 1][0] >> 2 != pkt[k + 1][0] >> 2)
            continue;
        compared++;
        assert_int_equal(ovl_audio_dec_new(channels, &da), 0);
        assert_int_equal(ovl_audio_dec_new(channels, &db), 0);
        for (int i = 0; i < k; i++) {
            assert_int_equal(ovl_audio_dec_decode(da, pkt[i], len[i], a, OVL_AUDIO_MAX_FRAME, &ns), 0);
            assert_int_equal(ovl_audio_dec_decode(db, pkt[i], len[i], b, OVL_AUDIO_MAX_FRAME, &ns), 0);
        }
        assert_int_equal(
            ovl_audio_dec_recover(da, pkt[k + 1], len[k + 1], OVL_AUDIO_FRAME, a, OVL_AUDIO_MAX_FRAME, &ns), 0);
        assert_int_equal(ovl_audio_dec_recover(db, NULL, 0, OVL_AUDIO_FRAME, b, OVL_AUDIO_MAX_FRAME, &ns), 0);
        bool used_fec = memcmp(a, b, OVL_AUDIO_FRAME * channels * sizeof(int16_t)) != 0;
        assert_int_equal(ovl_opus_parse(pkt[k + 1], len[k + 1], &p), 0);
        if (used_fec != p.lbrr)
            fail_msg("%u ch, %u bit/s, fec %d, packet %d (toc %02x, %02x): libopus used FEC %d, lbrr %d", channels,
                     bitrate, fec, k + 1, pkt[k + 1][0], pkt[k + 1][1], used_fec, p.lbrr);
        *with_lbrr += p.lbrr;
        ovl_audio_dec_free(da);
        ovl_audio_dec_free(db);
    }
    assert_true(compared >= 20); /* of 27 */
    ovl_audio_enc_free(enc);
}

static void test_opus_lbrr_libopus(void **state)
{
    (void)state;
    unsigned n;
    check_lbrr_with_libopus(1, 32000, true, &n);
    assert_true(n >= 20); /* with FEC on, the packets carry LBRR */
    check_lbrr_with_libopus(2, 48000, true, &n);
    assert_true(n >= 20);
    check_lbrr_with_libopus(1, 32000, false, &n);
    assert_int_equal(n, 0);
    check_lbrr_with_libopus(1, 12000, false, &n);
    assert_int_equal(n, 0);
    check_lbrr_with_libopus(1, 12000, true, &n); /* too few bits for LBRR at 12 kbit/s: any answer, but right */
}

/* RFC 6464 §3: V is the top bit, the level (0..127 -dBov) the rest, in both header forms. */
static void test_opus_audio_level(void **state)
{
    (void)state;
    bool voice;
    uint8_t level, buf[4];
    ovl_wbuf_t b;

    const uint8_t loud_voice[] = {0x80 | 33}; /* -33 dBov, voice */
    assert_int_equal(ovl_opus_level_parse(loud_voice, 1, &voice, &level), 0);
    assert_true(voice);
    assert_int_equal(level, 33);
    const uint8_t silence[] = {0x7f};
    assert_int_equal(ovl_opus_level_parse(silence, 1, &voice, &level), 0);
    assert_false(voice);
    assert_int_equal(level, OVL_OPUS_LEVEL_SILENCE);
    assert_int_equal(ovl_opus_level_parse(silence, 0, &voice, &level), OVL_ERR_PARSE);
    assert_int_equal(ovl_opus_level_parse(loud_voice, 2, &voice, &level), OVL_ERR_PARSE);
    assert_false(voice);
    assert_int_equal(level, 0);

    ovl_wbuf_init(&b, buf, 2);
    assert_int_equal(ovl_opus_level_build(&b, true, 33), 0);
    assert_int_equal(ovl_opus_level_build(&b, false, 0), 0);
    assert_int_equal(ovl_opus_level_build(&b, false, 5), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 2);
    assert_int_equal(buf[0], 0xa1);
    assert_int_equal(buf[1], 0x00);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_opus_level_build(&b, true, 128), OVL_ERR_ARG);
    assert_int_equal(b.len, 0);
    /* Round trip of every value. */
    for (int v = 0; v < 2; v++) {
        for (int l = 0; l <= 127; l++) {
            ovl_wbuf_init(&b, buf, sizeof(buf));
            assert_int_equal(ovl_opus_level_build(&b, v, (uint8_t)l), 0);
            assert_int_equal(ovl_opus_level_parse(buf, b.len, &voice, &level), 0);
            assert_int_equal(voice, v);
            assert_int_equal(level, l);
        }
    }
}

static void test_opus_packet_samples(void **state)
{
    (void)state;
    uint32_t s;
    const uint8_t c0[] = {0xf8}, c1[] = {0x01}, c3[] = {0x1b, 0x02}, c3zero[] = {0x7b, 0x40}, c3long[] = {0xfb, 0x07};
    assert_int_equal(ovl_opus_packet_samples(c0, 1, &s), 0);
    assert_int_equal(s, 960);
    assert_int_equal(ovl_opus_packet_samples(c1, 1, &s), 0);
    assert_int_equal(s, 960); /* SILK NB 10 ms x 2 */
    assert_int_equal(ovl_opus_packet_samples(c3, 2, &s), 0);
    assert_int_equal(s, 5760);
    assert_int_equal(ovl_opus_packet_samples(c3, 1, &s), OVL_ERR_PARSE);
    assert_int_equal(ovl_opus_packet_samples(c3zero, 2, &s), OVL_ERR_PARSE);
    assert_int_equal(ovl_opus_packet_samples(c3long, 2, &s), OVL_ERR_PARSE);
    assert_int_equal(ovl_opus_packet_samples(c0, 0, &s), OVL_ERR_PARSE);
    assert_int_equal(s, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opus_toc_table),   cmocka_unit_test(test_opus_packets),
        cmocka_unit_test(test_opus_long_frames), cmocka_unit_test(test_opus_padding_chain),
        cmocka_unit_test(test_opus_truncation),  cmocka_unit_test(test_opus_against_libopus),
        cmocka_unit_test(test_opus_lbrr_bits),   cmocka_unit_test(test_opus_lbrr_libopus),
        cmocka_unit_test(test_opus_audio_level), cmocka_unit_test(test_opus_packet_samples),
    };
    return cmocka_run_group_tests_name("opus (RFC 6716, RFC 6464)", tests, NULL, NULL);
}
