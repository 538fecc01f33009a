/*
 * SDP parser and writer (RFC 8866; WebRTC attributes per the RFCs cited at each test) on SDP captured from
 * Chromium 156 and Firefox 60/68 (tests/data/, see capture-sdp.mjs and each file's header). The expected values
 * below are those of the committed captures: after re-running capture-sdp.mjs, update them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/sdp.h"
#include "tests/unit/test_sdp_util.h"

/* ---- parsing captured SDP ---- */

static const char *const captures[] = {
    "chromium-offer-av-screen.sdp",       "chromium-offer-simulcast.sdp",
    "chromium-offer-recvonly.sdp",        "chromium-offer-datachannel.sdp",
    "chromium-answer-to-relay-offer.sdp", "relay-offer.sdp",
    "firefox68-offer-audio.sdp",          "firefox60-offer-simulcast.sdp",
    "chromium-offer-builder-check.sdp",   "chromium-answer-to-built-reoffer.sdp",
};

/* Every capture parses, round-trips to an equal model and byte-identical rewrite, and duplicates equal. */
static void test_captures_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < OVL_ARRAY_LEN(captures); i++) {
        ovl_sdp_t *sdp = parse_file(captures[i]), *copy = NULL;
        assert_round_trip(sdp, captures[i]);
        assert_int_equal(ovl_sdp_dup(sdp, &copy), 0);
        assert_models_equal(sdp, copy, captures[i]);
        ovl_sdp_free(copy);
        ovl_sdp_free(sdp);
    }
}

