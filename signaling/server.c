/* The signaling server's lws context, vhost, one-port adoption and timers. See server.h. */
#include "signaling/server_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "signaling/datadir.h"
#include "signaling/turn_glue.h"

#define TICK_US          200000
#define POLL_INTERVAL    OVL_SEC(1)
#define REVALIDATE_EVERY OVL_SEC(30)

const char ovl_server_plain_mark = 'p';

ovl_time_t ovl_server_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ovl_time_t)ts.tv_sec * 1000000u + (ovl_time_t)ts.tv_nsec / 1000u;
}

int64_t ovl_server_wall(void)
{
    return (int64_t)time(NULL);
}

static ovl_server_t *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* protocols[0]: HTTP and WebSocket on the same wsi. */
static int cb_main(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ovl_server_t *s = server_of(wsi);
    ovl_session_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return ovl_ws_callback(s, wsi, reason, pss, in, len);
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        return 0; /* the tick sees drain_requested */
    default:
        return ovl_http_callback(s, wsi, reason, pss, in, len);
    }
}

/* protocols[1]: the listener's epoll fd, adopted as a raw file descriptor. */
static int cb_listen(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        ovl_server_t *s = server_of(wsi);
        if (s->listener)
            ovl_listener_service(s->listener, ovl_server_now());
    }
    return 0;
}

/* protocols[2]: eventfds of other threads (the media workers' event queues), adopted as raw files. */
static int cb_wakeup(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        ovl_wakeup_t *w = lws_get_opaque_user_data(wsi);
        if (w)
            w->cb(w->ctx);
    }
    return 0;
}

/* protocols[3] and [4]: TURN over TLS (connections whose first decrypted byte is not HTTP) and
 * the UDP sockets of its allocations. */
static int cb_turn(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    return ovl_turn_glue_callback(server_of(wsi)->turn, wsi, reason, in, len);
}

