/*
 * ICE-TCP on a media worker (RFC 6544 passive candidates): connections handed over by the thread
 * that owns the TCP port (media.c, ovl_media_tcp_adopt after tcp_accept.h found the relay ufrag)
 * become ovl_tcp_conn_t of the worker's set, each with its own path_id (OVL_MEDIA_PATH_UDP + 1
 * and up). Their frames go through the transport map exactly like UDP datagrams (STUN by USERNAME
 * ufrag, the rest by (peer, path_id) once ICE trusts it); a transport's output for that path_id
 * comes back here (media_part.c) and is queued on the connection: video RTP in the VIDEO class,
 * everything else (audio, RTCP, STUN, DTLS) in AUDIO. A connection starts `stun_only` (Chromium
 * drops an ICE-TCP connection that receives anything else first) and is opened once the map
 * trusts its path (an ICE check passed on it). When a connection closes (EOF, error, timeout), the transport
 * that trusted its path is told at once (ovl_transport_path_closed), so a participant whose only path it was
 * fails as on consent loss without waiting for the consent timeout.
 */
#include <stdlib.h>
#include <unistd.h>

#include "relay/io/clock.h"
#include "relay/io/media_int.h"

struct ovl_media_tcp {
    ovl_media_tcp_t *next; /* bucket list */
    ovl_media_worker_t *mw;
    ovl_tcp_conn_t *c;
    uint64_t path_id;
};

static size_t bucket(uint64_t path_id)
{
    return (size_t)(path_id % OVL_MEDIA_TCP_BUCKETS);
}

static ovl_media_tcp_t *find(const ovl_media_worker_t *mw, uint64_t path_id)
{
    for (ovl_media_tcp_t *e = mw->tcp_conns[bucket(path_id)]; e; e = e->next)
        if (e->path_id == path_id)
            return e;
    return NULL;
}

static void unlink_entry(ovl_media_worker_t *mw, ovl_media_tcp_t *e)
{
    for (ovl_media_tcp_t **pp = &mw->tcp_conns[bucket(e->path_id)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            return;
        }
}

/* Opens the STUN gate once ICE trusts the connection's path (a check passed on it). */
static void maybe_validate(ovl_media_tcp_t *e)
{
    if (!ovl_tcp_conn_validated(e->c) &&
        ovl_transport_map_find_path(e->mw->map, ovl_tcp_conn_peer(e->c), e->path_id) != NULL)
        ovl_tcp_conn_validate(e->c);
}

static void on_frame(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_time_t now, void *ctx)
{
    ovl_media_tcp_t *e = ctx;
    ovl_media_worker_t *mw = e->mw;
    ovl_transport_t *t = NULL;
    mw->now = now;
    ovl_transport_map_dispatch(mw->map, e->path_id, ovl_tcp_conn_peer(c), pkt->data, pkt->len, now, &t);
    if (!t) {
        mw->c.drop_unknown_source++;
        return;
    }
    maybe_validate(e);
}

static void on_close(ovl_tcp_conn_t *c, ovl_tcp_close_reason_t reason, int err, void *ctx)
{
    ovl_media_tcp_t *e = ctx;
    ovl_media_worker_t *mw = e->mw;
    (void)reason, (void)err;
    /* RFC 6544: the pair lives and dies with its connection. The transport that trusts it forgets it at
     * once: media moves to another validated pair, or, when this was the only one, the transport fails as
     * on consent expiry (media_part.c's on_state: FAILED goes up, signaling tells the others) instead of
     * 30 s later. A connection that never passed a check belongs to no transport. */
    ovl_transport_t *t = ovl_transport_map_find_path(mw->map, ovl_tcp_conn_peer(c), e->path_id);
    unlink_entry(mw, e);
    free(e);
    if (t) {
        mw->now = ovl_clock_now();
        ovl_transport_path_closed(t, ovl_tcp_conn_path_id(c), mw->now); /* c is valid until we return */
    }
}

int ovl_media_tcp_start(ovl_media_worker_t *mw)
{
    ovl_tcp_config_t cfg = {0};
    mw->next_path = OVL_MEDIA_PATH_UDP + 1;
    return ovl_tcp_set_new(&mw->tcp, ovl_worker_loop(mw->w), ovl_worker_pool(mw->w), &cfg);
}

void ovl_media_tcp_stop(ovl_media_worker_t *mw)
{
    ovl_tcp_set_free(mw->tcp); /* no on_close: the entries go below */
    mw->tcp = NULL;
    for (size_t b = 0; b < OVL_MEDIA_TCP_BUCKETS; b++)
        while (mw->tcp_conns[b]) {
            ovl_media_tcp_t *e = mw->tcp_conns[b];
            mw->tcp_conns[b] = e->next;
            free(e);
        }
}

void ovl_media_tcp_adopt(ovl_media_worker_t *mw, int fd)
{
    ovl_media_tcp_t *e = calloc(1, sizeof(*e));
    if (!e || !mw->tcp) {
        free(e);
        close(fd);
        return;
    }
    e->mw = mw;
    e->path_id = mw->next_path++;
    ovl_tcp_conn_params_t params = {
        .path_id = e->path_id,
        .stun_only = true,
        .on_frame = on_frame,
        .on_close = on_close,
        .ctx = e,
    };
    if (ovl_tcp_conn_new(&e->c, mw->tcp, fd, &params, mw->now) != 0) { /* the set closed fd */
        free(e);
        return;
    }
    size_t b = bucket(e->path_id);
    e->next = mw->tcp_conns[b];
    mw->tcp_conns[b] = e;
    mw->c.tcp_accepted++;
}

int ovl_media_tcp_send(ovl_media_worker_t *mw, ovl_pkt_t *pkt, uint64_t path_id, ovl_tcp_prio_t prio)
{
    ovl_media_tcp_t *e = find(mw, path_id);
    if (!e)
        return OVL_ERR_NOTFOUND;
    maybe_validate(e);
    return ovl_tcp_conn_send(e->c, pkt, prio);
}

int ovl_media_tcp_path_stats(const ovl_media_worker_t *mw, uint64_t path_id, ovl_tcp_conn_stats_t *out)
{
    ovl_media_tcp_t *e = find(mw, path_id);
    if (!e)
        return OVL_ERR_NOTFOUND;
    ovl_tcp_conn_stats(e->c, out);
    return 0;
}

void ovl_media_tcp_counters(const ovl_media_worker_t *mw, ovl_media_stats_t *s)
{
    s->tcp_accepted = mw->c.tcp_accepted;
    for (size_t b = 0; b < OVL_MEDIA_TCP_BUCKETS; b++)
        for (const ovl_media_tcp_t *e = mw->tcp_conns[b]; e; e = e->next) {
            ovl_tcp_conn_stats_t st;
            ovl_tcp_conn_stats(e->c, &st);
            s->tcp_open++;
            s->tcp_rx_frames += st.rx_frames;
            s->tcp_tx_frames += st.tx_frames;
            s->tcp_drop_audio += st.drops[OVL_TCP_PRIO_AUDIO];
            s->tcp_drop_video += st.drops[OVL_TCP_PRIO_VIDEO];
        }
}
