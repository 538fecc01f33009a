/* RTP (RFC 3550 §5.1) and RFC 8285 header extensions: parse, iterate, rewrite, build, unwrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/rtp.h"

/*
 * RFC 8285 §4.2 example: a one-byte header block with three elements and two padding bytes.
 * The RFC gives the layout, not the values; the ids (1, 2, 3) and data bytes are filled in here.
 *
 *  |       0xBE    |    0xDE       |           length=3            |
 *  |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
 *        ...data   |    0 (pad)    |    0 (pad)    |  ID   | L=3   |
 *  |                          data                                 |
 */
static const uint8_t pkt_8285_one_byte[] = {
    0x90, 0x60, 0x12, 0x34, /* V=2 X=1, PT 96, seq 0x1234 */
    0x00, 0x00, 0x56, 0x78, /* timestamp */
    0xca, 0xfe, 0xba, 0xbe, /* SSRC */
    0xbe, 0xde, 0x00, 0x03, /* 0xBEDE, length 3 */
    0x10, 0xaa, 0x21, 0xbb, /* id 1 L=0 data, id 2 L=1 data... */
    0xbb, 0x00, 0x00, 0x33, /* ...data, pad, pad, id 3 L=3 */
    0xcc, 0xcc, 0xcc, 0xcc, /* data */
    0xde, 0xad,             /* payload */
};

/*
 * RFC 8285 §4.3 example: a two-byte header block (0x100 + appbits 0) with three elements,
 * the first of length 0. Ids 1, 2, 3 and the data are filled in here.
 *
 *  |       0x10    |    0x00       |           length=3            |
 *  |      ID       |     L=0       |     ID        |     L=1       |
 *  |       data    |    0 (pad)    |       ID      |      L=4      |
 *  |                          data                                 |
 */
static const uint8_t pkt_8285_two_byte[] = {
    0x90, 0x60, 0x12, 0x35, 0x00, 0x00, 0x56, 0x78, 0xca, 0xfe, 0xba, 0xbe, /* header */
    0x10, 0x00, 0x00, 0x03,                                                 /* 0x1000, length 3 */
    0x01, 0x00, 0x02, 0x01,                                                 /* id 1 L=0, id 2 L=1 */
    0xaa, 0x00, 0x03, 0x04,                                                 /* data, pad, id 3 L=4 */
    0xdd, 0xdd, 0xdd, 0xdd,                                                 /* data */
    0x01, 0x02, 0x03,                                                       /* payload */
};

/*
 * RFC 3550 §5.1 with every optional part: P=1 X=1 CC=2 M=1, two CSRCs, a one-byte extension
 * block (transport-wide seq id 3, abs-send-time id 2, audio level id 1), 3 payload bytes and
 * 5 padding bytes (the last counts them, §5.1). Built by hand from the §5.1 and §5.3.1 diagrams.
 */
static const uint8_t pkt_full[] = {
    0xb2, 0xef, 0xff, 0xfe,       /* V=2 P=1 X=1 CC=2, M=1 PT=111, seq 65534 */
    0x89, 0xab, 0xcd, 0xef,       /* timestamp */
    0x01, 0x02, 0x03, 0x04,       /* SSRC */
    0x11, 0x11, 0x11, 0x11,       /* CSRC 1 */
    0x22, 0x22, 0x22, 0x22,       /* CSRC 2 */
    0xbe, 0xde, 0x00, 0x03,       /* one-byte form, 3 words */
    0x31, 0x00, 0x07,             /* id 3 L=1: transport-wide seq 7 */
    0x22, 0x12, 0x34, 0x56,       /* id 2 L=2: abs-send-time 0x123456 */
    0x10, 0x85,                   /* id 1 L=0: audio level, V=1 level 5 */
    0x00, 0x00, 0x00,             /* padding to the word */
    0x61, 0x62, 0x63,             /* payload "abc" */
    0x00, 0x00, 0x00, 0x00, 0x05, /* RTP padding, count 5 */
};

