/*
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * §3.1): parse, decode, build.
 *
 * Two places where the draft disagrees with itself, and what is done here:
 * - §3.1.1 calls symbol 11 reserved, but the §3.1.3/§3.1.4 examples use it as "packet received,
 *   w/o recv delta". It is decoded as OVL_TWCC_NO_DELTA (received, no delta byte) and never built.
 * - §3.1.4 says a 1-bit vector holds "packet received" (0) and "packet not received" (1), but
 *   its Example 1 and every implementation use 0 = not received, 1 = received (small delta).
 *   The example's meaning is used.
 * Padding: the feedback is built with zero padding inside the length, as the §3.1 diagram shows
 * (no P bit, so it may sit anywhere in a compound); on parsing, up to 3 bytes after the deltas
 * are ignored (libwebrtc pads with the P bit instead, which the framing layer removes).
 */
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/proto/rtcp_priv.h"
#include "relay/proto/rtp.h"

/* Number of symbols a chunk holds (a run length chunk: its run). */
static size_t chunk_capacity(uint16_t c)
{
    if (!(c & 0x8000))
        return c & 0x1fff;
    return (c & 0x4000) ? 7 : 14;
}

/* Symbol k (< chunk_capacity) of a chunk. */
static uint8_t chunk_symbol(uint16_t c, size_t k)
{
    if (!(c & 0x8000))
        return (uint8_t)((c >> 13) & 3);
    if (c & 0x4000)
        return (uint8_t)((c >> (12 - 2 * k)) & 3);
    return (uint8_t)((c >> (13 - k)) & 1);
}

static size_t delta_size(uint8_t sym)
{
    return sym == OVL_TWCC_SMALL_DELTA ? 1 : sym == OVL_TWCC_LARGE_DELTA ? 2 : 0;
}

/*
 * §3.1, the FCI after the RFC 4585 common header:
 *
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|  FMT=15 |    PT=205     |           length              |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                     SSRC of packet sender                     |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                      SSRC of media source                     |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |      base sequence number     |      packet status count      |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                 reference time                | fb pkt. count |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |          packet chunk         |         packet chunk          |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       .                                                               .
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |         packet chunk          |  recv delta   |  recv delta   |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       .                                                               .
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |           recv delta          |  recv delta   | zero padding  |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * §3.1.3 run length chunk:       §3.1.4 status vector chunk (S=0: 14 x 1 bit, S=1: 7 x 2 bits):
 *  0                   1          0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |T| S |       Run Length        | |T|S|       symbol list         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Chunks are read until they cover "packet status count" packets (the last may cover more);
 * then one delta per received packet: 1 byte unsigned (small) or 2 bytes signed (large).
 */
int ovl_rtcp_twcc_parse(ovl_rtcp_twcc_t *t)
{
    const uint8_t *p = t->fb.fci, *end = t->fb.fci + t->fb.fci_len;
    uint32_t ref;
    size_t covered = 0, need = 0;

    if (p == NULL || ovl_get_u16(&p, end, &t->base_seq) || ovl_get_u16(&p, end, &t->status_count) ||
        ovl_get_u24(&p, end, &ref) || ovl_get_u8(&p, end, &t->fb_count))
        return OVL_ERR_PARSE;
    t->ref_time = (ref & 0x800000) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
    t->chunks = p;
    while (covered < t->status_count) {
        uint16_t c;
        if (ovl_get_u16(&p, end, &c))
            return OVL_ERR_PARSE;
        size_t n = chunk_capacity(c);
        if (n > t->status_count - covered)
            n = t->status_count - covered;
        if (!(c & 0x8000))
            need += n * delta_size(chunk_symbol(c, 0));
        else
            for (size_t k = 0; k < n; k++)
                need += delta_size(chunk_symbol(c, k));
        covered += n;
    }
    t->chunks_len = (size_t)(p - t->chunks);
    if (ovl_get_block(&p, end, need, &t->deltas) || ovl_left(p, end) > 3)
        return OVL_ERR_PARSE;
    t->deltas_len = need;
    return 0;
}

