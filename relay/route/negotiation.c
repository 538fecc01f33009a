/*
 * Negotiation (DESIGN.md "Negotiation"): the client offers once, the relay answers; from then on
 * the relay is the only offerer, so there is never glare.
 *
 * First offer: the client's sending sections become the participant's producers (SSRC from
 * a=ssrc, RTX SSRC from a=ssrc-group:FID, RFC 5576 §4.2 / RFC 4588 §8.7; kind from the m-line;
 * payload types and extension ids from this offer, as the relay's answer keeps them), and the
 * answer comes from the SDP core's builder. Simulcast is taken out of the offer before answering
 * (layer selection is not built yet), so the client sends one encoding per track.
 *
 * Relay offers: whenever producers appear or go, every affected participant gets an offer built
 * from its current local description with the SDP core's offer builder: a sendonly section per
 * new consumer (a=msid, a=ssrc cname/msid, FID group), sections of consumers whose producer left
 * set inactive, and inactive sections the client has answered refilled for later consumers of
 * the same kind. Only one relay offer is outstanding per participant; what changes meanwhile is
 * batched into the next one, sent as soon as the answer arrives. Nobody else's transport or
 * sections are touched when one participant joins or leaves.
 *
 * Consumer states: NEW (to offer) -> OFFERED -> ACTIVE (answered recvonly) or REFUSED (rejected);
 * producer gone: CLOSING -> RETIRING (in the offer) -> freed when answered, its mid reusable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/route/route_int.h"

#define OFFER_RETRY OVL_SEC(2) /* after an answer that does not parse, offer again this much later */

/* Writes sdp into a new NUL-terminated string (*text, *len). */
static int write_sdp(const ovl_sdp_t *sdp, char **text, size_t *len)
{
    int ret = OVL_ERR_LIMIT;
    *text = NULL;
    for (size_t cap = 16384; cap <= 4 * OVL_SDP_MAX_SIZE && ret == OVL_ERR_LIMIT; cap *= 4) {
        uint8_t *buf = malloc(cap + 1);
        ovl_wbuf_t w;
        if (!buf)
            return OVL_ERR_NOMEM;
        ovl_wbuf_init(&w, buf, cap);
        if ((ret = ovl_sdp_write(sdp, &w)) != 0) {
            free(buf);
            continue;
        }
        buf[w.len] = '\0';
        *text = (char *)buf;
        *len = w.len;
    }
    return ret;
}

static void emit_sdp(ovl_route_participant_t *p, const char *type, const char *text, size_t len)
{
    ovl_route_event_t ev = {.type = OVL_ROUTE_EV_SDP, .participant = p->id};
    ev.u.sdp.type = type;
    ev.u.sdp.text = text;
    ev.u.sdp.len = len;
    ovl_route_emit(p->room, &ev);
}

/* ---- the client's first offer ---- */

static void strip_simulcast(ovl_sdp_t *offer)
{
    for (size_t i = 0; i < offer->n_media; i++) {
        ovl_sdp_media_t *m = &offer->media[i];
        for (size_t k = 0; k < m->n_rids; k++)
            free(m->rids[k].params);
        m->n_rids = 0;
        free(m->simulcast);
        m->simulcast = NULL;
    }
}

typedef struct plan {
    ovl_route_slot_t slot;
    const ovl_sdp_media_t *om;
    uint32_t ssrc, rtx_ssrc;
    const char *cname;
} plan_t;

static const char *ssrc_attr(const ovl_sdp_media_t *m, uint32_t ssrc, const char *attr)
{
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc && strcmp(m->ssrcs[i].attr, attr) == 0)
            return m->ssrcs[i].value;
    return NULL;
}

static void plan_streams(plan_t *pl, const ovl_sdp_media_t *om)
{
    for (size_t g = 0; g < om->n_ssrc_groups; g++)
        if (strcmp(om->ssrc_groups[g].semantics, "FID") == 0 && om->ssrc_groups[g].n_ssrcs == 2) {
            pl->ssrc = om->ssrc_groups[g].ssrcs[0];
            pl->rtx_ssrc = om->ssrc_groups[g].ssrcs[1];
            break;
        }
    if (!pl->ssrc && om->n_ssrcs)
        pl->ssrc = om->ssrcs[0].ssrc;
    pl->cname = pl->ssrc ? ssrc_attr(om, pl->ssrc, "cname") : NULL;
}

