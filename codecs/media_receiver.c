/* One RTP stream received by the synthetic peer: RTX unwrapping, NACK, frame assembly, decoding, PLI.
 * See media_receiver.h. */
#include "codecs/media_receiver.h"

#include <stdlib.h>
#include <string.h>

#include "codecs/audio.h"
#include "codecs/video.h"
#include "codecs/vp8_packetizer.h"
#include "relay/proto/rtp.h"
#include "relay/proto/rtp_stats.h"

#define MAX_AUDIO_GAP 10 /* audio packets made up after a gap; a longer gap just restarts decoding */
#define NACK_BATCH    64 /* sequence numbers per NACK message (RFC 4585 FCI pairs cover 17 each) */

struct ovl_media_receiver {
    ovl_media_receiver_cfg_t cfg;
    ovl_rtp_stats_t rtp;
    ovl_nack_t *nack;                  /* owned, video with cfg.nack */
    ovl_vp8_depacketizer_t *assembler; /* owned, video */
    ovl_video_dec_t *vdec;             /* owned, video */
    ovl_audio_dec_t *adec;             /* owned, audio */
    int16_t *pcm;                      /* owned, audio: OVL_AUDIO_MAX_FRAME samples */
    /* video */
    bool gave_up;             /* a packet was given up since the last decoded key frame */
    bool dec_fail;            /* the decoder failed since the last key frame */
    bool had_key;             /* a key frame was decoded */
    uint64_t dropped_frames;  /* incomplete frames (after the first key frame) of assemblers replaced */
    uint64_t incomplete_base; /* the assembler's incomplete frames before the first key frame */
    ovl_time_t last_pli;
    /* both: extended sequence numbers */
    ovl_rtp_unwrap_t unwrap;
    int64_t highest;
    bool started;
    int64_t floor; /* video: packets before this one (the key frame the stream restarted at) are of no use */
    bool restarted;
    /* audio */
    size_t last_samples;
    /* reports */
    uint32_t sr_mid32;
    ovl_time_t sr_at;
    bool have_sr;
    ovl_media_receiver_stats_t stats;
};

int ovl_media_receiver_new(const ovl_media_receiver_cfg_t *cfg, ovl_media_receiver_t **out)
{
    ovl_media_receiver_t *r = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!cfg || !cfg->ssrc || !cfg->clock || cfg->pt > 127 || (cfg->rtx_ssrc && cfg->rtx_ssrc == cfg->ssrc))
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((r = calloc(1, sizeof(*r))) == NULL)
        goto Exit;
    r->cfg = *cfg;
    if (!r->cfg.pli_interval)
        r->cfg.pli_interval = OVL_MS(500);
    if (!r->cfg.reorder) /* with NACK the list gives up first; without, a loss is a loss at once */
        r->cfg.reorder = cfg->nack ? 256 : 16;
    ovl_rtp_stats_init(&r->rtp, cfg->clock);
    ovl_rtp_unwrap_init(&r->unwrap);
    r->stats.audio_level = 127;
    if (cfg->kind == OVL_MEDIA_VIDEO) {
        ovl_vp8_depacketizer_cfg_t dc = {.window = 512, .reorder = r->cfg.reorder};
        if ((ret = ovl_vp8_depacketizer_new(&dc, &r->assembler)) != 0 || (ret = ovl_video_dec_new(&r->vdec)) != 0 ||
            (cfg->nack && (ret = ovl_nack_new(&cfg->nack_cfg, &r->nack)) != 0))
            goto Exit;
    } else {
        ret = OVL_ERR_NOMEM;
        if ((r->pcm = malloc(OVL_AUDIO_MAX_FRAME * 2 * sizeof(*r->pcm))) == NULL)
            goto Exit;
        if ((ret = ovl_audio_dec_new(1, &r->adec)) != 0)
            goto Exit;
        r->last_samples = OVL_AUDIO_FRAME;
    }
    *out = r;
    r = NULL;
    ret = 0;
Exit:
    ovl_media_receiver_free(r);
    return ret;
}

void ovl_media_receiver_free(ovl_media_receiver_t *r)
{
    if (!r)
        return;
    ovl_nack_free(r->nack);
    ovl_vp8_depacketizer_free(r->assembler);
    ovl_video_dec_free(r->vdec);
    ovl_audio_dec_free(r->adec);
    free(r->pcm);
    free(r);
}

bool ovl_media_receiver_owns(const ovl_media_receiver_t *r, uint32_t ssrc)
{
    return ssrc == r->cfg.ssrc || (r->cfg.rtx_ssrc && ssrc == r->cfg.rtx_ssrc);
}

/* ---- video ---- */

