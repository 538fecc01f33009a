/*
 * TURN over TLS on the HTTPS port (issue 6): runs the sans-IO TURN core (relay/proto/turn.h) in
 * the signaling thread's lws loop.
 *
 * libwebsockets hands a TLS connection whose first decrypted byte is not HTTP to the raw protocol
 * "ovl-turn" (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG): each such connection is
 * one ovl_turn session, its answers go through a bounded queue written on RAW_WRITEABLE. Plain
 * (non-TLS) raw connections are closed. Datagrams from an allocation to a permitted peer (the
 * relay's own media addresses) leave from a UDP socket of that allocation (bound to an ephemeral
 * port on the relay's address, adopted into lws as the raw file "ovl-turn-udp"), so the relay sees
 * an ordinary UDP client; its answers come back through ovl_turn_server_from_peer.
 */
#ifndef OVL_TURN_GLUE_H
#define OVL_TURN_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"

#define OVL_TURN_GLUE_PROTOCOL     "ovl-turn"
#define OVL_TURN_GLUE_UDP_PROTOCOL "ovl-turn-udp"
#define OVL_TURN_GLUE_QUEUE_MAX    (256u * 1024u) /* bytes queued towards one client before dropping */

typedef struct ovl_turn_glue ovl_turn_glue_t;

typedef struct ovl_turn_glue_config {
    const char *realm;       /* REALM (the public host) */
    const char *secret;      /* the REST secret (the one welcome's credentials use), NUL-terminated */
    const ovl_addr_t *peers; /* the relay's media addresses (IP + worker port); copied */
    size_t n_peers;
    ovl_time_t now;
    int64_t unix_time;
} ovl_turn_glue_config_t;

/**
 * Creates the glue for vhost `vh` (borrowed). Peers of another family than the first are left
 * out. Returns 0, OVL_ERR_ARG (no peer) or OVL_ERR_NOMEM.
 */
int ovl_turn_glue_new(struct lws_vhost *vh, const ovl_turn_glue_config_t *cfg, ovl_turn_glue_t **out);

/** Frees the server; call after the lws context is destroyed (its CLOSE callbacks use the glue). NULL is fine. */
void ovl_turn_glue_free(ovl_turn_glue_t *g);

/** The lws callback of both raw protocols ("ovl-turn" and "ovl-turn-udp"); g may be NULL (closes). */
int ovl_turn_glue_callback(ovl_turn_glue_t *g, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len);

/** Expiries and the wall clock; call about every 200 ms. */
void ovl_turn_glue_tick(ovl_turn_glue_t *g, ovl_time_t now, int64_t unix_time);

#endif
