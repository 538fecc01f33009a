/* Signaling <-> media plane: the media port's commands and the workers' events. See media_glue.h. */
#include "cmd/overleg/media_glue.h"

#include <stdlib.h>

#include "relay/io/clock.h"
#include "relay/io/tcp_accept.h"
#include "signaling/turn_glue.h"

#define EVENT_BUDGET 256 /* events handled per wakeup; the queue wakes us again for the rest */
#define TURN_BUDGET  256 /* datagrams towards TURN clients handled per wakeup */
#define TCP_PENDING  256 /* ICE-TCP connections waiting for their whole first frame */
#define TCP_WAIT     OVL_SEC(5)

typedef struct glue_wake {
    ovl_glue_t *g;
    size_t worker;
} glue_wake_t;

struct ovl_glue {
    ovl_media_t *media;      /* borrowed */
    ovl_server_t *server;    /* borrowed; NULL until attached */
    glue_wake_t *wakes;      /* owned, one per worker */
    glue_wake_t *turn_wakes; /* owned, one per worker: datagrams towards TURN allocations */
    ovl_turn_glue_t *turn;   /* borrowed from the server; NULL until ovl_glue_attach_turn */
    ovl_tcp_accept_t *tcp;   /* owned: ICE-TCP connections until their first frame is whole */
};

static int joined(void *ctx, const char *meeting_id, uint64_t participant, const char *public_id)
{
    ovl_glue_t *g = ctx;
    return ovl_media_join(g->media, meeting_id, participant, public_id);
}

static int offer(void *ctx, uint64_t participant, const char *sdp)
{
    ovl_glue_t *g = ctx;
    return ovl_media_offer(g->media, participant, sdp);
}

static int answer(void *ctx, uint64_t participant, const char *sdp)
{
    ovl_glue_t *g = ctx;
    return ovl_media_answer(g->media, participant, sdp);
}

static int restart(void *ctx, uint64_t participant)
{
    ovl_glue_t *g = ctx;
    return ovl_media_ice_restart(g->media, participant);
}

static void left(void *ctx, uint64_t participant)
{
    ovl_glue_t *g = ctx;
    ovl_media_leave(g->media, participant);
}

static void ended(void *ctx, const char *meeting_id)
{
    ovl_glue_t *g = ctx;
    ovl_media_end(g->media, meeting_id);
}

static int receive(void *ctx, uint64_t participant, int video)
{
    ovl_glue_t *g = ctx;
    return ovl_media_receive(g->media, participant, video != 0);
}

int ovl_glue_new(ovl_media_t *media, ovl_media_port_t *port, ovl_glue_t **out)
{
    ovl_glue_t *g = calloc(1, sizeof(*g));
    size_t n = ovl_media_worker_count(media);
    *out = NULL;
    if (!g || !(g->wakes = calloc(n, sizeof(*g->wakes))) || !(g->turn_wakes = calloc(n, sizeof(*g->turn_wakes)))) {
        if (g)
            free(g->wakes);
        free(g);
        return OVL_ERR_NOMEM;
    }
    g->media = media;
    *port = (ovl_media_port_t){g, joined, offer, answer, restart, left, ended, receive};
    *out = g;
    return 0;
}

static void deliver(const ovl_media_out_t *ev, void *ctx)
{
    ovl_glue_t *g = ctx;
    ovl_media_event_t e = {.participant = ev->participant, .sdp = ev->sdp};
    switch (ev->type) {
    case OVL_MEDIA_OUT_OFFER:
        e.type = OVL_MEDIA_EV_OFFER;
        break;
    case OVL_MEDIA_OUT_ANSWER:
        e.type = OVL_MEDIA_EV_ANSWER;
        break;
    case OVL_MEDIA_OUT_FAILED:
        e.type = OVL_MEDIA_EV_FAILED;
        break;
    case OVL_MEDIA_OUT_ACTIVE_SPEAKER:
        e.type = OVL_MEDIA_EV_ACTIVE_SPEAKER;
        break;
    default:
        return;
    }
    ovl_server_media_event(g->server, &e);
}