/* A frame was decoded at `now`: first and latest times, and the longest gap between two in a row. */
static void frame_decoded_at(ovl_media_receiver_t *r, ovl_time_t now)
{
    if (!r->stats.first_frame_at)
        r->stats.first_frame_at = now;
    else if (now > r->stats.last_frame_at && now - r->stats.last_frame_at > r->stats.max_frame_gap) {
        r->stats.max_frame_gap = now - r->stats.last_frame_at;
        r->stats.max_frame_gap_at = now;
    }
    r->stats.last_frame_at = now;
}

static void decode_frame(ovl_media_receiver_t *r, const ovl_vp8_frame_t *f, ovl_time_t now)
{
    ovl_video_image_t img;
    uint32_t n;
    if (f->keyframe) {
        r->gave_up = false;
        r->dec_fail = false;
    }
    if (!f->decodable || r->gave_up || r->dec_fail) {
        if (r->had_key)
            r->stats.frames_undecodable++;
        else
            r->stats.frames_before_key++;
        return;
    }
    if (ovl_video_dec_decode(r->vdec, f->data, f->len, &img) != 0) {
        r->stats.frames_undecodable++;
        r->dec_fail = true;
        return;
    }
    if (!r->had_key) {
        ovl_vp8_depacketizer_stats_t ds;
        ovl_vp8_depacketizer_get_stats(r->assembler, &ds);
        r->incomplete_base = ds.frames_incomplete;
        r->stats.frames_before_key += ds.frames_incomplete;
    }
    r->had_key = true;
    r->stats.frames_decoded++;
    r->stats.keyframes += f->keyframe;
    frame_decoded_at(r, now);
    if (img.planes[0] && ovl_video_pattern_read(&img, &n) == 0) {
        r->stats.frames_verified++;
        r->stats.last_pattern = n;
    }
}

static void assemble(ovl_media_receiver_t *r, const ovl_rtp_t *rtp, uint16_t seq, const uint8_t *payload, size_t len,
                     ovl_time_t now)
{
    ovl_vp8_frame_t f;
    int ret = ovl_vp8_depacketizer_push(r->assembler, seq, rtp->marker, rtp->timestamp, payload, len);
    if (ret == OVL_ERR_PARSE || ret == OVL_ERR_LIMIT)
        r->stats.ignored++;
    else if (ret == OVL_ERR_REPLAY)
        r->stats.late++;
    while (ovl_vp8_depacketizer_pop(r->assembler, &f) == 0)
        decode_frame(r, &f, now);
}

/* The first packet of a key frame (RFC 7741 §4.3: S=1, PID=0, P=0). */
static bool keyframe_start(const uint8_t *payload, size_t len)
{
    ovl_vp8_info_t info;
    return len > 0 && ovl_vp8_parse(payload, len, &info) == 0 && info.frame_start && info.keyframe;
}

static bool needs_keyframe(const ovl_media_receiver_t *r)
{
    return !r->had_key || r->gave_up || r->dec_fail || ovl_vp8_depacketizer_keyframe_needed(r->assembler);
}

/*
 * A new key frame while the stream needs one: start over from it. Whatever came before (packets of frames that
 * cannot be decoded, the start of a stream joined mid-frame) would otherwise hold the assembler until its
 * reorder distance passed. Only for a packet newer than any before (not a retransmission of an earlier key
 * frame's start, whose other packets are already waiting in the assembler).
 */
static int restart_at(ovl_media_receiver_t *r, int64_t ext)
{
    ovl_vp8_depacketizer_cfg_t dc = {.window = 512, .reorder = r->cfg.reorder};
    ovl_vp8_depacketizer_stats_t old;
    ovl_vp8_depacketizer_t *fresh;
    int ret;
    if ((ret = ovl_vp8_depacketizer_new(&dc, &fresh)) != 0)
        return ret;
    ovl_vp8_depacketizer_get_stats(r->assembler, &old);
    if (r->had_key)
        r->dropped_frames += old.frames_incomplete - r->incomplete_base;
    else
        r->stats.frames_before_key += old.frames_incomplete;
    r->incomplete_base = 0;
    ovl_vp8_depacketizer_free(r->assembler);
    r->assembler = fresh;
    if (r->nack)
        ovl_nack_reset(r->nack);
    r->floor = ext;
    r->restarted = true;
    return 0;
}

