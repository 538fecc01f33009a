/* RTCP compound packets: framing, classification and the parsers of every kind but transport-cc. */
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/proto/rtcp_priv.h"

const char *ovl_rtcp_kind_name(ovl_rtcp_kind_t kind)
{
    switch (kind) {
    case OVL_RTCP_MALFORMED:
        return "malformed";
    case OVL_RTCP_SR:
        return "sr";
    case OVL_RTCP_RR:
        return "rr";
    case OVL_RTCP_SDES:
        return "sdes";
    case OVL_RTCP_BYE:
        return "bye";
    case OVL_RTCP_NACK:
        return "nack";
    case OVL_RTCP_TWCC:
        return "twcc";
    case OVL_RTCP_PLI:
        return "pli";
    case OVL_RTCP_FIR:
        return "fir";
    case OVL_RTCP_REMB:
        return "remb";
    default:
        return "unknown";
    }
}

/* ---- Report blocks ---- */

/*
 * RFC 3550 §6.4.1, one report block (24 bytes):
 *
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   1    | fraction lost |       cumulative number of packets lost       |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |           extended highest sequence number received           |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      interarrival jitter                      |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         last SR (LSR)                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                   delay since last SR (DLSR)                  |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */
int ovl_rtcp_rb_get(const ovl_rtcp_rb_list_t *l, size_t i, ovl_rtcp_rb_t *rb)
{
    memset(rb, 0, sizeof(*rb));
    if (i >= l->count || l->p == NULL)
        return OVL_ERR_ARG;
    const uint8_t *p = l->p + i * OVL_RTCP_RB_LEN;
    uint32_t lost = ovl_load_u32(p + 4) & 0xffffff;
    rb->ssrc = ovl_load_u32(p);
    rb->fraction_lost = p[4];
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    rb->highest_seq = ovl_load_u32(p + 8);
    rb->jitter = ovl_load_u32(p + 12);
    rb->lsr = ovl_load_u32(p + 16);
    rb->dlsr = ovl_load_u32(p + 20);
    return 0;
}

static int get_blocks(const uint8_t **p, const uint8_t *end, uint8_t count, ovl_rtcp_rb_list_t *l)
{
    l->count = count;
    return ovl_get_block(p, end, (size_t)count * OVL_RTCP_RB_LEN, &l->p);
}

/*
 * RFC 3550 §6.4.1, SR body (after the common header; report blocks follow, then optional
 * profile-specific extensions, which are ignored):
 *
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */
static int parse_sr(ovl_rtcp_msg_t *m)
{
    const uint8_t *p = m->body, *end = m->body + m->body_len;
    ovl_rtcp_sr_t *sr = &m->u.sr;
    uint32_t ntp_hi = 0, ntp_lo = 0; /* not ovl_get_u64: GCC 12 -O2 warns inside it (maybe-uninitialized) */
    if (ovl_get_u32(&p, end, &sr->ssrc) || ovl_get_u32(&p, end, &ntp_hi) || ovl_get_u32(&p, end, &ntp_lo) ||
        ovl_get_u32(&p, end, &sr->info.rtp_ts) || ovl_get_u32(&p, end, &sr->info.packet_count) ||
        ovl_get_u32(&p, end, &sr->info.octet_count))
        return OVL_ERR_PARSE;
    sr->info.ntp = (uint64_t)ntp_hi << 32 | ntp_lo;
    return get_blocks(&p, end, m->count, &sr->blocks);
}

/*
 * RFC 3550 §6.4.2, RR body:
 *
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=RR=201   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     SSRC of packet sender                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                 report blocks (RC * 24 bytes)                 |
 */
static int parse_rr(ovl_rtcp_msg_t *m)
{
    const uint8_t *p = m->body, *end = m->body + m->body_len;
    if (ovl_get_u32(&p, end, &m->u.rr.ssrc))
        return OVL_ERR_PARSE;
    return get_blocks(&p, end, m->count, &m->u.rr.blocks);
}

/* ---- SDES ---- */

void ovl_rtcp_sdes_iter_init(ovl_rtcp_sdes_iter_t *it, const ovl_rtcp_sdes_t *sdes)
{
    memset(it, 0, sizeof(*it));
    it->p = it->chunk = sdes->chunks;
    it->end = sdes->chunks ? sdes->chunks + sdes->len : NULL;
    it->chunks_left = sdes->count;
}