/* The producers the offer asks for: sections the answer receives on, at most one per slot. */
static size_t plan_producers(const ovl_sdp_t *offer, const ovl_sdp_t *answer, plan_t *plans)
{
    bool used[OVL_ROUTE_SLOTS] = {false};
    size_t n = 0;
    for (size_t i = 0; i < offer->n_media && i < answer->n_media; i++) {
        const ovl_sdp_media_t *om = &offer->media[i], *am = &answer->media[i];
        if (ovl_sdp_media_rejected(am) || am->dir != OVL_SDP_DIR_RECVONLY)
            continue;
        ovl_route_slot_t slot = OVL_ROUTE_SLOT_AUDIO;
        if (am->kind == OVL_SDP_KIND_VIDEO)
            slot = used[OVL_ROUTE_SLOT_CAMERA] ? OVL_ROUTE_SLOT_SCREEN : OVL_ROUTE_SLOT_CAMERA;
        else if (am->kind != OVL_SDP_KIND_AUDIO)
            continue;
        if (used[slot])
            continue; /* a fourth track: answered, but not forwarded */
        used[slot] = true;
        plans[n] = (plan_t){.slot = slot, .om = om};
        plan_streams(&plans[n], om);
        n++;
    }
    return n;
}

static int make_producers(ovl_route_participant_t *p, const plan_t *plans, size_t n)
{
    int ret;
    for (size_t i = 0; i < n; i++) {
        ovl_route_producer_t *pr;
        if ((ret = ovl_route_producer_new(p, plans[i].slot, &pr)) != 0)
            return ret;
        snprintf(pr->mid, sizeof(pr->mid), "%s", plans[i].om->mid);
        if (plans[i].cname)
            snprintf(pr->cname, sizeof(pr->cname), "%s", plans[i].cname);
        pr->ssrc = plans[i].ssrc;
        pr->rtx_ssrc = pr->video ? plans[i].rtx_ssrc : 0;
        pr->clock = p->caps[pr->video].clock;
        ovl_rtp_stats_init(&pr->stats, pr->clock);
    }
    return 0;
}

int ovl_route_participant_offer(ovl_route_participant_t *p, const char *sdp, size_t len, const ovl_sdp_local_t *local,
                                ovl_time_t now)
{
    ovl_sdp_t *offer = NULL, *answer = NULL;
    plan_t plans[OVL_ROUTE_SLOTS];
    char *text = NULL;
    size_t text_len = 0, n;
    int ret = OVL_ERR_STATE;
    if (p->negotiated)
        goto Exit;
    if ((ret = ovl_sdp_parse(sdp, len, &offer, NULL)) != 0)
        goto Exit;
    strip_simulcast(offer);
    if ((ret = ovl_sdp_answer_build(offer, local, &answer)) != 0 || (ret = write_sdp(answer, &text, &text_len)) != 0)
        goto Exit;
    ovl_route_caps_from_sdp(&p->caps[0], answer, OVL_SDP_KIND_AUDIO);
    ovl_route_caps_from_sdp(&p->caps[1], answer, OVL_SDP_KIND_VIDEO);
    n = plan_producers(offer, answer, plans);
    if ((ret = make_producers(p, plans, n)) != 0) {
        for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++)
            if (p->producers[s])
                ovl_route_producer_free(p->producers[s], false);
        memset(p->caps, 0, sizeof(p->caps));
        goto Exit;
    }
    p->local = answer;
    answer = NULL;
    p->negotiated = true;
    p->next_mid = (unsigned)p->local->n_media;
    emit_sdp(p, "answer", text, text_len);
    /* Audio and camera are live at once; the screen slot when its first packet arrives. */
    for (size_t s = OVL_ROUTE_SLOT_AUDIO; s <= OVL_ROUTE_SLOT_CAMERA; s++)
        if (p->producers[s])
            ovl_route_producer_go_live(p->producers[s]);
    ovl_route_negotiate(p->room, now);
