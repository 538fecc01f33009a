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

char *ovl_metrics_render(const ovl_metrics_t *m, const ovl_metrics_gauges_t *g)
{
    buf_t b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';

    head(&b, "overleg_meetings", "gauge", "Meetings with at least one participant or waiting guest.");
    add(&b, "overleg_meetings %llu\n", (unsigned long long)g->meetings);
    head(&b, "overleg_participants", "gauge", "Participants admitted to a meeting.");
    add(&b, "overleg_participants %llu\n", (unsigned long long)g->participants);
    head(&b, "overleg_lobby_waiting", "gauge", "Guests waiting in a lobby.");
    add(&b, "overleg_lobby_waiting %llu\n", (unsigned long long)g->waiting);
    head(&b, "overleg_websocket_connections", "gauge", "Open WebSocket connections.");
    add(&b, "overleg_websocket_connections %llu\n", (unsigned long long)g->ws_connections);
    head(&b, "overleg_tcp_pending", "gauge", "Accepted TCP connections whose first byte has not arrived.");
    add(&b, "overleg_tcp_pending %llu\n", (unsigned long long)g->tcp_pending);
    head(&b, "overleg_draining", "gauge", "1 while the server drains after SIGTERM.");
    add(&b, "overleg_draining %d\n", g->draining ? 1 : 0);

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

    head(&b, "overleg_joins_total", "counter", "Participants admitted to meetings.");
    add(&b, "overleg_joins_total %llu\n", (unsigned long long)m->joins);
    head(&b, "overleg_http_requests_total", "counter", "HTTP requests served.");
    add(&b, "overleg_http_requests_total %llu\n", (unsigned long long)m->http_requests);
    head(&b, "overleg_tcp_accepted_total", "counter", "TCP connections accepted on the listening port.");
    add(&b, "overleg_tcp_accepted_total %llu\n", (unsigned long long)m->tcp_accepted);
    head(&b, "overleg_tcp_raw_total", "counter", "Accepted connections that were neither TLS nor HTTP.");
    add(&b, "overleg_tcp_raw_total %llu\n", (unsigned long long)m->tcp_raw);
    head(&b, "overleg_tcp_dropped_total", "counter", "Accepted connections closed before classification.");
    add(&b, "overleg_tcp_dropped_total %llu\n", (unsigned long long)m->tcp_dropped);
    head(&b, "overleg_meetings_created_total", "counter", "Meetings created through the REST API.");
    add(&b, "overleg_meetings_created_total %llu\n", (unsigned long long)m->meetings_created);

    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
