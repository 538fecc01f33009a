/*
 * RTCP the relay originates, per participant:
 *
 *  - to it as a publisher, every report period (~1 s): a receiver report with one block per
 *    producer (RFC 3550 §6.4.2; statistics from rtp_stats, LSR/DLSR from its last SR) and SDES,
 *    then REMB (draft-alvestrand-rmcat-remb-03) when it negotiated goog-remb: its subscribers'
 *    downlink estimates, each shared among the video streams that subscriber receives, the
 *    smallest share per video producer, at least min_video_bps per stream and at most max_bps
 *    in all, so Chromium's sender neither overruns the slowest subscriber nor drops to nothing;
 *  - to it as a publisher, every ~100 ms while packets arrive: transport-cc feedback (twcc.c);
 *  - to it as a subscriber, every report period: a sender report plus SDES CNAME per consumer
 *    that has sent something (RFC 3550 §6.4.1), packed into compounds of at most
 *    OVL_ROUTE_RTCP_MTU bytes. The CNAME is the publisher's, so the subscriber groups that
 *    publisher's audio and video; the RTP timestamp is the consumer's timeline at this NTP time,
 *    extrapolated from the publisher's own last SR (the same mapping for its audio and video:
 *    lip sync survives the relay) or, before any SR, from the last forwarded packet;
 *  - NACKs upstream for packets a subscriber asked for that the relay does not have.
 *
 * Downlink estimates come from subscribers' REMB only. The relay writes abs-send-time but no
 * transport-wide sequence number into what it sends, so a Chromium subscriber runs its receive-side
 * estimator and reports REMB (goog-remb is in every answer) instead of transport-cc feedback, which
 * would need a send-side estimator here. Transport-cc feedback a subscriber sends anyway is ignored.
 */
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/route/route_int.h"

#define REMB_FRESH   OVL_SEC(5) /* a subscriber's REMB older than this no longer counts */
#define STREAM_FRESH OVL_SEC(2) /* a video consumer that sent within this counts as a stream */

/* Bits per second a subscriber can take per video stream it currently receives. */
static uint64_t share_of(const ovl_route_participant_t *sub, ovl_time_t now)
{
    size_t streams = 0;
    for (size_t i = 0; i < sub->n_consumers; i++) {
        const ovl_route_consumer_t *c = sub->consumers[i];
        if (c->video && c->state == OVL_ROUTE_C_ACTIVE && c->started && now - c->last_at < STREAM_FRESH)
            streams++;
    }
    return sub->remb_bps / (streams ? streams : 1);
}

static uint64_t remb_value(const ovl_route_participant_t *p, ovl_time_t now)
{
    const ovl_route_room_t *room = p->room;
    uint64_t total = 0;
    for (size_t s = OVL_ROUTE_SLOT_CAMERA; s < OVL_ROUTE_SLOTS; s++) {
        const ovl_route_producer_t *pr = p->producers[s];
        uint64_t least = UINT64_MAX;
        if (!pr || !pr->live || !pr->ssrc)
            continue;
        for (size_t i = 0; i < pr->n_consumers; i++) {
            const ovl_route_participant_t *sub = pr->consumers[i]->sub;
            if (pr->consumers[i]->state != OVL_ROUTE_C_ACTIVE || !sub->has_remb || now - sub->remb_at > REMB_FRESH)
                continue;
            uint64_t share = share_of(sub, now);
            if (share < least)
                least = share;
        }
        if (least == UINT64_MAX)
            least = room->max_bps;
        total += least < room->min_video_bps ? room->min_video_bps : least;
    }
    return total < room->max_bps ? total : room->max_bps;
}

static void publisher_report(ovl_route_participant_t *p, ovl_time_t now)
{
    ovl_route_room_t *room = p->room;
    ovl_rtcp_rb_t rb[OVL_ROUTE_SLOTS];
    uint32_t remb_ssrcs[OVL_ROUTE_SLOTS];
    size_t n = 0, n_remb = 0;
    ovl_route_buf_t buf;
    ovl_wbuf_t w;
    for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++) {
        ovl_route_producer_t *pr = p->producers[s];
        if (!pr || !pr->ssrc || !pr->stats.started)
            continue;
        memset(&rb[n], 0, sizeof(rb[n]));
        ovl_rtp_stats_fill_report(&pr->stats, &rb[n]);
        rb[n].ssrc = pr->ssrc;
        if (pr->have_sr) {
            rb[n].lsr = ovl_rtcp_ntp_mid32(pr->sr_ntp);
            rb[n].dlsr = ovl_rtcp_dlsr_from_us(now - pr->sr_at);
        }
        n++;
        if (pr->video && pr->live)
            remb_ssrcs[n_remb++] = pr->ssrc;
    }
    if (n == 0 || ovl_route_rtcp_begin(p, &buf, &w) != 0)
        return;
    if (ovl_rtcp_build_report(&w, p->rtcp_ssrc, NULL, rb, n, room->cname, strlen(room->cname)) == 0 &&
        p->caps[1].remb && n_remb)
        ovl_rtcp_build_remb(&w, p->rtcp_ssrc, remb_value(p, now), remb_ssrcs, n_remb);
    ovl_route_rtcp_end(p, &buf, &w);
}

