/*
 * The peer's media: the test pattern and a tone encoded by libvpx and libopus and sent as RTP, what the relay
 * sends decoded by one receiver per track (after the simulated loss), and RTCP both ways: sender reports with
 * report blocks every second, NACK and PLI as soon as a receiver wants them (RFC 4585 §3.5: reduced-size
 * feedback, rtcp-rsize is in our offer), and the relay's NACK / PLI / FIR / SR / RR / REMB handled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/overleg-peer/session_int.h"
#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"

#define AUDIO_FRAME    OVL_MS(20)
#define RTCP_INTERVAL  OVL_SEC(1)
#define MAX_LAG        OVL_MS(200) /* a timer this late skips frames instead of sending a burst */
#define TONE_HZ        440.0
#define TONE_AMPLITUDE 0.3
#define AUDIO_BITRATE  32000

/* ---- sending ---- */

static void emit(void *ctx, uint8_t *pkt, size_t len, size_t cap, bool rtx)
{
    ovl_peer_session_t *s = ctx;
    (void)rtx;
    if (!s->t)
        return;
    s->tx_video = len >= 12 && ovl_load_u32(pkt + 8) != s->audio_ssrc; /* RFC 3550 §5.1: the SSRC */
    (void)ovl_transport_send_rtp(s->t, pkt, &len, cap); /* protected in place, then to the selected pair */
    s->tx_video = false;
}

int ovl_peer_rtp_start(ovl_peer_session_t *s, ovl_time_t now)
{
    const ovl_peer_opts_t *o = s->o;
    ovl_video_enc_cfg_t vc = {
        .width = o->width, .height = o->height, .fps = o->fps, .bitrate_kbps = o->video_kbps, .error_resilient = true};
    ovl_audio_enc_cfg_t ac = {.channels = 1, .bitrate = AUDIO_BITRATE, .fec = true, .packet_loss_perc = 5};
    uint16_t seqs[4];
    int ret;
    (void)now;
    for (size_t i = 0; i < 4; i++) {
        uint32_t r = s->ats0 ^ (s->vts0 >> (i * 4)) ^ (uint32_t)(i * 0x9e37u);
        seqs[i] = (uint16_t)(r & 0x7fff); /* RFC 3550 §5.1: random, kept clear of an early wrap */
    }
    ovl_media_sender_cfg_t asc = {.kind = OVL_MEDIA_AUDIO,
                                  .ssrc = s->audio_ssrc,
                                  .pt = s->send.audio_pt,
                                  .clock = OVL_AUDIO_RATE,
                                  .first_seq = seqs[0],
                                  .level_ext_id = s->send.audio_level_id,
                                  .mid_ext_id = s->send.audio_mid_id,
                                  .mid = OVL_SDP_CLIENT_MID_AUDIO,
                                  .emit = emit,
                                  .ctx = s};
    ovl_media_sender_cfg_t vsc = {.kind = OVL_MEDIA_VIDEO,
                                  .ssrc = s->video_ssrc,
                                  .pt = s->send.video_pt,
                                  .clock = 90000,
                                  .rtx_ssrc = s->send.rtx ? s->rtx_ssrc : 0,
                                  .rtx_pt = s->send.rtx_pt,
                                  .first_seq = seqs[1],
                                  .first_rtx_seq = seqs[2],
                                  .first_picture_id = seqs[3],
                                  .mid_ext_id = s->send.video_mid_id,
                                  .mid = OVL_SDP_CLIENT_MID_VIDEO,
                                  .emit = emit,
                                  .ctx = s};
    if ((ret = ovl_video_enc_new(&vc, &s->venc)) != 0 || (ret = ovl_video_image_init(&s->img, vc.width, vc.height)) ||
        (ret = ovl_audio_enc_new(&ac, &s->aenc)) != 0 || (ret = ovl_media_sender_new(&asc, &s->asend)) != 0 ||
        (ret = ovl_media_sender_new(&vsc, &s->vsend)) != 0)
        return ret;
    ovl_audio_tone_init(&s->tone, TONE_HZ, TONE_AMPLITUDE);
    return 0;
}

