/*
 * One media worker's hooks (relay/io/worker.h) for the media plane: what its thread does with
 * datagrams, commands, the tick and the end of each turn. Participants and rooms are in
 * media_part.c; this file is the dispatch around them.
 *
 * A turn: received datagrams -> the transport map (STUN by USERNAME ufrag, the rest by source) ->
 * each transport decrypts and hands media to the router, which queues protected copies for the
 * subscribers; commands from signaling; due timers; then (end-of-turn hooks) the socket's send
 * queue leaves with sendmmsg, transports whose deadlines moved earlier are re-armed, and failed
 * participants are removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/io/clock.h"
#include "relay/io/media_int.h"

#define CLOCK_EVERY OVL_SEC(10) /* re-anchor the routers' NTP clocks */

/* ---- events up ----------------------------------------------------------------------------------- */

static void flush_backlog(ovl_media_worker_t *mw)
{
    while (mw->backlog) {
        ovl_media_backlog_t *b = mw->backlog;
        if (ovl_worker_emit(mw->w, &b->msg) != 0)
            return;
        mw->c.events++;
        mw->backlog = b->next;
        if (!mw->backlog)
            mw->backlog_tail = NULL;
        free(b);
    }
}

void ovl_media_worker_emit(ovl_media_worker_t *mw, uint32_t type, uint64_t id, char *payload)
{
    ovl_worker_msg_t msg = {.type = type, .id = id, .payload = payload, .len = payload ? strlen(payload) : 0};
    flush_backlog(mw);
    if (!mw->backlog && ovl_worker_emit(mw->w, &msg) == 0) {
        mw->c.events++;
        return;
    }
    /* Signaling is behind: keep it in order and try again at the end of the turn and every tick. */
    ovl_media_backlog_t *b = calloc(1, sizeof(*b));
    if (!b) {
        free(payload);
        return;
    }
    b->msg = msg;
    if (mw->backlog_tail)
        mw->backlog_tail->next = b;
    else
        mw->backlog = b;
    mw->backlog_tail = b;
    mw->c.events_deferred++;
}

/* ---- hooks --------------------------------------------------------------------------------------- */

static void on_datagrams(ovl_worker_t *w, ovl_udp_dgram_t *d, size_t n, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    mw->now = ovl_loop_now(ovl_worker_loop(w));
    for (size_t i = 0; i < n; i++) {
        ovl_addr_t from;
        ovl_transport_t *t = NULL;
        if (ovl_media_addr_from_sockaddr(&from, (const struct sockaddr *)&d[i].src) != 0) {
            mw->c.drop_unknown_source++;
            continue;
        }
        /* Drops inside a transport are counted by it (by reason); here only what nobody claims. */
        ovl_transport_map_dispatch(mw->map, OVL_MEDIA_PATH_UDP, &from, d[i].pkt->data, d[i].pkt->len, mw->now, &t);
        if (!t)
            mw->c.drop_unknown_source++;
    }
}

static int copy_id(char *dst, size_t cap, const ovl_worker_msg_t *m)
{
    if (!m->payload || m->len >= cap)
        return OVL_ERR_ARG;
    memcpy(dst, m->payload, m->len);
    dst[m->len] = '\0';
    return 0;
}

