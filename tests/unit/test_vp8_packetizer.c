/* VP8 packetizer and frame assembler (RFC 7741 §4.2, §4.3, §4.5.1 frame reconstruction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codecs/vp8.h"
#include "codecs/vp8_packetizer.h"

/* ---- Packetizer ---- */

static void test_packetizer_descriptor(void **state)
{
    (void)state;
    static uint8_t frame[3000], out[1200], joined[3000];
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t cfg = {.max_payload = 1200, .first_picture_id = 0x1234};
    size_t len, off = 0;
    bool marker;
    unsigned packets;

    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), 0);
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, sizeof(frame), false, &packets), 0);
    assert_int_equal(packets, 3); /* 1196 octets of room: 3 packets of 1000 */
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
        assert_int_equal(len, 4 + 1000);
        assert_int_equal(marker, i == 2);
        /* §4.2: X=1, S on the first packet only, PID 0; I=1; M=1 and the 15-bit PictureID. */
        const uint8_t want[4] = {i == 0 ? 0x90 : 0x80, 0x80, 0x80 | 0x12, 0x34};
        assert_memory_equal(out, want, 4);
        memcpy(joined + off, out + 4, len - 4);
        off += len - 4;
    }
    assert_memory_equal(joined, frame, sizeof(frame));
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), OVL_ERR_AGAIN);

    /* The next frame, non-reference: PictureID + 1, N set. */
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 10, true, &packets), 0);
    assert_int_equal(packets, 1);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    const uint8_t want[4] = {0xb0, 0x80, 0x92, 0x35};
    assert_memory_equal(out, want, 4);
    assert_int_equal(len, 14);
    assert_true(marker);
}

static void test_packetizer_tl0picidx_and_wrap(void **state)
{
    (void)state;
    uint8_t frame[2393], out[1200];
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t cfg = {
        .max_payload = 1202, .first_picture_id = 0x7fff, .tl0picidx = true, .first_tl0picidx = 255};
    size_t len;
    bool marker;
    unsigned packets;

    memset(frame, 0x42, sizeof(frame));
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), 0);
    /* 1196 octets of room: 3 packets of 798, 798, 797. */
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, sizeof(frame), false, &packets), 0);
    assert_int_equal(packets, 3);
    size_t sizes[3];
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
        sizes[i] = len - 6;
        /* L and T set (§4.2: T must be set with L), TID 0. */
        const uint8_t want[6] = {i == 0 ? 0x90 : 0x80, 0xe0, 0xff, 0xff, 0xff, 0x00};
        assert_memory_equal(out, want, 6);
    }
    assert_int_equal(sizes[0], 798);
    assert_int_equal(sizes[1], 798);
    assert_int_equal(sizes[2], 797);
    /* PictureID wraps from 0x7fff to 0, TL0PICIDX from 255 to 0. */
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 1, false, &packets), 0);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    const uint8_t want[6] = {0x90, 0xe0, 0x80, 0x00, 0x00, 0x00};
    assert_memory_equal(out, want, 6);
    ovl_vp8_desc_t d;
    assert_int_equal(ovl_vp8_parse_desc(out, len, &d), 0);
    assert_int_equal(d.picture_id, 0);
    assert_true(d.has_tid);
}

static void test_packetizer_edges(void **state)
{
    (void)state;
    uint8_t frame[100] = {0}, out[64];
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t cfg = {.max_payload = 4};
    size_t len;
    bool marker;
    unsigned packets;

    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), OVL_ERR_ARG); /* no room for data */
    cfg.max_payload = 5;
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), 0);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), OVL_ERR_AGAIN);
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 0, false, &packets), OVL_ERR_ARG);
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 3, false, &packets), 0);
    assert_int_equal(packets, 3); /* one octet each */
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 3, false, &packets), OVL_ERR_STATE);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, 4, &len, &marker), OVL_ERR_LIMIT);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    assert_true(marker);

    /* A frame of exactly the room is one packet; one octet more is two of near-equal size. */
    cfg.max_payload = 24;
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), 0);
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 20, false, &packets), 0);
    assert_int_equal(packets, 1);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    assert_int_equal(len, 24);
    assert_int_equal(ovl_vp8_packetizer_frame(&pk, frame, 21, false, &packets), 0);
    assert_int_equal(packets, 2);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    assert_int_equal(len, 4 + 11);
    assert_int_equal(ovl_vp8_packetizer_next(&pk, out, sizeof(out), &len, &marker), 0);
    assert_int_equal(len, 4 + 10);
}

