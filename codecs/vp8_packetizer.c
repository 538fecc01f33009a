#include "codecs/vp8_packetizer.h"

#include <stdlib.h>
#include <string.h>

/* ---- Packetizer ---- */

/*
 * Every packet carries the descriptor of RFC 7741 §4.2 with X=1, I=1 and a 15-bit PictureID (M=1),
 * as browsers send it; with cfg.tl0picidx also L=1 and T=1 (TID 0, Y 0), since §4.2 requires T
 * when L is set. S=1 and PID=0 on the first packet of a frame only: libvpx hands over the frame
 * as one buffer, and §4.2 allows PID 0 throughout.
 *
 *   first packet: 90 80|E0 [M|PictureID hi] [PictureID lo] ([TL0PICIDX] [TID|Y|KEYIDX])
 *   the others:   80 80|E0 ...
 */
static size_t desc_len(const ovl_vp8_packetizer_cfg_t *cfg)
{
    return cfg->tl0picidx ? 6 : 4;
}

int ovl_vp8_packetizer_init(ovl_vp8_packetizer_t *pk, const ovl_vp8_packetizer_cfg_t *cfg)
{
    memset(pk, 0, sizeof(*pk));
    if (cfg->max_payload < desc_len(cfg) + 1)
        return OVL_ERR_ARG;
    pk->cfg = *cfg;
    pk->picture_id = cfg->first_picture_id & 0x7fff;
    pk->tl0picidx = cfg->first_tl0picidx;
    return 0;
}

int ovl_vp8_packetizer_frame(ovl_vp8_packetizer_t *pk, const uint8_t *frame, size_t len, bool non_reference,
                             unsigned *packets)
{
    if (packets)
        *packets = 0;
    if (pk->frame != NULL)
        return OVL_ERR_STATE;
    if (frame == NULL || len == 0)
        return OVL_ERR_ARG;
    if (pk->started) {
        pk->picture_id = (pk->picture_id + 1) & 0x7fff;
        pk->tl0picidx++;
    }
    pk->started = true;
    size_t room = pk->cfg.max_payload - desc_len(&pk->cfg);
    pk->frame = frame;
    pk->frame_len = len;
    pk->off = 0;
    pk->non_reference = non_reference;
    pk->packets = (unsigned)((len + room - 1) / room);
    pk->next = 0;
    if (packets)
        *packets = pk->packets;
    return 0;
}

int ovl_vp8_packetizer_next(ovl_vp8_packetizer_t *pk, uint8_t *out, size_t cap, size_t *len, bool *marker)
{
    *len = 0;
    *marker = false;
    if (pk->frame == NULL)
        return OVL_ERR_AGAIN;
    /* Near-equal sizes: the first len % packets packets carry one octet more. */
    size_t size = pk->frame_len / pk->packets + (pk->next < pk->frame_len % pk->packets ? 1 : 0);
    size_t dl = desc_len(&pk->cfg);
    if (cap < dl + size)
        return OVL_ERR_LIMIT;
    out[0] = (uint8_t)(0x80 | (pk->next == 0 ? 0x10 : 0) | (pk->non_reference ? 0x20 : 0));
    out[1] = (uint8_t)(0x80 | (pk->cfg.tl0picidx ? 0x60 : 0));
    out[2] = (uint8_t)(0x80 | pk->picture_id >> 8);
    out[3] = (uint8_t)pk->picture_id;
    if (pk->cfg.tl0picidx) {
        out[4] = pk->tl0picidx;
        out[5] = 0x00; /* TID 0, Y 0, KEYIDX unused */
    }
    memcpy(out + dl, pk->frame + pk->off, size);
    pk->off += size;
    *len = dl + size;
    if (++pk->next == pk->packets) {
        *marker = true;
        pk->frame = NULL;
    }
    return 0;
}

/* ---- Depacketizer ---- */