/* Chromium offer: audio + camera sendrecv + screen slot sendonly (RFC 9429 §5.2.1 shape). */
static void test_chromium_offer_fields(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-offer-av-screen.sdp");
    assert_int_equal(sdp->sess_id, 2735310270069873087ull);
    assert_int_equal(sdp->sess_version, 2);
    assert_string_equal(sdp->origin_addr, "127.0.0.1");
    assert_true(sdp->extmap_allow_mixed);
    assert_string_equal(sdp->msid_semantic, " WMS 10ec8d58-47c6-4845-9cf1-f859c26b5382");
    const ovl_sdp_group_t *b = ovl_sdp_bundle(sdp);
    assert_non_null(b);
    assert_int_equal(b->n_mids, 3);
    assert_string_equal(b->mids[0], "0");
    assert_string_equal(b->mids[2], "2");
    assert_int_equal(sdp->n_media, 3);

    const ovl_sdp_media_t *a = &sdp->media[0], *s = &sdp->media[2];
    assert_int_equal(sdp->media[1].kind, OVL_SDP_KIND_VIDEO);
    assert_int_equal(a->kind, OVL_SDP_KIND_AUDIO);
    assert_int_equal(a->port, 50565);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_string_equal(a->conn_addr, "192.0.2.2");
    assert_string_equal(a->mid, "0");
    assert_int_equal(a->dir, OVL_SDP_DIR_SENDRECV);
    assert_int_equal(s->dir, OVL_SDP_DIR_SENDONLY);
    assert_true(a->rtcp_mux && a->rtcp_rsize);
    assert_string_equal(a->ice.ufrag, "ISzb");
    assert_string_equal(a->ice.pwd, "bXTopi0ZIafeG+ehtorQeg73");
    assert_string_equal(a->ice.options, "trickle");
    assert_int_equal(a->ice.setup, OVL_SDP_SETUP_ACTPASS);
    assert_int_equal(a->ice.n_fingerprints, 1);
    assert_fp(&a->ice.fingerprints[0],
              "58:C4:CE:1D:C6:EF:AC:AD:36:EE:66:C2:3C:42:FE:84:A8:AB:89:89:7D:63:5D:2B:39:7B:36:C0:24:EF:1F:F0");

    static const unsigned audio_pts[] = {111, 63, 9, 0, 8, 13, 110, 126};
    assert_pts(a, audio_pts, OVL_ARRAY_LEN(audio_pts));
    const ovl_sdp_codec_t *opus = ovl_sdp_find_codec(a, 111), *red = ovl_sdp_find_codec(a, 63);
    assert_string_equal(opus->name, "opus");
    assert_int_equal(opus->clock, 48000);
    assert_int_equal(opus->channels, 2);
    assert_string_equal(opus->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(opus->apt, -1);
    assert_int_equal(opus->n_fb, 1);
    assert_string_equal(opus->fb[0], "transport-cc");
    assert_string_equal(red->fmtp, "111/111");
    assert_string_equal(ovl_sdp_find_codec(a, 0)->name, "PCMU");
    assert_int_equal(ovl_sdp_find_codec(a, 0)->channels, 0);
    ovl_sdp_free(sdp);
}

/* Chromium offer, camera section: codecs (RFC 8866 §6.6 rtpmap, §6.15 fmtp, RFC 4585 rtcp-fb) and extmaps. */
static void test_chromium_offer_video(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-offer-av-screen.sdp");
    const ovl_sdp_media_t *a = &sdp->media[0], *v = &sdp->media[1];
    /* RFC 4588 §8.6: each rtx names its payload type with apt. */
    static const unsigned video_pts[] = {96, 97, 102, 103, 104, 107, 108, 109, 114, 115, 116, 117,
                                         39, 40, 45,  46,  98,  99,  100, 101, 118, 119, 120};
    assert_pts(v, video_pts, OVL_ARRAY_LEN(video_pts));
    const ovl_sdp_codec_t *vp8 = ovl_sdp_find_codec(v, 96), *rtx = ovl_sdp_find_codec(v, 97);
    assert_string_equal(vp8->name, "VP8");
    assert_int_equal(vp8->clock, 90000);
    assert_int_equal(vp8->n_fb, 5);
    assert_string_equal(vp8->fb[2], "ccm fir");
    assert_string_equal(vp8->fb[4], "nack pli");
    assert_null(vp8->fmtp);
    assert_string_equal(rtx->name, "rtx");
    assert_int_equal(rtx->apt, 96);
    assert_null(rtx->fmtp);
    assert_int_equal(ovl_sdp_find_codec(v, 103)->apt, 102);
    assert_string_equal(ovl_sdp_find_codec(v, 102)->fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
    assert_int_equal(ovl_sdp_find_codec(v, 119)->apt, 118);
    assert_string_equal(ovl_sdp_find_codec(v, 120)->name, "ulpfec");

    /* RFC 8285 §8 */
    assert_int_equal(a->n_extmaps, 4);
    assert_int_equal(find_ext(a, "urn:ietf:params:rtp-hdrext:ssrc-audio-level")->id, 1);
    assert_int_equal(v->n_extmaps, 11);
    assert_int_equal(v->extmaps[0].id, 14);
    assert_string_equal(v->extmaps[0].uri, "urn:ietf:params:rtp-hdrext:toffset");
    assert_int_equal(find_ext(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->id, 10);
    assert_int_equal(v->extmaps[0].dir, OVL_SDP_DIR_NONE);
    ovl_sdp_free(sdp);
}

/* Chromium offer: streams and candidates, and the attributes the model keeps as text. */
static void test_chromium_offer_streams(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-offer-av-screen.sdp");
    const ovl_sdp_media_t *a = &sdp->media[0], *v = &sdp->media[1];
    /* RFC 8830 msid, RFC 5576 ssrc and FID group */
    assert_int_equal(v->n_msids, 1);
    assert_string_equal(v->msids[0].stream, "10ec8d58-47c6-4845-9cf1-f859c26b5382");
    assert_string_equal(v->msids[0].track, "f112cf2e-5aff-4aca-90e5-f981743aef8d");
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_string_equal(v->ssrc_groups[0].semantics, "FID");
    assert_int_equal(v->ssrc_groups[0].n_ssrcs, 2);
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], 3620418310u);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 3276133668u);
    assert_int_equal(v->n_ssrcs, 4);
    assert_int_equal(v->ssrcs[0].ssrc, 3620418310u);
    assert_string_equal(v->ssrcs[0].attr, "cname");
    assert_string_equal(v->ssrcs[0].value, "K+h6bBC9cfxWO5Y2");
    assert_string_equal(v->ssrcs[1].attr, "msid");
    assert_string_equal(v->ssrcs[1].value, "10ec8d58-47c6-4845-9cf1-f859c26b5382 f112cf2e-5aff-4aca-90e5-f981743aef8d");

    /* RFC 8839 §5.1 candidates, RFC 6544 tcptype */
    assert_int_equal(a->n_candidates, 4);
    assert_int_equal(v->n_candidates, 0);
    const ovl_sdp_candidate_t *c0 = &a->candidates[0], *c1 = &a->candidates[1], *c2 = &a->candidates[2];
    assert_string_equal(c0->foundation, "1382567261");
    assert_int_equal(c0->component, 1);
    assert_int_equal(c0->proto, OVL_SDP_CAND_UDP);
    assert_int_equal(c0->priority, 2122194687u);
    assert_string_equal(c0->address, "192.0.2.2");
    assert_int_equal(c0->port, 50565);
    assert_int_equal(c0->type, OVL_SDP_CAND_HOST);
    assert_true(c0->has_generation && c0->generation == 0);
    assert_true(c0->has_network_id && c0->network_id == 1);
    assert_false(c0->has_network_cost);
    assert_int_equal(c0->tcptype, OVL_SDP_TCPTYPE_NONE);
    assert_string_equal(c1->address, "fd00::2");
    assert_int_equal(c2->proto, OVL_SDP_CAND_TCP);
    assert_int_equal(c2->port, 9);
    assert_int_equal(c2->tcptype, OVL_SDP_TCPTYPE_ACTIVE);
    assert_null(c2->ext);

    /* Unknown attributes are kept in order. */
    assert_int_equal(a->n_attrs, 2);
    assert_string_equal(a->attrs[0].name, "rtcp");
    assert_string_equal(a->attrs[0].value, "9 IN IP4 0.0.0.0");
    assert_string_equal(a->attrs[1].name, "rtcp-xr");
    assert_string_equal(a->attrs[1].value, "rcvr-rtt=all");
    ovl_sdp_free(sdp);
}

