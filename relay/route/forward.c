/*
 * Forwarding, the hot path: one decrypted RTP packet from a publisher in, one rewritten copy per
 * subscriber out (mediasoup's Producer::ReceiveRtpPacket -> Router -> Consumer::SendRtpPacket).
 *
 * Per received packet (once): parse (relay/proto/rtp.h), find the producer by SSRC (RTX from the
 * publisher is unwrapped to the original sequence number, RFC 4588 §4), read the header
 * extensions once by the publisher's ids (transport-wide sequence number -> arrival record,
 * audio level -> active speaker, the values that travel on), update the receive statistics, note
 * keyframes (codecs/vp8.h), keep a copy for retransmission.
 *
 * Per consumer: a buffer from the subscriber's sink, a fresh header written for the subscriber —
 * its SSRC, its payload type for the codec, sequence number and timestamp moved by the consumer's
 * offsets, an extension block in the subscriber's ids with only what it negotiated (plus the
 * relay's abs-send-time and the consumer's mid) — then the payload. Offsets are chosen when a
 * consumer (re)starts so that its numbering continues where it left off: a pause (waiting for a
 * keyframe) or a change of the publisher's SSRC never looks like loss or a timestamp jump back,
 * while real loss upstream still shows as a gap the subscriber can NACK. Video then passes the
 * subscriber's thinning gate (thin.h): frames dropped on a thin path leave no gap either (the
 * map moves on in segments, which NACKs are mapped back through).
 */
#include <string.h>

#include "codecs/opus.h"
#include "codecs/vp8.h"
#include "relay/proto/srtp.h"
#include "relay/route/route_int.h"

typedef struct scan {
    bool has_twcc;
    uint16_t twcc;
    const uint8_t *mid;
    size_t mid_len;
    bool has_level;
    uint8_t level;
    size_t n_fwd;
    ovl_route_ext_val_t fwd[OVL_ROUTE_FWD_EXT_MAX];
} scan_t;

static void scan_ext(const ovl_rtp_t *rtp, const ovl_route_caps_t *caps, scan_t *s)
{
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    memset(s, 0, sizeof(*s));
    ovl_rtp_ext_iter_init(&it, rtp);
    while (ovl_rtp_ext_next(&it, &e) == 0) {
        unsigned x = caps->ext_of[e.id];
        if (!x || e.len == 0)
            continue;
        switch ((ovl_route_ext_t)(x - 1)) {
        case OVL_ROUTE_EXT_TRANSPORT_CC:
            if (e.len == 2) {
                s->has_twcc = true;
                s->twcc = ovl_load_u16(e.data);
            }
            continue;
        case OVL_ROUTE_EXT_MID:
            s->mid = e.data;
            s->mid_len = e.len;
            continue;
        case OVL_ROUTE_EXT_AUDIO_LEVEL: {
            bool voice;
            if (ovl_opus_level_parse(e.data, e.len, &voice, &s->level) == 0)
                s->has_level = true;
            break;
        }
        default:
            break;
        }
        if (ovl_route_ext_policy((ovl_route_ext_t)(x - 1)) == OVL_ROUTE_EXT_FORWARD && e.len <= 16 &&
            s->n_fwd < OVL_ROUTE_FWD_EXT_MAX)
            s->fwd[s->n_fwd++] = (ovl_route_ext_val_t){(uint8_t)(x - 1), e.len, e.data};
    }
}

/*
 * An SSRC the offer did not announce (simulcast offers carry none, and a sender may change its
 * SSRC): the mid extension (RFC 8843 §15) names the section, the payload type says media or RTX.
 * A new media SSRC on a section that had one replaces it: consumers re-base and wait for a keyframe.
 */