static int sdes_fail(ovl_rtcp_sdes_iter_t *it)
{
    it->err = OVL_ERR_PARSE;
    return OVL_ERR_PARSE;
}

/*
 * RFC 3550 §6.5, SDES body: SC chunks, each an SSRC and a list of items ending in a null
 * octet, padded with null octets to the next 32-bit boundary:
 *
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_1                          |
 *   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * RFC 3550 §6.5.1, an item (CNAME = 1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    CNAME=1    |     length    | user and domain name        ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int ovl_rtcp_sdes_next(ovl_rtcp_sdes_iter_t *it, ovl_rtcp_sdes_item_t *item)
{
    memset(item, 0, sizeof(*item));
    if (it->err)
        return it->err;
    for (;;) {
        uint8_t type, len;
        if (!it->in_chunk) {
            if (it->chunks_left == 0)
                return it->p == it->end ? OVL_ERR_NOTFOUND : sdes_fail(it);
            it->chunk = it->p;
            if (it->p == NULL || ovl_get_u32(&it->p, it->end, &it->ssrc))
                return sdes_fail(it);
            it->in_chunk = true;
            it->chunks_left--;
        }
        if (ovl_get_u8(&it->p, it->end, &type))
            return sdes_fail(it);
        if (type == 0) { /* end of the item list: skip the null octets up to the 32-bit boundary */
            size_t used = (size_t)(it->p - it->chunk);
            if (ovl_skip(&it->p, it->end, ((used + 3) & ~(size_t)3) - used))
                return sdes_fail(it);
            it->in_chunk = false;
            continue;
        }
        if (ovl_get_u8(&it->p, it->end, &len) || ovl_get_block(&it->p, it->end, len, &item->text))
            return sdes_fail(it);
        item->ssrc = it->ssrc;
        item->type = type;
        item->len = len;
        return 0;
    }
}

int ovl_rtcp_sdes_cname(const ovl_rtcp_sdes_t *sdes, ovl_rtcp_sdes_item_t *item)
{
    ovl_rtcp_sdes_iter_t it;
    ovl_rtcp_sdes_iter_init(&it, sdes);
    while (ovl_rtcp_sdes_next(&it, item) == 0) {
        if (item->type == OVL_RTCP_SDES_CNAME)
            return 0;
    }
    memset(item, 0, sizeof(*item));
    return OVL_ERR_NOTFOUND;
}

static int parse_sdes(ovl_rtcp_msg_t *m)
{
    ovl_rtcp_sdes_iter_t it;
    ovl_rtcp_sdes_item_t item;
    int ret;
    m->u.sdes.chunks = m->body;
    m->u.sdes.len = m->body_len;
    m->u.sdes.count = m->count;
    ovl_rtcp_sdes_iter_init(&it, &m->u.sdes);
    while ((ret = ovl_rtcp_sdes_next(&it, &item)) == 0)
        ;
    return ret == OVL_ERR_NOTFOUND ? 0 : OVL_ERR_PARSE;
}

/* ---- BYE ---- */

/*
 * RFC 3550 §6.6:
 *
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|    SC   |   PT=BYE=203  |             length            |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                           SSRC/CSRC                           |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       :                              ...                              :
 *       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * (opt) |     length    |               reason for leaving            ...
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The reason is null-padded to the next 32-bit boundary.
 */
static int parse_bye(ovl_rtcp_msg_t *m)
{
    const uint8_t *p = m->body, *end = m->body + m->body_len;
    ovl_rtcp_bye_t *bye = &m->u.bye;
    bye->count = m->count;
    if (ovl_get_block(&p, end, (size_t)m->count * 4, &bye->ssrcs))
        return OVL_ERR_PARSE;
    if (p < end) {
        if (ovl_get_u8(&p, end, &bye->reason_len) || ovl_get_block(&p, end, bye->reason_len, &bye->reason))
            return OVL_ERR_PARSE;
        if (ovl_left(p, end) > 3)
            return OVL_ERR_PARSE;
    }
    return 0;
}

uint32_t ovl_rtcp_bye_ssrc(const ovl_rtcp_bye_t *bye, size_t i)
{
    return i < bye->count ? ovl_load_u32(bye->ssrcs + 4 * i) : 0;
}

/* ---- Feedback messages ---- */