Exit:
    free(text);
    ovl_sdp_free(offer);
    ovl_sdp_free(answer);
    return ret;
}

/* ---- relay offers ---- */

static bool has_consumer(const ovl_route_participant_t *sub, const ovl_route_producer_t *pr)
{
    for (size_t i = 0; i < pr->n_consumers; i++)
        if (pr->consumers[i]->sub == sub)
            return true;
    return false;
}

static void sync_consumers(ovl_route_room_t *room)
{
    for (size_t i = 0; i < room->n_parts; i++) {
        ovl_route_participant_t *sub = room->parts[i];
        for (size_t j = 0; j < room->n_parts && sub->negotiated; j++) {
            ovl_route_participant_t *pub = room->parts[j];
            for (size_t s = 0; s < OVL_ROUTE_SLOTS && pub != sub; s++) {
                ovl_route_producer_t *pr = pub->producers[s];
                ovl_route_consumer_t *c;
                if (pr && pr->live && sub->caps[pr->video].ok && !has_consumer(sub, pr))
                    ovl_route_consumer_new(sub, pr, &c); /* OVL_ERR_LIMIT: the subscriber is full */
            }
        }
    }
}

static void free_mid_push(ovl_route_participant_t *p, const char *mid, bool video)
{
    if (p->n_free_mids >= p->cap_consumers)
        return;
    snprintf(p->free_mids[p->n_free_mids].mid, OVL_ROUTE_MID_LEN, "%s", mid);
    p->free_mids[p->n_free_mids].video = video;
    p->n_free_mids++;
}

static bool free_mid_take(ovl_route_participant_t *p, bool video, char *mid)
{
    for (size_t i = 0; i < p->n_free_mids; i++)
        if (p->free_mids[i].video == video) {
            memcpy(mid, p->free_mids[i].mid, OVL_ROUTE_MID_LEN);
            p->free_mids[i] = p->free_mids[--p->n_free_mids];
            return true;
        }
    return false;
}

static void new_mid(ovl_route_participant_t *p, const ovl_sdp_t *offer, char *mid)
{
    do
        snprintf(mid, OVL_ROUTE_MID_LEN, "%u", p->next_mid++);
    while (ovl_sdp_find_mid(offer, mid));
}

/* Puts consumer c into the offer in a reused or a new section. True when it went in. */
static bool offer_consumer(ovl_route_participant_t *sub, ovl_sdp_t *offer, ovl_route_consumer_t *c)
{
    const ovl_route_producer_t *pr = c->producer;
    char mid[OVL_ROUTE_MID_LEN];
    for (;;) {
        bool reused = free_mid_take(sub, c->video, mid);
        if (!reused)
            new_mid(sub, offer, mid);
        ovl_sdp_send_track_t t = {
            .kind = c->video ? OVL_SDP_KIND_VIDEO : OVL_SDP_KIND_AUDIO,
            .mid = mid,
            .stream_id = pr->stream_id,
            .track_id = pr->track_id,
            .cname = pr->cname[0] ? pr->cname : pr->stream_id,
            .ssrc = c->ssrc,
            .rtx_ssrc = c->rtx_ssrc,
        };
        int ret = ovl_sdp_offer_add_send(offer, &t);
        if (ret == 0) {
            memcpy(c->mid, mid, sizeof(c->mid));
            c->reused = reused;
            c->state = OVL_ROUTE_C_OFFERED;
            c->no_room = false;
            return true;
        }
        if (!reused) { /* no room in the session (OVL_SDP_MAX_MEDIA), or a bad name */
            sub->next_mid--;
            c->no_room = true;
            return false;
        } /* a reused section the client had rejected meanwhile: forget it, take another */
    }
}