/* A plain packet: no CSRC, no extension, no padding. */
static const uint8_t pkt_plain[] = {
    0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0x2a, 0x55, 0x55,
};

static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    assert_non_null(d);
    if (len)
        memcpy(d, p, len);
    return d;
}

static void test_rfc8285_one_byte_example(void **state)
{
    (void)state;
    ovl_rtp_t rtp;
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_rtp_parse(&rtp, pkt_8285_one_byte, sizeof(pkt_8285_one_byte)), 0);
    assert_int_equal(rtp.ext_form, OVL_RTP_EXT_ONE_BYTE_FORM);
    assert_int_equal(rtp.ext_profile, 0xbede);
    assert_int_equal(rtp.ext_off, 16);
    assert_int_equal(rtp.ext_len, 12);
    assert_int_equal(rtp.payload_off, 28);
    assert_int_equal(rtp.payload_len, 2);

    static const struct {
        uint8_t id, len;
        size_t off;
        uint8_t byte;
    } want[] = {{1, 1, 17, 0xaa}, {2, 2, 19, 0xbb}, {3, 4, 24, 0xcc}};
    ovl_rtp_ext_iter_init(&it, &rtp);
    for (size_t i = 0; i < OVL_ARRAY_LEN(want); i++) {
        assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
        assert_int_equal(e.id, want[i].id);
        assert_int_equal(e.len, want[i].len);
        assert_int_equal(e.off, want[i].off);
        assert_ptr_equal(e.data, pkt_8285_one_byte + want[i].off);
        for (size_t k = 0; k < e.len; k++)
            assert_int_equal(e.data[k], want[i].byte);
    }
    assert_int_equal(ovl_rtp_ext_next(&it, &e), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 2, &e), 0);
    assert_int_equal(e.len, 2);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 4, &e), OVL_ERR_NOTFOUND);
}

static void test_rfc8285_two_byte_example(void **state)
{
    (void)state;
    ovl_rtp_t rtp;
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_rtp_parse(&rtp, pkt_8285_two_byte, sizeof(pkt_8285_two_byte)), 0);
    assert_int_equal(rtp.ext_form, OVL_RTP_EXT_TWO_BYTE_FORM);
    assert_int_equal(rtp.payload_len, 3);

    ovl_rtp_ext_iter_init(&it, &rtp);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
    assert_int_equal(e.id, 1);
    assert_int_equal(e.len, 0); /* §4.3: length 0 is allowed in the two-byte form */
    assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
    assert_int_equal(e.id, 2);
    assert_int_equal(e.len, 1);
    assert_int_equal(e.data[0], 0xaa);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
    assert_int_equal(e.id, 3);
    assert_int_equal(e.len, 4);
    assert_int_equal(e.off, 24);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), OVL_ERR_NOTFOUND);

    /* §4.3: the low 4 bits ("appbits") do not change the form. */
    uint8_t copy[sizeof(pkt_8285_two_byte)];
    memcpy(copy, pkt_8285_two_byte, sizeof(copy));
    copy[13] = 0x0f;
    assert_int_equal(ovl_rtp_parse(&rtp, copy, sizeof(copy)), 0);
    assert_int_equal(rtp.ext_form, OVL_RTP_EXT_TWO_BYTE_FORM);
    assert_int_equal(rtp.ext_profile, 0x100f);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 3, &e), 0);
    /* Some other profile's block is carried but has no RFC 8285 elements. */
    copy[12] = 0x20;
    assert_int_equal(ovl_rtp_parse(&rtp, copy, sizeof(copy)), 0);
    assert_int_equal(rtp.ext_form, OVL_RTP_EXT_OTHER);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), OVL_ERR_NOTFOUND);
}