int ovl_rtcp_twcc_decode(const ovl_rtcp_twcc_t *t, ovl_rtcp_twcc_cb_t cb, void *ctx)
{
    const uint8_t *cp = t->chunks, *cend = t->chunks + t->chunks_len;
    const uint8_t *dp = t->deltas, *dend = t->deltas + t->deltas_len;
    int64_t time_us = (int64_t)t->ref_time * OVL_RTCP_TWCC_REF_US;
    uint16_t seq = t->base_seq;
    size_t left = t->status_count;
    int ret;

    if (left && (cp == NULL || dp == NULL))
        return OVL_ERR_PARSE;
    while (left) {
        uint16_t c;
        if (ovl_get_u16(&cp, cend, &c))
            return OVL_ERR_PARSE;
        size_t n = chunk_capacity(c);
        for (size_t k = 0; k < n && left; k++, left--, seq++) {
            ovl_rtcp_twcc_status_t st = {.seq = seq, .symbol = chunk_symbol(c, k)};
            st.received = st.symbol != OVL_TWCC_NOT_RECEIVED;
            if (st.symbol == OVL_TWCC_SMALL_DELTA) {
                uint8_t d;
                if (ovl_get_u8(&dp, dend, &d))
                    return OVL_ERR_PARSE;
                st.delta = d;
            } else if (st.symbol == OVL_TWCC_LARGE_DELTA) {
                uint16_t d;
                if (ovl_get_u16(&dp, dend, &d))
                    return OVL_ERR_PARSE;
                st.delta = (int16_t)d;
            }
            if (st.symbol == OVL_TWCC_SMALL_DELTA || st.symbol == OVL_TWCC_LARGE_DELTA) {
                st.has_time = true;
                time_us += (int64_t)st.delta * OVL_RTCP_TWCC_TICK;
                st.arrival_us = time_us;
            }
            if ((ret = cb(ctx, &st)) != 0)
                return ret;
        }
    }
    return 0;
}

struct array_sink {
    ovl_rtcp_twcc_status_t *out;
    size_t cap, n;
};

static int to_array(void *ctx, const ovl_rtcp_twcc_status_t *st)
{
    struct array_sink *s = ctx;
    if (s->n == s->cap)
        return OVL_ERR_LIMIT;
    s->out[s->n++] = *st;
    return 0;
}

int ovl_rtcp_twcc_decode_array(const ovl_rtcp_twcc_t *t, ovl_rtcp_twcc_status_t *out, size_t cap, size_t *n)
{
    struct array_sink s = {out, cap, 0};
    int ret = ovl_rtcp_twcc_decode(t, to_array, &s);
    *n = s.n;
    return ret;
}

/* ---- Building ---- */

/*
 * The builder sees the feedback as a sequence of status symbols, one per sequence number from
 * the base: entries give received/not received, gaps between entries are not received. A
 * cursor walks that sequence, computing each received packet's delta from the previous one.
 */
struct sym_cursor {
    const ovl_rtcp_twcc_arrival_t *pkts;
    size_t n;        /* entries in use */
    uint16_t base;   /* base sequence number */
    size_t j;        /* position: offset from base */
    size_t k;        /* next entry */
    int64_t prev_tk; /* 250 µs tick of the previous received packet (or the reference time) */
};

static int64_t ticks(ovl_time_t us)
{
    return (int64_t)(us / OVL_RTCP_TWCC_TICK);
}

static uint8_t next_symbol(struct sym_cursor *c)
{
    uint8_t sym = OVL_TWCC_NOT_RECEIVED;
    if (c->k < c->n && (uint16_t)(c->pkts[c->k].seq - c->base) == c->j) {
        const ovl_rtcp_twcc_arrival_t *e = &c->pkts[c->k++];
        if (e->received) {
            int64_t tk = ticks(e->arrival_us), d = tk - c->prev_tk;
            c->prev_tk = tk;
            sym = (d >= 0 && d <= 255) ? OVL_TWCC_SMALL_DELTA : OVL_TWCC_LARGE_DELTA;
        }
    }
    c->j++;
    return sym;
}

/*
 * How many entries fit one feedback (>= 1): the status count must fit 16 bits and every delta
 * 16 signed bits. Also picks the reference time: the first received arrival, in 64 ms units.
 */
static size_t entries_that_fit(const ovl_rtcp_twcc_arrival_t *pkts, size_t n, int64_t *ref64)
{
    size_t used = 0, i;
    int64_t prev = 0;
    bool have_prev = false;
    *ref64 = 0;
    for (i = 0; i < n; i++) {
        if (pkts[i].received) {
            *ref64 = (int64_t)(pkts[i].arrival_us / OVL_RTCP_TWCC_REF_US);
            break;
        }
    }
    for (i = 0; i < n; i++) {
        if ((size_t)(uint16_t)(pkts[i].seq - pkts[0].seq) + 1 > 0xffff)
            break;
        if (pkts[i].received) {
            int64_t d = ticks(pkts[i].arrival_us) - (have_prev ? prev : *ref64 * 256);
            if (d < INT16_MIN || d > INT16_MAX)
                break;
            prev = ticks(pkts[i].arrival_us);
            have_prev = true;
        }
        used = i + 1;
    }
    return used;
}

