/*
 * Active speaker from the client-to-mixer audio level extension (RFC 6464): each audio producer's
 * level (0 loudest .. 127 silence, -dBov) is turned into loudness (127 - level) and smoothed
 * (exponential average, weight 1/16 per packet: about 300 ms at 20 ms packets). Every
 * EVAL_EVERY the room compares: the loudest producer that is above the speech threshold takes
 * over when there is no speaker, or when it is louder than the current one by HYSTERESIS dB and
 * the current one has held the floor for speaker_every (1 s by default). A producer that sent no
 * level for STALE counts as silent (muted, DTX, gone).
 */
#include "relay/route/route_int.h"

#define EVAL_EVERY OVL_MS(200)
#define STALE      OVL_MS(500)
#define SPEECH     (57u * 256u) /* loudness of a -70 dBov level */
#define HYSTERESIS (6u * 256u)  /* dB */

void ovl_route_speaker_level(ovl_route_producer_t *pr, uint8_t level, ovl_time_t now)
{
    uint32_t loud = (uint32_t)(127 - (level > 127 ? 127 : level)) * 256u;
    if (pr->level_at == 0 || now - pr->level_at >= STALE)
        pr->level_avg = loud;
    else
        pr->level_avg = (uint32_t)((int32_t)pr->level_avg + ((int32_t)loud - (int32_t)pr->level_avg) / 16);
    pr->level_at = now ? now : 1;
}

static uint32_t loudness(const ovl_route_producer_t *pr, ovl_time_t now)
{
    if (!pr || !pr->live || pr->level_at == 0 || now - pr->level_at >= STALE)
        return 0;
    return pr->level_avg;
}

void ovl_route_speaker_run(ovl_route_room_t *room, ovl_time_t now)
{
    const ovl_route_producer_t *best = NULL, *cur = NULL;
    bool any = false;
    if (now < room->speaker_eval) {
        ovl_route_schedule(room, room->speaker_eval);
        return;
    }
    for (size_t i = 0; i < room->n_parts; i++) {
        const ovl_route_producer_t *pr = room->parts[i]->producers[OVL_ROUTE_SLOT_AUDIO];
        if (!pr || !pr->live)
            continue;
        any = true;
        if (room->has_speaker && room->parts[i]->id == room->speaker)
            cur = pr;
        if (!best || loudness(pr, now) > loudness(best, now))
            best = pr;
    }
    if (!any)
        return; /* nothing to watch: no timer until an audio producer exists */
    room->speaker_eval = now + EVAL_EVERY;
    ovl_route_schedule(room, room->speaker_eval);
    uint32_t b = loudness(best, now), c = loudness(cur, now);
    if (!best || best == cur || b < SPEECH)
        return;
    if (room->has_speaker && cur && (b < c + HYSTERESIS || now - room->speaker_at < room->speaker_every))
        return;
    ovl_route_event_t ev = {.type = OVL_ROUTE_EV_ACTIVE_SPEAKER, .participant = best->owner->id};
    ev.u.speaker.has_previous = room->has_speaker;
    ev.u.speaker.previous = room->speaker;
    ev.u.speaker.level = (uint8_t)(127 - b / 256);
    room->has_speaker = true;
    room->speaker = best->owner->id;
    room->speaker_at = now;
    ovl_route_emit(room, &ev);
}
