/*
 * Nanoseconds per forwarded packet through the routing layer alone (no crypto, no sockets): one
 * publisher sends 1200-byte VP8 packets (with abs-send-time, transport-cc and mid extensions) to
 * N subscribers (N = 1, 4, 48), all negotiated from SDP the way a browser would. Each packet is
 * parsed once, kept in the retransmission buffer, and written afresh for every subscriber (SSRC,
 * sequence number, timestamp, payload type, extension block) into a buffer its sink lends.
 * Timers (reports, transport-cc feedback) run as a worker would run them. Median of 5 runs.
 * Not part of `make test`; `make bench` runs it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/proto/cursor.h"
#include "relay/proto/rtp.h"
#include "relay/proto/sdp.h"
#include "relay/proto/srtp.h"
#include "relay/route/route.h"

#define PACKETS 20000
#define RUNS    5
#define MAX_SUB 48

#define FP "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
#define TRANSPORT                                                                                                      \
    "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP          \
    "\r\na=setup:actpass\r\na=rtcp-mux\r\n"
#define EXTS                                                                                                           \
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"                                        \
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"                         \
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
#define VIDEO_CODECS                                                                                                   \
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\n"         \
    "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"

/* The publisher: opus and VP8 + RTX, sendrecv. */
static const char publisher_offer[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" TRANSPORT "a=mid:0\r\n" EXTS
    "a=sendrecv\r\na=msid:s a\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:1111 cname:pub\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" TRANSPORT "a=mid:1\r\n" EXTS "a=sendrecv\r\na=msid:s v\r\n" VIDEO_CODECS
    "a=ssrc-group:FID 2222 3333\r\na=ssrc:2222 cname:pub\r\na=ssrc:3333 cname:pub\r\n";

/* A receiver: one audio and one video transceiver, recvonly. */
static const char subscriber_offer[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" TRANSPORT "a=mid:0\r\n" EXTS "a=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" TRANSPORT "a=mid:1\r\n" EXTS "a=recvonly\r\n" VIDEO_CODECS;

typedef struct sink {
    uint8_t buf[OVL_ROUTE_MAX_PACKET + OVL_SRTP_MAX_OVERHEAD];
    uint64_t rtp, rtcp, bytes;
    ovl_route_participant_t *p;
    char *offer;
} sink_t;

static sink_t sinks[MAX_SUB + 1];

static int get_buffer(void *ctx, ovl_route_buf_t *out)
{
    sink_t *s = ctx;
    out->data = s->buf;
    out->cap = sizeof(s->buf);
    out->handle = s;
    return 0;
}

static void send_rtp(void *ctx, ovl_route_buf_t *buf, size_t len, bool is_audio)
{
    sink_t *s = ctx;
    (void)is_audio;
    s->rtp++;
    s->bytes += len + buf->data[len - 1]; /* read the last byte written */
}

static void send_rtcp(void *ctx, ovl_route_buf_t *buf, size_t len)
{
    sink_t *s = ctx;
    (void)buf;
    (void)len;
    s->rtcp++;
}

static void put_buffer(void *ctx, ovl_route_buf_t *buf)
{
    (void)ctx;
    (void)buf;
}

static void on_event(void *ctx, const ovl_route_event_t *ev)
{
    (void)ctx;
    if (ev->type == OVL_ROUTE_EV_SDP && strcmp(ev->u.sdp.type, "offer") == 0) {
        sink_t *s = &sinks[ev->participant];
        free(s->offer);
        s->offer = strdup(ev->u.sdp.text);
    }
}

/* What the browser answers to a relay offer. */
static int answer(sink_t *s, ovl_time_t now)
{
    ovl_sdp_t *sdp = NULL;
    static uint8_t text[1 << 17];
    ovl_wbuf_t w;
    int ret = ovl_sdp_parse(s->offer, strlen(s->offer), &sdp, NULL);
    free(s->offer);
    s->offer = NULL;
    if (ret != 0)
        return ret;
    for (size_t i = 0; i < sdp->n_media; i++) {
        ovl_sdp_media_t *m = &sdp->media[i];
        m->dir = m->dir == OVL_SDP_DIR_SENDONLY ? OVL_SDP_DIR_RECVONLY : m->dir;
        m->ice.setup = OVL_SDP_SETUP_ACTIVE;
    }
    sdp->ice_lite = false;
    ovl_wbuf_init(&w, text, sizeof(text));
    if ((ret = ovl_sdp_write(sdp, &w)) == 0)
        ret = ovl_route_participant_answer(s->p, (const char *)text, w.len, now);
    ovl_sdp_free(sdp);
    return ret;
}

static ovl_route_room_t *make_room(size_t n_sub, ovl_time_t now)
{
    ovl_route_room_config_t cfg = {.id = 1, .seed = 7, .max_participants = n_sub + 1, .on_event = on_event};
    ovl_sdp_candidate_t cand = {.foundation = "1", .component = 1, .priority = 1, .address = "192.0.2.1", .port = 9};
    ovl_sdp_local_t local = {.ice_ufrag = "eqg7",
                             .ice_pwd = "5jnH53D+n3m0+HsjEtJyjSng",
                             .session_id = 1,
                             .session_version = 2,
                             .candidates = &cand,
                             .n_candidates = 1};
    ovl_route_room_t *room;
    if (ovl_route_room_new(&cfg, &room) != 0)
        return NULL;
    for (size_t i = 0; i <= n_sub; i++) {
        ovl_route_sink_t sk = {get_buffer, send_rtp, send_rtcp, put_buffer, &sinks[i]};
        const char *offer = i == 0 ? publisher_offer : subscriber_offer;
        memset(&sinks[i], 0, sizeof(sinks[i]));
        if (ovl_route_participant_add(room, i, &sk, now, &sinks[i].p) != 0 ||
            ovl_route_participant_offer(sinks[i].p, offer, strlen(offer), &local, now) != 0)
            return NULL;
    }
    for (size_t i = 0; i <= n_sub; i++) {
        if (sinks[i].offer && answer(&sinks[i], now) != 0)
            return NULL;
        ovl_route_participant_set_connected(sinks[i].p, true, now);
    }
    return room;
}

/* A 1200-byte VP8 packet (RFC 7741 descriptor; a key frame's first packet when `key`). */
static size_t make_packet(uint8_t *out, uint16_t seq, uint32_t ts, uint16_t twcc, bool key)
{
    uint8_t abs[3] = {1, 2, 3}, tw[2] = {(uint8_t)(twcc >> 8), (uint8_t)twcc};
    ovl_rtp_ext_put_t ext[] = {{2, 3, abs}, {3, 2, tw}, {4, 1, (const uint8_t *)"1"}};
    ovl_rtp_hdr_t h = {.payload_type = 96, .seq = seq, .timestamp = ts, .ssrc = 2222};
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, out, 1200);
    ovl_rtp_build(&b, &h, ext, 3);
    static const uint8_t kf[] = {0x90, 0x80, 0x81, 0x23, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xa0, 0x00, 0x60, 0x00};
    static const uint8_t delta[] = {0x90, 0x80, 0x81, 0x24, 0x51, 0x02, 0x00};
    ovl_put_bytes(&b, key ? kf : delta, key ? sizeof(kf) : sizeof(delta));
    ovl_put_zeros(&b, 1200 - b.len);
    return b.len;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(size_t n_sub)
{
    ovl_time_t now = OVL_SEC(1000);
    double ns[RUNS];
    uint8_t pkt[1200];
    uint16_t seq = 1;
    ovl_route_room_t *room = make_room(n_sub, now);
    if (!room)
        return 1;
    size_t len = make_packet(pkt, seq, 0, seq, true);
    seq++;
    if (ovl_route_on_rtp(room, sinks[0].p, pkt, len, now) != 0)
        return 1;
    /* later packets: delta frames, changed in place (sequence number, timestamp, transport-wide number) */
    ovl_rtp_t view;
    ovl_rtp_ext_elem_t tw;
    len = make_packet(pkt, seq, 0, seq, false);
    if (ovl_rtp_parse(&view, pkt, len) != 0 || ovl_rtp_ext_find(&view, 3, &tw) != 0)
        return 1;
    for (int r = 0; r < RUNS; r++) {
        uint64_t before = 0, after = 0;
        for (size_t i = 1; i <= n_sub; i++)
            before += sinks[i].rtp;
        double t0 = now_ns();
        for (int i = 0; i < PACKETS; i++) {
            /* 2000 packets a second, a frame every 5 packets */
            ovl_store_u16(pkt + 2, seq);
            ovl_store_u32(pkt + 4, (uint32_t)(seq / 5) * 3000u);
            ovl_store_u16(pkt + tw.off, seq);
            seq++;
            now += 500;
            if (ovl_route_on_rtp(room, sinks[0].p, pkt, len, now) != 0)
                return 1;
            if (ovl_route_next_timeout(room) <= now)
                ovl_route_on_timeout(room, now);
        }
        double t1 = now_ns();
        for (size_t i = 1; i <= n_sub; i++)
            after += sinks[i].rtp;
        if (after - before != (uint64_t)PACKETS * n_sub)
            return 1;
        ns[r] = (t1 - t0) / ((double)PACKETS * (double)n_sub);
    }
    qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
    printf("route 1 -> %2zu subscribers: %7.1f ns per forwarded packet (median of %d; min %.1f, max %.1f), "
           "%.2f Mpkt/s out per core\n",
           n_sub, ns[RUNS / 2], RUNS, ns[0], ns[RUNS - 1], 1e3 / ns[RUNS / 2]);
    ovl_route_room_free(room);
    for (size_t i = 0; i <= n_sub; i++)
        free(sinks[i].offer);
    return 0;
}

int main(void)
{
    static const size_t subs[] = {1, 4, 48};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (bench(subs[i]) != 0) {
            fprintf(stderr, "bench_route: setup or forwarding failed for %zu subscribers\n", subs[i]);
            return 1;
        }
    return 0;
}
