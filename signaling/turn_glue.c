/* TURN over TLS on the HTTPS port: the TURN core in the lws loop. See turn_glue.h. */
#include "signaling/turn_glue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "relay/proto/turn.h"

#define UDP_BURST 64 /* datagrams read per readiness event */

typedef struct tg_frame {
    struct tg_frame *next;
    size_t len;
    uint8_t data[]; /* LWS_PRE bytes of headroom, then the message */
} tg_frame_t;

typedef struct tg_alloc tg_alloc_t;

/* One TLS connection that turned out to be TURN. */
typedef struct tg_conn {
    ovl_turn_glue_t *g;
    struct lws *wsi;
    ovl_turn_session_t *s;
    tg_frame_t *head, *tail; /* owned */
    size_t bytes;
    tg_alloc_t *alloc; /* the session's allocation, NULL without */
} tg_conn_t;

/* The UDP socket of one allocation (owned by its lws wsi; freed on RAW_CLOSE_FILE). */
struct tg_alloc {
    tg_conn_t *conn; /* NULL once the allocation is gone */
    ovl_addr_t relayed;
    struct lws *wsi;
    int fd;
};

struct ovl_turn_glue {
    struct lws_vhost *vh;
    ovl_turn_server_t *srv;
    ovl_addr_t bind_ip; /* the relay's address; UDP sockets of allocations take a port on it */
    tg_conn_t *feeding; /* the connection whose bytes are being handled (to_peer's sender) */
    uint64_t queue_drops;
    uint8_t buf[OVL_TURN_MESSAGE_MAX];
};

static ovl_time_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ovl_time_t)ts.tv_sec * 1000000u + (ovl_time_t)ts.tv_nsec / 1000u;
}

static void to_client(void *user, ovl_turn_session_t *s, void *session_ctx, const uint8_t *data, size_t len)
{
    ovl_turn_glue_t *g = user;
    tg_conn_t *c = session_ctx;
    tg_frame_t *f;
    (void)s;
    if (!c || !c->wsi)
        return;
    /* Bounded: beyond the limit the message is dropped (UDP semantics; requests are retransmitted). */
    if (c->bytes + len > OVL_TURN_GLUE_QUEUE_MAX || !(f = malloc(sizeof(*f) + LWS_PRE + len))) {
        g->queue_drops++;
        return;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, data, len);
    if (c->tail)
        c->tail->next = f;
    else
        c->head = f;
    c->tail = f;
    c->bytes += len;
    lws_callback_on_writable(c->wsi);
}

static void to_peer(void *user, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    ovl_turn_glue_t *g = user;
    tg_conn_t *c = g->feeding;
    struct sockaddr_storage ss;
    size_t sl = 0;
    (void)relayed;
    if (!c || !c->alloc || c->alloc->fd < 0 || ovl_addr_to_sockaddr(peer, &ss, &sl) != 0)
        return;
    /* A full socket buffer drops the datagram, as a network would. */
    (void)sendto(c->alloc->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, (socklen_t)sl);
}