static void on_command(ovl_worker_t *w, ovl_worker_msg_t *m, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    ovl_media_part_t *p = m->type == OVL_MEDIA_CMD_JOIN || m->type == OVL_MEDIA_CMD_END || m->type == OVL_MEDIA_CMD_TCP
                              ? NULL
                              : ovl_media_part_find(mw, m->id);
    char meeting[OVL_MEDIA_MEETING_ID_MAX + 1];
    mw->now = ovl_loop_now(ovl_worker_loop(w));
    mw->c.commands++;
    switch (m->type) {
    case OVL_MEDIA_CMD_JOIN:
        if (m->payload && m->len == sizeof(ovl_media_join_cmd_t))
            ovl_media_part_join(mw, m->id, m->payload);
        break;
    case OVL_MEDIA_CMD_OFFER:
        if (!p)
            ovl_media_worker_emit(mw, OVL_MEDIA_OUT_FAILED, m->id, strdup("The media relay lost this participant."));
        else if (m->payload)
            ovl_media_part_offer(p, m->payload);
        break;
    case OVL_MEDIA_CMD_ANSWER:
        if (p && m->payload)
            ovl_media_nego_answer(p, m->payload, m->len);
        break;
    case OVL_MEDIA_CMD_ICE_RESTART:
        if (p)
            ovl_media_nego_ice_restart(p);
        break;
    case OVL_MEDIA_CMD_RECEIVE:
        if (p && p->rp)
            ovl_route_participant_receive_video(p->rp, m->arg != 0, mw->now);
        break;
    case OVL_MEDIA_CMD_LEAVE:
        if (p)
            ovl_media_part_remove(p, true);
        break;
    case OVL_MEDIA_CMD_TCP:
        if (m->payload && m->len == sizeof(int)) {
            int *fd = m->payload;
            ovl_media_tcp_adopt(mw, *fd);
            *fd = -1; /* taken */
        }
        break;
    case OVL_MEDIA_CMD_END:
        if (copy_id(meeting, sizeof(meeting), m) == 0)
            ovl_media_room_free(ovl_media_room_find(mw, meeting));
        break;
    default:
        break;
    }
    ovl_worker_msg_dispose(m);
}

/* Thinning counters: rooms now plus rooms gone. */
static void thin_counters(const ovl_media_worker_t *mw, ovl_media_stats_t *s)
{
    for (size_t i = 0; i < OVL_THIN_REASONS && i < OVL_ARRAY_LEN(s->thin_frames); i++)
        s->thin_frames[i] = mw->c.thin_frames[i];
    s->thin_raises = mw->c.thin_raises;
    for (size_t b = 0; b < OVL_MEDIA_ROOM_BUCKETS; b++)
        for (const ovl_media_room_t *r = mw->rooms[b]; r; r = r->hash_next) {
            ovl_route_stats_t rs;
            ovl_route_room_stats(r->route, &rs);
            for (size_t i = 0; i < OVL_THIN_REASONS && i < OVL_ARRAY_LEN(s->thin_frames); i++)
                s->thin_frames[i] += rs.thin_frames[i];
            s->thin_raises += rs.thin_raises;
        }
}

/* Every tick: the send backlog of each participant on an ICE-TCP path feeds its thinning level. */
static void poll_tcp_backlog(ovl_media_worker_t *mw, ovl_time_t now)
{
    for (size_t b = 0; b < OVL_MEDIA_PART_BUCKETS; b++)
        for (ovl_media_part_t *p = mw->parts[b]; p; p = p->hash_next) {
            ovl_tcp_conn_stats_t st;
            if (!p->rp || !p->connected || p->path_id == 0 || p->path_id == OVL_MEDIA_PATH_UDP ||
                ovl_media_tcp_path_stats(mw, p->path_id, &st) != 0)
                continue;
            ovl_route_participant_tcp_backlog(p->rp, st.queued_bytes, st.drops[OVL_TCP_PRIO_VIDEO], now);
        }
}

