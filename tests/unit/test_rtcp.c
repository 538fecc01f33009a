/*
 * RTCP: compound framing (RFC 3550 §6.1, App. A.2), SR/RR/SDES/BYE (§6.4-6.6), NACK and PLI
 * (RFC 4585 §6.2.1, §6.3.1), FIR (RFC 5104 §4.3.1), REMB (draft-alvestrand-rmcat-remb-03 §2.2),
 * transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), NTP and RTT.
 *
 * None of RFC 3550, RFC 4585, RFC 5104 or the REMB draft gives a byte dump of a packet: the
 * wire examples below are written out by hand from their diagrams (values chosen here). The
 * transport-cc packets carry the draft's own §3.1.3/§3.1.4 chunk examples bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/rtcp.h"

#define SENDER 0x11223344u
#define MEDIA  0x55667788u

/* SR, RC=1 (RFC 3550 §6.4.1): NTP 0xe8b3a0c0.80000000, RTP ts 90000, 100 packets, 120000
 * octets; block: fraction 64/256, cumulative lost -3, highest 0x1abcd, jitter 32, LSR, DLSR 1 s. */
static const uint8_t sr_pkt[] = {
    0x81, 0xc8, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 0xe8, 0xb3, 0xa0, 0xc0, 0x80, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x5f, 0x90, 0x00, 0x00, 0x00, 0x64, 0x00, 0x01, 0xd4, 0xc0, 0x55, 0x66, 0x77, 0x88, 0x40, 0xff, 0xff, 0xfd,
    0x00, 0x01, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x20, 0xa0, 0xc0, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00,
};
static const ovl_rtcp_rb_t sr_block = {MEDIA, 0x40, -3, 0x1abcd, 32, 0xa0c08000, 0x10000};
static const ovl_rtcp_sender_info_t sr_info = {0xe8b3a0c080000000ull, 90000, 100, 120000};

/* SDES, one chunk with CNAME "user@example", null-terminated and padded (RFC 3550 §6.5). */
static const uint8_t sdes_pkt[] = {
    0x81, 0xca, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x01, 0x0c, 'u',  's',
    'e',  'r',  '@',  'e',  'x',  'a',  'm',  'p',  'l',  'e',  0x00, 0x00,
};

/* SDES, two chunks: CNAME "a" + NAME "bob" (13 bytes, padded to 16), CNAME "cd" (9, to 12). */
static const uint8_t sdes2_pkt[] = {
    0x82, 0xca, 0x00, 0x07, 0xaa, 0xaa, 0xaa, 0xaa, 0x01, 0x01, 'a', 0x02, 0x03, 'b',  'o',  'b',
    0x00, 0x00, 0x00, 0x00, 0xbb, 0xbb, 0xbb, 0xbb, 0x01, 0x02, 'c', 'd',  0x00, 0x00, 0x00, 0x00,
};

/* BYE for one SSRC with reason "bye" (RFC 3550 §6.6). */
static const uint8_t bye_pkt[] = {0x81, 0xcb, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x03, 'b', 'y', 'e'};

/* Generic NACK (RFC 4585 §6.2.1) for 100, 101, 103, 116 | 117 | 200. */
static const uint8_t nack_pkt[] = {
    0x81, 0xcd, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    0x00, 0x64, 0x80, 0x05, 0x00, 0x75, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00,
};
static const uint16_t nack_lost[] = {100, 101, 103, 116, 117, 200};

