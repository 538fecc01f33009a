/* One RTP stream sent by the synthetic peer: packetizing, RTX from a send history, SR fields. See media_sender.h. */
#include "codecs/media_sender.h"

#include <stdlib.h>
#include <string.h>

#include "codecs/vp8_packetizer.h"
#include "relay/proto/rtp.h"

#define MID_MAX 16

typedef struct sent {
    uint16_t seq;
    uint16_t len; /* 0: empty slot */
    uint8_t pkt[OVL_MEDIA_MAX_RTP];
} sent_t;

struct ovl_media_sender {
    ovl_media_sender_cfg_t cfg;
    char mid[MID_MAX + 1];
    ovl_vp8_packetizer_t pk;
    uint16_t seq, rtx_seq;
    bool sent_any;
    uint32_t last_ts;      /* RTP timestamp of the last frame */
    ovl_time_t last_ts_at; /* when it was sent */
    sent_t *history;       /* owned: cfg.history slots (video), indexed by seq */
    uint8_t buf[OVL_MEDIA_BUF];
    ovl_media_sender_stats_t stats;
};

int ovl_media_sender_new(const ovl_media_sender_cfg_t *cfg, ovl_media_sender_t **out)
{
    ovl_media_sender_t *s = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!cfg || !cfg->emit || !cfg->ssrc || !cfg->clock || cfg->pt > 127 || cfg->rtx_pt > 127 ||
        (cfg->rtx_ssrc && cfg->rtx_ssrc == cfg->ssrc) || cfg->level_ext_id > 14 || cfg->mid_ext_id > 14 ||
        (cfg->mid_ext_id && (!cfg->mid || !cfg->mid[0] || strlen(cfg->mid) > MID_MAX)))
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        goto Exit;
    s->cfg = *cfg;
    s->cfg.mid = NULL;
    if (cfg->mid_ext_id)
        strcpy(s->mid, cfg->mid);
    if (!s->cfg.max_payload)
        s->cfg.max_payload = 1200;
    if (!s->cfg.history)
        s->cfg.history = 512;
    s->seq = cfg->first_seq;
    s->rtx_seq = cfg->first_rtx_seq;
    ret = OVL_ERR_ARG;
    if (s->cfg.max_payload > OVL_MEDIA_MAX_RTP - 64 || s->cfg.history < 16 || s->cfg.history > 4096 ||
        (s->cfg.history & (s->cfg.history - 1)) != 0)
        goto Exit;
    if (cfg->kind == OVL_MEDIA_VIDEO) {
        ovl_vp8_packetizer_cfg_t pc = {.max_payload = s->cfg.max_payload, .first_picture_id = cfg->first_picture_id};
        if ((ret = ovl_vp8_packetizer_init(&s->pk, &pc)) != 0)
            goto Exit;
        ret = OVL_ERR_NOMEM;
        if ((s->history = calloc(s->cfg.history, sizeof(*s->history))) == NULL)
            goto Exit;
    }
    *out = s;
    s = NULL;
    ret = 0;
Exit:
    ovl_media_sender_free(s);
    return ret;
}

void ovl_media_sender_free(ovl_media_sender_t *s)
{
    if (!s)
        return;
    free(s->history);
    free(s);
}

/* Header with the negotiated extensions (RFC 8285 one-byte form): mid, and the audio level when level >= 0. */
static int put_header(ovl_media_sender_t *s, ovl_wbuf_t *w, const ovl_rtp_hdr_t *h, int level, bool voice)
{
    ovl_rtp_ext_put_t ext[2];
    uint8_t level_byte = (uint8_t)((voice ? 0x80 : 0) | (level & 0x7f)); /* RFC 6464 §3: V | level */
    size_t n = 0;
    if (s->cfg.mid_ext_id)
        ext[n++] = (ovl_rtp_ext_put_t){s->cfg.mid_ext_id, (uint8_t)strlen(s->mid), (const uint8_t *)s->mid};
    if (level >= 0 && s->cfg.level_ext_id)
        ext[n++] = (ovl_rtp_ext_put_t){s->cfg.level_ext_id, 1, &level_byte};
    return ovl_rtp_build(w, h, ext, n);
}

static void remember(ovl_media_sender_t *s, uint16_t seq, size_t len)
{
    sent_t *slot = &s->history[seq & (s->cfg.history - 1)];
    slot->seq = seq;
    slot->len = (uint16_t)len;
    memcpy(slot->pkt, s->buf, len);
}

