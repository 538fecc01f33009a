/*
 * TURN over TLS on the HTTPS port (issue 6): runs the sans-IO TURN core (relay/proto/turn.h) in
 * the signaling thread's lws loop.
 *
 * libwebsockets hands a TLS connection whose first decrypted byte is not HTTP to the raw protocol
 * "ovl-turn" (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG): each such connection is
 * one ovl_turn session. Its answers and relayed data go into one byte queue per connection
 * (allocated once, OVL_TURN_GLUE_QUEUE_MAX at most; no allocation per message), written on
 * RAW_WRITEABLE in chunks of up to OVL_TURN_GLUE_WRITE_MAX bytes, so several messages share a
 * TLS record. Plain (non-TLS) raw connections are closed.
 *
 * Allocations may reach only the relay's own media addresses, and nothing goes through a socket:
 * a datagram from an allocation to a permitted peer goes to the `to_peer` hook (the media plane
 * hands it to the worker that owns that address, cmd/overleg/media_glue.c), and what the media
 * plane sends to a relayed address comes back through ovl_turn_glue_from_peer. So the relay need
 * not reach its own announced (perhaps public, NATed) address, and no packet crosses the kernel
 * twice.
 */
#ifndef OVL_TURN_GLUE_H
#define OVL_TURN_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "signaling/metrics.h"

#define OVL_TURN_GLUE_PROTOCOL  "ovl-turn"
#define OVL_TURN_GLUE_QUEUE_MAX (256u * 1024u) /* bytes queued towards one client before dropping */
#define OVL_TURN_GLUE_WRITE_MAX (16u * 1024u)  /* bytes per lws_write (one TLS record at most) */

typedef struct ovl_turn_glue ovl_turn_glue_t;

/** Where allocations' datagrams go: from relayed address `relayed` to the relay's media address
 * `peer` (always a configured one). data is borrowed for the call. Returns 0 or a negative
 * OVL_ERR_* (dropped and counted). */
typedef int (*ovl_turn_glue_peer_fn)(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data,
                                     size_t len);

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
 * out. Until ovl_turn_glue_set_peer, datagrams towards peers are dropped (counted). Returns 0,
 * OVL_ERR_ARG (no peer) or OVL_ERR_NOMEM.
 */
int ovl_turn_glue_new(struct lws_vhost *vh, const ovl_turn_glue_config_t *cfg, ovl_turn_glue_t **out);

/** Frees the server; call after the lws context is destroyed (its CLOSE callbacks use the glue). NULL is fine. */
void ovl_turn_glue_free(ovl_turn_glue_t *g);

/** Installs the hook that takes allocations' datagrams (fn and ctx borrowed; fn NULL: drop them). */
void ovl_turn_glue_set_peer(ovl_turn_glue_t *g, ovl_turn_glue_peer_fn fn, void *ctx);

/**
 * A datagram from the relay's media address `peer` to relayed address `relayed` (the media
 * plane's answer towards a TURN client), at monotonic time now: goes to the allocation's client
 * as ChannelData or a Data indication, if the allocation exists and permits peer (else dropped
 * and counted). data is borrowed for the call. Not from inside the to_peer hook.
 */
void ovl_turn_glue_from_peer(ovl_turn_glue_t *g, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data,
                             size_t len, ovl_time_t now);

/** The lws callback of the raw protocol "ovl-turn"; g may be NULL (closes). */
int ovl_turn_glue_callback(ovl_turn_glue_t *g, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len);

/** Expiries and the wall clock; call about every 200 ms. */
void ovl_turn_glue_tick(ovl_turn_glue_t *g, ovl_time_t now, int64_t unix_time);

/** The TURN counters for /metrics (core and glue) into *out. */
void ovl_turn_glue_stats(const ovl_turn_glue_t *g, ovl_metrics_turn_t *out);

#endif