/* The consumer's RTP timestamp at `now` (RFC 3550 §6.4.1: "the same time as the NTP timestamp"). */
static uint32_t consumer_rtp_at(const ovl_route_consumer_t *c, ovl_time_t now)
{
    const ovl_route_producer_t *pr = c->producer;
    if (pr && pr->have_sr) {
        int64_t us = (int64_t)(now - pr->sr_at);
        return pr->sr_rtp + (uint32_t)(us * (int64_t)pr->clock / 1000000) + c->ts_off;
    }
    uint32_t clock = pr ? pr->clock : c->sub->caps[c->video].clock;
    return c->last_ts + (uint32_t)((now - c->last_at) * clock / 1000000u);
}

static void subscriber_reports(ovl_route_participant_t *p, ovl_time_t now)
{
    ovl_route_room_t *room = p->room;
    ovl_route_buf_t buf;
    ovl_wbuf_t w;
    bool open = false;
    uint64_t ntp = ovl_route_ntp(room, now);
    for (size_t i = 0; i < p->n_consumers; i++) {
        ovl_route_consumer_t *c = p->consumers[i];
        if (c->state != OVL_ROUTE_C_ACTIVE || !c->started || !c->producer)
            continue;
        ovl_rtcp_sender_info_t si = {ntp, consumer_rtp_at(c, now), c->packets, c->octets};
        const char *cname = c->producer->cname[0] ? c->producer->cname : room->cname;
        for (int attempt = 0; attempt < 2; attempt++) {
            if (!open && ovl_route_rtcp_begin(p, &buf, &w) != 0)
                return;
            open = true;
            if (ovl_rtcp_build_report(&w, c->ssrc, &si, NULL, 0, cname, strlen(cname)) == 0)
                break;
            ovl_route_rtcp_end(p, &buf, &w); /* full: send it, then one more try in a fresh buffer */
            open = false;
        }
    }
    if (open)
        ovl_route_rtcp_end(p, &buf, &w);
}

void ovl_route_reports_run(ovl_route_participant_t *p, ovl_time_t now)
{
    p->next_report = now + p->room->report_every;
    if (!p->connected) {
        p->next_report = OVL_TIME_NEVER;
        return;
    }
    publisher_report(p, now);
    subscriber_reports(p, now);
}

void ovl_route_twcc_run(ovl_route_participant_t *p, ovl_time_t now)
{
    ovl_route_buf_t buf;
    ovl_wbuf_t w;
    uint32_t media = 0;
    p->next_twcc = OVL_TIME_NEVER;
    if (!ovl_route_twcc_pending(&p->twcc))
        return;
    if (p->connected && ovl_route_rtcp_begin(p, &buf, &w) == 0) {
        for (size_t s = 0; s < OVL_ROUTE_SLOTS && !media; s++)
            if (p->producers[s])
                media = p->producers[s]->ssrc;
        ovl_route_twcc_build(&p->twcc, &w, p->rtcp_ssrc, media);
        ovl_route_rtcp_end(p, &buf, &w);
    }
    if (ovl_route_twcc_pending(&p->twcc))
        p->next_twcc = now + p->room->twcc_every;
}

void ovl_route_nack_upstream(ovl_route_producer_t *pr, const int64_t *seqs, size_t n, ovl_time_t now)
{
    ovl_route_participant_t *owner = pr->owner;
    uint16_t lost[OVL_ROUTE_NACK_UP_MAX];
    size_t n_lost = 0;
    ovl_route_buf_t buf;
    ovl_wbuf_t w;
    if (!owner->caps[pr->video].nack || !pr->ssrc || !owner->connected) {
        owner->room->stats.nack_unanswered += n;
        return;
    }
    for (size_t i = 0; i < n && n_lost < OVL_ROUTE_NACK_UP_MAX; i++) {
        size_t k = 0;
        while (k < OVL_ROUTE_NACK_UP_MAX && pr->nack_up[k].seq != seqs[i])
            k++;
        if (k < OVL_ROUTE_NACK_UP_MAX && now - pr->nack_up[k].at < OVL_ROUTE_NACK_UP_GAP)
            continue; /* asked for moments ago (another subscriber, or this one again) */
        if (k == OVL_ROUTE_NACK_UP_MAX) {
            k = pr->nack_up_next;
            pr->nack_up_next = (pr->nack_up_next + 1) % OVL_ROUTE_NACK_UP_MAX;
        }
        pr->nack_up[k].seq = seqs[i];
        pr->nack_up[k].at = now;
        lost[n_lost++] = (uint16_t)seqs[i];
    }
    if (n_lost == 0 || ovl_route_rtcp_begin(owner, &buf, &w) != 0)
        return;
    if (ovl_rtcp_build_nack(&w, owner->rtcp_ssrc, pr->ssrc, lost, n_lost) == 0)
        owner->room->stats.nack_seqs_up += n_lost;
    else
        w.len = 0;
    ovl_route_rtcp_end(owner, &buf, &w);
}
