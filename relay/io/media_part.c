/*
 * Participants and rooms on one media worker: each participant's WebRTC transport (relay/transport)
 * and its place in its meeting's router (relay/route), joined by
 *
 *   - the transport's callbacks: datagrams out (STUN answers, DTLS flights) copied into pool packets
 *     and queued on the worker's socket; decrypted RTP/RTCP into the router; state changes (media
 *     may flow, or FAILED goes up and the participant is reaped at the end of the turn);
 *   - the router's sink: pool packets lent to the router, protected in place (SRTP/SRTCP) with the
 *     subscriber's keys and queued for the turn's sendmmsg (zero copy; dropped and counted when the
 *     subscriber's transport is not up);
 *   - timers embedded in each participant (the transport's next timeout) and room (the router's),
 *     armed lazily: only when a deadline moves earlier, so no per-packet heap work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "relay/io/clock.h"
#include "relay/io/media_int.h"

/* ---- tables --------------------------------------------------------------------------------------- */

static size_t part_bucket(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)(id % OVL_MEDIA_PART_BUCKETS);
}

static size_t room_bucket(const char *meeting)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: meeting ids are random already */
    for (const char *c = meeting; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    return (size_t)(h % OVL_MEDIA_ROOM_BUCKETS);
}

ovl_media_part_t *ovl_media_part_find(const ovl_media_worker_t *mw, uint64_t id)
{
    for (ovl_media_part_t *p = mw->parts[part_bucket(id)]; p; p = p->hash_next)
        if (p->id == id)
            return p;
    return NULL;
}

ovl_media_room_t *ovl_media_room_find(const ovl_media_worker_t *mw, const char *meeting)
{
    for (ovl_media_room_t *r = mw->rooms[room_bucket(meeting)]; r; r = r->hash_next)
        if (strcmp(r->meeting, meeting) == 0)
            return r;
    return NULL;
}

/* ---- timers --------------------------------------------------------------------------------------- */

static void arm(ovl_media_worker_t *mw, ovl_timer_t *timer, ovl_time_t when)
{
    if (when == OVL_TIME_NEVER)
        return; /* an armed timer that fires early is harmless: the callback re-arms */
    if (!ovl_timer_armed(timer) || when < ovl_timer_when(timer))
        ovl_timer_schedule(ovl_worker_timers(mw->w), timer, when);
}

void ovl_media_part_arm(ovl_media_part_t *p)
{
    if (p->t)
        arm(p->mw, &p->timer, ovl_transport_next_timeout(p->t));
}

void ovl_media_room_arm(ovl_media_room_t *r)
{
    arm(r->mw, &r->timer, ovl_route_next_timeout(r->route));
}

static void part_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    ovl_media_part_t *p = ctx;
    (void)timer;
    p->mw->now = now;
    if (!p->t || p->doomed)
        return;
    ovl_transport_on_timeout(p->t, now);
    ovl_media_part_arm(p);
}

static void room_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    ovl_media_room_t *r = ctx;
    (void)timer;
    r->mw->now = now;
    ovl_route_on_timeout(r->route, now);
    ovl_media_room_arm(r);
}

/* The transport did something that may move its timer earlier: re-armed at the end of the turn. */
static void mark_dirty(ovl_media_part_t *p)
{
    if (p->dirty)
        return;
    p->dirty = true;
    p->dirty_next = p->mw->dirty;
    p->mw->dirty = p;
}

/* ---- datagrams out -------------------------------------------------------------------------------- */

/* Queues pkt (a reference is taken) on its path: the worker's UDP socket, an ICE-TCP connection
 * (media_tcp.c) in class `prio` (video RTP behind everything else), or a TURN allocation
 * (media_turn.c; the bytes then belong to signaling: callers only drop their reference after). */