/*
 * Frame reconstruction as in RFC 7741 §4.5.1: a frame is the packets with one RTP timestamp, in
 * sequence-number order, from the one with S=1 and PID=0 to the one with the marker bit, with no
 * sequence number missing in between. Packets wait in a ring of cfg.window slots indexed by
 * sequence number; `head` is the oldest sequence number not yet consumed, and frames leave in
 * order from there. A missing packet is waited for until one cfg.reorder sequence numbers later
 * has arrived (there is no clock here: the caller's retransmissions, if any, must come within
 * that distance); then its frame is dropped and counted, and the stream stays undecodable until
 * the next key frame. Every frame is taken to reference the one before it (no temporal layers).
 */

typedef struct slot {
    uint32_t timestamp;
    uint32_t len; /* payload octets stored, descriptor included */
    uint8_t desc_len;
    bool used, marker, frame_start, keyframe, filler;
} slot_t;

struct ovl_vp8_depacketizer {
    ovl_vp8_depacketizer_cfg_t cfg;
    slot_t *slots;     /* owned: cfg.window entries, indexed by seq % window */
    uint8_t *payloads; /* owned: cfg.window * cfg.max_packet octets */
    uint8_t *frame;    /* owned: cfg.max_frame octets, the frame handed out by pop */
    bool started;      /* a packet arrived: head and newest are set */
    bool consumed;     /* head has moved forward at least once */
    uint16_t head;     /* oldest sequence number not yet consumed */
    uint16_t newest;   /* newest sequence number received */
    bool discarding;   /* packets of the frame with discard_ts are being dropped */
    uint32_t discard_ts;
    bool broken; /* no key frame yet, or a loss since the last one */
    ovl_vp8_depacketizer_stats_t stats;
};

/* Signed distance a - b in sequence number space (RFC 3550 wrap-around). */
static int32_t seq_diff(uint16_t a, uint16_t b)
{
    int32_t d = (int32_t)((uint16_t)(a - b));
    return d >= 0x8000 ? d - 0x10000 : d;
}

static slot_t *slot_at(const ovl_vp8_depacketizer_t *d, uint16_t seq)
{
    return &d->slots[seq & (d->cfg.window - 1)];
}

static uint8_t *payload_at(const ovl_vp8_depacketizer_t *d, uint16_t seq)
{
    return d->payloads + (size_t)(seq & (d->cfg.window - 1)) * d->cfg.max_packet;
}

