/*
 * One participant's SDP on its way between the router and the client (DESIGN.md "Negotiation").
 *
 * The client offers once and the router answers; from then on only the relay offers, one offer at a
 * time. Two sources make relay offers: the router (tracks added and retired) and this file (an ICE
 * restart, RFC 8445 §9: the current description again with new credentials). They are serialised:
 * while our restart offer is with the client, a router offer is held and sent once the client has
 * answered; while a router offer is with the client, the restart offer waits for its answer. The
 * client's answer goes to whichever made the outstanding offer (the router never sees answers to
 * ours). A router offer sent after the restart carries the new credentials too, so it completes
 * the restart by itself.
 *
 * Every description leaves through ovl_media_sdp_rewrite: msid attribution by public id, the
 * participant's current ICE credentials, and (offers) an o= version that only grows.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/io/media_int.h"

static const char *public_id_of(void *ctx, uint64_t id)
{
    ovl_media_room_t *r = ctx;
    ovl_media_part_t *p = ovl_media_part_find(r->mw, id);
    return p && p->room == r ? p->public_id : NULL;
}

/* Sends `text` to the client as an offer or answer (rewritten); returns a copy of what went out. */
static char *send_sdp(ovl_media_part_t *p, uint32_t type, const char *text)
{
    ovl_media_sdp_edit_t e = {
        .ufrag = p->ufrag,
        .pwd = p->pwd,
        .version = type == OVL_MEDIA_OUT_OFFER ? ++p->sdp_version : 0,
        .public_id = public_id_of,
        .ctx = p->room,
    };
    char *out = NULL, *copy = NULL;
    if (ovl_media_sdp_rewrite(text, &e, &out) != 0 || !(copy = strdup(out))) {
        free(out);
        ovl_media_part_fail(p, "The relay ran out of memory.");
        return NULL;
    }
    ovl_media_worker_emit(p->mw, type, p->id, out);
    p->creds_announced = true;
    return copy;
}

static void send_restart_offer(ovl_media_part_t *p)
{
    char *text = NULL;
    if (!p->local_sdp || ovl_media_sdp_restart_offer(p->local_sdp, p->ufrag, p->pwd, &text) != 0) {
        ovl_media_part_fail(p, "The relay cannot make an ICE restart offer.");
        return;
    }
    free(p->pending_sdp);
    p->pending_sdp = send_sdp(p, OVL_MEDIA_OUT_OFFER, text);
    p->nego = OVL_MEDIA_NEGO_RESTART;
    free(text);
}

void ovl_media_nego_route_sdp(ovl_media_part_t *p, const char *type, const char *text)
{
    if (p->doomed)
        return;
    if (strcmp(type, "answer") == 0) {
        free(p->local_sdp);
        p->local_sdp = send_sdp(p, OVL_MEDIA_OUT_ANSWER, text);
        return;
    }
    if (p->nego == OVL_MEDIA_NEGO_RESTART) {
        free(p->held_offer); /* the router has one offer outstanding at a time: this is it */
        p->held_offer = strdup(text);
        if (!p->held_offer)
            ovl_media_part_fail(p, "The relay ran out of memory.");
        return;
    }
    free(p->pending_sdp);
    p->pending_sdp = send_sdp(p, OVL_MEDIA_OUT_OFFER, text);
    p->nego = OVL_MEDIA_NEGO_ROUTE;
}

void ovl_media_nego_answer(ovl_media_part_t *p, const char *sdp, size_t len)
{
    if (p->doomed)
        return;
    if (p->nego == OVL_MEDIA_NEGO_RESTART) {
        free(p->local_sdp);
        p->local_sdp = p->pending_sdp;
        p->pending_sdp = NULL;
        p->nego = OVL_MEDIA_NEGO_IDLE;
        if (p->held_offer) {
            char *held = p->held_offer;
            p->held_offer = NULL;
            p->pending_sdp = send_sdp(p, OVL_MEDIA_OUT_OFFER, held);
            p->nego = OVL_MEDIA_NEGO_ROUTE;
            free(held);
        }
    } else if (p->nego == OVL_MEDIA_NEGO_ROUTE) {
        char *sent = p->pending_sdp;
        p->pending_sdp = NULL;
        p->nego = OVL_MEDIA_NEGO_IDLE;
        /* The router may offer again from inside (changes batched meanwhile): nego becomes ROUTE. */
        if (ovl_route_participant_answer(p->rp, sdp, len, p->mw->now) == 0) {
            free(p->local_sdp);
            p->local_sdp = sent;
        } else {
            free(sent); /* the router rolled its offer back and offers again later */
        }
        ovl_media_room_arm(p->room);
    } else {
        return; /* no offer outstanding: a stray answer changes nothing */
    }
    if (!p->doomed && !p->creds_announced && p->nego == OVL_MEDIA_NEGO_IDLE)
        send_restart_offer(p);
}

void ovl_media_nego_ice_restart(ovl_media_part_t *p)
{
    if (!p->t || p->doomed)
        return;
    ovl_media_part_new_credentials(p);
    ovl_transport_ice_restart_t r = {.local_ufrag = p->ufrag, .local_pwd = p->pwd};
    if (ovl_transport_restart_ice(p->t, &r, p->mw->now) != 0) {
        ovl_media_part_fail(p, "The media connection cannot be restarted.");
        return;
    }
    p->creds_announced = false;
    ovl_media_part_arm(p);
    if (p->nego == OVL_MEDIA_NEGO_IDLE)
        send_restart_offer(p);
}

void ovl_media_nego_dispose(ovl_media_part_t *p)
{
    free(p->local_sdp);
    free(p->pending_sdp);
    free(p->held_offer);
    p->local_sdp = p->pending_sdp = p->held_offer = NULL;
}
