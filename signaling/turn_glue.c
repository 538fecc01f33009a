/* TURN over TLS on the HTTPS port: the TURN core in the lws loop. See turn_glue.h. */
#include "signaling/turn_glue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

#include "relay/proto/turn.h"

#define QUEUE_START (16u * 1024u) /* first size of a connection's queue; doubled up to the maximum */

/* One TLS connection that turned out to be TURN. */
typedef struct tg_conn {
    ovl_turn_glue_t *g;
    struct lws *wsi;
    ovl_turn_session_t *s;
    uint8_t *q;      /* owned: LWS_PRE bytes, then cap bytes of queue; NULL until the first message */
    size_t cap;      /* grows by doubling (an allocation per doubling, none per message) */
    size_t off, len; /* bytes waiting at q + LWS_PRE + off (before them: already written) */
} tg_conn_t;

struct ovl_turn_glue {
    struct lws_vhost *vh;
    ovl_turn_server_t *srv;
    ovl_turn_glue_peer_fn to_peer; /* borrowed hook; NULL: datagrams to peers are dropped */
    void *peer_ctx;
    uint64_t queue_drops, peer_drops;
};

static ovl_time_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ovl_time_t)ts.tv_sec * 1000000u + (ovl_time_t)ts.tv_nsec / 1000u;
}

/* Room for n more bytes at the end of c's queue: compacts, then grows up to the maximum. */
static bool queue_room(tg_conn_t *c, size_t n)
{
    if (c->len + n > OVL_TURN_GLUE_QUEUE_MAX)
        return false;
    if (c->off + c->len + n <= c->cap)
        return true;
    if (c->off > 0) { /* written bytes in front: move the rest down */
        memmove(c->q + LWS_PRE, c->q + LWS_PRE + c->off, c->len);
        c->off = 0;
        if (c->len + n <= c->cap)
            return true;
    }
    size_t cap = c->cap ? c->cap : QUEUE_START;
    while (cap < c->len + n)
        cap *= 2;
    if (cap > OVL_TURN_GLUE_QUEUE_MAX)
        cap = OVL_TURN_GLUE_QUEUE_MAX; /* still >= len + n */
    uint8_t *q = realloc(c->q, LWS_PRE + cap);
    if (!q)
        return false;
    c->q = q;
    c->cap = cap;
    return true;
}

static void to_client(void *user, ovl_turn_session_t *s, void *session_ctx, const uint8_t *data, size_t len)
{
    ovl_turn_glue_t *g = user;
    tg_conn_t *c = session_ctx;
    (void)s;
    if (!c || !c->wsi)
        return;
    /* Bounded: beyond the limit the message is dropped (UDP semantics; requests are retransmitted). */
    if (!queue_room(c, len)) {
        g->queue_drops++;
        return;
    }
    memcpy(c->q + LWS_PRE + c->off + c->len, data, len);
    c->len += len;
    lws_callback_on_writable(c->wsi);
}

static void to_peer(void *user, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    ovl_turn_glue_t *g = user;
    if (!g->to_peer || g->to_peer(g->peer_ctx, relayed, peer, data, len) != 0)
        g->peer_drops++;
}

int ovl_turn_glue_new(struct lws_vhost *vh, const ovl_turn_glue_config_t *cfg, ovl_turn_glue_t **out)
{
    ovl_turn_glue_t *g;
    ovl_addr_t peers[OVL_TURN_MAX_PEERS];
    size_t n = 0;
    int ret;

    *out = NULL;
    if (!cfg->n_peers || !cfg->secret || !cfg->secret[0])
        return OVL_ERR_ARG;
    for (size_t i = 0; i < cfg->n_peers && n < OVL_TURN_MAX_PEERS; i++)
        if (cfg->peers[i].family == cfg->peers[0].family)
            peers[n++] = cfg->peers[i];
    if (!(g = calloc(1, sizeof(*g))))
        return OVL_ERR_NOMEM;
    g->vh = vh;
    ovl_addr_t relay_ip = peers[0];
    relay_ip.port = 0;
    ovl_turn_config_t tc = {
        .realm = cfg->realm,
        .secret = (const uint8_t *)cfg->secret,
        .secret_len = strlen(cfg->secret),
        .relay_ip = relay_ip, /* relayed addresses: the relay's own address, a port per allocation */
        .port_min = 49152,
        .port_max = 65535,
        .peers = peers,
        .n_peers = n,
        .unix_time = cfg->unix_time,
        .software = "overleg",
    };
    ovl_turn_callbacks_t cb = {to_client, to_peer, NULL, g};
    if (RAND_bytes(tc.nonce_key, sizeof(tc.nonce_key)) != 1) {
        ret = OVL_ERR_CRYPTO;
        goto Exit;
    }
    if ((ret = ovl_turn_server_new(&g->srv, &tc, &cb, cfg->now)) != 0)
        goto Exit;
    *out = g;
    g = NULL;
Exit:
    ovl_turn_glue_free(g);
    return ret;
}

