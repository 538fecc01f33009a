/*
 * Shared fixture of test_transport*.c, fuzz_transport.c and bench_transport.c: WebRTC transports
 * wired back to back through a tiny in-memory network on a simulated clock. No cmocka in here
 * (the fuzzer and the bench use it too): functions return 0 or a negative OVL_ERR_*.
 *
 * A node is one machine: a few local (address, path_id) pairs, and either one transport or a
 * transport map that dispatches among many (a relay port shared by several participants). A
 * datagram sent by a transport on path_id to address A is queued with the sender's local address for
 * that path; delivering it finds the node and path that own A. A filter can drop or duplicate each
 * datagram as it is sent, and `reorder` delivers the queue newest first.
 */
#ifndef OVL_TEST_TRANSPORT_WORLD_H
#define OVL_TEST_TRANSPORT_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/demux.h"
#include "relay/proto/dtls_cert.h"
#include "relay/transport/transport.h"
#include "relay/transport/transport_map.h"

#define TW_SERVER_UFRAG "sRv1"
#define TW_SERVER_PWD   "server-password-0123456789abc"
#define TW_CLIENT_UFRAG "cLi1"
#define TW_CLIENT_PWD   "client-password-0123456789abc"

#define TW_SERVER_PATH 7 /* the relay's UDP socket */
#define TW_CLIENT_PATH 1 /* the peer's socket */

#define TW_MAX_NODES      4
#define TW_MAX_PEERS      6
#define TW_MAX_NODE_PATHS 4
#define TW_QUEUE          512
#define TW_DGRAM_MAX      1600
#define TW_BUF_CAP        (TW_DGRAM_MAX + OVL_SRTP_MAX_OVERHEAD)
#define TW_MAX_EVENTS     32
#define TW_START          OVL_SEC(1000) /* the simulated clock starts here */

typedef struct tw_world tw_world_t;

typedef struct tw_dgram {
    int from_node;
    uint64_t from_path;
    ovl_addr_t to;
    size_t len;
    uint8_t data[TW_DGRAM_MAX];
} tw_dgram_t;

/* One transport and everything it reported. */
typedef struct tw_peer {
    tw_world_t *w;
    int node;
    ovl_transport_t *t;
    ovl_transport_event_t events[TW_MAX_EVENTS];
    char reasons[TW_MAX_EVENTS][200];
    size_t n_events;
    unsigned n_type[OVL_TRANSPORT_EVENT_CLOSED + 1]; /* events by type */
    unsigned n_rtp, n_rtcp;
    uint8_t last_media[TW_DGRAM_MAX];
    size_t last_len;
    unsigned sent_kind[OVL_DEMUX_RTCP + 1]; /* datagrams it sent, by RFC 7983 kind */
} tw_peer_t;

typedef struct tw_node {
    ovl_addr_t addr[TW_MAX_NODE_PATHS];
    uint64_t path_id[TW_MAX_NODE_PATHS];
    size_t n_paths;
    tw_peer_t *peer;          /* deliver to this transport, or */
    ovl_transport_map_t *map; /* dispatch through this map */
    unsigned not_found;       /* map dispatches that found no transport */
} tw_node_t;

enum { TW_PASS = 0, TW_DROP, TW_DUP };
typedef int (*tw_filter_fn)(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind);

struct tw_world {
    ovl_time_t now;
    tw_node_t nodes[TW_MAX_NODES];
    size_t n_nodes;
    tw_peer_t *peers[TW_MAX_PEERS];
    size_t n_peers;
    tw_dgram_t *q; /* ring of TW_QUEUE */
    size_t q_head, q_len;
    tw_filter_fn filter;
    void *filter_ctx;
    bool reorder;
    unsigned lost, dropped, duplicated, overflow;
    uint64_t seed;
    ovl_dtls_cert_t *cert[2]; /* [0] the relay's, [1] the peer's */
    ovl_ice_path_t cand;      /* the relay's candidate, as the peer reaches it */
    uint8_t rx[TW_BUF_CAP];
};

/* Deterministic randomness for the ICE client (splitmix64). */
static inline void tw_random(void *user, uint8_t *buf, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}

static inline int tw_node_add_path(tw_world_t *w, int node, const char *ip, uint16_t port, uint64_t path_id)
{
    tw_node_t *n = &w->nodes[node];
    if (n->n_paths == TW_MAX_NODE_PATHS)
        return OVL_ERR_LIMIT;
    if (ovl_addr_parse(&n->addr[n->n_paths], ip, port) < 0)
        return OVL_ERR_ARG;
    n->path_id[n->n_paths++] = path_id;
    return 0;
}

