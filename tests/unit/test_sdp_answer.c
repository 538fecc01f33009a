/*
 * The relay's SDP answer and renegotiation offers (RFC 3264, JSEP RFC 9429, BUNDLE RFC 8843) built from SDP
 * captured from Chromium 156 and Firefox 60/68 (tests/data/).
 *
 * Run as `test_sdp_answer --answer` or `test_sdp_answer --reoffer` it is a tool instead (used by
 * capture-sdp.mjs --tool to check the builders against a live Chromium): it reads an offer on stdin and prints
 * the relay's answer, or the relay's next offer adding another participant's audio and video.
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

/* ---- the answer builder ---- */

static ovl_sdp_t *answer_to(const char *file, ovl_sdp_local_t *local)
{
    ovl_sdp_t *offer = parse_file(file), *answer = NULL;
    int ret = ovl_sdp_answer_build(offer, local, &answer);
    if (ret != 0)
        fail_msg("answer to %s: %s", file, ovl_strerror(ret));
    ovl_sdp_free(offer);
    assert_round_trip(answer, file);
    return answer;
}

static void assert_relay_transport(const ovl_sdp_media_t *m)
{
    assert_string_equal(m->ice.ufrag, "eqg7");
    assert_string_equal(m->ice.pwd, "5jnH53D+n3m0+HsjEtJyjSng");
    assert_int_equal(m->ice.setup, OVL_SDP_SETUP_PASSIVE);
    assert_int_equal(m->ice.n_fingerprints, 1);
    assert_fp(&m->ice.fingerprints[0], RELAY_FP_HEX);
    assert_true(m->rtcp_mux);
    assert_int_equal(m->port, 9);
}