/* ---- Depacketizer ---- */

#define NF      16   /* frames in a test stream */
#define MAXF    6000 /* largest test frame */
#define MAXP    400  /* payload size used by the test streams */
#define NPKT    400  /* room for the packets of a stream */
#define TS_STEP 3000 /* 30 fps at 90 kHz */

typedef struct {
    uint16_t seq;
    bool marker;
    uint32_t ts;
    size_t len;
    uint8_t data[MAXP];
} pkt_t;

typedef struct {
    size_t frame_len[NF];
    uint8_t frame[NF][MAXF];
    bool key[NF];
    pkt_t pkts[NPKT];
    unsigned npkts, first_pkt[NF], npk[NF];
} stream_t;

typedef struct {
    bool shifted_seq; /* the test moved sequence numbers: do not compare them with the stream's */
    unsigned n;
    int index[64]; /* which stream frame each output is (-1: unknown) */
    ovl_vp8_frame_t meta[64];
} result_t;

/*
 * A stream of NF frames; key frames where keymask has a bit. Frame payloads begin like real VP8
 * (RFC 6386 §9.1): key frames with a 320x180 key frame header, delta frames with P=1.
 */
static stream_t *make_stream(uint16_t seq0, uint32_t keymask)
{
    stream_t *st = calloc(1, sizeof(*st));
    ovl_vp8_packetizer_t pk;
    ovl_vp8_packetizer_cfg_t cfg = {.max_payload = MAXP, .first_picture_id = 1000};
    uint16_t seq = seq0;

    assert_non_null(st);
    assert_int_equal(ovl_vp8_packetizer_init(&pk, &cfg), 0);
    for (unsigned f = 0; f < NF; f++) {
        uint8_t *fr = st->frame[f];
        st->key[f] = (keymask >> f) & 1;
        st->frame_len[f] = st->key[f] ? 3000 + f * 50 : 300 + (f * 733) % 1500;
        for (size_t i = 0; i < st->frame_len[f]; i++)
            fr[i] = (uint8_t)(i * 31 + f * 17);
        if (st->key[f]) {
            const uint8_t hdr[10] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00};
            memcpy(fr, hdr, sizeof(hdr));
        } else {
            fr[0] = 0x11; /* P=1, show_frame */
        }
        unsigned packets;
        assert_int_equal(ovl_vp8_packetizer_frame(&pk, fr, st->frame_len[f], false, &packets), 0);
        st->first_pkt[f] = st->npkts;
        st->npk[f] = packets;
        for (;;) {
            pkt_t *p = &st->pkts[st->npkts];
            if (ovl_vp8_packetizer_next(&pk, p->data, sizeof(p->data), &p->len, &p->marker) != 0)
                break;
            p->seq = seq++;
            p->ts = 90000 + f * TS_STEP;
            st->npkts++;
            assert_true(st->npkts < NPKT);
        }
    }
    return st;
}

