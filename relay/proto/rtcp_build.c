/*
 * RTCP builders (each appends one whole packet or nothing), REMB bitrate coding, NTP time and
 * round-trip time. Wire diagrams are above the matching parsers in rtcp_parse.c.
 */
#include "relay/proto/rtcp.h"

/* Common header with a zero length; finish() fills the length in once the body is written. */
static int put_header(ovl_wbuf_t *b, uint8_t count, uint8_t pt)
{
    int ret;
    if ((ret = ovl_put_u8(b, (uint8_t)(0x80 | count))) || (ret = ovl_put_u8(b, pt)))
        return ret;
    return ovl_put_u16(b, 0);
}

/* Pads the packet that starts at `mark` to 32 bits and writes its length field. */
static int finish(ovl_wbuf_t *b, size_t mark)
{
    int ret = ovl_put_zeros(b, (4 - (b->len - mark) % 4) % 4);
    if (ret == 0)
        ovl_store_u16(b->base + mark + 2, (uint16_t)((b->len - mark) / 4 - 1));
    return ret;
}

static int put_rb(ovl_wbuf_t *b, const ovl_rtcp_rb_t *rb)
{
    int32_t lost = rb->cumulative_lost;
    int ret;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    if ((ret = ovl_put_u32(b, rb->ssrc)) || (ret = ovl_put_u8(b, rb->fraction_lost)) ||
        (ret = ovl_put_u24(b, (uint32_t)lost & 0xffffff)) || (ret = ovl_put_u32(b, rb->highest_seq)) ||
        (ret = ovl_put_u32(b, rb->jitter)) || (ret = ovl_put_u32(b, rb->lsr)))
        return ret;
    return ovl_put_u32(b, rb->dlsr);
}

static int put_rbs(ovl_wbuf_t *b, const ovl_rtcp_rb_t *rb, size_t n)
{
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++)
        ret = put_rb(b, &rb[i]);
    return ret;
}

int ovl_rtcp_build_sr(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_sender_info_t *si, const ovl_rtcp_rb_t *rb, size_t n)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;
    if (si == NULL || n > OVL_RTCP_MAX_COUNT || (n && rb == NULL))
        goto Exit;
    if ((ret = put_header(b, (uint8_t)n, OVL_RTCP_PT_SR)) || (ret = ovl_put_u32(b, ssrc)) ||
        (ret = ovl_put_u64(b, si->ntp)) || (ret = ovl_put_u32(b, si->rtp_ts)) ||
        (ret = ovl_put_u32(b, si->packet_count)) || (ret = ovl_put_u32(b, si->octet_count)) ||
        (ret = put_rbs(b, rb, n)) || (ret = finish(b, mark)))
        goto Exit;
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

int ovl_rtcp_build_rr(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_rb_t *rb, size_t n)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;
    if (n > OVL_RTCP_MAX_COUNT || (n && rb == NULL))
        goto Exit;
    if ((ret = put_header(b, (uint8_t)n, OVL_RTCP_PT_RR)) || (ret = ovl_put_u32(b, ssrc)) ||
        (ret = put_rbs(b, rb, n)) || (ret = finish(b, mark)))
        goto Exit;
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

/* The item list ends with a null octet, then null octets up to the 32-bit boundary (§6.5). */
int ovl_rtcp_build_sdes_cname(ovl_wbuf_t *b, uint32_t ssrc, const char *cname, size_t len)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;
    if (cname == NULL || len == 0 || len > 255)
        goto Exit;
    if ((ret = put_header(b, 1, OVL_RTCP_PT_SDES)) || (ret = ovl_put_u32(b, ssrc)) ||
        (ret = ovl_put_u8(b, OVL_RTCP_SDES_CNAME)) || (ret = ovl_put_u8(b, (uint8_t)len)) ||
        (ret = ovl_put_bytes(b, cname, len)) || (ret = ovl_put_u8(b, 0)) || (ret = finish(b, mark)))
        goto Exit;
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

