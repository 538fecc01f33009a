/*
 * bench_relay's SDP: what a browser would send. A publisher's first offer is Chromium's captured
 * audio + camera + screen-slot offer (tests/data/chromium-offer-av-screen.sdp), a receiver's is
 * Chromium's recvonly audio + video offer (tests/data/chromium-offer-recvonly.sdp); each gets the
 * participant's own ICE credentials, DTLS fingerprint and SSRCs. Relay offers are answered as a
 * browser answers them (directions mirrored, setup:active, own credentials), and the relay's
 * answer is read back for its ICE credentials, candidate and fingerprint.
 * Included once, by bench_relay.c.
 */
#ifndef OVL_BENCH_RELAY_SDP_H
#define OVL_BENCH_RELAY_SDP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/cursor.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/ice.h"
#include "relay/proto/sdp.h"

/* The SSRCs of the captured offer's sending tracks (audio; camera + RTX; screen + RTX). */
#define SDP_AUDIO_SSRC  221197464u
#define SDP_CAMERA_SSRC 3620418310u
/* Payload types and extension ids of the captured offer, which the relay's answer keeps. */
#define SDP_PT_OPUS        111
#define SDP_PT_VP8         96
#define SDP_EXT_AUDIO_LVL  1
#define SDP_EXT_ABS_SEND   2
#define SDP_EXT_TWCC       3
#define SDP_FP_TEXT_MAX    (OVL_DTLS_FINGERPRINT_TEXT_MAX + 16)
#define SDP_OFFER_FILE_MAX (64 * 1024)

/* A participant's identity in SDP. */
typedef struct sdp_ident {
    char ufrag[16], pwd[40];
    const char *fingerprint; /* "sha-256 AB:CD:...", borrowed */
    uint32_t ssrc_salt;      /* XORed into every a=ssrc of the template */
} sdp_ident_t;

/* What the relay's answer says about its side. */
typedef struct sdp_relay {
    char ufrag[OVL_SDP_ICE_LEN], pwd[OVL_SDP_ICE_LEN];
    ovl_ice_path_t cand;
    ovl_dtls_fingerprint_t fp;
} sdp_relay_t;

/* tests/data/<name>, its "#" comment lines removed: a new string, or NULL. */
static char *sdp_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s", __FILE__); /* .../tests/bench/bench_relay_sdp.h */
    char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    snprintf(slash, sizeof(path) - (size_t)(slash - path), "/../data/%s", name);
    FILE *f = fopen(path, "rb");
    char *buf = f ? calloc(1, SDP_OFFER_FILE_MAX + 1) : NULL;
    if (!buf) {
        if (f)
            fclose(f);
        fprintf(stderr, "bench_relay: cannot read %s\n", path);
        return NULL;
    }
    size_t n = fread(buf, 1, SDP_OFFER_FILE_MAX, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == '#' && strchr(p, '\n'))
        p = strchr(p, '\n') + 1;
    memmove(buf, p, strlen(p) + 1);
    return buf;
}

static bool sdp_starts(const char *line, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(line, prefix, k) == 0;
}

/* Rewrites a=ssrc:N / a=ssrc-group:FID N M values (the rest of the line kept). */
static size_t sdp_rewrite_ssrcs(const char *line, size_t n, uint32_t salt, char *o, size_t cap)
{
    size_t w = 0;
    const char *p = line, *end = line + n;
    while (p < end && w + 16 < cap) {
        if (*p >= '0' && *p <= '9' && (p == line || p[-1] == ':' || p[-1] == ' ')) {
            char *after;
            unsigned long v = strtoul(p, &after, 10);
            if (after <= end && (after == end || *after == ' ' || *after == '\r' || *after == '\n')) {
                w += (size_t)snprintf(o + w, cap - w, "%lu", (unsigned long)((uint32_t)v ^ salt));
                p = after;
                continue;
            }
        }
        o[w++] = *p++;
    }
    return w;
}

