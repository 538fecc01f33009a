/* Prometheus text exposition of the signaling counters. */
#include "signaling/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf_t;

static void add(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
}

static void head(buf_t *b, const char *name, const char *type, const char *help)
{
    add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled series: its header and its value. */
typedef struct scalar {
    const char *name, *type, *help;
    uint64_t value;
} scalar_t;

static void scalars(buf_t *b, const scalar_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        head(b, s[i].name, s[i].type, s[i].help);
        add(b, "%s %llu\n", s[i].name, (unsigned long long)s[i].value);
    }
}

/* One labelled series: a header, then `label="value"` lines. */
typedef struct labelled {
    const char *label;
    uint64_t value;
} labelled_t;

static void series(buf_t *b, const char *name, const char *type, const char *help, const char *key, const labelled_t *v,
                   size_t n)
{
    head(b, name, type, help);
    for (size_t i = 0; i < n; i++)
        add(b, "%s{%s=\"%s\"} %llu\n", name, key, v[i].label, (unsigned long long)v[i].value);
}

static void render_turn(buf_t *b, const ovl_metrics_turn_t *t)
{
    const ovl_turn_stats_t *c = &t->core;
    const scalar_t s[] = {
        {"overleg_turn_sessions", "gauge", "TURN over TLS connections open.", c->sessions},
        {"overleg_turn_allocations", "gauge", "TURN allocations active.", c->allocations},
        {"overleg_turn_allocations_total", "counter", "TURN allocations made.", c->allocations_total},
        {"overleg_turn_allocations_expired_total", "counter", "TURN allocations that reached their lifetime.",
         c->expired},
        {"overleg_turn_permissions_total", "counter", "TURN CreatePermission requests granted.", c->permissions},
        {"overleg_turn_channel_binds_total", "counter", "TURN ChannelBind requests granted.", c->channel_binds},
        {"overleg_turn_requests_total", "counter", "TURN requests handled.", c->requests},
    };
    scalars(b, s, OVL_ARRAY_LEN(s));
    const labelled_t e[] = {
        {"400", c->err_400}, {"401", c->err_401}, {"403", c->err_403},         {"420", c->err_420},
        {"437", c->err_437}, {"438", c->err_438}, {"441", c->err_441},         {"442", c->err_442},
        {"486", c->err_486}, {"508", c->err_508}, {"other", c->err_4xx_other},
    };
    series(b, "overleg_turn_refused_total", "counter", "TURN requests refused, by error code.", "code", e,
           OVL_ARRAY_LEN(e));
    const labelled_t pk[] = {{"to_relay", c->to_peer_packets}, {"to_client", c->from_peer_packets}};
    series(b, "overleg_turn_relayed_packets_total", "counter",
           "Datagrams relayed through TURN allocations: client to relay, relay to client.", "direction", pk,
           OVL_ARRAY_LEN(pk));
    const labelled_t by[] = {{"to_relay", c->to_peer_bytes}, {"to_client", c->from_peer_bytes}};
    series(b, "overleg_turn_relayed_bytes_total", "counter", "Payload bytes relayed through TURN allocations.",
           "direction", by, OVL_ARRAY_LEN(by));
    const labelled_t d[] = {{"no-permission", c->dropped}, {"client-queue", t->queue_drops}, {"media", t->peer_drops}};
    series(b, "overleg_turn_dropped_total", "counter",
           "TURN data dropped: no allocation, permission or channel (or malformed); a client's queue full; no "
           "media worker buffer.",
           "reason", d, OVL_ARRAY_LEN(d));
}

char *ovl_metrics_render(const ovl_metrics_t *m, const ovl_metrics_gauges_t *g)
{
    buf_t b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';

    const scalar_t gauges[] = {
        {"overleg_meetings", "gauge", "Meetings with at least one participant or waiting guest.", g->meetings},
        {"overleg_participants", "gauge", "Participants admitted to a meeting.", g->participants},
        {"overleg_lobby_waiting", "gauge", "Guests waiting in a lobby.", g->waiting},
        {"overleg_websocket_connections", "gauge", "Open WebSocket connections.", g->ws_connections},
        {"overleg_tcp_pending", "gauge", "Accepted TCP connections whose first byte has not arrived.", g->tcp_pending},
        {"overleg_draining", "gauge", "1 while the server drains after SIGTERM.", g->draining ? 1u : 0u},
    };
    scalars(&b, gauges, OVL_ARRAY_LEN(gauges));

    head(&b, "overleg_messages_received_total", "counter", "WebSocket messages received, by type.");
    for (int t = 0; t < OVL_MSG_COUNT; t++)
        add(&b, "overleg_messages_received_total{type=\"%s\"} %llu\n", ovl_msg_type_name((ovl_msg_type_t)t),
            (unsigned long long)m->messages_in[t]);
    add(&b, "overleg_messages_received_total{type=\"invalid\"} %llu\n",
        (unsigned long long)m->messages_in[OVL_MSG_COUNT]);
    head(&b, "overleg_messages_sent_total", "counter", "WebSocket messages sent, by type.");
    for (int t = 0; t < OVL_OUT_COUNT; t++)
        add(&b, "overleg_messages_sent_total{type=\"%s\"} %llu\n", ovl_out_type_name((ovl_out_type_t)t),
            (unsigned long long)m->messages_out[t]);
    head(&b, "overleg_errors_total", "counter", "Error messages sent to clients, by code.");
    for (int c = 1; c < OVL_E_COUNT; c++)
        add(&b, "overleg_errors_total{code=\"%s\"} %llu\n", ovl_ecode_name((ovl_ecode_t)c),
            (unsigned long long)m->errors[c]);

    const scalar_t counters[] = {
        {"overleg_joins_total", "counter", "Participants admitted to meetings.", m->joins},
        {"overleg_http_requests_total", "counter", "HTTP requests served.", m->http_requests},
        {"overleg_tcp_accepted_total", "counter", "TCP connections accepted on the listening port.", m->tcp_accepted},
        {"overleg_tcp_raw_total", "counter", "Accepted connections that were neither TLS nor HTTP.", m->tcp_raw},
        {"overleg_tcp_dropped_total", "counter", "Accepted connections closed before classification.", m->tcp_dropped},
        {"overleg_meetings_created_total", "counter", "Meetings created through the REST API.", m->meetings_created},
    };
    scalars(&b, counters, OVL_ARRAY_LEN(counters));
    if (g->turn)
        render_turn(&b, g->turn);

    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
