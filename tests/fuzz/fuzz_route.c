/*
 * libFuzzer target: arbitrary RTP and RTCP into a room of two participants (set up once, from a
 * Chromium-shaped offer, each receiving the other's audio and video), with time moving on.
 *
 * Input: records of [op u8][len u16][len bytes]. op bit 0 picks the participant; bits 1-2:
 *   0  RTP packet from it
 *   1  RTCP compound from it
 *   2  timers: the clock moves by bytes[0] * 10 ms, then ovl_route_on_timeout
 *   3  RTCP from it about one of its consumers: bytes[0] picks the consumer's SSRC, which is
 *      written over the media SSRC field (offset 8) of the compound in bytes[1..]
 * Every record also moves the clock by 1 ms, then due timers run. Oracle: timers settle (no busy loop); everything the
 * relay writes parses (RTP with ovl_rtp_parse, RTCP compounds walk to their end) and fits its buffer with SRTP
 * tailroom.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/proto/rtp.h"
#include "relay/proto/sdp.h"
#include "relay/proto/srtp.h"
#include "relay/route/route.h"

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            __builtin_trap();                                                                                          \
    } while (0)

#define FP "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
#define TRANSPORT                                                                                                      \
    "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP          \
    "\r\na=setup:actpass\r\n"
#define EXTS                                                                                                           \
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"                                        \
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"                         \
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"

/* A Chromium-shaped first offer: opus (level 1), VP8 + RTX, both sendrecv, BUNDLEd. */
static const char offer_fmt[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=msid-semantic: WMS s\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" TRANSPORT "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" EXTS
    "a=sendrecv\r\na=msid:s a\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=ssrc:%u cname:c%u\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" TRANSPORT "a=mid:1\r\n" EXTS
    "a=sendrecv\r\na=msid:s v\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID %u %u\r\na=ssrc:%u cname:c%u\r\n"
    "a=ssrc:%u cname:c%u\r\n";

typedef struct peer {
    ovl_route_participant_t *p;
    uint64_t id;
    char *offer;
    uint32_t consumers[8];
    size_t n_consumers;
} peer_t;

static ovl_route_room_t *room;
static peer_t peers[2];
static ovl_time_t now = OVL_SEC(100);
static uint8_t buf[OVL_ROUTE_MAX_PACKET + OVL_SRTP_MAX_OVERHEAD];
static bool lent;

static int get_buffer(void *ctx, ovl_route_buf_t *out)
{
    (void)ctx;
    CHECK(!lent); /* the room uses one buffer at a time per call path */
    lent = true;
    out->data = buf;
    out->cap = sizeof(buf);
    out->handle = buf;
    return 0;
}

static void give_back(ovl_route_buf_t *b, size_t len)
{
    CHECK(lent && b->data == buf && b->handle == buf);
    CHECK(len + OVL_SRTP_MAX_OVERHEAD <= b->cap);
    lent = false;
}

static void send_rtp(void *ctx, ovl_route_buf_t *b, size_t len, bool is_audio)
{
    ovl_rtp_t r;
    (void)ctx;
    (void)is_audio;
    CHECK(ovl_rtp_parse(&r, b->data, len) == 0);
    give_back(b, len);
}

static void send_rtcp(void *ctx, ovl_route_buf_t *b, size_t len)
{
    ovl_rtcp_iter_t it;
    ovl_rtcp_msg_t m;
    (void)ctx;
    ovl_rtcp_iter_init(&it, b->data, len);
    while (ovl_rtcp_next(&it, &m) == 0)
        CHECK(m.kind != OVL_RTCP_MALFORMED);
    CHECK(it.err == OVL_ERR_NOTFOUND);
    give_back(b, len);
}

static void put_buffer(void *ctx, ovl_route_buf_t *b)
{
    (void)ctx;
    give_back(b, 0);
}

static void on_event(void *ctx, const ovl_route_event_t *ev)
{
    (void)ctx;
    if (ev->type != OVL_ROUTE_EV_SDP || strcmp(ev->u.sdp.type, "offer") != 0)
        return;
    for (size_t i = 0; i < 2; i++)
        if (peers[i].id == ev->participant) {
            free(peers[i].offer);
            peers[i].offer = strdup(ev->u.sdp.text);
        }
}

/* The browser's answer: directions mirrored, DTLS active; the consumers' SSRCs noted. */
static void answer(peer_t *pe)
{
    ovl_sdp_t *sdp = NULL;
    static uint8_t text[65536];
    ovl_wbuf_t w;
    char *offer = pe->offer;
    pe->offer = NULL;
    CHECK(ovl_sdp_parse(offer, strlen(offer), &sdp, NULL) == 0);
    sdp->ice_lite = false;
    for (size_t i = 0; i < sdp->n_media; i++) {
        ovl_sdp_media_t *m = &sdp->media[i];
        if (m->dir == OVL_SDP_DIR_SENDONLY)
            for (size_t k = 0; k < m->n_ssrcs && pe->n_consumers < 8; k++)
                if (strcmp(m->ssrcs[k].attr, "cname") == 0)
                    pe->consumers[pe->n_consumers++] = m->ssrcs[k].ssrc;
        m->dir = m->dir == OVL_SDP_DIR_SENDONLY ? OVL_SDP_DIR_RECVONLY : OVL_SDP_DIR_SENDONLY;
        m->ice.setup = OVL_SDP_SETUP_ACTIVE;
    }
    ovl_wbuf_init(&w, text, sizeof(text));
    CHECK(ovl_sdp_write(sdp, &w) == 0);
    CHECK(ovl_route_participant_answer(pe->p, (const char *)text, w.len, now) == 0);
    ovl_sdp_free(sdp);
    free(offer);
}

static void setup(void)
{
    ovl_route_room_config_t cfg = {.id = 1, .seed = 1, .max_participants = 2, .on_event = on_event};
    ovl_sdp_candidate_t cand = {.foundation = "1", .component = 1, .priority = 1, .address = "192.0.2.1", .port = 9};
    ovl_sdp_local_t local = {.ice_ufrag = "eqg7",
                             .ice_pwd = "5jnH53D+n3m0+HsjEtJyjSng",
                             .session_id = 1,
                             .session_version = 2,
                             .candidates = &cand,
                             .n_candidates = 1};
    ovl_route_sink_t sink = {get_buffer, send_rtp, send_rtcp, put_buffer, NULL};
    char offer[8192];
    CHECK(ovl_route_room_new(&cfg, &room) == 0);
    for (uint32_t i = 0; i < 2; i++) {
        uint32_t a = 0x11111111u * (3 * i + 1), v = 0x11111111u * (3 * i + 2), r = 0x11111111u * (3 * i + 3);
        peers[i].id = i + 1;
        CHECK(ovl_route_participant_add(room, i + 1, &sink, now, &peers[i].p) == 0);
        int n = snprintf(offer, sizeof(offer), offer_fmt, a, i, v, r, v, i, r, i);
        CHECK(n > 0 && (size_t)n < sizeof(offer));
        CHECK(ovl_route_participant_offer(peers[i].p, offer, (size_t)n, &local, now) == 0);
    }
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < 2; i++)
            if (peers[i].offer)
                answer(&peers[i]);
    for (size_t i = 0; i < 2; i++) {
        CHECK(peers[i].n_consumers == 3); /* audio, video, video RTX */
        ovl_route_participant_set_connected(peers[i].p, true, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[4096];
    if (!room)
        setup();
    while (size >= 3) {
        uint8_t op = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        peer_t *pe = &peers[op & 1];
        memcpy(pkt, data, len);
        now += OVL_MS(1);
        switch ((op >> 1) & 3) {
        case 0:
            ovl_route_on_rtp(room, pe->p, pkt, len, now);
            break;
        case 1:
            ovl_route_on_rtcp(room, pe->p, pkt, len, now);
            break;
        case 2:
            now += OVL_MS(10) * (len ? pkt[0] : 1);
            break;
        default:
            if (len >= 13) {
                uint32_t ssrc = pe->consumers[pkt[0] % pe->n_consumers];
                pkt[9] = (uint8_t)(ssrc >> 24), pkt[10] = (uint8_t)(ssrc >> 16);
                pkt[11] = (uint8_t)(ssrc >> 8), pkt[12] = (uint8_t)ssrc;
                ovl_route_on_rtcp(room, pe->p, pkt + 1, len - 1, now);
            }
            break;
        }
        /* what on_timeout schedules for `now` itself (a track going live) settles in one more call */
        for (int k = 0; ovl_route_next_timeout(room) <= now; k++) {
            CHECK(k < 3);
            ovl_route_on_timeout(room, now);
        }
        CHECK(!lent);
        data += len;
        size -= len;
    }
    return 0;
}