static ovl_route_producer_t *bind_by_mid(ovl_route_participant_t *p, const ovl_rtp_t *rtp, const scan_t *s,
                                         bool *is_rtx, ovl_time_t now)
{
    *is_rtx = false;
    if (rtp->ssrc == 0)
        return NULL; /* 0 means "not known yet" here */
    for (size_t i = 0; s->mid && i < OVL_ROUTE_SLOTS; i++) {
        ovl_route_producer_t *pr = p->producers[i];
        if (!pr || strlen(pr->mid) != s->mid_len || memcmp(pr->mid, s->mid, s->mid_len) != 0)
            continue;
        const ovl_route_caps_t *caps = &p->caps[pr->video];
        if (pr->video && caps->has_rtx && rtp->payload_type == caps->rtx_pt) {
            pr->rtx_ssrc = rtp->ssrc;
            *is_rtx = true;
            return pr;
        }
        if (rtp->payload_type != caps->pt)
            return NULL;
        if (pr->ssrc != 0) {
            ovl_rtp_stats_init(&pr->stats, pr->clock);
            ovl_rtp_unwrap_init(&pr->unwrap);
            /* The new stream's numbers come after everything kept; the base stays a multiple of 2^16 so that an
             * extended number and its 16-bit sequence number agree. */
            if (pr->have_seq)
                pr->ext_base = ((pr->highest >> 16) + 2) << 16;
            pr->have_sr = pr->have_last = false;
            for (size_t k = 0; k < pr->n_consumers; k++)
                ovl_route_consumer_restart(pr->consumers[k], now);
        }
        pr->ssrc = rtp->ssrc;
        if (pr->kf.pending)
            ovl_route_schedule(p->room, now);
        return pr;
    }
    return NULL;
}

static void resync(ovl_route_consumer_t *c, const ovl_route_pkt_t *pkt, uint32_t clock, ovl_time_t now)
{
    uint16_t out_seq = (uint16_t)(c->last_seq + 1);
    uint32_t out_ts = c->last_ts;
    if (c->started) {
        uint64_t ticks = (now - c->last_at) * clock / 1000000u;
        out_ts = c->last_ts + (uint32_t)(ticks ? ticks : 1);
    }
    ovl_thin_seq_reset(&c->seq, pkt->ext_seq, out_seq);
    c->ts_off = out_ts - pkt->ts;
    c->resync = false;
}

int ovl_route_consumer_send(ovl_route_consumer_t *c, const ovl_route_pkt_t *pkt, bool rtx, ovl_time_t now)
{
    ovl_route_participant_t *sub = c->sub;
    ovl_route_room_t *room = sub->room;
    const ovl_route_caps_t *caps = &sub->caps[c->video];
    ovl_route_ext_val_t vals[OVL_ROUTE_FWD_EXT_MAX + 2];
    uint8_t abs[3];
    ovl_route_buf_t buf = {0};
    size_t n = 0;
    uint16_t out_seq;
    if (rtx && !c->rtx_ssrc)
        return OVL_ERR_UNSUPPORTED;
    if (!ovl_thin_seq_out(&c->seq, pkt->ext_seq, &out_seq))
        return OVL_ERR_NOTFOUND; /* not a number this consumer gives out (before its mapping, or dropped) */
    if (sub->sink.get_buffer(sub->sink.ctx, &buf) != 0 || !buf.data) {
        room->stats.no_buffer++;
        return OVL_ERR_NOMEM;
    }
    size_t cap = buf.cap > OVL_SRTP_MAX_OVERHEAD ? buf.cap - OVL_SRTP_MAX_OVERHEAD : 0;
    if (cap > OVL_ROUTE_MAX_PACKET)
        cap = OVL_ROUTE_MAX_PACKET;
    uint32_t out_ts = pkt->ts + c->ts_off;
    uint32_t ast = ovl_route_abs_send_time(now);

    for (size_t i = 0; i < pkt->n_ext; i++)
        vals[n++] = pkt->ext[i];
    abs[0] = (uint8_t)(ast >> 16), abs[1] = (uint8_t)(ast >> 8), abs[2] = (uint8_t)ast;
    vals[n++] = (ovl_route_ext_val_t){OVL_ROUTE_EXT_ABS_SEND_TIME, 3, abs};
    if (c->mid[0])
        vals[n++] = (ovl_route_ext_val_t){OVL_ROUTE_EXT_MID, (uint8_t)strlen(c->mid), (const uint8_t *)c->mid};

    size_t need = OVL_RTP_HEADER_LEN + (rtx ? 2u : 0u) + pkt->payload_len + pkt->pad_len;
    long el = cap >= need ? ovl_route_ext_write_block(caps, vals, n, buf.data + OVL_RTP_HEADER_LEN, cap - need) : -1;
    if (el < 0) {
        sub->sink.put_buffer(sub->sink.ctx, &buf);
        return OVL_ERR_LIMIT;
    }
    uint8_t *d = buf.data;
    d[0] = (uint8_t)(0x80 | (pkt->pad_len ? 0x20 : 0) | (el > 0 ? 0x10 : 0));
    d[1] = (uint8_t)((pkt->marker ? 0x80 : 0) | (rtx ? caps->rtx_pt : caps->pt));
    ovl_store_u16(d + 2, rtx ? c->rtx_seq : out_seq);
    ovl_store_u32(d + 4, out_ts);
    ovl_store_u32(d + 8, rtx ? c->rtx_ssrc : c->ssrc);
    size_t off = OVL_RTP_HEADER_LEN + (size_t)el;
    if (rtx) { /* RFC 4588 §4: the original sequence number leads the RTX payload */
        ovl_store_u16(d + off, out_seq);
        off += 2;
    }
    if (pkt->payload_len)
        memcpy(d + off, pkt->payload, pkt->payload_len);
    off += pkt->payload_len;
    if (pkt->pad_len) { /* RFC 3550 §5.1: the last padding octet counts the padding */
        memset(d + off, 0, pkt->pad_len);
        d[off + pkt->pad_len - 1] = pkt->pad_len;
        off += pkt->pad_len;
    }
    room->stats.rtp_out++;
    if (rtx) {
        c->rtx_seq++;
        room->stats.rtx_out++;
    } else {
        if (!c->started || ovl_rtp_seq_newer(out_seq, c->last_seq))
            c->last_seq = out_seq;
        if (!c->started || ovl_rtp_ts_diff(out_ts, c->last_ts) > 0)
            c->last_ts = out_ts;
        c->last_at = now;
        c->started = true;
        c->packets++;
        c->octets += (uint32_t)pkt->payload_len;
    }
    sub->sink.send_rtp(sub->sink.ctx, &buf, off, !c->video);
    return 0;
}

