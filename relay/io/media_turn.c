/*
 * TURN allocations short-circuited into a media worker (see media.h, "TURN allocations"): the
 * worker's side and the signaling thread's side of its two TURN rings.
 *
 *   signaling thread                                   media worker
 *   ----------------                                   ------------
 *   lane_send: copy into a lent packet  --down DATA-->  transport map, path TURN + k, from R
 *   surplus empty packets               --down BACK-->  unref
 *   lane_poll: to the TURN client       <--up DATA----  what transports send to (R, TURN + k)
 *   (then keeps the packet, empty)      <--up EMPTY---  lent packets, topped up to TURN_CREDIT
 *
 * Packets always belong to the worker's pool, and only the worker thread touches their reference
 * counts: a packet goes up with one reference the worker holds for signaling (turn_lent counts
 * them) and comes back down, filled or empty, for the worker to drop. Between the two, signaling
 * owns its bytes. The worker lends at most OVL_MEDIA_TURN_LENT_MAX packets, fewer than a ring
 * holds, so no push can fail and no packet can be lost. Wakeups are the rings' eventfds, written
 * only when the other side may be asleep.
 */
#include <string.h>

#include "relay/io/media_int.h"

#define DOWN_BUDGET 256 /* down-ring messages per loop turn */

enum {
    TURN_DATA = 1, /* both ways: a datagram in pkt */
    TURN_EMPTY,    /* up: an empty packet lent to signaling */
    TURN_BACK,     /* down: an empty packet given back */
};

typedef struct turn_msg {
    uint32_t type;
    uint32_t k;         /* DATA: index of the announced address (path OVL_MEDIA_PATH_TURN + k) */
    ovl_pkt_t *pkt;     /* one reference, held by the worker for whoever has the message */
    ovl_addr_t relayed; /* DATA: the allocation's relayed transport address */
} turn_msg_t;

int ovl_media_turn_new(ovl_media_worker_t *mw)
{
    int ret = ovl_spsc_new(&mw->turn_down, OVL_MEDIA_TURN_RING, sizeof(turn_msg_t));
    return ret != 0 ? ret : ovl_spsc_new(&mw->turn_up, OVL_MEDIA_TURN_RING, sizeof(turn_msg_t));
}

void ovl_media_turn_free(ovl_media_worker_t *mw)
{
    /* Packets still in the rings or the stash belong to the pool, which is freed as a whole. */
    ovl_spsc_free(mw->turn_down, NULL, NULL);
    ovl_spsc_free(mw->turn_up, NULL, NULL);
    mw->turn_down = mw->turn_up = NULL;
    mw->turn_stash_n = 0;
}

/* ---- worker thread ------------------------------------------------------------------------------ */

/* Lends empty packets until signaling holds TURN_CREDIT of ours (in any state). */
static void top_up(ovl_media_worker_t *mw)
{
    while (mw->turn_lent < OVL_MEDIA_TURN_CREDIT) {
        ovl_pkt_t *pkt = ovl_pool_get(ovl_worker_pool(mw->w));
        if (!pkt)
            return;
        turn_msg_t msg = {.type = TURN_EMPTY, .pkt = pkt};
        if (ovl_spsc_push(mw->turn_up, &msg) != 0) {
            ovl_pkt_unref(pkt);
            return;
        }
        mw->turn_lent++;
    }
}

static void on_down_msg(void *msg, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    turn_msg_t *m = msg;
    mw->turn_lent--;
    if (m->type == TURN_DATA) {
        ovl_transport_t *t = NULL;
        mw->c.turn_rx_packets++;
        mw->c.turn_rx_bytes += m->pkt->len;
        /* As if it came to announced address k from the relayed address (media_worker.c, UDP). */
        ovl_transport_map_dispatch(mw->map, OVL_MEDIA_PATH_TURN + m->k, &m->relayed, m->pkt->data, m->pkt->len, mw->now,
                                   &t);
        if (!t)
            mw->c.drop_unknown_source++;
    }
    ovl_pkt_unref(m->pkt);
}

static void on_down(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    (void)fd, (void)events;
    mw->now = ovl_loop_now(loop);
    ovl_spsc_consume(mw->turn_down, DOWN_BUDGET, on_down_msg, mw);
    top_up(mw);
}

int ovl_media_turn_start(ovl_media_worker_t *mw)
{
    int ret = ovl_loop_add(ovl_worker_loop(mw->w), ovl_spsc_fd(mw->turn_down), OVL_LOOP_READ, on_down, mw);
    if (ret == 0)
        top_up(mw);
    return ret;
}