/*
 * Appends the chunks covering `count` symbols. At each point, with the next (up to) 14 symbols
 * in a window: a run at least as long as the vector that could take its place (14 one-bit or
 * 7 two-bit symbols), or the whole rest, becomes a run length chunk (extended past the window,
 * up to 8191); otherwise a 1-bit vector if the window holds only "not received"/"small delta",
 * else a 2-bit vector of 7. Each symbol is computed once.
 */
static int put_chunks(ovl_wbuf_t *b, struct sym_cursor *cur, size_t count)
{
    uint8_t win[14];
    size_t wn = 0, done = 0;
    int ret;
    while (done < count) {
        while (wn < 14 && done + wn < count)
            win[wn++] = next_symbol(cur);
        size_t run = 1, take;
        bool one_bit = true;
        for (size_t q = 0; q < wn; q++)
            one_bit = one_bit && win[q] <= OVL_TWCC_SMALL_DELTA;
        while (run < wn && win[run] == win[0])
            run++;
        if (run == wn) { /* the whole window is one symbol: see how far the run goes */
            while (done + run < count && run < 0x1fff) {
                struct sym_cursor peek = *cur;
                if (next_symbol(&peek) != win[0])
                    break;
                *cur = peek;
                run++;
            }
        }
        uint16_t c;
        if (run >= (one_bit ? 14u : 7u) || done + run == count) {
            c = (uint16_t)(win[0] << 13 | run);
            take = run;
        } else if (one_bit) {
            c = 0x8000;
            for (size_t q = 0; q < wn; q++)
                c |= (uint16_t)(win[q] << (13 - q));
            take = wn;
        } else {
            take = wn < 7 ? wn : 7;
            c = 0xc000;
            for (size_t q = 0; q < take; q++)
                c |= (uint16_t)(win[q] << (12 - 2 * q));
        }
        if ((ret = ovl_put_u16(b, c)))
            return ret;
        done += take;
        if (take >= wn) {
            wn = 0;
        } else {
            memmove(win, win + take, wn - take);
            wn -= take;
        }
    }
    return 0;
}

static int put_deltas(ovl_wbuf_t *b, const ovl_rtcp_twcc_arrival_t *pkts, size_t n, int64_t ref64)
{
    int64_t prev = ref64 * 256;
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        if (!pkts[i].received)
            continue;
        int64_t d = ticks(pkts[i].arrival_us) - prev;
        prev = ticks(pkts[i].arrival_us);
        if (d >= 0 && d <= 255)
            ret = ovl_put_u8(b, (uint8_t)d);
        else
            ret = ovl_put_u16(b, (uint16_t)(int16_t)d);
    }
    return ret;
}

int ovl_rtcp_build_twcc(ovl_wbuf_t *b, uint32_t sender, uint32_t media, uint8_t fb_count,
                        const ovl_rtcp_twcc_arrival_t *pkts, size_t n, size_t *n_used)
{
    size_t mark = b->len, used, count;
    int64_t ref64;
    int ret = OVL_ERR_ARG;

    *n_used = 0;
    if (pkts == NULL || n == 0)
        goto Exit;
    for (size_t i = 1; i < n; i++) {
        if (!ovl_rtp_seq_newer(pkts[i].seq, pkts[i - 1].seq))
            goto Exit;
    }
    used = entries_that_fit(pkts, n, &ref64);
    count = (size_t)(uint16_t)(pkts[used - 1].seq - pkts[0].seq) + 1;

    struct sym_cursor cur = {pkts, used, pkts[0].seq, 0, 0, ref64 * 256};
    if ((ret = ovl_put_u8(b, 0x80 | OVL_RTCP_FMT_TWCC)) || (ret = ovl_put_u8(b, OVL_RTCP_PT_RTPFB)) ||
        (ret = ovl_put_u16(b, 0)) || (ret = ovl_put_u32(b, sender)) || (ret = ovl_put_u32(b, media)) ||
        (ret = ovl_put_u16(b, pkts[0].seq)) || (ret = ovl_put_u16(b, (uint16_t)count)) ||
        (ret = ovl_put_u24(b, (uint32_t)ref64 & 0xffffff)) || (ret = ovl_put_u8(b, fb_count)) ||
        (ret = put_chunks(b, &cur, count)) || (ret = put_deltas(b, pkts, used, ref64)) ||
        (ret = ovl_put_zeros(b, (4 - (b->len - mark) % 4) % 4)))
        goto Exit;
    ovl_store_u16(b->base + mark + 2, (uint16_t)((b->len - mark) / 4 - 1));
    *n_used = used;
    ret = 0;

Exit:
    if (ret)
        b->len = mark;
    return ret;
}