/* PLI (RFC 4585 §6.3.1): no FCI, length 2. */
static const uint8_t pli_pkt[] = {0x81, 0xce, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

/* FIR (RFC 5104 §4.3.1): media SSRC 0, one entry for MEDIA with command seq 7. */
static const uint8_t fir_pkt[] = {0x84, 0xce, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
                                  0x00, 0x00, 0x55, 0x66, 0x77, 0x88, 0x07, 0x00, 0x00, 0x00};

/* REMB (draft §2.2): 1 000 000 bps = 250000 (0x3d090) << 2, one SSRC. */
static const uint8_t remb_pkt[] = {0x8f, 0xce, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
                                   'R',  'E',  'M',  'B',  0x01, 0x0b, 0xd0, 0x90, 0x55, 0x66, 0x77, 0x88};

/* Transport-cc with the draft's §3.1.4 Example 1 chunk |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0| =
 * 0x9f1c: 1 not received, 5 received, 3 not, 3 received, 2 not. Base 1000, 14 packets,
 * reference time 1 (64 ms), fb count 5, eight small deltas 1..8, two bytes of zero padding. */
static const uint8_t twcc_a_pkt[] = {
    0x8f, 0xcd, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x03, 0xe8, 0x00, 0x0e,
    0x00, 0x00, 0x01, 0x05, 0x9f, 0x1c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00,
};

/* Transport-cc with the draft's §3.1.4 Example 2 |1|1|0 0 1 1 0 1 0 1 0 1 0 0 0 0| = 0xcd50
 * (not received, received w/o delta, 3 received, 2 not), then §3.1.3 Example 1
 * |0|0 0|0 0 0 0 0 1 1 0 1 1 1 0 1| = 0x00dd (221 not received) and Example 2
 * |0|1 1|0 0 0 0 0 0 0 0 1 1 0 0 0| = 0x6018 (24 received w/o delta): 252 packets from base 10.
 * Reference time 0xffffff is -1 (-64 ms). Three small deltas 16, 32, 48. */
static const uint8_t twcc_b_pkt[] = {
    0x8f, 0xcd, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x0a, 0x00, 0xfc,
    0xff, 0xff, 0xff, 0x00, 0xcd, 0x50, 0x00, 0xdd, 0x60, 0x18, 0x10, 0x20, 0x30, 0x00, 0x00, 0x00,
};

/* APP (RFC 3550 §6.7) and RTPFB FMT 3 (TMMBR): well framed, not parsed here. */
static const uint8_t app_pkt[] = {0x80, 0xcc, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 'T', 'E', 'S', 'T'};
static const uint8_t tmmbr_pkt[] = {0x83, 0xcd, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

/* RR without blocks, padded with 4 octets (P=1, the last octet counts them). */
static const uint8_t rr_padded_pkt[] = {0xa0, 0xc9, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x04};

struct sample {
    const uint8_t *p;
    size_t len;
    ovl_rtcp_kind_t kind;
};

static const struct sample samples[] = {
    {sr_pkt, sizeof(sr_pkt), OVL_RTCP_SR},
    {sdes_pkt, sizeof(sdes_pkt), OVL_RTCP_SDES},
    {sdes2_pkt, sizeof(sdes2_pkt), OVL_RTCP_SDES},
    {bye_pkt, sizeof(bye_pkt), OVL_RTCP_BYE},
    {nack_pkt, sizeof(nack_pkt), OVL_RTCP_NACK},
    {pli_pkt, sizeof(pli_pkt), OVL_RTCP_PLI},
    {fir_pkt, sizeof(fir_pkt), OVL_RTCP_FIR},
    {remb_pkt, sizeof(remb_pkt), OVL_RTCP_REMB},
    {twcc_a_pkt, sizeof(twcc_a_pkt), OVL_RTCP_TWCC},
    {twcc_b_pkt, sizeof(twcc_b_pkt), OVL_RTCP_TWCC},
    {app_pkt, sizeof(app_pkt), OVL_RTCP_UNKNOWN},
    {tmmbr_pkt, sizeof(tmmbr_pkt), OVL_RTCP_UNKNOWN},
    {rr_padded_pkt, sizeof(rr_padded_pkt), OVL_RTCP_RR},
};

static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    assert_non_null(d);
    if (len)
        memcpy(d, p, len);
    return d;
}

/* Parses a buffer holding exactly one RTCP packet. */
static void parse_one(const uint8_t *p, size_t len, ovl_rtcp_msg_t *m)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_iter_init(&it, p, len);
    assert_int_equal(ovl_rtcp_next(&it, m), 0);
    ovl_rtcp_msg_t end;
    assert_int_equal(ovl_rtcp_next(&it, &end), OVL_ERR_NOTFOUND);
}

static void assert_rb_equal(const ovl_rtcp_rb_t *a, const ovl_rtcp_rb_t *b)
{
    assert_int_equal(a->ssrc, b->ssrc);
    assert_int_equal(a->fraction_lost, b->fraction_lost);
    assert_int_equal(a->cumulative_lost, b->cumulative_lost);
    assert_int_equal(a->highest_seq, b->highest_seq);
    assert_int_equal(a->jitter, b->jitter);
    assert_int_equal(a->lsr, b->lsr);
    assert_int_equal(a->dlsr, b->dlsr);
}

/* ---- SR / RR ---- */

static void test_sr_parse_build(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    ovl_rtcp_rb_t rb;
    parse_one(sr_pkt, sizeof(sr_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_SR);
    assert_int_equal(m.u.sr.ssrc, SENDER);
    assert_true(m.u.sr.info.ntp == sr_info.ntp);
    assert_int_equal(m.u.sr.info.rtp_ts, 90000);
    assert_int_equal(m.u.sr.info.packet_count, 100);
    assert_int_equal(m.u.sr.info.octet_count, 120000);
    assert_int_equal(m.u.sr.blocks.count, 1);
    assert_int_equal(ovl_rtcp_rb_get(&m.u.sr.blocks, 0, &rb), 0);
    assert_rb_equal(&rb, &sr_block);
    assert_int_equal(ovl_rtcp_rb_get(&m.u.sr.blocks, 1, &rb), OVL_ERR_ARG);

    uint8_t buf[128];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_sr(&b, SENDER, &sr_info, &sr_block, 1), 0);
    assert_int_equal(b.len, sizeof(sr_pkt));
    assert_memory_equal(buf, sr_pkt, sizeof(sr_pkt));
}

/* Cumulative lost is 24-bit signed on the wire: extremes round-trip, beyond them it clamps. */
static void test_rr_round_trip(void **state)
{
    (void)state;
    const ovl_rtcp_rb_t in[3] = {
        {1, 0, -0x800000, 0xffffffff, 0, 0, 0},
        {2, 255, 0x7fffff, 0, 0xffffffff, 1, 2},
        {3, 1, 0x1000000, 5, 6, 7, 8},
    };
    uint8_t buf[256];
    ovl_wbuf_t b;
    ovl_rtcp_msg_t m;
    ovl_rtcp_rb_t rb;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_rr(&b, SENDER, in, 3), 0);
    assert_int_equal(b.len, 8 + 3 * 24);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.kind, OVL_RTCP_RR);
    assert_int_equal(m.u.rr.ssrc, SENDER);
    assert_int_equal(m.u.rr.blocks.count, 3);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(ovl_rtcp_rb_get(&m.u.rr.blocks, i, &rb), 0);
        assert_rb_equal(&rb, &in[i]);
    }
    assert_int_equal(ovl_rtcp_rb_get(&m.u.rr.blocks, 2, &rb), 0);
    assert_int_equal(rb.cumulative_lost, 0x7fffff);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_rr(&b, SENDER, in, 32), OVL_ERR_ARG);
    assert_int_equal(ovl_rtcp_build_rr(&b, SENDER, NULL, 0), 0);
    assert_int_equal(b.len, 8);
}