ovl_thin_level_t ovl_route_consumer_level(const ovl_route_consumer_t *c, ovl_time_t now, bool *by_receiver)
{
    ovl_thin_level_t level = ovl_thin_ctl_level(&c->sub->thin, now);
    *by_receiver = false;
    if (c->slot == OVL_ROUTE_SLOT_CAMERA && c->sub->camera_off) {
        *by_receiver = true;
        return OVL_THIN_PAUSED;
    }
    if (c->slot == OVL_ROUTE_SLOT_SCREEN && level > OVL_THIN_SLIDES)
        level = OVL_THIN_SLIDES; /* a shared screen is never paused by congestion: it becomes slides */
    return level;
}

/* The thinning gate (thin.h) of a video consumer: false when this packet does not go out. */
static bool thin_pass(ovl_route_consumer_t *c, const ovl_thin_pkt_t *tp, ovl_time_t now)
{
    ovl_thin_verdict_t v;
    bool by_receiver;
    ovl_thin_level_t level = ovl_route_consumer_level(c, now, &by_receiver);
    ovl_thin_gate_packet(&c->gate, &c->seq, level, by_receiver, tp, now, &v);
    if (v.frame_dropped)
        c->sub->room->stats.thin_frames[v.why]++;
    if (v.want_keyframe)
        ovl_route_kf_request(c->producer, false, now);
    return v.forward;
}

static void fan_out(ovl_route_producer_t *pr, const ovl_route_pkt_t *pkt, const ovl_thin_pkt_t *tp, ovl_time_t now)
{
    for (size_t i = 0; i < pr->n_consumers; i++) {
        ovl_route_consumer_t *c = pr->consumers[i];
        if (c->state != OVL_ROUTE_C_ACTIVE || !c->sub->connected)
            continue;
        if (c->waiting_kf) {
            if (!pkt->keyframe)
                continue;
            c->waiting_kf = false;
            c->resync = true;
        }
        if (c->video && !thin_pass(c, tp, now))
            continue;
        if (c->resync)
            resync(c, pkt, pr->clock, now);
        ovl_route_consumer_send(c, pkt, false, now); /* refuses numbers from before the consumer's mapping */
    }
}

/*
 * Fills the normalised packet; false when the payload type is not the negotiated one.
 * An RTX packet (RFC 4588 §4) carries the original sequence number ahead of the original payload:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         RTP Header                            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            OSN                |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 *  |                  Original RTP Packet Payload                  |
 */