static const struct lws_protocols protocols[] = {
    {"overleg", cb_main, sizeof(ovl_session_t), 4096, 0, NULL, 0},
    {"ovl-listen", cb_listen, 0, 0, 0, NULL, 0},
    {"ovl-wakeup", cb_wakeup, 0, 0, 0, NULL, 0},
    {OVL_TURN_GLUE_PROTOCOL, cb_turn, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Listener hand-over: TLS and HTTP go to lws on our vhost. */
static void on_web(void *ud, int fd, int tls)
{
    ovl_server_t *s = ud;
    lws_adopt_desc_t d;
    memset(&d, 0, sizeof(d));
    d.vh = s->vh;
    d.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (tls ? LWS_ADOPT_ALLOW_SSL : 0);
    d.fd.sockfd = fd;
    /* Marks plain-HTTP connections (lws_is_ssl does not tell them apart on a TLS vhost). */
    d.opaque = tls ? NULL : (void *)&ovl_server_plain_mark;
    /* On failure lws closes the fd itself. */
    if (!lws_adopt_descriptor_vhost_via_info(&d))
        ovl_log_event(s->log, OVL_LOG_WARN, "adopt-failed", NULL);
}

static void start_drain(ovl_server_t *s, ovl_time_t now)
{
    s->draining = 1;
    s->drain_deadline = now + OVL_SEC(s->cfg.drain_time);
    ovl_log_event(s->log, OVL_LOG_INFO, "drain", "phase", "start", NULL);
    ovl_listener_stop(s->listener);
    ovl_hub_drain(s->hub);
}

static void poll_store(ovl_server_t *s, ovl_time_t now)
{
    int64_t v = 0;
    s->next_poll = now + POLL_INTERVAL;
    /* The CLI (another connection) revoking a meeting changes data_version: act within a second. */
    if (ovl_store_data_version(s->store, &v) == 0 && v != s->data_version) {
        s->data_version = v;
        ovl_hub_revalidate(s->hub, ovl_server_wall());
        s->next_revalidate = now + REVALIDATE_EVERY;
    }
    if (now >= s->next_revalidate) {
        ovl_hub_revalidate(s->hub, ovl_server_wall());
        s->next_revalidate = now + REVALIDATE_EVERY;
    }
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    ovl_server_t *s = lws_container_of(sul, ovl_server_t, tick);
    ovl_time_t now = ovl_server_now();

    ovl_listener_expire(s->listener, now);
    ovl_hub_tick(s->hub, now);
    ovl_turn_glue_tick(s->turn, now, ovl_server_wall());
    if (now >= s->next_poll)
        poll_store(s, now);
    if (s->drain_requested && !s->draining)
        start_drain(s, now);
    if (s->draining && (s->ws_count == 0 || now >= s->drain_deadline)) {
        ovl_log_event(s->log, OVL_LOG_INFO, "drain", "phase", s->ws_count == 0 ? "done" : "deadline", NULL);
        s->stop = 1;
        lws_cancel_service(s->ctx);
        return;
    }
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
}

static void lws_log_emit(int level, const char *line)
{
    (void)level;
    /* lws's own diagnostics go to stderr as-is (errors only; they never carry message bodies). */
    fprintf(stderr, "lws: %s", line);
}

static int load_tls(ovl_server_t *s, char *err, size_t cap)
{
    int created = 0, ret;
    if (s->cfg.tls_cert[0]) {
        snprintf(s->cert, sizeof(s->cert), "%s", s->cfg.tls_cert);
        snprintf(s->key, sizeof(s->key), "%s", s->cfg.tls_key);
        if (access(s->cert, R_OK) != 0 || access(s->key, R_OK) != 0) {
            snprintf(err, cap, "%s: cannot read %s", access(s->cert, R_OK) != 0 ? "tls_cert" : "tls_key",
                     access(s->cert, R_OK) != 0 ? s->cert : s->key);
            return OVL_ERR_IO;
        }
        return 0;
    }
    ret = ovl_datadir_selfsigned(s->cfg.data_dir, s->cfg.public_host, s->cert, s->key, sizeof(s->cert), &created, err,
                                 cap);
    if (ret == 0 && created)
        ovl_log_event(s->log, OVL_LOG_INFO, "tls-self-signed", "host", s->cfg.public_host, "cert", s->cert, NULL);
    return ret;
}

static int make_lws(ovl_server_t *s, char *err, size_t cap)
{
    struct lws_context_creation_info info;
    lws_sock_file_fd_type u;

    lws_set_log_level(LLL_ERR, lws_log_emit);
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.user = s;
    info.fd_limit_per_thread = 0;
    if (!(s->ctx = lws_create_context(&info))) {
        snprintf(err, cap, "libwebsockets: cannot create a context");
        return OVL_ERR_IO;
    }
    memset(&info, 0, sizeof(info));
    /* A TLS connection whose first decrypted byte is not HTTP is TURN: lws hands it, decrypted, to
     * the raw protocol "ovl-turn" (docs/ARCHITECTURE.md, ICE-TCP and TURN). */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = OVL_TURN_GLUE_PROTOCOL;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.vhost_name = "overleg";
    info.protocols = protocols;
    info.ssl_cert_filepath = s->cert;
    info.ssl_private_key_filepath = s->key;
    info.alpn = "http/1.1";
    info.timeout_secs = 20;
    info.keepalive_timeout = 10;
    /* Ping an idle WebSocket at half the idle timeout; hang up when nothing came back by the timeout. */
    s->retry.secs_since_valid_ping = (uint16_t)(s->cfg.idle_timeout / 2);
    s->retry.secs_since_valid_hangup = (uint16_t)s->cfg.idle_timeout;
    info.retry_and_idle_policy = &s->retry;
    if (!(s->vh = lws_create_vhost(s->ctx, &info))) {
        snprintf(err, cap, "tls_cert: libwebsockets refused the certificate or key (%s, %s)", s->cert, s->key);
        return OVL_ERR_CRYPTO;
    }
    /* lws may close what it adopted when it goes away: give it a duplicate of our epoll fd. */
    if ((s->listen_dup = fcntl(ovl_listener_fd(s->listener), F_DUPFD_CLOEXEC, 0)) < 0) {
        snprintf(err, cap, "listen: dup: %s", strerror(errno));
        return OVL_ERR_IO;
    }
    u.filefd = s->listen_dup;
    if (!lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, u, "ovl-listen", NULL)) {
        s->listen_dup = -1; /* closed by lws on failure */
        snprintf(err, cap, "listen: libwebsockets cannot watch the listening sockets");
        return OVL_ERR_IO;
    }
    return 0;
}

int ovl_server_new(const ovl_config_t *cfg, ovl_log_t *log, ovl_store_t *store, const uint8_t secret[OVL_SECRET_BYTES],
                   const ovl_media_port_t *media, ovl_server_t **out, char *err, size_t cap)
{
    ovl_server_t *s = calloc(1, sizeof(*s));
    int ret = OVL_ERR_NOMEM;

    *out = NULL;
    if (!s)
        return ret;
    s->cfg = *cfg;
    s->log = log;
    s->store = store;
    s->media = media;
    s->listen_dup = -1;
    memcpy(s->secret, secret, OVL_SECRET_BYTES);

    ovl_listener_config_t lc = {cfg->listen, cfg->max_pending, OVL_SEC(cfg->first_byte_timeout)};
    ovl_listener_handlers_t lh = {on_web, NULL, s};
    if ((ret = ovl_listener_new(&lc, &lh, &s->listener, err, cap)) != 0)
        goto Exit;
    s->link_port = cfg->public_port ? (uint16_t)cfg->public_port : ovl_listener_port(s->listener);

    ovl_hub_config_t hc = {.secret = s->secret,
                           .secret_len = OVL_SECRET_BYTES,
                           .store = store,
                           .media = media,
                           .metrics = &s->metrics,
                           .log = log,
                           .limits = {cfg->max_participants, cfg->max_chat_chars, cfg->max_name_chars},
                           .rate_per_second = cfg->rate_per_second,
                           .rate_burst = cfg->rate_burst,
                           .join_timeout = OVL_SEC(cfg->join_timeout),
                           .turn_uris = s->cfg.turn_uris,
                           .turn_secret = s->cfg.turn_secret};
    ovl_hub_io_t hio = {ovl_ws_hub_send, ovl_ws_hub_close, s};
    if ((ret = ovl_hub_new(&hc, &hio, &s->hub)) != 0) {
        snprintf(err, cap, "hub: %s", ovl_strerror(ret));
        goto Exit;
    }
    if ((ret = load_tls(s, err, cap)) != 0 || (ret = make_lws(s, err, cap)) != 0)
        goto Exit;
    ovl_store_data_version(store, &s->data_version);
    s->next_revalidate = ovl_server_now() + REVALIDATE_EVERY;
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
    *out = s;
    s = NULL;
    ret = 0;
Exit:
    ovl_server_free(s);
    return ret;
}

uint16_t ovl_server_port(const ovl_server_t *s)
{
    return ovl_listener_port(s->listener);
}

int ovl_server_run(ovl_server_t *s)
{
    ovl_log_event(s->log, OVL_LOG_INFO, "serving", "listen", s->cfg.listen, NULL);
    while (!s->stop)
        if (lws_service(s->ctx, 0) < 0)
            break;
    return 0;
}

void ovl_server_request_drain(ovl_server_t *s)
{
    s->drain_requested = 1;
    if (s->ctx)
        lws_cancel_service(s->ctx);
}

void ovl_server_media_event(ovl_server_t *s, const ovl_media_event_t *ev)
{
    ovl_hub_media_event(s->hub, ev);
}

/* The listener has one context for both handlers (the server's): the media plane's goes here. */
static void on_raw(void *ud, int fd, const uint8_t *first, size_t len)
{
    ovl_server_t *s = ud;
    s->raw_tcp(s->raw_ud, fd, first, len);
}

void ovl_server_set_raw_tcp_handler(ovl_server_t *s,
                                    void (*on_raw_tcp)(void *ud, int fd, const uint8_t *first, size_t len), void *ud)
{
    s->raw_tcp = on_raw_tcp;
    s->raw_ud = ud;
    ovl_listener_set_raw_handler(s->listener, on_raw_tcp ? on_raw : NULL, s);
}

int ovl_server_add_wakeup_fd(ovl_server_t *s, int fd, void (*cb)(void *ctx), void *ctx)
{
    lws_sock_file_fd_type u;
    struct lws *wsi;
    if (s->n_wakeups == OVL_SERVER_MAX_WAKEUPS)
        return OVL_ERR_LIMIT;
    /* lws closes what it adopted when the context goes: it gets a duplicate, the caller keeps fd. */
    if ((u.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
        return OVL_ERR_IO;
    ovl_wakeup_t *w = &s->wakeups[s->n_wakeups];
    w->cb = cb;
    w->ctx = ctx;
    if (!(wsi = lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, u, "ovl-wakeup", NULL)))
        return OVL_ERR_IO; /* lws closed the duplicate */
    lws_set_opaque_user_data(wsi, w);
    s->n_wakeups++;
    /* Whatever was signalled before we watched is not lost: the fd stays readable (level-triggered). */
    return 0;
}

void ovl_server_set_metrics_provider(ovl_server_t *s, char *(*fn)(void *ctx), void *ctx)
{
    s->metrics_extra = fn;
    s->metrics_ctx = ctx;
}

ovl_turn_glue_t *ovl_server_turn(ovl_server_t *s)
{
    return s->turn;
}

void ovl_server_free(ovl_server_t *s)
{
    if (!s)
        return;
    if (s->ctx) {
        lws_sul_cancel(&s->tick);
        lws_context_destroy(s->ctx); /* closes every connection (CLOSED callbacks reach the hub) */
    }
    /* Close our duplicate of the epoll fd only if lws did not. */
    if (s->listen_dup >= 0 && fcntl(s->listen_dup, F_GETFD) >= 0)
        close(s->listen_dup);
    ovl_turn_glue_free(s->turn);
    ovl_hub_free(s->hub);
    ovl_listener_free(s->listener);
    free(s->ips);
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    free(s);
}

int ovl_server_enable_turn(ovl_server_t *s, const char *const *ips, size_t n_ips, const uint16_t *ports, size_t n_ports)
{
    ovl_addr_t peers[16];
    size_t n = 0;
    int ret;
    if (s->turn)
        return OVL_ERR_STATE;
    for (size_t i = 0; i < n_ips; i++)
        for (size_t j = 0; j < n_ports && n < OVL_ARRAY_LEN(peers); j++)
            if (ovl_addr_parse(&peers[n], ips[i], ports[j]) == 0)
                n++;
    if (n == 0)
        return OVL_ERR_ARG;
    /* Without a configured secret, one derived from the server secret (stable across restarts). */
    if (!s->cfg.turn_secret[0]) {
        uint8_t mac[32];
        unsigned int ml = 0;
        static const char label[] = "overleg turn rest secret";
        if (!HMAC(EVP_sha256(), s->secret, OVL_SECRET_BYTES, (const uint8_t *)label, sizeof(label) - 1, mac, &ml))
            return OVL_ERR_CRYPTO;
        for (unsigned int i = 0; i < ml && 2 * i + 2 < sizeof(s->cfg.turn_secret); i++)
            snprintf(s->cfg.turn_secret + 2 * i, 3, "%02x", mac[i]);
        OPENSSL_cleanse(mac, sizeof(mac));
    }
    ovl_turn_glue_config_t gc = {s->cfg.public_host, s->cfg.turn_secret, peers, n, ovl_server_now(), ovl_server_wall()};
    if ((ret = ovl_turn_glue_new(s->vh, &gc, &s->turn)) != 0)
        return ret;
    /* welcome hands out the built-in TURN unless other TURN servers are configured. */
    if (!s->cfg.turn_uris[0]) {
        char uri[OVL_CONFIG_STR_MAX + 32];
        int n_uri = snprintf(uri, sizeof(uri), "turns:%s:%u?transport=tcp", s->cfg.public_host, s->link_port);
        if (n_uri > 0 && (size_t)n_uri < sizeof(s->cfg.turn_uris))
            memcpy(s->cfg.turn_uris, uri, (size_t)n_uri + 1);
    }
    return 0;
}
