/*
 * Model comparison for the SDP tests: every member of two ovl_sdp_t, reported by path ("media[1].codecs[0].fmtp")
 * on the first difference. Shared by tests/unit/test_sdp.c and tests/fuzz/fuzz_sdp.c (header-only, static).
 */
#ifndef OVL_TEST_SDP_MODEL_H
#define OVL_TEST_SDP_MODEL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relay/proto/sdp.h"

typedef struct sdp_diff {
    char where[160];
} sdp_diff_t;

static int sdp_diff_at(sdp_diff_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sdp_diff_at(sdp_diff_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->where, sizeof(d->where), fmt, ap);
    va_end(ap);
    return 1;
}

static int sdp_str_ne(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

#define SDP_NE_NUM(d, a, b, field, ...)                                                                                \
    if ((a)->field != (b)->field)                                                                                      \
    return sdp_diff_at(d, __VA_ARGS__)
#define SDP_NE_STR(d, a, b, field, ...)                                                                                \
    if (sdp_str_ne((a)->field, (b)->field))                                                                            \
    return sdp_diff_at(d, __VA_ARGS__)
#define SDP_NE_MEM(d, a, b, field, ...)                                                                                \
    if (memcmp(&(a)->field, &(b)->field, sizeof((a)->field)) != 0)                                                     \
    return sdp_diff_at(d, __VA_ARGS__)

static int sdp_transport_ne(sdp_diff_t *d, const ovl_sdp_transport_t *a, const ovl_sdp_transport_t *b, const char *at)
{
    SDP_NE_STR(d, a, b, ufrag, "%s.ice.ufrag", at);
    SDP_NE_STR(d, a, b, pwd, "%s.ice.pwd", at);
    SDP_NE_STR(d, a, b, options, "%s.ice.options", at);
    SDP_NE_NUM(d, a, b, setup, "%s.ice.setup", at);
    SDP_NE_NUM(d, a, b, n_fingerprints, "%s.ice.n_fingerprints", at);
    for (size_t i = 0; i < a->n_fingerprints; i++) {
        SDP_NE_STR(d, a, b, fingerprints[i].hash, "%s.fingerprints[%zu].hash", at, i);
        SDP_NE_NUM(d, a, b, fingerprints[i].len, "%s.fingerprints[%zu].len", at, i);
        if (memcmp(a->fingerprints[i].bytes, b->fingerprints[i].bytes, a->fingerprints[i].len) != 0)
            return sdp_diff_at(d, "%s.fingerprints[%zu].bytes", at, i);
    }
    return 0;
}

static int sdp_attrs_ne(sdp_diff_t *d, const ovl_sdp_attr_t *a, size_t na, const ovl_sdp_attr_t *b, size_t nb,
                        const char *at)
{
    if (na != nb)
        return sdp_diff_at(d, "%s.n_attrs (%zu vs %zu)", at, na, nb);
    for (size_t i = 0; i < na; i++) {
        SDP_NE_STR(d, &a[i], &b[i], name, "%s.attrs[%zu].name", at, i);
        SDP_NE_STR(d, &a[i], &b[i], value, "%s.attrs[%zu].value", at, i);
    }
    return 0;
}

static int sdp_lines_ne(sdp_diff_t *d, const ovl_sdp_line_t *a, size_t na, const ovl_sdp_line_t *b, size_t nb,
                        const char *at)
{
    if (na != nb)
        return sdp_diff_at(d, "%s.n_lines", at);
    for (size_t i = 0; i < na; i++) {
        SDP_NE_NUM(d, &a[i], &b[i], type, "%s.lines[%zu].type", at, i);
        SDP_NE_STR(d, &a[i], &b[i], value, "%s.lines[%zu].value", at, i);
    }
    return 0;
}

static int sdp_codec_ne(sdp_diff_t *d, const ovl_sdp_codec_t *a, const ovl_sdp_codec_t *b, size_t mi, size_t ci)
{
    SDP_NE_NUM(d, a, b, pt, "media[%zu].codecs[%zu].pt", mi, ci);
    SDP_NE_STR(d, a, b, name, "media[%zu].codecs[%zu].name", mi, ci);
    SDP_NE_NUM(d, a, b, clock, "media[%zu].codecs[%zu].clock", mi, ci);
    SDP_NE_NUM(d, a, b, channels, "media[%zu].codecs[%zu].channels", mi, ci);
    SDP_NE_NUM(d, a, b, apt, "media[%zu].codecs[%zu].apt", mi, ci);
    SDP_NE_STR(d, a, b, fmtp, "media[%zu].codecs[%zu].fmtp", mi, ci);
    SDP_NE_NUM(d, a, b, n_fb, "media[%zu].codecs[%zu].n_fb", mi, ci);
    for (size_t i = 0; i < a->n_fb; i++)
        SDP_NE_STR(d, a, b, fb[i], "media[%zu].codecs[%zu].fb[%zu]", mi, ci, i);
    return 0;
}

static int sdp_candidate_ne(sdp_diff_t *d, const ovl_sdp_candidate_t *a, const ovl_sdp_candidate_t *b, size_t mi,
                            size_t i)
{
    SDP_NE_STR(d, a, b, foundation, "media[%zu].candidates[%zu].foundation", mi, i);
    SDP_NE_NUM(d, a, b, component, "media[%zu].candidates[%zu].component", mi, i);
    SDP_NE_NUM(d, a, b, proto, "media[%zu].candidates[%zu].proto", mi, i);
    SDP_NE_NUM(d, a, b, priority, "media[%zu].candidates[%zu].priority", mi, i);
    SDP_NE_STR(d, a, b, address, "media[%zu].candidates[%zu].address", mi, i);
    SDP_NE_NUM(d, a, b, port, "media[%zu].candidates[%zu].port", mi, i);
    SDP_NE_NUM(d, a, b, type, "media[%zu].candidates[%zu].type", mi, i);
    SDP_NE_STR(d, a, b, raddr, "media[%zu].candidates[%zu].raddr", mi, i);
    SDP_NE_NUM(d, a, b, has_rport, "media[%zu].candidates[%zu].has_rport", mi, i);
    SDP_NE_NUM(d, a, b, rport, "media[%zu].candidates[%zu].rport", mi, i);
    SDP_NE_NUM(d, a, b, tcptype, "media[%zu].candidates[%zu].tcptype", mi, i);
    SDP_NE_NUM(d, a, b, has_generation, "media[%zu].candidates[%zu].has_generation", mi, i);
    SDP_NE_NUM(d, a, b, generation, "media[%zu].candidates[%zu].generation", mi, i);
    SDP_NE_NUM(d, a, b, has_network_id, "media[%zu].candidates[%zu].has_network_id", mi, i);
    SDP_NE_NUM(d, a, b, network_id, "media[%zu].candidates[%zu].network_id", mi, i);
    SDP_NE_NUM(d, a, b, has_network_cost, "media[%zu].candidates[%zu].has_network_cost", mi, i);
    SDP_NE_NUM(d, a, b, network_cost, "media[%zu].candidates[%zu].network_cost", mi, i);
    SDP_NE_STR(d, a, b, ufrag, "media[%zu].candidates[%zu].ufrag", mi, i);
    SDP_NE_STR(d, a, b, ext, "media[%zu].candidates[%zu].ext", mi, i);
    return 0;
}

static int sdp_streams_ne(sdp_diff_t *d, const ovl_sdp_media_t *a, const ovl_sdp_media_t *b, size_t mi)
{
    SDP_NE_NUM(d, a, b, n_msids, "media[%zu].n_msids", mi);
    for (size_t i = 0; i < a->n_msids; i++) {
        SDP_NE_STR(d, a, b, msids[i].stream, "media[%zu].msids[%zu].stream", mi, i);
        SDP_NE_STR(d, a, b, msids[i].track, "media[%zu].msids[%zu].track", mi, i);
    }
    SDP_NE_NUM(d, a, b, n_ssrcs, "media[%zu].n_ssrcs", mi);
    for (size_t i = 0; i < a->n_ssrcs; i++) {
        SDP_NE_NUM(d, a, b, ssrcs[i].ssrc, "media[%zu].ssrcs[%zu].ssrc", mi, i);
        SDP_NE_STR(d, a, b, ssrcs[i].attr, "media[%zu].ssrcs[%zu].attr", mi, i);
        SDP_NE_STR(d, a, b, ssrcs[i].value, "media[%zu].ssrcs[%zu].value", mi, i);
    }
    SDP_NE_NUM(d, a, b, n_ssrc_groups, "media[%zu].n_ssrc_groups", mi);
    for (size_t i = 0; i < a->n_ssrc_groups; i++) {
        SDP_NE_STR(d, a, b, ssrc_groups[i].semantics, "media[%zu].ssrc_groups[%zu].semantics", mi, i);
        SDP_NE_NUM(d, a, b, ssrc_groups[i].n_ssrcs, "media[%zu].ssrc_groups[%zu].n_ssrcs", mi, i);
        if (memcmp(a->ssrc_groups[i].ssrcs, b->ssrc_groups[i].ssrcs, a->ssrc_groups[i].n_ssrcs * 4) != 0)
            return sdp_diff_at(d, "media[%zu].ssrc_groups[%zu].ssrcs", mi, i);
    }
    SDP_NE_NUM(d, a, b, n_rids, "media[%zu].n_rids", mi);
    for (size_t i = 0; i < a->n_rids; i++) {
        SDP_NE_STR(d, a, b, rids[i].id, "media[%zu].rids[%zu].id", mi, i);
        SDP_NE_NUM(d, a, b, rids[i].send, "media[%zu].rids[%zu].send", mi, i);
        SDP_NE_STR(d, a, b, rids[i].params, "media[%zu].rids[%zu].params", mi, i);
    }
    if (!a->simulcast != !b->simulcast)
        return sdp_diff_at(d, "media[%zu].simulcast presence", mi);
    if (a->simulcast) {
        /* Compare member by member: the fixed arrays may hold leftovers past the counts. */
        const ovl_sdp_simulcast_t *x = a->simulcast, *y = b->simulcast;
        SDP_NE_NUM(d, x, y, recv_first, "media[%zu].simulcast.recv_first", mi);
        const ovl_sdp_sim_list_t *lx[2] = {&x->send, &x->recv}, *ly[2] = {&y->send, &y->recv};
        for (int k = 0; k < 2; k++) {
            SDP_NE_NUM(d, lx[k], ly[k], n_streams, "media[%zu].simulcast[%d].n_streams", mi, k);
            for (size_t s = 0; s < lx[k]->n_streams; s++) {
                SDP_NE_NUM(d, lx[k], ly[k], streams[s].n_alts, "media[%zu].simulcast[%d][%zu].n_alts", mi, k, s);
                for (size_t t = 0; t < lx[k]->streams[s].n_alts; t++) {
                    SDP_NE_STR(d, lx[k], ly[k], streams[s].alts[t].rid, "media[%zu].simulcast rid", mi);
                    SDP_NE_NUM(d, lx[k], ly[k], streams[s].alts[t].paused, "media[%zu].simulcast paused", mi);
                }
            }
        }
    }
    return 0;
}

static int sdp_media_ne(sdp_diff_t *d, const ovl_sdp_media_t *a, const ovl_sdp_media_t *b, size_t mi)
{
    char at[32];
    snprintf(at, sizeof(at), "media[%zu]", mi);
    SDP_NE_NUM(d, a, b, kind, "%s.kind", at);
    SDP_NE_STR(d, a, b, media, "%s.media", at);
    SDP_NE_NUM(d, a, b, port, "%s.port", at);
    SDP_NE_STR(d, a, b, proto, "%s.proto", at);
    SDP_NE_STR(d, a, b, fmt, "%s.fmt", at);
    SDP_NE_NUM(d, a, b, n_codecs, "%s.n_codecs", at);
    for (size_t i = 0; i < a->n_codecs; i++)
        if (sdp_codec_ne(d, &a->codecs[i], &b->codecs[i], mi, i))
            return 1;
    SDP_NE_STR(d, a, b, conn_type, "%s.conn_type", at);
    SDP_NE_STR(d, a, b, conn_addr, "%s.conn_addr", at);
    SDP_NE_NUM(d, a, b, n_bw, "%s.n_bw", at);
    for (size_t i = 0; i < a->n_bw; i++) {
        SDP_NE_STR(d, a, b, bw[i].type, "%s.bw[%zu].type", at, i);
        SDP_NE_NUM(d, a, b, bw[i].value, "%s.bw[%zu].value", at, i);
    }
    SDP_NE_STR(d, a, b, mid, "%s.mid", at);
    SDP_NE_NUM(d, a, b, dir, "%s.dir", at);
    if (sdp_transport_ne(d, &a->ice, &b->ice, at))
        return 1;
    SDP_NE_NUM(d, a, b, rtcp_mux, "%s.rtcp_mux", at);
    SDP_NE_NUM(d, a, b, rtcp_rsize, "%s.rtcp_rsize", at);
    SDP_NE_NUM(d, a, b, bundle_only, "%s.bundle_only", at);
    SDP_NE_NUM(d, a, b, end_of_candidates, "%s.end_of_candidates", at);
    SDP_NE_NUM(d, a, b, extmap_allow_mixed, "%s.extmap_allow_mixed", at);
    SDP_NE_NUM(d, a, b, n_fb_any, "%s.n_fb_any", at);
    for (size_t i = 0; i < a->n_fb_any; i++)
        SDP_NE_STR(d, a, b, fb_any[i], "%s.fb_any[%zu]", at, i);
    SDP_NE_NUM(d, a, b, n_extmaps, "%s.n_extmaps", at);
    for (size_t i = 0; i < a->n_extmaps; i++) {
        SDP_NE_NUM(d, a, b, extmaps[i].id, "%s.extmaps[%zu].id", at, i);
        SDP_NE_NUM(d, a, b, extmaps[i].dir, "%s.extmaps[%zu].dir", at, i);
        SDP_NE_STR(d, a, b, extmaps[i].uri, "%s.extmaps[%zu].uri", at, i);
        SDP_NE_STR(d, a, b, extmaps[i].attrs, "%s.extmaps[%zu].attrs", at, i);
    }
    if (sdp_streams_ne(d, a, b, mi))
        return 1;
    SDP_NE_NUM(d, a, b, n_candidates, "%s.n_candidates", at);
    for (size_t i = 0; i < a->n_candidates; i++)
        if (sdp_candidate_ne(d, &a->candidates[i], &b->candidates[i], mi, i))
            return 1;
    if (sdp_lines_ne(d, a->lines, a->n_lines, b->lines, b->n_lines, at))
        return 1;
    return sdp_attrs_ne(d, a->attrs, a->n_attrs, b->attrs, b->n_attrs, at);
}

/** 0 when the two descriptions are equal member by member; else 1 with d->where naming the first difference. */
static int sdp_model_ne(sdp_diff_t *d, const ovl_sdp_t *a, const ovl_sdp_t *b)
{
    SDP_NE_STR(d, a, b, origin_user, "origin_user");
    SDP_NE_NUM(d, a, b, sess_id, "sess_id");
    SDP_NE_NUM(d, a, b, sess_version, "sess_version");
    SDP_NE_STR(d, a, b, origin_type, "origin_type");
    SDP_NE_STR(d, a, b, origin_addr, "origin_addr");
    SDP_NE_STR(d, a, b, name, "name");
    SDP_NE_NUM(d, a, b, t_start, "t_start");
    SDP_NE_NUM(d, a, b, t_stop, "t_stop");
    SDP_NE_STR(d, a, b, conn_type, "conn_type");
    SDP_NE_STR(d, a, b, conn_addr, "conn_addr");
    SDP_NE_NUM(d, a, b, n_bw, "n_bw");
    for (size_t i = 0; i < a->n_bw; i++) {
        SDP_NE_STR(d, a, b, bw[i].type, "bw[%zu].type", i);
        SDP_NE_NUM(d, a, b, bw[i].value, "bw[%zu].value", i);
    }
    SDP_NE_NUM(d, a, b, n_groups, "n_groups");
    for (size_t i = 0; i < a->n_groups; i++) {
        SDP_NE_STR(d, a, b, groups[i].semantics, "groups[%zu].semantics", i);
        SDP_NE_NUM(d, a, b, groups[i].n_mids, "groups[%zu].n_mids", i);
        for (size_t k = 0; k < a->groups[i].n_mids; k++)
            SDP_NE_STR(d, a, b, groups[i].mids[k], "groups[%zu].mids[%zu]", i, k);
    }
    SDP_NE_NUM(d, a, b, ice_lite, "ice_lite");
    SDP_NE_NUM(d, a, b, extmap_allow_mixed, "extmap_allow_mixed");
    SDP_NE_NUM(d, a, b, dir, "dir");
    if (sdp_transport_ne(d, &a->ice, &b->ice, "session"))
        return 1;
    SDP_NE_STR(d, a, b, msid_semantic, "msid_semantic");
    SDP_NE_NUM(d, a, b, n_media, "n_media");
    for (size_t i = 0; i < a->n_media; i++)
        if (sdp_media_ne(d, &a->media[i], &b->media[i], i))
            return 1;
    if (sdp_lines_ne(d, a->lines, a->n_lines, b->lines, b->n_lines, "session"))
        return 1;
    return sdp_attrs_ne(d, a->attrs, a->n_attrs, b->attrs, b->n_attrs, "session");
}

#endif