/*
 * RFC 4585 §6.1, common packet format for feedback messages:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|   FMT   |       PT      |          length               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  SSRC of packet sender                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  SSRC of media source                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   :            Feedback Control Information (FCI)                 :
 *   :                                                               :
 */
static int parse_fb(const ovl_rtcp_msg_t *m, ovl_rtcp_fb_t *fb)
{
    const uint8_t *p = m->body, *end = m->body + m->body_len;
    if (ovl_get_u32(&p, end, &fb->sender_ssrc) || ovl_get_u32(&p, end, &fb->media_ssrc))
        return OVL_ERR_PARSE;
    fb->fci = p;
    fb->fci_len = ovl_left(p, end);
    return 0;
}

/*
 * RFC 4585 §6.2.1, generic NACK FCI (one or more):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            PID                |             BLP               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int parse_nack(ovl_rtcp_msg_t *m)
{
    ovl_rtcp_nack_t *n = &m->u.nack;
    if (parse_fb(m, &n->fb) || n->fb.fci_len == 0 || n->fb.fci_len % 4)
        return OVL_ERR_PARSE;
    n->count = n->fb.fci_len / 4;
    return 0;
}

int ovl_rtcp_nack_get(const ovl_rtcp_nack_t *nack, size_t i, uint16_t *pid, uint16_t *blp)
{
    *pid = *blp = 0;
    if (i >= nack->count || (i + 1) * 4 > nack->fb.fci_len)
        return OVL_ERR_ARG;
    *pid = ovl_load_u16(nack->fb.fci + 4 * i);
    *blp = ovl_load_u16(nack->fb.fci + 4 * i + 2);
    return 0;
}

int ovl_rtcp_nack_expand(const ovl_rtcp_nack_t *nack, uint16_t *out, size_t cap, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < nack->count; i++) {
        uint16_t pid, blp;
        if (ovl_rtcp_nack_get(nack, i, &pid, &blp))
            return OVL_ERR_PARSE;
        for (int bit = -1; bit < 16; bit++) { /* bit -1 is the PID itself */
            if (bit >= 0 && !(blp & (1u << bit)))
                continue;
            if (*n == cap)
                return OVL_ERR_LIMIT;
            out[(*n)++] = (uint16_t)(pid + 1 + bit);
        }
    }
    return 0;
}

/*
 * RFC 4585 §6.3.1: PLI has no FCI ("the length field MUST be 2").
 */
static int parse_pli(ovl_rtcp_msg_t *m)
{
    if (parse_fb(m, &m->u.pli) || m->u.pli.fci_len != 0)
        return OVL_ERR_PARSE;
    return 0;
}

/*
 * RFC 5104 §4.3.1.1, FIR FCI (one or more; the header's media source SSRC is unused):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                              SSRC                             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Seq nr.       |    Reserved                                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int parse_fir(ovl_rtcp_msg_t *m)
{
    ovl_rtcp_fir_t *f = &m->u.fir;
    if (parse_fb(m, &f->fb) || f->fb.fci_len == 0 || f->fb.fci_len % 8)
        return OVL_ERR_PARSE;
    f->count = f->fb.fci_len / 8;
    return 0;
}

int ovl_rtcp_fir_get(const ovl_rtcp_fir_t *fir, size_t i, ovl_rtcp_fir_entry_t *e)
{
    memset(e, 0, sizeof(*e));
    if (i >= fir->count || (i + 1) * 8 > fir->fb.fci_len)
        return OVL_ERR_ARG;
    e->ssrc = ovl_load_u32(fir->fb.fci + 8 * i);
    e->seq = fir->fb.fci[8 * i + 4];
    return 0;
}

/*
 * draft-alvestrand-rmcat-remb-03 §2.2, REMB (PSFB FMT 15; the media source SSRC is 0):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P| FMT=15  |   PT=206      |             length            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  SSRC of packet sender                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  SSRC of media source                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Unique identifier 'R' 'E' 'M' 'B'                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Num SSRC     | BR Exp    |  BR Mantissa                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   SSRC feedback                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  ...                                                          |
 *
 * Other application-layer feedback (no "REMB" identifier) is left UNKNOWN by the caller.
 */
static bool is_remb(const ovl_rtcp_fb_t *fb)
{
    return fb->fci_len >= 4 && memcmp(fb->fci, "REMB", 4) == 0;
}