int ovl_media_turn_queue(ovl_media_worker_t *mw, ovl_pkt_t *pkt, const ovl_ice_path_t *to)
{
    uint64_t k = to->path_id - OVL_MEDIA_PATH_TURN;
    ovl_pkt_t *out = pkt;
    if (to->path_id < OVL_MEDIA_PATH_TURN || k >= mw->shared->n_addrs || mw->turn_lent >= OVL_MEDIA_TURN_LENT_MAX) {
        mw->c.turn_drops++;
        return OVL_ERR_LIMIT;
    }
    if (ovl_pkt_refs(pkt) == 1) {
        ovl_pkt_ref(pkt); /* the caller's reference is its only other one: signaling may have the bytes */
    } else {              /* someone else may still read these bytes: signaling gets a copy */
        if (!(out = ovl_pool_get(ovl_worker_pool(mw->w)))) {
            mw->c.turn_drops++;
            return OVL_ERR_NOMEM;
        }
        memcpy(out->data, pkt->data, pkt->len);
        out->len = pkt->len;
    }
    turn_msg_t msg = {.type = TURN_DATA, .k = (uint32_t)k, .pkt = out, .relayed = to->addr};
    size_t len = out->len;
    if (ovl_spsc_push(mw->turn_up, &msg) != 0) { /* cannot happen: lent < ring size */
        ovl_pkt_unref(out);
        mw->c.turn_drops++;
        return OVL_ERR_AGAIN;
    }
    mw->turn_lent++;
    mw->c.turn_tx_packets++;
    mw->c.turn_tx_bytes += len;
    return 0;
}

void ovl_media_turn_counters(const ovl_media_worker_t *mw, ovl_media_stats_t *s)
{
    s->turn_rx_packets = mw->c.turn_rx_packets;
    s->turn_rx_bytes = mw->c.turn_rx_bytes;
    s->turn_tx_packets = mw->c.turn_tx_packets;
    s->turn_tx_bytes = mw->c.turn_tx_bytes;
    s->turn_drops = mw->c.turn_drops;
    s->turn_lent = mw->turn_lent;
}

/* ---- signaling thread --------------------------------------------------------------------------- */

/* An empty packet signaling no longer needs: kept for the next datagram in, or given back. */
static void stash(ovl_media_worker_t *mw, ovl_pkt_t *pkt)
{
    if (mw->turn_stash_n >= 2 * OVL_MEDIA_TURN_CREDIT) {
        turn_msg_t back = {.type = TURN_BACK, .pkt = pkt};
        if (ovl_spsc_push(mw->turn_down, &back) == 0)
            return;
    }
    /* Never full: the worker lends at most OVL_MEDIA_TURN_LENT_MAX packets, the stash's size. */
    mw->turn_stash[mw->turn_stash_n++] = pkt;
}

int ovl_media_turn_lane_send(ovl_media_worker_t *mw, size_t k, const ovl_addr_t *relayed, const uint8_t *data,
                             size_t len)
{
    if (len > OVL_POOL_DATA)
        return OVL_ERR_ARG;
    if (mw->turn_stash_n == 0) /* a burst beyond the credit before the worker caught up: dropped */
        return OVL_ERR_AGAIN;
    ovl_pkt_t *pkt = mw->turn_stash[--mw->turn_stash_n];
    memcpy(pkt->data, data, len);
    pkt->len = len;
    turn_msg_t msg = {.type = TURN_DATA, .k = (uint32_t)k, .pkt = pkt, .relayed = *relayed};
    if (ovl_spsc_push(mw->turn_down, &msg) != 0) { /* cannot happen: we hold fewer than a ring's size */
        mw->turn_stash[mw->turn_stash_n++] = pkt;
        return OVL_ERR_AGAIN;
    }
    return 0;
}

typedef struct poll_ctx {
    ovl_media_worker_t *mw;
    ovl_media_turn_fn fn;
    void *ctx;
} poll_ctx_t;

static void on_up_msg(void *msg, void *ctx)
{
    poll_ctx_t *pc = ctx;
    turn_msg_t *m = msg;
    if (m->type == TURN_DATA) {
        ovl_addr_t from = pc->mw->shared->addr_bin[m->k];
        from.port = ovl_worker_port(pc->mw->w);
        pc->fn(pc->ctx, &m->relayed, &from, m->pkt->data, m->pkt->len);
    }
    stash(pc->mw, m->pkt);
}

size_t ovl_media_turn_lane_poll(ovl_media_worker_t *mw, size_t budget, ovl_media_turn_fn fn, void *ctx)
{
    poll_ctx_t pc = {mw, fn, ctx};
    return ovl_spsc_consume(mw->turn_up, budget, on_up_msg, &pc);
}
