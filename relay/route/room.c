/*
 * The room (mediasoup's Router): participants, events, randomness, the timer dispatcher and the
 * RTCP buffer helpers every stage shares.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/proto/srtp.h"
#include "relay/route/route_int.h"

#define DEFAULT_MAX_PARTICIPANTS 50
#define LIMIT_MAX_PARTICIPANTS   256

static ovl_time_t or_default(ovl_time_t v, ovl_time_t d)
{
    return v ? v : d;
}

int ovl_route_room_new(const ovl_route_room_config_t *cfg, ovl_route_room_t **out)
{
    ovl_route_room_t *room = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!cfg || cfg->max_participants > LIMIT_MAX_PARTICIPANTS)
        goto Exit;
    size_t rtx = cfg->rtx_packets ? cfg->rtx_packets : 512;
    if (rtx < 16 || rtx > 4096 || (rtx & (rtx - 1)) != 0)
        goto Exit;
    if (cfg->cname && (strlen(cfg->cname) == 0 || strlen(cfg->cname) >= sizeof(room->cname)))
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if (!(room = calloc(1, sizeof(*room))))
        goto Exit;
    room->id = cfg->id;
    room->max_participants = cfg->max_participants ? cfg->max_participants : DEFAULT_MAX_PARTICIPANTS;
    room->rng = cfg->seed;
    room->clock_mono = cfg->clock_mono;
    room->clock_unix_us = cfg->clock_unix_us;
    room->min_video_bps = cfg->min_video_bps ? cfg->min_video_bps : 100000;
    room->max_bps = cfg->max_bps ? cfg->max_bps : 2500000;
    room->keyframe_gap = or_default(cfg->keyframe_gap, OVL_MS(400));
    room->report_every = or_default(cfg->report_every, OVL_SEC(1));
    room->twcc_every = or_default(cfg->twcc_every, OVL_MS(100));
    room->speaker_every = or_default(cfg->speaker_every, OVL_SEC(1));
    room->rtx_packets = rtx;
    strcpy(room->cname, cfg->cname ? cfg->cname : "overleg");
    room->on_event = cfg->on_event;
    room->ctx = cfg->ctx;
    room->next_timeout = OVL_TIME_NEVER;
    if (!(room->parts = calloc(room->max_participants, sizeof(*room->parts))))
        goto Exit;
    *out = room;
    room = NULL;
    ret = 0;
Exit:
    ovl_route_room_free(room);
    return ret;
}

static void participant_free(ovl_route_participant_t *p, bool emit)
{
    for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++)
        if (p->producers[s])
            ovl_route_producer_free(p->producers[s], emit);
    while (p->n_consumers)
        ovl_route_consumer_free(p->consumers[p->n_consumers - 1]);
    ovl_route_negotiation_free(p);
    ovl_route_ssrc_map_dispose(&p->by_ssrc);
    free(p->consumers);
    free(p->free_mids);
    free(p);
}

void ovl_route_room_free(ovl_route_room_t *room)
{
    if (!room)
        return;
    if (room->parts)
        while (room->n_parts) {
            ovl_route_participant_t *p = room->parts[--room->n_parts];
            participant_free(p, false);
        }
    free(room->parts);
    free(room);
}

void ovl_route_room_set_clock(ovl_route_room_t *room, ovl_time_t mono, uint64_t unix_us)
{
    room->clock_mono = mono;
    room->clock_unix_us = unix_us;
}

void ovl_route_room_stats(const ovl_route_room_t *room, ovl_route_stats_t *out)
{
    *out = room->stats;
}

/* ---- shared helpers ---- */

void ovl_route_emit(ovl_route_room_t *room, ovl_route_event_t *ev)
{
    ev->room = room->id;
    if (room->on_event)
        room->on_event(room->ctx, ev);
}

void ovl_route_schedule(ovl_route_room_t *room, ovl_time_t t)
{
    if (t < room->next_timeout)
        room->next_timeout = t;
}

/* splitmix64 (Steele, Lea, Flood 2014): the room's own stream from the caller's seed. */
uint32_t ovl_route_rand32(ovl_route_room_t *room)
{
    uint64_t z = (room->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 16);
}