static void queue_pkt(ovl_media_worker_t *mw, ovl_pkt_t *pkt, const ovl_ice_path_t *to, ovl_tcp_prio_t prio)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (to->path_id >= OVL_MEDIA_PATH_TURN) { /* a TURN allocation short-circuited in (media_turn.c) */
        if (ovl_media_turn_queue(mw, pkt, to) != 0)
            mw->c.drop_send++;
        return;
    }
    if (to->path_id != OVL_MEDIA_PATH_UDP) {
        if (ovl_media_tcp_send(mw, pkt, to->path_id, prio) != 0)
            mw->c.drop_send++;
        return;
    }
    if (ovl_media_addr_to_sockaddr(&to->addr, mw->shared->v6_socket, &ss, &sl)) {
        mw->c.drop_send++;
        return;
    }
    if (ovl_udp_send(ovl_worker_udp(mw->w), pkt, (const struct sockaddr *)&ss, sl, NULL) != 0)
        mw->c.drop_send++;
}

/* Transport: a STUN answer or DTLS flight, valid during the call only: copied into a pool packet. */
static void on_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    ovl_media_part_t *p = user;
    ovl_media_worker_t *mw = p->mw;
    ovl_pkt_t *pkt;
    mark_dirty(p);
    if (len > OVL_POOL_DATA || !(pkt = ovl_pool_get(ovl_worker_pool(mw->w)))) {
        mw->c.drop_no_buffer++;
        return;
    }
    memcpy(pkt->data, data, len);
    pkt->len = len;
    ovl_ice_path_t path = {.addr = *to, .path_id = path_id};
    queue_pkt(mw, pkt, &path, OVL_TCP_PRIO_AUDIO);
    ovl_pkt_unref(pkt);
}

/* ---- media in --------------------------------------------------------------------------------------- */

static void on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    ovl_media_part_t *p = user;
    p->mw->c.rtp_in++;
    if (ovl_route_on_rtp(p->room->route, p->rp, buf, len, now) != 0)
        p->mw->c.drop_route++;
    ovl_media_room_arm(p->room);
}

static void on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    ovl_media_part_t *p = user;
    p->mw->c.rtcp_in++;
    ovl_route_on_rtcp(p->room->route, p->rp, buf, len, now);
    ovl_media_room_arm(p->room);
}

/* The ICE-selected path: over ICE-TCP or a TURN allocation (whose client is on TCP/TLS) video is
 * thinned to its base layer and further on congestion. */
static void set_path(ovl_media_part_t *p, uint64_t path_id)
{
    ovl_thin_path_t kind = path_id == OVL_MEDIA_PATH_UDP    ? OVL_THIN_PATH_UDP
                           : path_id >= OVL_MEDIA_PATH_TURN ? OVL_THIN_PATH_TURN
                                                            : OVL_THIN_PATH_TCP;
    p->path_id = path_id;
    if (p->rp)
        ovl_route_participant_set_path(p->rp, kind);
}

static void on_state(void *user, const ovl_transport_event_t *ev)
{
    ovl_media_part_t *p = user;
    mark_dirty(p);
    switch (ev->type) {
    case OVL_TRANSPORT_EVENT_ICE_SELECTED:
    case OVL_TRANSPORT_EVENT_ICE_RESTARTED:
        set_path(p, ev->path.path_id);
        break;
    case OVL_TRANSPORT_EVENT_CONNECTED:
        set_path(p, ev->path.path_id);
        p->connected = true;
        ovl_route_participant_set_connected(p->rp, true, p->mw->now);
        ovl_media_room_arm(p->room);
        break;
    case OVL_TRANSPORT_EVENT_CONSENT_LOST:
    case OVL_TRANSPORT_EVENT_FAILED:
    case OVL_TRANSPORT_EVENT_CLOSED:
        p->connected = false;
        ovl_media_part_fail(p, ev->type == OVL_TRANSPORT_EVENT_CLOSED ? "The browser closed the media connection."
                               : ev->reason                           ? ev->reason
                                                                      : "The media connection failed.");
        break;
    default:
        break;
    }
}

/* ---- the router's sink ------------------------------------------------------------------------------ */