int ovl_vp8_depacketizer_new(const ovl_vp8_depacketizer_cfg_t *cfg, ovl_vp8_depacketizer_t **out)
{
    ovl_vp8_depacketizer_t *d = NULL;
    int ret;

    *out = NULL;
    if ((d = calloc(1, sizeof(*d))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    if (cfg != NULL)
        d->cfg = *cfg;
    if (d->cfg.max_frame == 0)
        d->cfg.max_frame = 512 * 1024;
    if (d->cfg.max_packet == 0)
        d->cfg.max_packet = 1500;
    if (d->cfg.window == 0)
        d->cfg.window = 512;
    if (d->cfg.reorder == 0)
        d->cfg.reorder = 32;
    ret = OVL_ERR_ARG;
    if (d->cfg.window < 16 || d->cfg.window > 16384 || (d->cfg.window & (d->cfg.window - 1)) != 0 ||
        d->cfg.reorder >= d->cfg.window || d->cfg.max_packet < 2 || d->cfg.max_packet > 65535 ||
        d->cfg.max_frame < d->cfg.max_packet)
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((d->slots = calloc(d->cfg.window, sizeof(*d->slots))) == NULL ||
        (d->payloads = malloc((size_t)d->cfg.window * d->cfg.max_packet)) == NULL ||
        (d->frame = malloc(d->cfg.max_frame)) == NULL)
        goto Exit;
    d->broken = true;
    *out = d;
    d = NULL;
    ret = 0;
Exit:
    ovl_vp8_depacketizer_free(d);
    return ret;
}

void ovl_vp8_depacketizer_free(ovl_vp8_depacketizer_t *d)
{
    if (d == NULL)
        return;
    free(d->frame);
    free(d->payloads);
    free(d->slots);
    free(d);
}

static void consume(ovl_vp8_depacketizer_t *d)
{
    slot_at(d, d->head)->used = false;
    d->head++;
    d->consumed = true;
}

/* Drops the n packets from head on, counting each frame they belong to once. */
static void discard(ovl_vp8_depacketizer_t *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const slot_t *s = slot_at(d, d->head);
        if (s->used && !s->filler && (!d->discarding || s->timestamp != d->discard_ts)) {
            d->stats.frames_incomplete++;
            d->discarding = true;
            d->discard_ts = s->timestamp;
        }
        if (!s->used)
            d->stats.lost++;
        d->broken = true;
        consume(d);
    }
}

/* Moves head forward to new_head, dropping whatever lies before it. */
static void advance(ovl_vp8_depacketizer_t *d, uint16_t new_head)
{
    uint32_t n = (uint16_t)(new_head - d->head);
    uint32_t in_window = n < d->cfg.window ? n : d->cfg.window;

    discard(d, in_window);
    d->stats.lost += n - in_window; /* beyond the window nothing can have been stored */
    d->head = new_head;
}

int ovl_vp8_depacketizer_push(ovl_vp8_depacketizer_t *d, uint16_t seq, bool marker, uint32_t timestamp,
                              const uint8_t *payload, size_t len)
{
    ovl_vp8_info_t info;

    memset(&info, 0, sizeof(info));
    d->stats.packets++;
    if (len > d->cfg.max_packet) {
        d->stats.malformed++;
        return OVL_ERR_LIMIT;
    }
    if (len > 0 && ovl_vp8_parse(payload, len, &info) != 0) {
        d->stats.malformed++;
        return OVL_ERR_PARSE;
    }
    if (!d->started) {
        d->started = true;
        d->head = d->newest = seq;
    }
    int32_t ahead = seq_diff(seq, d->head);
    if (ahead < 0) {
        /* Before anything was consumed, an earlier packet moves the start back (first packets
         * reordered); later it is too late. */
        if (d->consumed || seq_diff(d->newest, seq) >= (int32_t)d->cfg.window) {
            d->stats.late++;
            return OVL_ERR_REPLAY;
        }
        d->head = seq;
    } else if (ahead >= (int32_t)d->cfg.window) {
        advance(d, (uint16_t)(seq - d->cfg.window + 1));
    }
    slot_t *s = slot_at(d, seq);
    if (s->used) { /* every used slot holds a sequence number in [head, head + window) */
        d->stats.duplicates++;
        return OVL_ERR_REPLAY;
    }
    s->used = true;
    s->timestamp = timestamp;
    s->marker = marker;
    s->filler = len == 0;
    s->frame_start = info.frame_start;
    s->keyframe = info.keyframe;
    s->desc_len = (uint8_t)info.desc.len;
    s->len = (uint32_t)len;
    if (len > 0)
        memcpy(payload_at(d, seq), payload, len);
    if (seq_diff(seq, d->newest) > 0)
        d->newest = seq;
    return 0;
}

enum { SCAN_WAIT, SCAN_BROKEN, SCAN_COMPLETE };

/* From the frame start at head, finds the frame's last packet: *n packets, or *n to drop. */
static int scan_frame(const ovl_vp8_depacketizer_t *d, unsigned *n)
{
    uint32_t ts = slot_at(d, d->head)->timestamp;
    size_t bytes = 0;

    for (unsigned k = 0; k < d->cfg.window; k++) {
        uint16_t seq = (uint16_t)(d->head + k);
        const slot_t *s = slot_at(d, seq);
        *n = k;
        if (seq_diff(seq, d->newest) > 0)
            return SCAN_WAIT;
        if (!s->used)
            return seq_diff(d->newest, seq) >= (int32_t)d->cfg.reorder ? SCAN_BROKEN : SCAN_WAIT;
        if (s->filler || s->timestamp != ts) /* the frame ended without its marker packet */
            return SCAN_BROKEN;
        bytes += s->len - s->desc_len;
        *n = k + 1;
        if (bytes > d->cfg.max_frame)
            return SCAN_BROKEN;
        if (s->marker)
            return SCAN_COMPLETE;
    }
    return SCAN_BROKEN; /* not reached: newest - head < window */
}

static void emit(ovl_vp8_depacketizer_t *d, unsigned n, ovl_vp8_frame_t *out)
{
    ovl_vp8_info_t info;
    const slot_t *first = slot_at(d, d->head);

    /* The first packet parsed when it was pushed; parse it again for what the frame says. */
    (void)ovl_vp8_parse(payload_at(d, d->head), first->len, &info);
    out->timestamp = first->timestamp;
    out->first_seq = d->head;
    out->last_seq = (uint16_t)(d->head + n - 1);
    out->packets = n;
    out->keyframe = info.keyframe;
    out->width = info.width;
    out->height = info.height;
    out->has_picture_id = info.desc.has_picture_id;
    out->picture_id = info.desc.picture_id;
    for (unsigned i = 0; i < n; i++) {
        const slot_t *s = slot_at(d, d->head);
        memcpy(d->frame + out->len, payload_at(d, d->head) + s->desc_len, s->len - s->desc_len);
        out->len += s->len - s->desc_len;
        consume(d);
    }
    out->data = d->frame;
    if (out->keyframe) {
        d->broken = false;
        d->stats.keyframes++;
    }
    out->decodable = !d->broken;
    d->discarding = false;
    d->stats.frames++;
}

int ovl_vp8_depacketizer_pop(ovl_vp8_depacketizer_t *d, ovl_vp8_frame_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!d->started)
        return OVL_ERR_AGAIN;
    for (;;) {
        if (seq_diff(d->newest, d->head) < 0)
            return OVL_ERR_AGAIN; /* everything received was consumed */
        const slot_t *s = slot_at(d, d->head);
        if (!s->used) {
            if (seq_diff(d->newest, d->head) < (int32_t)d->cfg.reorder)
                return OVL_ERR_AGAIN; /* may still arrive */
            discard(d, 1);            /* given up: lost */
            continue;
        }
        if (s->filler) {
            consume(d);
            continue;
        }
        if (!s->frame_start || (d->discarding && s->timestamp == d->discard_ts)) {
            /* The rest of a frame whose start is gone; at the very beginning the start may still
             * come, reordered, until the reorder distance has passed. */
            if (!d->consumed && seq_diff(d->newest, d->head) < (int32_t)d->cfg.reorder)
                return OVL_ERR_AGAIN;
            discard(d, 1);
            continue;
        }
        unsigned n = 0;
        switch (scan_frame(d, &n)) {
        case SCAN_WAIT:
            return OVL_ERR_AGAIN;
        case SCAN_BROKEN:
            discard(d, n > 0 ? n : 1);
            continue;
        default:
            /* The very first frame: a delta frame may yet be preceded by reordered packets (and
             * cannot be decoded first anyway), so it waits out the reorder distance; a key frame
             * is a good start. */
            if (!d->consumed && !s->keyframe && seq_diff(d->newest, d->head) < (int32_t)d->cfg.reorder)
                return OVL_ERR_AGAIN;
            emit(d, n, out);
            return 0;
        }
    }
}

bool ovl_vp8_depacketizer_keyframe_needed(const ovl_vp8_depacketizer_t *d)
{
    return d->broken;
}

void ovl_vp8_depacketizer_get_stats(const ovl_vp8_depacketizer_t *d, ovl_vp8_depacketizer_stats_t *out)
{
    *out = d->stats;
}