uint64_t ovl_route_ntp(const ovl_route_room_t *room, ovl_time_t now)
{
    uint64_t unix_us = room->clock_unix_us + (now - room->clock_mono); /* modulo 2^64: also before the anchor */
    return ovl_rtcp_ntp_from_unix_us(unix_us);
}

static bool ssrc_taken(const ovl_route_participant_t *p, uint32_t ssrc)
{
    if (ssrc == p->rtcp_ssrc || ovl_route_ssrc_map_get(&p->by_ssrc, ssrc))
        return true;
    for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++)
        if (p->producers[s] && (p->producers[s]->ssrc == ssrc || p->producers[s]->rtx_ssrc == ssrc))
            return true;
    return false;
}

uint32_t ovl_route_new_ssrc(ovl_route_room_t *room, const ovl_route_participant_t *p)
{
    uint32_t ssrc;
    do
        ssrc = ovl_route_rand32(room);
    while (ssrc == 0 || ssrc_taken(p, ssrc));
    return ssrc;
}

int ovl_route_rtcp_begin(ovl_route_participant_t *p, ovl_route_buf_t *buf, ovl_wbuf_t *w)
{
    memset(buf, 0, sizeof(*buf));
    if (p->sink.get_buffer(p->sink.ctx, buf) != 0 || !buf->data) {
        p->room->stats.no_buffer++;
        return OVL_ERR_NOMEM;
    }
    if (buf->cap < OVL_SRTP_MAX_OVERHEAD + 64) {
        p->sink.put_buffer(p->sink.ctx, buf);
        p->room->stats.no_buffer++;
        return OVL_ERR_NOMEM;
    }
    size_t cap = buf->cap - OVL_SRTP_MAX_OVERHEAD;
    ovl_wbuf_init(w, buf->data, cap < OVL_ROUTE_RTCP_MTU ? cap : OVL_ROUTE_RTCP_MTU);
    return 0;
}

void ovl_route_rtcp_end(ovl_route_participant_t *p, ovl_route_buf_t *buf, ovl_wbuf_t *w)
{
    if (w->len == 0) {
        p->sink.put_buffer(p->sink.ctx, buf);
        return;
    }
    p->room->stats.rtcp_out++;
    p->sink.send_rtcp(p->sink.ctx, buf, w->len);
}

/* ---- participants ---- */

int ovl_route_participant_add(ovl_route_room_t *room, uint64_t id, const ovl_route_sink_t *sink, ovl_time_t now,
                              ovl_route_participant_t **out)
{
    ovl_route_participant_t *p = NULL;
    int ret;
    (void)now;
    *out = NULL;
    if (!sink || !sink->get_buffer || !sink->send_rtp || !sink->send_rtcp || !sink->put_buffer)
        return OVL_ERR_ARG;
    if (ovl_route_participant_find(room, id))
        return OVL_ERR_STATE;
    if (room->n_parts >= room->max_participants)
        return OVL_ERR_LIMIT;
    if (!(p = calloc(1, sizeof(*p))))
        return OVL_ERR_NOMEM;
    p->room = room;
    p->id = id;
    p->sink = *sink;
    p->cap_consumers = OVL_ROUTE_SLOTS * (room->max_participants > 1 ? room->max_participants - 1 : 1);
    p->next_report = OVL_TIME_NEVER;
    p->next_twcc = OVL_TIME_NEVER;
    p->offer_retry = OVL_TIME_NEVER;
    ovl_route_twcc_init(&p->twcc);
    ovl_thin_ctl_init(&p->thin);
    ret = OVL_ERR_NOMEM;
    if (!(p->consumers = calloc(p->cap_consumers, sizeof(*p->consumers))) ||
        !(p->free_mids = calloc(p->cap_consumers, sizeof(*p->free_mids))) ||
        ovl_route_ssrc_map_init(&p->by_ssrc, 2 * p->cap_consumers) != 0)
        goto Exit;
    p->rtcp_ssrc = ovl_route_new_ssrc(room, p);
    room->parts[room->n_parts++] = p;
    *out = p;
    p = NULL;
    ret = 0;
Exit:
    if (p)
        participant_free(p, false);
    return ret;
}