static int sink_get(void *ctx, ovl_route_buf_t *out)
{
    ovl_media_part_t *p = ctx;
    ovl_pkt_t *pkt = ovl_pool_get(ovl_worker_pool(p->mw->w));
    if (!pkt) {
        p->mw->c.drop_no_buffer++;
        return OVL_ERR_NOMEM;
    }
    out->data = pkt->data;
    out->cap = ovl_pkt_tailroom(pkt);
    out->handle = pkt;
    return 0;
}

static void sink_send(ovl_media_part_t *p, ovl_route_buf_t *buf, size_t len, bool rtcp, ovl_tcp_prio_t prio)
{
    ovl_media_worker_t *mw = p->mw;
    ovl_pkt_t *pkt = buf->handle;
    ovl_ice_path_t to;
    if (!p->t || !p->connected || p->doomed) {
        mw->c.drop_not_connected++;
    } else if ((rtcp ? ovl_transport_protect_rtcp : ovl_transport_protect_rtp)(p->t, buf->data, &len, buf->cap, &to) !=
               0) {
        mw->c.drop_route++;
    } else {
        pkt->len = len;
        if (rtcp)
            mw->c.rtcp_out++;
        else
            mw->c.rtp_out++;
        queue_pkt(mw, pkt, &to, prio);
    }
    ovl_pkt_unref(pkt);
}

static void sink_rtp(void *ctx, ovl_route_buf_t *buf, size_t len, bool is_audio)
{
    sink_send(ctx, buf, len, false, is_audio ? OVL_TCP_PRIO_AUDIO : OVL_TCP_PRIO_VIDEO);
}

static void sink_rtcp(void *ctx, ovl_route_buf_t *buf, size_t len)
{
    sink_send(ctx, buf, len, true, OVL_TCP_PRIO_AUDIO);
}

static void sink_put(void *ctx, ovl_route_buf_t *buf)
{
    (void)ctx;
    ovl_pkt_unref(buf->handle);
}

/* ---- the router's events ---------------------------------------------------------------------------- */

static void on_route_event(void *ctx, const ovl_route_event_t *ev)
{
    ovl_media_room_t *r = ctx;
    ovl_media_part_t *p = ovl_media_part_find(r->mw, ev->participant);
    if (!p || p->room != r)
        return;
    switch (ev->type) {
    case OVL_ROUTE_EV_SDP:
        ovl_media_nego_route_sdp(p, ev->u.sdp.type, ev->u.sdp.text);
        break;
    case OVL_ROUTE_EV_ACTIVE_SPEAKER:
        ovl_media_worker_emit(r->mw, OVL_MEDIA_OUT_ACTIVE_SPEAKER, p->id, NULL);
        break;
    default:
        break;
    }
}

/* ---- rooms ------------------------------------------------------------------------------------------ */

static ovl_media_room_t *room_get(ovl_media_worker_t *mw, const char *meeting)
{
    ovl_media_room_t *r = ovl_media_room_find(mw, meeting);
    ovl_clock_pair_t clk;
    uint64_t seed = 0;
    if (r)
        return r;
    if (!(r = calloc(1, sizeof(*r))))
        return NULL;
    r->mw = mw;
    snprintf(r->meeting, sizeof(r->meeting), "%s", meeting);
    ovl_clock_pair(&clk);
    RAND_bytes((uint8_t *)&seed, sizeof(seed));
    ovl_route_room_config_t rc = {
        .id = ++mw->room_seq,
        .max_participants = mw->shared->max_participants,
        .seed = seed,
        .clock_mono = clk.mono,
        .clock_unix_us = clk.wall,
        .on_event = on_route_event,
        .ctx = r,
    };
    if (ovl_route_room_new(&rc, &r->route) != 0) {
        free(r);
        return NULL;
    }
    ovl_timer_init(&r->timer, room_timer, r);
    size_t b = room_bucket(meeting);
    r->hash_next = mw->rooms[b];
    mw->rooms[b] = r;
    mw->n_rooms++;
    return r;
}