/* ---- SDES / BYE ---- */

static void test_sdes(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    ovl_rtcp_sdes_item_t item;
    ovl_rtcp_sdes_iter_t it;
    uint8_t buf[64];
    ovl_wbuf_t b;

    parse_one(sdes_pkt, sizeof(sdes_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_SDES);
    assert_int_equal(ovl_rtcp_sdes_cname(&m.u.sdes, &item), 0);
    assert_int_equal(item.ssrc, SENDER);
    assert_int_equal(item.len, 12);
    assert_memory_equal(item.text, "user@example", 12);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_sdes_cname(&b, SENDER, "user@example", 12), 0);
    assert_int_equal(b.len, sizeof(sdes_pkt));
    assert_memory_equal(buf, sdes_pkt, sizeof(sdes_pkt));

    parse_one(sdes2_pkt, sizeof(sdes2_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_SDES);
    ovl_rtcp_sdes_iter_init(&it, &m.u.sdes);
    static const struct {
        uint32_t ssrc;
        uint8_t type;
        const char *text;
    } want[] = {{0xaaaaaaaa, 1, "a"}, {0xaaaaaaaa, 2, "bob"}, {0xbbbbbbbb, 1, "cd"}};
    for (size_t i = 0; i < OVL_ARRAY_LEN(want); i++) {
        assert_int_equal(ovl_rtcp_sdes_next(&it, &item), 0);
        assert_int_equal(item.ssrc, want[i].ssrc);
        assert_int_equal(item.type, want[i].type);
        assert_int_equal(item.len, strlen(want[i].text));
        assert_memory_equal(item.text, want[i].text, item.len);
    }
    assert_int_equal(ovl_rtcp_sdes_next(&it, &item), OVL_ERR_NOTFOUND);

    /* a chunk whose item list has no null terminator is malformed */
    static const uint8_t unterminated[] = {0x81, 0xca, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 'h', 'i'};
    parse_one(unterminated, sizeof(unterminated), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    /* SC says 2 chunks, one present */
    uint8_t two[sizeof(sdes_pkt)];
    memcpy(two, sdes_pkt, sizeof(two));
    two[0] = 0x82;
    parse_one(two, sizeof(two), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_sdes_cname(&b, SENDER, "x", 0), OVL_ERR_ARG);
}

static void test_bye(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    uint8_t buf[64];
    ovl_wbuf_t b;
    const uint32_t ssrcs[] = {SENDER};
    parse_one(bye_pkt, sizeof(bye_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_BYE);
    assert_int_equal(m.u.bye.count, 1);
    assert_int_equal(ovl_rtcp_bye_ssrc(&m.u.bye, 0), SENDER);
    assert_int_equal(ovl_rtcp_bye_ssrc(&m.u.bye, 1), 0);
    assert_int_equal(m.u.bye.reason_len, 3);
    assert_memory_equal(m.u.bye.reason, "bye", 3);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_bye(&b, ssrcs, 1, "bye", 3), 0);
    assert_int_equal(b.len, sizeof(bye_pkt));
    assert_memory_equal(buf, bye_pkt, sizeof(bye_pkt));
    /* without a reason; and a reason length past the end */
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_bye(&b, ssrcs, 1, NULL, 0), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.kind, OVL_RTCP_BYE);
    assert_null(m.u.bye.reason);
    uint8_t bad[sizeof(bye_pkt)];
    memcpy(bad, bye_pkt, sizeof(bad));
    bad[8] = 4;
    parse_one(bad, sizeof(bad), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
}

/* ---- NACK / PLI / FIR / REMB ---- */

static void test_nack(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    uint16_t out[64], pid, blp;
    size_t n;
    uint8_t buf[64];
    ovl_wbuf_t b;

    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_nack(&b, SENDER, MEDIA, nack_lost, OVL_ARRAY_LEN(nack_lost)), 0);
    assert_int_equal(b.len, sizeof(nack_pkt));
    assert_memory_equal(buf, nack_pkt, sizeof(nack_pkt));

    parse_one(nack_pkt, sizeof(nack_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_NACK);
    assert_int_equal(m.u.nack.fb.sender_ssrc, SENDER);
    assert_int_equal(m.u.nack.fb.media_ssrc, MEDIA);
    assert_int_equal(m.u.nack.count, 3);
    assert_int_equal(ovl_rtcp_nack_get(&m.u.nack, 0, &pid, &blp), 0);
    assert_int_equal(pid, 100);
    assert_int_equal(blp, 0x8005);
    assert_int_equal(ovl_rtcp_nack_get(&m.u.nack, 3, &pid, &blp), OVL_ERR_ARG);
    assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, out, OVL_ARRAY_LEN(out), &n), 0);
    assert_int_equal(n, OVL_ARRAY_LEN(nack_lost));
    assert_memory_equal(out, nack_lost, sizeof(nack_lost));
    assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, out, 4, &n), OVL_ERR_LIMIT);
    assert_int_equal(n, 4);

    /* BLP across the wrap, all 16 bits, duplicates and out-of-order input */
    static const uint16_t wrap[] = {65534, 65535, 0, 1, 65535};
    static const uint16_t full[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26};
    static const uint16_t unordered[] = {50, 40, 41};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_nack(&b, SENDER, MEDIA, wrap, OVL_ARRAY_LEN(wrap)), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.nack.count, 1);
    assert_int_equal(ovl_rtcp_nack_get(&m.u.nack, 0, &pid, &blp), 0);
    assert_int_equal(pid, 65534);
    assert_int_equal(blp, 0x0007);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_nack(&b, SENDER, MEDIA, full, OVL_ARRAY_LEN(full)), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.nack.count, 1);
    assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, out, OVL_ARRAY_LEN(out), &n), 0);
    assert_int_equal(n, 17);
    assert_memory_equal(out, full, sizeof(full));
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_nack(&b, SENDER, MEDIA, unordered, 3), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, out, OVL_ARRAY_LEN(out), &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 50);
    assert_int_equal(out[1], 40);
    assert_int_equal(out[2], 41);
    assert_int_equal(ovl_rtcp_build_nack(&b, SENDER, MEDIA, full, 0), OVL_ERR_ARG);

    /* one pair is fine; a NACK without any PID/BLP pair is malformed */
    uint8_t bad[sizeof(pli_pkt) + 4];
    memcpy(bad, nack_pkt, 12);
    bad[3] = 3;
    memcpy(bad + 12, "\x00\x01\x00\x00", 4);
    parse_one(bad, 16, &m);
    assert_int_equal(m.kind, OVL_RTCP_NACK);
    bad[3] = 2;
    parse_one(bad, 12, &m); /* no FCI at all */
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
}

