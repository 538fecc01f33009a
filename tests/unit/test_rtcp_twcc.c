/*
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * §3.1): the draft's chunk examples (§3.1.3, §3.1.4) bit for bit, malformed feedback, the
 * builder's bytes and chunk choices, and randomized build -> parse -> decode round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/rtcp.h"

#define SENDER 0x11223344u
#define MEDIA  0x55667788u

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

/* Parses a buffer holding exactly one RTCP packet. */
static void parse_one(const uint8_t *p, size_t len, ovl_rtcp_msg_t *m)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_iter_init(&it, p, len);
    assert_int_equal(ovl_rtcp_next(&it, m), 0);
    ovl_rtcp_msg_t end;
    assert_int_equal(ovl_rtcp_next(&it, &end), OVL_ERR_NOTFOUND);
}

static void decode_all(const ovl_rtcp_twcc_t *t, ovl_rtcp_twcc_status_t *out, size_t cap, size_t want)
{
    size_t n;
    assert_int_equal(ovl_rtcp_twcc_decode_array(t, out, cap, &n), 0);
    assert_int_equal(n, want);
}

/* §3.1.4 Example 1: a 1-bit status vector. */
static void test_twcc_draft_vector_1bit(void **state)
{
    (void)state;
    static const uint8_t want_sym[14] = {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
    ovl_rtcp_msg_t m;
    ovl_rtcp_twcc_status_t st[16];
    parse_one(twcc_a_pkt, sizeof(twcc_a_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_TWCC);
    assert_int_equal(m.u.twcc.base_seq, 1000);
    assert_int_equal(m.u.twcc.status_count, 14);
    assert_int_equal(m.u.twcc.ref_time, 1);
    assert_int_equal(m.u.twcc.fb_count, 5);
    assert_int_equal(m.u.twcc.chunks_len, 2);
    assert_int_equal(m.u.twcc.deltas_len, 8);
    decode_all(&m.u.twcc, st, OVL_ARRAY_LEN(st), 14);
    int64_t t = 64000, k = 1;
    for (size_t i = 0; i < 14; i++) {
        assert_int_equal(st[i].seq, 1000 + i);
        assert_int_equal(st[i].symbol, want_sym[i]);
        assert_int_equal(st[i].received, want_sym[i] == 1);
        assert_int_equal(st[i].has_time, want_sym[i] == 1);
        if (want_sym[i]) {
            t += 250 * k;
            assert_int_equal(st[i].delta, k);
            assert_true(st[i].arrival_us == t);
            k++;
        }
    }
    size_t n;
    assert_int_equal(ovl_rtcp_twcc_decode_array(&m.u.twcc, st, 3, &n), OVL_ERR_LIMIT);
    assert_int_equal(n, 3);
}

/* §3.1.4 Example 2 (2-bit vector) and §3.1.3 Examples 1 and 2 (run lengths), negative ref time. */
static void test_twcc_draft_vector_2bit_and_runs(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    static ovl_rtcp_twcc_status_t st[300];
    parse_one(twcc_b_pkt, sizeof(twcc_b_pkt), &m);
    assert_int_equal(m.kind, OVL_RTCP_TWCC);
    assert_int_equal(m.u.twcc.status_count, 252);
    assert_int_equal(m.u.twcc.ref_time, -1);
    assert_int_equal(m.u.twcc.chunks_len, 6);
    assert_int_equal(m.u.twcc.deltas_len, 3);
    decode_all(&m.u.twcc, st, OVL_ARRAY_LEN(st), 252);
    static const uint8_t head[7] = {OVL_TWCC_NOT_RECEIVED, OVL_TWCC_NO_DELTA,    OVL_TWCC_SMALL_DELTA,
                                    OVL_TWCC_SMALL_DELTA,  OVL_TWCC_SMALL_DELTA, OVL_TWCC_NOT_RECEIVED,
                                    OVL_TWCC_NOT_RECEIVED};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(st[i].symbol, head[i]);
    assert_true(st[1].received && !st[1].has_time);
    assert_true(st[2].arrival_us == -64000 + 16 * 250);
    assert_true(st[3].arrival_us == -64000 + 48 * 250);
    assert_true(st[4].arrival_us == -64000 + 96 * 250);
    for (size_t i = 7; i < 7 + 221; i++)
        assert_int_equal(st[i].symbol, OVL_TWCC_NOT_RECEIVED);
    for (size_t i = 228; i < 252; i++) {
        assert_int_equal(st[i].symbol, OVL_TWCC_NO_DELTA);
        assert_true(st[i].received);
    }
    assert_int_equal(st[251].seq, 10 + 251);
}

/* Chunks that run out before the status count, or deltas missing: malformed. */
static void test_twcc_malformed(void **state)
{
    (void)state;
    ovl_rtcp_msg_t m;
    uint8_t p[sizeof(twcc_a_pkt)];
    memcpy(p, twcc_a_pkt, sizeof(p));
    memset(p + 22, 0x80, 10); /* five more 1-bit vector chunks (0x8080: one received each) */
    p[15] = 84;               /* 84 packets need six chunks after the first: the packet ends first */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    p[15] = 70; /* four more chunks fit, then 12 deltas are needed and 2 bytes are left */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    p[15] = 21; /* one more chunk, its 7th symbol received: 9 deltas needed, 8 bytes left */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    p[15] = 20; /* the last chunk covers only 6 of its 14 symbols: 8 deltas, 8 bytes */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_TWCC);
    assert_int_equal(m.u.twcc.chunks_len, 4);
    assert_int_equal(m.u.twcc.deltas_len, 8);
    memcpy(p, twcc_a_pkt, sizeof(p));
    p[3] = 5; /* cut to 24 bytes: 8 deltas needed, 2 present */
    parse_one(p, 24, &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
    memcpy(p, twcc_a_pkt, sizeof(p));
    p[21] = 0x1f; /* 1-bit vector 0,1,1,1,1,1,0,0,0,1,1,1,1,1: 10 deltas, 8 bytes + 2 padding: ok */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_TWCC);
    p[21] = 0xff; /* 13 received: 13 deltas, only 10 bytes */
    parse_one(p, sizeof(p), &m);
    assert_int_equal(m.kind, OVL_RTCP_MALFORMED);
}

/* Built by hand: seq 100 at 1.000000 s, 101 at 1.001 s, 102 lost, 103 at 1.0025 s. Reference
 * time 15 (960 ms), deltas 160, 4, 6 ticks; a 1-bit vector |1|0|1 1 0 1 0...| = 0xb400. */
static void test_twcc_build_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {0x8f, 0xcd, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x64,
                                   0x00, 0x04, 0x00, 0x00, 0x0f, 0x01, 0xb4, 0x00, 0xa0, 0x04, 0x06, 0x00, 0x00, 0x00};
    const ovl_rtcp_twcc_arrival_t in[] = {{100, true, 1000000}, {101, true, 1001000}, {103, true, 1002500}};
    uint8_t buf[64];
    ovl_wbuf_t b;
    size_t used;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 1, in, 3, &used), 0);
    assert_int_equal(used, 3);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