static int parse_remb(ovl_rtcp_msg_t *m)
{
    ovl_rtcp_remb_t *r = &m->u.remb;
    const uint8_t *p = r->fb.fci + 4, *end = r->fb.fci + r->fb.fci_len;
    uint32_t v;
    if (ovl_get_u32(&p, end, &v))
        return OVL_ERR_PARSE;
    r->count = (uint8_t)(v >> 24);
    r->exp = (uint8_t)((v >> 18) & 0x3f);
    r->mantissa = v & 0x3ffff;
    r->bitrate = ovl_rtcp_remb_decode(r->exp, r->mantissa);
    if (ovl_get_block(&p, end, (size_t)r->count * 4, &r->ssrcs) || p != end)
        return OVL_ERR_PARSE;
    return 0;
}

uint32_t ovl_rtcp_remb_ssrc(const ovl_rtcp_remb_t *remb, size_t i)
{
    return i < remb->count ? ovl_load_u32(remb->ssrcs + 4 * i) : 0;
}

static int parse_rtpfb(ovl_rtcp_msg_t *m)
{
    switch (m->count) {
    case OVL_RTCP_FMT_NACK:
        m->kind = OVL_RTCP_NACK;
        return parse_nack(m);
    case OVL_RTCP_FMT_TWCC:
        m->kind = OVL_RTCP_TWCC;
        if (parse_fb(m, &m->u.twcc.fb))
            return OVL_ERR_PARSE;
        return ovl_rtcp_twcc_parse(&m->u.twcc);
    default:
        return 0;
    }
}

static int parse_psfb(ovl_rtcp_msg_t *m)
{
    switch (m->count) {
    case OVL_RTCP_FMT_PLI:
        m->kind = OVL_RTCP_PLI;
        return parse_pli(m);
    case OVL_RTCP_FMT_FIR:
        m->kind = OVL_RTCP_FIR;
        return parse_fir(m);
    case OVL_RTCP_FMT_AFB:
        if (parse_fb(m, &m->u.remb.fb) || !is_remb(&m->u.remb.fb)) {
            memset(&m->u, 0, sizeof(m->u));
            return 0; /* some other application-layer feedback: UNKNOWN */
        }
        m->kind = OVL_RTCP_REMB;
        return parse_remb(m);
    default:
        return 0;
    }
}

static void parse_body(ovl_rtcp_msg_t *m)
{
    int ret = 0;
    m->kind = OVL_RTCP_UNKNOWN;
    switch (m->pt) {
    case OVL_RTCP_PT_SR:
        m->kind = OVL_RTCP_SR;
        ret = parse_sr(m);
        break;
    case OVL_RTCP_PT_RR:
        m->kind = OVL_RTCP_RR;
        ret = parse_rr(m);
        break;
    case OVL_RTCP_PT_SDES:
        m->kind = OVL_RTCP_SDES;
        ret = parse_sdes(m);
        break;
    case OVL_RTCP_PT_BYE:
        m->kind = OVL_RTCP_BYE;
        ret = parse_bye(m);
        break;
    case OVL_RTCP_PT_RTPFB:
        ret = parse_rtpfb(m);
        break;
    case OVL_RTCP_PT_PSFB:
        ret = parse_psfb(m);
        break;
    default:
        break;
    }
    if (ret) {
        m->kind = OVL_RTCP_MALFORMED;
        memset(&m->u, 0, sizeof(m->u));
    }
}

/* ---- Compound framing ---- */

void ovl_rtcp_iter_init(ovl_rtcp_iter_t *it, const uint8_t *pkt, size_t len)
{
    it->base = it->p = pkt;
    it->end = pkt ? pkt + len : NULL;
    it->err = (pkt && len) ? 0 : OVL_ERR_PARSE;
}

/*
 * RFC 3550 §6.4.1, the first word every RTCP packet shares (RC is SC in SDES/BYE, FMT in
 * RTPFB/PSFB); length is the packet's size in 32-bit words minus one, header and padding
 * included. With P = 1 the last octet counts the padding octets, itself included.
 *
 * RFC 3550 App. A.2 says padding should only be on the last packet of a compound; libwebrtc
 * pads every transport-cc feedback with P = 1 and sends several in one compound, so padding is
 * accepted on any packet whose own length holds it.
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The first packet need not be an SR or RR: reduced-size RTCP (RFC 5506) is what browsers send.
 */
