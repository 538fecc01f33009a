/*
 * Header extension mapping and block writing (RFC 8285). See ext.h.
 */
#include <string.h>
#include <strings.h>

#include "relay/route/ext.h"

static const struct {
    const char *uri;
    ovl_route_ext_policy_t policy;
} known[OVL_ROUTE_EXT_COUNT] = {
    [OVL_ROUTE_EXT_AUDIO_LEVEL] = {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", OVL_ROUTE_EXT_FORWARD},
    [OVL_ROUTE_EXT_ABS_SEND_TIME] = {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", OVL_ROUTE_EXT_RELAY},
    [OVL_ROUTE_EXT_TRANSPORT_CC] = {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                                    OVL_ROUTE_EXT_CONSUME},
    [OVL_ROUTE_EXT_MID] = {"urn:ietf:params:rtp-hdrext:sdes:mid", OVL_ROUTE_EXT_RELAY},
    [OVL_ROUTE_EXT_RID] = {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", OVL_ROUTE_EXT_CONSUME},
    [OVL_ROUTE_EXT_RRID] = {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", OVL_ROUTE_EXT_CONSUME},
    [OVL_ROUTE_EXT_TOFFSET] = {"urn:ietf:params:rtp-hdrext:toffset", OVL_ROUTE_EXT_FORWARD},
    [OVL_ROUTE_EXT_VIDEO_ORIENTATION] = {"urn:3gpp:video-orientation", OVL_ROUTE_EXT_FORWARD},
    [OVL_ROUTE_EXT_PLAYOUT_DELAY] = {"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
                                     OVL_ROUTE_EXT_FORWARD},
    [OVL_ROUTE_EXT_CONTENT_TYPE] = {"http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
                                    OVL_ROUTE_EXT_FORWARD},
    [OVL_ROUTE_EXT_COLOR_SPACE] = {"http://www.webrtc.org/experiments/rtp-hdrext/color-space", OVL_ROUTE_EXT_FORWARD},
};

ovl_route_ext_t ovl_route_ext_from_uri(const char *uri)
{
    for (int i = 0; i < OVL_ROUTE_EXT_COUNT; i++)
        if (strcmp(known[i].uri, uri) == 0)
            return (ovl_route_ext_t)i;
    return OVL_ROUTE_EXT_COUNT;
}

ovl_route_ext_policy_t ovl_route_ext_policy(ovl_route_ext_t ext)
{
    return ext < OVL_ROUTE_EXT_COUNT ? known[ext].policy : OVL_ROUTE_EXT_CONSUME;
}

static bool has_fb(const ovl_sdp_media_t *m, const ovl_sdp_codec_t *c, const char *fb)
{
    for (size_t i = 0; i < c->n_fb; i++)
        if (strcmp(c->fb[i], fb) == 0)
            return true;
    for (size_t i = 0; i < m->n_fb_any; i++)
        if (strcmp(m->fb_any[i], fb) == 0)
            return true;
    return false;
}

static bool is_rtx(const ovl_sdp_codec_t *c)
{
    return strcasecmp(c->name, "rtx") == 0;
}

void ovl_route_caps_from_sdp(ovl_route_caps_t *caps, const ovl_sdp_t *answer, ovl_sdp_kind_t kind)
{
    const ovl_sdp_media_t *m = NULL;
    const ovl_sdp_codec_t *main = NULL;
    memset(caps, 0, sizeof(*caps));
    for (size_t i = 0; i < answer->n_media && !m; i++)
        if (answer->media[i].kind == kind && !ovl_sdp_media_rejected(&answer->media[i]) &&
            answer->media[i].n_codecs > 0)
            m = &answer->media[i];
    if (!m)
        return;
    for (size_t i = 0; i < m->n_codecs && !main; i++)
        if (!is_rtx(&m->codecs[i]) && m->codecs[i].clock > 0)
            main = &m->codecs[i];
    if (!main)
        return;
    caps->ok = true;
    caps->pt = main->pt;
    caps->clock = main->clock;
    for (size_t i = 0; i < m->n_codecs; i++)
        if (is_rtx(&m->codecs[i]) && m->codecs[i].apt == (int)main->pt) {
            caps->has_rtx = true;
            caps->rtx_pt = m->codecs[i].pt;
        }
    caps->nack = has_fb(m, main, "nack");
    caps->pli = has_fb(m, main, "nack pli");
    caps->fir = has_fb(m, main, "ccm fir");
    caps->remb = has_fb(m, main, "goog-remb");
    caps->twcc = has_fb(m, main, "transport-cc");
    for (size_t i = 0; i < m->n_extmaps; i++) {
        const ovl_sdp_extmap_t *e = &m->extmaps[i];
        ovl_route_ext_t x = ovl_route_ext_from_uri(e->uri);
        if (x == OVL_ROUTE_EXT_COUNT || e->id == 0 || e->id > 255 || caps->id[x] || caps->ext_of[e->id])
            continue;
        caps->id[x] = (uint8_t)e->id;
        caps->ext_of[e->id] = (uint8_t)(x + 1);
        if (e->id > 14)
            caps->two_byte = true;
    }
}

/*
 * RFC 8285 §4.2 one-byte form and §4.3 two-byte form:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |       0xBE    |    0xDE       |           length=3            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
 *
 *  |       0x10    |    0x00       |           length=3            |
 *  |      ID       |     L=0       |     ID        |     L=1       |
 */
long ovl_route_ext_write_block(const ovl_route_caps_t *caps, const ovl_route_ext_val_t *vals, size_t n, uint8_t *out,
                               size_t cap)
{
    size_t len = 4;
    for (size_t i = 0; i < n; i++) {
        uint8_t id = vals[i].ext < OVL_ROUTE_EXT_COUNT ? caps->id[vals[i].ext] : 0;
        size_t need = (caps->two_byte ? 2u : 1u) + vals[i].len;
        if (!id || vals[i].len == 0 || vals[i].len > 16)
            continue;
        if (len + need > cap)
            return -1;
        if (caps->two_byte) {
            out[len] = id;
            out[len + 1] = vals[i].len;
        } else {
            out[len] = (uint8_t)(id << 4 | (vals[i].len - 1));
        }
        memcpy(out + len + need - vals[i].len, vals[i].data, vals[i].len);
        len += need;
    }
    if (len == 4)
        return 0;
    size_t padded = (len + 3) & ~(size_t)3;
    if (padded > cap)
        return -1;
    memset(out + len, 0, padded - len);
    out[0] = caps->two_byte ? 0x10 : 0xbe;
    out[1] = caps->two_byte ? 0x00 : 0xde;
    out[2] = (uint8_t)(((padded - 4) / 4) >> 8);
    out[3] = (uint8_t)((padded - 4) / 4);
    return (long)padded;
}