/* RFC 3264 §6, RFC 9429 §5.3.1, RFC 8843 §7.3: exactly what the relay answers to Chromium's offer. */
static void test_answer_chromium_offer(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    ovl_sdp_t *ans = answer_to("chromium-offer-av-screen.sdp", &local);
    assert_true(ans->ice_lite);
    assert_int_equal(ans->sess_id, 7315112201536498210ull);
    assert_int_equal(ans->sess_version, 2);
    assert_false(ans->extmap_allow_mixed);
    const ovl_sdp_group_t *b = ovl_sdp_bundle(ans);
    assert_int_equal(b->n_mids, 3);
    assert_string_equal(b->mids[0], "0");
    assert_string_equal(b->mids[1], "1");
    assert_string_equal(b->mids[2], "2");
    assert_int_equal(ans->n_media, 3);
    for (size_t i = 0; i < 3; i++) {
        const ovl_sdp_media_t *m = &ans->media[i];
        char mid[2] = {(char)('0' + i), 0};
        assert_string_equal(m->mid, mid);
        assert_relay_transport(m);
        /* sendrecv (0, 1) and sendonly (2) from the client: the relay only receives there. */
        assert_int_equal(m->dir, OVL_SDP_DIR_RECVONLY);
        assert_int_equal(m->n_msids + m->n_ssrcs + m->n_rids + m->n_attrs, 0);
        assert_int_equal(m->n_candidates, i == 0 ? 2 : 0);
        assert_true(m->end_of_candidates == (i == 0));
    }
    const ovl_sdp_media_t *a = &ans->media[0], *v = &ans->media[1];
    assert_int_equal(a->candidates[1].tcptype, OVL_SDP_TCPTYPE_PASSIVE);
    assert_int_equal(a->candidates[1].port, 8443);
    assert_true(a->rtcp_rsize); /* offered for audio too */
    static const unsigned apts[] = {111}, vpts[] = {96, 97};
    assert_pts(a, apts, 1);
    assert_string_equal(a->codecs[0].name, "opus");
    assert_int_equal(a->codecs[0].channels, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->codecs[0].n_fb, 1);
    assert_string_equal(a->codecs[0].fb[0], "transport-cc");
    assert_pts(v, vpts, 2);
    assert_string_equal(v->codecs[0].name, "VP8");
    assert_int_equal(v->codecs[0].n_fb, 5);
    static const char *const vfb[] = {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(v->codecs[0].fb[i], vfb[i]);
    assert_string_equal(v->codecs[1].name, "rtx");
    assert_int_equal(v->codecs[1].apt, 96);
    assert_int_equal(v->codecs[1].n_fb, 0);
    assert_true(v->rtcp_rsize);
    /* Offered ids kept; only the extensions the relay handles. */
    static const uint16_t aext[] = {1, 2, 3, 4}, vext[] = {2, 3, 4, 10, 11};
    assert_int_equal(a->n_extmaps, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(a->extmaps[i].id, aext[i]);
    assert_int_equal(v->n_extmaps, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(v->extmaps[i].id, vext[i]);
    assert_null(find_ext(v, "urn:3gpp:video-orientation"));

    size_t len;
    char *text = write_text(ans, &len);
    assert_non_null(strstr(text, "\r\na=ice-lite\r\n"));
    assert_non_null(strstr(text, "\r\na=group:BUNDLE 0 1 2\r\n"));
    assert_non_null(strstr(text, "\r\na=candidate:2 1 tcp 1520435199 192.0.2.10 8443 typ host tcptype passive\r\n"));
    assert_non_null(strstr(text, "\r\na=fmtp:97 apt=96\r\n"));
    assert_null(strstr(text, "H264"));
    free(text);
    ovl_sdp_free(ans);
}

static void test_answer_options(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    local.opus_dtx = true;
    static const char *const only_mid[] = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
    local.extmap_uris = only_mid;
    local.n_extmap_uris = 1;
    ovl_sdp_t *ans = answer_to("chromium-offer-av-screen.sdp", &local);
    assert_string_equal(ans->media[0].codecs[0].fmtp, "minptime=10;useinbandfec=1;usedtx=1");
    assert_int_equal(ans->media[0].n_extmaps, 1);
    assert_int_equal(ans->media[0].extmaps[0].id, 4);
    ovl_sdp_free(ans);
}

/* RFC 8853 §5.3 / RFC 8851 §4: rids offered as send are answered as recv, in the same order. */
static void test_answer_simulcast(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    ovl_sdp_t *ans = answer_to("chromium-offer-simulcast.sdp", &local);
    const ovl_sdp_media_t *v = &ans->media[1];
    assert_int_equal(v->dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->rids[0].id, "q");
    assert_false(v->rids[0].send);
    assert_non_null(v->simulcast);
    assert_int_equal(v->simulcast->recv.n_streams, 3);
    assert_int_equal(v->simulcast->send.n_streams, 0);
    assert_non_null(find_ext(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
    char *text = write_text(ans, NULL);
    assert_non_null(strstr(text, "\r\na=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"));
    free(text);

    /* An offer that only wants to receive simulcast gets no a=simulcast back (the relay sends one stream). */
    ovl_sdp_t *offer = parse_file("chromium-offer-simulcast.sdp");
    ovl_sdp_simulcast_t *sc = offer->media[1].simulcast;
    sc->recv = sc->send;
    sc->send.n_streams = 0;
    sc->recv_first = true;
    offer->media[1].n_rids = 0;
    ovl_sdp_free(ans);
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), 0);
    assert_null(ans->media[1].simulcast);
    assert_int_equal(ans->media[1].n_rids, 0);
    assert_round_trip(ans, "simulcast recv offer");
    ovl_sdp_free(offer);
    ovl_sdp_free(ans);

    /* Firefox 60: VP8 at pt 120 without RTX; extmap 4/sendonly answered 4/recvonly (RFC 8285 §6). */
    ans = answer_to("firefox60-offer-simulcast.sdp", &local);
    v = &ans->media[0];
    assert_string_equal(v->mid, "sdparta_0");
    static const unsigned pts[] = {120};
    assert_pts(v, pts, 1);
    assert_int_equal(v->codecs[0].n_fb, 4);
    assert_int_equal(find_ext(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->simulcast->recv.streams[0].alts[0].rid, "a");
    assert_false(v->rtcp_rsize);
    ovl_sdp_free(ans);
}

/* Rejections: a data channel (port 0, format kept), recvonly sections answered inactive, Firefox opus pt 109. */
static void test_answer_reject_and_directions(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    ovl_sdp_t *ans = answer_to("chromium-offer-datachannel.sdp", &local);
    assert_int_equal(ans->n_media, 2);
    assert_false(ovl_sdp_media_rejected(&ans->media[0]));
    const ovl_sdp_media_t *app = &ans->media[1];
    assert_true(ovl_sdp_media_rejected(app));
    assert_string_equal(app->mid, "1");
    assert_string_equal(app->fmt, "webrtc-datachannel");
    assert_int_equal(app->ice.ufrag[0], 0);
    assert_int_equal(ovl_sdp_bundle(ans)->n_mids, 1);
    char *text = write_text(ans, NULL);
    assert_non_null(
        strstr(text, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"));
    free(text);
    ovl_sdp_free(ans);

    ans = answer_to("chromium-offer-recvonly.sdp", &local);
    assert_int_equal(ans->media[0].dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(ans->media[1].dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(ans->media[1].n_codecs, 2);
    ovl_sdp_free(ans);

    ans = answer_to("firefox68-offer-audio.sdp", &local);
    assert_int_equal(ans->media[0].codecs[0].pt, 109);
    assert_int_equal(ans->media[0].n_codecs, 1);
    assert_int_equal(ans->media[0].dir, OVL_SDP_DIR_RECVONLY); /* session-level sendrecv */
    assert_int_equal(ans->media[0].n_extmaps, 2);              /* csrc-audio-level is not supported */
    ovl_sdp_free(ans);
}

/* A section that is not acceptable: no VP8, no rtcp-mux, outside BUNDLE, offered with port 0. */
static void test_answer_rejects_unsupported_sections(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    ovl_sdp_t *offer = parse_file("chromium-offer-av-screen.sdp"), *ans = NULL;
    strcpy(offer->media[1].codecs[0].name, "VP9"); /* no VP8 left in mid 1 */
    offer->media[2].rtcp_mux = false;              /* RFC 8858: the relay needs rtcp-mux */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), 0);
    assert_false(ovl_sdp_media_rejected(&ans->media[0]));
    assert_true(ovl_sdp_media_rejected(&ans->media[1]));
    assert_true(ovl_sdp_media_rejected(&ans->media[2]));
    assert_int_equal(ans->media[1].n_codecs, 1);
    assert_int_equal(ans->media[1].codecs[0].pt, 96);
    assert_int_equal(ovl_sdp_bundle(ans)->n_mids, 1);
    assert_round_trip(ans, "rejections");
    ovl_sdp_free(ans);

    /* The BUNDLE tag rejected: the next accepted mid carries the candidates. */
    offer->media[0].port = 0;
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), 0);
    assert_true(ovl_sdp_media_rejected(&ans->media[0]));
    assert_int_equal(ans->media[0].n_candidates, 0);
    assert_int_equal(ovl_sdp_bundle(ans)->n_mids, 0);
    ovl_sdp_free(ans);
    ovl_sdp_free(offer);
}

/* Offers the relay cannot answer at all, and bad local parameters. */
static void test_answer_errors(void **state)
{
    (void)state;
    ovl_sdp_local_t local;
    relay_local(&local);
    ovl_sdp_t *offer = parse_file("chromium-offer-av-screen.sdp"), *ans = (ovl_sdp_t *)1;

    local.ice_ufrag = "abc"; /* RFC 8839 §5.4: at least 4 characters */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), OVL_ERR_ARG);
    assert_null(ans);
    local.ice_ufrag = "eqg7";
    local.ice_pwd = "short";
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), OVL_ERR_ARG);
    relay_local(&local);

    offer->media[0].ice.setup = OVL_SDP_SETUP_PASSIVE; /* RFC 8842: relay is always passive */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), OVL_ERR_UNSUPPORTED);
    offer->media[0].ice.setup = OVL_SDP_SETUP_ACTIVE;
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), 0);
    assert_int_equal(ans->media[0].ice.setup, OVL_SDP_SETUP_PASSIVE);
    ovl_sdp_free(ans);
    offer->media[0].ice.n_fingerprints = 0; /* no DTLS fingerprint: no DTLS-SRTP */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), OVL_ERR_UNSUPPORTED);
    ovl_sdp_free(offer);

    offer = parse_file("relay-offer.sdp"); /* ICE-lite offerer */
    assert_int_equal(ovl_sdp_answer_build(offer, &local, &ans), OVL_ERR_UNSUPPORTED);
    ovl_sdp_free(offer);
}