/* Large and negative deltas force a 2-bit vector: |1|1|01 10 10 01 00 00 00| = 0xda40. */
static void test_twcc_build_large_deltas(void **state)
{
    (void)state;
    const ovl_rtcp_twcc_arrival_t in[] = {
        {0, true, 1000000}, {1, true, 1100000}, {2, true, 1099000}, {3, true, 1099250}};
    static const uint8_t want_fci[] = {0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x0f, 0x00, 0xda,
                                       0x40, 0xa0, 0x01, 0x90, 0xff, 0xfc, 0x01}; /* 28 bytes in all: no padding */
    uint8_t buf[64];
    ovl_wbuf_t b;
    size_t used;
    ovl_rtcp_msg_t m;
    ovl_rtcp_twcc_status_t st[4];
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, in, 4, &used), 0);
    assert_int_equal(b.len, 12 + sizeof(want_fci));
    assert_memory_equal(buf + 12, want_fci, sizeof(want_fci));
    parse_one(buf, b.len, &m);
    decode_all(&m.u.twcc, st, 4, 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(st[i].arrival_us == (int64_t)in[i].arrival_us);
    assert_int_equal(st[1].symbol, OVL_TWCC_LARGE_DELTA);
    assert_int_equal(st[2].delta, -4);

    /* a gap beyond int16 ticks (8191.75 ms) ends the feedback after the first packet */
    const ovl_rtcp_twcc_arrival_t far[] = {{0, true, 1000000}, {1, true, 1000000 + 9000000}};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, far, 2, &used), 0);
    assert_int_equal(used, 1);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.twcc.status_count, 1);

    /* input order is checked */
    const ovl_rtcp_twcc_arrival_t unordered[] = {{5, true, 0}, {5, true, 0}};
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, unordered, 2, &used), OVL_ERR_ARG);
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, unordered, 0, &used), OVL_ERR_ARG);
}