static void send_offer(ovl_route_participant_t *sub)
{
    ovl_sdp_t *offer = NULL;
    char *text = NULL;
    size_t len = 0;
    bool changed = false;
    sub->dirty = false;
    if (ovl_sdp_offer_begin(sub->local, &offer) != 0)
        return;
    for (size_t i = 0; i < sub->n_consumers; i++) {
        ovl_route_consumer_t *c = sub->consumers[i];
        if (c->state == OVL_ROUTE_C_CLOSING && ovl_sdp_offer_retire(offer, c->mid) == 0) {
            c->state = OVL_ROUTE_C_RETIRING;
            changed = true;
        } else if (c->state == OVL_ROUTE_C_NEW && c->producer) {
            changed = offer_consumer(sub, offer, c) || changed;
        }
    }
    if (!changed || write_sdp(offer, &text, &len) != 0) {
        ovl_sdp_free(offer);
        return;
    }
    sub->offer = offer;
    sub->room->stats.offers++;
    emit_sdp(sub, "offer", text, len);
    free(text);
}

void ovl_route_negotiate(ovl_route_room_t *room, ovl_time_t now)
{
    (void)now;
    sync_consumers(room);
    for (size_t i = 0; i < room->n_parts; i++) {
        ovl_route_participant_t *p = room->parts[i];
        if (p->negotiated && p->dirty && !p->offer && p->offer_retry == OVL_TIME_NEVER)
            send_offer(p);
    }
}

/* ---- the client's answers ---- */

static void rollback(ovl_route_participant_t *sub, ovl_time_t now)
{
    for (size_t i = 0; i < sub->n_consumers; i++) {
        ovl_route_consumer_t *c = sub->consumers[i];
        if (c->state == OVL_ROUTE_C_OFFERED) {
            if (c->reused)
                free_mid_push(sub, c->mid, c->video);
            c->mid[0] = '\0';
            c->state = OVL_ROUTE_C_NEW;
        } else if (c->state == OVL_ROUTE_C_RETIRING) {
            c->state = OVL_ROUTE_C_CLOSING;
        }
    }
    ovl_sdp_free(sub->offer);
    sub->offer = NULL;
    sub->dirty = true;
    sub->offer_retry = now + OFFER_RETRY;
    ovl_route_schedule(sub->room, sub->offer_retry);
}

static bool accepted(const ovl_sdp_t *answer, const char *mid)
{
    const ovl_sdp_media_t *m = ovl_sdp_find_mid(answer, mid);
    if (!m || ovl_sdp_media_rejected(m))
        return false;
    ovl_sdp_dir_t d = ovl_sdp_media_dir(answer, m);
    return d == OVL_SDP_DIR_RECVONLY || d == OVL_SDP_DIR_SENDRECV;
}

int ovl_route_participant_answer(ovl_route_participant_t *sub, const char *sdp, size_t len, ovl_time_t now)
{
    ovl_sdp_t *answer = NULL;
    int ret;
    if (!sub->offer)
        return OVL_ERR_STATE;
    if ((ret = ovl_sdp_parse(sdp, len, &answer, NULL)) != 0) {
        rollback(sub, now);
        return ret;
    }
    for (size_t i = 0; i < sub->n_consumers;) {
        ovl_route_consumer_t *c = sub->consumers[i];
        if (c->state == OVL_ROUTE_C_OFFERED) {
            if (accepted(answer, c->mid)) {
                c->state = OVL_ROUTE_C_ACTIVE;
                if (sub->connected)
                    ovl_route_consumer_restart(c, now);
            } else {
                c->state = OVL_ROUTE_C_REFUSED;
            }
        } else if (c->state == OVL_ROUTE_C_RETIRING) {
            const ovl_sdp_media_t *m = ovl_sdp_find_mid(answer, c->mid);
            if (m && !ovl_sdp_media_rejected(m))
                free_mid_push(sub, c->mid, c->video);
            ovl_route_consumer_free(c); /* swapped the last one into i */
            continue;
        }
        i++;
    }
    ovl_sdp_free(answer);
    ovl_sdp_free(sub->local);
    sub->local = sub->offer;
    sub->offer = NULL;
    ovl_route_negotiate(sub->room, now);
    return 0;
}

void ovl_route_negotiation_free(ovl_route_participant_t *p)
{
    ovl_sdp_free(p->local);
    ovl_sdp_free(p->offer);
    p->local = p->offer = NULL;
}
