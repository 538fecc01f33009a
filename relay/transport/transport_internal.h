/*
 * Private to relay/transport: the transport object shared by transport.c (lifecycle, demux, DTLS,
 * SRTP, events) and transport_ice.c (both ICE roles, paths, restart, map registration).
 */
#ifndef OVL_TRANSPORT_INTERNAL_H
#define OVL_TRANSPORT_INTERNAL_H

#include <stdbool.h>

#include "relay/proto/dtls.h"
#include "relay/proto/ice.h"
#include "relay/proto/srtp.h"
#include "relay/transport/transport.h"
#include "relay/transport/transport_map.h"

#define OVL_TRANSPORT_MAX_EVENTS 8    /* queued per public call; the most one call produces is 4 */
#define OVL_TRANSPORT_STUN_MAX   1280 /* a check or answer we build (USERNAME <= 513 bytes) */
#define OVL_TRANSPORT_REASON_MAX 200

struct ovl_transport {
    ovl_transport_role_t role;
    ovl_transport_state_t state;
    ovl_transport_map_t *map; /* borrowed, optional */
    ovl_transport_send_cb send;
    ovl_transport_media_cb on_rtp, on_rtcp;
    ovl_transport_state_cb on_state;
    void *user; /* borrowed */

    /* ICE: one agent per role. */
    union {
        ovl_ice_lite_t lite;     /* server */
        ovl_ice_client_t client; /* client */
    } ice;
    ovl_ice_client_config_t client_cfg; /* client: kept to re-initialise the agent on a restart */
    ovl_ice_path_t cands[OVL_TRANSPORT_MAX_CANDIDATES];
    size_t n_cands;
    ovl_ice_ufrag_t ufrag, old_ufrag; /* local; the map borrows .s while registered */
    bool ufrag_in_map, old_ufrag_in_map;
    bool restart_pending; /* checks with old_ufrag are still answered (server) / old path still used */
    bool ice_failed;
    bool has_path;
    ovl_ice_path_t path; /* media and DTLS go here: the selected pair (client: kept during a restart) */
    bool has_dtls_reply;
    ovl_ice_path_t dtls_reply; /* server, before any nomination: where the last trusted DTLS came from */
    ovl_ice_path_t known[OVL_TRANSPORT_MAX_PATHS]; /* trusted paths registered in the map */
    size_t n_known;

    /* DTLS-SRTP. */
    ovl_dtls_t *dtls; /* owned */
    bool dtls_failed, closed;
    ovl_srtp_profile_t profile;
    ovl_srtp_session_t *srtp_in, *srtp_out; /* owned; made when DTLS connects */

    /* Events waiting for the end of the current public call, each with its own reason text. */
    struct {
        ovl_transport_event_t ev;
        char reason[OVL_TRANSPORT_REASON_MAX];
    } events[OVL_TRANSPORT_MAX_EVENTS];
    size_t n_events;
    bool delivering;

    ovl_transport_stats_t stats;
    uint8_t scratch[OVL_TRANSPORT_STUN_MAX]; /* STUN being built */
};

/* transport.c */
void ovl_transport_emit(ovl_transport_t *t, ovl_transport_event_type_t type);
void ovl_transport_fail(ovl_transport_t *t, ovl_transport_event_type_t type, int error, const char *reason);
void ovl_transport_update_state(ovl_transport_t *t);
void ovl_transport_deliver_events(ovl_transport_t *t);
void ovl_transport_output(ovl_transport_t *t, const ovl_ice_path_t *to, const uint8_t *data, size_t len);

/* transport_ice.c */
int ovl_transport_ice_init(ovl_transport_t *t, const ovl_transport_config_t *cfg, ovl_time_t now);
void ovl_transport_ice_dispose(ovl_transport_t *t);
int ovl_transport_ice_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                              ovl_time_t now);
ovl_time_t ovl_transport_ice_next_timeout(const ovl_transport_t *t);
void ovl_transport_ice_on_timeout(ovl_transport_t *t, ovl_time_t now);
int ovl_transport_ice_restart(ovl_transport_t *t, const ovl_transport_ice_restart_t *r, ovl_time_t now);

#endif