/* Deterministic pseudo-random feedbacks: build, parse, decode; everything comes back. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_twcc_round_trip_random(void **state)
{
    (void)state;
    static ovl_rtcp_twcc_arrival_t in[400];
    static ovl_rtcp_twcc_status_t st[16384];
    static uint8_t buf[16384];
    uint32_t seed = 12345;
    size_t chunk_kinds[3] = {0};
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + lcg(&seed) % OVL_ARRAY_LEN(in);
        uint16_t seq = (uint16_t)lcg(&seed);
        ovl_time_t t = OVL_SEC(1000) + lcg(&seed) % 1000000;
        int loss_pct = (int)(lcg(&seed) % 60);
        for (size_t i = 0; i < n; i++) {
            in[i].seq = seq;
            in[i].received = (int)(lcg(&seed) % 100) >= loss_pct;
            uint32_t r = lcg(&seed) % 100;
            /* mostly small steps, some long gaps, some reordering, a rare huge gap */
            int64_t step = r < 80   ? (int64_t)(lcg(&seed) % 20000)
                           : r < 95 ? 70000 + (int64_t)(lcg(&seed) % 100000)
                           : r < 99 ? -(int64_t)(lcg(&seed) % 5000)
                                    : 9000000;
            t = (ovl_time_t)((int64_t)t + step);
            in[i].arrival_us = t;
            seq = (uint16_t)(seq + 1 + (lcg(&seed) % 8 == 0 ? lcg(&seed) % 30 : 0));
        }
        size_t at = 0;
        uint8_t fb_count = 0;
        while (at < n) {
            ovl_wbuf_t b;
            size_t used, got;
            ovl_rtcp_msg_t m;
            ovl_wbuf_init(&b, buf, sizeof(buf));
            assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, fb_count, in + at, n - at, &used), 0);
            assert_true(used >= 1 && used <= n - at);
            assert_int_equal(b.len % 4, 0);
            parse_one(buf, b.len, &m);
            assert_int_equal(m.kind, OVL_RTCP_TWCC);
            assert_int_equal(m.u.twcc.fb_count, fb_count);
            assert_int_equal(m.u.twcc.base_seq, in[at].seq);
            for (size_t c = 0; c + 1 < m.u.twcc.chunks_len; c += 2) {
                uint16_t chunk = ovl_load_u16(m.u.twcc.chunks + c);
                chunk_kinds[!(chunk & 0x8000) ? 0 : (chunk & 0x4000) ? 2 : 1]++;
            }
            assert_int_equal(ovl_rtcp_twcc_decode_array(&m.u.twcc, st, OVL_ARRAY_LEN(st), &got), 0);
            assert_int_equal(got, m.u.twcc.status_count);
            size_t k = at;
            for (size_t i = 0; i < got; i++) {
                bool listed = k < at + used && in[k].seq == st[i].seq;
                bool received = listed && in[k].received;
                assert_int_equal(st[i].received, received);
                assert_int_equal(st[i].has_time, received);
                if (received)
                    assert_true(st[i].arrival_us == (int64_t)(in[k].arrival_us / 250 * 250));
                if (listed)
                    k++;
            }
            assert_int_equal(k, at + used);
            at += used;
            fb_count++;
        }
    }
    /* every chunk kind was chosen somewhere */
    assert_true(chunk_kinds[0] > 0 && chunk_kinds[1] > 0 && chunk_kinds[2] > 0);
}

/* A long loss run becomes one run length chunk; an all-received stretch one too. */
static void test_twcc_chunk_choice(void **state)
{
    (void)state;
    const ovl_rtcp_twcc_arrival_t gap[] = {{0, true, 1000000}, {500, true, 1100000}};
    ovl_rtcp_twcc_arrival_t all[40];
    uint8_t buf[256];
    ovl_wbuf_t b;
    size_t used;
    ovl_rtcp_msg_t m;
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, gap, 2, &used), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.twcc.status_count, 501);
    assert_int_equal(m.u.twcc.chunks_len, 6); /* 1-bit vector (1 + 13 lost), run of 486 lost, run of 1 */
    assert_int_equal(ovl_load_u16(m.u.twcc.chunks), 0xa000);
    assert_int_equal(ovl_load_u16(m.u.twcc.chunks + 2), 486);
    assert_int_equal(ovl_load_u16(m.u.twcc.chunks + 4), 0x4001); /* large delta: 400 ticks */
    for (size_t i = 0; i < OVL_ARRAY_LEN(all); i++)
        all[i] = (ovl_rtcp_twcc_arrival_t){(uint16_t)(65530 + i), true, 5000000 + i * 1000};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_rtcp_build_twcc(&b, SENDER, MEDIA, 0, all, 40, &used), 0);
    parse_one(buf, b.len, &m);
    assert_int_equal(m.u.twcc.chunks_len, 2);
    assert_int_equal(ovl_load_u16(m.u.twcc.chunks), 0x2000 | 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twcc_draft_vector_1bit),  cmocka_unit_test(test_twcc_draft_vector_2bit_and_runs),
        cmocka_unit_test(test_twcc_malformed),          cmocka_unit_test(test_twcc_build_bytes),
        cmocka_unit_test(test_twcc_build_large_deltas), cmocka_unit_test(test_twcc_round_trip_random),
        cmocka_unit_test(test_twcc_chunk_choice),
    };
    return cmocka_run_group_tests_name("rtcp_twcc (transport-wide cc feedback)", tests, NULL, NULL);
}