static int on_video(ovl_media_receiver_t *r, const ovl_rtp_t *rtp, ovl_time_t now)
{
    const uint8_t *payload = ovl_rtp_payload(rtp);
    size_t len = rtp->payload_len;
    uint16_t seq = rtp->seq;
    ovl_nack_result_t nr = {0};
    if (rtp->ssrc == r->cfg.rtx_ssrc && r->cfg.rtx_ssrc) {
        if (rtp->payload_type != r->cfg.rtx_pt || len < 2) { /* padding-only RTX (probing) carries nothing */
            r->stats.ignored++;
            return OVL_ERR_NOTFOUND;
        }
        r->stats.rtx_packets++;
        seq = ovl_load_u16(payload); /* RFC 4588 §4: OSN, then the original payload */
        payload += 2;
        len -= 2;
    } else if (rtp->payload_type != r->cfg.pt) {
        r->stats.ignored++;
        return OVL_ERR_NOTFOUND;
    }
    int64_t ext = ovl_rtp_unwrap_seq(&r->unwrap, seq);
    bool newest = !r->started || ext > r->highest;
    if (r->restarted && ext < r->floor) {
        r->stats.late++;
        return OVL_ERR_REPLAY;
    }
    if (newest) {
        r->highest = ext;
        r->started = true;
        if (needs_keyframe(r) && keyframe_start(payload, len))
            (void)restart_at(r, ext);
    }
    if (r->nack) {
        ovl_nack_on_packet(r->nack, seq, now, &nr);
        if (nr.late) {
            r->stats.duplicates++;
            return OVL_ERR_REPLAY;
        }
        r->stats.recovered += nr.recovered;
        if (nr.overflow)
            r->gave_up = true;
    }
    (void)ovl_rtp_stats_update(&r->rtp, seq, rtp->timestamp, now);
    r->stats.packets++;
    r->stats.octets += len;
    assemble(r, rtp, seq, payload, len, now);
    return 0;
}

/* ---- audio ---- */

static void decode_audio(ovl_media_receiver_t *r, const uint8_t *payload, size_t len, ovl_time_t now)
{
    size_t samples = 0;
    if (ovl_audio_dec_decode(r->adec, payload, len, r->pcm, OVL_AUDIO_MAX_FRAME, &samples) != 0 || samples == 0) {
        r->stats.ignored++;
        return;
    }
    r->last_samples = samples;
    r->stats.frames_decoded++;
    r->stats.audio_level = ovl_audio_level(r->pcm, samples);
    frame_decoded_at(r, now);
}

static int on_audio(ovl_media_receiver_t *r, const ovl_rtp_t *rtp, ovl_time_t now)
{
    const uint8_t *payload = ovl_rtp_payload(rtp);
    size_t len = rtp->payload_len;
    if (rtp->ssrc != r->cfg.ssrc || rtp->payload_type != r->cfg.pt) {
        r->stats.ignored++;
        return OVL_ERR_NOTFOUND;
    }
    int64_t ext = ovl_rtp_unwrap_seq(&r->unwrap, rtp->seq);
    if (r->started && ext <= r->highest) {
        r->stats.late++;
        return OVL_ERR_REPLAY;
    }
    (void)ovl_rtp_stats_update(&r->rtp, rtp->seq, rtp->timestamp, now);
    r->stats.packets++;
    r->stats.octets += len;
    if (len == 0) { /* nothing to decode (a DTX gap filler) */
        r->highest = ext;
        r->started = true;
        return 0;
    }
    if (r->started && ext - r->highest - 1 > 0 && ext - r->highest - 1 <= MAX_AUDIO_GAP) {
        /* RFC 7587 §3.3 / RFC 6716 §2.1.7: the packet after a loss carries the lost one's FEC copy (LBRR);
         * frames before that one can only be concealed. */
        int64_t gap = ext - r->highest - 1;
        size_t samples, lost = r->last_samples % 120 == 0 ? r->last_samples : OVL_AUDIO_FRAME;
        for (int64_t i = 1; i <= gap; i++)
            if (ovl_audio_dec_recover(r->adec, i == gap ? payload : NULL, len, lost, r->pcm, OVL_AUDIO_MAX_FRAME,
                                      &samples) == 0)
                r->stats.frames_concealed++;
        r->stats.lost += (uint64_t)gap;
    } else if (r->started && ext - r->highest - 1 > MAX_AUDIO_GAP) {
        r->stats.lost += (uint64_t)(ext - r->highest - 1);
    }
    r->highest = ext;
    r->started = true;
    decode_audio(r, payload, len, now);
    return 0;
}

int ovl_media_receiver_on_rtp(ovl_media_receiver_t *r, const uint8_t *pkt, size_t len, ovl_time_t now)
{
    ovl_rtp_t rtp;
    if (ovl_rtp_parse(&rtp, pkt, len) != 0) {
        r->stats.ignored++;
        return OVL_ERR_PARSE;
    }
    if (!ovl_media_receiver_owns(r, rtp.ssrc)) {
        r->stats.ignored++;
        return OVL_ERR_NOTFOUND;
    }
    if (!r->stats.first_packet_at)
        r->stats.first_packet_at = now ? now : 1;
    return r->cfg.kind == OVL_MEDIA_VIDEO ? on_video(r, &rtp, now) : on_audio(r, &rtp, now);
}