int ovl_rtcp_next(ovl_rtcp_iter_t *it, ovl_rtcp_msg_t *m)
{
    const uint8_t *raw = it->p, *p = it->p, *end = it->end;
    uint8_t b0, pt;
    uint16_t words;

    memset(m, 0, sizeof(*m));
    if (it->err)
        return it->err;
    if (p == end) {
        it->err = OVL_ERR_NOTFOUND;
        return it->err;
    }
    if (ovl_get_u8(&p, end, &b0) || ovl_get_u8(&p, end, &pt) || ovl_get_u16(&p, end, &words))
        goto Broken;
    size_t size = ((size_t)words + 1) * 4, body_len = size - 4;
    if ((b0 >> 6) != 2 || ovl_left(raw, end) < size)
        goto Broken;
    if (b0 & 0x20) {
        uint8_t pad = raw[size - 1];
        if (pad == 0 || pad > body_len)
            goto Broken;
        body_len -= pad;
    }
    m->pt = pt;
    m->count = b0 & 0x1f;
    m->off = (size_t)(raw - it->base);
    m->raw = raw;
    m->raw_len = size;
    m->body = raw + 4;
    m->body_len = body_len;
    it->p = raw + size;
    parse_body(m);
    return 0;

Broken:
    memset(m, 0, sizeof(*m));
    it->err = OVL_ERR_PARSE;
    return it->err;
}

/* ---- In-place rewrites ---- */

static bool is_walked_buffer(const ovl_rtcp_msg_t *m, const uint8_t *compound)
{
    return compound != NULL && m->raw != NULL && m->raw - m->off == compound;
}

/* The feedback header inside a parsed feedback message, or NULL for other kinds. */
static ovl_rtcp_fb_t *fb_view(ovl_rtcp_msg_t *m)
{
    switch (m->kind) {
    case OVL_RTCP_NACK:
        return &m->u.nack.fb;
    case OVL_RTCP_TWCC:
        return &m->u.twcc.fb;
    case OVL_RTCP_PLI:
        return &m->u.pli;
    case OVL_RTCP_FIR:
        return &m->u.fir.fb;
    case OVL_RTCP_REMB:
        return &m->u.remb.fb;
    default:
        return NULL;
    }
}

int ovl_rtcp_set_sender_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, uint32_t ssrc)
{
    if (!is_walked_buffer(m, compound) || m->body_len < 4)
        return OVL_ERR_ARG;
    switch (m->pt) {
    case OVL_RTCP_PT_SR:
    case OVL_RTCP_PT_RR:
    case OVL_RTCP_PT_RTPFB:
    case OVL_RTCP_PT_PSFB:
        break;
    default:
        return OVL_ERR_ARG;
    }
    ovl_store_u32(compound + m->off + 4, ssrc);
    ovl_rtcp_fb_t *fb = fb_view(m);
    if (fb)
        fb->sender_ssrc = ssrc;
    else if (m->kind == OVL_RTCP_SR)
        m->u.sr.ssrc = ssrc;
    else if (m->kind == OVL_RTCP_RR)
        m->u.rr.ssrc = ssrc;
    return 0;
}

int ovl_rtcp_set_media_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, uint32_t ssrc)
{
    if (!is_walked_buffer(m, compound) || m->body_len < 8 || (m->pt != OVL_RTCP_PT_RTPFB && m->pt != OVL_RTCP_PT_PSFB))
        return OVL_ERR_ARG;
    ovl_store_u32(compound + m->off + 8, ssrc);
    ovl_rtcp_fb_t *fb = fb_view(m);
    if (fb)
        fb->media_ssrc = ssrc;
    return 0;
}

int ovl_rtcp_set_fci_ssrc(ovl_rtcp_msg_t *m, uint8_t *compound, size_t i, uint32_t ssrc)
{
    const uint8_t *at;
    if (!is_walked_buffer(m, compound))
        return OVL_ERR_ARG;
    if (m->kind == OVL_RTCP_FIR && i < m->u.fir.count)
        at = m->u.fir.fb.fci + 8 * i;
    else if (m->kind == OVL_RTCP_REMB && i < m->u.remb.count)
        at = m->u.remb.ssrcs + 4 * i;
    else
        return OVL_ERR_ARG;
    ovl_store_u32(compound + (size_t)(at - (m->raw - m->off)), ssrc);
    return 0;
}
