/* A WSS client of the signaling protocol over libwebsockets. See wsclient.h. */
#include "signaling/wsclient.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

typedef struct frame {
    struct frame *next;
    size_t len;
    bool binary;
    unsigned char data[]; /* LWS_PRE headroom, then the payload */
} frame_t;

typedef struct rxmsg {
    struct rxmsg *next;
    json_t *json;
} rxmsg_t;

struct ovl_wsclient {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t wake;
    bool established, failed, closed;
    int close_code;
    uint64_t events; /* bumped by everything that should end a service call */
    char error[200];
    frame_t *out_head, *out_tail;
    char *rx;
    size_t rx_len;
    rxmsg_t *in_head, *in_tail;
    bool debug;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_rx(ovl_wsclient_t *c)
{
    json_error_t e;
    json_t *j = json_loadb(c->rx ? c->rx : "", c->rx_len, 0, &e);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    if (!j)
        return;
    if (c->debug) {
        char *t = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "wsclient %p <- %.200s\n", (void *)c, t ? t : "?");
        free(t);
    }
    rxmsg_t *m = calloc(1, sizeof(*m));
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

static void set_closed(ovl_wsclient_t *c)
{
    c->closed = true;
    c->wsi = NULL;
    c->events++;
}

static int on_writable(ovl_wsclient_t *c, struct lws *wsi)
{
    frame_t *f = c->out_head;
    if (!f)
        return 0;
    c->out_head = f->next;
    if (!c->out_head)
        c->out_tail = NULL;
    int n = lws_write(wsi, f->data + LWS_PRE, f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    free(f);
    c->events++;
    if (n < 0) {
        snprintf(c->error, sizeof(c->error), "write failed");
        return -1;
    }
    if (c->out_head)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ovl_wsclient_t *c = user;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        /* ovl_wsclient_wakeup: not a connection callback (no user); the context's user is the client. */
        ovl_wsclient_t *owner = lws_context_user(lws_get_context(wsi));
        if (owner)
            owner->events++;
        return 0;
    }
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = true;
        c->events++;
        if (c->out_head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(c->error, sizeof(c->error), "%s", in ? (const char *)in : "connection failed");
        c->failed = true;
        set_closed(c);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in && len >= 2)
            c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        set_closed(c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        char *grown = realloc(c->rx, c->rx_len + len + 1);
        if (!grown)
            return -1;
        c->rx = grown;
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            push_rx(c);
            c->events++;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(c, wsi);
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"overleg", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void wake_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

/* One turn of lws's loop: returns after it handled events, or at the deadline (ms; negative: a minute). */
static void turn(ovl_wsclient_t *c, int64_t deadline)
{
    int64_t left = deadline < 0 ? 60000 : deadline - now_ms();
    lws_sul_schedule(c->ctx, 0, &c->wake, wake_cb, (lws_usec_t)(left > 0 ? left : 0) * LWS_US_PER_MS);
    lws_service(c->ctx, 0);
}

int ovl_wsclient_connect(const ovl_wsclient_config_t *cfg, ovl_wsclient_t **out, char *err, size_t cap)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    ovl_wsclient_t *c = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (err && cap)
        err[0] = '\0';
    if (!cfg || !cfg->host || !cfg->host[0] || !cfg->port || !cfg->path)
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if (!(c = calloc(1, sizeof(*c))))
        goto Exit;
    c->debug = getenv("OVL_WSCLIENT_DEBUG") != NULL;
    lws_set_log_level(c->debug ? LLL_ERR | LLL_WARN : 0, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = c;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (cfg->insecure)
        info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS; /* no use for the CA store then */
    info.client_ssl_ca_filepath = cfg->ca_file;
    if (!(c->ctx = lws_create_context(&info)))
        goto Exit;
    memset(&ci, 0, sizeof(ci));
    ci.context = c->ctx;
    ci.address = cfg->host;
    ci.port = cfg->port;
    ci.path = cfg->path;
    ci.host = cfg->host;
    ci.origin = cfg->host;
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (cfg->insecure)
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED |
                             LCCSCF_ALLOW_INSECURE;
    ci.local_protocol_name = protocols[0].name;
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    ci.alpn = "http/1.1";
    if (!lws_client_connect_via_info(&ci) && !c->failed) {
        c->failed = true;
        snprintf(c->error, sizeof(c->error), "cannot connect to %s port %u", cfg->host, cfg->port);
    }
    int64_t deadline = now_ms() + (cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000);
    while (!c->established && !c->failed && !c->closed && now_ms() < deadline)
        turn(c, deadline);
    if (c->established) {
        *out = c;
        c = NULL;
        ret = 0;
    } else {
        ret = c->failed || c->closed ? OVL_ERR_IO : OVL_ERR_AGAIN;
        if (err && cap)
            snprintf(err, cap, "%s", c->error[0] ? c->error : ret == OVL_ERR_AGAIN ? "timed out" : "closed");
    }
Exit:
    if (ret != 0 && err && cap && !err[0])
        snprintf(err, cap, "%s", ovl_strerror(ret));
    ovl_wsclient_free(c);
    return ret;
}

int ovl_wsclient_service(ovl_wsclient_t *c, int timeout_ms)
{
    uint64_t start = c->events;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    while (!c->closed && c->events == start && (deadline < 0 || now_ms() < deadline))
        turn(c, deadline);
    return c->closed ? OVL_ERR_STATE : 0;
}

void ovl_wsclient_wakeup(ovl_wsclient_t *c)
{
    lws_cancel_service(c->ctx);
}

bool ovl_wsclient_closed(const ovl_wsclient_t *c)
{
    return c->closed;
}

int ovl_wsclient_close_code(const ovl_wsclient_t *c)
{
    return c->close_code;
}

int ovl_wsclient_queue(ovl_wsclient_t *c, const void *data, size_t len, bool binary)
{
    frame_t *f;
    if (!c->wsi || c->closed)
        return OVL_ERR_STATE;
    if (!(f = malloc(sizeof(*f) + LWS_PRE + len)))
        return OVL_ERR_NOMEM;
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

int ovl_wsclient_flush(ovl_wsclient_t *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (c->out_head && !c->closed && now_ms() < deadline)
        turn(c, deadline);
    return !c->out_head ? 0 : c->closed ? OVL_ERR_STATE : OVL_ERR_AGAIN;
}

int ovl_wsclient_send_frame(ovl_wsclient_t *c, const void *data, size_t len, bool binary)
{
    int ret = ovl_wsclient_queue(c, data, len, binary);
    return ret == 0 ? ovl_wsclient_flush(c, 20000) : ret;
}

int ovl_wsclient_send(ovl_wsclient_t *c, const char *text)
{
    return ovl_wsclient_send_frame(c, text, strlen(text), false);
}

int ovl_wsclient_sendf(ovl_wsclient_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int ret = text ? ovl_wsclient_send(c, text) : OVL_ERR_ARG;
    free(text);
    json_decref(j);
    return ret;
}

int ovl_wsclient_queue_json(ovl_wsclient_t *c, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    int ret = text ? ovl_wsclient_queue(c, text, strlen(text), false) : OVL_ERR_NOMEM;
    free(text);
    return ret;
}

json_t *ovl_wsclient_take(ovl_wsclient_t *c, const char *type)
{
    rxmsg_t *prev = NULL;
    for (rxmsg_t *m = c->in_head; m; prev = m, m = m->next) {
        const char *t = json_string_value(json_object_get(m->json, "type"));
        if (type && !(t && strcmp(t, type) == 0))
            continue;
        if (prev)
            prev->next = m->next;
        else
            c->in_head = m->next;
        if (c->in_tail == m)
            c->in_tail = prev;
        json_t *j = m->json;
        free(m);
        return j;
    }
    return NULL;
}

json_t *ovl_wsclient_wait(ovl_wsclient_t *c, const char *type, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    json_t *j;
    while (!(j = ovl_wsclient_take(c, type)) && !c->closed && now_ms() < deadline)
        turn(c, deadline);
    return j ? j : ovl_wsclient_take(c, type);
}

bool ovl_wsclient_wait_error(ovl_wsclient_t *c, const char *code, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        json_t *e = ovl_wsclient_wait(c, "error", left > 0 ? (int)left : 0);
        if (!e)
            return false;
        const char *got = json_string_value(json_object_get(e, "code"));
        bool match = got && strcmp(got, code) == 0;
        json_decref(e);
        if (match)
            return true;
    }
}

bool ovl_wsclient_wait_closed(ovl_wsclient_t *c, int timeout_ms, int *close_code)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (!c->closed && now_ms() < deadline)
        turn(c, deadline);
    if (close_code)
        *close_code = c->close_code;
    return c->closed;
}

void ovl_wsclient_clear(ovl_wsclient_t *c)
{
    json_t *j;
    while ((j = ovl_wsclient_take(c, NULL)))
        json_decref(j);
}

void ovl_wsclient_pump(ovl_wsclient_t *c, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (!c->closed && now_ms() < deadline)
        turn(c, deadline);
}

void ovl_wsclient_free(ovl_wsclient_t *c)
{
    if (!c)
        return;
    if (c->ctx)
        lws_context_destroy(c->ctx);
    ovl_wsclient_clear(c);
    while (c->out_head) {
        frame_t *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    free(c->rx);
    free(c);
}