/* Node 0: the relay (198.51.100.1:10000 on path 7); node 1: the peer (192.0.2.10:50000 on path 1). */
static inline int tw_init(tw_world_t *w)
{
    memset(w, 0, sizeof(*w));
    w->now = TW_START;
    w->seed = 42;
    if ((w->q = calloc(TW_QUEUE, sizeof(tw_dgram_t))) == NULL)
        return OVL_ERR_NOMEM;
    if (ovl_dtls_cert_generate(&w->cert[0]) < 0 || ovl_dtls_cert_generate(&w->cert[1]) < 0)
        return OVL_ERR_CRYPTO;
    w->n_nodes = 2;
    if (tw_node_add_path(w, 0, "198.51.100.1", 10000, TW_SERVER_PATH) < 0 ||
        tw_node_add_path(w, 1, "192.0.2.10", 50000, TW_CLIENT_PATH) < 0)
        return OVL_ERR_ARG;
    w->cand.addr = w->nodes[0].addr[0];
    w->cand.path_id = TW_CLIENT_PATH;
    return 0;
}

static inline void tw_dispose(tw_world_t *w)
{
    for (size_t i = 0; i < w->n_peers; i++) {
        ovl_transport_free(w->peers[i]->t);
        w->peers[i]->t = NULL;
    }
    for (size_t i = 0; i < w->n_nodes; i++)
        ovl_transport_map_free(w->nodes[i].map);
    ovl_dtls_cert_free(w->cert[0]);
    ovl_dtls_cert_free(w->cert[1]);
    free(w->q);
    memset(w, 0, sizeof(*w));
}

/* ---- callbacks ------------------------------------------------------------------------------------ */

static inline void tw_enqueue(tw_world_t *w, const tw_dgram_t *d)
{
    if (w->q_len == TW_QUEUE) {
        w->overflow++;
        return;
    }
    w->q[(w->q_head + w->q_len++) % TW_QUEUE] = *d;
}

static inline void tw_on_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    tw_peer_t *p = user;
    tw_world_t *w = p->w;
    static tw_dgram_t d; /* large; the fixture is single-threaded */
    ovl_demux_kind_t kind = ovl_demux_classify(data, len);
    p->sent_kind[kind]++;
    if (len > TW_DGRAM_MAX) {
        w->lost++;
        return;
    }
    d.from_node = p->node;
    d.from_path = path_id;
    d.to = *to;
    d.len = len;
    memcpy(d.data, data, len);
    int verdict = w->filter != NULL ? w->filter(w->filter_ctx, &d, kind) : TW_PASS;
    if (verdict == TW_DROP) {
        w->dropped++;
        return;
    }
    tw_enqueue(w, &d);
    if (verdict == TW_DUP) {
        w->duplicated++;
        tw_enqueue(w, &d);
    }
}

static inline void tw_on_media(tw_peer_t *p, const uint8_t *buf, size_t len)
{
    p->last_len = len < sizeof(p->last_media) ? len : sizeof(p->last_media);
    memcpy(p->last_media, buf, p->last_len);
}

static inline void tw_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    tw_peer_t *p = user;
    (void)now;
    p->n_rtp++;
    tw_on_media(p, buf, len);
}

static inline void tw_on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    tw_peer_t *p = user;
    (void)now;
    p->n_rtcp++;
    tw_on_media(p, buf, len);
}

static inline void tw_on_state(void *user, const ovl_transport_event_t *ev)
{
    tw_peer_t *p = user;
    if (ev->type <= OVL_TRANSPORT_EVENT_CLOSED)
        p->n_type[ev->type]++;
    if (p->n_events == TW_MAX_EVENTS)
        return;
    p->events[p->n_events] = *ev;
    snprintf(p->reasons[p->n_events], sizeof(p->reasons[0]), "%s", ev->reason != NULL ? ev->reason : "");
    p->events[p->n_events].reason = p->reasons[p->n_events];
    p->n_events++;
}

/* The last event of a type, or NULL. */
static inline const ovl_transport_event_t *tw_last_event(const tw_peer_t *p, ovl_transport_event_type_t type)
{
    for (size_t i = p->n_events; i-- > 0;)
        if (p->events[i].type == type)
            return &p->events[i];
    return NULL;
}

