/*
 * What the synthetic peer's RTP streams share (media_sender.h, media_receiver.h): the media kinds and the
 * packet sizes. The streams sit between the codecs (video.h, audio.h, vp8_packetizer.h) and a transport:
 * frames in, RTP out, and back.
 */
#ifndef OVL_MEDIA_H
#define OVL_MEDIA_H

#include "relay/proto/srtp.h"

typedef enum ovl_media_kind {
    OVL_MEDIA_AUDIO = 0,
    OVL_MEDIA_VIDEO = 1,
} ovl_media_kind_t;

/* Largest plaintext RTP packet a stream builds or accepts (a 1200-octet payload plus headers fits easily). */
#define OVL_MEDIA_MAX_RTP 1500
/* A packet buffer a stream hands out: room for SRTP to protect the packet in place (srtp.h). */
#define OVL_MEDIA_BUF (OVL_MEDIA_MAX_RTP + OVL_SRTP_MAX_OVERHEAD)

/** Stable lower-case name of a kind ("audio", "video"). */
static inline const char *ovl_media_kind_name(ovl_media_kind_t kind)
{
    return kind == OVL_MEDIA_VIDEO ? "video" : "audio";
}

#endif