static void on_wake(void *ctx)
{
    glue_wake_t *w = ctx;
    ovl_media_poll(w->g->media, w->worker, EVENT_BUDGET, deliver, w->g);
}

/* ---- TURN allocations short-circuited into the workers (media.h) ---- */

/* The TURN server's datagram from an allocation to a media address: to the worker that owns it. */
static int turn_to_worker(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    ovl_glue_t *g = ctx;
    return ovl_media_turn_send(g->media, relayed, peer, data, len);
}

typedef struct turn_batch {
    ovl_turn_glue_t *turn;
    ovl_time_t now;
} turn_batch_t;

/* A worker's datagram to a relayed address: to the allocation's client. */
static void turn_to_client(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *from, const uint8_t *data,
                           size_t len)
{
    turn_batch_t *b = ctx;
    ovl_turn_glue_from_peer(b->turn, relayed, from, data, len, b->now);
}

static void turn_wake(void *ctx)
{
    glue_wake_t *w = ctx;
    turn_batch_t b = {w->g->turn, ovl_clock_now()};
    /* Without a TURN server nothing comes up but lent packets; they are kept all the same. */
    ovl_media_turn_poll(w->g->media, w->worker, TURN_BUDGET, turn_to_client, &b);
}

int ovl_glue_attach_turn(ovl_glue_t *g)
{
    if (!(g->turn = ovl_server_turn(g->server)))
        return OVL_ERR_STATE;
    ovl_turn_glue_set_peer(g->turn, turn_to_worker, g);
    return 0;
}

static char *metrics(void *ctx)
{
    ovl_glue_t *g = ctx;
    return ovl_media_metrics_render(g->media);
}

/* ICE-TCP: the first frame is whole; its relay ufrag names the worker that takes the connection. */
static void tcp_ready(void *ctx, int fd, const ovl_stun_text_t *ufrag)
{
    ovl_glue_t *g = ctx;
    (void)ovl_media_tcp_hand_off(g->media, fd, ufrag->s, ufrag->len); /* closes fd on failure */
}

/* A connection on the HTTPS port that is neither TLS nor HTTP: RFC 4571 framed STUN, perhaps. */
static void raw_tcp(void *ctx, int fd, const uint8_t *first, size_t len)
{
    ovl_glue_t *g = ctx;
    (void)first, (void)len;
    ovl_tcp_accept_add(g->tcp, fd, ovl_clock_now());
}

static void tcp_wake(void *ctx)
{
    ovl_glue_t *g = ctx;
    ovl_tcp_accept_service(g->tcp, ovl_clock_now());
}

int ovl_glue_attach(ovl_glue_t *g, ovl_server_t *server)
{
    int ret;
    g->server = server;
    if ((ret = ovl_tcp_accept_new(&g->tcp, TCP_PENDING, TCP_WAIT, tcp_ready, g)) != 0 ||
        (ret = ovl_server_add_wakeup_fd(server, ovl_tcp_accept_fd(g->tcp), tcp_wake, g)) != 0)
        return ret;
    ovl_server_set_raw_tcp_handler(server, raw_tcp, g);
    for (size_t i = 0; i < ovl_media_worker_count(g->media); i++) {
        g->wakes[i] = (glue_wake_t){g, i};
        if ((ret = ovl_server_add_wakeup_fd(server, ovl_media_events_fd(g->media, i), on_wake, &g->wakes[i])) != 0)
            return ret;
        g->turn_wakes[i] = (glue_wake_t){g, i};
        if ((ret = ovl_server_add_wakeup_fd(server, ovl_media_turn_fd(g->media, i), turn_wake, &g->turn_wakes[i])) != 0)
            return ret;
    }
    ovl_server_set_metrics_provider(server, metrics, g);
    return 0;
}

void ovl_glue_free(ovl_glue_t *g)
{
    if (!g)
        return;
    ovl_tcp_accept_free(g->tcp);
    free(g->wakes);
    free(g->turn_wakes);
    free(g);
}