static void test_pli_fir(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    ovl_rtcp_fir_entry_t e;
    uint8_t buf[64];
    ovl_wbuf_t b;
    const ovl_rtcp_fir_entry_t entries[] = {{MEDIA, 7}, {0x01020304, 255}};

    parse_one(pli_pkt, sizeof(pli_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_PLI);
    assert_int_equal(m.u.pli.sender_ssrc, SENDER);
    assert_int_equal(m.u.pli.media_ssrc, MEDIA);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_pli(&b, SENDER, MEDIA), 0);
    assert_memory_equal(buf, pli_pkt, sizeof(pli_pkt));
    /* RFC 4585 §6.3.1: a PLI with an FCI is malformed */
    uint8_t long_pli[16];
    memcpy(long_pli, pli_pkt, 12);
    memset(long_pli + 12, 0, 4);
    long_pli[3] = 3;
    parse_one(long_pli, sizeof(long_pli), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);

    parse_one(fir_pkt, sizeof(fir_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_FIR);
    assert_int_equal(m.u.fir.fb.media_ssrc, 0);
    assert_int_equal(m.u.fir.count, 1);
    assert_int_equal(ovl_rtcp_fir_get(&m.u.fir, 0, &e), 0);
    assert_int_equal(e.ssrc, MEDIA);
    assert_int_equal(e.seq, 7);
    assert_int_equal(ovl_rtcp_fir_get(&m.u.fir, 1, &e), OVL_ERR_ARG);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_fir(&b, SENDER, entries, 1), 0);
    assert_memory_equal(buf, fir_pkt, sizeof(fir_pkt));
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_fir(&b, SENDER, entries, 2), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.fir.count, 2);
    assert_int_equal(ovl_rtcp_fir_get(&m.u.fir, 1, &e), 0);
    assert_int_equal(e.ssrc, 0x01020304);
    assert_int_equal(e.seq, 255);
}

static void test_remb(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    uint8_t buf[64];
    ovl_wbuf_t b;
    const uint32_t ssrcs[] = {MEDIA, 0xabcdef01};

    parse_one(remb_pkt, sizeof(remb_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_REMB);
    assert_int_equal(m.u.remb.exp, 2);
    assert_int_equal(m.u.remb.mantissa, 250000);
    assert_true(m.u.remb.bitrate == 1000000);
    assert_int_equal(m.u.remb.count, 1);
    assert_int_equal(ovl_rtcp_remb_ssrc(&m.u.remb, 0), MEDIA);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_remb(&b, SENDER, 1000000, ssrcs, 1), 0);
    assert_memory_equal(buf, remb_pkt, sizeof(remb_pkt));
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_remb(&b, SENDER, 123456789, ssrcs, 2), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.remb.count, 2);
    assert_int_equal(ovl_rtcp_remb_ssrc(&m.u.remb, 1), 0xabcdef01);
    assert_true(m.u.remb.bitrate <= 123456789 && m.u.remb.bitrate > 123456789 - (1u << m.u.remb.exp));

    /* Num SSRC larger than the packet: malformed. Other AFB (no "REMB"): unknown. */
    uint8_t bad[sizeof(remb_pkt)];
    memcpy(bad, remb_pkt, sizeof(bad));
    bad[16] = 2;
    parse_one(bad, sizeof(bad), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    memcpy(bad, remb_pkt, sizeof(bad));
    bad[15] = 'X';
    parse_one(bad, sizeof(bad), &m);
    assert_int_equal(m.kind, OVL_RTCP_UNKNOWN);
}