void ovl_turn_glue_free(ovl_turn_glue_t *g)
{
    if (!g)
        return;
    ovl_turn_server_free(g->srv);
    free(g);
}

void ovl_turn_glue_tick(ovl_turn_glue_t *g, ovl_time_t now, int64_t unix_time)
{
    if (!g)
        return;
    ovl_turn_server_set_unix_time(g->srv, unix_time, now);
    if (ovl_turn_server_next_timeout(g->srv) <= now)
        ovl_turn_server_on_timeout(g->srv, now);
}

static int conn_adopt(ovl_turn_glue_t *g, struct lws *wsi)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ovl_addr_t client = {0};
    tg_conn_t *c;
    /* Only TLS connections are TURN here; anything else raw is not ours. */
    if (!g || !lws_is_ssl(wsi))
        return -1;
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) != 0 ||
        ovl_addr_from_sockaddr(&client, (struct sockaddr *)&ss) != 0)
        return -1;
    if (!(c = calloc(1, sizeof(*c))))
        return -1;
    c->g = g;
    c->wsi = wsi;
    if (ovl_turn_session_open(g->srv, &client, c, now_us(), &c->s) != 0) {
        free(c);
        return -1;
    }
    lws_set_opaque_user_data(wsi, c);
    return 0;
}

static void conn_close(tg_conn_t *c)
{
    ovl_turn_session_close(c->s); /* deletes its allocation */
    c->wsi = NULL;
    free(c->q);
    free(c);
}

static int conn_writeable(tg_conn_t *c, struct lws *wsi)
{
    if (c->len == 0)
        return 0;
    /* The LWS_PRE bytes in front of the chunk are lws's: the headroom, or bytes already written. */
    size_t n = c->len < OVL_TURN_GLUE_WRITE_MAX ? c->len : OVL_TURN_GLUE_WRITE_MAX;
    if (lws_write(wsi, c->q + LWS_PRE + c->off, n, LWS_WRITE_RAW) < (int)n)
        return -1;
    c->off += n;
    c->len -= n;
    if (c->len == 0)
        c->off = 0;
    else
        lws_callback_on_writable(wsi);
    return 0;
}

void ovl_turn_glue_set_peer(ovl_turn_glue_t *g, ovl_turn_glue_peer_fn fn, void *ctx)
{
    if (!g)
        return;
    g->to_peer = fn;
    g->peer_ctx = ctx;
}

void ovl_turn_glue_from_peer(ovl_turn_glue_t *g, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data,
                             size_t len, ovl_time_t now)
{
    if (g) /* the core checks allocation and permission, and counts what it drops */
        (void)ovl_turn_server_from_peer(g->srv, relayed, peer, data, len, now);
}

void ovl_turn_glue_stats(const ovl_turn_glue_t *g, ovl_metrics_turn_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!g)
        return;
    ovl_turn_server_stats(g->srv, &out->core);
    out->queue_drops = g->queue_drops;
    out->peer_drops = g->peer_drops;
}

int ovl_turn_glue_callback(ovl_turn_glue_t *g, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
    tg_conn_t *c;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        return conn_adopt(g, wsi);
    case LWS_CALLBACK_RAW_RX:
        if (!(c = lws_get_opaque_user_data(wsi)) || !g)
            return -1;
        return ovl_turn_session_feed(c->s, in, len, now_us()) == 0 ? 0 : -1;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (!(c = lws_get_opaque_user_data(wsi)))
            return 0;
        return conn_writeable(c, wsi);
    case LWS_CALLBACK_RAW_CLOSE:
        if (lws_is_ssl(wsi) && (c = lws_get_opaque_user_data(wsi))) {
            lws_set_opaque_user_data(wsi, NULL);
            conn_close(c);
        }
        return 0;
    default:
        return 0;
    }
}