static bool unwrap_packet(ovl_route_producer_t *pr, const ovl_rtp_t *rtp, bool is_rtx, ovl_route_pkt_t *pkt)
{
    const ovl_route_caps_t *caps = &pr->owner->caps[pr->video];
    const uint8_t *payload = ovl_rtp_payload(rtp);
    memset(pkt, 0, sizeof(*pkt));
    pkt->ts = rtp->timestamp;
    pkt->marker = rtp->marker;
    pkt->pad_len = rtp->padding_len;
    if (is_rtx) {
        if (!caps->has_rtx || rtp->payload_type != caps->rtx_pt || rtp->payload_len < 2)
            return false; /* also a padding-only bandwidth probe: nothing to forward */
        pkt->seq = ovl_load_u16(payload);
        pkt->payload = payload + 2;
        pkt->payload_len = rtp->payload_len - 2;
        return true;
    }
    if (rtp->payload_type != caps->pt)
        return false;
    pkt->seq = rtp->seq;
    pkt->payload = payload;
    pkt->payload_len = rtp->payload_len;
    return true;
}

int ovl_route_on_rtp(ovl_route_room_t *room, ovl_route_participant_t *p, const uint8_t *buf, size_t len, ovl_time_t now)
{
    ovl_rtp_t rtp;
    ovl_route_pkt_t pkt;
    scan_t s;
    bool is_rtx;
    int ret;
    room->stats.rtp_in++;
    if ((ret = ovl_rtp_parse(&rtp, buf, len)) != 0)
        goto Drop;
    ovl_route_producer_t *pr = ovl_route_producer_by_ssrc(p, rtp.ssrc, &is_rtx);
    if (!pr) {
        scan_ext(&rtp, &p->caps[0], &s);
        if (!s.mid)
            scan_ext(&rtp, &p->caps[1], &s);
        pr = bind_by_mid(p, &rtp, &s, &is_rtx, now);
    }
    ret = OVL_ERR_NOTFOUND;
    if (!pr)
        goto Drop;
    scan_ext(&rtp, &p->caps[pr->video], &s);
    if (s.has_twcc) {
        ovl_route_twcc_record(&p->twcc, s.twcc, now);
        if (p->next_twcc == OVL_TIME_NEVER) {
            p->next_twcc = now + room->twcc_every;
            ovl_route_schedule(room, p->next_twcc);
        }
    }
    if (!unwrap_packet(pr, &rtp, is_rtx, &pkt)) {
        if (is_rtx && rtp.payload_len < 2)
            return 0; /* RTX padding: counted by transport-cc only */
        goto Drop;
    }
    if (!is_rtx)
        ovl_rtp_stats_update(&pr->stats, rtp.seq, rtp.timestamp, now);
    pkt.ext_seq = ovl_rtp_unwrap_seq(&pr->unwrap, pkt.seq) + pr->ext_base;
    if (!pr->have_seq || pkt.ext_seq > pr->highest) {
        pr->highest = pkt.ext_seq;
        pr->have_seq = true;
        pr->have_last = true;
        pr->last_ts = pkt.ts;
        pr->last_at = now;
    }
    pkt.n_ext = s.n_fwd;
    memcpy(pkt.ext, s.fwd, s.n_fwd * sizeof(s.fwd[0]));
    ovl_thin_pkt_t tp = {.ext_seq = pkt.ext_seq, .ts = pkt.ts};
    if (pr->video) {
        ovl_vp8_info_t info;
        if (pkt.payload_len && ovl_vp8_parse(pkt.payload, pkt.payload_len, &info) == 0) {
            tp.frame_start = info.frame_start;
            tp.keyframe = info.frame_start && info.keyframe;
            tp.has_tid = info.desc.has_tid;
            tp.tid = info.desc.tid;
            tp.layer_sync = info.desc.layer_sync;
            tp.non_reference = info.desc.non_reference;
        }
        if (tp.keyframe) {
            pkt.keyframe = true;
            ovl_route_kf_seen(pr);
        }
        if (pr->rtx && (ret = ovl_route_rtx_put(pr->rtx, &pkt)) == OVL_ERR_REPLAY)
            goto Drop; /* already forwarded once: resending it would repeat an SRTP packet index */
    } else if (s.has_level) {
        ovl_route_speaker_level(pr, s.level, now);
    }
    pr->packets++;
    pr->octets += pkt.payload_len;
    if (!pr->live) {
        if (!pr->activate) { /* the screen slot starts: consumers are made outside the packet path */
            pr->activate = true;
            ovl_route_schedule(room, now);
        }
        return 0;
    }
    fan_out(pr, &pkt, &tp, now);
    return 0;
Drop:
    room->stats.rtp_dropped++;
    return ret;
}