int ovl_media_sender_video_frame(ovl_media_sender_t *s, const uint8_t *frame, size_t len, bool keyframe, uint32_t ts,
                                 ovl_time_t now)
{
    int ret;
    if (s->cfg.kind != OVL_MEDIA_VIDEO)
        return OVL_ERR_STATE;
    if (!frame || !len)
        return OVL_ERR_ARG;
    if ((ret = ovl_vp8_packetizer_frame(&s->pk, frame, len, false, NULL)) != 0)
        return ret;
    for (;;) {
        ovl_wbuf_t w;
        ovl_rtp_hdr_t h = {.payload_type = s->cfg.pt, .seq = s->seq, .timestamp = ts, .ssrc = s->cfg.ssrc};
        size_t plen;
        ovl_wbuf_init(&w, s->buf, OVL_MEDIA_MAX_RTP);
        if ((ret = put_header(s, &w, &h, -1, false)) != 0)
            return ret;
        ret = ovl_vp8_packetizer_next(&s->pk, s->buf + w.len, OVL_MEDIA_MAX_RTP - w.len, &plen, &h.marker);
        if (ret == OVL_ERR_AGAIN)
            break;
        if (ret != 0)
            return ret;
        if (h.marker)
            s->buf[1] |= 0x80; /* RFC 3550 §5.1 M bit, known only once the payload is taken */
        size_t total = w.len + plen;
        remember(s, s->seq, total);
        s->stats.packets++;
        s->stats.octets += plen;
        s->seq++;
        s->cfg.emit(s->cfg.ctx, s->buf, total, sizeof(s->buf), false);
    }
    s->stats.frames++;
    s->stats.keyframes += keyframe;
    s->sent_any = true;
    s->last_ts = ts;
    s->last_ts_at = now;
    return 0;
}

int ovl_media_sender_audio_frame(ovl_media_sender_t *s, const uint8_t *opus, size_t len, uint32_t ts, uint8_t level,
                                 bool voice, ovl_time_t now)
{
    ovl_wbuf_t w;
    ovl_rtp_hdr_t h = {.payload_type = s->cfg.pt, .seq = s->seq, .timestamp = ts, .ssrc = s->cfg.ssrc};
    int ret;
    if (s->cfg.kind != OVL_MEDIA_AUDIO)
        return OVL_ERR_STATE;
    if (!opus || !len)
        return OVL_ERR_ARG;
    ovl_wbuf_init(&w, s->buf, OVL_MEDIA_MAX_RTP);
    if ((ret = put_header(s, &w, &h, level, voice)) != 0 || (ret = ovl_put_bytes(&w, opus, len)) != 0)
        return ret == OVL_ERR_LIMIT ? OVL_ERR_ARG : ret;
    s->stats.frames++;
    s->stats.packets++;
    s->stats.octets += len;
    s->seq++;
    s->sent_any = true;
    s->last_ts = ts;
    s->last_ts_at = now;
    s->cfg.emit(s->cfg.ctx, s->buf, w.len, sizeof(s->buf), false);
    return 0;
}

/* RFC 4588 §4: the retransmission of the packet in `slot` on the RTX stream. */
static int send_rtx(ovl_media_sender_t *s, const sent_t *slot)
{
    ovl_rtp_t orig;
    ovl_wbuf_t w;
    int ret;
    if ((ret = ovl_rtp_parse(&orig, slot->pkt, slot->len)) != 0)
        return ret;
    ovl_rtp_hdr_t h = {.marker = orig.marker,
                       .payload_type = s->cfg.rtx_pt,
                       .seq = s->rtx_seq,
                       .timestamp = orig.timestamp,
                       .ssrc = s->cfg.rtx_ssrc};
    ovl_wbuf_init(&w, s->buf, OVL_MEDIA_MAX_RTP);
    if ((ret = put_header(s, &w, &h, -1, false)) != 0 || (ret = ovl_put_u16(&w, orig.seq)) != 0 ||
        (ret = ovl_put_bytes(&w, ovl_rtp_payload(&orig), orig.payload_len)) != 0)
        return ret;
    s->rtx_seq++;
    s->stats.rtx_packets++;
    s->cfg.emit(s->cfg.ctx, s->buf, w.len, sizeof(s->buf), true);
    return 0;
}

void ovl_media_sender_on_nack(ovl_media_sender_t *s, const uint16_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sent_t *slot = s->history ? &s->history[seqs[i] & (s->cfg.history - 1)] : NULL;
        s->stats.nack_seqs++;
        if (!s->cfg.rtx_ssrc || !slot || !slot->len || slot->seq != seqs[i] || send_rtx(s, slot) != 0)
            s->stats.nack_missed++;
    }
}

int ovl_media_sender_info(const ovl_media_sender_t *s, ovl_time_t now, uint64_t ntp, ovl_rtcp_sender_info_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!s->sent_any)
        return OVL_ERR_AGAIN;
    /* RFC 3550 §6.4.1: the RTP timestamp of the same instant as the NTP timestamp. */
    uint64_t elapsed = now > s->last_ts_at ? now - s->last_ts_at : 0;
    out->ntp = ntp;
    out->rtp_ts = s->last_ts + (uint32_t)(elapsed * s->cfg.clock / 1000000u);
    out->packet_count = (uint32_t)s->stats.packets;
    out->octet_count = (uint32_t)s->stats.octets;
    return 0;
}

uint32_t ovl_media_sender_ssrc(const ovl_media_sender_t *s)
{
    return s->cfg.ssrc;
}

void ovl_media_sender_stats(const ovl_media_sender_t *s, ovl_media_sender_stats_t *out)
{
    *out = s->stats;
}