static void publish(ovl_media_worker_t *mw)
{
    ovl_media_stats_t s;
    ovl_udp_stats_t u;
    ovl_pool_stats_t ps;
    uint64_t words[OVL_MEDIA_STATS_WORDS];
    memset(&s, 0, sizeof(s));
    ovl_udp_stats(ovl_worker_udp(mw->w), &u);
    ovl_pool_stats(ovl_worker_pool(mw->w), &ps);
    s.port = ovl_worker_port(mw->w);
    s.rx_packets = u.rx_packets, s.rx_bytes = u.rx_bytes, s.tx_packets = u.tx_packets, s.tx_bytes = u.tx_bytes;
    s.rx_calls = u.rx_calls, s.tx_calls = u.tx_calls;
    s.drop_unknown_source = mw->c.drop_unknown_source;
    s.drop_not_connected = mw->c.drop_not_connected;
    s.drop_no_buffer = mw->c.drop_no_buffer + u.rx_nobuf;
    s.drop_send = mw->c.drop_send + u.tx_queue_full + u.tx_errors;
    s.drop_route = mw->c.drop_route;
    for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT && i < OVL_ARRAY_LEN(s.drop_transport); i++)
        s.drop_transport[i] = mw->c.drop_transport[i];
    for (size_t b = 0; b < OVL_MEDIA_PART_BUCKETS; b++)
        for (ovl_media_part_t *p = mw->parts[b]; p; p = p->hash_next) {
            if (!p->t)
                continue;
            ovl_transport_stats_t st;
            ovl_transport_stats(p->t, &st);
            for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT && i < OVL_ARRAY_LEN(s.drop_transport); i++)
                s.drop_transport[i] += st.drops[i];
            s.connected += p->connected;
        }
    s.rtp_in = mw->c.rtp_in, s.rtp_out = mw->c.rtp_out, s.rtcp_in = mw->c.rtcp_in, s.rtcp_out = mw->c.rtcp_out;
    s.transports = mw->n_transports, s.rooms = mw->n_rooms, s.participants = mw->n_parts;
    s.failed = mw->c.failed;
    s.commands = mw->c.commands, s.events = mw->c.events, s.events_deferred = mw->c.events_deferred;
    s.pool_in_use = ps.in_use, s.pool_capacity = ps.capacity;
    ovl_media_tcp_counters(mw, &s);
    ovl_media_turn_counters(mw, &s);
    thin_counters(mw, &s);
    memcpy(words, &s, sizeof(words));
    for (size_t i = 0; i < OVL_MEDIA_STATS_WORDS; i++)
        atomic_store_explicit(&mw->snapshot[i], words[i], memory_order_relaxed);
}

void ovl_media_worker_snapshot(const ovl_media_worker_t *mw, ovl_media_stats_t *out)
{
    uint64_t words[OVL_MEDIA_STATS_WORDS];
    for (size_t i = 0; i < OVL_MEDIA_STATS_WORDS; i++)
        words[i] = atomic_load_explicit(&((ovl_media_worker_t *)mw)->snapshot[i], memory_order_relaxed);
    memcpy(out, words, sizeof(words));
}

static void on_tick(ovl_worker_t *w, ovl_time_t now, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    (void)w;
    mw->now = now;
    flush_backlog(mw);
    poll_tcp_backlog(mw, now);
    if (now >= mw->next_clock) {
        ovl_clock_pair_t clk;
        ovl_clock_pair(&clk);
        mw->next_clock = now + CLOCK_EVERY;
        for (size_t b = 0; b < OVL_MEDIA_ROOM_BUCKETS; b++)
            for (ovl_media_room_t *r = mw->rooms[b]; r; r = r->hash_next)
                ovl_route_room_set_clock(r->route, clk.mono, clk.wall);
    }
    publish(mw);
}

/* End of every turn, after the worker's own flush: timers, reaping, what they sent, the backlog. */
static void on_turn_end(ovl_loop_t *loop, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    mw->now = ovl_loop_now(loop);
    while (mw->dirty) {
        ovl_media_part_t *p = mw->dirty;
        mw->dirty = p->dirty_next;
        p->dirty = false;
        ovl_media_part_arm(p);
    }
    while (mw->doomed) {
        ovl_media_part_t *p = mw->doomed;
        ovl_media_part_remove(p, false); /* unlinks it from the doomed list */
    }
    if (ovl_udp_queued(ovl_worker_udp(mw->w)))
        ovl_udp_flush(ovl_worker_udp(mw->w));
    if (mw->backlog)
        flush_backlog(mw);
}

static int on_start(ovl_worker_t *w, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    mw->now = ovl_clock_now();
    mw->next_clock = mw->now + CLOCK_EVERY;
    publish(mw);
    int ret = ovl_loop_add_hook(ovl_worker_loop(w), on_turn_end, mw);
    if (ret == 0)
        ret = ovl_media_tcp_start(mw);
    return ret != 0 ? ret : ovl_media_turn_start(mw);
}