void ovl_peer_rtp_free(ovl_peer_session_t *s)
{
    ovl_media_sender_free(s->asend);
    ovl_media_sender_free(s->vsend);
    ovl_video_enc_free(s->venc);
    ovl_video_image_dispose(&s->img);
    ovl_audio_enc_free(s->aenc);
    for (size_t i = 0; i < s->n_tracks; i++)
        ovl_media_receiver_free(s->tracks[i].rx);
    s->asend = s->vsend = NULL;
    s->venc = NULL;
    s->aenc = NULL;
    s->n_tracks = 0;
}

static void send_audio(ovl_peer_session_t *s, ovl_time_t now)
{
    int16_t pcm[OVL_AUDIO_FRAME];
    uint8_t pkt[OVL_AUDIO_MAX_PACKET];
    size_t len;
    ovl_audio_tone_fill(&s->tone, pcm, OVL_AUDIO_FRAME, 1);
    if (ovl_audio_enc_encode(s->aenc, pcm, pkt, sizeof(pkt), &len) == 0 && len > 0)
        (void)ovl_media_sender_audio_frame(s->asend, pkt, len, s->ats0 + s->aframes * OVL_AUDIO_FRAME,
                                           ovl_audio_level(pcm, OVL_AUDIO_FRAME), true, now);
    s->aframes++;
}

static void send_video(ovl_peer_session_t *s, ovl_time_t now)
{
    ovl_video_encoded_t e;
    /* The RTP timestamp is the frame's capture time on the 90 kHz clock (RFC 7741 §4.1). */
    uint32_t ts = s->vts0 + (uint32_t)((uint64_t)s->vframes * 90000u / s->o->fps);
    ovl_video_pattern_draw(&s->img, s->vframes);
    if (ovl_video_enc_encode(s->venc, &s->img, s->force_key, &e) == 0 && e.len > 0) {
        (void)ovl_media_sender_video_frame(s->vsend, e.data, e.len, e.keyframe, ts, now);
        if (e.keyframe)
            s->force_key = false;
    }
    s->vframes++;
}

/* ---- receiving ---- */

/* splitmix64: the simulated loss, reproducible from --seed. */
static bool lose(ovl_peer_session_t *s)
{
    if (s->o->loss <= 0)
        return false;
    uint64_t z = (s->prng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (100.0 / 9007199254740992.0) < s->o->loss;
}

static peer_track_t *track_for_ssrc(ovl_peer_session_t *s, uint32_t ssrc)
{
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].active && ovl_media_receiver_owns(s->tracks[i].rx, ssrc))
            return &s->tracks[i];
    return NULL;
}

static void send_rtcp(ovl_peer_session_t *s, size_t len)
{
    if (len && s->t && ovl_transport_send_rtcp(s->t, s->buf, &len, sizeof(s->buf)) == 0)
        s->rtcp_sent++;
}

static void feedback(ovl_peer_session_t *s, peer_track_t *t, ovl_time_t now)
{
    ovl_wbuf_t w;
    ovl_wbuf_init(&w, s->buf, OVL_MEDIA_MAX_RTP);
    (void)ovl_media_receiver_feedback(t->rx, now, &w);
    send_rtcp(s, w.len);
}

/* Counts a packet of an SSRC no active track owns, per SSRC: the report tells the ones some relay offer named
 * (they came just before our answer to it was in place, or just after one removed them: scheduling, not a relay
 * fault) from the ones no offer ever named. */
static void note_unknown(ovl_peer_session_t *s, uint32_t ssrc)
{
    size_t i;
    s->unknown_ssrc++;
    for (i = 0; i < s->n_unknown && s->unknown[i].ssrc != ssrc; i++)
        ;
    if (i == s->n_unknown && s->n_unknown < OVL_PEER_UNKNOWN) {
        s->unknown[s->n_unknown].ssrc = ssrc;
        s->unknown[s->n_unknown++].packets = 0;
    }
    if (i < s->n_unknown)
        s->unknown[i].packets++;
}

