/*
 * libFuzzer target for the SDP core: parse; when that succeeds, write and parse again. The rewrite must parse and
 * give an equal model (abort otherwise, so the fuzzer reports writer bugs as crashes). The relay's answer to the
 * parsed offer, and an offer built from it, must also write and parse back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/proto/sdp.h"
#include "tests/unit/test_sdp_model.h"

static uint8_t out[2 * OVL_SDP_MAX_SIZE];

/* Writes `sdp`, parses the text and returns the new model; aborts when either step fails. */
static ovl_sdp_t *rewrite(const ovl_sdp_t *sdp)
{
    ovl_wbuf_t w;
    ovl_sdp_t *again = NULL;
    ovl_sdp_error_t err;
    ovl_wbuf_init(&w, out, sizeof(out));
    if (ovl_sdp_write(sdp, &w) != 0)
        abort();
    if (ovl_sdp_parse((const char *)out, w.len, &again, &err) != 0)
        abort();
    return again;
}

static void check_builders(const ovl_sdp_t *offer)
{
    static const ovl_sdp_candidate_t cand = {
        .foundation = "1", .component = 1, .priority = 2130706431, .address = "192.0.2.10", .port = 10000};
    ovl_sdp_local_t local = {.ice_ufrag = "eqg7",
                             .ice_pwd = "5jnH53D+n3m0+HsjEtJyjSng",
                             .session_id = 1,
                             .session_version = 2,
                             .candidates = &cand,
                             .n_candidates = 1};
    ovl_sdp_t *answer = NULL, *next = NULL;
    if (ovl_sdp_answer_build(offer, &local, &answer) != 0)
        return;
    ovl_sdp_free(rewrite(answer));
    if (ovl_sdp_offer_begin(answer, &next) == 0) {
        ovl_sdp_send_track_t t = {OVL_SDP_KIND_VIDEO, "ovl-v", "s", "t", "c", 1, 2};
        (void)ovl_sdp_offer_add_send(next, &t);
        t.kind = OVL_SDP_KIND_AUDIO, t.mid = "ovl-a", t.rtx_ssrc = 0;
        (void)ovl_sdp_offer_add_send(next, &t);
        ovl_sdp_free(rewrite(next));
    }
    ovl_sdp_free(next);
    ovl_sdp_free(answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_sdp_t *sdp = NULL, *again, *copy = NULL;
    sdp_diff_t d;
    /* LF-only input grows by one byte a line when written with CRLF: stay where the rewrite fits the limit. */
    if (size > OVL_SDP_MAX_SIZE / 2)
        return 0;
    if (ovl_sdp_parse((const char *)data, size, &sdp, NULL) != 0)
        return 0;
    again = rewrite(sdp);
    if (sdp_model_ne(&d, sdp, again))
        abort();
    if (ovl_sdp_dup(sdp, &copy) != 0 || sdp_model_ne(&d, sdp, copy))
        abort();
    check_builders(sdp);
    ovl_sdp_free(copy);
    ovl_sdp_free(again);
    ovl_sdp_free(sdp);
    return 0;
}
