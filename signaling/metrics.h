/* Counters of the signaling server and their Prometheus text exposition (format 0.0.4). */
#ifndef OVL_METRICS_H
#define OVL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/turn.h"
#include "signaling/protocol.h"

typedef struct ovl_metrics {
    uint64_t messages_in[OVL_MSG_COUNT + 1]; /* by type; the last slot counts unparsable frames */
    uint64_t messages_out[OVL_OUT_COUNT];    /* by type */
    uint64_t errors[OVL_E_COUNT];            /* error messages sent, by code */
    uint64_t joins;                          /* admissions (welcome sent) */
    uint64_t http_requests;
    uint64_t tcp_accepted;     /* connections accepted on the listening port */
    uint64_t tcp_raw;          /* of which were not TLS/HTTP (ICE-TCP candidates) */
    uint64_t tcp_dropped;      /* closed before their first byte (timeout, cap, no handler) */
    uint64_t meetings_created; /* through the REST API */
} ovl_metrics_t;

/* The built-in TURN server's counters (signaling/turn_glue.c). */
typedef struct ovl_metrics_turn {
    ovl_turn_stats_t core; /* the TURN core's (relay/proto/turn.h) */
    uint64_t queue_drops;  /* messages to clients dropped: the connection's queue was full */
    uint64_t peer_drops;   /* datagrams to the media plane dropped (no worker buffer, not a worker address) */
} ovl_metrics_turn_t;

/* Values sampled when rendering. */
typedef struct ovl_metrics_gauges {
    uint64_t meetings;       /* meetings with someone in them */
    uint64_t participants;   /* admitted */
    uint64_t waiting;        /* in lobbies */
    uint64_t ws_connections; /* open WebSocket connections */
    uint64_t tcp_pending;    /* accepted, first byte not seen yet */
    int draining;
    const ovl_metrics_turn_t *turn; /* NULL: no built-in TURN server (no overleg_turn_* lines) */
} ovl_metrics_gauges_t;

/**
 * Renders every metric as Prometheus text into a malloc'd NUL-terminated string (caller frees);
 * NULL on NOMEM.
 */
char *ovl_metrics_render(const ovl_metrics_t *m, const ovl_metrics_gauges_t *g);

#endif
