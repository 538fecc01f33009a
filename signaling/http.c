/* HTTP routes: web client, REST API, health, metrics; security headers on every response. */
#include "signaling/server_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "signaling/meetings.h"
#include "signaling/turn_glue.h"
#include "signaling/web_assets.h"

#define REQ_BODY_MAX 8192

static const char csp[] = "default-src 'self'; connect-src 'self' wss:; img-src 'self' data: blob:; "
                          "media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

void ovl_http_session_reset(ovl_session_t *pss)
{
    free(pss->req);
    free(pss->resp);
    pss->req = NULL;
    pss->resp = NULL;
    pss->req_len = pss->resp_len = 0;
    pss->req_too_big = 0;
    pss->status = 0;
    pss->ctype = NULL;
    pss->n_extra = 0;
    pss->cache = NULL;
}

/* Adds a response header (`name` with its colon); both strings must outlive the response. */
static void extra_header(ovl_session_t *pss, const char *name, const char *value)
{
    if (pss->n_extra < OVL_ARRAY_LEN(pss->extra)) {
        pss->extra[pss->n_extra][0] = name;
        pss->extra[pss->n_extra][1] = value;
        pss->n_extra++;
    }
}

/* Sets the response and asks for a writeable callback. `body` is copied. */
static int respond(struct lws *wsi, ovl_session_t *pss, int status, const char *ctype, const void *body, size_t len)
{
    pss->status = status;
    pss->ctype = ctype;
    free(pss->resp);
    if (!(pss->resp = malloc(LWS_PRE + len + 1)))
        return -1;
    if (len)
        memcpy(pss->resp + LWS_PRE, body, len);
    pss->resp_len = len;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_json(struct lws *wsi, ovl_session_t *pss, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int ret;
    json_decref(j);
    if (!text)
        return respond(wsi, pss, 500, "application/json", "{\"error\":\"internal\"}\n", 20);
    ret = respond(wsi, pss, status, "application/json", text, strlen(text));
    free(text);
    return ret;
}

static int respond_error(struct lws *wsi, ovl_session_t *pss, int status, const char *code, const char *message)
{
    return respond_json(wsi, pss, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
                                       (int)strlen(value), p, end);
}

static int write_response(struct lws *wsi, ovl_session_t *pss)
{
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, (unsigned int)pss->status, pss->ctype, pss->resp_len, &p, end) ||
        add_header(wsi, "strict-transport-security:", "max-age=31536000", &p, end) ||
        add_header(wsi, "content-security-policy:", csp, &p, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        add_header(wsi, "referrer-policy:", "no-referrer", &p, end) ||
        add_header(wsi, "x-frame-options:", "DENY", &p, end) ||
        add_header(wsi, "cache-control:", pss->cache ? pss->cache : "no-store", &p, end))
        return -1;
    for (size_t i = 0; i < pss->n_extra; i++)
        if (add_header(wsi, pss->extra[i][0], pss->extra[i][1], &p, end))
            return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (pss->resp_len && lws_write(wsi, pss->resp + LWS_PRE, pss->resp_len, LWS_WRITE_HTTP_FINAL) < 0)
        return -1;
    ovl_http_session_reset(pss);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Constant-time check of "Bearer KEY" (hashing both sides first hides the key's length). */
static int authorized(const ovl_server_t *s, const ovl_session_t *pss)
{
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    const char *prefix = "Bearer ";
    if (strncmp(pss->auth, prefix, strlen(prefix)) != 0)
        return 0;
    SHA256((const unsigned char *)s->cfg.api_key, strlen(s->cfg.api_key), want);
    SHA256((const unsigned char *)pss->auth + strlen(prefix), strlen(pss->auth) - strlen(prefix), got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

static int make_links(ovl_server_t *s, const ovl_meeting_t *m, const char *name, char *host, char *guest)
{
    int ret =
        ovl_meetings_link(s->secret, s->cfg.public_host, s->link_port, m, OVL_ROLE_HOST, name, host, OVL_LINK_MAX);
    return ret ? ret
               : ovl_meetings_link(s->secret, s->cfg.public_host, s->link_port, m, OVL_ROLE_GUEST, NULL, guest,
                                   OVL_LINK_MAX);
}

static int api_create(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    json_error_t jerr;
    json_t *body = json_loadb(pss->req ? pss->req : "{}", pss->req ? pss->req_len : 2, 0, &jerr);
    json_t *exp = body ? json_object_get(body, "expires") : NULL;
    const char *title = body ? json_string_value(json_object_get(body, "title")) : NULL;
    const char *name = body ? json_string_value(json_object_get(body, "host_name")) : NULL;
    int64_t lifetime = s->cfg.link_expiry;
    char host[OVL_LINK_MAX], guest[OVL_LINK_MAX];
    ovl_meeting_t m;
    int ret;

    if (!json_is_object(body) || !title) {
        json_decref(body);
        return respond_error(wsi, pss, 400, "bad-request", "Send JSON {\"title\": \"...\"}.");
    }
    if (json_is_integer(exp))
        lifetime = json_integer_value(exp);
    else if (json_is_string(exp) && ovl_config_parse_duration(json_string_value(exp), &lifetime) != 0)
        lifetime = -1;
    ret = ovl_meetings_create(s->store, title, lifetime, json_is_true(json_object_get(body, "lobby")),
                              ovl_server_wall(), &m);
    if (ret == 0)
        ret = make_links(s, &m, name, host, guest);
    json_decref(body);
    if (ret == OVL_ERR_ARG)
        return respond_error(wsi, pss, 400, "bad-request",
                             "title must be 1-128 characters; expires a duration (7d) or seconds; host_name <= 64 "
                             "bytes.");
    if (ret != 0)
        return respond_error(wsi, pss, 500, "internal", "Could not store the meeting.");
    s->metrics.meetings_created++;
    ovl_log_event(s->log, OVL_LOG_INFO, "meeting-created", "meeting", m.id, "via", "api", NULL);
    return respond_json(wsi, pss, 201, ovl_meetings_json(&m, host, guest));
}

static int api_list(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    ovl_meeting_t *all = NULL;
    size_t n = 0;
    json_t *arr;
    if (ovl_store_list(s->store, &all, &n) != 0 || !(arr = json_array())) {
        free(all);
        return respond_error(wsi, pss, 500, "internal", "Could not read the meetings.");
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, ovl_meetings_json(&all[i], NULL, NULL));
    free(all);
    return respond_json(wsi, pss, 200, json_pack("{s:o}", "meetings", arr));
}

static int api_one(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss, const char *id)
{
    ovl_meeting_t m;
    char host[OVL_LINK_MAX], guest[OVL_LINK_MAX];
    if (ovl_meeting_id_check(id) != 0 || ovl_store_get(s->store, id, &m) != 0)
        return respond_error(wsi, pss, 404, "meeting-not-found", "No such meeting.");
    if (pss->method == OVL_HTTP_DELETE) {
        if (ovl_store_revoke(s->store, id, ovl_server_wall()) != 0)
            return respond_error(wsi, pss, 500, "internal", "Could not revoke the meeting.");
        ovl_log_event(s->log, OVL_LOG_INFO, "meeting-revoked", "meeting", id, "via", "api", NULL);
        ovl_hub_revalidate(s->hub, ovl_server_wall()); /* at once, for people already in the call */
        ovl_store_get(s->store, id, &m);
        return respond_json(wsi, pss, 200, ovl_meetings_json(&m, NULL, NULL));
    }
    if (m.revoked || make_links(s, &m, NULL, host, guest) != 0)
        return respond_json(wsi, pss, 200, ovl_meetings_json(&m, NULL, NULL));
    return respond_json(wsi, pss, 200, ovl_meetings_json(&m, host, guest));
}

static int route_api(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    const char *rest = pss->uri + strlen("/api/meetings");
    if (!s->cfg.api_key[0])
        return respond_error(wsi, pss, 403, "api-disabled", "The REST API is off: set api_key (OVERLEG_API_KEY).");
    if (!authorized(s, pss)) {
        extra_header(pss, "www-authenticate:", "Bearer");
        return respond_error(wsi, pss, 401, "unauthorized", "Send Authorization: Bearer <api key>.");
    }
    if (rest[0] == '\0') {
        if (pss->method == OVL_HTTP_POST)
            return api_create(s, wsi, pss);
        if (pss->method == OVL_HTTP_GET)
            return api_list(s, wsi, pss);
    } else if (rest[0] == '/' && (pss->method == OVL_HTTP_GET || pss->method == OVL_HTTP_DELETE)) {
        return api_one(s, wsi, pss, rest + 1);
    }
    return respond_error(wsi, pss, 405, "method-not-allowed", "See the README for the API.");
}

/* Whether an Accept-Encoding value accepts gzip: a "gzip" or "*" item without q=0 (RFC 9110 §12.5.3). */
static int accepts_gzip(const char *v)
{
    char item[64];
    while (*v) {
        size_t n = strcspn(v, ",");
        snprintf(item, sizeof(item), "%.*s", (int)(n < sizeof(item) ? n : sizeof(item) - 1), v);
        const char *name = item + strspn(item, " \t"), *q = strcasestr(name, "q=");
        size_t len = strcspn(name, "; \t");
        if (((len == 4 && strncasecmp(name, "gzip", 4) == 0) || (len == 1 && name[0] == '*')) &&
            (!q || strtod(q + 2, NULL) > 0))
            return 1;
        v += n;
        if (*v == ',')
            v++;
    }
    return 0;
}

/*
 * The web client's files: revalidated on every load (no-cache) against a content hash (ETag), so
 * a returning browser downloads nothing that has not changed, and sent gzipped to a browser that
 * accepts it (about a third of the bytes: it matters on a 300 kbit/s link).
 */
static int serve_asset(struct lws *wsi, ovl_session_t *pss, const char *path)
{
    const ovl_web_asset_t *a = ovl_web_asset_find(path);
    char hdr[256];
    if (!a)
        return respond(wsi, pss, 404, "text/plain; charset=utf-8", "not found\n", 10);
    pss->cache = "no-cache";
    extra_header(pss, "etag:", a->etag);
    extra_header(pss, "vary:", "accept-encoding");
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 && strstr(hdr, a->etag))
        return respond(wsi, pss, 304, a->content_type, NULL, 0);
    if (a->gz && lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0 && accepts_gzip(hdr)) {
        extra_header(pss, "content-encoding:", "gzip");
        return respond(wsi, pss, 200, a->content_type, a->gz, a->gz_len);
    }
    return respond(wsi, pss, 200, a->content_type, a->data, a->len);
}

static int route(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    const char *u = pss->uri;
    s->metrics.http_requests++;
    if (strcmp(u, "/api/meetings") == 0 || strncmp(u, "/api/meetings/", 14) == 0)
        return route_api(s, wsi, pss);
    if (pss->method != OVL_HTTP_GET)
        return respond_error(wsi, pss, 405, "method-not-allowed", "Only GET here.");
    if (strcmp(u, "/healthz") == 0)
        return respond(wsi, pss, 200, "text/plain; charset=utf-8", "ok\n", 3);
    if (strcmp(u, "/readyz") == 0)
        return s->draining || s->drain_requested ? respond(wsi, pss, 503, "text/plain; charset=utf-8", "draining\n", 9)
                                                 : respond(wsi, pss, 200, "text/plain; charset=utf-8", "ready\n", 6);
    if (strcmp(u, "/metrics") == 0) {
        ovl_metrics_gauges_t g = {
            .ws_connections = s->ws_count, .tcp_pending = ovl_listener_pending(s->listener), .draining = s->draining};
        size_t rooms, admitted, waiting, conns;
        ovl_hub_counts(s->hub, &rooms, &admitted, &waiting, &conns);
        g.meetings = rooms, g.participants = admitted, g.waiting = waiting;
        ovl_listener_stats(s->listener, &s->metrics.tcp_accepted, &s->metrics.tcp_raw, &s->metrics.tcp_dropped);
        ovl_metrics_turn_t turn;
        if (s->turn) {
            ovl_turn_glue_stats(s->turn, &turn);
            g.turn = &turn;
        }
        char *text = ovl_metrics_render(&s->metrics, &g);
        char *extra = text && s->metrics_extra ? s->metrics_extra(s->metrics_ctx) : NULL;
        if (extra) {
            size_t a = strlen(text), b = strlen(extra);
            char *both = realloc(text, a + b + 1);
            if (both) {
                memcpy(both + a, extra, b + 1);
                text = both;
            }
            free(extra);
        }
        int ret = text ? respond(wsi, pss, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text))
                       : respond(wsi, pss, 500, "text/plain", "", 0);
        free(text);
        return ret;
    }
    if (strcmp(u, "/") == 0 || (strncmp(u, "/m/", 3) == 0 && !strchr(u + 3, '/')))
        return serve_asset(wsi, pss, "/index.html");
    if (strncmp(u, "/static/", 8) == 0)
        return serve_asset(wsi, pss, u);
    return respond(wsi, pss, 404, "text/plain; charset=utf-8", "not found\n", 10);
}

static int method_of(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        return OVL_HTTP_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        return OVL_HTTP_POST;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
        return OVL_HTTP_DELETE;
    return OVL_HTTP_OTHER;
}

/* Plain HTTP on the TLS port: send the browser to HTTPS. */
static int redirect_to_https(ovl_server_t *s, struct lws *wsi, ovl_session_t *pss)
{
    char port[8] = "";
    if (s->link_port != 443)
        snprintf(port, sizeof(port), ":%u", s->link_port);
    snprintf(pss->location, sizeof(pss->location), "https://%s%s%s", s->cfg.public_host, port,
             pss->uri[0] == '/' ? pss->uri : "/");
    extra_header(pss, "location:", pss->location);
    return respond(wsi, pss, 308, "text/plain; charset=utf-8", "use https\n", 10);
}

int ovl_http_callback(ovl_server_t *s, struct lws *wsi, enum lws_callback_reasons reason, ovl_session_t *pss, void *in,
                      size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        ovl_http_session_reset(pss);
        snprintf(pss->uri, sizeof(pss->uri), "%s", in ? (const char *)in : "/");
        pss->method = method_of(wsi);
        pss->auth[0] = '\0';
        if (lws_hdr_copy(wsi, pss->auth, sizeof(pss->auth), WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            pss->auth[0] = '\0';
        if (ovl_server_is_plain(wsi))
            return redirect_to_https(s, wsi, pss);
        if (pss->method == OVL_HTTP_POST && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
            return 0; /* wait for the body */
        return route(s, wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->req_len + len > REQ_BODY_MAX) {
            pss->req_too_big = 1;
            return 0;
        }
        {
            char *grown = realloc(pss->req, pss->req_len + len + 1);
            if (!grown)
                return -1;
            pss->req = grown;
            memcpy(pss->req + pss->req_len, in, len);
            pss->req_len += len;
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->req_too_big)
            return respond_error(wsi, pss, 413, "too-large", "The request body is larger than 8 KiB.");
        return route(s, wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss || !pss->status)
            return 0;
        return write_response(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss)
            ovl_http_session_reset(pss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, pss, in, len);
    }
}