void ovl_peer_rtp_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    ovl_peer_session_t *s = user;
    peer_track_t *t;
    if (len < OVL_RTP_HEADER_LEN)
        return;
    if (!(t = track_for_ssrc(s, ovl_load_u32(buf + 8)))) {
        note_unknown(s, ovl_load_u32(buf + 8)); /* not (yet) in a relay offer we answered */
        return;
    }
    if (lose(s)) {
        t->dropped++;
        s->dropped++;
        return;
    }
    (void)ovl_media_receiver_on_rtp(t->rx, buf, len, now);
    if (ovl_media_receiver_next_timeout(t->rx) <= now) /* a gap: NACK at once (RFC 4585 §3.5.2 immediate) */
        feedback(s, t, now);
}

int ovl_peer_rtp_add_track(ovl_peer_session_t *s, const ovl_sdp_client_track_t *t, size_t remote, ovl_time_t now)
{
    peer_track_t *pt;
    bool video = t->kind == OVL_SDP_KIND_VIDEO;
    int ret;
    if (s->n_tracks == OVL_PEER_MAX_TRACKS)
        return OVL_ERR_LIMIT;
    ovl_media_receiver_cfg_t rc = {.kind = video ? OVL_MEDIA_VIDEO : OVL_MEDIA_AUDIO,
                                   .ssrc = t->ssrc,
                                   .pt = t->pt,
                                   .clock = t->clock,
                                   .rtx_ssrc = t->has_rtx ? t->rtx_ssrc : 0,
                                   .rtx_pt = t->rtx_pt,
                                   .local_ssrc = s->video_ssrc,
                                   .nack = video,
                                   .pli = video};
    pt = &s->tracks[s->n_tracks];
    memset(pt, 0, sizeof(*pt));
    if ((ret = ovl_media_receiver_new(&rc, &pt->rx)) != 0)
        return ret;
    snprintf(pt->mid, sizeof(pt->mid), "%s", t->mid);
    snprintf(pt->track, sizeof(pt->track), "%s", t->track);
    pt->remote = remote;
    pt->slot = !video ? SLOT_AUDIO : strstr(t->track, "screen") ? SLOT_SCREEN : SLOT_CAMERA;
    pt->active = true;
    pt->ssrc = t->ssrc;
    pt->rtx_ssrc = rc.rtx_ssrc;
    pt->added_at = now;
    s->remotes[remote].tracks[pt->slot] = (int)s->n_tracks;
    s->n_tracks++;
    return 0;
}

/* ---- RTCP in ---- */

static uint64_t ntp_at(const ovl_peer_session_t *s, ovl_time_t now)
{
    return ovl_rtcp_ntp_from_unix_us(s->cfg.clock_unix_us + (now - s->cfg.clock_mono));
}

static void on_report_blocks(ovl_peer_session_t *s, const ovl_rtcp_rb_list_t *l, ovl_time_t now)
{
    ovl_rtcp_rb_t rb;
    uint64_t rtt;
    for (size_t i = 0; i < l->count; i++)
        if (ovl_rtcp_rb_get(l, i, &rb) == 0 && (rb.ssrc == s->video_ssrc || rb.ssrc == s->audio_ssrc) &&
            ovl_rtcp_rtt_us(&rb, ovl_rtcp_ntp_mid32(ntp_at(s, now)), &rtt) == 0)
            s->rtt_us = (int64_t)rtt;
}

static void on_nack(ovl_peer_session_t *s, const ovl_rtcp_nack_t *nack)
{
    uint16_t *lost = s->nacked;
    size_t n = 0;
    if (nack->fb.media_ssrc != s->video_ssrc || !s->vsend)
        return;
    (void)ovl_rtcp_nack_expand(nack, lost, OVL_PEER_NACK_EXPAND, &n);
    ovl_media_sender_on_nack(s->vsend, lost, n);
}

