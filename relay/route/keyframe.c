/*
 * Keyframe requests to a publisher (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR), one small stage
 * per video producer.
 *
 * Every subscriber's PLI/FIR, every new or reconnected video consumer and every retry funnels
 * into ovl_route_kf_request. The publisher hears at most one request per `keyframe_gap`
 * (400 ms by default): a request inside the window is held (pending) and goes out when the window
 * ends, unless a keyframe arrives first and answers it. A consumer still waiting for its first
 * keyframe OVL_ROUTE_KF_RETRY after it started asking asks again (the request or the keyframe
 * may have been lost).
 *
 * PLI is sent when the publisher negotiated "nack pli", FIR when a subscriber asked with FIR
 * and the publisher negotiated "ccm fir" (or only FIR is negotiated). Each FIR carries a new
 * command sequence number (RFC 5104 §4.3.1.2: a repetition of one request keeps its number; the
 * relay never repeats, each FIR is a new request).
 */
#include "relay/proto/rtcp.h"
#include "relay/route/route_int.h"

static void send_request(ovl_route_producer_t *pr, bool fir, ovl_time_t now)
{
    ovl_route_participant_t *owner = pr->owner;
    ovl_route_room_t *room = owner->room;
    const ovl_route_caps_t *caps = &owner->caps[1];
    ovl_route_buf_t buf;
    ovl_wbuf_t w;
    int ret;
    bool use_fir = caps->fir && (fir || !caps->pli);
    if (ovl_route_rtcp_begin(owner, &buf, &w) != 0)
        return; /* stays pending */
    if (use_fir) {
        ovl_rtcp_fir_entry_t e = {.ssrc = pr->ssrc, .seq = (uint8_t)(pr->kf.fir_seq + 1)};
        if ((ret = ovl_rtcp_build_fir(&w, owner->rtcp_ssrc, &e, 1)) == 0)
            pr->kf.fir_seq++;
    } else {
        ret = ovl_rtcp_build_pli(&w, owner->rtcp_ssrc, pr->ssrc);
    }
    if (ret != 0) {
        w.len = 0;
        ovl_route_rtcp_end(owner, &buf, &w);
        return;
    }
    ovl_route_rtcp_end(owner, &buf, &w);
    pr->kf.ever_sent = true;
    pr->kf.last_sent = now;
    pr->kf.pending = pr->kf.pending_fir = false;
    pr->kf.answered = false;
    pr->kf.sent++;
    room->stats.keyframe_up++;
    ovl_route_event_t ev = {.type = OVL_ROUTE_EV_KEYFRAME_REQUEST, .participant = owner->id};
    ev.u.keyframe.slot = pr->slot;
    ev.u.keyframe.fir = use_fir;
    ev.u.keyframe.sent = pr->kf.sent;
    ev.u.keyframe.absorbed = pr->kf.absorbed;
    ovl_route_emit(room, &ev);
}

static bool window_open(const ovl_route_producer_t *pr, ovl_time_t now)
{
    return !pr->kf.ever_sent || now - pr->kf.last_sent >= pr->owner->room->keyframe_gap;
}

void ovl_route_kf_request(ovl_route_producer_t *pr, bool fir, ovl_time_t now)
{
    if (!pr->video)
        return;
    if (pr->ssrc && pr->owner->connected && window_open(pr, now)) {
        send_request(pr, fir || pr->kf.pending_fir, now);
        return;
    }
    if (pr->kf.pending)
        pr->kf.absorbed++;
    pr->kf.pending = true;
    pr->kf.pending_fir = pr->kf.pending_fir || fir;
    if (pr->kf.ever_sent)
        ovl_route_schedule(pr->owner->room, pr->kf.last_sent + pr->owner->room->keyframe_gap);
    else
        ovl_route_schedule(pr->owner->room, now);
}

void ovl_route_kf_seen(ovl_route_producer_t *pr)
{
    if (pr->kf.pending)
        pr->kf.absorbed++;
    pr->kf.pending = pr->kf.pending_fir = false;
    pr->kf.answered = true;
}

void ovl_route_kf_run(ovl_route_producer_t *pr, ovl_time_t now)
{
    ovl_route_room_t *room = pr->owner->room;
    if (!pr->video)
        return;
    /* Consumers that have waited too long ask again. */
    ovl_time_t next_retry = OVL_TIME_NEVER;
    for (size_t i = 0; i < pr->n_consumers; i++) {
        ovl_route_consumer_t *c = pr->consumers[i];
        bool by_receiver;
        if (c->state != OVL_ROUTE_C_ACTIVE || !c->waiting_kf || !c->sub->connected ||
            ovl_route_consumer_level(c, now, &by_receiver) >= OVL_THIN_PAUSED)
            continue; /* a paused consumer's gate asks when it resumes */
        if (now - c->wait_since >= OVL_ROUTE_KF_RETRY) {
            c->wait_since = now;
            pr->kf.pending = true;
        }
        if (c->wait_since + OVL_ROUTE_KF_RETRY < next_retry)
            next_retry = c->wait_since + OVL_ROUTE_KF_RETRY;
    }
    ovl_route_schedule(room, next_retry);
    if (!pr->kf.pending)
        return;
    if (!pr->ssrc || !pr->owner->connected)
        return; /* binding the SSRC or connecting the publisher brings it back here */
    if (window_open(pr, now))
        send_request(pr, pr->kf.pending_fir, now);
    else
        ovl_route_schedule(room, pr->kf.last_sent + room->keyframe_gap);
}