static void alloc_created(ovl_turn_glue_t *g, tg_conn_t *c, const ovl_turn_alloc_event_t *ev)
{
    struct sockaddr_storage ss;
    size_t sl = 0;
    lws_sock_file_fd_type u;
    tg_alloc_t *a = calloc(1, sizeof(*a));
    if (!a)
        return;
    a->relayed = ev->relayed;
    a->fd =
        socket(g->bind_ip.family == OVL_ADDR_IPV6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0)
        goto Fail;
    /* An ephemeral port on the relay's address; if that address is not local (NAT), any address. */
    if (ovl_addr_to_sockaddr(&g->bind_ip, &ss, &sl) == 0 && bind(a->fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
        ovl_addr_t any = g->bind_ip;
        memset(&any.ip, 0, sizeof(any.ip));
        if (ovl_addr_to_sockaddr(&any, &ss, &sl) != 0 || bind(a->fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0)
            goto Fail;
    }
    u.filefd = a->fd;
    if (!(a->wsi = lws_adopt_descriptor_vhost(g->vh, LWS_ADOPT_RAW_FILE_DESC, u, OVL_TURN_GLUE_UDP_PROTOCOL, NULL))) {
        free(a); /* lws closed the fd */
        return;
    }
    lws_set_opaque_user_data(a->wsi, a);
    a->conn = c;
    c->alloc = a;
    return;
Fail:
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}

static void on_allocation(void *user, ovl_turn_session_t *s, void *session_ctx, const ovl_turn_alloc_event_t *ev)
{
    ovl_turn_glue_t *g = user;
    tg_conn_t *c = session_ctx;
    (void)s;
    if (!c)
        return;
    if (ev->type == OVL_TURN_ALLOC_CREATED && !c->alloc) {
        alloc_created(g, c, ev);
    } else if (ev->type == OVL_TURN_ALLOC_DELETED && c->alloc) {
        tg_alloc_t *a = c->alloc;
        a->conn = NULL;
        c->alloc = NULL;
        /* lws closes the socket; RAW_CLOSE_FILE frees a. */
        lws_set_timeout(a->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    }
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
    g->bind_ip = peers[0];
    g->bind_ip.port = 0;
    ovl_turn_config_t tc = {
        .realm = cfg->realm,
        .secret = (const uint8_t *)cfg->secret,
        .secret_len = strlen(cfg->secret),
        .relay_ip = g->bind_ip,
        .port_min = 49152,
        .port_max = 65535,
        .peers = peers,
        .n_peers = n,
        .unix_time = cfg->unix_time,
        .software = "overleg",
    };
    ovl_turn_callbacks_t cb = {to_client, to_peer, on_allocation, g};
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
    c->g->feeding = NULL;
    ovl_turn_session_close(c->s); /* DELETED releases the allocation's socket */
    c->wsi = NULL;
    while (c->head) {
        tg_frame_t *f = c->head;
        c->head = f->next;
        free(f);
    }
    free(c);
}

static int conn_writeable(tg_conn_t *c, struct lws *wsi)
{
    tg_frame_t *f = c->head;
    if (!f)
        return 0;
    if (lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_RAW) < (int)f->len)
        return -1;
    c->head = f->next;
    if (!c->head)
        c->tail = NULL;
    c->bytes -= f->len;
    free(f);
    if (c->head)
        lws_callback_on_writable(wsi);
    return 0;
}

static void udp_rx(ovl_turn_glue_t *g, tg_alloc_t *a)
{
    ovl_time_t now = now_us();
    for (int i = 0; i < UDP_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        ovl_addr_t peer;
        ssize_t n = recvfrom(a->fd, g->buf, sizeof(g->buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
        if (n < 0)
            break;
        if (!a->conn || ovl_addr_from_sockaddr(&peer, (struct sockaddr *)&ss) != 0)
            continue;
        /* Only permitted peers get through (the core checks the permission). */
        (void)ovl_turn_server_from_peer(g->srv, &a->relayed, &peer, g->buf, (size_t)n, now);
    }
}

int ovl_turn_glue_callback(ovl_turn_glue_t *g, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
    tg_conn_t *c;
    tg_alloc_t *a;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        return conn_adopt(g, wsi);
    case LWS_CALLBACK_RAW_RX:
        if (!(c = lws_get_opaque_user_data(wsi)) || !g)
            return -1;
        g->feeding = c;
        int ret = ovl_turn_session_feed(c->s, in, len, now_us());
        g->feeding = NULL;
        return ret == 0 ? 0 : -1;
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
    case LWS_CALLBACK_RAW_RX_FILE:
        if (g && (a = lws_get_opaque_user_data(wsi)))
            udp_rx(g, a);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if ((a = lws_get_opaque_user_data(wsi))) {
            lws_set_opaque_user_data(wsi, NULL);
            if (a->conn)
                a->conn->alloc = NULL;
            free(a); /* lws closes the fd */
        }
        return 0;
    default:
        return 0;
    }
}