void ovl_peer_rtp_on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    ovl_peer_session_t *s = user;
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    ovl_rtcp_fir_entry_t fe;
    peer_track_t *t;
    s->rtcp_received++;
    ovl_rtcp_iter_init(&it, buf, len);
    while (ovl_rtcp_next(&it, &m) == 0) {
        switch (m.kind) {
        case OVL_RTCP_SR:
            if ((t = track_for_ssrc(s, m.u.sr.ssrc)) != NULL)
                ovl_media_receiver_on_sr(t->rx, &m.u.sr, now);
            on_report_blocks(s, &m.u.sr.blocks, now);
            break;
        case OVL_RTCP_RR:
            on_report_blocks(s, &m.u.rr.blocks, now);
            break;
        case OVL_RTCP_NACK:
            on_nack(s, &m.u.nack);
            break;
        case OVL_RTCP_PLI: /* RFC 4585 §6.3.1: a key frame, soon */
            if (m.u.pli.media_ssrc == s->video_ssrc) {
                s->force_key = true;
                s->plis_received++;
            }
            break;
        case OVL_RTCP_FIR: /* RFC 5104 §4.3.1: the same, by entry */
            for (size_t i = 0; i < m.u.fir.count; i++)
                if (ovl_rtcp_fir_get(&m.u.fir, i, &fe) == 0 && fe.ssrc == s->video_ssrc) {
                    s->force_key = true;
                    s->firs_received++;
                }
            break;
        case OVL_RTCP_REMB:
            s->remb_bps = m.u.remb.bitrate;
            break;
        default:
            break;
        }
    }
}

/* ---- RTCP out: SR (video) with report blocks and SDES, SR (audio); more blocks in further RRs ---- */

static void send_reports(ovl_peer_session_t *s, ovl_time_t now)
{
    ovl_rtcp_rb_t rb[OVL_RTCP_MAX_COUNT];
    ovl_rtcp_sender_info_t vsi, asi;
    uint64_t ntp = ntp_at(s, now);
    bool have_v = ovl_media_sender_info(s->vsend, now, ntp, &vsi) == 0;
    bool have_a = ovl_media_sender_info(s->asend, now, ntp, &asi) == 0;
    size_t next = 0;
    bool first = true;
    do {
        size_t n = 0;
        ovl_wbuf_t w;
        for (; next < s->n_tracks && n < OVL_RTCP_MAX_COUNT; next++)
            if (s->tracks[next].active && ovl_media_receiver_report(s->tracks[next].rx, now, &rb[n]) == 0)
                n++;
        if (!first && n == 0)
            break;
        ovl_wbuf_init(&w, s->buf, OVL_MEDIA_MAX_RTP);
        if (ovl_rtcp_build_report(&w, s->video_ssrc, first && have_v ? &vsi : NULL, rb, n, s->cname,
                                  strlen(s->cname)) != 0)
            return;
        if (first && have_a)
            (void)ovl_rtcp_build_sr(&w, s->audio_ssrc, &asi, NULL, 0);
        send_rtcp(s, w.len);
        first = false;
    } while (next < s->n_tracks);
}

/* ---- time ---- */

static void catch_up(ovl_time_t *next, ovl_time_t step, ovl_time_t now)
{
    *next += step;
    if (*next + MAX_LAG < now) /* the loop was held up: skip, do not burst */
        *next = now;
}

void ovl_peer_rtp_on_timeout(ovl_peer_session_t *s, ovl_time_t now)
{
    ovl_time_t frame = OVL_SEC(1) / s->o->fps;
    if (s->connected && s->vsend) {
        while (s->next_audio <= now && !s->done) {
            send_audio(s, now);
            catch_up(&s->next_audio, AUDIO_FRAME, now);
        }
        if (s->next_video <= now) {
            send_video(s, now);
            /* frame k at media_at + k / fps, so that 30 fps stays 30 fps whatever the rounding */
            s->next_video = s->media_at + (ovl_time_t)s->vframes * OVL_SEC(1) / s->o->fps;
            if (s->next_video + MAX_LAG < now) {
                s->media_at = now - (ovl_time_t)s->vframes * frame;
                s->next_video = now;
            }
        }
        if (s->next_rtcp <= now) {
            send_reports(s, now);
            catch_up(&s->next_rtcp, RTCP_INTERVAL, now);
        }
    }
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].active && ovl_media_receiver_next_timeout(s->tracks[i].rx) <= now)
            feedback(s, &s->tracks[i], now);
}

ovl_time_t ovl_peer_rtp_next_timeout(const ovl_peer_session_t *s)
{
    ovl_time_t t = OVL_TIME_NEVER, x;
    if (s->connected && s->vsend) {
        t = s->next_audio < s->next_video ? s->next_audio : s->next_video;
        if (s->next_rtcp < t)
            t = s->next_rtcp;
    }
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].active && (x = ovl_media_receiver_next_timeout(s->tracks[i].rx)) < t)
            t = x;
    return t;
}