/* RFC 8285 §4.2: id 15 ends processing; elements after it are not seen. */
static void test_one_byte_id15_stops(void **state)
{
    (void)state;
    static const uint8_t pkt[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,    0,    1,
                                  0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0xf3, 0x21, 0xbb, 0xbb, 0x00, 0x00};
    ovl_rtp_t rtp;
    ovl_rtp_ext_elem_t e;
    ovl_rtp_ext_iter_t it;
    assert_int_equal(ovl_rtp_parse(&rtp, pkt, sizeof(pkt)), 0);
    ovl_rtp_ext_iter_init(&it, &rtp);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
    assert_int_equal(e.id, 1);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 2, &e), OVL_ERR_NOTFOUND);
}

/* An element longer than its block is an error, after the elements before it. */
static void test_element_overrun(void **state)
{
    (void)state;
    static const uint8_t one[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,   0,
                                  1,    0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x23, 0xbb, 0x99};
    static const uint8_t two[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
                                  0,    1,    0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07};
    ovl_rtp_t rtp;
    ovl_rtp_ext_elem_t e;
    ovl_rtp_ext_iter_t it;
    assert_int_equal(ovl_rtp_parse(&rtp, one, sizeof(one)), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 2, &e), OVL_ERR_PARSE);
    ovl_rtp_ext_iter_init(&it, &rtp);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), 0);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), OVL_ERR_PARSE);
    assert_int_equal(ovl_rtp_ext_next(&it, &e), OVL_ERR_NOTFOUND);
    /* two-byte form: padding, padding, padding, then a lone id byte without its length */
    assert_int_equal(ovl_rtp_parse(&rtp, two, sizeof(two)), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 7, &e), OVL_ERR_PARSE);
}

static void test_full_packet_fields(void **state)
{
    (void)state;
    ovl_rtp_t rtp;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_rtp_parse(&rtp, pkt_full, sizeof(pkt_full)), 0);
    assert_true(rtp.padding && rtp.extension && rtp.marker);
    assert_int_equal(rtp.csrc_count, 2);
    assert_int_equal(rtp.payload_type, 111);
    assert_int_equal(rtp.seq, 65534);
    assert_int_equal(rtp.timestamp, 0x89abcdef);
    assert_int_equal(rtp.ssrc, 0x01020304);
    assert_int_equal(ovl_rtp_csrc(&rtp, 0), 0x11111111);
    assert_int_equal(ovl_rtp_csrc(&rtp, 1), 0x22222222);
    assert_int_equal(ovl_rtp_csrc(&rtp, 2), 0);
    assert_int_equal(rtp.ext_off, 24);
    assert_int_equal(rtp.ext_len, 12);
    assert_int_equal(rtp.payload_off, 36);
    assert_int_equal(rtp.payload_len, 3);
    assert_int_equal(rtp.padding_len, 5);
    assert_memory_equal(ovl_rtp_payload(&rtp), "abc", 3);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 3, &e), 0);
    assert_int_equal(ovl_load_u16(e.data), 7);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), 0);
    assert_int_equal(e.len, 1);
    assert_int_equal(e.data[0], 0x85);
}

/* The builder writes pkt_full byte for byte (its extension elements are packed the same way). */
static void test_build_full_packet(void **state)
{
    (void)state;
    static const uint32_t csrcs[] = {0x11111111, 0x22222222};
    static const uint8_t twcc[] = {0x00, 0x07}, abs[] = {0x12, 0x34, 0x56}, level[] = {0x85};
    const ovl_rtp_ext_put_t ext[] = {{3, 2, twcc}, {2, 3, abs}, {1, 1, level}};
    const ovl_rtp_hdr_t h = {true, 111, 65534, 0x89abcdef, 0x01020304, csrcs, 2};
    uint8_t buf[128];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, ext, OVL_ARRAY_LEN(ext)), 0);
    assert_int_equal(ovl_put_bytes(&b, "abc", 3), 0);
    assert_int_equal(ovl_rtp_pad(&b, 0, 5), 0);
    assert_int_equal(b.len, sizeof(pkt_full));
    assert_memory_equal(buf, pkt_full, sizeof(pkt_full));
}