/* ---- the offer builder ---- */

/* The relay's renegotiation offer is byte for byte tests/data/relay-offer.sdp (fed to Chromium by the capture). */
static void test_offer_matches_relay_offer(void **state)
{
    (void)state;
    ovl_sdp_t *client = parse_file("chromium-offer-av-screen.sdp"), *answer, *reoffer;
    assert_int_equal(relay_reoffer(client, &answer, &reoffer), 0);
    size_t len, want_len;
    char *text = write_text(reoffer, &len), *want = load("relay-offer.sdp", &want_len);
    assert_string_equal(text, want);
    free(text);
    free(want);

    assert_int_equal(reoffer->sess_version, 3);
    assert_null(reoffer->msid_semantic); /* unified plan needs none */
    assert_int_equal(ovl_sdp_bundle(reoffer)->n_mids, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(reoffer->media[i].ice.setup, OVL_SDP_SETUP_ACTPASS);
    const ovl_sdp_media_t *a = ovl_sdp_find_mid(reoffer, "3"), *v = ovl_sdp_find_mid(reoffer, "4");
    assert_int_equal(a->dir, OVL_SDP_DIR_SENDONLY);
    assert_int_equal(a->n_candidates, 0);
    assert_string_equal(a->msids[0].track, "ovl-p2-audio");
    assert_int_equal(a->n_ssrcs, 2);
    assert_int_equal(a->n_ssrc_groups, 0);
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 3000000003u);
    assert_int_equal(v->n_ssrcs, 4);
    assert_string_equal(v->ssrcs[3].value, "ovl-p2 ovl-p2-video");
    /* Same payload types and extmap ids as the client's sections (RFC 8843 §9.1). */
    assert_int_equal(v->codecs[0].pt, answer->media[1].codecs[0].pt);
    assert_int_equal(v->n_extmaps, answer->media[1].n_extmaps);
    assert_round_trip(reoffer, "reoffer");

    /* Chromium accepted that offer: its answer receives both tracks. */
    ovl_sdp_t *reply = parse_file("chromium-answer-to-relay-offer.sdp");
    assert_int_equal(ovl_sdp_find_mid(reply, "3")->dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(ovl_sdp_find_mid(reply, "4")->dir, OVL_SDP_DIR_RECVONLY);
    ovl_sdp_free(reply);
    ovl_sdp_free(answer);
    ovl_sdp_free(reoffer);
    ovl_sdp_free(client);
}

static void test_offer_retire_and_reuse(void **state)
{
    (void)state;
    ovl_sdp_t *client = parse_file("chromium-offer-av-screen.sdp"), *answer, *reoffer, *next;
    assert_int_equal(relay_reoffer(client, &answer, &reoffer), 0);

    assert_int_equal(ovl_sdp_offer_begin(reoffer, &next), 0);
    assert_int_equal(next->sess_version, 4);
    assert_int_equal(ovl_sdp_offer_retire(next, "4"), 0);
    assert_int_equal(ovl_sdp_offer_retire(next, "9"), OVL_ERR_NOTFOUND);
    ovl_sdp_media_t *v = ovl_sdp_find_mid(next, "4");
    assert_int_equal(v->dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(v->n_msids + v->n_ssrcs + v->n_ssrc_groups, 0);
    assert_int_equal(ovl_sdp_bundle(next)->n_mids, 5);
    assert_round_trip(next, "retired");

    /* The inactive section is refilled by mid for another participant; an active or other-kind mid is refused. */
    ovl_sdp_send_track_t t = {OVL_SDP_KIND_VIDEO, "4", "ovl-p3", "ovl-p3-video", "ovl-p3", 5, 6};
    assert_int_equal(ovl_sdp_offer_add_send(next, &t), 0);
    v = ovl_sdp_find_mid(next, "4");
    assert_int_equal(v->dir, OVL_SDP_DIR_SENDONLY);
    assert_string_equal(v->msids[0].stream, "ovl-p3");
    assert_int_equal(next->n_media, 5);
    assert_int_equal(ovl_sdp_offer_add_send(next, &t), OVL_ERR_STATE); /* now active */
    t.mid = "0";
    assert_int_equal(ovl_sdp_offer_add_send(next, &t), OVL_ERR_STATE); /* the client's audio */
    t.mid = "bad mid";
    assert_int_equal(ovl_sdp_offer_add_send(next, &t), OVL_ERR_ARG);
    t.mid = "5";
    t.rtx_ssrc = 5;
    assert_int_equal(ovl_sdp_offer_add_send(next, &t), OVL_ERR_ARG); /* RTX SSRC equal to the media SSRC */
    assert_round_trip(next, "reused");
    ovl_sdp_free(next);

    /* No section of that kind to copy from (an audio-only client) */
    ovl_sdp_t *ff = parse_file("firefox68-offer-audio.sdp"), *ffans, *ffoffer;
    ovl_sdp_local_t local;
    relay_local(&local);
    assert_int_equal(ovl_sdp_answer_build(ff, &local, &ffans), 0);
    assert_int_equal(ovl_sdp_offer_begin(ffans, &ffoffer), 0);
    ovl_sdp_send_track_t vt = {OVL_SDP_KIND_VIDEO, "1", "p", "v", "c", 7, 0};
    assert_int_equal(ovl_sdp_offer_add_send(ffoffer, &vt), OVL_ERR_STATE);
    ovl_sdp_send_track_t at = {OVL_SDP_KIND_AUDIO, "1", "p", "a", "c", 7, 0};
    assert_int_equal(ovl_sdp_offer_add_send(ffoffer, &at), 0);
    assert_int_equal(ovl_sdp_bundle(ffoffer)->n_mids, 2);
    assert_int_equal(ffoffer->media[1].codecs[0].pt, 109);
    ovl_sdp_free(ff);
    ovl_sdp_free(ffans);
    ovl_sdp_free(ffoffer);

    ovl_sdp_free(answer);
    ovl_sdp_free(reoffer);
    ovl_sdp_free(client);
}

/* ---- tool mode for capture-sdp.mjs --tool ---- */

static int tool(bool reoffer)
{
    char *in = malloc(OVL_SDP_MAX_SIZE + 1);
    size_t n = fread(in, 1, OVL_SDP_MAX_SIZE + 1, stdin);
    ovl_sdp_t *offer = NULL, *answer = NULL, *next = NULL;
    ovl_sdp_error_t err = {0};
    ovl_sdp_local_t local;
    uint8_t *out = malloc(WBUF_CAP);
    ovl_wbuf_t w;
    int ret;
    relay_local(&local);
    ovl_wbuf_init(&w, out, WBUF_CAP);
    if ((ret = ovl_sdp_parse(in, n, &offer, &err)) != 0) {
        fprintf(stderr, "parse: %s at line %zu\n", err.what, err.line);
        goto Exit;
    }
    ret = reoffer ? relay_reoffer(offer, &answer, &next) : ovl_sdp_answer_build(offer, &local, &answer);
    if (ret != 0 || (ret = ovl_sdp_write(reoffer ? next : answer, &w)) != 0) {
        fprintf(stderr, "build: %s\n", ovl_strerror(ret));
        goto Exit;
    }
    fwrite(out, 1, w.len, stdout);
Exit:
    ovl_sdp_free(offer);
    ovl_sdp_free(answer);
    ovl_sdp_free(next);
    free(in);
    free(out);
    return ret == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--answer") == 0)
        return tool(false);
    if (argc == 2 && strcmp(argv[1], "--reoffer") == 0)
        return tool(true);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_chromium_offer),
        cmocka_unit_test(test_answer_options),
        cmocka_unit_test(test_answer_simulcast),
        cmocka_unit_test(test_answer_reject_and_directions),
        cmocka_unit_test(test_answer_rejects_unsupported_sections),
        cmocka_unit_test(test_answer_errors),
        cmocka_unit_test(test_offer_matches_relay_offer),
        cmocka_unit_test(test_offer_retire_and_reuse),
    };
    return cmocka_run_group_tests_name("sdp answer/offer builders (RFC 3264, RFC 9429)", tests, NULL, NULL);
}
