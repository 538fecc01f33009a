/*
 * Producers (a participant's incoming tracks) and consumers (a subscriber's copy of one): creation,
 * the links between them, and teardown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/route/route_int.h"

static const char *const slot_names[OVL_ROUTE_SLOTS] = {"audio", "camera", "screen"};

int ovl_route_producer_new(ovl_route_participant_t *owner, ovl_route_slot_t slot, ovl_route_producer_t **out)
{
    ovl_route_room_t *room = owner->room;
    ovl_route_producer_t *pr;
    *out = NULL;
    if (slot >= OVL_ROUTE_SLOTS || owner->producers[slot])
        return OVL_ERR_STATE;
    if (!(pr = calloc(1, sizeof(*pr))))
        return OVL_ERR_NOMEM;
    pr->cap_consumers = room->max_participants;
    if (!(pr->consumers = calloc(pr->cap_consumers, sizeof(*pr->consumers)))) {
        free(pr);
        return OVL_ERR_NOMEM;
    }
    pr->owner = owner;
    pr->slot = slot;
    pr->video = slot != OVL_ROUTE_SLOT_AUDIO;
    snprintf(pr->stream_id, sizeof(pr->stream_id), "ovl-%llu", (unsigned long long)owner->id);
    snprintf(pr->track_id, sizeof(pr->track_id), "ovl-%llu-%s", (unsigned long long)owner->id, slot_names[slot]);
    ovl_rtp_unwrap_init(&pr->unwrap);
    pr->ext_base = 1ll << 32;
    owner->producers[slot] = pr;
    *out = pr;
    return 0;
}

static void track_event(ovl_route_producer_t *pr, ovl_route_event_type_t type)
{
    ovl_route_event_t ev = {.type = type, .participant = pr->owner->id};
    ev.u.track.slot = pr->slot;
    ev.u.track.stream_id = pr->stream_id;
    ev.u.track.track_id = pr->track_id;
    ovl_route_emit(pr->owner->room, &ev);
}

int ovl_route_producer_go_live(ovl_route_producer_t *pr)
{
    int ret;
    if (pr->live)
        return 0;
    if (pr->video && !pr->rtx && (ret = ovl_route_rtx_new(pr->owner->room->rtx_packets, &pr->rtx)) != 0)
        return ret;
    pr->live = true;
    track_event(pr, OVL_ROUTE_EV_TRACK_ADDED);
    if (!pr->video)
        ovl_route_schedule(pr->owner->room, 0); /* the active speaker watch starts */
    return 0;
}

void ovl_route_producer_free(ovl_route_producer_t *pr, bool emit)
{
    while (pr->n_consumers)
        ovl_route_consumer_detach(pr->consumers[pr->n_consumers - 1]);
    if (pr->live && emit)
        track_event(pr, OVL_ROUTE_EV_TRACK_REMOVED);
    pr->owner->producers[pr->slot] = NULL;
    ovl_route_rtx_free(pr->rtx);
    free(pr->consumers);
    free(pr);
}

ovl_route_producer_t *ovl_route_producer_by_ssrc(const ovl_route_participant_t *p, uint32_t ssrc, bool *is_rtx)
{
    *is_rtx = false;
    for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++) {
        ovl_route_producer_t *pr = p->producers[s];
        if (!pr || ssrc == 0)
            continue;
        if (pr->ssrc == ssrc)
            return pr;
        if (pr->rtx_ssrc == ssrc) {
            *is_rtx = true;
            return pr;
        }
    }
    return NULL;
}

/* ---- consumers ---- */

int ovl_route_consumer_new(ovl_route_participant_t *sub, ovl_route_producer_t *pr, ovl_route_consumer_t **out)
{
    ovl_route_room_t *room = sub->room;
    ovl_route_consumer_t *c;
    *out = NULL;
    if (sub->n_consumers >= sub->cap_consumers || pr->n_consumers >= pr->cap_consumers)
        return OVL_ERR_LIMIT;
    if (!(c = calloc(1, sizeof(*c))))
        return OVL_ERR_NOMEM;
    c->sub = sub;
    c->producer = pr;
    c->state = OVL_ROUTE_C_NEW;
    c->slot = pr->slot;
    c->video = pr->video;
    c->publisher = pr->owner->id;
    c->ssrc = ovl_route_new_ssrc(room, sub);
    if (ovl_route_ssrc_map_put(&sub->by_ssrc, c->ssrc, c) != 0)
        goto Fail;
    if (c->video && sub->caps[1].has_rtx) {
        c->rtx_ssrc = ovl_route_new_ssrc(room, sub);
        if (ovl_route_ssrc_map_put(&sub->by_ssrc, c->rtx_ssrc, c) != 0) {
            ovl_route_ssrc_map_del(&sub->by_ssrc, c->ssrc);
            goto Fail;
        }
    }
    /* RFC 3550 §5.1: the first sequence number and timestamp are random. */
    c->last_seq = (uint16_t)ovl_route_rand32(room);
    c->last_ts = ovl_route_rand32(room);
    c->rtx_seq = (uint16_t)ovl_route_rand32(room);
    c->resync = true;
    sub->consumers[sub->n_consumers++] = c;
    pr->consumers[pr->n_consumers++] = c;
    sub->dirty = true;
    *out = c;
    return 0;
Fail:
    free(c);
    return OVL_ERR_LIMIT;
}

static void unlist(ovl_route_consumer_t **list, size_t *n, const ovl_route_consumer_t *c)
{
    for (size_t i = 0; i < *n; i++)
        if (list[i] == c) {
            list[i] = list[--*n];
            return;
        }
}

void ovl_route_consumer_free(ovl_route_consumer_t *c)
{
    ovl_route_participant_t *sub = c->sub;
    unlist(sub->consumers, &sub->n_consumers, c);
    if (c->producer)
        unlist(c->producer->consumers, &c->producer->n_consumers, c);
    ovl_route_ssrc_map_del(&sub->by_ssrc, c->ssrc);
    if (c->rtx_ssrc)
        ovl_route_ssrc_map_del(&sub->by_ssrc, c->rtx_ssrc);
    free(c);
}

void ovl_route_consumer_detach(ovl_route_consumer_t *c)
{
    if (c->producer) {
        unlist(c->producer->consumers, &c->producer->n_consumers, c);
        c->producer = NULL;
    }
    switch (c->state) {
    case OVL_ROUTE_C_NEW: /* never offered, or its section is dead: nothing to retire */
    case OVL_ROUTE_C_REFUSED:
        ovl_route_consumer_free(c);
        return;
    case OVL_ROUTE_C_OFFERED:
    case OVL_ROUTE_C_ACTIVE:
        c->state = OVL_ROUTE_C_CLOSING;
        c->sub->dirty = true;
        return;
    default:
        return;
    }
}

void ovl_route_consumer_restart(ovl_route_consumer_t *c, ovl_time_t now)
{
    if (!c->producer)
        return;
    bool by_receiver;
    c->resync = true;
    ovl_thin_gate_restart(&c->gate);
    if (c->video) {
        c->waiting_kf = true;
        c->wait_since = now;
        if (ovl_route_consumer_level(c, now, &by_receiver) < OVL_THIN_PAUSED) /* else asked when resumed */
            ovl_route_kf_request(c->producer, false, now);
    }
}
