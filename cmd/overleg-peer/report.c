/*
 * The peer's summary: JSON for tests and scripts (--json), a table for people. JSON times are milliseconds: the
 * timeline from the start of the process, first frames from our transport being connected (the moment media
 * can flow; for a track negotiated later, first_video_after_track_ms counts from its negotiation). The table's
 * "first video" is the later of the two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/overleg-peer/peer.h"

bool ovl_peer_remote_complete(const ovl_peer_remote_report_t *r)
{
    return r->audio.st.frames_decoded > 0 && r->video.st.frames_decoded > 0;
}

/* Milliseconds from `from` to `to`, or JSON null when either is unknown (0). */
static json_t *ms_between(ovl_time_t from, ovl_time_t to)
{
    if (!from || !to || to < from)
        return json_null();
    return json_real((double)(to - from) / 1000.0);
}

static json_t *uint_json(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *track_json(const ovl_peer_track_report_t *t, bool video)
{
    const ovl_media_receiver_stats_t *s = &t->st;
    json_t *j;
    if (!t->present)
        return json_null();
    if (!(j = json_object()))
        return NULL;
    json_object_set_new(j, "mid", json_string(t->mid));
    json_object_set_new(j, "track", json_string(t->track));
    json_object_set_new(j, "ssrc", uint_json(t->ssrc));
    json_object_set_new(j, "packets", uint_json(s->packets));
    json_object_set_new(j, "octets", uint_json(s->octets));
    json_object_set_new(j, "dropped_by_loss", uint_json(t->dropped));
    json_object_set_new(j, "frames_decoded", uint_json(s->frames_decoded));
    json_object_set_new(j, "packets_lost", uint_json(s->lost));
    json_object_set_new(j, "rtcp_cumulative_lost", json_integer(s->rtcp_lost));
    json_object_set_new(j, "duplicates", uint_json(s->duplicates));
    json_object_set_new(j, "late", uint_json(s->late));
    json_object_set_new(j, "ignored", uint_json(s->ignored));
    if (video) {
        json_object_set_new(j, "keyframes", uint_json(s->keyframes));
        json_object_set_new(j, "frames_undecodable", uint_json(s->frames_undecodable));
        json_object_set_new(j, "frames_before_keyframe", uint_json(s->frames_before_key));
        json_object_set_new(j, "frames_verified", uint_json(s->frames_verified));
        json_object_set_new(j, "last_pattern", uint_json(s->last_pattern));
        json_object_set_new(j, "nacks_sent", uint_json(s->nack_packets));
        json_object_set_new(j, "nack_seqs", uint_json(s->nack_seqs));
        json_object_set_new(j, "rtx_packets", uint_json(s->rtx_packets));
        json_object_set_new(j, "recovered", uint_json(s->recovered));
        json_object_set_new(j, "plis_sent", uint_json(s->plis));
    } else {
        json_object_set_new(j, "frames_concealed", uint_json(s->frames_concealed));
        json_object_set_new(j, "level_dbov", json_integer(-(json_int_t)s->audio_level));
    }
    return j;
}

static json_t *remote_json(const ovl_peer_report_t *r, const ovl_peer_remote_report_t *p)
{
    const ovl_media_receiver_stats_t *a = &p->audio.st, *v = &p->video.st;
    ovl_time_t track_at = p->video.added_at > r->connected_at ? p->video.added_at : r->connected_at;
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_string(p->id));
    json_object_set_new(j, "name", json_string(p->name));
    json_object_set_new(j, "left", json_boolean(p->left));
    json_object_set_new(j, "left_reason", p->left ? json_string(p->left_reason) : json_null());
    json_object_set_new(j, "left_ms", ms_between(r->started_at, p->left_at));
    json_object_set_new(j, "complete", json_boolean(ovl_peer_remote_complete(p)));
    json_object_set_new(j, "audio_frames_decoded", uint_json(a->frames_decoded));
    json_object_set_new(j, "video_frames_decoded", uint_json(v->frames_decoded));
    json_object_set_new(j, "keyframes", uint_json(v->keyframes));
    json_object_set_new(j, "undecodable_frames", uint_json(v->frames_undecodable));
    json_object_set_new(j, "nacks_sent", uint_json(v->nack_packets));
    json_object_set_new(j, "packets_lost", uint_json(a->lost + v->lost));
    json_object_set_new(j, "first_audio_ms", ms_between(r->connected_at, a->first_frame_at));
    json_object_set_new(j, "first_video_ms", ms_between(r->connected_at, v->first_frame_at));
    json_object_set_new(j, "first_video_after_track_ms", ms_between(track_at, v->first_frame_at));
    json_object_set_new(j, "max_video_gap_ms", json_real((double)v->max_frame_gap / 1000.0));
    json_object_set_new(j, "max_video_gap_end_ms", ms_between(r->started_at, v->max_frame_gap_at));
    json_object_set_new(j, "max_audio_gap_ms", json_real((double)a->max_frame_gap / 1000.0));
    json_object_set_new(j, "last_video_ms", ms_between(r->started_at, v->last_frame_at));
    json_object_set_new(j, "audio", track_json(&p->audio, false));
    json_object_set_new(j, "video", track_json(&p->video, true));
    if (p->screen.present)
        json_object_set_new(j, "screen", track_json(&p->screen, true));
    return j;
}

