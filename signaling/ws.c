/* WebSocket connections: framing limits, per-address limits, the send queue, and the hub. */
#include "signaling/server_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_QUEUE_MAX (4u << 20) /* a client this far behind is dropped */
#define CLOSE_GRACE_S 5          /* seconds to flush the last messages before a close */

static ovl_session_t **slot_of(ovl_server_t *s, uint64_t conn)
{
    ovl_session_t **p = &s->ws[conn % OVL_WS_BUCKETS];
    while (*p && (*p)->conn != conn)
        p = &(*p)->next;
    return p;
}

static ip_count_t *ip_entry(ovl_server_t *s, const char *ip, int create)
{
    for (size_t i = 0; i < s->nips; i++)
        if (strcmp(s->ips[i].ip, ip) == 0)
            return &s->ips[i];
    if (!create)
        return NULL;
    if (s->nips == s->capips) {
        size_t cap = s->capips ? s->capips * 2 : 16;
        ip_count_t *grown = realloc(s->ips, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        s->ips = grown;
        s->capips = cap;
    }
    ip_count_t *e = &s->ips[s->nips++];
    snprintf(e->ip, sizeof(e->ip), "%s", ip);
    e->n = 0;
    return e;
}

static void ip_release(ovl_server_t *s, const char *ip)
{
    ip_count_t *e = ip_entry(s, ip, 0);
    if (e && e->n > 0 && --e->n == 0) {
        *e = s->ips[--s->nips]; /* unordered removal */
    }
}

void ovl_ws_hub_send(void *ud, uint64_t conn, const char *text, size_t len)
{
    ovl_server_t *s = ud;
    ovl_session_t *pss = *slot_of(s, conn);
    ovl_out_frame_t *f;

    if (!pss || pss->close_code)
        return;
    if (pss->out_bytes + len > OUT_QUEUE_MAX || !(f = malloc(sizeof(*f) + LWS_PRE + len))) {
        ovl_ws_hub_close(s, conn, OVL_CLOSE_POLICY, "too slow");
        return;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, text, len);
    if (pss->out_tail)
        pss->out_tail->next = f;
    else
        pss->out_head = f;
    pss->out_tail = f;
    pss->out_bytes += len;
    lws_callback_on_writable(pss->wsi);
}

void ovl_ws_hub_close(void *ud, uint64_t conn, int code, const char *reason)
{
    ovl_server_t *s = ud;
    ovl_session_t *pss = *slot_of(s, conn);
    if (!pss || pss->close_code)
        return;
    pss->close_code = code;
    snprintf(pss->close_reason, sizeof(pss->close_reason), "%s", reason ? reason : "");
    /* Flush what is queued (the error or end message), then close; never wait forever. */
    lws_set_timeout(pss->wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_GRACE_S);
    lws_callback_on_writable(pss->wsi);
}

static void session_free_ws(ovl_session_t *pss)
{
    while (pss->out_head) {
        ovl_out_frame_t *f = pss->out_head;
        pss->out_head = f->next;
        free(f);
    }
    pss->out_tail = NULL;
    pss->out_bytes = 0;
    free(pss->rx);
    pss->rx = NULL;
    pss->rx_len = 0;
}

/* Refuses a new connection with an error message and a close, through the hub's encoder. */
static void refuse(ovl_server_t *s, ovl_session_t *pss, ovl_ecode_t code, int close_code)
{
    ovl_log_event(s->log, OVL_LOG_INFO, "ws-refused", "peer", pss->ip, "code", ovl_ecode_name(code), NULL);
    ovl_hub_send_error(s->hub, pss->conn, code);
    ovl_ws_hub_close(s, pss->conn, close_code, ovl_ecode_name(code));
}

static int established(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    size_t rooms, admitted, waiting, conns;
    ip_count_t *ipc;

    ovl_hub_counts(s->hub, &rooms, &admitted, &waiting, &conns);
    pss->wsi = wsi;
    pss->conn = ++s->next_conn;
    if (!lws_get_peer_simple(wsi, pss->ip, sizeof(pss->ip)))
        snprintf(pss->ip, sizeof(pss->ip), "unknown");
    if (!(ipc = ip_entry(s, pss->ip, 1)) || ovl_hub_connect(s->hub, pss->conn, ovl_server_now()) != 0) {
        pss->conn = 0;
        return -1;
    }
    ipc->n++;
    pss->next = NULL;
    *slot_of(s, pss->conn) = pss;
    s->ws_count++;
    if (s->draining || s->drain_requested)
        refuse(s, pss, OVL_E_DRAINING, OVL_CLOSE_GOING_AWAY);
    else if (ipc->n > s->cfg.max_connections_per_ip)
        refuse(s, pss, OVL_E_TOO_MANY_CONNECTIONS, OVL_CLOSE_POLICY);
    else if (conns - admitted - waiting >= s->cfg.max_pending)
        refuse(s, pss, OVL_E_TOO_MANY_CONNECTIONS, OVL_CLOSE_TRY_AGAIN);
    return 0;
}

static int receive(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss, const void *in, size_t len)
{
    int final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;

    if (pss->close_code)
        return 0;
    if (!pss->rx_refused && pss->rx_len + len > s->cfg.max_frame_bytes) {
        pss->rx_refused = 1;
        pss->rx_discarded = 0;
        ovl_hub_send_error(s->hub, pss->conn, OVL_E_TOO_LARGE);
        free(pss->rx);
        pss->rx = NULL;
        pss->rx_len = 0;
    }
    if (pss->rx_refused) {
        /* Read the oversized message to its end before closing: closing a socket with unread data
         * sends a reset, and the client would lose the error. A message that never ends is cut. */
        pss->rx_discarded += len;
        if (final || pss->rx_discarded > 16 * (size_t)s->cfg.max_frame_bytes)
            ovl_ws_hub_close(s, pss->conn, OVL_CLOSE_TOO_BIG, "too-large");
        return 0;
    }
    if (len) {
        char *grown = realloc(pss->rx, pss->rx_len + len);
        if (!grown)
            return -1;
        pss->rx = grown;
        memcpy(pss->rx + pss->rx_len, in, len);
        pss->rx_len += len;
    }
    if (final) {
        /* Binary frames are not part of the protocol: the parser refuses them like any bad JSON. */
        ovl_hub_receive(s->hub, pss->conn, pss->rx ? pss->rx : "", pss->rx_len, ovl_server_wall(), ovl_server_now());
        free(pss->rx);
        pss->rx = NULL;
        pss->rx_len = 0;
    }
    return 0;
}

static int writeable(struct lws *wsi, ovl_session_t *pss)
{
    ovl_out_frame_t *f = pss->out_head;
    if (f) {
        pss->out_head = f->next;
        if (!pss->out_head)
            pss->out_tail = NULL;
        pss->out_bytes -= f->len;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
        free(f);
        if (n < 0)
            return -1;
        if (pss->out_head || pss->close_code)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (pss->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)pss->close_code, (unsigned char *)pss->close_reason,
                         strlen(pss->close_reason));
        return -1;
    }
    return 0;
}

static void closed(ovl_server_t *s, ovl_session_t *pss)
{
    if (pss->conn) {
        ovl_session_t **slot = slot_of(s, pss->conn);
        if (*slot == pss)
            *slot = pss->next;
        s->ws_count--;
        ip_release(s, pss->ip);
        ovl_hub_disconnect(s->hub, pss->conn);
        pss->conn = 0;
    }
    session_free_ws(pss);
}

int ovl_ws_callback(ovl_server_t *s, struct lws *wsi, enum lws_callback_reasons reason, ovl_session_t *pss, void *in,
                    size_t len)
{
    char uri[64];
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* WebSocket only at /ws and only over TLS. */
        if (ovl_server_is_plain(wsi) || lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, "/ws") != 0)
            return 1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        return established(s, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return receive(s, wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED:
        closed(s, pss);
        return 0;
    default:
        return 0;
    }
}