static void on_stop(ovl_worker_t *w, void *ctx)
{
    ovl_media_worker_t *mw = ctx;
    (void)w;
    for (size_t b = 0; b < OVL_MEDIA_ROOM_BUCKETS; b++)
        while (mw->rooms[b])
            ovl_media_room_free(mw->rooms[b]);
    ovl_media_tcp_stop(mw);
    publish(mw);
}

/* ---- life ---------------------------------------------------------------------------------------- */

void ovl_media_worker_candidates(ovl_media_worker_t *mw)
{
    uint16_t port = ovl_worker_port(mw->w);
    mw->n_cands = 0;
    for (size_t i = 0; i < mw->shared->n_addrs; i++) {
        ovl_sdp_candidate_t *c = &mw->cands[mw->n_cands++];
        memset(c, 0, sizeof(*c));
        snprintf(c->foundation, sizeof(c->foundation), "%zu", i + 1);
        c->component = 1;
        c->proto = OVL_SDP_CAND_UDP;
        /* RFC 8445 §5.1.2.1: host type preference 126; earlier addresses preferred. */
        c->priority = ovl_sdp_candidate_priority(126, 65535 - (unsigned)i, 1);
        snprintf(c->address, sizeof(c->address), "%s", mw->shared->addrs[i]);
        c->port = port;
        c->type = OVL_SDP_CAND_HOST;
    }
    /* RFC 6544 §4.5: a passive TCP host candidate per address on the public TCP port (the HTTPS
     * port; signaling sorts the connections). §4.2: local preference (2^13) * direction-pref
     * (passive host: 4) + other-pref, below every UDP candidate's. */
    for (size_t i = 0; mw->shared->tcp_port && i < mw->shared->n_addrs && mw->n_cands < OVL_ARRAY_LEN(mw->cands); i++) {
        ovl_sdp_candidate_t *c = &mw->cands[mw->n_cands++];
        memset(c, 0, sizeof(*c));
        snprintf(c->foundation, sizeof(c->foundation), "%zu", 101 + i);
        c->component = 1;
        c->proto = OVL_SDP_CAND_TCP;
        c->priority = ovl_sdp_candidate_priority(126, (4u << 13) + 8191 - (unsigned)i, 1);
        snprintf(c->address, sizeof(c->address), "%s", mw->shared->addrs[i]);
        c->port = mw->shared->tcp_port;
        c->type = OVL_SDP_CAND_HOST;
        c->tcptype = OVL_SDP_TCPTYPE_PASSIVE;
    }
}

int ovl_media_worker_new(ovl_media_worker_t **out, const ovl_media_shared_t *shared, const ovl_worker_config_t *wcfg,
                         size_t max_transports)
{
    ovl_media_worker_t *mw;
    int ret;
    *out = NULL;
    if (!(mw = calloc(1, sizeof(*mw))))
        return OVL_ERR_NOMEM;
    mw->shared = shared;
    mw->index = wcfg->index;
    ovl_worker_hooks_t hooks = {
        .on_start = on_start,
        .on_datagrams = on_datagrams,
        .on_command = on_command,
        .on_tick = on_tick,
        .on_stop = on_stop,
        .ctx = mw,
    };
    if ((ret = ovl_transport_map_new(max_transports, NULL, &mw->map)) != 0 ||
        (ret = ovl_worker_new(&mw->w, wcfg, &hooks)) != 0 || (ret = ovl_media_turn_new(mw)) != 0) {
        ovl_media_worker_free(mw);
        return ret;
    }
    ovl_media_worker_candidates(mw);
    publish(mw);
    *out = mw;
    return 0;
}

void ovl_media_worker_free(ovl_media_worker_t *mw)
{
    if (!mw)
        return;
    /* Stops and joins the thread first; on_stop freed the rooms (a worker never started has none). */
    ovl_worker_free(mw->w);
    ovl_media_turn_free(mw);
    while (mw->backlog) {
        ovl_media_backlog_t *b = mw->backlog;
        mw->backlog = b->next;
        ovl_worker_msg_dispose(&b->msg);
        free(b);
    }
    ovl_transport_map_free(mw->map);
    free(mw);
}
