#include "relay/proto/demux.h"

/*
 * RFC 7983 §7:
 *
 *                  +----------------+
 *                  |        [0..3] -+--> forward to STUN
 *                  |                |
 *                  |      [16..19] -+--> forward to ZRTP
 *                  |                |
 *      packet -->  |      [20..63] -+--> forward to DTLS
 *                  |                |
 *                  |      [64..79] -+--> forward to TURN Channel
 *                  |                |
 *                  |    [128..191] -+--> forward to RTP/RTCP
 *                  +----------------+
 *
 * ZRTP and TURN channel data are not used by Overleg and classify as unknown.
 */
ovl_demux_kind_t ovl_demux_classify(const uint8_t *pkt, size_t len)
{
    if (len == 0)
        return OVL_DEMUX_UNKNOWN;
    uint8_t b = pkt[0];
    if (b <= 3)
        return len >= 20 ? OVL_DEMUX_STUN : OVL_DEMUX_UNKNOWN;
    if (b >= 20 && b <= 63)
        return len >= 13 ? OVL_DEMUX_DTLS : OVL_DEMUX_UNKNOWN;
    if (b >= 128 && b <= 191) {
        if (len < 8)
            return OVL_DEMUX_UNKNOWN;
        /* RFC 5761 §4: RTCP packet types 192..223 (SR=200, RR=201, ...) collide with RTP payload
         * types 64..95 once the marker bit is included, so those payload types are never used. */
        uint8_t pt = pkt[1];
        if (pt >= 192 && pt <= 223)
            return OVL_DEMUX_RTCP;
        return len >= 12 ? OVL_DEMUX_RTP : OVL_DEMUX_UNKNOWN;
    }
    return OVL_DEMUX_UNKNOWN;
}

const char *ovl_demux_kind_name(ovl_demux_kind_t kind)
{
    switch (kind) {
    case OVL_DEMUX_STUN:
        return "stun";
    case OVL_DEMUX_DTLS:
        return "dtls";
    case OVL_DEMUX_RTP:
        return "rtp";
    case OVL_DEMUX_RTCP:
        return "rtcp";
    default:
        return "unknown";
    }
}
