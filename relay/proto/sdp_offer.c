/*
 * The relay's renegotiation offers (RFC 9429 §5.2.2 subsequent offers, RFC 3264 §8 modifying a session).
 *
 * After the first exchange the relay is the only offerer (no glare): when a participant joins it adds a sendonly
 * section per track it forwards to this peer; when one leaves it makes that section inactive (it may be refilled
 * later by mid). Sections are never removed or reordered (RFC 3264 §8), the BUNDLE group grows with new mids and
 * payload types / extmap ids stay those of the existing sections of the same kind (RFC 8843 §9.1, §9.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

static bool token_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= max && ovl_sdp_all(s, n, ovl_sdp_is_token_char);
}

int ovl_sdp_offer_begin(const ovl_sdp_t *current_local, ovl_sdp_t **offer_out)
{
    ovl_sdp_t *offer = NULL;
    int ret;
    *offer_out = NULL;
    if ((ret = ovl_sdp_dup(current_local, &offer)) != 0)
        goto Exit;
    offer->sess_version++;
    /* RFC 8842 §5.2 / RFC 9429 §5.2.2: an offer says actpass; the client keeps its active role (no DTLS restart). */
    if (offer->ice.setup != OVL_SDP_SETUP_NONE)
        offer->ice.setup = OVL_SDP_SETUP_ACTPASS;
    for (size_t i = 0; i < offer->n_media; i++)
        if (offer->media[i].ice.setup != OVL_SDP_SETUP_NONE)
            offer->media[i].ice.setup = OVL_SDP_SETUP_ACTPASS;
    *offer_out = offer;
    offer = NULL;
Exit:
    ovl_sdp_free(offer);
    return ret;
}

static void clear_streams(ovl_sdp_media_t *m)
{
    for (size_t i = 0; i < m->n_ssrcs; i++)
        free(m->ssrcs[i].value);
    free(m->ssrcs);
    m->ssrcs = NULL;
    m->n_ssrcs = 0;
    m->n_msids = 0;
    m->n_ssrc_groups = 0;
    for (size_t i = 0; i < m->n_rids; i++)
        free(m->rids[i].params);
    m->n_rids = 0;
    free(m->simulcast);
    m->simulcast = NULL;
}

/* A send section from the first accepted section of the same kind: codecs, extmaps, ICE/DTLS, rtcp flags. */
static int section_from_template(ovl_sdp_media_t *dst, const ovl_sdp_media_t *tpl)
{
    int ret = ovl_sdp_media_copy(dst, tpl);
    if (ret != 0)
        return ret;
    clear_streams(dst);
    for (size_t i = 0; i < dst->n_candidates; i++)
        free(dst->candidates[i].ext);
    free(dst->candidates);
    dst->candidates = NULL;
    dst->n_candidates = 0;
    dst->end_of_candidates = false; /* candidates stay in the BUNDLE tag section only */
    dst->bundle_only = false;
    for (size_t i = 0; i < dst->n_extmaps; i++)
        dst->extmaps[i].dir = OVL_SDP_DIR_NONE;
    return 0;
}

static const ovl_sdp_codec_t *rtx_codec(const ovl_sdp_media_t *m)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].apt >= 0 && ovl_sdp_ieq(m->codecs[i].name, "rtx"))
            return &m->codecs[i];
    return NULL;
}

/* RFC 8830 §2 a=msid, RFC 5576 §4.1 a=ssrc cname/msid, §4.2 a=ssrc-group:FID <media> <rtx> (RFC 4588 §8.7). */
static int fill_streams(ovl_sdp_media_t *m, const ovl_sdp_send_track_t *t)
{
    char msid[2 * OVL_SDP_TOKEN_LEN];
    uint32_t ssrcs[2] = {t->ssrc, t->rtx_ssrc};
    size_t n = t->rtx_ssrc && rtx_codec(m) ? 2 : 1;
    int ret;
    strcpy(m->msids[0].stream, t->stream_id);
    strcpy(m->msids[0].track, t->track_id);
    m->n_msids = 1;
    snprintf(msid, sizeof(msid), "%s %s", t->stream_id, t->track_id);
    if (n == 2) {
        ovl_sdp_ssrc_group_t *g = &m->ssrc_groups[m->n_ssrc_groups++];
        strcpy(g->semantics, "FID");
        g->ssrcs[0] = t->ssrc;
        g->ssrcs[1] = t->rtx_ssrc;
        g->n_ssrcs = 2;
    }
    for (size_t i = 0; i < n; i++)
        if ((ret = ovl_sdp_add_ssrc(m, ssrcs[i], "cname", t->cname)) != 0 ||
            (ret = ovl_sdp_add_ssrc(m, ssrcs[i], "msid", msid)) != 0)
            return ret;
    m->dir = OVL_SDP_DIR_SENDONLY;
    return 0;
}