/* ---- peers ----------------------------------------------------------------------------------------- */

/* A configuration with the fixture's defaults for `role`; the caller may change it before tw_start. */
static inline void tw_config(tw_world_t *w, tw_peer_t *p, ovl_transport_role_t role, ovl_transport_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->role = role;
    bool server = role == OVL_TRANSPORT_SERVER;
    c->local_ufrag = server ? TW_SERVER_UFRAG : TW_CLIENT_UFRAG;
    c->local_pwd = server ? TW_SERVER_PWD : TW_CLIENT_PWD;
    c->remote_ufrag = server ? TW_CLIENT_UFRAG : TW_SERVER_UFRAG;
    c->remote_pwd = server ? TW_CLIENT_PWD : TW_SERVER_PWD;
    if (!server) {
        c->remote_candidates = &w->cand;
        c->n_remote_candidates = 1;
        c->random = tw_random;
        c->random_user = &w->seed;
    }
    c->cert = w->cert[server ? 0 : 1];
    c->remote_fingerprint = ovl_dtls_cert_fingerprint(w->cert[server ? 1 : 0]);
    c->send = tw_on_send;
    c->on_rtp = tw_on_rtp;
    c->on_rtcp = tw_on_rtcp;
    c->on_state = tw_on_state;
    c->user = p;
}

/* Creates p's transport on `node` from c (c->user must be p). */
static inline int tw_start(tw_world_t *w, tw_peer_t *p, int node, const ovl_transport_config_t *c)
{
    if (w->n_peers == TW_MAX_PEERS)
        return OVL_ERR_LIMIT;
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->node = node;
    int ret = ovl_transport_new(c, w->now, &p->t);
    if (ret < 0)
        return ret;
    w->peers[w->n_peers++] = p;
    if (w->nodes[node].map == NULL)
        w->nodes[node].peer = p;
    return 0;
}

/* Frees p's transport and forgets p. */
static inline void tw_stop(tw_world_t *w, tw_peer_t *p)
{
    for (size_t i = 0; i < w->n_peers; i++) {
        if (w->peers[i] == p) {
            w->peers[i] = w->peers[--w->n_peers];
            break;
        }
    }
    for (size_t i = 0; i < w->n_nodes; i++)
        if (w->nodes[i].peer == p)
            w->nodes[i].peer = NULL;
    ovl_transport_free(p->t);
    p->t = NULL;
}

/* ---- the network and the clock ---------------------------------------------------------------------- */

static inline bool tw_find(const tw_world_t *w, const ovl_addr_t *a, int *node, size_t *path)
{
    for (size_t n = 0; n < w->n_nodes; n++) {
        for (size_t i = 0; i < w->nodes[n].n_paths; i++) {
            if (ovl_addr_equal(&w->nodes[n].addr[i], a)) {
                *node = (int)n;
                *path = i;
                return true;
            }
        }
    }
    return false;
}

/* Delivers one datagram as a socket would: from the sender's local address on its path. Returns the
 * receiving transport's (or map's) result. */
static inline int tw_deliver(tw_world_t *w, const tw_dgram_t *d)
{
    int node;
    size_t path;
    const tw_node_t *src = &w->nodes[d->from_node];
    const ovl_addr_t *from = NULL;
    for (size_t i = 0; i < src->n_paths; i++)
        if (src->path_id[i] == d->from_path)
            from = &src->addr[i];
    if (from == NULL || !tw_find(w, &d->to, &node, &path)) {
        w->lost++;
        return OVL_ERR_NOTFOUND;
    }
    tw_node_t *dst = &w->nodes[node];
    memcpy(w->rx, d->data, d->len);
    if (dst->map != NULL) {
        int ret = ovl_transport_map_dispatch(dst->map, dst->path_id[path], from, w->rx, d->len, w->now, NULL);
        if (ret == OVL_ERR_NOTFOUND)
            dst->not_found++;
        return ret;
    }
    if (dst->peer == NULL || dst->peer->t == NULL) {
        w->lost++;
        return OVL_ERR_NOTFOUND;
    }
    return ovl_transport_on_datagram(dst->peer->t, dst->path_id[path], from, w->rx, d->len, w->now);
}