/* Building the RFC 8285 examples' elements: one-byte and two-byte forms, packed, zero-padded. */
static void test_build_extension_forms(void **state)
{
    (void)state;
    static const uint8_t a[] = {0xaa}, bb[] = {0xbb, 0xbb}, c4[] = {0xcc, 0xcc, 0xcc, 0xcc};
    static const uint8_t d4[] = {0xdd, 0xdd, 0xdd, 0xdd};
    const ovl_rtp_ext_put_t one[] = {{1, 1, a}, {2, 2, bb}, {3, 4, c4}};
    const ovl_rtp_ext_put_t two[] = {{1, 0, NULL}, {2, 1, a}, {3, 4, d4}};
    const ovl_rtp_ext_put_t big_id[] = {{200, 1, a}};
    const ovl_rtp_hdr_t h = {false, 96, 0x1234, 0x5678, 0xcafebabe, NULL, 0};
    static const uint8_t want_one[] = {0xbe, 0xde, 0x00, 0x03, 0x10, 0xaa, 0x21, 0xbb,
                                       0xbb, 0x33, 0xcc, 0xcc, 0xcc, 0xcc, 0x00, 0x00};
    static const uint8_t want_two[] = {0x10, 0x00, 0x00, 0x03, 0x01, 0x00, 0x02, 0x01,
                                       0xaa, 0x03, 0x04, 0xdd, 0xdd, 0xdd, 0xdd, 0x00};
    static const uint8_t want_big[] = {0x10, 0x00, 0x00, 0x01, 0xc8, 0x01, 0xaa, 0x00};
    uint8_t buf[64];
    ovl_wbuf_t b;
    ovl_rtp_t rtp;
    ovl_rtp_ext_elem_t e;

    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, one, 3), 0);
    assert_int_equal(b.len, 12 + sizeof(want_one));
    assert_int_equal(buf[0], 0x90);
    assert_memory_equal(buf + 12, want_one, sizeof(want_one));
    assert_int_equal(ovl_rtp_parse(&rtp, buf, b.len), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 3, &e), 0);
    assert_memory_equal(e.data, c4, 4);

    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, two, 3), 0);
    assert_memory_equal(buf + 12, want_two, sizeof(want_two));
    assert_int_equal(ovl_rtp_parse(&rtp, buf, b.len), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 1, &e), 0);
    assert_int_equal(e.len, 0);

    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, big_id, 1), 0);
    assert_memory_equal(buf + 12, want_big, sizeof(want_big));
}

static void test_build_errors_write_nothing(void **state)
{
    (void)state;
    static const uint8_t a[] = {1};
    const ovl_rtp_ext_put_t bad_id[] = {{0, 1, a}};
    const ovl_rtp_ext_put_t ok[] = {{1, 1, a}};
    ovl_rtp_hdr_t h = {false, 128, 0, 0, 0, NULL, 0};
    uint8_t buf[64];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtp_build(&b, &h, NULL, 0), OVL_ERR_ARG); /* PT > 127 */
    h.payload_type = 96;
    h.csrc_count = 16;
    assert_int_equal(ovl_rtp_build(&b, &h, NULL, 0), OVL_ERR_ARG);
    h.csrc_count = 1; /* but no CSRC array */
    assert_int_equal(ovl_rtp_build(&b, &h, NULL, 0), OVL_ERR_ARG);
    h.csrc_count = 0;
    assert_int_equal(ovl_rtp_build(&b, &h, bad_id, 1), OVL_ERR_ARG);
    assert_int_equal(b.len, 0);
    ovl_wbuf_init(&b, buf, 19); /* 12 + 8 needed */
    assert_int_equal(ovl_rtp_build(&b, &h, ok, 1), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_int_equal(ovl_rtp_pad(&b, 0, 4), OVL_ERR_ARG); /* no header to pad */
    ovl_wbuf_init(&b, buf, 13);
    assert_int_equal(ovl_rtp_build(&b, &h, NULL, 0), 0);
    assert_int_equal(ovl_rtp_pad(&b, 0, 0), OVL_ERR_ARG);
    assert_int_equal(ovl_rtp_pad(&b, 0, 2), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 12);
    assert_int_equal(buf[0] & 0x20, 0);
}

