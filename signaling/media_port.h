/*
 * The seam between signaling and the media plane (the SFU relay, relay/io/media.h; cmd/overleg joins them).
 *
 * Commands go down through ovl_media_port_t, a table of functions plus a context that main.c may
 * install; they are called on the signaling thread and must not block (the relay queues them to
 * its worker). Participants are named by a process-unique 64-bit id (the connection id).
 *
 * Events come up as ovl_media_event_t, delivered on the signaling thread through
 * ovl_server_media_event() (the relay wakes the signaling loop with an eventfd-woken queue and
 * lws_cancel_service, then drains its queue there) or ovl_hub_media_event() in tests.
 *
 * Negotiation (DESIGN.md "Negotiation"): the client sends the first offer after welcome; the relay
 * answers (event ANSWER); afterwards only the relay offers (event OFFER, on joins and leaves) and
 * the client answers. Each participant has its own transport, so a renegotiation never touches
 * anyone else's. ice-restart asks the relay for fresh ICE credentials in a new offer.
 *
 * With no port installed, `offer` gets error media-unavailable.
 */
#ifndef OVL_MEDIA_PORT_H
#define OVL_MEDIA_PORT_H

#include <stdint.h>

typedef struct ovl_media_port {
    void *ctx; /* borrowed; passed back to every function */
    /**
     * A participant was admitted to meeting `meeting_id` (a room should exist for it). `public_id`
     * is its id in the protocol ("p3"): the relay announces its tracks under it (PROTOCOL.md, Tracks).
     */
    int (*participant_joined)(void *ctx, const char *meeting_id, uint64_t participant, const char *public_id);
    /** The participant's first SDP offer (text borrowed for the call). 0 or a negative OVL_ERR_*. */
    int (*client_offer)(void *ctx, uint64_t participant, const char *sdp);
    /** The participant's answer to a relay offer. */
    int (*client_answer)(void *ctx, uint64_t participant, const char *sdp);
    /** The participant asks for an ICE restart (the relay sends a new offer with new credentials). */
    int (*ice_restart)(void *ctx, uint64_t participant);
    /** The participant left (or was removed); release its transport. */
    void (*participant_left)(void *ctx, uint64_t participant);
    /** The meeting ended (host, revocation, shutdown): everything in it goes. */
    void (*meeting_ended)(void *ctx, const char *meeting_id);
    /**
     * The participant's `receive` wish: video 0 stops the camera video forwarded to it (screen
     * shares and audio go on), 1 resumes it at a key frame. May be NULL (the wish is then ignored).
     */
    int (*receive)(void *ctx, uint64_t participant, int video);
} ovl_media_port_t;

typedef enum {
    OVL_MEDIA_EV_OFFER = 0,      /* send `sdp` to `participant` as an offer */
    OVL_MEDIA_EV_ANSWER,         /* send `sdp` to `participant` as an answer (to its first offer) */
    OVL_MEDIA_EV_FAILED,         /* the participant's media failed or consent was lost: treat as leave */
    OVL_MEDIA_EV_ACTIVE_SPEAKER, /* `participant` is now the active speaker in its meeting */
} ovl_media_event_type_t;

typedef struct ovl_media_event {
    ovl_media_event_type_t type;
    uint64_t participant;
    const char *sdp; /* OFFER, ANSWER; borrowed for the call */
} ovl_media_event_t;

#endif
