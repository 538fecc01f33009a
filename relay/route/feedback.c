/*
 * RTCP from a participant (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3): what a publisher reports
 * about its own streams and what a subscriber asks of the streams the relay sends it.
 *
 *   SR    (publisher)  NTP/RTP mapping of a producer: LSR/DLSR in our receiver reports and the
 *                      timestamps of our sender reports to its subscribers (lip sync).
 *   PLI   (subscriber) keyframe request to the consumer's producer (rate-limited, keyframe.c).
 *   FIR   (subscriber) the same, once per new command sequence number.
 *   NACK  (subscriber) mapped back to the publisher's sequence numbers; answered as RTX from the
 *                      producer's retransmission buffer, or NACKed upstream when the relay does
 *                      not have the packet.
 *   REMB  (subscriber) its downlink estimate, which bounds the REMB its publishers get.
 *   RR    (subscriber) report blocks on the video the relay sends it: the fraction lost raises
 *                      its thinning level (thin.h); also the blocks of an SR.
 * While a subscriber's video is paused or at slides, its PLI/FIR are absorbed: its gate asks.
 * Everything else (SDES, BYE, transport-cc about the relay's streams) is read and ignored.
 */
#include "relay/proto/rtcp.h"
#include "relay/route/route_int.h"

#define NACK_MAX 256 /* sequence numbers handled per NACK packet */

/* The consumer a subscriber's feedback names by its media SSRC, if it may act on it. */
static ovl_route_consumer_t *consumer_of(ovl_route_participant_t *p, uint32_t ssrc)
{
    ovl_route_consumer_t *c = ovl_route_ssrc_map_get(&p->by_ssrc, ssrc);
    if (!c || c->ssrc != ssrc || !c->producer || c->state != OVL_ROUTE_C_ACTIVE)
        return NULL;
    return c;
}

static void on_sr(ovl_route_participant_t *p, const ovl_rtcp_sr_t *sr, ovl_time_t now)
{
    bool is_rtx;
    ovl_route_producer_t *pr = ovl_route_producer_by_ssrc(p, sr->ssrc, &is_rtx);
    if (!pr || is_rtx)
        return;
    pr->have_sr = true;
    pr->sr_ntp = sr->info.ntp;
    pr->sr_rtp = sr->info.rtp_ts;
    pr->sr_at = now;
}

static void on_keyframe_request(ovl_route_participant_t *p, uint32_t ssrc, bool fir, uint8_t fir_seq, ovl_time_t now)
{
    ovl_route_consumer_t *c = consumer_of(p, ssrc);
    bool by_receiver;
    if (!c || !c->video)
        return;
    if (ovl_route_consumer_level(c, now, &by_receiver) >= OVL_THIN_SLIDES)
        return; /* paused, or slides: its gate asks for key frames at its own pace */
    if (fir) {  /* RFC 5104 §4.3.1.2: a repeated sequence number is the same request again */
        if (c->have_fir && c->fir_seq == fir_seq)
            return;
        c->have_fir = true;
        c->fir_seq = fir_seq;
    }
    p->room->stats.keyframe_in++;
    ovl_route_kf_request(c->producer, fir, now);
}

/* Report blocks (RFC 3550 §6.4.1) about video the relay sends p: loss feeds p's thinning level. */
static void on_report_blocks(ovl_route_participant_t *p, const ovl_rtcp_rb_list_t *blocks, ovl_time_t now)
{
    ovl_rtcp_rb_t rb;
    uint64_t raises = p->thin.raises;
    for (size_t i = 0; i < blocks->count; i++) {
        if (ovl_rtcp_rb_get(blocks, i, &rb) != 0)
            break;
        ovl_route_consumer_t *c = consumer_of(p, rb.ssrc);
        if (c && c->video && c->started)
            ovl_thin_ctl_loss(&p->thin, rb.fraction_lost, now);
    }
    p->room->stats.thin_raises += p->thin.raises - raises;
}

static void on_nack(ovl_route_participant_t *p, const ovl_rtcp_nack_t *nack, ovl_time_t now)
{
    ovl_route_room_t *room = p->room;
    uint16_t lost[NACK_MAX];
    int64_t up[NACK_MAX];
    size_t n = 0, n_up = 0;
    ovl_route_consumer_t *c = consumer_of(p, nack->fb.media_ssrc);
    if (!c)
        return;
    ovl_rtcp_nack_expand(nack, lost, NACK_MAX, &n); /* more than NACK_MAX: the first ones */
    room->stats.nack_seqs_in += n;
    ovl_route_producer_t *pr = c->producer;
    for (size_t i = 0; i < n; i++) {
        ovl_route_pkt_t pkt;
        int64_t ext = 0;
        if (!c->started || !pr->have_seq || !ovl_thin_seq_in(&c->seq, lost[i], pr->highest, &ext) ||
            ext > pr->highest) {
            room->stats.nack_unanswered++; /* not a number this consumer was given */
            continue;
        }
        if (pr->rtx && ovl_route_rtx_get(pr->rtx, ext, &pkt) == 0) {
            /* Without RTX a resend would repeat (SSRC, sequence number): SRTP refuses to protect it twice. */
            if (!c->rtx_ssrc || ovl_route_consumer_send(c, &pkt, true, now) != 0)
                room->stats.nack_unanswered++;
            continue;
        }
        up[n_up++] = ext;
    }
    if (n_up)
        ovl_route_nack_upstream(pr, up, n_up, now);
}

int ovl_route_on_rtcp(ovl_route_room_t *room, ovl_route_participant_t *p, const uint8_t *buf, size_t len,
                      ovl_time_t now)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_fir_entry_t e;
    room->stats.rtcp_in++;
    ovl_rtcp_iter_init(&it, buf, len);
    while (ovl_rtcp_next(&it, &m) == 0) {
        switch (m.kind) {
        case OVL_RTCP_SR:
            on_sr(p, &m.u.sr, now);
            on_report_blocks(p, &m.u.sr.blocks, now);
            break;
        case OVL_RTCP_RR:
            on_report_blocks(p, &m.u.rr.blocks, now);
            break;
        case OVL_RTCP_PLI:
            on_keyframe_request(p, m.u.pli.media_ssrc, false, 0, now);
            break;
        case OVL_RTCP_FIR:
            for (size_t i = 0; i < m.u.fir.count; i++)
                if (ovl_rtcp_fir_get(&m.u.fir, i, &e) == 0)
                    on_keyframe_request(p, e.ssrc, true, e.seq, now);
            break;
        case OVL_RTCP_NACK:
            on_nack(p, &m.u.nack, now);
            break;
        case OVL_RTCP_REMB:
            p->has_remb = true;
            p->remb_bps = m.u.remb.bitrate;
            p->remb_at = now;
            break;
        default:
            break;
        }
    }
    return it.err == OVL_ERR_PARSE ? OVL_ERR_PARSE : 0;
}