/* RFC 3550 §5.1 checks: version, CSRCs, extension and padding must fit. */
static void test_rejects(void **state)
{
    (void)state;
    uint8_t p[sizeof(pkt_full)];
    ovl_rtp_t rtp;
    assert_int_equal(ovl_rtp_parse(&rtp, NULL, 0), OVL_ERR_PARSE);
    assert_int_equal(ovl_rtp_parse(&rtp, pkt_plain, 11), OVL_ERR_PARSE);
    for (int v = 0; v < 4; v++) {
        memcpy(p, pkt_plain, sizeof(pkt_plain));
        p[0] = (uint8_t)(v << 6 | (p[0] & 0x3f));
        assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_plain)), v == 2 ? 0 : OVL_ERR_PARSE);
    }
    memcpy(p, pkt_plain, sizeof(pkt_plain));
    p[0] |= 0x01; /* one CSRC, but only 2 bytes follow the header */
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_plain)), OVL_ERR_PARSE);
    memcpy(p, pkt_full, sizeof(pkt_full));
    p[23] = 0x09; /* extension length 9 words: past the end */
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_full)), OVL_ERR_PARSE);
    memcpy(p, pkt_full, sizeof(pkt_full));
    p[sizeof(pkt_full) - 1] = 0; /* padding count 0 */
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_full)), OVL_ERR_PARSE);
    p[sizeof(pkt_full) - 1] = 9; /* 9 > payload (3) + padding (5) */
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_full)), OVL_ERR_PARSE);
    p[sizeof(pkt_full) - 1] = 8; /* padding may take the whole payload */
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(pkt_full)), 0);
    assert_int_equal(rtp.payload_len, 0);
    assert_int_equal(rtp.padding_len, 8);
}