static void pop_all(ovl_vp8_depacketizer_t *d, const stream_t *st, result_t *r)
{
    ovl_vp8_frame_t fr;
    while (ovl_vp8_depacketizer_pop(d, &fr) == 0) {
        assert_true(r->n < 64);
        int idx = -1;
        for (unsigned f = 0; f < NF; f++)
            if (fr.timestamp == 90000 + f * TS_STEP)
                idx = (int)f;
        assert_true(idx >= 0);
        /* The assembled frame is the sent frame, octet for octet. */
        assert_int_equal(fr.len, st->frame_len[idx]);
        assert_memory_equal(fr.data, st->frame[idx], fr.len);
        assert_int_equal(fr.keyframe, st->key[idx]);
        assert_int_equal(fr.packets, st->npk[idx]);
        if (!r->shifted_seq)
            assert_int_equal(fr.first_seq, st->pkts[st->first_pkt[idx]].seq);
        assert_true(fr.has_picture_id);
        assert_int_equal(fr.picture_id, 1000 + idx);
        if (fr.keyframe) {
            assert_int_equal(fr.width, 320);
            assert_int_equal(fr.height, 180);
        }
        r->index[r->n] = idx;
        r->meta[r->n] = fr;
        r->meta[r->n].data = NULL;
        r->n++;
    }
}

static int push(ovl_vp8_depacketizer_t *d, const pkt_t *p)
{
    return ovl_vp8_depacketizer_push(d, p->seq, p->marker, p->ts, p->data, p->len);
}

/* Pushes the stream's packets in the given order (indexes; -1 entries skipped), popping as it goes. */
static void run(ovl_vp8_depacketizer_t *d, const stream_t *st, const int *order, unsigned n, result_t *r)
{
    for (unsigned i = 0; i < n; i++) {
        if (order[i] < 0)
            continue;
        assert_int_equal(push(d, &st->pkts[order[i]]), 0);
        pop_all(d, st, r);
    }
}

static ovl_vp8_depacketizer_t *new_depack(unsigned reorder)
{
    ovl_vp8_depacketizer_t *d;
    ovl_vp8_depacketizer_cfg_t cfg = {.window = 64, .reorder = reorder};
    assert_int_equal(ovl_vp8_depacketizer_new(&cfg, &d), 0);
    return d;
}

static void in_order(const stream_t *st, int *order)
{
    for (unsigned i = 0; i < st->npkts; i++)
        order[i] = (int)i;
}

static void test_depack_in_order(void **state)
{
    (void)state;
    stream_t *st = make_stream(100, 1u << 0 | 1u << 9);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    assert_true(ovl_vp8_depacketizer_keyframe_needed(d)); /* nothing yet */
    in_order(st, order);
    run(d, st, order, st->npkts, &r);
    assert_int_equal(r.n, NF);
    for (unsigned i = 0; i < NF; i++) {
        assert_int_equal(r.index[i], i);
        assert_true(r.meta[i].decodable);
    }
    assert_false(ovl_vp8_depacketizer_keyframe_needed(d));
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.packets, st->npkts);
    assert_int_equal(s.frames, NF);
    assert_int_equal(s.keyframes, 2);
    assert_int_equal(s.frames_incomplete + s.lost + s.late + s.duplicates + s.malformed, 0);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* Out of order within the reorder window, sequence numbers wrapping through 65535. */
