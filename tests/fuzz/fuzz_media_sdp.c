/*
 * libFuzzer target for the media plane's SDP text work (relay/io/media_sdp.c): a client offer's
 * transport parameters, the rewrite every relay description gets (msid attribution, credentials,
 * o= version) and the ICE-restart offer. Invariants checked (abort otherwise): a rewrite with no
 * edits gives the input back byte for byte; a rewrite of SDP that parses still parses with the
 * same number of sections; a restart offer parses and carries the new ufrag.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/io/media_int.h"

static const char *lookup(void *ctx, uint64_t id)
{
    (void)ctx;
    return id % 3 == 0 ? NULL : id % 3 == 1 ? "p1" : "participant-two";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ufrag[OVL_ICE_UFRAG_MAX + 1];
    ovl_dtls_fingerprint_t fp;
    char *text, *out = NULL;
    ovl_sdp_t *before = NULL, *after = NULL;
    if (size > OVL_SDP_MAX_SIZE || !(text = malloc(size + 1)))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text); /* the rewrite takes a C string */
    ovl_media_sdp_offer_params(text, len, ufrag, sizeof(ufrag), &fp);

    ovl_media_sdp_edit_t none = {0};
    if (ovl_media_sdp_rewrite(text, &none, &out) == 0 && strcmp(out, text) != 0)
        abort();
    free(out);
    out = NULL;

    ovl_media_sdp_edit_t e = {.ufrag = "UfRg", .pwd = "0123456789abcdefghijkl", .version = 7, .public_id = lookup};
    bool parsed = ovl_sdp_parse(text, len, &before, NULL) == 0;
    if (ovl_media_sdp_rewrite(text, &e, &out) == 0 && parsed) {
        if (ovl_sdp_parse(out, strlen(out), &after, NULL) != 0 || after->n_media != before->n_media)
            abort();
        ovl_sdp_free(after);
        after = NULL;
    }
    free(out);
    out = NULL;
    if (parsed && ovl_media_sdp_restart_offer(text, "RsTr", "restartpasswordrestart", &out) == 0) {
        if (ovl_sdp_parse(out, strlen(out), &after, NULL) != 0)
            abort();
        for (size_t i = 0; i < after->n_media; i++)
            if (after->media[i].ice.ufrag[0] && strcmp(after->media[i].ice.ufrag, "RsTr") != 0)
                abort();
        ovl_sdp_free(after);
    }
    free(out);
    ovl_sdp_free(before);
    free(text);
    return 0;
}