static void room_unlink(ovl_media_room_t *r)
{
    ovl_media_worker_t *mw = r->mw;
    for (ovl_media_room_t **pp = &mw->rooms[room_bucket(r->meeting)]; *pp; pp = &(*pp)->hash_next)
        if (*pp == r) {
            *pp = r->hash_next;
            mw->n_rooms--;
            return;
        }
}

/* ---- participants ----------------------------------------------------------------------------------- */

void ovl_media_part_new_credentials(ovl_media_part_t *p)
{
    /* The worker's index leads the ufrag (ufrag.h): ICE-TCP connections find their worker by it. */
    do
        ovl_media_sdp_credentials(p->mw->index, p->ufrag, p->pwd, OVL_MEDIA_PWD_LEN);
    while (ovl_transport_map_find_ufrag(p->mw->map, p->ufrag, OVL_MEDIA_UFRAG_LEN));
}

void ovl_media_part_join(ovl_media_worker_t *mw, uint64_t id, const ovl_media_join_cmd_t *cmd)
{
    ovl_media_part_t *p = NULL;
    ovl_media_room_t *r = NULL;
    if (ovl_media_part_find(mw, id))
        return; /* signaling never joins an id twice; a stale repeat changes nothing */
    if (!(p = calloc(1, sizeof(*p))) || !(r = room_get(mw, cmd->meeting)))
        goto Fail;
    p->mw = mw;
    p->room = r;
    p->id = id;
    snprintf(p->public_id, sizeof(p->public_id), "%s", cmd->public_id);
    ovl_timer_init(&p->timer, part_timer, p);
    ovl_media_part_new_credentials(p);
    RAND_bytes((uint8_t *)&p->session_id, sizeof(p->session_id));
    p->session_id &= (1ull << 62) - 1; /* RFC 8866 §5.2 / RFC 9429 §5.2.1: below 2^63 */
    p->sdp_version = 1;
    ovl_route_sink_t sink = {sink_get, sink_rtp, sink_rtcp, sink_put, p};
    if (ovl_route_participant_add(r->route, id, &sink, mw->now, &p->rp) != 0)
        goto Fail;
    size_t b = part_bucket(id);
    p->hash_next = mw->parts[b];
    mw->parts[b] = p;
    p->room_next = r->parts;
    r->parts = p;
    r->n_parts++;
    mw->n_parts++;
    return;
Fail:
    free(p);
    if (r && r->n_parts == 0)
        ovl_media_room_free(r);
    ovl_media_worker_emit(mw, OVL_MEDIA_OUT_FAILED, id, strdup("The media relay cannot take this participant."));
}

void ovl_media_part_offer(ovl_media_part_t *p, const ovl_media_offer_cmd_t *cmd)
{
    ovl_media_worker_t *mw = p->mw;
    int ret;
    if (p->t || p->doomed)
        return; /* only the first offer comes from the client; signaling enforces it */
    ovl_transport_config_t tc = {
        .role = OVL_TRANSPORT_SERVER,
        .local_ufrag = p->ufrag,
        .local_pwd = p->pwd,
        .remote_ufrag = cmd->remote_ufrag,
        .cert = mw->shared->cert,
        .remote_fingerprint = &cmd->remote_fingerprint,
        .ice_lite = &mw->shared->ice,
        .map = mw->map,
        .send = on_send,
        .on_rtp = on_rtp,
        .on_rtcp = on_rtcp,
        .on_state = on_state,
        .user = p,
    };
    if ((ret = ovl_transport_new(&tc, mw->now, &p->t)) != 0) {
        ovl_media_part_fail(p,
                            ret == OVL_ERR_LIMIT ? "The media relay is full." : "The media connection cannot be made.");
        return;
    }
    mw->n_transports++;
    ovl_sdp_local_t local = {
        .ice_ufrag = p->ufrag,
        .ice_pwd = p->pwd,
        .session_id = p->session_id,
        .session_version = p->sdp_version,
        .candidates = mw->cands,
        .n_candidates = mw->n_cands,
        .opus_dtx = true, /* usedtx=1 (RFC 7587 §6.1): silence costs next to nothing on a thin path */
    };
    memcpy(local.fingerprint_sha256, mw->shared->fingerprint_sha256, 32);
    if ((ret = ovl_route_participant_offer(p->rp, cmd->sdp, cmd->len, &local, mw->now)) != 0) {
        ovl_media_part_fail(p, ret == OVL_ERR_UNSUPPORTED ? "The offer has no audio or video the relay can take."
                                                          : "The relay cannot answer this offer.");
        return;
    }
    ovl_media_part_arm(p);
    ovl_media_room_arm(p->room);
}