/* The template offer `tmpl` with the participant's credentials, fingerprint and SSRCs: a new string. */
static char *sdp_offer(const char *tmpl, const sdp_ident_t *id)
{
    size_t cap = strlen(tmpl) * 2 + 4096, w = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = tmpl; *p && w + 1024 < cap;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (sdp_starts(p, n, "a=ice-ufrag:"))
            w += (size_t)snprintf(out + w, cap - w, "a=ice-ufrag:%s\r\n", id->ufrag);
        else if (sdp_starts(p, n, "a=ice-pwd:"))
            w += (size_t)snprintf(out + w, cap - w, "a=ice-pwd:%s\r\n", id->pwd);
        else if (sdp_starts(p, n, "a=fingerprint:"))
            w += (size_t)snprintf(out + w, cap - w, "a=fingerprint:%s\r\n", id->fingerprint);
        else if (sdp_starts(p, n, "a=ssrc:") || sdp_starts(p, n, "a=ssrc-group:"))
            w += sdp_rewrite_ssrcs(p, n, id->ssrc_salt, out + w, cap - w);
        else {
            memcpy(out + w, p, n);
            w += n;
        }
        p += n;
    }
    out[w] = '\0';
    return out;
}

/* The relay's ICE credentials, first candidate and DTLS fingerprint from its answer. 0 or -1. */
static int sdp_read_relay(const char *text, sdp_relay_t *r)
{
    int ret = -1;
    ovl_sdp_t *sdp = NULL;
    ovl_sdp_transport_t tp;
    char fp[SDP_FP_TEXT_MAX];
    memset(r, 0, sizeof(*r));
    if (ovl_sdp_parse(text, strlen(text), &sdp, NULL) != 0 || sdp->n_media == 0)
        goto Exit;
    ovl_sdp_media_transport(sdp, &sdp->media[0], &tp);
    const ovl_sdp_media_t *m = &sdp->media[0];
    if (!tp.ufrag[0] || !tp.pwd[0] || tp.n_fingerprints == 0 || m->n_candidates == 0)
        goto Exit;
    snprintf(r->ufrag, sizeof(r->ufrag), "%s", tp.ufrag);
    snprintf(r->pwd, sizeof(r->pwd), "%s", tp.pwd);
    if (ovl_addr_parse(&r->cand.addr, m->candidates[0].address, m->candidates[0].port) != 0)
        goto Exit;
    size_t n = (size_t)snprintf(fp, sizeof(fp), "%s ", tp.fingerprints[0].hash);
    for (size_t i = 0; i < tp.fingerprints[0].len && n + 4 < sizeof(fp); i++)
        n += (size_t)snprintf(fp + n, sizeof(fp) - n, i ? ":%02X" : "%02X", tp.fingerprints[0].bytes[i]);
    ret = ovl_dtls_fingerprint_parse(fp, n, &r->fp) == 0 ? 0 : -1;
Exit:
    ovl_sdp_free(sdp);
    return ret;
}

/* A browser's answer to a relay offer: a new string, or NULL. `fp` is the participant's own. */
static char *sdp_answer(const char *offer, const sdp_ident_t *id, const ovl_dtls_fingerprint_t *fp)
{
    ovl_sdp_t *sdp = NULL;
    uint8_t *buf = NULL;
    ovl_wbuf_t wb;
    if (ovl_sdp_parse(offer, strlen(offer), &sdp, NULL) != 0)
        return NULL;
    sdp->ice_lite = false;
    for (size_t i = 0; i < sdp->n_media; i++) {
        ovl_sdp_media_t *m = &sdp->media[i];
        m->dir = m->dir == OVL_SDP_DIR_SENDONLY   ? OVL_SDP_DIR_RECVONLY
                 : m->dir == OVL_SDP_DIR_RECVONLY ? OVL_SDP_DIR_SENDONLY
                                                  : m->dir;
        if (m->ice.setup != OVL_SDP_SETUP_NONE)
            m->ice.setup = OVL_SDP_SETUP_ACTIVE;
        if (m->ice.ufrag[0]) {
            snprintf(m->ice.ufrag, sizeof(m->ice.ufrag), "%s", id->ufrag);
            snprintf(m->ice.pwd, sizeof(m->ice.pwd), "%s", id->pwd);
        }
        if (m->ice.n_fingerprints) {
            memcpy(m->ice.fingerprints[0].bytes, fp->bytes, fp->len);
            m->ice.fingerprints[0].len = fp->len;
        }
        for (size_t k = 0; k < m->n_candidates; k++)
            ovl_sdp_candidate_dispose(&m->candidates[k]);
        m->n_candidates = 0;
        m->end_of_candidates = false;
    }
    if ((buf = malloc(4 * OVL_SDP_MAX_SIZE + 1))) {
        ovl_wbuf_init(&wb, buf, 4 * OVL_SDP_MAX_SIZE);
        if (ovl_sdp_write(sdp, &wb) == 0)
            buf[wb.len] = '\0';
        else {
            free(buf);
            buf = NULL;
        }
    }
    ovl_sdp_free(sdp);
    return (char *)buf;
}

#endif