static int bundle_add(ovl_sdp_t *offer, const char *mid)
{
    ovl_sdp_group_t *g = (ovl_sdp_group_t *)ovl_sdp_bundle(offer);
    if (!g) {
        if (offer->n_groups >= OVL_SDP_MAX_GROUPS)
            return OVL_ERR_LIMIT;
        g = &offer->groups[offer->n_groups++];
        memset(g, 0, sizeof(*g));
        strcpy(g->semantics, "BUNDLE");
        for (size_t i = 0; i < offer->n_media; i++)
            if (!ovl_sdp_media_rejected(&offer->media[i]) && offer->media[i].mid[0])
                memcpy(g->mids[g->n_mids++], offer->media[i].mid, OVL_SDP_TOKEN_LEN);
    }
    for (size_t i = 0; i < g->n_mids; i++)
        if (strcmp(g->mids[i], mid) == 0)
            return 0;
    if (g->n_mids >= OVL_SDP_MAX_MEDIA)
        return OVL_ERR_LIMIT;
    memcpy(g->mids[g->n_mids++], mid, strlen(mid) + 1);
    return 0;
}

static bool track_ok(const ovl_sdp_send_track_t *t)
{
    size_t cname_len = t->cname ? strlen(t->cname) : 0;
    return (t->kind == OVL_SDP_KIND_AUDIO || t->kind == OVL_SDP_KIND_VIDEO) && token_ok(t->mid, 64) &&
           token_ok(t->stream_id, 64) && token_ok(t->track_id, 64) && cname_len > 0 && cname_len <= 255 &&
           ovl_sdp_all(t->cname, cname_len, ovl_sdp_is_field_char) && t->ssrc != 0 && t->rtx_ssrc != t->ssrc;
}

int ovl_sdp_offer_add_send(ovl_sdp_t *offer, const ovl_sdp_send_track_t *t)
{
    ovl_sdp_media_t *m = NULL, fresh;
    size_t tpl = offer->n_media;
    int ret;
    if (!t || !track_ok(t))
        return OVL_ERR_ARG;
    for (size_t i = 0; i < offer->n_media && tpl == offer->n_media; i++)
        if (offer->media[i].kind == t->kind && !ovl_sdp_media_rejected(&offer->media[i]) &&
            offer->media[i].n_codecs > 0)
            tpl = i;
    if (tpl == offer->n_media)
        return OVL_ERR_STATE;
    if ((m = ovl_sdp_find_mid(offer, t->mid)) != NULL) {
        /* Reuse an inactive section of the same kind (RFC 3264 §8.1: a section is never removed). */
        if (m->kind != t->kind || m->dir != OVL_SDP_DIR_INACTIVE || ovl_sdp_media_rejected(m))
            return OVL_ERR_STATE;
        clear_streams(m);
        return fill_streams(m, t);
    }
    if (offer->n_media >= OVL_SDP_MAX_MEDIA)
        return OVL_ERR_LIMIT;
    if ((ret = section_from_template(&fresh, &offer->media[tpl])) != 0)
        return ret;
    strcpy(fresh.mid, t->mid);
    if ((ret = fill_streams(&fresh, t)) != 0 || (ret = ovl_sdp_add_media(offer, &m)) != 0) {
        ovl_sdp_media_dispose(&fresh);
        return ret;
    }
    *m = fresh;
    if ((ret = bundle_add(offer, t->mid)) != 0) {
        ovl_sdp_media_dispose(m);
        offer->n_media--;
    }
    return ret;
}

int ovl_sdp_offer_retire(ovl_sdp_t *offer, const char *mid)
{
    ovl_sdp_media_t *m = ovl_sdp_find_mid(offer, mid);
    if (!m)
        return OVL_ERR_NOTFOUND;
    clear_streams(m);
    m->dir = OVL_SDP_DIR_INACTIVE;
    return 0;
}