/* draft-alvestrand-rmcat-remb-03 §2.2: 6-bit exponent, 18-bit mantissa, at or below the rate. */
static void test_remb_exponent_edges(void **state)
{
    (void)state;
    static const struct {
        uint64_t bps;
        uint8_t exp;
        uint32_t mantissa;
    } cases[] = {
        {0, 0, 0},
        {1, 0, 1},
        {0x3ffff, 0, 0x3ffff},                 /* largest exact mantissa */
        {0x40000, 1, 0x20000},                 /* first value needing an exponent */
        {0x40001, 1, 0x20000},                 /* rounds down, never up */
        {1000000, 2, 250000},                  /* 1 Mbit/s */
        {UINT64_MAX, 46, 0x3ffff},             /* largest input */
        {0x3ffffull << 46, 46, 0x3ffff},       /* exact at the top */
        {(0x3ffffull << 46) - 1, 46, 0x3fffe}, /* just below */
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++) {
        uint8_t exp;
        uint32_t mantissa;
        ovl_rtcp_remb_encode(cases[i].bps, &exp, &mantissa);
        assert_int_equal(exp, cases[i].exp);
        assert_int_equal(mantissa, cases[i].mantissa);
        assert_true(ovl_rtcp_remb_decode(exp, mantissa) <= cases[i].bps);
    }
    assert_true(ovl_rtcp_remb_decode(46, 0x3ffff) == 0x3ffffull << 46);
    assert_true(ovl_rtcp_remb_decode(47, 0x3ffff) == UINT64_MAX); /* saturates */
    assert_true(ovl_rtcp_remb_decode(63, 1) == 1ull << 63);
    assert_true(ovl_rtcp_remb_decode(63, 2) == UINT64_MAX);
    assert_true(ovl_rtcp_remb_decode(63, 0) == 0);
}

/* ---- Compound framing ---- */

static size_t concat(uint8_t *out, const struct sample *s, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + len, s[i].p, s[i].len);
        len += s[i].len;
    }
    return len;
}

static void test_compound_walk(void **state)
{
    (void)state;
    static uint8_t buf[1024];
    size_t len = concat(buf, samples, OVL_ARRAY_LEN(samples));
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    size_t off = 0;
    ovl_rtcp_iter_init(&it, buf, len);
    for (size_t i = 0; i < OVL_ARRAY_LEN(samples); i++) {
        assert_int_equal(ovl_rtcp_next(&it, &m), 0);
        if (m.kind != samples[i].kind)
            fail_msg("packet %zu: got %s, want %s", i, ovl_rtcp_kind_name(m.kind), ovl_rtcp_kind_name(samples[i].kind));
        assert_int_equal(m.off, off);
        assert_ptr_equal(m.raw, buf + off);
        assert_int_equal(m.raw_len, samples[i].len);
        off += samples[i].len;
    }
    assert_int_equal(m.body_len, 4); /* the padded RR: 4 octets of padding removed */
    assert_int_equal(m.u.rr.ssrc, SENDER);
    assert_int_equal(ovl_rtcp_next(&it, &m), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_rtcp_next(&it, &m), OVL_ERR_NOTFOUND);
    assert_int_equal(it.err, OVL_ERR_NOTFOUND);
    assert_string_equal(ovl_rtcp_kind_name(OVL_RTCP_TWCC), "twcc");
    assert_string_equal(ovl_rtcp_kind_name((ovl_rtcp_kind_t)99), "unknown");
}

/* A packet whose body does not parse is reported MALFORMED and the walk goes on. */
static void test_compound_malformed_member(void **state)
{
    (void)state;
    uint8_t buf[128];
    memcpy(buf, sr_pkt, sizeof(sr_pkt));
    buf[0] = 0x82; /* RC 2: the length holds only one block */
    memcpy(buf + sizeof(sr_pkt), pli_pkt, sizeof(pli_pkt));
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_iter_init(&it, buf, sizeof(sr_pkt) + sizeof(pli_pkt));
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    assert_int_equal(m.pt, OVL_RTCP_PT_SR);
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_PLI);
    assert_int_equal(ovl_rtcp_next(&it, &m), OVL_ERR_NOTFOUND);
}

static int walk(const uint8_t *p, size_t len, size_t *count)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    int ret;
    *count = 0;
    ovl_rtcp_iter_init(&it, p, len);
    while ((ret = ovl_rtcp_next(&it, &m)) == 0)
        (*count)++;
    assert_int_equal(ovl_rtcp_next(&it, &m), ret); /* the end, or the error, sticks */
    return ret;
}

