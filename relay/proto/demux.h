/* RFC 7983 first-byte demultiplexing of packets that share one 5-tuple (ICE, DTLS, SRTP, SRTCP). */
#ifndef OVL_DEMUX_H
#define OVL_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum ovl_demux_kind {
    OVL_DEMUX_UNKNOWN = 0, /* drop it */
    OVL_DEMUX_STUN,
    OVL_DEMUX_DTLS,
    OVL_DEMUX_RTP,
    OVL_DEMUX_RTCP,
} ovl_demux_kind_t;

/**
 * Classifies one datagram (or one RFC 4571 frame) by its first byte (RFC 7983 §7) and, for
 * RTP/RTCP, by the payload type in its second byte (RFC 5761 §4: 192..223 is RTCP).
 * Pure function; an empty or too short packet is OVL_DEMUX_UNKNOWN.
 */
ovl_demux_kind_t ovl_demux_classify(const uint8_t *pkt, size_t len);

/** Stable name of a kind ("stun", "dtls", "rtp", "rtcp", "unknown"). */
const char *ovl_demux_kind_name(ovl_demux_kind_t kind);

#endif