static json_t *sent_json(const ovl_peer_report_t *r)
{
    return json_pack("{s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:I, s:I}", "audio",
                     "frames", (json_int_t)r->audio_sent.frames, "packets", (json_int_t)r->audio_sent.packets, "octets",
                     (json_int_t)r->audio_sent.octets, "video", "frames", (json_int_t)r->video_sent.frames, "keyframes",
                     (json_int_t)r->video_sent.keyframes, "packets", (json_int_t)r->video_sent.packets, "octets",
                     (json_int_t)r->video_sent.octets, "nack_seqs_received", (json_int_t)r->video_sent.nack_seqs,
                     "rtx_packets", (json_int_t)r->video_sent.rtx_packets, "nack_missed",
                     (json_int_t)r->video_sent.nack_missed, "plis_received", (json_int_t)r->plis_received,
                     "firs_received", (json_int_t)r->firs_received, "remb_bps", (json_int_t)r->remb_bps, "rtcp_packets",
                     (json_int_t)r->rtcp_sent);
}

char *ovl_peer_report_json(const ovl_peer_report_t *r)
{
    json_t *j = json_object(), *remotes = json_array(), *tl;
    char *text = NULL;
    if (!j || !remotes)
        goto Exit;
    json_object_set_new(j, "ok", json_boolean(r->code == OVL_PEER_EXIT_OK));
    json_object_set_new(j, "exit_code", json_integer(r->code));
    json_object_set_new(j, "reason", json_string(r->reason));
    json_object_set_new(j, "you", json_string(r->you));
    json_object_set_new(j, "expect_peers", json_integer(r->expect));
    json_object_set_new(j, "complete_peers", json_integer(r->complete));
    tl = json_object();
    json_object_set_new(tl, "joined", ms_between(r->started_at, r->joined_at));
    json_object_set_new(tl, "answered", ms_between(r->started_at, r->answered_at));
    json_object_set_new(tl, "connected", ms_between(r->started_at, r->connected_at));
    json_object_set_new(tl, "complete", ms_between(r->started_at, r->complete_at));
    json_object_set_new(tl, "tcp_connected", ms_between(r->started_at, r->tcp_up_at));
    json_object_set_new(tl, "cut", ms_between(r->started_at, r->cut_at));
    json_object_set_new(tl, "ended", ms_between(r->started_at, r->ended_at));
    json_object_set_new(j, "timeline_ms", tl);
    json_object_set_new(j, "srtp_profile", r->profile ? json_string(r->profile) : json_null());
    /* The process's start on CLOCK_MONOTONIC, shared by every process of the machine: tests line up the
     * timelines of several peers with it. An integer: a real would keep only 6 digits (JSON_REAL_PRECISION). */
    json_object_set_new(j, "started_monotonic_ms", json_integer((json_int_t)(r->started_at / 1000)));
    json_object_set_new(j, "transport", json_string(r->tcp ? "tcp" : "udp"));
    json_object_set_new(j, "path", r->path[0] ? json_string(r->path) : json_null());
    if (r->tcp)
        json_object_set_new(j, "tcp",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "tx_frames", (json_int_t)r->tcp_tx_frames,
                                      "rx_frames", (json_int_t)r->tcp_rx_frames, "dropped_audio",
                                      (json_int_t)r->tcp_drops_audio, "dropped_video", (json_int_t)r->tcp_drops_video,
                                      "blocked_writes", (json_int_t)r->tcp_blocked, "queue_high_water_bytes",
                                      (json_int_t)r->tcp_queue_high_water));
    json_object_set_new(j, "rtt_ms", r->rtt_us >= 0 ? json_real((double)r->rtt_us / 1000.0) : json_null());
    json_object_set_new(j, "loss",
                        json_pack("{s:f, s:I, s:I}", "percent", r->loss, "seed", (json_int_t)r->seed, "dropped_packets",
                                  (json_int_t)r->dropped));
    json_object_set_new(j, "sent", sent_json(r));
    json_object_set_new(
        j, "received",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "datagrams", (json_int_t)r->rx_datagrams, "dropped_datagrams",
                  (json_int_t)r->rx_dropped, "unknown_ssrc_packets", (json_int_t)r->unknown_ssrc,
                  "unknown_ssrc_offered", (json_int_t)r->unknown_ssrc_named, "unknown_ssrc_never_offered",
                  (json_int_t)(r->unknown_ssrc - r->unknown_ssrc_named), "rtcp_packets", (json_int_t)r->rtcp_received));
    json_object_set_new(j, "min_frames", json_integer(r->min_frames));
    json_object_set_new(j, "max_loop_lag_ms", json_real((double)r->max_loop_lag / 1000.0));
    for (size_t i = 0; i < r->n_remotes; i++)
        json_array_append_new(remotes, remote_json(r, &r->remotes[i]));
    json_object_set(j, "remotes", remotes);
    text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