/* Delivers everything queued (and whatever that makes the transports send). */
static inline void tw_pump(tw_world_t *w)
{
    static tw_dgram_t d;
    for (unsigned i = 0; w->q_len > 0 && i < 100000; i++) {
        if (w->reorder) { /* newest first */
            d = w->q[(w->q_head + w->q_len - 1) % TW_QUEUE];
        } else {
            d = w->q[w->q_head];
            w->q_head = (w->q_head + 1) % TW_QUEUE;
        }
        w->q_len--;
        tw_deliver(w, &d);
    }
}

/* Empties the queue without delivering anything. */
static inline void tw_flush_queue(tw_world_t *w)
{
    w->lost += (unsigned)w->q_len;
    w->q_head = w->q_len = 0;
}

static inline ovl_time_t tw_next_timeout(const tw_world_t *w)
{
    ovl_time_t next = OVL_TIME_NEVER;
    for (size_t i = 0; i < w->n_peers; i++) {
        ovl_time_t t = ovl_transport_next_timeout(w->peers[i]->t);
        if (t < next)
            next = t;
    }
    return next;
}

/* Runs the network and every transport's timers until `end` (delivery takes no time). */
static inline void tw_run_until(tw_world_t *w, ovl_time_t end)
{
    for (unsigned iter = 0; iter < 100000; iter++) {
        tw_pump(w);
        ovl_time_t next = tw_next_timeout(w);
        if (next > end)
            break;
        if (next > w->now)
            w->now = next;
        for (size_t i = 0; i < w->n_peers; i++)
            if (ovl_transport_next_timeout(w->peers[i]->t) <= w->now)
                ovl_transport_on_timeout(w->peers[i]->t, w->now);
    }
    if (end > w->now)
        w->now = end;
}

static inline void tw_run(tw_world_t *w, ovl_time_t duration)
{
    tw_run_until(w, w->now + duration);
}

/* Starts a relay transport on node 0 and a peer transport on node 1 with the default configurations
 * (changed by the optional hooks) and runs the network for up to 10 s of simulated time. Returns 0
 * when both are CONNECTED. */
static inline int tw_connect(tw_world_t *w, tw_peer_t *server, tw_peer_t *client, const ovl_transport_config_t *sc,
                             const ovl_transport_config_t *cc)
{
    ovl_transport_config_t s, c;
    int ret;
    if (sc == NULL)
        tw_config(w, server, OVL_TRANSPORT_SERVER, &s);
    if (cc == NULL)
        tw_config(w, client, OVL_TRANSPORT_CLIENT, &c);
    if ((ret = tw_start(w, server, 0, sc != NULL ? sc : &s)) < 0 ||
        (ret = tw_start(w, client, 1, cc != NULL ? cc : &c)) < 0)
        return ret;
    /* The clock stops at the first 100 ms step where both are connected (the same instant as the
     * nominating check, on a lossless network). */
    ovl_time_t end = w->now + OVL_SEC(10), step = 0;
    for (;;) {
        tw_run_until(w, w->now + step < end ? w->now + step : end);
        if (w->now >= end || (ovl_transport_state(server->t) == OVL_TRANSPORT_CONNECTED &&
                              ovl_transport_state(client->t) == OVL_TRANSPORT_CONNECTED))
            break;
        step = OVL_MS(100);
    }
    return ovl_transport_state(server->t) == OVL_TRANSPORT_CONNECTED &&
                   ovl_transport_state(client->t) == OVL_TRANSPORT_CONNECTED
               ? 0
               : OVL_ERR_STATE;
}

/* ---- media -------------------------------------------------------------------------------------------- */

/* An RTP packet (RFC 3550 §5.1): V=2, PT 96, seq, timestamp 3000 * seq, ssrc; payload bytes fill + i. */
static inline size_t tw_make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload, uint8_t fill)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    uint32_t ts = 3000u * seq;
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(fill + i);
    return 12 + payload;
}

/* An RTCP sender report without report blocks (RFC 3550 §6.4.1): 28 bytes, PT 200. */
static inline size_t tw_make_rtcp(uint8_t *buf, uint32_t ssrc, uint32_t packets)
{
    memset(buf, 0, 28);
    buf[0] = 0x80;
    buf[1] = 200;
    buf[3] = 6; /* length in 32-bit words minus one */
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(0xe0 + i); /* NTP timestamp, arbitrary */
        buf[20 + i] = (uint8_t)(packets >> (24 - 8 * i));
    }
    return 28;
}

#endif
