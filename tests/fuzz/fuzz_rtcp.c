/*
 * libFuzzer target: any bytes as a compound RTCP packet. Every message is read through every
 * accessor (report blocks, SDES items, BYE, NACK expansion, FIR, REMB, the transport-cc
 * decoder); rewrites on a copy keep the walk the same; REMB bitrates rebuild exactly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/rtcp.h"

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            __builtin_trap();                                                                                          \
    } while (0)

struct twcc_check {
    uint16_t next_seq;
    size_t count;
};

static int on_status(void *ctx, const ovl_rtcp_twcc_status_t *st)
{
    struct twcc_check *c = ctx;
    CHECK(st->seq == c->next_seq);
    CHECK(st->has_time == (st->symbol == OVL_TWCC_SMALL_DELTA || st->symbol == OVL_TWCC_LARGE_DELTA));
    c->next_seq++;
    c->count++;
    return 0;
}

static void check_remb(const ovl_rtcp_remb_t *r)
{
    static uint8_t buf[2048];
    ovl_wbuf_t b;
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    uint32_t ssrcs[255];
    if (r->bitrate == UINT64_MAX)
        return; /* saturated: not representable */
    for (size_t i = 0; i < r->count; i++)
        ssrcs[i] = ovl_rtcp_remb_ssrc(r, i);
    ovl_wbuf_init(&b, buf, sizeof(buf));
    CHECK(ovl_rtcp_build_remb(&b, r->fb.sender_ssrc, r->bitrate, ssrcs, r->count) == 0);
    ovl_rtcp_iter_init(&it, buf, b.len);
    CHECK(ovl_rtcp_next(&it, &m) == 0 && m.kind == OVL_RTCP_REMB);
    CHECK(m.u.remb.bitrate == r->bitrate && m.u.remb.count == r->count);
}

static void touch(const ovl_rtcp_msg_t *m)
{
    static uint16_t lost[65536];
    static ovl_rtcp_twcc_status_t st[64];
    ovl_rtcp_rb_t rb;
    ovl_rtcp_sdes_iter_t it;
    ovl_rtcp_sdes_item_t item;
    ovl_rtcp_fir_entry_t e;
    uint16_t pid, blp;
    size_t n;
    volatile uint32_t sink = 0;
    CHECK(m->body + m->body_len <= m->raw + m->raw_len);
    switch (m->kind) {
    case OVL_RTCP_SR:
    case OVL_RTCP_RR: {
        const ovl_rtcp_rb_list_t *l = m->kind == OVL_RTCP_SR ? &m->u.sr.blocks : &m->u.rr.blocks;
        for (size_t i = 0; i < l->count; i++)
            CHECK(ovl_rtcp_rb_get(l, i, &rb) == 0);
        break;
    }
    case OVL_RTCP_SDES:
        ovl_rtcp_sdes_iter_init(&it, &m->u.sdes);
        while (ovl_rtcp_sdes_next(&it, &item) == 0)
            for (size_t i = 0; i < item.len; i++)
                sink += item.text[i];
        CHECK(it.err == 0);
        (void)ovl_rtcp_sdes_cname(&m->u.sdes, &item);
        break;
    case OVL_RTCP_BYE:
        for (size_t i = 0; i < m->u.bye.count; i++)
            sink += ovl_rtcp_bye_ssrc(&m->u.bye, i);
        for (size_t i = 0; i < m->u.bye.reason_len; i++)
            sink += m->u.bye.reason[i];
        break;
    case OVL_RTCP_NACK:
        for (size_t i = 0; i < m->u.nack.count; i++)
            CHECK(ovl_rtcp_nack_get(&m->u.nack, i, &pid, &blp) == 0);
        CHECK(ovl_rtcp_nack_expand(&m->u.nack, lost, OVL_ARRAY_LEN(lost), &n) == 0 || m->u.nack.count > 3855);
        break;
    case OVL_RTCP_FIR:
        for (size_t i = 0; i < m->u.fir.count; i++)
            CHECK(ovl_rtcp_fir_get(&m->u.fir, i, &e) == 0);
        break;
    case OVL_RTCP_REMB:
        for (size_t i = 0; i < m->u.remb.count; i++)
            sink += ovl_rtcp_remb_ssrc(&m->u.remb, i);
        check_remb(&m->u.remb);
        break;
    case OVL_RTCP_TWCC: {
        struct twcc_check c = {m->u.twcc.base_seq, 0};
        CHECK(ovl_rtcp_twcc_decode(&m->u.twcc, on_status, &c) == 0);
        CHECK(c.count == m->u.twcc.status_count);
        int ret = ovl_rtcp_twcc_decode_array(&m->u.twcc, st, OVL_ARRAY_LEN(st), &n);
        CHECK(ret == 0 || (ret == OVL_ERR_LIMIT && n == OVL_ARRAY_LEN(st)));
        break;
    }
    default:
        break;
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_kind_t kinds[64];
    size_t n = 0;
    int ret;
    ovl_rtcp_iter_init(&it, data, size);
    while ((ret = ovl_rtcp_next(&it, &m)) == 0) {
        CHECK(m.raw >= data && m.raw + m.raw_len <= data + size && m.off == (size_t)(m.raw - data));
        touch(&m);
        if (n < OVL_ARRAY_LEN(kinds))
            kinds[n] = m.kind;
        n++;
    }
    CHECK(ret == OVL_ERR_NOTFOUND || ret == OVL_ERR_PARSE);
    if (n == 0 || size == 0)
        return 0;

    /* rewrite SSRCs on a copy: the walk sees the same packets */
    uint8_t *copy = malloc(size);
    CHECK(copy != NULL);
    memcpy(copy, data, size);
    size_t k = 0;
    ovl_rtcp_iter_init(&it, copy, size);
    while (ovl_rtcp_next(&it, &m) == 0) {
        (void)ovl_rtcp_set_sender_ssrc(&m, copy, 0x01020304);
        (void)ovl_rtcp_set_media_ssrc(&m, copy, 0x05060708);
        (void)ovl_rtcp_set_fci_ssrc(&m, copy, 0, 0x090a0b0c);
        k++;
    }
    CHECK(k == n);
    k = 0;
    ovl_rtcp_iter_init(&it, copy, size);
    while (ovl_rtcp_next(&it, &m) == 0) {
        if (k < OVL_ARRAY_LEN(kinds))
            CHECK(m.kind == kinds[k]);
        k++;
    }
    CHECK(k == n);
    free(copy);
    return 0;
}
