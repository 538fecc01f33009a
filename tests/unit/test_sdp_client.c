/*
 * The client's side of the negotiation (relay/proto/sdp_client.c), checked against the relay's own builders
 * (ovl_sdp_answer_build, ovl_sdp_offer_begin/_add_send/_retire), against tests/data/relay-offer.sdp and against
 * what Chromium answered to that offer (tests/data/chromium-answer-to-relay-offer.sdp).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/proto/sdp_client.h"
#include "tests/unit/test_sdp_util.h"

#define PEER_UFRAG "pEeR"
#define PEER_PWD   "peer+password+0123456789"

static ovl_dtls_fingerprint_t peer_fp;

static void peer_local(ovl_sdp_client_local_t *l, bool send)
{
    peer_fp.hash = OVL_DTLS_HASH_SHA256;
    peer_fp.len = 32;
    for (size_t i = 0; i < 32; i++)
        peer_fp.bytes[i] = (uint8_t)(0xA0 + i);
    memset(l, 0, sizeof(*l));
    l->ice_ufrag = PEER_UFRAG;
    l->ice_pwd = PEER_PWD;
    l->fingerprint = &peer_fp;
    l->session_id = 1234567890123ull;
    l->session_version = 2;
    l->cname = "peer-cname";
    l->stream_id = "peer-stream";
    if (send) {
        l->audio_ssrc = 1111;
        l->video_ssrc = 2222;
        l->video_rtx_ssrc = 3333;
    }
}

static const char *ssrc_value(const ovl_sdp_media_t *m, uint32_t ssrc, const char *attr)
{
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc && strcmp(m->ssrcs[i].attr, attr) == 0)
            return m->ssrcs[i].value;
    return NULL;
}

static bool has_fb(const ovl_sdp_codec_t *c, const char *fb)
{
    for (size_t i = 0; i < c->n_fb; i++)
        if (strcmp(c->fb[i], fb) == 0)
            return true;
    return false;
}

static void assert_peer_transport(const ovl_sdp_media_t *m, ovl_sdp_setup_t setup)
{
    assert_string_equal(m->ice.ufrag, PEER_UFRAG);
    assert_string_equal(m->ice.pwd, PEER_PWD);
    assert_int_equal(m->ice.n_fingerprints, 1);
    assert_string_equal(m->ice.fingerprints[0].hash, "sha-256");
    assert_memory_equal(m->ice.fingerprints[0].bytes, peer_fp.bytes, 32);
    assert_int_equal(m->ice.setup, setup);
    assert_true(m->rtcp_mux);
    assert_int_equal(m->n_candidates, 0); /* the relay is ICE-lite: it learns the peer's address from checks */
}

/* RFC 9429 §5.2.1 / RFC 8843: the first offer, like a browser's with one audio and one camera track. */
static void test_offer(void **state)
{
    (void)state;
    ovl_sdp_client_local_t l;
    ovl_sdp_t *offer;
    peer_local(&l, true);
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(offer->n_media, 2);
    const ovl_sdp_group_t *g = ovl_sdp_bundle(offer);
    assert_non_null(g);
    assert_int_equal(g->n_mids, 2);
    assert_string_equal(g->mids[0], "0");
    assert_string_equal(g->mids[1], "1");

    const ovl_sdp_media_t *a = &offer->media[0], *v = &offer->media[1];
    assert_int_equal(a->kind, OVL_SDP_KIND_AUDIO);
    assert_string_equal(a->mid, OVL_SDP_CLIENT_MID_AUDIO);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_peer_transport(a, OVL_SDP_SETUP_ACTPASS);
    assert_int_equal(a->dir, OVL_SDP_DIR_SENDRECV);
    assert_int_equal(a->n_codecs, 1);
    assert_int_equal(a->codecs[0].pt, 111);
    assert_string_equal(a->codecs[0].name, "opus");
    assert_int_equal(a->codecs[0].channels, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(find_ext(a, OVL_SDP_CLIENT_URI_LEVEL)->id, OVL_SDP_CLIENT_EXT_LEVEL);
    assert_string_equal(a->msids[0].stream, "peer-stream");
    assert_string_equal(a->msids[0].track, "audio");
    assert_string_equal(ssrc_value(a, 1111, "cname"), "peer-cname");
    assert_string_equal(ssrc_value(a, 1111, "msid"), "peer-stream audio");

    assert_int_equal(v->kind, OVL_SDP_KIND_VIDEO);
    assert_peer_transport(v, OVL_SDP_SETUP_ACTPASS);
    assert_int_equal(v->n_codecs, 2);
    assert_string_equal(v->codecs[0].name, "VP8");
    assert_true(has_fb(&v->codecs[0], "nack") && has_fb(&v->codecs[0], "nack pli") && has_fb(&v->codecs[0], "ccm fir"));
    assert_string_equal(v->codecs[1].name, "rtx");
    assert_int_equal(v->codecs[1].apt, 96); /* RFC 4588 §8.6 */
    /* RFC 5576 §4.2 / RFC 4588 §8.7: FID <media> <rtx>, both SSRCs with cname and msid. */
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_string_equal(v->ssrc_groups[0].semantics, "FID");
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], 2222);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 3333);
    assert_string_equal(ssrc_value(v, 3333, "msid"), "peer-stream camera");
    assert_round_trip(offer, "client offer");
    ovl_sdp_free(offer);

    /* Without RTX there is no FID group and no rtx codec; without video there is no video section. */
    l.video_rtx_ssrc = 0;
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(offer->media[1].n_codecs, 1);
    assert_int_equal(offer->media[1].n_ssrc_groups, 0);
    ovl_sdp_free(offer);
    l.video_ssrc = 0;
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(offer->n_media, 1);
    ovl_sdp_free(offer);
}

