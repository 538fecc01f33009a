/* SDP model: lifetime (new, free, dup), look-ups and the helpers the parser, writer and builders share. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

bool ovl_sdp_all(const char *s, size_t len, bool (*ok)(unsigned char))
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ok((unsigned char)s[i]))
            return false;
    return true;
}

int ovl_sdp_copy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return OVL_ERR_LIMIT;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

int ovl_sdp_strndup(char **dst, const char *src, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return OVL_ERR_NOMEM;
    if (len)
        memcpy(s, src, len);
    s[len] = '\0';
    *dst = s;
    return 0;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return src ? ovl_sdp_strndup(dst, src, strlen(src)) : 0;
}

int ovl_sdp_push(void **arr, size_t *n, size_t size, size_t max, void **slot)
{
    if (*n >= max)
        return OVL_ERR_LIMIT;
    /* Grow one element at a time: lists are short (bounded by `max`) and this is not the packet path. */
    uint8_t *grown = realloc(*arr, (*n + 1) * size);
    if (!grown)
        return OVL_ERR_NOMEM;
    *arr = grown;
    *slot = grown + *n * size;
    memset(*slot, 0, size);
    (*n)++;
    return 0;
}

bool ovl_sdp_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static void attrs_free(ovl_sdp_attr_t *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(attrs[i].name);
        free(attrs[i].value);
    }
    free(attrs);
}

static void lines_dispose(ovl_sdp_line_t *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i].value);
}

void ovl_sdp_media_dispose(ovl_sdp_media_t *m)
{
    free(m->fmt);
    for (size_t i = 0; i < m->n_codecs; i++)
        free(m->codecs[i].fmtp);
    free(m->codecs);
    for (size_t i = 0; i < m->n_extmaps; i++)
        free(m->extmaps[i].attrs);
    free(m->extmaps);
    for (size_t i = 0; i < m->n_ssrcs; i++)
        free(m->ssrcs[i].value);
    free(m->ssrcs);
    for (size_t i = 0; i < m->n_rids; i++)
        free(m->rids[i].params);
    free(m->simulcast);
    for (size_t i = 0; i < m->n_candidates; i++)
        free(m->candidates[i].ext);
    free(m->candidates);
    lines_dispose(m->lines, m->n_lines);
    attrs_free(m->attrs, m->n_attrs);
    memset(m, 0, sizeof(*m));
}

int ovl_sdp_new(ovl_sdp_t **out)
{
    *out = NULL;
    ovl_sdp_t *sdp = calloc(1, sizeof(*sdp));
    if (!sdp)
        return OVL_ERR_NOMEM;
    strcpy(sdp->origin_user, "-");
    strcpy(sdp->origin_type, "IP4");
    strcpy(sdp->origin_addr, "0.0.0.0");
    if (ovl_sdp_strndup(&sdp->name, "-", 1) != 0) {
        free(sdp);
        return OVL_ERR_NOMEM;
    }
    *out = sdp;
    return 0;
}

void ovl_sdp_free(ovl_sdp_t *sdp)
{
    if (!sdp)
        return;
    free(sdp->name);
    free(sdp->msid_semantic);
    for (size_t i = 0; i < sdp->n_media; i++)
        ovl_sdp_media_dispose(&sdp->media[i]);
    free(sdp->media);
    lines_dispose(sdp->lines, sdp->n_lines);
    attrs_free(sdp->attrs, sdp->n_attrs);
    free(sdp);
}

static int attrs_copy(ovl_sdp_attr_t **dst, size_t *n_dst, const ovl_sdp_attr_t *src, size_t n)
{
    int ret;
    *dst = NULL;
    *n_dst = 0;
    for (size_t i = 0; i < n; i++) {
        const ovl_sdp_attr_t *a = &src[i];
        if ((ret = ovl_sdp_add_attr(dst, n_dst, a->name, strlen(a->name), a->value, a->value ? strlen(a->value) : 0,
                                    a->value != NULL)) != 0)
            return ret;
    }
    return 0;
}

static int lines_copy(ovl_sdp_line_t *dst, const ovl_sdp_line_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i].type = src[i].type;
        if (dup_opt(&dst[i].value, src[i].value) != 0)
            return OVL_ERR_NOMEM;
    }
    return 0;
}

/* Copies an array of `n` elements of `size` bytes; the owned pointers inside are fixed up by the caller. */
static int array_copy(void **dst, const void *src, size_t n, size_t size)
{
    *dst = NULL;
    if (n == 0)
        return 0;
    if (!(*dst = malloc(n * size)))
        return OVL_ERR_NOMEM;
    memcpy(*dst, src, n * size);
    return 0;
}