Exit:
    json_decref(remotes);
    json_decref(j);
    return text;
}

static void ms_text(char *buf, size_t cap, ovl_time_t from, ovl_time_t to)
{
    if (!from || !to || to < from)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.0f ms", (double)(to - from) / 1000.0);
}

void ovl_peer_report_print(const ovl_peer_report_t *r, FILE *f)
{
    char t1[32], t2[32];
    fprintf(f, "overleg-peer: %s: %s\n", r->code == OVL_PEER_EXIT_OK ? "OK" : "FAILED", r->reason);
    ms_text(t1, sizeof(t1), r->joined_at, r->connected_at);
    fprintf(f, "  you %s; media connected %s after joining over %s (%s)", r->you[0] ? r->you : "-", t1,
            r->path[0] ? r->path : (r->tcp ? "tcp" : "udp"), r->profile ? r->profile : "no SRTP");
    if (r->rtt_us >= 0)
        fprintf(f, ", rtt %.1f ms", (double)r->rtt_us / 1000.0);
    fprintf(f,
            "\n  sent %llu video frames (%llu key), %llu audio frames; %llu NACKed packets resent as RTX, "
            "%llu PLI received\n",
            (unsigned long long)r->video_sent.frames, (unsigned long long)r->video_sent.keyframes,
            (unsigned long long)r->audio_sent.frames, (unsigned long long)r->video_sent.rtx_packets,
            (unsigned long long)r->plis_received);
    if (r->tcp) {
        ms_text(t1, sizeof(t1), r->started_at, r->tcp_up_at);
        fprintf(f,
                "  ICE-TCP: connected %s after start; %llu frames sent, %llu received; dropped from the send queue: "
                "%llu audio, %llu video; queue peak %zu bytes\n",
                t1, (unsigned long long)r->tcp_tx_frames, (unsigned long long)r->tcp_rx_frames,
                (unsigned long long)r->tcp_drops_audio, (unsigned long long)r->tcp_drops_video,
                r->tcp_queue_high_water);
        if (r->cut_at) {
            ms_text(t2, sizeof(t2), r->cut_at, r->ended_at);
            fprintf(f, "  --cut-after: the connection was closed; the session ended %s later\n", t2);
        }
    }
    if (r->loss > 0)
        fprintf(f, "  --loss %.3g%% (seed %llu): %llu received media packets dropped\n", r->loss,
                (unsigned long long)r->seed, (unsigned long long)r->dropped);
    fprintf(f, "  %-24s %7s %7s %5s %12s %6s %5s %12s\n", "remote (frames decoded)", "audio", "video", "keys",
            "undecodable", "NACKs", "lost", "first video");
    for (size_t i = 0; i < r->n_remotes; i++) {
        const ovl_peer_remote_report_t *p = &r->remotes[i];
        char who[128];
        snprintf(who, sizeof(who), "%.32s %.16s%s", p->id, p->name, p->left ? " (left)" : "");
        ovl_time_t since = p->video.added_at > r->connected_at ? p->video.added_at : r->connected_at;
        ms_text(t2, sizeof(t2), since, p->video.st.first_frame_at);
        fprintf(f, "  %-24s %7llu %7llu %5llu %12llu %6llu %5llu %12s\n", who,
                (unsigned long long)p->audio.st.frames_decoded, (unsigned long long)p->video.st.frames_decoded,
                (unsigned long long)p->video.st.keyframes, (unsigned long long)p->video.st.frames_undecodable,
                (unsigned long long)p->video.st.nack_packets, (unsigned long long)(p->audio.st.lost + p->video.st.lost),
                t2);
    }
}