static void test_rewrite_round_trip(void **state)
{
    (void)state;
    uint8_t p[sizeof(pkt_full)], other[sizeof(pkt_full)];
    ovl_rtp_t rtp, again;
    ovl_rtp_ext_elem_t e;
    memcpy(p, pkt_full, sizeof(p));
    memcpy(other, pkt_full, sizeof(other));
    assert_int_equal(ovl_rtp_parse(&rtp, p, sizeof(p)), 0);

    assert_int_equal(ovl_rtp_set_ssrc(&rtp, other, 1), OVL_ERR_ARG); /* not the parsed buffer */
    assert_int_equal(ovl_rtp_set_ssrc(&rtp, p, 0xdeadbeef), 0);
    assert_int_equal(ovl_rtp_set_seq(&rtp, p, 2), 0);
    assert_int_equal(ovl_rtp_set_timestamp(&rtp, p, 0x01000000), 0);
    assert_int_equal(ovl_rtp_set_marker(&rtp, p, false), 0);
    assert_int_equal(ovl_rtp_set_payload_type(&rtp, p, 200), OVL_ERR_ARG);
    assert_int_equal(ovl_rtp_set_payload_type(&rtp, p, 100), 0);
    static const uint8_t seq[] = {0xab, 0xcd}, abs[] = {0x01, 0x02, 0x03}, level[] = {0x7f};
    assert_int_equal(ovl_rtp_ext_write(&rtp, p, 3, seq, 2), 0);   /* transport-wide seq */
    assert_int_equal(ovl_rtp_ext_write(&rtp, p, 2, abs, 3), 0);   /* abs-send-time */
    assert_int_equal(ovl_rtp_ext_write(&rtp, p, 1, level, 1), 0); /* audio level */
    assert_int_equal(ovl_rtp_ext_write(&rtp, p, 1, seq, 2), OVL_ERR_ARG);
    assert_int_equal(ovl_rtp_ext_write(&rtp, p, 9, seq, 2), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_rtp_ext_set_id(&rtp, p, 3, 15), OVL_ERR_ARG);
    assert_int_equal(ovl_rtp_ext_set_id(&rtp, p, 3, 5), 0);
    assert_int_equal(rtp.ssrc, 0xdeadbeef);
    assert_int_equal(rtp.seq, 2);
    assert_false(rtp.marker);

    assert_int_equal(ovl_rtp_parse(&again, p, sizeof(p)), 0);
    assert_int_equal(again.ssrc, 0xdeadbeef);
    assert_int_equal(again.seq, 2);
    assert_int_equal(again.timestamp, 0x01000000);
    assert_false(again.marker);
    assert_int_equal(again.payload_type, 100);
    assert_int_equal(again.csrc_count, 2);
    assert_int_equal(again.payload_len, 3);
    assert_int_equal(again.padding_len, 5);
    assert_memory_equal(ovl_rtp_payload(&again), "abc", 3);
    assert_int_equal(ovl_rtp_ext_find(&again, 3, &e), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_rtp_ext_find(&again, 5, &e), 0);
    assert_memory_equal(e.data, seq, 2);
    assert_int_equal(ovl_rtp_ext_find(&again, 2, &e), 0);
    assert_memory_equal(e.data, abs, 3);
    assert_int_equal(ovl_rtp_ext_find(&again, 1, &e), 0);
    assert_int_equal(e.data[0], 0x7f);
    /* only the rewritten bytes changed */
    size_t changed = 0;
    for (size_t i = 0; i < sizeof(p); i++)
        changed += p[i] != pkt_full[i];
    assert_true(changed <= 4 + 2 + 4 + 1 + 2 + 3 + 1 + 1);

    /* two-byte form: ids up to 255 */
    uint8_t q[sizeof(pkt_8285_two_byte)];
    memcpy(q, pkt_8285_two_byte, sizeof(q));
    assert_int_equal(ovl_rtp_parse(&rtp, q, sizeof(q)), 0);
    assert_int_equal(ovl_rtp_ext_set_id(&rtp, q, 3, 250), 0);
    assert_int_equal(ovl_rtp_ext_find(&rtp, 250, &e), 0);
    assert_int_equal(e.len, 4);
}

/* Every field the view gives must lie inside the buffer; prefixes agree with the whole. */
static void check_view(const ovl_rtp_t *rtp, const ovl_rtp_t *whole, size_t len)
{
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    int ret, guard = 0;
    assert_int_equal(rtp->len, len);
    assert_int_equal(rtp->payload_off + rtp->payload_len + rtp->padding_len, len);
    assert_true(rtp->ext_off + rtp->ext_len <= rtp->payload_off);
    assert_int_equal(rtp->seq, whole->seq);
    assert_int_equal(rtp->ssrc, whole->ssrc);
    assert_int_equal(rtp->timestamp, whole->timestamp);
    assert_int_equal(rtp->csrc_count, whole->csrc_count);
    assert_int_equal(rtp->ext_len, whole->ext_len);
    for (size_t i = 0; i < rtp->csrc_count; i++)
        assert_int_equal(ovl_rtp_csrc(rtp, i), ovl_rtp_csrc(whole, i));
    ovl_rtp_ext_iter_init(&it, rtp);
    while ((ret = ovl_rtp_ext_next(&it, &e)) == 0) {
        assert_true(e.off >= rtp->ext_off && e.off + e.len <= rtp->ext_off + rtp->ext_len);
        volatile uint8_t sink = 0;
        for (size_t k = 0; k < e.len; k++)
            sink ^= e.data[k]; /* ASan checks these reads */
        (void)sink;
        assert_true(++guard < 64);
    }
    assert_true(ret == OVL_ERR_NOTFOUND || ret == OVL_ERR_PARSE);
    volatile uint8_t sink = 0;
    for (size_t k = 0; k < rtp->payload_len; k++)
        sink ^= ovl_rtp_payload(rtp)[k];
    (void)sink;
}

