/*
 * libFuzzer target: the client side of the negotiation (relay/proto/sdp_client.c) on whatever SDP the parser
 * accepts, as the synthetic peer treats every relay answer and offer: read the relay's transport and our send
 * parameters, list the tracks, build our answer and write it. Each step must succeed or fail cleanly, and an
 * answer it builds must write and parse again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_sdp_t *sdp = NULL, *answer = NULL, *again = NULL;
    ovl_sdp_client_remote_t remote;
    ovl_sdp_client_send_t send;
    ovl_sdp_client_track_t tracks[8];
    size_t n = 0, len;
    char *text = NULL;
    static ovl_dtls_fingerprint_t fp = {.hash = OVL_DTLS_HASH_SHA256, .len = 32};
    ovl_sdp_client_local_t l = {.ice_ufrag = "fUzZ",
                                .ice_pwd = "fuzzpassword0123456789",
                                .fingerprint = &fp,
                                .session_id = 1,
                                .session_version = 2,
                                .cname = "fuzz",
                                .stream_id = "fuzz",
                                .audio_ssrc = 1,
                                .video_ssrc = 2,
                                .video_rtx_ssrc = 3};

    if (ovl_sdp_parse((const char *)data, size, &sdp, NULL) != 0)
        return 0;
    if (ovl_sdp_client_remote(sdp, &remote) == 0 &&
        (remote.fingerprint.len == 0 || remote.n_candidates > OVL_SDP_CLIENT_MAX_CANDS || !remote.ice_ufrag[0]))
        abort();
    (void)ovl_sdp_client_send_params(sdp, &send);
    if (ovl_sdp_client_tracks(sdp, tracks, 8, &n) != 0 && n != 8)
        abort();
    for (size_t i = 0; i < n; i++)
        if (tracks[i].ssrc == 0 || !tracks[i].stream[0])
            abort();
    if (ovl_sdp_client_answer(sdp, &l, &answer) == 0) {
        if (ovl_sdp_client_text(answer, &text, &len) != 0 || strlen(text) != len ||
            ovl_sdp_parse(text, len, &again, NULL) != 0 || again->n_media != sdp->n_media)
            abort();
    }
    free(text);
    ovl_sdp_free(again);
    ovl_sdp_free(answer);
    ovl_sdp_free(sdp);
    return 0;
}
