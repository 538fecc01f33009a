/*
 * The hub: every WebSocket connection and every live meeting room of the server, sans-IO. It
 * parses frames (protocol), rate-limits them (token bucket per connection), authenticates joins
 * (token + meetings store), routes in-room messages to the room, and turns room output into JSON
 * text for the transport. The server (libwebsockets) only moves bytes and calls in with `now`.
 */
#ifndef OVL_HUB_H
#define OVL_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"
#include "signaling/log.h"
#include "signaling/media_port.h"
#include "signaling/metrics.h"
#include "signaling/room.h"
#include "signaling/store.h"

typedef struct ovl_hub ovl_hub_t;

typedef struct ovl_hub_config {
    const uint8_t *secret; /* borrowed: token key */
    size_t secret_len;
    ovl_store_t *store;            /* borrowed */
    const ovl_media_port_t *media; /* borrowed, NULL = no media plane */
    ovl_metrics_t *metrics;        /* borrowed, may be NULL */
    ovl_log_t *log;                /* borrowed, may be NULL */
    ovl_room_limits_t limits;
    uint32_t rate_per_second; /* token bucket refill */
    uint32_t rate_burst;      /* token bucket size; this many refused frames in a row close the socket */
    ovl_time_t join_timeout;  /* a connection that has not joined after this is closed */
    const char *turn_uris;    /* borrowed: comma-separated TURN URIs for welcome, NULL/"" = none */
    const char *turn_secret;  /* borrowed: coturn static-auth-secret (use-auth-secret) */
} ovl_hub_config_t;

/** Lifetime of the TURN credentials handed out in welcome (coturn's REST scheme), in seconds. */
#define OVL_TURN_TTL (12 * 3600)

/**
 * TURN servers for participant `who` at wall time `wall` as the welcome's "turn" array (new
 * reference): username "EXPIRY:who", credential base64(HMAC-SHA1(secret, username)) — coturn's
 * use-auth-secret scheme. An empty array when none are configured.
 */
json_t *ovl_hub_turn_json(const char *uris, const char *secret, const char *who, int64_t wall);

typedef struct ovl_hub_io {
    /** Send one text frame (`len` bytes; the text is borrowed for the call). */
    void (*send)(void *ud, uint64_t conn, const char *text, size_t len);
    /** Close the WebSocket with `code` and `reason`; the hub has forgotten the connection's room. */
    void (*close)(void *ud, uint64_t conn, int code, const char *reason);
    void *ud;
} ovl_hub_io_t;

/** Makes a hub; `cfg` is copied (its pointers stay borrowed), `io` too. 0, OVL_ERR_ARG or NOMEM. */
int ovl_hub_new(const ovl_hub_config_t *cfg, const ovl_hub_io_t *io, ovl_hub_t **out);

/** Frees the hub and its rooms without telling anyone (drain first). NULL is fine. */
void ovl_hub_free(ovl_hub_t *hub);

/** A WebSocket connection `conn` (unique, non-zero) opened at `now`. 0 or OVL_ERR_NOMEM / ARG. */
int ovl_hub_connect(ovl_hub_t *hub, uint64_t conn, ovl_time_t now);

/** The connection is gone (closed by either side): leaves its meeting. Unknown conn: nothing. */
void ovl_hub_disconnect(ovl_hub_t *hub, uint64_t conn);

/**
 * One complete text frame from `conn`. `wall` is the unix time (token and meeting expiry), `now`
 * the monotonic clock (rate limit). Every refusal is answered with `error {code}`.
 */
void ovl_hub_receive(ovl_hub_t *hub, uint64_t conn, const char *data, size_t len, int64_t wall, ovl_time_t now);

/** Sends `error {code}` to `conn` for a fault the transport found (too-large, too-many-connections). */
void ovl_hub_send_error(ovl_hub_t *hub, uint64_t conn, ovl_ecode_t code);

/** Closes connections that have not joined within the join timeout. */
void ovl_hub_tick(ovl_hub_t *hub, ovl_time_t now);

/**
 * Re-reads every live meeting from the store and ends those revoked (reason "revoked") or
 * expired at `wall` (reason "expired"), disconnecting their participants.
 */
void ovl_hub_revalidate(ovl_hub_t *hub, int64_t wall);

/** Draining: joins are refused from now on (error draining); every room ends with "shutdown". */
void ovl_hub_drain(ovl_hub_t *hub);

/** An event from the media plane (see media_port.h); unknown participants are ignored. */
void ovl_hub_media_event(ovl_hub_t *hub, const ovl_media_event_t *ev);

/** Gauges: live rooms, admitted participants, waiting guests, connections known to the hub. */
void ovl_hub_counts(const ovl_hub_t *hub, size_t *rooms, size_t *admitted, size_t *waiting, size_t *conns);

#endif