/* RFC 3550 §6.4.1 length and App. A.2 checks on the compound. */
static void test_compound_framing_errors(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n;
    assert_int_equal(walk(NULL, 0, &n), OVL_ERR_PARSE);
    assert_int_equal(walk(pli_pkt, 0, &n), OVL_ERR_PARSE);
    /* length one word too long */
    memcpy(buf, pli_pkt, sizeof(pli_pkt));
    buf[3] = 3;
    assert_int_equal(walk(buf, sizeof(pli_pkt), &n), OVL_ERR_PARSE);
    assert_int_equal(n, 0);
    /* version 1, 0 and 3 */
    for (uint8_t v = 0; v < 4; v++) {
        memcpy(buf, pli_pkt, sizeof(pli_pkt));
        buf[0] = (uint8_t)(v << 6 | (buf[0] & 0x3f));
        assert_int_equal(walk(buf, sizeof(pli_pkt), &n), v == 2 ? OVL_ERR_NOTFOUND : OVL_ERR_PARSE);
    }
    /* two stray bytes after a good packet: the good one is delivered, then the error */
    memcpy(buf, pli_pkt, sizeof(pli_pkt));
    buf[12] = 0x80;
    buf[13] = 0xc9;
    assert_int_equal(walk(buf, 14, &n), OVL_ERR_PARSE);
    assert_int_equal(n, 1);
    /* padding count 0, and padding larger than the body */
    memcpy(buf, rr_padded_pkt, sizeof(rr_padded_pkt));
    buf[11] = 0;
    assert_int_equal(walk(buf, sizeof(rr_padded_pkt), &n), OVL_ERR_PARSE);
    buf[11] = 9;
    assert_int_equal(walk(buf, sizeof(rr_padded_pkt), &n), OVL_ERR_PARSE);
    buf[11] = 8; /* the whole body is padding: the RR lacks its SSRC */
    assert_int_equal(walk(buf, sizeof(rr_padded_pkt), &n), OVL_ERR_NOTFOUND);
    /* padding on a packet that is not last: accepted when it fits (libwebrtc pads each
     * transport-cc feedback with P=1 and sends several in one compound) */
    memcpy(buf, rr_padded_pkt, sizeof(rr_padded_pkt));
    memcpy(buf + sizeof(rr_padded_pkt), pli_pkt, sizeof(pli_pkt));
    assert_int_equal(walk(buf, sizeof(rr_padded_pkt) + sizeof(pli_pkt), &n), OVL_ERR_NOTFOUND);
    assert_int_equal(n, 2);
}

/* Every prefix of a compound of every kind: packets before the cut come out whole, then the
 * walk ends cleanly (exact-size heap copies, so ASan sees any read past the end). */
static void test_compound_every_prefix(void **state)
{
    (void)state;
    static uint8_t buf[1024];
    size_t len = concat(buf, samples, OVL_ARRAY_LEN(samples));
    size_t boundaries[OVL_ARRAY_LEN(samples) + 1] = {0};
    for (size_t i = 0; i < OVL_ARRAY_LEN(samples); i++)
        boundaries[i + 1] = boundaries[i] + samples[i].len;
    size_t b = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        uint8_t *d = dup_exact(buf, cut);
        size_t n;
        int ret = walk(d, cut, &n);
        while (b + 1 <= OVL_ARRAY_LEN(samples) && boundaries[b + 1] <= cut)
            b++;
        assert_int_equal(n, b);
        assert_int_equal(ret, (cut > 0 && cut == boundaries[b]) ? OVL_ERR_NOTFOUND : OVL_ERR_PARSE);
        free(d);
    }
}

/* Reads everything a message offers (ASan checks the reads). */
static void touch_all(const ovl_rtcp_msg_t *m)
{
    ovl_rtcp_rb_t rb;
    ovl_rtcp_sdes_iter_t it;
    ovl_rtcp_sdes_item_t item;
    ovl_rtcp_fir_entry_t e;
    static ovl_rtcp_twcc_status_t st[300];
    uint16_t lost[300];
    size_t n;
    volatile uint32_t sink = 0;
    switch (m->kind) {
    case OVL_RTCP_SR:
        for (size_t i = 0; i < m->u.sr.blocks.count; i++)
            assert_int_equal(ovl_rtcp_rb_get(&m->u.sr.blocks, i, &rb), 0);
        break;
    case OVL_RTCP_RR:
        for (size_t i = 0; i < m->u.rr.blocks.count; i++)
            assert_int_equal(ovl_rtcp_rb_get(&m->u.rr.blocks, i, &rb), 0);
        break;
    case OVL_RTCP_SDES:
        ovl_rtcp_sdes_iter_init(&it, &m->u.sdes);
        while (ovl_rtcp_sdes_next(&it, &item) == 0)
            for (size_t i = 0; i < item.len; i++)
                sink += item.text[i];
        assert_int_equal(it.err, 0);
        break;
    case OVL_RTCP_BYE:
        for (size_t i = 0; i < m->u.bye.count; i++)
            sink += ovl_rtcp_bye_ssrc(&m->u.bye, i);
        for (size_t i = 0; i < m->u.bye.reason_len; i++)
            sink += m->u.bye.reason[i];
        break;
    case OVL_RTCP_NACK:
        assert_int_equal(ovl_rtcp_nack_expand(&m->u.nack, lost, OVL_ARRAY_LEN(lost), &n), 0);
        break;
    case OVL_RTCP_FIR:
        for (size_t i = 0; i < m->u.fir.count; i++)
            assert_int_equal(ovl_rtcp_fir_get(&m->u.fir, i, &e), 0);
        break;
    case OVL_RTCP_REMB:
        for (size_t i = 0; i < m->u.remb.count; i++)
            sink += ovl_rtcp_remb_ssrc(&m->u.remb, i);
        break;
    case OVL_RTCP_TWCC:
        assert_int_equal(ovl_rtcp_twcc_decode_array(&m->u.twcc, st, OVL_ARRAY_LEN(st), &n), 0);
        break;
    default:
        break;
    }
    (void)sink;
}

/* Every sample with its body cut to each shorter whole number of words, the length field
 * adjusted: the kind is kept (and every accessor works) or the packet is MALFORMED. */
