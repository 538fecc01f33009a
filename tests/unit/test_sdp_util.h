/*
 * Helpers shared by the SDP unit tests (test_sdp.c, test_sdp_answer.c): loading the captures in tests/data/,
 * parse/write with failure messages, the round-trip check and the relay's own parameters. Include after cmocka.h.
 * Everything is static inline so that a test file using only some of it compiles cleanly.
 */
#ifndef OVL_TEST_SDP_UTIL_H
#define OVL_TEST_SDP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "tests/unit/test_sdp_model.h"

#define WBUF_CAP (2 * OVL_SDP_MAX_SIZE)

/* ---- helpers ---- */

/* Reads tests/data/<name> and drops the '#' header lines before "v=0". */
static inline char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OVL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = malloc(OVL_SDP_MAX_SIZE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, OVL_SDP_MAX_SIZE, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == '#') {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        p = nl + 1;
    }
    *len = n - (size_t)(p - buf);
    memmove(buf, p, *len + 1);
    return buf;
}

static inline ovl_sdp_t *parse_text(const char *text, size_t len)
{
    ovl_sdp_t *sdp = NULL;
    ovl_sdp_error_t err = {0};
    int ret = ovl_sdp_parse(text, len, &sdp, &err);
    if (ret != 0)
        fail_msg("parse failed: %s at line %zu (%s)", err.what, err.line, ovl_strerror(ret));
    return sdp;
}

static inline ovl_sdp_t *parse_file(const char *name)
{
    size_t len;
    char *text = load(name, &len);
    ovl_sdp_t *sdp = parse_text(text, len);
    free(text);
    return sdp;
}

/* Writes `sdp` into a new NUL-terminated string. */
static inline char *write_text(const ovl_sdp_t *sdp, size_t *len)
{
    uint8_t *buf = malloc(WBUF_CAP + 1);
    assert_non_null(buf);
    ovl_wbuf_t w;
    ovl_wbuf_init(&w, buf, WBUF_CAP);
    int ret = ovl_sdp_write(sdp, &w);
    if (ret != 0)
        fail_msg("write failed: %s", ovl_strerror(ret));
    buf[w.len] = '\0';
    if (len)
        *len = w.len;
    return (char *)buf;
}

static inline void assert_models_equal(const ovl_sdp_t *a, const ovl_sdp_t *b, const char *what)
{
    sdp_diff_t d = {{0}};
    if (sdp_model_ne(&d, a, b))
        fail_msg("%s: models differ at %s", what, d.where);
}

/* parse -> write -> parse gives an equal model, and writing that again gives the same bytes. */
static inline void assert_round_trip(const ovl_sdp_t *sdp, const char *what)
{
    size_t len1, len2;
    char *t1 = write_text(sdp, &len1);
    ovl_sdp_t *again = parse_text(t1, len1);
    assert_models_equal(sdp, again, what);
    char *t2 = write_text(again, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(t1, t2, len1);
    /* RFC 8866 §5: CRLF line endings, no bare LF. */
    for (size_t i = 0; i < len1; i++)
        if (t1[i] == '\n')
            assert_true(i > 0 && t1[i - 1] == '\r');
    ovl_sdp_free(again);
    free(t1);
    free(t2);
}

static inline void assert_fp(const ovl_sdp_fingerprint_t *fp, const char *hex)
{
    assert_string_equal(fp->hash, "sha-256");
    assert_int_equal(fp->len, 32);
    for (size_t i = 0; i < 32; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 3 * i, "%2X", &v), 1);
        assert_int_equal(fp->bytes[i], v);
    }
}

static inline void assert_pts(const ovl_sdp_media_t *m, const unsigned *pts, size_t n)
{
    assert_int_equal(m->n_codecs, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m->codecs[i].pt, pts[i]);
}

static inline const ovl_sdp_extmap_t *find_ext(const ovl_sdp_media_t *m, const char *uri)
{
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return &m->extmaps[i];
    return NULL;
}

static inline const ovl_sdp_attr_t *find_attr(const ovl_sdp_attr_t *a, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0)
            return &a[i];
    return NULL;
}

/* ---- the relay's own parameters (the same as in tests/data/relay-offer.sdp) ---- */

#define RELAY_FP_HEX "9E:81:EF:23:3F:54:AC:C4:2D:DA:79:F9:D6:B5:CA:17:74:DA:2C:E9:47:7E:D6:49:0C:19:87:F5:61:12:B3:F0"

static inline void relay_local(ovl_sdp_local_t *l)
{
    static const ovl_sdp_candidate_t relay_cands[2] = {
        {.foundation = "1",
         .component = 1,
         .proto = OVL_SDP_CAND_UDP,
         .priority = 2130706431,
         .address = "192.0.2.10",
         .port = 10000,
         .type = OVL_SDP_CAND_HOST},
        {.foundation = "2",
         .component = 1,
         .proto = OVL_SDP_CAND_TCP,
         .priority = 1520435199,
         .address = "192.0.2.10",
         .port = 8443,
         .type = OVL_SDP_CAND_HOST,
         .tcptype = OVL_SDP_TCPTYPE_PASSIVE},
    };
    memset(l, 0, sizeof(*l));
    l->ice_ufrag = "eqg7";
    l->ice_pwd = "5jnH53D+n3m0+HsjEtJyjSng";
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(RELAY_FP_HEX + 3 * i, "%2X", &v);
        l->fingerprint_sha256[i] = (uint8_t)v;
    }
    l->session_id = 7315112201536498210ull;
    l->session_version = 2;
    l->candidates = relay_cands;
    l->n_candidates = 2;
}

/* The relay's answer to `offer`, then its next offer adding participant "ovl-p2"'s audio and video. */
static inline int relay_reoffer(const ovl_sdp_t *offer, ovl_sdp_t **answer_out, ovl_sdp_t **reoffer_out)
{
    ovl_sdp_local_t local;
    ovl_sdp_t *answer = NULL, *reoffer = NULL;
    char mid_a[8], mid_v[8];
    int ret;
    relay_local(&local);
    if ((ret = ovl_sdp_answer_build(offer, &local, &answer)) != 0 || (ret = ovl_sdp_offer_begin(answer, &reoffer)) != 0)
        goto Exit;
    snprintf(mid_a, sizeof(mid_a), "%zu", answer->n_media);
    snprintf(mid_v, sizeof(mid_v), "%zu", answer->n_media + 1);
    ovl_sdp_send_track_t audio = {OVL_SDP_KIND_AUDIO, mid_a, "ovl-p2", "ovl-p2-audio", "ovl-p2", 3000000001u, 0};
    ovl_sdp_send_track_t video = {OVL_SDP_KIND_VIDEO, mid_v,       "ovl-p2",   "ovl-p2-video",
                                  "ovl-p2",           3000000002u, 3000000003u};
    if ((ret = ovl_sdp_offer_add_send(reoffer, &audio)) != 0 || (ret = ovl_sdp_offer_add_send(reoffer, &video)) != 0)
        goto Exit;
    *answer_out = answer;
    *reoffer_out = reoffer;
    answer = reoffer = NULL;
Exit:
    ovl_sdp_free(answer);
    ovl_sdp_free(reoffer);
    return ret;
}

#endif