static void test_offer_errors(void **state)
{
    (void)state;
    ovl_sdp_client_local_t l;
    ovl_sdp_t *offer = (ovl_sdp_t *)&l;
    peer_local(&l, true);
    l.ice_pwd = "short"; /* RFC 8839 §5.4: 22..256 characters */
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), OVL_ERR_ARG);
    assert_null(offer);
    peer_local(&l, true);
    l.stream_id = "has space";
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), OVL_ERR_ARG);
    peer_local(&l, true);
    l.video_rtx_ssrc = l.video_ssrc;
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), OVL_ERR_ARG);
    peer_local(&l, false); /* nothing to send */
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), OVL_ERR_ARG);
}

/* The relay's real answer builder takes the offer; what the peer reads back from that answer. */
static void test_relay_answer(void **state)
{
    (void)state;
    ovl_sdp_client_local_t l;
    ovl_sdp_local_t relay;
    ovl_sdp_t *offer, *answer;
    ovl_sdp_client_remote_t r;
    ovl_sdp_client_send_t s;
    peer_local(&l, true);
    relay_local(&relay);
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(ovl_sdp_answer_build(offer, &relay, &answer), 0);
    assert_int_equal(answer->media[0].dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(answer->media[1].dir, OVL_SDP_DIR_RECVONLY);

    /* Through text, as it travels in the `answer` message. */
    size_t len;
    char *text = write_text(answer, &len);
    ovl_sdp_t *parsed = parse_text(text, len);
    free(text);

    assert_int_equal(ovl_sdp_client_remote(parsed, &r), 0);
    assert_string_equal(r.ice_ufrag, "eqg7");
    assert_string_equal(r.ice_pwd, "5jnH53D+n3m0+HsjEtJyjSng");
    assert_true(r.ice_lite);
    assert_int_equal(r.setup, OVL_SDP_SETUP_PASSIVE);
    assert_int_equal(r.fingerprint.hash, OVL_DTLS_HASH_SHA256);
    assert_int_equal(r.fingerprint.len, 32);
    assert_memory_equal(r.fingerprint.bytes, relay.fingerprint_sha256, 32);
    /* The UDP candidate, and apart from it the passive TCP one (RFC 6544 §4.5) an active ICE-TCP client uses. */
    assert_int_equal(r.n_candidates, 1);
    char buf[OVL_ADDR_STRLEN];
    assert_string_equal(ovl_addr_format(&r.candidates[0], buf, sizeof(buf)), "192.0.2.10:10000");
    assert_int_equal(r.n_tcp_candidates, 1);
    assert_string_equal(ovl_addr_format(&r.tcp_candidates[0], buf, sizeof(buf)), "192.0.2.10:8443");

    assert_int_equal(ovl_sdp_client_send_params(parsed, &s), 0);
    assert_true(s.audio && s.video && s.rtx);
    assert_int_equal(s.audio_pt, 111);
    assert_int_equal(s.video_pt, 96);
    assert_int_equal(s.rtx_pt, 97);
    assert_int_equal(s.audio_level_id, OVL_SDP_CLIENT_EXT_LEVEL);
    assert_int_equal(s.audio_mid_id, OVL_SDP_CLIENT_EXT_MID);
    assert_int_equal(s.video_mid_id, OVL_SDP_CLIENT_EXT_MID);
    assert_true(s.nack && s.pli && s.fir);
    /* No tracks to receive yet. */
    ovl_sdp_client_track_t t[4];
    size_t n = 9;
    assert_int_equal(ovl_sdp_client_tracks(parsed, t, 4, &n), 0);
    assert_int_equal(n, 0);
    ovl_sdp_free(parsed);
    ovl_sdp_free(answer);

    /* An answer without the extension: the sender writes none. */
    const char *only_mid[] = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
    relay.extmap_uris = only_mid;
    relay.n_extmap_uris = 1;
    assert_int_equal(ovl_sdp_answer_build(offer, &relay, &answer), 0);
    assert_int_equal(ovl_sdp_client_send_params(answer, &s), 0);
    assert_int_equal(s.audio_level_id, 0);
    assert_int_equal(s.audio_mid_id, OVL_SDP_CLIENT_EXT_MID);
    ovl_sdp_free(answer);
    ovl_sdp_free(offer);
}

/* tests/data/relay-offer.sdp: the relay's tracks and the transport it describes. */
static void test_tracks_from_relay_offer(void **state)
{
    (void)state;
    ovl_sdp_t *offer = parse_file("relay-offer.sdp");
    ovl_sdp_client_track_t t[8];
    ovl_sdp_client_remote_t r;
    size_t n;
    assert_int_equal(ovl_sdp_client_tracks(offer, t, 8, &n), 0);
    assert_int_equal(n, 2); /* mids 0-2 are the client's own (recvonly on the relay's side) */
    assert_string_equal(t[0].mid, "3");
    assert_int_equal(t[0].kind, OVL_SDP_KIND_AUDIO);
    assert_string_equal(t[0].stream, "ovl-p2");
    assert_string_equal(t[0].track, "ovl-p2-audio");
    assert_int_equal(t[0].ssrc, 3000000001u);
    assert_int_equal(t[0].rtx_ssrc, 0);
    assert_int_equal(t[0].pt, 111);
    assert_int_equal(t[0].clock, 48000);
    assert_false(t[0].has_rtx);
    assert_int_equal(t[0].level_id, 1);
    assert_int_equal(t[0].mid_id, 4);
    assert_string_equal(t[1].mid, "4");
    assert_int_equal(t[1].kind, OVL_SDP_KIND_VIDEO);
    assert_string_equal(t[1].track, "ovl-p2-video");
    assert_int_equal(t[1].ssrc, 3000000002u); /* RFC 5576 §4.2: FID <primary> <rtx> */
    assert_int_equal(t[1].rtx_ssrc, 3000000003u);
    assert_int_equal(t[1].pt, 96);
    assert_true(t[1].has_rtx);
    assert_int_equal(t[1].rtx_pt, 97);
    assert_int_equal(t[1].clock, 90000);

    assert_int_equal(ovl_sdp_client_tracks(offer, t, 1, &n), OVL_ERR_LIMIT);
    assert_int_equal(n, 1);

    /* The same offer names the relay's transport: ICE-lite, actpass, one UDP candidate in the BUNDLE tag. */
    assert_int_equal(ovl_sdp_client_remote(offer, &r), 0);
    assert_true(r.ice_lite);
    assert_int_equal(r.setup, OVL_SDP_SETUP_ACTPASS);
    assert_string_equal(r.ice_ufrag, "eqg7");
    assert_int_equal(r.n_candidates, 1);

    /* The legacy form: no a=msid in the section, only a=ssrc msid (RFC 5576 §4.1). */
    ovl_sdp_find_mid(offer, "4")->n_msids = 0;
    assert_int_equal(ovl_sdp_client_tracks(offer, t, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(t[1].stream, "ovl-p2");
    assert_string_equal(t[1].track, "ovl-p2-video");
    ovl_sdp_free(offer);
}

/* The peer answers relay-offer.sdp the way Chromium did (chromium-answer-to-relay-offer.sdp): same mids, same
 * directions for a client with nothing to send, same payload types, RTX and extension ids. */
static void test_answer_like_chromium(void **state)
{
    (void)state;
    ovl_sdp_t *offer = parse_file("relay-offer.sdp"), *chromium = parse_file("chromium-answer-to-relay-offer.sdp");
    ovl_sdp_client_local_t l;
    ovl_sdp_t *ours;
    peer_local(&l, false);
    assert_int_equal(ovl_sdp_client_answer(offer, &l, &ours), 0);
    assert_int_equal(ours->n_media, chromium->n_media);
    for (size_t i = 0; i < ours->n_media; i++) {
        const ovl_sdp_media_t *a = &ours->media[i], *c = &chromium->media[i];
        assert_string_equal(a->mid, c->mid);
        assert_int_equal(a->kind, c->kind);
        assert_int_equal(a->dir, c->dir);
        assert_peer_transport(a, OVL_SDP_SETUP_ACTIVE); /* RFC 8842 §5.3: the answerer to actpass picks active */
        assert_int_equal(a->rtcp_rsize, c->rtcp_rsize);
        assert_int_equal(a->n_codecs, c->n_codecs);
        for (size_t k = 0; k < a->n_codecs; k++) {
            assert_int_equal(a->codecs[k].pt, c->codecs[k].pt);
            assert_int_equal(a->codecs[k].apt, c->codecs[k].apt);
            assert_string_equal(a->codecs[k].name, c->codecs[k].name);
        }
        /* The peer keeps the extensions it writes, with Chromium's (the offer's) ids. */
        for (size_t k = 0; k < a->n_extmaps; k++)
            assert_int_equal(a->extmaps[k].id, find_ext(c, a->extmaps[k].uri)->id);
        assert_int_equal(a->n_ssrcs, 0);
    }
    assert_int_equal(ovl_sdp_bundle(ours)->n_mids, 5);
    assert_round_trip(ours, "answer to relay-offer.sdp");
    ovl_sdp_free(ours);
    ovl_sdp_free(chromium);
    ovl_sdp_free(offer);
}

/* The whole exchange with the relay's builders: offer -> answer -> relay offer with p2's tracks -> our answer. */
static void test_answer_relay_reoffer(void **state)
{
    (void)state;
    ovl_sdp_client_local_t l;
    ovl_sdp_t *offer, *answer = NULL, *reoffer = NULL, *ours, *next, *ours2;
    ovl_sdp_client_track_t t[8];
    size_t n;
    peer_local(&l, true);
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(relay_reoffer(offer, &answer, &reoffer), 0);
    assert_int_equal(ovl_sdp_client_tracks(reoffer, t, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].mid, "2");
    assert_string_equal(t[1].mid, "3");
    assert_int_equal(t[1].rtx_ssrc, 3000000003u);

    l.session_version = 3;
    assert_int_equal(ovl_sdp_client_answer(reoffer, &l, &ours), 0);
    assert_int_equal(ours->sess_version, 3);
    assert_int_equal(ours->n_media, 4);
    /* Our own sections: the relay offers them recvonly, we keep sending with the same SSRCs. */
    assert_int_equal(ours->media[0].dir, OVL_SDP_DIR_SENDONLY);
    assert_string_equal(ssrc_value(&ours->media[0], 1111, "msid"), "peer-stream audio");
    assert_int_equal(ours->media[1].dir, OVL_SDP_DIR_SENDONLY);
    assert_int_equal(ours->media[1].ssrc_groups[0].ssrcs[1], 3333);
    /* The relay's sections: we receive. */
    assert_int_equal(ours->media[2].dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(ours->media[3].dir, OVL_SDP_DIR_RECVONLY);
    assert_int_equal(ours->media[3].codecs[1].apt, 96);
    assert_int_equal(ours->media[2].n_ssrcs, 0);
    assert_int_equal(ovl_sdp_bundle(ours)->n_mids, 4);
    for (size_t i = 0; i < 4; i++)
        assert_peer_transport(&ours->media[i], OVL_SDP_SETUP_ACTIVE);
    assert_round_trip(ours, "answer to relay re-offer");
    /* The relay reads our answer as its own parser would: our sections still go to the relay. */
    ovl_sdp_client_send_t s;
    assert_int_equal(ovl_sdp_client_send_params(reoffer, &s), 0);
    assert_true(s.audio && s.video);

    /* p2 leaves: its video section is retired (inactive), its track disappears, we answer inactive. */
    assert_int_equal(ovl_sdp_offer_begin(reoffer, &next), 0);
    assert_int_equal(ovl_sdp_offer_retire(next, "3"), 0);
    assert_int_equal(ovl_sdp_client_tracks(next, t, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].mid, "2");
    assert_int_equal(ovl_sdp_client_answer(next, &l, &ours2), 0);
    assert_int_equal(ovl_sdp_find_mid(ours2, "3")->dir, OVL_SDP_DIR_INACTIVE);
    assert_int_equal(ovl_sdp_bundle(ours2)->n_mids, 4); /* inactive is still bundled; only port 0 leaves */
    ovl_sdp_free(ours2);
    ovl_sdp_free(next);
    ovl_sdp_free(ours);
    ovl_sdp_free(answer);
    ovl_sdp_free(reoffer);
    ovl_sdp_free(offer);
}

/* Sections the peer cannot take are rejected with port 0 (RFC 3264 §6) and left out of the BUNDLE group. */
static void test_answer_rejects(void **state)
{
    (void)state;
    ovl_sdp_t *offer = parse_file("relay-offer.sdp"), *ours;
    ovl_sdp_client_local_t l;
    peer_local(&l, true);
    ovl_sdp_media_t *m = ovl_sdp_find_mid(offer, "4");
    strcpy(m->codecs[0].name, "H264"); /* no codec we decode */
    ovl_sdp_find_mid(offer, "3")->port = 0;
    assert_int_equal(ovl_sdp_client_answer(offer, &l, &ours), 0);
    assert_int_equal(ovl_sdp_find_mid(ours, "4")->port, 0);
    assert_true(ovl_sdp_media_rejected(ovl_sdp_find_mid(ours, "3")));
    assert_int_equal(ovl_sdp_bundle(ours)->n_mids, 3);
    assert_int_equal(ovl_sdp_find_mid(ours, "0")->dir, OVL_SDP_DIR_SENDONLY);
    ovl_sdp_free(ours);
    for (size_t i = 0; i < offer->n_media; i++)
        offer->media[i].port = 0;
    assert_int_equal(ovl_sdp_client_answer(offer, &l, &ours), OVL_ERR_UNSUPPORTED);
    assert_null(ours);
    ovl_sdp_free(offer);
}

static void test_remote_errors(void **state)
{
    (void)state;
    ovl_sdp_t *offer = parse_file("relay-offer.sdp");
    ovl_sdp_client_remote_t r;
    /* RFC 8842 §5: a relay that wants to be the DTLS client is not one we can talk to. */
    for (size_t i = 0; i < offer->n_media; i++)
        offer->media[i].ice.setup = OVL_SDP_SETUP_ACTIVE;
    assert_int_equal(ovl_sdp_client_remote(offer, &r), OVL_ERR_UNSUPPORTED);
    for (size_t i = 0; i < offer->n_media; i++) {
        offer->media[i].ice.setup = OVL_SDP_SETUP_PASSIVE;
        strcpy(offer->media[i].ice.fingerprints[0].hash, "md5"); /* RFC 8122 §5: not acceptable */
    }
    assert_int_equal(ovl_sdp_client_remote(offer, &r), OVL_ERR_UNSUPPORTED);
    for (size_t i = 0; i < offer->n_media; i++)
        offer->media[i].port = 0;
    assert_int_equal(ovl_sdp_client_remote(offer, &r), OVL_ERR_NOTFOUND);
    ovl_sdp_free(offer);
}

static void test_text(void **state)
{
    (void)state;
    ovl_sdp_client_local_t l;
    ovl_sdp_t *offer, *again;
    char *text;
    size_t len;
    peer_local(&l, true);
    assert_int_equal(ovl_sdp_client_offer(&l, &offer), 0);
    assert_int_equal(ovl_sdp_client_text(offer, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_true(strncmp(text, "v=0\r\n", 5) == 0);
    again = parse_text(text, len);
    assert_models_equal(offer, again, "text");
    free(text);
    ovl_sdp_free(again);
    ovl_sdp_free(offer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_offer_errors),
        cmocka_unit_test(test_relay_answer),
        cmocka_unit_test(test_tracks_from_relay_offer),
        cmocka_unit_test(test_answer_like_chromium),
        cmocka_unit_test(test_answer_relay_reoffer),
        cmocka_unit_test(test_answer_rejects),
        cmocka_unit_test(test_remote_errors),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
