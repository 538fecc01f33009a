/*
 * The routing layer's small parts on their own: the RFC 8285 extension block writer and the
 * per-participant id mapping from a real answer, the SSRC map, the retransmission buffer and the
 * transport-cc arrival recorder (its feedback decoded back with relay/proto/rtcp.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"
#include "relay/route/ext.h"
#include "relay/route/rtx_buffer.h"
#include "relay/route/ssrc_map.h"
#include "relay/route/twcc.h"
#include "tests/unit/test_route_util.h"

/* RFC 8285 §4.2 one-byte form: ids from Chromium's answer, elements in order, zero padding to 32 bits. */
static void test_ext_block_one_byte(void **state)
{
    (void)state;
    size_t len;
    char *text = route_load("chromium-offer-av-screen.sdp", &len);
    ovl_sdp_t *offer = NULL, *answer = NULL;
    ovl_sdp_local_t local;
    ovl_sdp_candidate_t cand;
    relay_local_params(&local, &cand);
    assert_int_equal(ovl_sdp_parse(text, len, &offer, NULL), 0);
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &answer), 0);
    ovl_route_caps_t audio, video;
    ovl_route_caps_from_sdp(&audio, answer, OVL_SDP_KIND_AUDIO);
    ovl_route_caps_from_sdp(&video, answer, OVL_SDP_KIND_VIDEO);
    assert_true(audio.ok && video.ok);
    assert_int_equal(audio.pt, 111);
    assert_int_equal(audio.clock, 48000);
    assert_false(audio.has_rtx);
    assert_true(audio.twcc && !audio.nack);
    assert_int_equal(video.pt, 96);
    assert_true(video.has_rtx);
    assert_int_equal(video.rtx_pt, 97);
    assert_true(video.nack && video.pli && video.fir && video.remb && video.twcc);
    assert_int_equal(audio.id[OVL_ROUTE_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(audio.id[OVL_ROUTE_EXT_MID], 4);
    assert_int_equal(video.id[OVL_ROUTE_EXT_AUDIO_LEVEL], 0);
    assert_int_equal(video.id[OVL_ROUTE_EXT_TOFFSET], 0); /* offered (14) but not taken by the relay */
    assert_int_equal(video.ext_of[3], OVL_ROUTE_EXT_TRANSPORT_CC + 1);

    const uint8_t lvl = 0x2a, ast[3] = {1, 2, 3};
    ovl_route_ext_val_t vals[] = {
        {OVL_ROUTE_EXT_AUDIO_LEVEL, 1, &lvl},
        {OVL_ROUTE_EXT_VIDEO_ORIENTATION, 1, &lvl}, /* not negotiated: left out */
        {OVL_ROUTE_EXT_ABS_SEND_TIME, 3, ast},
        {OVL_ROUTE_EXT_MID, 1, (const uint8_t *)"3"},
    };
    uint8_t out[64];
    static const uint8_t want[] = {0xbe, 0xde, 0x00, 0x02, 0x10, 0x2a, 0x22, 0x01, 0x02, 0x03, 0x40, '3'};
    assert_int_equal(ovl_route_ext_write_block(&audio, vals, 4, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    /* the block parses back as the packet's extension */
    uint8_t pkt[64] = {0x90, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9};
    memcpy(pkt + 12, out, sizeof(want));
    ovl_rtp_t r;
    ovl_rtp_ext_elem_t e;
    assert_int_equal(ovl_rtp_parse(&r, pkt, 12 + sizeof(want) + 1), 0);
    assert_int_equal(ovl_rtp_ext_find(&r, 4, &e), 0);
    assert_int_equal(e.data[0], '3');
    /* nothing negotiated: no block; no room: -1 */
    ovl_route_caps_t none;
    memset(&none, 0, sizeof(none));
    assert_int_equal(ovl_route_ext_write_block(&none, vals, 4, out, sizeof(out)), 0);
    assert_int_equal(ovl_route_ext_write_block(&audio, vals, 4, out, 8), -1);
    ovl_sdp_free(offer);
    ovl_sdp_free(answer);
    free(text);
}

/* RFC 8285 §4.3 two-byte form when an id is above 14 (extmap-allow-mixed). */
static void test_ext_block_two_byte(void **state)
{
    (void)state;
    ovl_route_caps_t caps;
    memset(&caps, 0, sizeof(caps));
    caps.id[OVL_ROUTE_EXT_MID] = 20;
    caps.id[OVL_ROUTE_EXT_AUDIO_LEVEL] = 1;
    caps.two_byte = true;
    const uint8_t lvl = 0x7f;
    ovl_route_ext_val_t vals[] = {{OVL_ROUTE_EXT_AUDIO_LEVEL, 1, &lvl}, {OVL_ROUTE_EXT_MID, 2, (const uint8_t *)"12"}};
    uint8_t out[32];
    static const uint8_t want[] = {0x10, 0x00, 0x00, 0x02, 0x01, 0x01, 0x7f, 0x14, 0x02, '1', '2', 0x00};
    assert_int_equal(ovl_route_ext_write_block(&caps, vals, 2, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(ovl_route_ext_from_uri("urn:ietf:params:rtp-hdrext:sdes:mid"), OVL_ROUTE_EXT_MID);
    assert_int_equal(ovl_route_ext_from_uri("urn:example:unknown"), OVL_ROUTE_EXT_COUNT);
    assert_int_equal(ovl_route_ext_policy(OVL_ROUTE_EXT_TRANSPORT_CC), OVL_ROUTE_EXT_CONSUME);
    assert_int_equal(ovl_route_ext_policy(OVL_ROUTE_EXT_ABS_SEND_TIME), OVL_ROUTE_EXT_RELAY);
    assert_int_equal(ovl_route_ext_policy(OVL_ROUTE_EXT_AUDIO_LEVEL), OVL_ROUTE_EXT_FORWARD);
    /* abs-send-time: 6.18 fixed point, 1 s = 0x040000, wrapping at 64 s */
    assert_int_equal(ovl_route_abs_send_time(OVL_SEC(1)), 0x040000);
    assert_int_equal(ovl_route_abs_send_time(OVL_SEC(65)), 0x040000);
}

static void test_ssrc_map(void **state)
{
    (void)state;
    ovl_route_ssrc_map_t m;
    static int vals[300];
    assert_int_equal(ovl_route_ssrc_map_init(&m, 300), 0);
    /* keys that share low bits, to make long probe runs */
    for (uint32_t i = 0; i < 300; i++)
        assert_int_equal(ovl_route_ssrc_map_put(&m, i << 20, &vals[i]), 0);
    assert_int_equal(ovl_route_ssrc_map_put(&m, 5u << 20, &vals[0]), OVL_ERR_STATE);
    for (uint32_t i = 0; i < 300; i += 2)
        assert_int_equal(ovl_route_ssrc_map_del(&m, i << 20), 0);
    for (uint32_t i = 0; i < 300; i++)
        assert_ptr_equal(ovl_route_ssrc_map_get(&m, i << 20), i % 2 ? &vals[i] : NULL);
    assert_int_equal(ovl_route_ssrc_map_del(&m, 0), OVL_ERR_NOTFOUND);
    assert_null(ovl_route_ssrc_map_get(&m, 12345));
    for (uint32_t i = 0; i < 300; i += 2)
        assert_int_equal(ovl_route_ssrc_map_put(&m, i << 20, &vals[i]), 0);
    /* at most half full */
    uint32_t k = 1;
    while (ovl_route_ssrc_map_put(&m, k, NULL) == 0)
        k++;
    assert_int_equal(m.count, (m.mask + 1) / 2);
    ovl_route_ssrc_map_dispose(&m);
}

static void test_rtx_buffer(void **state)
{
    (void)state;
    ovl_route_rtx_t *b;
    uint8_t payload[OVL_ROUTE_RTX_PAYLOAD_MAX + 1];
    const uint8_t orient = 3;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)i;
    assert_int_equal(ovl_route_rtx_new(100, &b), OVL_ERR_ARG);
    assert_int_equal(ovl_route_rtx_new(16, &b), 0);
    ovl_route_pkt_t p = {.ext_seq = (1ll << 32) + 65535,
                         .ts = 77,
                         .marker = true,
                         .payload = payload,
                         .payload_len = 700,
                         .pad_len = 4,
                         .n_ext = 1};
    p.ext[0] = (ovl_route_ext_val_t){OVL_ROUTE_EXT_VIDEO_ORIENTATION, 1, &orient};
    assert_int_equal(ovl_route_rtx_put(b, &p), 0);
    assert_int_equal(ovl_route_rtx_put(b, &p), OVL_ERR_REPLAY);
    ovl_route_pkt_t g;
    assert_int_equal(ovl_route_rtx_get(b, p.ext_seq, &g), 0);
    assert_int_equal(g.seq, 65535);
    assert_int_equal(g.ts, 77);
    assert_true(g.marker);
    assert_int_equal(g.pad_len, 4);
    assert_int_equal(g.payload_len, 700);
    assert_memory_equal(g.payload, payload, 700);
    assert_int_equal(g.n_ext, 1);
    assert_int_equal(g.ext[0].data[0], 3);
    /* 16 newer packets push it out; an older one cannot take a newer one's slot */
    for (int i = 1; i <= 16; i++) {
        ovl_route_pkt_t q = p;
        q.ext_seq += i;
        assert_int_equal(ovl_route_rtx_put(b, &q), 0);
    }
    assert_false(ovl_route_rtx_has(b, p.ext_seq));
    assert_int_equal(ovl_route_rtx_get(b, p.ext_seq, &g), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_route_rtx_put(b, &p), OVL_ERR_LIMIT);
    ovl_route_pkt_t big = p;
    big.ext_seq += 100;
    big.payload_len = sizeof(payload);
    assert_int_equal(ovl_route_rtx_put(b, &big), OVL_ERR_LIMIT);
    ovl_route_rtx_free(b);
}

typedef struct fb_seen {
    ovl_rtcp_twcc_status_t st[700];
    size_t n;
    uint16_t base[8];
    size_t fbs;
} fb_seen_t;

static void twcc_collect(fb_seen_t *s, const uint8_t *buf, size_t len)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_iter_init(&it, buf, len);
    while (ovl_rtcp_next(&it, &m) == 0) {
        size_t n = 0;
        assert_int_equal(m.kind, OVL_RTCP_TWCC);
        s->base[s->fbs++] = m.u.twcc.base_seq;
        assert_int_equal(ovl_rtcp_twcc_decode_array(&m.u.twcc, s->st + s->n, OVL_ARRAY_LEN(s->st) - s->n, &n), 0);
        s->n += n;
    }
}

/* Transport-wide numbers across the 16-bit wrap, reordered, with a loss, and a late arrival. */
static void test_twcc_recorder(void **state)
{
    (void)state;
    ovl_route_twcc_t *t = malloc(sizeof(*t));
    uint8_t buf[1200];
    ovl_wbuf_t b;
    fb_seen_t *s = calloc(1, sizeof(*s));
    ovl_route_twcc_init(t);
    assert_false(ovl_route_twcc_pending(t));
    static const uint16_t order[] = {65533, 65535, 65534, 0, 2}; /* 1 never arrives */
    for (size_t i = 0; i < OVL_ARRAY_LEN(order); i++)
        ovl_route_twcc_record(t, order[i], OVL_SEC(10) + i * OVL_MS(2));
    assert_true(ovl_route_twcc_pending(t));
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_route_twcc_build(t, &b, 7, 8), 0);
    assert_false(ovl_route_twcc_pending(t));
    twcc_collect(s, buf, b.len);
    assert_int_equal(s->fbs, 1);
    assert_int_equal(s->base[0], 65533);
    assert_int_equal(s->n, 6);
    static const bool got[] = {true, true, true, true, false, true};
    static const int64_t at_ms[] = {0, 4, 2, 6, 0, 8};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(s->st[i].seq, (uint16_t)(65533 + i));
        assert_int_equal(s->st[i].received, got[i]);
        if (got[i])
            assert_int_equal(s->st[i].arrival_us - s->st[0].arrival_us, at_ms[i] * 1000);
    }
    ovl_route_twcc_record(t, 1, OVL_SEC(11)); /* after it was reported lost */
    assert_int_equal(t->late, 1);
    assert_false(ovl_route_twcc_pending(t));

    /* more than one feedback's worth: split in order, feedback count rising */
    for (uint16_t i = 3; i < 3 + 600; i++)
        ovl_route_twcc_record(t, i, OVL_SEC(12) + i * 100);
    memset(s, 0, sizeof(*s));
    ovl_wbuf_init(&b, buf, sizeof(buf));
    assert_int_equal(ovl_route_twcc_build(t, &b, 7, 8), 0);
    twcc_collect(s, buf, b.len);
    assert_int_equal(s->fbs, 3);
    assert_int_equal(s->base[0], 3);
    assert_int_equal(s->base[1], 3 + OVL_ROUTE_TWCC_MAX_FB);
    assert_int_equal(s->base[2], 3 + 2 * OVL_ROUTE_TWCC_MAX_FB);
    assert_int_equal(s->n, 600);
    assert_int_equal(t->fb_count, 4);
    /* what does not fit in the buffer waits for the next call */
    for (uint16_t i = 603; i < 603 + 600; i++)
        ovl_route_twcc_record(t, i, OVL_SEC(13) + i * 100);
    size_t reported = 0, calls = 0;
    while (ovl_route_twcc_pending(t)) {
        memset(s, 0, sizeof(*s));
        ovl_wbuf_init(&b, buf, 320);
        assert_int_equal(ovl_route_twcc_build(t, &b, 7, 8), 0);
        twcc_collect(s, buf, b.len);
        assert_int_equal(s->fbs, 1);
        reported += s->n;
        calls++;
    }
    assert_int_equal(reported, 600);
    assert_int_equal(calls, 3);
    /* a buffer too small for even one feedback */
    ovl_route_twcc_record(t, 1203, OVL_SEC(14));
    ovl_wbuf_init(&b, buf, 10);
    assert_int_equal(ovl_route_twcc_build(t, &b, 7, 8), OVL_ERR_LIMIT);
    assert_true(ovl_route_twcc_pending(t));
    free(s);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ext_block_one_byte), cmocka_unit_test(test_ext_block_two_byte),
        cmocka_unit_test(test_ssrc_map),           cmocka_unit_test(test_rtx_buffer),
        cmocka_unit_test(test_twcc_recorder),
    };
    return cmocka_run_group_tests_name("route parts (RFC 8285, transport-cc)", tests, NULL, NULL);
}