static void test_truncated_bodies(void **state)
{
    (void)state;
    for (size_t s = 0; s < OVL_ARRAY_LEN(samples); s++) {
        if (samples[s].p[0] & 0x20)
            continue; /* padded: cutting moves the padding count */
        for (size_t len = 4; len <= samples[s].len; len += 4) {
            uint8_t *d = dup_exact(samples[s].p, len);
            ovl_rtcp_msg_t m;
            ovl_store_u16(d + 2, (uint16_t)(len / 4 - 1));
            parse_one(d, len, &m);
            bool ok = m.kind == samples[s].kind || m.kind == OVL_RTCP_MALFORMED ||
                      (samples[s].kind == OVL_RTCP_REMB && m.kind == OVL_RTCP_UNKNOWN);
            if (!ok)
                fail_msg("sample %zu cut to %zu: %s", s, len, ovl_rtcp_kind_name(m.kind));
            if (len == samples[s].len)
                assert_int_equal(m.kind, samples[s].kind);
            touch_all(&m);
            free(d);
        }
    }
}

/* ---- Rewrites ---- */

static void test_rewrites(void **state)
{
    (void)state;
    const struct sample set[] = {
        {sr_pkt, sizeof(sr_pkt), OVL_RTCP_SR},
        {sdes_pkt, sizeof(sdes_pkt), OVL_RTCP_SDES},
        {nack_pkt, sizeof(nack_pkt), OVL_RTCP_NACK},
        {pli_pkt, sizeof(pli_pkt), OVL_RTCP_PLI},
        {fir_pkt, sizeof(fir_pkt), OVL_RTCP_FIR},
        {remb_pkt, sizeof(remb_pkt), OVL_RTCP_REMB},
        {tmmbr_pkt, sizeof(tmmbr_pkt), OVL_RTCP_UNKNOWN},
    };
    uint8_t buf[256], other[256];
    size_t len = concat(buf, set, OVL_ARRAY_LEN(set));
    memcpy(other, buf, len);
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_iter_init(&it, buf, len);
    while (ovl_rtcp_next(&it, &m) == 0) {
        assert_int_equal(ovl_rtcp_set_sender_ssrc(&m, other, 1), OVL_ERR_ARG);
        switch (m.kind) {
        case OVL_RTCP_SR:
            assert_int_equal(ovl_rtcp_set_sender_ssrc(&m, buf, 0xa1), 0);
            assert_int_equal(m.u.sr.ssrc, 0xa1);
            assert_int_equal(ovl_rtcp_set_media_ssrc(&m, buf, 1), OVL_ERR_ARG);
            break;
        case OVL_RTCP_SDES:
            assert_int_equal(ovl_rtcp_set_sender_ssrc(&m, buf, 1), OVL_ERR_ARG);
            break;
        case OVL_RTCP_NACK:
        case OVL_RTCP_PLI:
            assert_int_equal(ovl_rtcp_set_media_ssrc(&m, buf, 0xb2), 0);
            assert_int_equal(ovl_rtcp_set_sender_ssrc(&m, buf, 0xa1), 0);
            break;
        case OVL_RTCP_FIR:
        case OVL_RTCP_REMB:
            assert_int_equal(ovl_rtcp_set_fci_ssrc(&m, buf, 0, 0xc3), 0);
            assert_int_equal(ovl_rtcp_set_fci_ssrc(&m, buf, 1, 0xc3), OVL_ERR_ARG);
            break;
        default:
            assert_int_equal(ovl_rtcp_set_media_ssrc(&m, buf, 0xb2), 0); /* any RTPFB/PSFB */
            assert_int_equal(ovl_rtcp_set_fci_ssrc(&m, buf, 0, 1), OVL_ERR_ARG);
            break;
        }
    }
    ovl_rtcp_iter_init(&it, buf, len);
    ovl_rtcp_fir_entry_t e;
    uint16_t lost[32];
    size_t n;
    while (ovl_rtcp_next(&it, &m) == 0) {
        switch (m.kind) {
        case OVL_RTCP_SR:
            assert_int_equal(m.u.sr.ssrc, 0xa1);
            assert_int_equal(m.u.sr.blocks.count, 1);
            break;
        case OVL_RTCP_NACK:
            assert_int_equal(m.u.nack.fb.sender_ssrc, 0xa1);
            assert_int_equal(m.u.nack.fb.media_ssrc, 0xb2);
            assert_int_equal(ovl_rtcp_nack_expand(&m.u.nack, lost, 32, &n), 0);
            assert_memory_equal(lost, nack_lost, sizeof(nack_lost));
            break;
        case OVL_RTCP_PLI:
            assert_int_equal(m.u.pli.media_ssrc, 0xb2);
            break;
        case OVL_RTCP_FIR:
            assert_int_equal(ovl_rtcp_fir_get(&m.u.fir, 0, &e), 0);
            assert_int_equal(e.ssrc, 0xc3);
            assert_int_equal(e.seq, 7);
            break;
        case OVL_RTCP_REMB:
            assert_int_equal(ovl_rtcp_remb_ssrc(&m.u.remb, 0), 0xc3);
            assert_true(m.u.remb.bitrate == 1000000);
            break;
        case OVL_RTCP_UNKNOWN:
            assert_int_equal(ovl_load_u32(m.raw + 8), 0xb2);
            break;
        default:
            break;
        }
    }
}

/* ---- Building compounds ---- */

