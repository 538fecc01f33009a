/* Synchronous WSS test client over libwebsockets. See ovl_wsclient.h. */
#include "ovl_wsclient.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

typedef struct frame {
    struct frame *next;
    size_t len;
    int binary;
    unsigned char data[]; /* LWS_PRE headroom, then the payload */
} frame_t;

typedef struct rxmsg {
    struct rxmsg *next;
    json_t *json;
} rxmsg_t;

struct ovl_tc {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t wake;
    int established, failed, closed, close_code;
    frame_t *out_head, *out_tail;
    char *rx;
    size_t rx_len;
    rxmsg_t *in_head;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_rx(ovl_tc_t *c)
{
    json_error_t e;
    json_t *j = json_loadb(c->rx ? c->rx : "", c->rx_len, 0, &e);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    if (!j)
        return;
    if (getenv("OVL_TC_DEBUG")) {
        char *t = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "tc %p <- %.200s\n", (void *)c, t ? t : "?");
        free(t);
    }
    rxmsg_t *m = calloc(1, sizeof(*m)), **tail = &c->in_head;
    if (!m) {
        json_decref(j);
        return;
    }
    m->json = j;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ovl_tc_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = 1;
        if (c->out_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (getenv("OVL_TC_DEBUG"))
            fprintf(stderr, "tc %p connection error: %s\n", (void *)c, in ? (const char *)in : "?");
        c->failed = 1;
        c->closed = 1;
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in && len >= 2)
            c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (getenv("OVL_TC_DEBUG"))
            fprintf(stderr, "tc %p closed (%d)\n", (void *)c, c->close_code);
        c->closed = 1;
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
            push_rx(c);
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        frame_t *f = c->out_head;
        if (!f)
            break;
        c->out_head = f->next;
        if (!c->out_head)
            c->out_tail = NULL;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        free(f);
        if (n < 0) {
            if (getenv("OVL_TC_DEBUG"))
                fprintf(stderr, "tc %p write failed\n", (void *)c);
            return -1;
        }
        if (c->out_head)
            lws_callback_on_writable(wsi);
        break;
    }
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ovl-test", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void wake_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

/* One turn of the loop, returning within ~10 ms even when nothing happens. */
static void turn(ovl_tc_t *c)
{
    lws_sul_schedule(c->ctx, 0, &c->wake, wake_cb, 10000);
    lws_service(c->ctx, 0);
}

int ovl_tc_connect(const char *host, uint16_t port, const char *path, int timeout_ms, ovl_tc_t **out)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    ovl_tc_t *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return -1;
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    /* The server's certificate is self-signed: the system CA store is of no use (and costs memory). */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    if (!(c->ctx = lws_create_context(&info))) {
        free(c);
        return -1;
    }
    memset(&ci, 0, sizeof(ci));
    ci.context = c->ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                        LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    ci.local_protocol_name = "ovl-test";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    ci.alpn = "http/1.1";
    if (!lws_client_connect_via_info(&ci))
        c->failed = 1;
    int64_t deadline = now_ms() + timeout_ms;
    while (!c->established && !c->failed && !c->closed && now_ms() < deadline)
        turn(c);
    if (!c->established) {
        ovl_tc_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int ovl_tc_queue(ovl_tc_t *c, const void *data, size_t len, int binary)
{
    frame_t *f;
    if (!c->wsi || c->closed || !(f = malloc(sizeof(*f) + LWS_PRE + len)))
        return -1;
    f->next = NULL;
    f->len = len;
    f->binary = binary;
    memcpy(f->data + LWS_PRE, data, len);
    if (c->out_tail)
        c->out_tail->next = f;
    else
        c->out_head = f;
    c->out_tail = f;
    lws_callback_on_writable(c->wsi);
    return 0;
}

int ovl_tc_flush(ovl_tc_t *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (c->out_head && !c->closed && now_ms() < deadline)
        turn(c);
    return c->out_head ? -1 : 0;
}

int ovl_tc_send_frame(ovl_tc_t *c, const void *data, size_t len, int binary)
{
    return ovl_tc_queue(c, data, len, binary) == 0 ? ovl_tc_flush(c, 20000) : -1;
}

int ovl_tc_send(ovl_tc_t *c, const char *text)
{
    return ovl_tc_send_frame(c, text, strlen(text), 0);
}

int ovl_tc_sendf(ovl_tc_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int ret = text ? ovl_tc_send(c, text) : -1;
    free(text);
    json_decref(j);
    return ret;
}

static json_t *take(ovl_tc_t *c, const char *type)
{
    for (rxmsg_t **p = &c->in_head; *p; p = &(*p)->next) {
        const char *t = json_string_value(json_object_get((*p)->json, "type"));
        if (!type || (t && strcmp(t, type) == 0)) {
            rxmsg_t *m = *p;
            json_t *j = m->json;
            *p = m->next;
            free(m);
            return j;
        }
    }
    return NULL;
}

json_t *ovl_tc_wait(ovl_tc_t *c, const char *type, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    json_t *j;
    while (!(j = take(c, type)) && !c->closed && now_ms() < deadline)
        turn(c);
    return j ? j : take(c, type);
}

int ovl_tc_wait_error(ovl_tc_t *c, const char *code, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - now_ms());
        json_t *e = ovl_tc_wait(c, "error", left > 0 ? left : 0);
        if (!e)
            return 0;
        const char *got = json_string_value(json_object_get(e, "code"));
        int match = got && strcmp(got, code) == 0;
        json_decref(e);
        if (match)
            return 1;
    }
}

int ovl_tc_wait_closed(ovl_tc_t *c, int timeout_ms, int *close_code)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (!c->closed && now_ms() < deadline)
        turn(c);
    if (close_code)
        *close_code = c->close_code;
    return c->closed;
}

void ovl_tc_clear(ovl_tc_t *c)
{
    json_t *j;
    while ((j = take(c, NULL)))
        json_decref(j);
}

void ovl_tc_pump(ovl_tc_t *c, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (!c->closed && now_ms() < deadline)
        turn(c);
}

void ovl_tc_free(ovl_tc_t *c)
{
    if (!c)
        return;
    if (c->ctx)
        lws_context_destroy(c->ctx);
    ovl_tc_clear(c);
    while (c->out_head) {
        frame_t *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    free(c->rx);
    free(c);
}