void ovl_media_part_fail(ovl_media_part_t *p, const char *reason)
{
    ovl_media_worker_t *mw = p->mw;
    if (p->doomed)
        return;
    p->doomed = true;
    p->failed = true;
    mw->c.failed++;
    ovl_media_worker_emit(mw, OVL_MEDIA_OUT_FAILED, p->id, strdup(reason));
    p->doomed_next = mw->doomed;
    mw->doomed = p;
}

static void part_free(ovl_media_part_t *p)
{
    ovl_media_worker_t *mw = p->mw;
    ovl_timer_cancel(ovl_worker_timers(mw->w), &p->timer);
    if (p->t) {
        ovl_transport_stats_t st;
        ovl_transport_stats(p->t, &st);
        for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT; i++)
            mw->c.drop_transport[i] += st.drops[i];
        ovl_transport_free(p->t);
        mw->n_transports--;
    }
    ovl_media_nego_dispose(p);
    free(p);
}

static void unlink_part(ovl_media_part_t *p)
{
    ovl_media_worker_t *mw = p->mw;
    for (ovl_media_part_t **pp = &mw->parts[part_bucket(p->id)]; *pp; pp = &(*pp)->hash_next)
        if (*pp == p) {
            *pp = p->hash_next;
            mw->n_parts--;
            break;
        }
    for (ovl_media_part_t **pp = &p->room->parts; *pp; pp = &(*pp)->room_next)
        if (*pp == p) {
            *pp = p->room_next;
            p->room->n_parts--;
            break;
        }
    if (p->doomed)
        for (ovl_media_part_t **pp = &mw->doomed; *pp; pp = &(*pp)->doomed_next)
            if (*pp == p) {
                *pp = p->doomed_next;
                break;
            }
    if (p->dirty)
        for (ovl_media_part_t **pp = &mw->dirty; *pp; pp = &(*pp)->dirty_next)
            if (*pp == p) {
                *pp = p->dirty_next;
                break;
            }
}

void ovl_media_part_remove(ovl_media_part_t *p, bool close_transport)
{
    ovl_media_room_t *r = p->room;
    if (close_transport && p->t && !p->doomed) {
        p->doomed = true;          /* no FAILED for a participant who left */
        ovl_transport_close(p->t); /* DTLS close_notify: the browser learns at once */
    }
    unlink_part(p); /* also off the doomed and dirty lists */
    /* Others get offers retiring its tracks; its own events are no longer delivered (unlinked). */
    ovl_route_participant_remove(r->route, p->rp, p->mw->now);
    part_free(p);
    if (r->n_parts == 0)
        ovl_media_room_free(r);
    else
        ovl_media_room_arm(r);
}

void ovl_media_room_free(ovl_media_room_t *r)
{
    if (!r)
        return;
    ovl_media_worker_t *mw = r->mw;
    room_unlink(r);
    while (r->parts) {
        ovl_media_part_t *p = r->parts;
        unlink_part(p);
        part_free(p);
    }
    ovl_timer_cancel(ovl_worker_timers(mw->w), &r->timer);
    if (r->route) { /* its thinning counters live on in the worker's */
        ovl_route_stats_t rs;
        ovl_route_room_stats(r->route, &rs);
        for (size_t i = 0; i < OVL_THIN_REASONS; i++)
            mw->c.thin_frames[i] += rs.thin_frames[i];
        mw->c.thin_raises += rs.thin_raises;
    }
    ovl_route_room_free(r->route); /* frees its participants without events */
    free(r);
}