ovl_route_participant_t *ovl_route_participant_find(const ovl_route_room_t *room, uint64_t id)
{
    for (size_t i = 0; i < room->n_parts; i++)
        if (room->parts[i]->id == id)
            return room->parts[i];
    return NULL;
}

uint64_t ovl_route_participant_id(const ovl_route_participant_t *p)
{
    return p->id;
}

void ovl_route_participant_remove(ovl_route_room_t *room, ovl_route_participant_t *p, ovl_time_t now)
{
    size_t i = 0;
    while (i < room->n_parts && room->parts[i] != p)
        i++;
    if (i == room->n_parts)
        return;
    room->parts[i] = room->parts[--room->n_parts];
    if (room->has_speaker && room->speaker == p->id)
        room->has_speaker = false;
    participant_free(p, true);
    ovl_route_negotiate(room, now);
}

void ovl_route_participant_set_connected(ovl_route_participant_t *p, bool connected, ovl_time_t now)
{
    ovl_route_room_t *room = p->room;
    if (connected == p->connected)
        return;
    p->connected = connected;
    if (!connected) {
        p->next_report = OVL_TIME_NEVER;
        return;
    }
    p->next_report = now + room->report_every;
    ovl_route_schedule(room, p->next_report);
    /* Decoders start clean: every video this participant receives waits for (and asks for) a keyframe. */
    for (size_t i = 0; i < p->n_consumers; i++)
        if (p->consumers[i]->state == OVL_ROUTE_C_ACTIVE)
            ovl_route_consumer_restart(p->consumers[i], now);
    /* Requests that waited for this publisher's transport go now. */
    for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++)
        if (p->producers[s] && p->producers[s]->kf.pending)
            ovl_route_schedule(room, now);
}

/* ---- thin paths ---- */

void ovl_route_participant_set_path(ovl_route_participant_t *p, ovl_thin_path_t path)
{
    ovl_thin_ctl_set_path(&p->thin, path);
}

void ovl_route_participant_tcp_backlog(ovl_route_participant_t *p, size_t queued_bytes, uint64_t video_drops,
                                       ovl_time_t now)
{
    uint64_t raises = p->thin.raises;
    ovl_thin_ctl_tcp(&p->thin, queued_bytes, video_drops, now);
    p->room->stats.thin_raises += p->thin.raises - raises;
}

void ovl_route_participant_receive_video(ovl_route_participant_t *p, bool video, ovl_time_t now)
{
    (void)now; /* resuming: each camera consumer's gate waits for a key frame and asks for it at once */
    p->camera_off = !video;
}

ovl_thin_level_t ovl_route_participant_thin_level(const ovl_route_participant_t *p, ovl_time_t now)
{
    return ovl_thin_ctl_level(&p->thin, now);
}

/* ---- timers ---- */

ovl_time_t ovl_route_next_timeout(const ovl_route_room_t *room)
{
    return room->next_timeout;
}

void ovl_route_on_timeout(ovl_route_room_t *room, ovl_time_t now)
{
    bool renegotiate = false;
    room->next_timeout = OVL_TIME_NEVER;
    for (size_t i = 0; i < room->n_parts; i++) {
        ovl_route_participant_t *p = room->parts[i];
        for (size_t s = 0; s < OVL_ROUTE_SLOTS; s++) {
            ovl_route_producer_t *pr = p->producers[s];
            if (!pr)
                continue;
            if (pr->activate && !pr->live && ovl_route_producer_go_live(pr) == 0)
                renegotiate = true;
            pr->activate = false;
            ovl_route_kf_run(pr, now);
        }
        if (p->next_report <= now)
            ovl_route_reports_run(p, now);
        if (p->next_twcc <= now)
            ovl_route_twcc_run(p, now);
        if (p->offer_retry <= now) {
            p->offer_retry = OVL_TIME_NEVER;
            p->dirty = true;
            renegotiate = true;
        }
        ovl_route_schedule(room, p->next_report);
        ovl_route_schedule(room, p->next_twcc);
        ovl_route_schedule(room, p->offer_retry);
    }
    ovl_route_speaker_run(room, now);
    if (renegotiate)
        ovl_route_negotiate(room, now);
}