int ovl_rtcp_build_bye(ovl_wbuf_t *b, const uint32_t *ssrcs, size_t n, const char *reason, size_t reason_len)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;
    if (n > OVL_RTCP_MAX_COUNT || (n && ssrcs == NULL) || reason_len > 255 || (reason_len && reason == NULL))
        goto Exit;
    if ((ret = put_header(b, (uint8_t)n, OVL_RTCP_PT_BYE)))
        goto Exit;
    for (size_t i = 0; i < n; i++) {
        if ((ret = ovl_put_u32(b, ssrcs[i])))
            goto Exit;
    }
    if (reason_len && ((ret = ovl_put_u8(b, (uint8_t)reason_len)) || (ret = ovl_put_bytes(b, reason, reason_len))))
        goto Exit;
    ret = finish(b, mark);
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

static int put_fb_header(ovl_wbuf_t *b, uint8_t fmt, uint8_t pt, uint32_t sender, uint32_t media)
{
    int ret;
    if ((ret = put_header(b, fmt, pt)) || (ret = ovl_put_u32(b, sender)))
        return ret;
    return ovl_put_u32(b, media);
}

/*
 * One PID/BLP pair per stretch: the PID is the first lost number not yet covered and BLP bit i
 * marks PID + i + 1 (RFC 4585 §6.2.1). Repeats of a covered number are dropped; a number outside
 * PID+1..PID+16 starts the next pair.
 */
