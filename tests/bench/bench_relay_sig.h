/*
 * bench_relay's signaling side: many WSS connections to `overleg serve` in ONE libwebsockets client
 * context, serviced from one thread (the bench's main thread). tests/integration/ovl_wsclient.h
 * makes one context per client and blocks ~10 ms per idle client per turn, which is fine for a
 * test of three peers but turns a sweep over 50 participants into half a second; here one
 * lws_service() call serves every connection.
 *
 * Received text frames are parsed as JSON and queued per connection until sig_take() takes them;
 * frames to send are queued and written when lws says the connection is writable. TLS accepts the
 * server's self-signed certificate (the bench starts the server with a fresh data directory).
 * Included once, by bench_relay.c.
 */
#ifndef OVL_BENCH_RELAY_SIG_H
#define OVL_BENCH_RELAY_SIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

typedef struct sig_frame {
    struct sig_frame *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE headroom, then the text */
} sig_frame_t;

typedef struct sig_msg {
    struct sig_msg *next;
    json_t *json; /* owned */
} sig_msg_t;

typedef struct sig_conn {
    struct lws *wsi; /* NULL once closed */
    bool established, closed;
    int close_code;
    sig_frame_t *out_head, *out_tail; /* owned */
    char *rx;                         /* owned: the message being reassembled */
    size_t rx_len;
    sig_msg_t *in_head, *in_tail; /* owned */
} sig_conn_t;

typedef struct sig_ctx {
    struct lws_context *ctx;
    lws_sorted_usec_list_t wake;
} sig_ctx_t;

static void sig_push_rx(sig_conn_t *c)
{
    json_error_t e;
    json_t *j = json_loadb(c->rx ? c->rx : "", c->rx_len, 0, &e);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    sig_msg_t *m = j ? calloc(1, sizeof(*m)) : NULL;
    if (!m) {
        json_decref(j);
        return;
    }
    m->json = j;
    if (c->in_tail)
        c->in_tail->next = m;
    else
        c->in_head = m;
    c->in_tail = m;
}

static int sig_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    sig_conn_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = true;
        if (c->out_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "bench_relay: WSS connection failed: %s\n", in ? (const char *)in : "?");
        c->closed = true;
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in && len >= 2)
            c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->closed = true;
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        char *grown = realloc(c->rx, c->rx_len + len + 1);
        if (!grown)
            return -1;
        c->rx = grown;
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
            sig_push_rx(c);
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        sig_frame_t *f = c->out_head;
        if (!f)
            break;
        c->out_head = f->next;
        if (!c->out_head)
            c->out_tail = NULL;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
        free(f);
        if (n < 0)
            return -1;
        if (c->out_head)
            lws_callback_on_writable(wsi);
        break;
    }
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols sig_protocols[] = {
    {"ovl-bench", sig_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Creates the shared client context. 0 or -1. */
static int sig_init(sig_ctx_t *s)
{
    struct lws_context_creation_info info;
    memset(s, 0, sizeof(*s));
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = sig_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    s->ctx = lws_create_context(&info);
    return s->ctx ? 0 : -1;
}

/* Starts connecting c (caller storage, zeroed here) to wss://127.0.0.1:port/ws. 0 or -1. */
static int sig_connect(sig_ctx_t *s, sig_conn_t *c, uint16_t port)
{
    struct lws_client_connect_info ci;
    memset(c, 0, sizeof(*c));
    memset(&ci, 0, sizeof(ci));
    ci.context = s->ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = "/ws";
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                        LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    ci.local_protocol_name = "ovl-bench";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    ci.alpn = "http/1.1";
    if (!lws_client_connect_via_info(&ci)) {
        c->closed = true;
        return -1;
    }
    return 0;
}

static void sig_wake(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

/* One turn for every connection; returns within about `ms` milliseconds even when nothing happens. */
static void sig_service(sig_ctx_t *s, int ms)
{
    lws_sul_schedule(s->ctx, 0, &s->wake, sig_wake, (lws_usec_t)ms * 1000);
    lws_service(s->ctx, 0);
}

/* Queues a JSON message (the caller keeps j). 0 or -1 (closed, no memory). */
static int sig_send(sig_conn_t *c, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    sig_frame_t *f = text && c->wsi && !c->closed ? malloc(sizeof(*f) + LWS_PRE + len) : NULL;
    if (!f) {
        free(text);
        return -1;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, text, len);
    free(text);
    if (c->out_tail)
        c->out_tail->next = f;
    else
        c->out_head = f;
    c->out_tail = f;
    if (c->established)
        lws_callback_on_writable(c->wsi);
    return 0;
}

/* Takes the oldest queued message (a reference the caller json_decref's), or NULL. */
static json_t *sig_take(sig_conn_t *c)
{
    sig_msg_t *m = c->in_head;
    if (!m)
        return NULL;
    c->in_head = m->next;
    if (!c->in_head)
        c->in_tail = NULL;
    json_t *j = m->json;
    free(m);
    return j;
}

/* Frees what a connection holds (after sig_dispose closed the context, or for one never connected). */
static void sig_conn_dispose(sig_conn_t *c)
{
    json_t *j;
    while ((j = sig_take(c)))
        json_decref(j);
    while (c->out_head) {
        sig_frame_t *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    c->out_tail = NULL;
    free(c->rx);
    c->rx = NULL;
}

/* Closes every connection and the context. */
static void sig_dispose(sig_ctx_t *s)
{
    if (s->ctx)
        lws_context_destroy(s->ctx);
    s->ctx = NULL;
}

#endif