static void test_build_report(void **state)
{
    (void)state;
    static ovl_rtcp_rb_t rbs[40];
    static uint8_t buf[2048];
    ovl_wbuf_t b;
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_sdes_item_t item;
    ovl_rtcp_rb_t rb;
    for (size_t i = 0; i < OVL_ARRAY_LEN(rbs); i++)
        rbs[i] = (ovl_rtcp_rb_t){(uint32_t)(1000 + i), (uint8_t)i, (int32_t)i - 20, (uint32_t)i, 1, 2, 3};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_report(&b, SENDER, &sr_info, rbs, 40, "relay", 5), 0);
    assert_int_equal(ovl_rtcp_build_pli(&b, SENDER, MEDIA), 0);
    ovl_rtcp_iter_init(&it, buf, b.len);
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_SR);
    assert_int_equal(m.u.sr.blocks.count, 31);
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_RR);
    assert_int_equal(m.u.rr.blocks.count, 9);
    assert_int_equal(ovl_rtcp_rb_get(&m.u.rr.blocks, 8, &rb), 0);
    assert_rb_equal(&rb, &rbs[39]);
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_SDES);
    assert_int_equal(ovl_rtcp_sdes_cname(&m.u.sdes, &item), 0);
    assert_memory_equal(item.text, "relay", 5);
    assert_int_equal(ovl_rtcp_next(&it, &m), 0);
    assert_int_equal(m.kind, OVL_RTCP_PLI);
    assert_int_equal(ovl_rtcp_next(&it, &m), OVL_ERR_NOTFOUND);

    /* receiver-only: RR first; no room: nothing written */
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_report(&b, SENDER, NULL, NULL, 0, "relay", 5), 0);
    assert_int_equal(b.len, 8 + 16);
    assert_int_equal(buf[1], OVL_RTCP_PT_RR);
    ovl_wbuf_init(&b, buf, 8 + 31 * 24 + 8 + 9 * 24 + 8);
    assert_int_equal(ovl_rtcp_build_report(&b, SENDER, NULL, rbs, 40, "relay", 5), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 0);
    assert_int_equal(ovl_rtcp_build_report(&b, SENDER, NULL, rbs, 40, "", 0), OVL_ERR_ARG);
    ovl_wbuf_init(&b, buf, 11);
    assert_int_equal(ovl_rtcp_build_pli(&b, SENDER, MEDIA), OVL_ERR_LIMIT);
    assert_int_equal(ovl_rtcp_build_remb(&b, SENDER, 1, NULL, 0), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 0);
}

/* ---- NTP and round-trip time ---- */

static void test_ntp(void **state)
{
    (void)state;
    assert_true(ovl_rtcp_ntp_from_unix_us(0) == (uint64_t)2208988800u << 32);
    assert_true(ovl_rtcp_ntp_from_unix_us(1500000) == ((uint64_t)2208988801u << 32 | 0x80000000u));
    static const uint64_t times[] = {
        0,
        1,
        999999,
        1700000000123456ull,
        2085978495999999ull, /* the last µs of NTP era 0 (2036-02-07 06:28:15) */
        2085978496000000ull, /* era 1: the 32-bit seconds wrap to 0 */
        2100000000654321ull,
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(times); i++)
        assert_true(ovl_rtcp_ntp_to_unix_us(ovl_rtcp_ntp_from_unix_us(times[i])) == times[i]);
    assert_true(ovl_rtcp_ntp_from_unix_us(2085978496000000ull) >> 32 == 0);
    /* RFC 3550 §6.4.1 example: ntp_sec 0xb44db705, ntp_frac 0x20000000 gives LSR 0xb705:2000 */
    assert_int_equal(ovl_rtcp_ntp_mid32(0xb44db70520000000ull), 0xb7052000);
    assert_int_equal(ovl_rtcp_dlsr_from_us(5250000), 0x00054000); /* 5.25 s */
    assert_int_equal(ovl_rtcp_dlsr_from_us(UINT64_MAX / 2), UINT32_MAX);
}

/* RFC 3550 §6.4.1: A 0xb710:8000 - LSR 0xb705:2000 - DLSR 0x0005:4000 = 0x0006:2000 (6.125 s). */
static void test_rtt(void **state)
{
    (void)state;
    ovl_rtcp_rb_t rb = {.lsr = 0xb7052000, .dlsr = 0x00054000};
    uint64_t rtt = 1;
    assert_int_equal(ovl_rtcp_rtt_us(&rb, 0xb7108000, &rtt), 0);
    assert_true(rtt == 6125000);
    assert_int_equal(ovl_rtcp_rtt_us(&rb, 0xb7052000 + 0x00054000 - 1, &rtt), 0); /* clock granularity */
    assert_true(rtt == 0);
    rb.lsr = 0; /* no SR received yet */
    assert_int_equal(ovl_rtcp_rtt_us(&rb, 0xb7108000, &rtt), OVL_ERR_NOTFOUND);
    /* across the 16.16 wrap */
    rb.lsr = 0xffff8000;
    rb.dlsr = 0x00008000;
    assert_int_equal(ovl_rtcp_rtt_us(&rb, 0x00004000, &rtt), 0);
    assert_true(rtt == 250000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr_parse_build),
        cmocka_unit_test(test_rr_round_trip),
        cmocka_unit_test(test_sdes),
        cmocka_unit_test(test_bye),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_pli_fir),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_remb_exponent_edges),
        cmocka_unit_test(test_compound_walk),
        cmocka_unit_test(test_compound_malformed_member),
        cmocka_unit_test(test_compound_framing_errors),
        cmocka_unit_test(test_compound_every_prefix),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_rewrites),
        cmocka_unit_test(test_build_report),
        cmocka_unit_test(test_ntp),
        cmocka_unit_test(test_rtt),
    };
    return cmocka_run_group_tests_name("rtcp (RFC 3550 §6, RFC 4585, RFC 5104, REMB, transport-cc)", tests, NULL, NULL);
}