/* ---- feedback and reports ---- */

static bool keyframe_wanted(const ovl_media_receiver_t *r)
{
    return r->cfg.kind == OVL_MEDIA_VIDEO && r->cfg.pli && r->stats.first_packet_at &&
           (ovl_vp8_depacketizer_keyframe_needed(r->assembler) || r->gave_up || r->dec_fail);
}

static ovl_time_t pli_due(const ovl_media_receiver_t *r)
{
    ovl_time_t first = r->stats.first_packet_at + r->cfg.pli_interval;
    ovl_time_t next = r->last_pli ? r->last_pli + r->cfg.pli_interval : first;
    return next > first ? next : first;
}

/* Fills given-up packets into the assembler: their frames are dropped now instead of after `reorder`. */
static void give_up(ovl_media_receiver_t *r, const uint16_t *lost, size_t n, ovl_time_t now)
{
    ovl_vp8_frame_t f;
    for (size_t i = 0; i < n; i++) {
        r->stats.lost++;
        r->gave_up = true;
        (void)ovl_vp8_depacketizer_push(r->assembler, lost[i], false, 0, NULL, 0);
    }
    while (ovl_vp8_depacketizer_pop(r->assembler, &f) == 0)
        decode_frame(r, &f, now);
}

int ovl_media_receiver_feedback(ovl_media_receiver_t *r, ovl_time_t now, ovl_wbuf_t *b)
{
    uint16_t seqs[NACK_BATCH], lost[NACK_BATCH];
    size_t n_nack = 0, n_lost = 0;
    int count = 0;
    if (r->nack) {
        size_t mark = b->len;
        ovl_nack_poll(r->nack, now, seqs, NACK_BATCH, &n_nack, lost, NACK_BATCH, &n_lost);
        give_up(r, lost, n_lost, now);
        if (n_nack) {
            if (ovl_rtcp_build_nack(b, r->cfg.local_ssrc, r->cfg.ssrc, seqs, n_nack) != 0) {
                b->len = mark;
                return OVL_ERR_LIMIT;
            }
            r->stats.nack_packets++;
            r->stats.nack_seqs += n_nack;
            count++;
        }
    }
    if (keyframe_wanted(r) && now >= pli_due(r)) {
        if (ovl_rtcp_build_pli(b, r->cfg.local_ssrc, r->cfg.ssrc) != 0)
            return OVL_ERR_LIMIT;
        r->last_pli = now;
        r->stats.plis++;
        count++;
    }
    return count;
}

ovl_time_t ovl_media_receiver_next_timeout(const ovl_media_receiver_t *r)
{
    ovl_time_t t = r->nack ? ovl_nack_next_timeout(r->nack) : OVL_TIME_NEVER;
    if (keyframe_wanted(r) && pli_due(r) < t)
        t = pli_due(r);
    return t;
}

void ovl_media_receiver_on_sr(ovl_media_receiver_t *r, const ovl_rtcp_sr_t *sr, ovl_time_t now)
{
    r->sr_mid32 = ovl_rtcp_ntp_mid32(sr->info.ntp);
    r->sr_at = now;
    r->have_sr = true;
}

int ovl_media_receiver_report(ovl_media_receiver_t *r, ovl_time_t now, ovl_rtcp_rb_t *rb)
{
    memset(rb, 0, sizeof(*rb));
    if (!r->rtp.started)
        return OVL_ERR_AGAIN;
    ovl_rtp_stats_fill_report(&r->rtp, rb);
    rb->ssrc = r->cfg.ssrc;
    if (r->have_sr) {
        rb->lsr = r->sr_mid32;
        rb->dlsr = ovl_rtcp_dlsr_from_us(now - r->sr_at);
    }
    return 0;
}

uint32_t ovl_media_receiver_ssrc(const ovl_media_receiver_t *r)
{
    return r->cfg.ssrc;
}

void ovl_media_receiver_stats(const ovl_media_receiver_t *r, ovl_media_receiver_stats_t *out)
{
    *out = r->stats;
    out->rtcp_lost = ovl_rtp_stats_lost(&r->rtp);
    if (r->assembler) {
        ovl_vp8_depacketizer_stats_t ds;
        ovl_vp8_depacketizer_get_stats(r->assembler, &ds);
        /* dropped by the assembler (this one or those before a restart), after the first key frame */
        out->frames_undecodable += r->dropped_frames + (r->had_key ? ds.frames_incomplete - r->incomplete_base : 0);
    }
}