int ovl_sdp_media_copy(ovl_sdp_media_t *dst, const ovl_sdp_media_t *src)
{
    int ret = OVL_ERR_NOMEM;
    *dst = *src;
    /* Clear every owned pointer first, so a failure part-way leaves only what was copied to dispose of. */
    dst->fmt = NULL;
    dst->codecs = NULL, dst->n_codecs = 0;
    dst->extmaps = NULL, dst->n_extmaps = 0;
    dst->ssrcs = NULL, dst->n_ssrcs = 0;
    dst->n_rids = 0;
    dst->simulcast = NULL;
    dst->candidates = NULL, dst->n_candidates = 0;
    dst->n_lines = 0;
    dst->attrs = NULL, dst->n_attrs = 0;

    if (dup_opt(&dst->fmt, src->fmt) != 0)
        goto Exit;
    if (array_copy((void **)&dst->codecs, src->codecs, src->n_codecs, sizeof(*src->codecs)) != 0)
        goto Exit;
    for (size_t i = 0; i < src->n_codecs; i++)
        dst->codecs[i].fmtp = NULL;
    dst->n_codecs = src->n_codecs;
    for (size_t i = 0; i < src->n_codecs; i++)
        if (dup_opt(&dst->codecs[i].fmtp, src->codecs[i].fmtp) != 0)
            goto Exit;
    for (size_t i = 0; i < src->n_extmaps; i++)
        if ((ret = ovl_sdp_add_extmap(dst, &src->extmaps[i])) != 0)
            goto Exit;
    for (size_t i = 0; i < src->n_ssrcs; i++)
        if ((ret = ovl_sdp_add_ssrc(dst, src->ssrcs[i].ssrc, src->ssrcs[i].attr, src->ssrcs[i].value)) != 0)
            goto Exit;
    ret = OVL_ERR_NOMEM;
    for (size_t i = 0; i < src->n_rids; i++) {
        dst->rids[i] = src->rids[i];
        dst->rids[i].params = NULL;
        dst->n_rids = i + 1;
        if (dup_opt(&dst->rids[i].params, src->rids[i].params) != 0)
            goto Exit;
    }
    if (src->simulcast) {
        if (!(dst->simulcast = malloc(sizeof(*dst->simulcast))))
            goto Exit;
        *dst->simulcast = *src->simulcast;
    }
    for (size_t i = 0; i < src->n_candidates; i++)
        if ((ret = ovl_sdp_add_candidate(dst, &src->candidates[i])) != 0)
            goto Exit;
    dst->n_lines = src->n_lines;
    memset(dst->lines, 0, sizeof(dst->lines));
    if ((ret = lines_copy(dst->lines, src->lines, src->n_lines)) != 0)
        goto Exit;
    ret = attrs_copy(&dst->attrs, &dst->n_attrs, src->attrs, src->n_attrs);
Exit:
    if (ret != 0)
        ovl_sdp_media_dispose(dst);
    return ret;
}

int ovl_sdp_dup(const ovl_sdp_t *src, ovl_sdp_t **out)
{
    int ret = OVL_ERR_NOMEM;
    ovl_sdp_t *sdp = NULL;
    *out = NULL;
    if (!(sdp = calloc(1, sizeof(*sdp))))
        goto Exit;
    *sdp = *src;
    sdp->name = sdp->msid_semantic = NULL;
    sdp->media = NULL, sdp->n_media = 0;
    sdp->n_lines = 0;
    sdp->attrs = NULL, sdp->n_attrs = 0;
    if (dup_opt(&sdp->name, src->name) != 0 || dup_opt(&sdp->msid_semantic, src->msid_semantic) != 0)
        goto Exit;
    for (size_t i = 0; i < src->n_media; i++) {
        ovl_sdp_media_t *m;
        if ((ret = ovl_sdp_add_media(sdp, &m)) != 0)
            goto Exit;
        if ((ret = ovl_sdp_media_copy(m, &src->media[i])) != 0) {
            sdp->n_media--;
            goto Exit;
        }
    }
    sdp->n_lines = src->n_lines;
    memset(sdp->lines, 0, sizeof(sdp->lines));
    if ((ret = lines_copy(sdp->lines, src->lines, src->n_lines)) != 0)
        goto Exit;
    if ((ret = attrs_copy(&sdp->attrs, &sdp->n_attrs, src->attrs, src->n_attrs)) != 0)
        goto Exit;
    *out = sdp;
    sdp = NULL;
    ret = 0;
Exit:
    ovl_sdp_free(sdp);
    return ret;
}

int ovl_sdp_add_media(ovl_sdp_t *sdp, ovl_sdp_media_t **m_out)
{
    return ovl_sdp_push((void **)&sdp->media, &sdp->n_media, sizeof(*sdp->media), OVL_SDP_MAX_MEDIA, (void **)m_out);
}

int ovl_sdp_add_codec(ovl_sdp_media_t *m, unsigned pt, ovl_sdp_codec_t **c_out)
{
    ovl_sdp_codec_t *c;
    int ret = ovl_sdp_push((void **)&m->codecs, &m->n_codecs, sizeof(*c), OVL_SDP_MAX_CODECS, (void **)&c);
    if (ret != 0)
        return ret;
    c->pt = (uint8_t)pt;
    c->apt = -1;
    *c_out = c;
    return 0;
}