static void test_depack_reorder_and_wrap(void **state)
{
    (void)state;
    stream_t *st = make_stream(65500, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    in_order(st, order);
    for (unsigned i = 0; i + 1 < st->npkts; i += 2) { /* swap pairs, also across frames */
        int t = order[i];
        order[i] = order[i + 1];
        order[i + 1] = t;
    }
    for (unsigned i = 10; i < 13; i++) { /* and reverse a run of 6 */
        int t = order[i];
        order[i] = order[25 - i];
        order[25 - i] = t;
    }
    assert_true(st->pkts[st->npkts - 1].seq < 100); /* the stream did wrap */
    run(d, st, order, st->npkts, &r);
    assert_int_equal(r.n, NF);
    for (unsigned i = 0; i < NF; i++) {
        assert_int_equal(r.index[i], i);
        assert_true(r.meta[i].decodable);
    }
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete + s.lost + s.late, 0);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

static void test_depack_duplicates(void **state)
{
    (void)state;
    stream_t *st = make_stream(7, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    for (unsigned i = 0; i < st->npkts; i++) {
        assert_int_equal(push(d, &st->pkts[i]), 0);
        assert_int_equal(push(d, &st->pkts[i]), OVL_ERR_REPLAY);
        pop_all(d, st, &r);
        if (i > 0) /* after its frame went out, a copy is late */
            assert_int_equal(push(d, &st->pkts[i - 1]), OVL_ERR_REPLAY);
    }
    assert_int_equal(r.n, NF);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.duplicates + s.late, 2 * st->npkts - 1);
    assert_int_equal(s.frames_incomplete + s.lost, 0);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/*
 * One packet of frame 4 lost (which: first, middle, last): frames 0-3 decodable, frame 4 dropped
 * and counted, keyframe_needed from then on, frames 5-8 delivered but not decodable, the key frame
 * 9 clears it.
 */
static void check_loss_in_frame(unsigned which)
{
    stream_t *st = make_stream(1000, 1u << 0 | 1u << 9);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;
    bool needed_after_loss = false;

    memset(&r, 0, sizeof(r));
    assert_true(st->npk[4] >= 3);
    in_order(st, order);
    unsigned lost = st->first_pkt[4] + (which == 0 ? 0 : which == 1 ? 1 : st->npk[4] - 1);
    order[lost] = -1;
    for (unsigned i = 0; i < st->npkts; i++) {
        if (order[i] < 0)
            continue;
        assert_int_equal(push(d, &st->pkts[i]), 0);
        pop_all(d, st, &r);
        if (i == st->first_pkt[8])
            needed_after_loss = ovl_vp8_depacketizer_keyframe_needed(d);
    }
    assert_true(needed_after_loss);
    assert_int_equal(r.n, NF - 1);
    for (unsigned i = 0; i < r.n; i++) {
        int f = r.index[i];
        assert_int_not_equal(f, 4);
        assert_int_equal(r.meta[i].decodable, f < 4 || f >= 9);
    }
    assert_false(ovl_vp8_depacketizer_keyframe_needed(d));
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete, 1);
    assert_int_equal(s.lost, 1);
    assert_int_equal(s.frames, NF - 1);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

static void test_depack_loss(void **state)
{
    (void)state;
    check_loss_in_frame(0); /* the S=1 packet: the rest of the frame has no start */
    check_loss_in_frame(1);
    check_loss_in_frame(2); /* the marker packet: the next frame's timestamp ends it */
}

/* A frame lost whole: no frame was incomplete, but the gap still needs a key frame. */
static void test_depack_whole_frame_lost(void **state)
{
    (void)state;
    stream_t *st = make_stream(40000, 1u << 0 | 1u << 12);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    in_order(st, order);
    for (unsigned i = 0; i < st->npk[5]; i++)
        order[st->first_pkt[5] + i] = -1;
    run(d, st, order, st->npkts, &r);
    assert_int_equal(r.n, NF - 1);
    for (unsigned i = 0; i < r.n; i++)
        assert_int_equal(r.meta[i].decodable, r.index[i] < 5 || r.index[i] >= 12);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete, 0);
    assert_int_equal(s.lost, st->npk[5]);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* A packet given up on, arriving after all, is refused as late; one within the window is used. */
static void test_depack_late(void **state)
{
    (void)state;
    stream_t *st = make_stream(500, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    ovl_vp8_depacketizer_stats_t s;
    unsigned gone = st->first_pkt[3] + 1, held = st->first_pkt[6] + 1;

    memset(&r, 0, sizeof(r));
    for (unsigned i = 0; i < st->npkts; i++) {
        if (i == gone || i == held)
            continue;
        assert_int_equal(push(d, &st->pkts[i]), 0);
        pop_all(d, st, &r);
        if (i == gone + 12)
            assert_int_equal(push(d, &st->pkts[gone]), OVL_ERR_REPLAY);
        if (i == held + 5) { /* 5 < reorder (8): still waited for */
            assert_int_equal(push(d, &st->pkts[held]), 0);
            pop_all(d, st, &r);
        }
    }
    assert_int_equal(r.n, NF - 1);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.late, 1);
    assert_int_equal(s.lost, 1);
    assert_int_equal(s.frames_incomplete, 1);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* Padding-only packets (empty payload) fill sequence numbers without breaking frames. */
static void test_depack_padding_packets(void **state)
{
    (void)state;
    stream_t *st = make_stream(0, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    ovl_vp8_depacketizer_stats_t s;
    uint16_t shift = 0;

    memset(&r, 0, sizeof(r));
    r.shifted_seq = true;
    for (unsigned i = 0; i < st->npkts; i++) {
        pkt_t p = st->pkts[i];
        p.seq = (uint16_t)(p.seq + shift);
        assert_int_equal(push(d, &p), 0);
        pop_all(d, st, &r);
        if (p.marker && i % 3 == 0) { /* two padding packets after some frames */
            assert_int_equal(ovl_vp8_depacketizer_push(d, (uint16_t)(p.seq + 1), false, p.ts, NULL, 0), 0);
            assert_int_equal(ovl_vp8_depacketizer_push(d, (uint16_t)(p.seq + 2), false, p.ts, NULL, 0), 0);
            shift += 2;
            pop_all(d, st, &r);
        }
    }
    assert_true(shift > 0);
    assert_int_equal(r.n, NF);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete + s.lost, 0);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* A frame whose last packet lacks the marker ends at the next frame's start, incomplete. */
static void test_depack_missing_marker(void **state)
{
    (void)state;
    stream_t *st = make_stream(300, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    st->pkts[st->first_pkt[2] + st->npk[2] - 1].marker = false;
    in_order(st, order);
    run(d, st, order, st->npkts, &r);
    assert_int_equal(r.n, NF - 1);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete, 1);
    assert_int_equal(s.lost, 0);
    assert_true(ovl_vp8_depacketizer_keyframe_needed(d));
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* Limits: a frame above max_frame is dropped; a payload above max_packet and a malformed one refused. */
static void test_depack_limits(void **state)
{
    (void)state;
    stream_t *st = make_stream(10, 1u << 0 | 1u << 8);
    ovl_vp8_depacketizer_t *d;
    ovl_vp8_depacketizer_cfg_t cfg = {.max_frame = 2048, .max_packet = MAXP, .window = 64, .reorder = 8};
    static result_t r;
    int order[NPKT];
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    assert_int_equal(ovl_vp8_depacketizer_new(&cfg, &d), 0);
    in_order(st, order);
    run(d, st, order, st->npkts, &r);
    /* The key frames (3000 octets and more) are too large; everything after the first is then
     * undecodable. */
    unsigned big = 0;
    for (unsigned f = 0; f < NF; f++)
        big += st->frame_len[f] > 2048;
    assert_int_equal(big, 2);
    assert_int_equal(r.n, NF - big);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete, big);
    assert_int_equal(s.lost, 0);
    for (unsigned i = 0; i < r.n; i++)
        assert_false(r.meta[i].decodable);

    uint8_t huge[MAXP + 1] = {0x10, 0x11};
    assert_int_equal(ovl_vp8_depacketizer_push(d, 5000, true, 1, huge, sizeof(huge)), OVL_ERR_LIMIT);
    const uint8_t bad[] = {0x80};
    assert_int_equal(ovl_vp8_depacketizer_push(d, 5000, true, 1, bad, sizeof(bad)), OVL_ERR_PARSE);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.malformed, 2);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

/* A sequence number far ahead flushes the window; the stream then resumes from there. */
static void test_depack_jump(void **state)
{
    (void)state;
    stream_t *a = make_stream(100, 1), *b = make_stream(30000, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    ovl_vp8_depacketizer_stats_t s;

    memset(&r, 0, sizeof(r));
    /* Frames 0-3 of a, then frame 4 of a missing its last packet, then all of b. */
    for (unsigned i = 0; i < a->first_pkt[4] + a->npk[4] - 1; i++) {
        assert_int_equal(push(d, &a->pkts[i]), 0);
        pop_all(d, a, &r);
    }
    assert_int_equal(r.n, 4);
    for (unsigned i = 0; i < b->npkts; i++) {
        assert_int_equal(push(d, &b->pkts[i]), 0);
        pop_all(d, b, &r);
    }
    assert_int_equal(r.n, 4 + NF);
    for (unsigned i = 4; i < r.n; i++)
        assert_true(r.meta[i].decodable);
    ovl_vp8_depacketizer_get_stats(d, &s);
    assert_int_equal(s.frames_incomplete, 1);
    assert_true(s.lost >= 30000 - 100 - a->npkts);
    ovl_vp8_depacketizer_free(d);
    free(a);
    free(b);
}

/* The first packets arriving out of order still make the first frame. */
static void test_depack_startup_reorder(void **state)
{
    (void)state;
    stream_t *st = make_stream(65535, 1);
    ovl_vp8_depacketizer_t *d = new_depack(8);
    static result_t r;
    int order[NPKT];

    memset(&r, 0, sizeof(r));
    assert_true(st->npk[0] >= 3);
    in_order(st, order);
    order[0] = 2;
    order[2] = 0;
    run(d, st, order, st->npkts, &r);
    assert_int_equal(r.n, NF);
    assert_true(r.meta[0].keyframe);
    ovl_vp8_depacketizer_free(d);
    free(st);
}

static void test_depack_config(void **state)
{
    (void)state;
    ovl_vp8_depacketizer_t *d = (void *)1;
    ovl_vp8_depacketizer_cfg_t bad[] = {
        {.window = 100},               /* not a power of two */
        {.window = 8},                 /* too small */
        {.window = 32768},             /* too large for sequence numbers */
        {.window = 64, .reorder = 64}, /* reorder must be below the window */
        {.max_frame = 100},            /* smaller than the default max_packet */
        {.max_packet = 70000},         /* larger than any RTP payload */
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad); i++) {
        assert_int_equal(ovl_vp8_depacketizer_new(&bad[i], &d), OVL_ERR_ARG);
        assert_null(d);
    }
    assert_int_equal(ovl_vp8_depacketizer_new(NULL, &d), 0);
    ovl_vp8_frame_t fr;
    assert_int_equal(ovl_vp8_depacketizer_pop(d, &fr), OVL_ERR_AGAIN);
    ovl_vp8_depacketizer_free(d);
    ovl_vp8_depacketizer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packetizer_descriptor),
        cmocka_unit_test(test_packetizer_tl0picidx_and_wrap),
        cmocka_unit_test(test_packetizer_edges),
        cmocka_unit_test(test_depack_in_order),
        cmocka_unit_test(test_depack_reorder_and_wrap),
        cmocka_unit_test(test_depack_duplicates),
        cmocka_unit_test(test_depack_loss),
        cmocka_unit_test(test_depack_whole_frame_lost),
        cmocka_unit_test(test_depack_late),
        cmocka_unit_test(test_depack_padding_packets),
        cmocka_unit_test(test_depack_missing_marker),
        cmocka_unit_test(test_depack_limits),
        cmocka_unit_test(test_depack_jump),
        cmocka_unit_test(test_depack_startup_reorder),
        cmocka_unit_test(test_depack_config),
    };
    return cmocka_run_group_tests_name("vp8 packetizer and frame assembler (RFC 7741)", tests, NULL, NULL);
}