int ovl_rtcp_build_nack(ovl_wbuf_t *b, uint32_t sender, uint32_t media, const uint16_t *lost, size_t n)
{
    size_t mark = b->len, i = 0;
    int ret = OVL_ERR_ARG;
    if (lost == NULL || n == 0)
        goto Exit;
    if ((ret = put_fb_header(b, OVL_RTCP_FMT_NACK, OVL_RTCP_PT_RTPFB, sender, media)))
        goto Exit;
    while (i < n) {
        uint16_t pid = lost[i++], blp = 0;
        for (; i < n; i++) {
            uint16_t d = (uint16_t)(lost[i] - pid);
            if (d > 16)
                break;
            if (d > 0)
                blp |= (uint16_t)(1u << (d - 1));
        }
        if ((ret = ovl_put_u16(b, pid)) || (ret = ovl_put_u16(b, blp)))
            goto Exit;
    }
    ret = finish(b, mark);
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

int ovl_rtcp_build_pli(ovl_wbuf_t *b, uint32_t sender, uint32_t media)
{
    size_t mark = b->len;
    int ret = put_fb_header(b, OVL_RTCP_FMT_PLI, OVL_RTCP_PT_PSFB, sender, media);
    if (ret == 0)
        ret = finish(b, mark);
    if (ret)
        b->len = mark;
    return ret;
}

int ovl_rtcp_build_fir(ovl_wbuf_t *b, uint32_t sender, const ovl_rtcp_fir_entry_t *e, size_t n)
{
    size_t mark = b->len;
    int ret = OVL_ERR_ARG;
    if (e == NULL || n == 0)
        goto Exit;
    if ((ret = put_fb_header(b, OVL_RTCP_FMT_FIR, OVL_RTCP_PT_PSFB, sender, 0)))
        goto Exit;
    for (size_t i = 0; i < n; i++) {
        if ((ret = ovl_put_u32(b, e[i].ssrc)) || (ret = ovl_put_u8(b, e[i].seq)) || (ret = ovl_put_zeros(b, 3)))
            goto Exit;
    }
    ret = finish(b, mark);
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

/* ---- REMB ---- */

void ovl_rtcp_remb_encode(uint64_t bps, uint8_t *exp, uint32_t *mantissa)
{
    uint8_t e = 0;
    while ((bps >> e) > 0x3ffff)
        e++;
    *exp = e;
    *mantissa = (uint32_t)(bps >> e);
}

uint64_t ovl_rtcp_remb_decode(uint8_t exp, uint32_t mantissa)
{
    uint64_t m = mantissa;
    if (exp >= 64)
        return m ? UINT64_MAX : 0;
    if (exp > 0 && (m >> (64 - exp)) != 0)
        return UINT64_MAX;
    return m << exp;
}

int ovl_rtcp_build_remb(ovl_wbuf_t *b, uint32_t sender, uint64_t bps, const uint32_t *ssrcs, size_t n)
{
    size_t mark = b->len;
    uint8_t exp;
    uint32_t mantissa;
    int ret = OVL_ERR_ARG;
    if (n > 255 || (n && ssrcs == NULL))
        goto Exit;
    ovl_rtcp_remb_encode(bps, &exp, &mantissa);
    if ((ret = put_fb_header(b, OVL_RTCP_FMT_AFB, OVL_RTCP_PT_PSFB, sender, 0)) ||
        (ret = ovl_put_bytes(b, "REMB", 4)) ||
        (ret = ovl_put_u32(b, (uint32_t)n << 24 | (uint32_t)exp << 18 | mantissa)))
        goto Exit;
    for (size_t i = 0; i < n; i++) {
        if ((ret = ovl_put_u32(b, ssrcs[i])))
            goto Exit;
    }
    ret = finish(b, mark);
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

/* ---- Compound head ---- */

int ovl_rtcp_build_report(ovl_wbuf_t *b, uint32_t ssrc, const ovl_rtcp_sender_info_t *si, const ovl_rtcp_rb_t *rb,
                          size_t n, const char *cname, size_t cname_len)
{
    size_t mark = b->len, first = n < OVL_RTCP_MAX_COUNT ? n : OVL_RTCP_MAX_COUNT;
    int ret = OVL_ERR_ARG;
    if (n && rb == NULL)
        goto Exit;
    ret = si ? ovl_rtcp_build_sr(b, ssrc, si, rb, first) : ovl_rtcp_build_rr(b, ssrc, rb, first);
    for (size_t off = first; ret == 0 && off < n; off += OVL_RTCP_MAX_COUNT) {
        size_t k = n - off < OVL_RTCP_MAX_COUNT ? n - off : OVL_RTCP_MAX_COUNT;
        ret = ovl_rtcp_build_rr(b, ssrc, rb + off, k);
    }
    if (ret == 0)
        ret = ovl_rtcp_build_sdes_cname(b, ssrc, cname, cname_len);
Exit:
    if (ret)
        b->len = mark;
    return ret;
}

/* ---- NTP time (RFC 3550 §4: 32.32 fixed point seconds since 1900-01-01) ---- */

uint64_t ovl_rtcp_ntp_from_unix_us(uint64_t unix_us)
{
    uint64_t s = unix_us / 1000000 + OVL_RTCP_NTP_UNIX_S, us = unix_us % 1000000;
    return (s & 0xffffffffu) << 32 | (us << 32) / 1000000;
}

uint64_t ovl_rtcp_ntp_to_unix_us(uint64_t ntp)
{
    uint64_t s = ntp >> 32, frac = ntp & 0xffffffffu;
    if (s < 0x80000000u) /* RFC 4330 §3: era 1 begins 2036-02-07 */
        s += 1ull << 32;
    return (s - OVL_RTCP_NTP_UNIX_S) * 1000000 + ((frac * 1000000 + (1ull << 31)) >> 32);
}

uint32_t ovl_rtcp_dlsr_from_us(uint64_t us)
{
    if (us >= ((uint64_t)UINT32_MAX * 1000000) >> 16)
        return UINT32_MAX;
    return (uint32_t)((us << 16) / 1000000);
}

/*
 * RFC 3550 §6.4.1, "the source can compute the round-trip propagation delay":
 *
 *     [10 Nov 1995 11:33:25.125 UTC]       [10 Nov 1995 11:33:36.5 UTC]
 *     n                 SR(n)              A=b710:8000 (46864.500 s)
 *     ---------------------------------------------------------------->
 *                        v                 ^
 *     ntp_sec =0xb44db705 v               ^ dlsr=0x0005:4000 (    5.250s)
 *     ntp_frac=0x20000000  v             ^  lsr =0xb705:2000 (46853.125s)
 *       (3024992005.125 s)  v           ^
 *     r                      v         ^ RR(n)
 *     ---------------------------------------------------------------->
 *                            |<-DLSR->|
 *                             (5.250 s)
 *
 *     A     0xb710:8000 (46864.500 s)
 *     DLSR -0x0005:4000 (    5.250 s)
 *     LSR  -0xb705:2000 (46853.125 s)
 *     -------------------------------
 *     delay 0x0006:2000 (    6.125 s)
 */
int ovl_rtcp_rtt_us(const ovl_rtcp_rb_t *rb, uint32_t arrival_mid32, uint64_t *rtt_us)
{
    *rtt_us = 0;
    if (rb->lsr == 0)
        return OVL_ERR_NOTFOUND;
    uint32_t rtt = arrival_mid32 - rb->lsr - rb->dlsr;
    if ((int32_t)rtt > 0)
        *rtt_us = ((uint64_t)rtt * 1000000) >> 16;
    return 0;
}