/* RFC 8851 rid + RFC 8853 simulcast from sendEncodings, no SSRCs signalled for the video. */
static void test_chromium_simulcast_fields(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-offer-simulcast.sdp");
    const ovl_sdp_media_t *v = &sdp->media[1];
    assert_int_equal(v->dir, OVL_SDP_DIR_SENDONLY);
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->rids[0].id, "q");
    assert_string_equal(v->rids[2].id, "f");
    assert_true(v->rids[1].send);
    assert_null(v->rids[1].params);
    assert_non_null(v->simulcast);
    assert_int_equal(v->simulcast->send.n_streams, 3);
    assert_int_equal(v->simulcast->recv.n_streams, 0);
    assert_string_equal(v->simulcast->send.streams[1].alts[0].rid, "h");
    assert_int_equal(v->simulcast->send.streams[1].n_alts, 1);
    assert_false(v->simulcast->send.streams[1].alts[0].paused);
    assert_int_equal(v->n_ssrcs, 0);
    assert_non_null(
        find_ext(v, "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"));
    ovl_sdp_free(sdp);
}

static void test_chromium_recvonly_and_datachannel(void **state)
{
    (void)state;
    ovl_sdp_t *r = parse_file("chromium-offer-recvonly.sdp");
    assert_int_equal(r->n_media, 2);
    assert_int_equal(r->media[0].dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(r->media[1].dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(r->media[1].n_codecs, 34);
    assert_int_equal(r->media[0].n_msids, 0);
    assert_string_equal(r->msid_semantic, " WMS");
    ovl_sdp_free(r);

    ovl_sdp_t *d = parse_file("chromium-offer-datachannel.sdp");
    assert_int_equal(d->n_media, 2);
    const ovl_sdp_media_t *app = &d->media[1];
    assert_int_equal(app->kind, OVL_SDP_KIND_APPLICATION);
    assert_string_equal(app->proto, "UDP/DTLS/SCTP");
    assert_string_equal(app->fmt, "webrtc-datachannel");
    assert_int_equal(app->n_codecs, 0);
    assert_string_equal(app->mid, "1");
    assert_string_equal(find_attr(app->attrs, app->n_attrs, "sctp-port")->value, "5000");
    assert_string_equal(find_attr(app->attrs, app->n_attrs, "max-message-size")->value, "262144");
    ovl_sdp_free(d);
}

/* Firefox 68: session-level fingerprint and direction, upper-case transports, RTCP component 2, extmap direction. */
static void test_firefox68_fields(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("firefox68-offer-audio.sdp");
    assert_string_equal(sdp->origin_user, "mozilla...THIS_IS_SDPARTA-68.0");
    assert_int_equal(sdp->sess_id, 2393971413639877335ull);
    assert_int_equal(sdp->dir, OVL_SDP_DIR_SENDRECV);
    assert_int_equal(sdp->ice.n_fingerprints, 1);
    assert_fp(&sdp->ice.fingerprints[0],
              "CC:36:DF:9C:6B:29:47:32:6B:D9:DE:86:A9:81:28:EF:91:92:14:07:A3:C6:BD:DB:AE:8E:B7:4B:D6:91:35:F8");
    assert_string_equal(sdp->ice.options, "trickle");
    assert_string_equal(sdp->msid_semantic, "WMS *");
    const ovl_sdp_media_t *a = &sdp->media[0];
    assert_int_equal(a->ice.n_fingerprints, 0);
    ovl_sdp_transport_t t;
    ovl_sdp_media_transport(sdp, a, &t);
    assert_int_equal(t.n_fingerprints, 1);
    assert_string_equal(t.ufrag, "7848ec25");
    assert_string_equal(t.pwd, "f33756ad90c1fd221cd854e713fc8305");
    assert_int_equal(t.setup, OVL_SDP_SETUP_ACTPASS);
    assert_string_equal(t.options, "trickle");
    assert_int_equal(a->n_candidates, 20);
    assert_int_equal(a->candidates[0].proto, OVL_SDP_CAND_UDP);
    assert_int_equal(a->candidates[5].proto, OVL_SDP_CAND_TCP);
    assert_int_equal(a->candidates[5].tcptype, OVL_SDP_TCPTYPE_ACTIVE);
    assert_int_equal(a->candidates[10].component, 2);
    assert_string_equal(a->candidates[4].address, "2406:3003:2005:244:4ac1:faa5:1124:9fe7");
    const ovl_sdp_extmap_t *csrc = find_ext(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
    assert_int_equal(csrc->id, 2);
    assert_int_equal(csrc->dir, OVL_SDP_DIR_RECVONLY);
    assert_string_equal(ovl_sdp_find_codec(a, 109)->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
    assert_int_equal(ovl_sdp_find_codec(a, 9)->channels, 1);
    assert_string_equal(ovl_sdp_find_codec(a, 101)->fmtp, "0-15");
    assert_string_equal(a->msids[0].stream, "{57d4cf19-0b61-4e63-a6a9-5f04d39c2759}");
    assert_string_equal(a->ssrcs[0].value, "{b84520ee-2443-4f01-a9b1-dcfea71e9c42}");
    assert_string_equal(find_attr(a->attrs, a->n_attrs, "rtcp")->value, "47797 IN IP4 192.168.1.217");
    assert_int_equal(ovl_sdp_media_dir(sdp, a), OVL_SDP_DIR_SENDRECV);
    ovl_sdp_free(sdp);
}

/* Firefox 60 (LF line endings): simulcast with rids a/b/c, mid sdparta_0, extmap 4/sendonly, msid "-". */
static void test_firefox60_fields(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("firefox60-offer-simulcast.sdp");
    const ovl_sdp_group_t *b = ovl_sdp_bundle(sdp);
    assert_string_equal(b->mids[0], "sdparta_0");
    const ovl_sdp_media_t *v = ovl_sdp_find_mid(sdp, "sdparta_0");
    assert_non_null(v);
    assert_int_equal(v->kind, OVL_SDP_KIND_VIDEO);
    static const unsigned pts[] = {120, 121, 126, 97};
    assert_pts(v, pts, 4);
    assert_string_equal(ovl_sdp_find_codec(v, 120)->fmtp, "max-fs=12288;max-fr=60");
    assert_int_equal(ovl_sdp_find_codec(v, 120)->n_fb, 4);
    assert_int_equal(find_ext(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->dir, OVL_SDP_DIR_SENDONLY);
    assert_string_equal(v->msids[0].stream, "-");
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->simulcast->send.streams[2].alts[0].rid, "c");
    assert_int_equal(v->n_ssrcs, 3);
    assert_int_equal(v->ice.n_fingerprints, 0);
    assert_int_equal(sdp->ice.n_fingerprints, 1);
    ovl_sdp_free(sdp);
}

/* Chromium's answer to the relay-style offer: setup:active, nothing to send on the relay's recvonly sections. */
static void test_chromium_answer_fields(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-answer-to-relay-offer.sdp");
    static const ovl_sdp_dir_t dirs[] = {OVL_SDP_DIR_INACTIVE, OVL_SDP_DIR_INACTIVE, OVL_SDP_DIR_INACTIVE,
                                         OVL_SDP_DIR_RECVONLY, OVL_SDP_DIR_RECVONLY};
    assert_int_equal(sdp->n_media, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sdp->media[i].dir, dirs[i]);
        assert_int_equal(sdp->media[i].ice.setup, OVL_SDP_SETUP_ACTIVE);
    }
    assert_int_equal(ovl_sdp_find_codec(&sdp->media[4], 97)->apt, 96);
    assert_int_equal(ovl_sdp_bundle(sdp)->n_mids, 5);
    ovl_sdp_free(sdp);

    /* The renegotiation as it happens: the client that sends on 0-2 answers the relay's built offer. */
    sdp = parse_file("chromium-answer-to-built-reoffer.sdp");
    static const ovl_sdp_dir_t dirs2[] = {OVL_SDP_DIR_SENDONLY, OVL_SDP_DIR_SENDONLY, OVL_SDP_DIR_SENDONLY,
                                          OVL_SDP_DIR_RECVONLY, OVL_SDP_DIR_RECVONLY};
    assert_int_equal(sdp->n_media, 5);
    assert_int_equal(sdp->sess_version, 3);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sdp->media[i].dir, dirs2[i]);
        assert_int_equal(sdp->media[i].ice.setup, OVL_SDP_SETUP_ACTIVE);
    }
    assert_int_equal(sdp->media[1].n_ssrc_groups, 1);
    assert_string_equal(sdp->media[1].ssrc_groups[0].semantics, "FID");
    assert_int_equal(sdp->media[1].ssrc_groups[0].ssrcs[0], 997445371u);
    assert_int_equal(sdp->media[3].n_ssrcs, 0);
    ovl_sdp_free(sdp);
}

/* ---- malformed input ---- */

struct bad_case {
    const char *what;
    const char *text;
    int ret;
    size_t line;
};

#define HEAD  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

static const struct bad_case bad_cases[] = {
    {"empty input", "", OVL_ERR_PARSE, 0},
    {"version 1", "v=1\r\n", OVL_ERR_PARSE, 1},
    {"o= missing", "v=0\r\ns=-\r\nt=0 0\r\n", OVL_ERR_PARSE, 0},
    {"t= missing", "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\n", OVL_ERR_PARSE, 0},
    {"second v=", HEAD "v=0\r\n", OVL_ERR_PARSE, 5},
    {"truncated o=", "v=0\r\no=- 1 2 IN\r\n", OVL_ERR_PARSE, 2},
    {"sess-id beyond 64 bits", "v=0\r\no=- 18446744073709551616 2 IN IP4 0.0.0.0\r\n", OVL_ERR_PARSE, 2},
    {"negative number", "v=0\r\no=- -1 2 IN IP4 0.0.0.0\r\n", OVL_ERR_PARSE, 2},
    {"nettype not IN", "v=0\r\no=- 1 2 XX IP4 0.0.0.0\r\n", OVL_ERR_PARSE, 2},
    {"no '=' in line", HEAD "garbage\r\n", OVL_ERR_PARSE, 5},
    {"unknown line type", HEAD "x=1\r\n", OVL_ERR_PARSE, 5},
    {"upper-case line type", HEAD "A=rtcp-mux\r\n", OVL_ERR_PARSE, 5},
    {"m= without port", HEAD "m=audio\r\n", OVL_ERR_PARSE, 5},
    {"m= without proto", HEAD "m=audio 9\r\n", OVL_ERR_PARSE, 5},
    {"m= without format", HEAD "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", OVL_ERR_PARSE, 5},
    {"port 65536", HEAD "m=audio 65536 UDP/TLS/RTP/SAVPF 111\r\n", OVL_ERR_PARSE, 5},
    {"port/count", HEAD "m=audio 9/2 UDP/TLS/RTP/SAVPF 111\r\n", OVL_ERR_PARSE, 5},
    {"payload type 128", HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 128\r\n", OVL_ERR_PARSE, 5},
    {"payload type twice", HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111 111\r\n", OVL_ERR_PARSE, 5},
    {"rtpmap truncated", HEAD AUDIO "a=rtpmap:111\r\n", OVL_ERR_PARSE, 6},
    {"rtpmap without clock", HEAD AUDIO "a=rtpmap:111 opus\r\n", OVL_ERR_PARSE, 6},
    {"rtpmap clock beyond 32 bits", HEAD AUDIO "a=rtpmap:111 opus/4294967296\r\n", OVL_ERR_PARSE, 6},
    {"rtpmap channels 0", HEAD AUDIO "a=rtpmap:111 opus/48000/0\r\n", OVL_ERR_PARSE, 6},
    {"rtpmap twice", HEAD AUDIO "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2\r\n", OVL_ERR_PARSE, 7},
    {"fmtp without params", HEAD AUDIO "a=fmtp:111\r\n", OVL_ERR_PARSE, 6},
    {"fmtp apt not a number", HEAD AUDIO "a=fmtp:111 apt=x\r\n", OVL_ERR_PARSE, 6},
    {"fmtp apt 200", HEAD AUDIO "a=fmtp:111 apt=200\r\n", OVL_ERR_PARSE, 6},
    {"rtcp-fb empty", HEAD AUDIO "a=rtcp-fb:111\r\n", OVL_ERR_PARSE, 6},
    {"ssrc beyond 32 bits", HEAD AUDIO "a=ssrc:4294967296 cname:x\r\n", OVL_ERR_PARSE, 6},
    {"ssrc without attribute", HEAD AUDIO "a=ssrc:1\r\n", OVL_ERR_PARSE, 6},
    {"ssrc-group empty", HEAD AUDIO "a=ssrc-group:FID\r\n", OVL_ERR_PARSE, 6},
    {"extmap id 0", HEAD AUDIO "a=extmap:0 urn:x\r\n", OVL_ERR_PARSE, 6},
    {"extmap id 256", HEAD AUDIO "a=extmap:256 urn:x\r\n", OVL_ERR_PARSE, 6},
    {"extmap direction", HEAD AUDIO "a=extmap:1/up urn:x\r\n", OVL_ERR_PARSE, 6},
    {"extmap id twice", HEAD AUDIO "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", OVL_ERR_PARSE, 7},
    {"extmap without uri", HEAD AUDIO "a=extmap:1\r\n", OVL_ERR_PARSE, 6},
    {"mid twice", HEAD AUDIO "a=mid:0\r\na=mid:1\r\n", OVL_ERR_PARSE, 7},
    {"mid in two sections", HEAD AUDIO "a=mid:0\r\n" AUDIO "a=mid:0\r\n", OVL_ERR_PARSE, 8},
    {"mid with a quote", HEAD AUDIO "a=mid:\"0\"\r\n", OVL_ERR_PARSE, 6},
    {"two directions", HEAD AUDIO "a=sendonly\r\na=recvonly\r\n", OVL_ERR_PARSE, 7},
    {"flag with a value", HEAD AUDIO "a=rtcp-mux:1\r\n", OVL_ERR_PARSE, 6},
    {"setup unknown", HEAD AUDIO "a=setup:both\r\n", OVL_ERR_PARSE, 6},
    {"fingerprint bad hex", HEAD AUDIO "a=fingerprint:sha-256 ZZ:00\r\n", OVL_ERR_PARSE, 6},
    {"fingerprint odd length", HEAD AUDIO "a=fingerprint:sha-256 AB:C\r\n", OVL_ERR_PARSE, 6},
    {"fingerprint without digest", HEAD AUDIO "a=fingerprint:sha-256\r\n", OVL_ERR_PARSE, 6},
    {"ice-ufrag with a space", HEAD AUDIO "a=ice-ufrag:ab cd\r\n", OVL_ERR_PARSE, 6},
    {"ice-pwd longer than 256",
     HEAD AUDIO "a=ice-pwd:"
                "0123456789012345678901234567890123456789012345678901234567890123456789"
                "0123456789012345678901234567890123456789012345678901234567890123456789"
                "0123456789012345678901234567890123456789012345678901234567890123456789"
                "01234567890123456789012345678901234567890123456789\r\n",
     OVL_ERR_LIMIT, 6},
    {"candidate truncated", HEAD AUDIO "a=candidate:1 1 udp 2130706431 10.0.0.1\r\n", OVL_ERR_PARSE, 6},
    {"candidate without typ", HEAD AUDIO "a=candidate:1 1 udp 1 10.0.0.1 9 host\r\n", OVL_ERR_PARSE, 6},
    {"candidate component 0", HEAD AUDIO "a=candidate:1 0 udp 1 10.0.0.1 9 typ host\r\n", OVL_ERR_PARSE, 6},
    {"candidate component 257", HEAD AUDIO "a=candidate:1 257 udp 1 10.0.0.1 9 typ host\r\n", OVL_ERR_PARSE, 6},
    {"candidate priority beyond 32 bits", HEAD AUDIO "a=candidate:1 1 udp 4294967296 10.0.0.1 9 typ host\r\n",
     OVL_ERR_PARSE, 6},
    {"candidate port 70000", HEAD AUDIO "a=candidate:1 1 udp 1 10.0.0.1 70000 typ host\r\n", OVL_ERR_PARSE, 6},
    {"candidate extension without value", HEAD AUDIO "a=candidate:1 1 udp 1 10.0.0.1 9 typ host generation\r\n",
     OVL_ERR_PARSE, 6},
    {"candidate bad tcptype", HEAD AUDIO "a=candidate:1 1 tcp 1 10.0.0.1 9 typ host tcptype both\r\n", OVL_ERR_PARSE,
     6},
    {"rid direction", HEAD AUDIO "a=rid:q sideways\r\n", OVL_ERR_PARSE, 6},
    {"rid id with a dot", HEAD AUDIO "a=rid:q.1 send\r\n", OVL_ERR_PARSE, 6},
    {"simulcast without list", HEAD AUDIO "a=simulcast:send\r\n", OVL_ERR_PARSE, 6},
    {"simulcast unknown direction", HEAD AUDIO "a=simulcast:both q\r\n", OVL_ERR_PARSE, 6},
    {"simulcast empty rid", HEAD AUDIO "a=simulcast:send q;;f\r\n", OVL_ERR_PARSE, 6},
    {"simulcast send twice", HEAD AUDIO "a=simulcast:send q send h\r\n", OVL_ERR_PARSE, 6},
    {"msid with three fields", HEAD AUDIO "a=msid:a b c\r\n", OVL_ERR_PARSE, 6},
    {"attribute without name", HEAD "a=:x\r\n", OVL_ERR_PARSE, 5},
    {"c= truncated", HEAD "c=IN IP4\r\n", OVL_ERR_PARSE, 5},
    {"c= twice", HEAD "c=IN IP4 0.0.0.0\r\nc=IN IP4 0.0.0.0\r\n", OVL_ERR_PARSE, 6},
    {"b= not a number", HEAD "b=AS:x\r\n", OVL_ERR_PARSE, 5},
    {"NUL byte", "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=a\0b\r\n", OVL_ERR_PARSE, 3},
    {"invalid UTF-8", HEAD "s=\xff\xfe\r\n", OVL_ERR_PARSE, 5},
    {"overlong UTF-8", HEAD "i=\xc0\x80\r\n", OVL_ERR_PARSE, 5},
    {"UTF-16 surrogate in UTF-8", HEAD "i=\xed\xa0\x80\r\n", OVL_ERR_PARSE, 5},
    {"truncated UTF-8", HEAD "i=\xe2\x82\r\n", OVL_ERR_PARSE, 5},
    {"control character", HEAD "i=a\tb\r\n", OVL_ERR_PARSE, 5},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = strlen(c->text);
        if (strcmp(c->what, "NUL byte") == 0)
            len = sizeof("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=a\0b\r\n") - 1;
        ovl_sdp_t *sdp = (ovl_sdp_t *)1;
        ovl_sdp_error_t err = {0};
        int ret = ovl_sdp_parse(c->text, len, &sdp, &err);
        if (ret != c->ret || err.line != c->line)
            fail_msg("%s: got %s at line %zu (%s), want %s at line %zu", c->what, ovl_strerror(ret), err.line,
                     err.what ? err.what : "-", ovl_strerror(c->ret), c->line);
        assert_null(sdp);
        assert_non_null(err.what);
    }
}

/* Limits: total size, line length, sections, candidates; each fails with OVL_ERR_LIMIT, not by growing. */
static void test_limits(void **state)
{
    (void)state;
    char *buf = malloc(OVL_SDP_MAX_SIZE + 4096);
    ovl_sdp_t *sdp = NULL;
    ovl_sdp_error_t err;
    size_t n = (size_t)sprintf(buf, HEAD);

    for (int i = 0; i <= OVL_SDP_MAX_MEDIA; i++)
        n += (size_t)sprintf(buf + n, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n");
    assert_int_equal(ovl_sdp_parse(buf, n, &sdp, &err), OVL_ERR_LIMIT);
    assert_int_equal(err.line, 4 + OVL_SDP_MAX_MEDIA + 1);
    assert_null(sdp);

    n = (size_t)sprintf(buf, HEAD AUDIO);
    for (int i = 0; i <= OVL_SDP_MAX_CANDIDATES; i++)
        n += (size_t)sprintf(buf + n, "a=candidate:%d 1 udp 1 10.0.0.1 9 typ host\r\n", i);
    assert_int_equal(ovl_sdp_parse(buf, n, &sdp, &err), OVL_ERR_LIMIT);
    assert_int_equal(err.line, 5 + OVL_SDP_MAX_CANDIDATES + 1);

    n = (size_t)sprintf(buf, HEAD "i=");
    memset(buf + n, 'x', OVL_SDP_MAX_LINE);
    n += OVL_SDP_MAX_LINE;
    assert_int_equal(ovl_sdp_parse(buf, n, &sdp, &err), OVL_ERR_LIMIT);
    assert_int_equal(err.line, 5);

    n = (size_t)sprintf(buf, HEAD);
    while (n <= OVL_SDP_MAX_SIZE)
        n += (size_t)sprintf(buf + n, "a=x-filler:0123456789\r\n");
    assert_int_equal(ovl_sdp_parse(buf, n, &sdp, &err), OVL_ERR_LIMIT);
    assert_int_equal(err.line, 0);
    free(buf);
}

/* Every prefix of a real capture (cut mid-line too) parses or fails cleanly; ASan/UBSan builds check the rest. */
static void test_truncated_captures(void **state)
{
    (void)state;
    const char *files[] = {"chromium-offer-av-screen.sdp", "firefox68-offer-audio.sdp",
                           "firefox60-offer-simulcast.sdp"};
    for (size_t f = 0; f < OVL_ARRAY_LEN(files); f++) {
        size_t len;
        char *text = load(files[f], &len);
        size_t ok = 0;
        for (size_t cut = 0; cut <= len; cut += 7) {
            ovl_sdp_t *sdp = NULL;
            ovl_sdp_error_t err;
            int ret = ovl_sdp_parse(text, cut, &sdp, &err);
            assert_true(ret == 0 || ret == OVL_ERR_PARSE);
            if (ret == 0) {
                ok++;
                assert_round_trip(sdp, files[f]);
            }
            ovl_sdp_free(sdp);
        }
        assert_true(ok > 0);
        free(text);
    }
}

/* Things the model keeps as text: known attributes out of place or for an unlisted payload type. */
static void test_kept_as_text(void **state)
{
    (void)state;
    static const char text[] = HEAD "a=mid:session-level\r\n" AUDIO "a=rtpmap:96 VP8/90000\r\n"
                                    "a=candidate:1 1 ssltcp 1 10.0.0.1 443 typ host\r\na=x-flag\r\na=x-empty:\r\n"
                                    "a=fmtp:111 apt=96; stereo=1\r\nb=AS:300\r\ni=info\r\n";
    ovl_sdp_t *sdp = parse_text(text, sizeof(text) - 1);
    assert_int_equal(sdp->n_attrs, 1);
    assert_string_equal(sdp->attrs[0].name, "mid");
    const ovl_sdp_media_t *m = &sdp->media[0];
    assert_int_equal(m->n_attrs, 4);
    assert_string_equal(m->attrs[0].name, "rtpmap");
    assert_string_equal(m->attrs[1].value, "1 1 ssltcp 1 10.0.0.1 443 typ host");
    assert_null(m->attrs[2].value);
    assert_string_equal(m->attrs[3].value, "");
    assert_int_equal(m->codecs[0].apt, 96);
    assert_string_equal(m->codecs[0].fmtp, " stereo=1");
    assert_int_equal(m->n_bw, 1);
    assert_int_equal(m->bw[0].value, 300);
    assert_int_equal(m->n_lines, 1);
    assert_round_trip(sdp, "kept as text");
    ovl_sdp_free(sdp);
}

/* Writer: too small a buffer leaves it unchanged; text that would inject a line is refused. */
static void test_writer_errors(void **state)
{
    (void)state;
    ovl_sdp_t *sdp = parse_file("chromium-offer-av-screen.sdp");
    uint8_t small[512];
    ovl_wbuf_t w;
    ovl_wbuf_init(&w, small, sizeof(small));
    w.len = 3;
    assert_int_equal(ovl_sdp_write(sdp, &w), OVL_ERR_LIMIT);
    assert_int_equal(w.len, 3);

    uint8_t *big = malloc(WBUF_CAP);
    ovl_wbuf_init(&w, big, WBUF_CAP);
    strcpy(sdp->media[0].mid, "0\r\na=inject");
    assert_int_equal(ovl_sdp_write(sdp, &w), OVL_ERR_ARG);
    assert_int_equal(w.len, 0);
    strcpy(sdp->media[0].mid, "0 1");
    assert_int_equal(ovl_sdp_write(sdp, &w), OVL_ERR_ARG);
    strcpy(sdp->media[0].mid, "0");
    free(sdp->media[0].codecs[0].fmtp);
    sdp->media[0].codecs[0].fmtp = strdup("x=1\nb=1");
    assert_int_equal(ovl_sdp_write(sdp, &w), OVL_ERR_ARG);
    free(sdp->media[0].codecs[0].fmtp);
    sdp->media[0].codecs[0].fmtp = NULL;
    sdp->media[0].dir = (ovl_sdp_dir_t)9;
    assert_int_equal(ovl_sdp_write(sdp, &w), OVL_ERR_ARG);
    sdp->media[0].dir = OVL_SDP_DIR_SENDRECV;
    assert_int_equal(ovl_sdp_write(sdp, &w), 0);
    free(big);
    ovl_sdp_free(sdp);

    /* A new description writes the RFC 8866 minimum. */
    assert_int_equal(ovl_sdp_new(&sdp), 0);
    char *text = write_text(sdp, NULL);
    assert_string_equal(text, "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
    free(text);
    ovl_sdp_free(sdp);
}

/* RFC 8839 §5.1 candidate on its own (as trickled), RFC 8445 §5.1.2.1 priority. */
static void test_candidate_api(void **state)
{
    (void)state;
    static const char trickled[] =
        "1853887674 1 udp 1518280447 47.61.61.61 36768 typ srflx raddr 192.168.0.196 rport 36768 generation 0 "
        "ufrag PWwO network-id 2 network-cost 50 x-vendor 7";
    ovl_sdp_candidate_t c;
    assert_int_equal(ovl_sdp_candidate_parse(trickled, strlen(trickled), &c), 0);
    assert_int_equal(c.type, OVL_SDP_CAND_SRFLX);
    assert_string_equal(c.raddr, "192.168.0.196");
    assert_true(c.has_rport && c.rport == 36768);
    assert_string_equal(c.ufrag, "PWwO");
    assert_int_equal(c.network_cost, 50);
    assert_string_equal(c.ext, "x-vendor 7");
    uint8_t buf[512];
    ovl_wbuf_t w;
    ovl_wbuf_init(&w, buf, sizeof(buf));
    assert_int_equal(ovl_sdp_candidate_write(&c, &w), 0);
    assert_int_equal(w.len, strlen(trickled));
    assert_memory_equal(buf, trickled, w.len);
    ovl_sdp_candidate_dispose(&c);

    static const char relay[] = "9 1 UDP 1 10.0.0.1 9 typ relay raddr 1.2.3.4 rport 5";
    assert_int_equal(ovl_sdp_candidate_parse(relay, strlen(relay), &c), 0);
    assert_int_equal(c.type, OVL_SDP_CAND_RELAY);
    ovl_sdp_candidate_dispose(&c);
    static const char odd[] = "9 1 sctp 1 10.0.0.1 9 typ host";
    assert_int_equal(ovl_sdp_candidate_parse(odd, strlen(odd), &c), OVL_ERR_UNSUPPORTED);

    /* Host UDP, local preference 65535, component 1: 126 << 24 | 65535 << 8 | 255. */
    assert_int_equal(ovl_sdp_candidate_priority(126, 65535, 1), 2130706431u);
    /* RFC 6544 §4.2: TCP passive host, direction-pref 4: (4 << 13) | 8191. Used in relay-offer.sdp. */
    assert_int_equal(ovl_sdp_candidate_priority(90, (4 << 13) | 8191, 1), 1520435199u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captures_round_trip),
        cmocka_unit_test(test_chromium_offer_fields),
        cmocka_unit_test(test_chromium_offer_video),
        cmocka_unit_test(test_chromium_offer_streams),
        cmocka_unit_test(test_chromium_simulcast_fields),
        cmocka_unit_test(test_chromium_recvonly_and_datachannel),
        cmocka_unit_test(test_firefox68_fields),
        cmocka_unit_test(test_firefox60_fields),
        cmocka_unit_test(test_chromium_answer_fields),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_truncated_captures),
        cmocka_unit_test(test_kept_as_text),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_candidate_api),
    };
    return cmocka_run_group_tests_name("sdp parser/writer (RFC 8866)", tests, NULL, NULL);
}