int ovl_sdp_add_attr(ovl_sdp_attr_t **attrs, size_t *n, const char *name, size_t name_len, const char *value,
                     size_t value_len, bool has_value)
{
    ovl_sdp_attr_t *a;
    int ret = ovl_sdp_push((void **)attrs, n, sizeof(*a), OVL_SDP_MAX_ATTRS, (void **)&a);
    if (ret != 0)
        return ret;
    if ((ret = ovl_sdp_strndup(&a->name, name, name_len)) != 0 ||
        (has_value && (ret = ovl_sdp_strndup(&a->value, value, value_len)) != 0)) {
        free(a->name);
        (*n)--;
        return ret;
    }
    return 0;
}

int ovl_sdp_add_candidate(ovl_sdp_media_t *m, const ovl_sdp_candidate_t *src)
{
    ovl_sdp_candidate_t *c;
    int ret = ovl_sdp_push((void **)&m->candidates, &m->n_candidates, sizeof(*c), OVL_SDP_MAX_CANDIDATES, (void **)&c);
    if (ret != 0)
        return ret;
    *c = *src;
    c->ext = NULL;
    if (dup_opt(&c->ext, src->ext) != 0) {
        m->n_candidates--;
        return OVL_ERR_NOMEM;
    }
    return 0;
}

int ovl_sdp_add_ssrc(ovl_sdp_media_t *m, uint32_t ssrc, const char *attr, const char *value)
{
    ovl_sdp_ssrc_t *s;
    int ret = ovl_sdp_push((void **)&m->ssrcs, &m->n_ssrcs, sizeof(*s), OVL_SDP_MAX_SSRCS, (void **)&s);
    if (ret != 0)
        return ret;
    s->ssrc = ssrc;
    if ((ret = ovl_sdp_copy(s->attr, sizeof(s->attr), attr, strlen(attr))) != 0 ||
        (ret = dup_opt(&s->value, value)) != 0) {
        m->n_ssrcs--;
        return ret;
    }
    return 0;
}

int ovl_sdp_add_extmap(ovl_sdp_media_t *m, const ovl_sdp_extmap_t *src)
{
    ovl_sdp_extmap_t *e;
    int ret = ovl_sdp_push((void **)&m->extmaps, &m->n_extmaps, sizeof(*e), OVL_SDP_MAX_EXTMAPS, (void **)&e);
    if (ret != 0)
        return ret;
    *e = *src;
    e->attrs = NULL;
    if (dup_opt(&e->attrs, src->attrs) != 0) {
        m->n_extmaps--;
        return OVL_ERR_NOMEM;
    }
    return 0;
}

ovl_sdp_media_t *ovl_sdp_find_mid(const ovl_sdp_t *sdp, const char *mid)
{
    if (!mid || !mid[0])
        return NULL;
    for (size_t i = 0; i < sdp->n_media; i++)
        if (strcmp(sdp->media[i].mid, mid) == 0)
            return &sdp->media[i];
    return NULL;
}

ovl_sdp_codec_t *ovl_sdp_find_codec(const ovl_sdp_media_t *m, unsigned pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

bool ovl_sdp_media_rejected(const ovl_sdp_media_t *m)
{
    return m->port == 0 && !m->bundle_only;
}

const ovl_sdp_group_t *ovl_sdp_bundle(const ovl_sdp_t *sdp)
{
    for (size_t i = 0; i < sdp->n_groups; i++)
        if (strcmp(sdp->groups[i].semantics, "BUNDLE") == 0)
            return &sdp->groups[i];
    return NULL;
}

ovl_sdp_dir_t ovl_sdp_media_dir(const ovl_sdp_t *sdp, const ovl_sdp_media_t *m)
{
    if (m->dir != OVL_SDP_DIR_NONE)
        return m->dir;
    return sdp->dir != OVL_SDP_DIR_NONE ? sdp->dir : OVL_SDP_DIR_SENDRECV;
}

void ovl_sdp_media_transport(const ovl_sdp_t *sdp, const ovl_sdp_media_t *m, ovl_sdp_transport_t *out)
{
    const ovl_sdp_transport_t *s = &sdp->ice, *l = &m->ice;
    *out = *s;
    if (l->ufrag[0])
        memcpy(out->ufrag, l->ufrag, sizeof(out->ufrag));
    if (l->pwd[0])
        memcpy(out->pwd, l->pwd, sizeof(out->pwd));
    if (l->options[0])
        memcpy(out->options, l->options, sizeof(out->options));
    if (l->n_fingerprints) {
        memcpy(out->fingerprints, l->fingerprints, sizeof(out->fingerprints));
        out->n_fingerprints = l->n_fingerprints;
    }
    if (l->setup != OVL_SDP_SETUP_NONE)
        out->setup = l->setup;
}

const char *ovl_sdp_dir_name(ovl_sdp_dir_t dir)
{
    switch (dir) {
    case OVL_SDP_DIR_SENDRECV:
        return "sendrecv";
    case OVL_SDP_DIR_SENDONLY:
        return "sendonly";
    case OVL_SDP_DIR_RECVONLY:
        return "recvonly";
    case OVL_SDP_DIR_INACTIVE:
        return "inactive";
    default:
        return "";
    }
}