/* Every prefix of every valid packet parses consistently or fails cleanly (run under ASan). */
static void test_every_prefix(void **state)
{
    (void)state;
    static const struct {
        const uint8_t *p;
        size_t len;
    } pkts[] = {
        {pkt_8285_one_byte, sizeof(pkt_8285_one_byte)},
        {pkt_8285_two_byte, sizeof(pkt_8285_two_byte)},
        {pkt_full, sizeof(pkt_full)},
        {pkt_plain, sizeof(pkt_plain)},
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(pkts); i++) {
        ovl_rtp_t whole, rtp;
        assert_int_equal(ovl_rtp_parse(&whole, pkts[i].p, pkts[i].len), 0);
        size_t header_end = whole.payload_off;
        for (size_t len = 0; len <= pkts[i].len; len++) {
            uint8_t *d = dup_exact(pkts[i].p, len);
            int ret = ovl_rtp_parse(&rtp, d, len);
            if (len < header_end)
                assert_int_equal(ret, OVL_ERR_PARSE);
            if (ret == 0)
                check_view(&rtp, &whole, len);
            else
                assert_int_equal(ret, OVL_ERR_PARSE);
            free(d);
        }
    }
}

static void test_seq_arithmetic(void **state)
{
    (void)state;
    assert_int_equal(ovl_rtp_seq_diff(1, 65535), 2);
    assert_int_equal(ovl_rtp_seq_diff(65535, 1), -2);
    assert_int_equal(ovl_rtp_seq_diff(0x8000, 0), -32768);
    assert_true(ovl_rtp_seq_newer(0, 65535));
    assert_false(ovl_rtp_seq_newer(65535, 0));
    assert_false(ovl_rtp_seq_newer(7, 7));
    assert_true(ovl_rtp_ts_diff(5, 0xfffffffbu) == 10);

    ovl_rtp_unwrap_t u;
    ovl_rtp_unwrap_init(&u);
    /* each value unwraps to the one nearest the highest so far (20000 is 19998 ahead of 2) */
    static const uint16_t in[] = {65533, 65534, 65535, 0, 65535, 1, 2, 20000, 40000, 100};
    static const int64_t want[] = {65533, 65534, 65535, 65536, 65535, 65537, 65538, 85536, 105536, 131172};
    for (size_t i = 0; i < OVL_ARRAY_LEN(in); i++)
        assert_true(ovl_rtp_unwrap_seq(&u, in[i]) == want[i]);
    /* a packet older than the first one unwraps below it */
    ovl_rtp_unwrap_init(&u);
    assert_true(ovl_rtp_unwrap_seq(&u, 3) == 3);
    assert_true(ovl_rtp_unwrap_seq(&u, 65535) == -1);

    ovl_rtp_unwrap_init(&u);
    assert_true(ovl_rtp_unwrap_ts(&u, 0xfffff000u) == 0xfffff000ll);
    assert_true(ovl_rtp_unwrap_ts(&u, 0x00001000u) == 0x100001000ll);
    assert_true(ovl_rtp_unwrap_ts(&u, 0xffffff00u) == 0xffffff00ll);
    assert_true(ovl_rtp_unwrap_ts(&u, 0x80000000u) == 0x180000000ll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8285_one_byte_example),
        cmocka_unit_test(test_rfc8285_two_byte_example),
        cmocka_unit_test(test_one_byte_id15_stops),
        cmocka_unit_test(test_element_overrun),
        cmocka_unit_test(test_full_packet_fields),
        cmocka_unit_test(test_build_full_packet),
        cmocka_unit_test(test_build_extension_forms),
        cmocka_unit_test(test_build_errors_write_nothing),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_rewrite_round_trip),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_seq_arithmetic),
    };
    return cmocka_run_group_tests_name("rtp (RFC 3550 §5.1, RFC 8285)", tests, NULL, NULL);
}
