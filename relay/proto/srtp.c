/* SRTP/SRTCP sessions over libsrtp2; see srtp.h for the contract. */
#include "relay/proto/srtp.h"

#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "relay/proto/cursor.h"

_Static_assert(OVL_SRTP_MAX_OVERHEAD == SRTP_MAX_TRAILER_LEN + 4, "OVL_SRTP_MAX_OVERHEAD must follow libsrtp");
_Static_assert(OVL_SRTP_MAX_MASTER_LEN == SRTP_AES_ICM_128_KEY_LEN_WSALT, "longest master key+salt");

struct ovl_srtp_session {
    srtp_t ctx; /* owned */
    const ovl_srtp_profile_info_t *info;
    ovl_srtp_direction_t direction;
};

/* The one profile table: RFC 5764 §4.1.2 (AES_CM_128_HMAC_SHA1_80: 128-bit key, 112-bit salt, 80-bit
 * tag) and RFC 7714 §12/§14.2 (AEAD_AES_128_GCM: 128-bit key, 96-bit salt, 128-bit tag). SRTCP adds
 * the 4-octet E flag + index (RFC 3711 §3.4) to the tag. Preference order: GCM first (cheaper here). */
static const ovl_srtp_profile_info_t profiles[] = {
    {OVL_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", "SRTP_AEAD_AES_128_GCM", 16, 12, 16, 16 + 4},
    {OVL_SRTP_AES128_CM_SHA1_80, "AES_CM_128_HMAC_SHA1_80", "SRTP_AES128_CM_SHA1_80", 16, 14, 10, 10 + 4},
};

/* libsrtp's crypto kernel is process-global; srtp_init() must run exactly once before any session. */
static pthread_once_t libsrtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t libsrtp_status = srtp_err_status_init_fail;

static void libsrtp_init(void)
{
    libsrtp_status = srtp_init();
}

const ovl_srtp_profile_info_t *ovl_srtp_profile_info(ovl_srtp_profile_t profile)
{
    for (size_t i = 0; i < OVL_ARRAY_LEN(profiles); i++)
        if (profiles[i].profile == profile)
            return &profiles[i];
    return NULL;
}

const ovl_srtp_profile_info_t *ovl_srtp_profile_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < OVL_ARRAY_LEN(profiles); i++)
        if (strcmp(profiles[i].name, name) == 0 || strcmp(profiles[i].dtls_name, name) == 0)
            return &profiles[i];
    return NULL;
}

static int map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return OVL_ERR_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
    case srtp_err_status_pkt_idx_old:
    case srtp_err_status_pkt_idx_adv:
        return OVL_ERR_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki:
        return OVL_ERR_PARSE;
    case srtp_err_status_alloc_fail:
        return OVL_ERR_NOMEM;
    case srtp_err_status_key_expired:
        return OVL_ERR_LIMIT;
    case srtp_err_status_no_ctx:
        return OVL_ERR_NOTFOUND;
    default:
        return OVL_ERR_CRYPTO;
    }
}

int ovl_srtp_new(const ovl_srtp_config_t *cfg, ovl_srtp_session_t **out)
{
    int ret;
    ovl_srtp_session_t *s = NULL;
    srtp_policy_t policy;
    uint8_t key[64] = {0}; /* libsrtp reads key_len + salt_len octets; zero padding beyond */

    if (out)
        *out = NULL;
    if (!cfg || !out || !cfg->master) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(cfg->profile);
    uint32_t window = cfg->replay_window ? cfg->replay_window : OVL_SRTP_DEFAULT_REPLAY_WINDOW;
    if (!info || cfg->master_len != info->key_len + info->salt_len || window < 64 || window > 0x7fff ||
        (cfg->direction != OVL_SRTP_INBOUND && cfg->direction != OVL_SRTP_OUTBOUND)) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    pthread_once(&libsrtp_once, libsrtp_init);
    if (libsrtp_status != srtp_err_status_ok) {
        ret = OVL_ERR_CRYPTO;
        goto Exit;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    s->info = info;
    s->direction = cfg->direction;

    memset(&policy, 0, sizeof(policy));
    if (info->profile == OVL_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    memcpy(key, cfg->master, cfg->master_len);
    policy.ssrc.type = cfg->direction == OVL_SRTP_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = key;
    policy.window_size = window;
    policy.allow_repeat_tx = cfg->direction == OVL_SRTP_OUTBOUND && cfg->allow_repeat_tx;
    srtp_err_status_t st = srtp_create(&s->ctx, &policy);
    if (st != srtp_err_status_ok) {
        s->ctx = NULL;
        ret = st == srtp_err_status_alloc_fail ? OVL_ERR_NOMEM : OVL_ERR_CRYPTO;
        goto Exit;
    }
    *out = s;
    s = NULL;
    ret = 0;

Exit:
    OPENSSL_cleanse(key, sizeof(key));
    ovl_srtp_free(s);
    return ret;
}

void ovl_srtp_free(ovl_srtp_session_t *s)
{
    if (!s)
        return;
    if (s->ctx)
        srtp_dealloc(s->ctx);
    free(s);
}

ovl_srtp_profile_t ovl_srtp_session_profile(const ovl_srtp_session_t *s)
{
    return s ? s->info->profile : OVL_SRTP_PROFILE_NONE;
}

/*
 * RFC 3550 §5.1 fixed header, then RFC 3550 §5.3.1 / RFC 8285 extension header:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           synchronization source (SSRC) identifier            |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |            contributing source (CSRC) identifiers             |
 *   |                             ....                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      defined by profile       |           length              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        header extension                       |
 *
 * Only what libsrtp relies on is checked: version, and that CSRCs and the extension fit.
 */
static int check_rtp_header(const uint8_t *buf, size_t len, size_t *hdr_len)
{
    const uint8_t *p = buf, *end = buf + len;
    uint8_t b0, b1;
    uint16_t seq, ext_profile, ext_words;
    uint32_t ts, ssrc;

    if (ovl_get_u8(&p, end, &b0) || ovl_get_u8(&p, end, &b1) || ovl_get_u16(&p, end, &seq) ||
        ovl_get_u32(&p, end, &ts) || ovl_get_u32(&p, end, &ssrc))
        return OVL_ERR_PARSE;
    if ((b0 >> 6) != 2)
        return OVL_ERR_PARSE;
    if (ovl_skip(&p, end, 4u * (b0 & 0x0f)))
        return OVL_ERR_PARSE;
    if (b0 & 0x10) {
        if (ovl_get_u16(&p, end, &ext_profile) || ovl_get_u16(&p, end, &ext_words) || ovl_skip(&p, end, 4u * ext_words))
            return OVL_ERR_PARSE;
    }
    *hdr_len = (size_t)(p - buf);
    return 0;
}

/*
 * RFC 3550 §6.4.1 common RTCP header (the first packet of a compound packet):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|    RC   |      PT       |             length            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         SSRC of sender                        |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * SRTCP (RFC 3711 §3.4) keeps these 8 octets in the clear; libsrtp needs them and the version.
 */
static int check_rtcp_header(const uint8_t *buf, size_t len, size_t *hdr_len)
{
    const uint8_t *p = buf, *end = buf + len;
    uint8_t b0, pt;
    uint16_t words;
    uint32_t ssrc;

    if (ovl_get_u8(&p, end, &b0) || ovl_get_u8(&p, end, &pt) || ovl_get_u16(&p, end, &words) ||
        ovl_get_u32(&p, end, &ssrc))
        return OVL_ERR_PARSE;
    *hdr_len = (size_t)(p - buf);
    return (b0 >> 6) == 2 ? 0 : OVL_ERR_PARSE;
}

static int transform(ovl_srtp_session_t *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp, bool protect)
{
    int ret, n;
    size_t hdr_len = 0;
    srtp_err_status_t st;

    if (!s || !buf || !len)
        return OVL_ERR_ARG;
    if (s->direction != (protect ? OVL_SRTP_OUTBOUND : OVL_SRTP_INBOUND))
        return OVL_ERR_STATE;
    if ((ret = rtcp ? check_rtcp_header(buf, *len, &hdr_len) : check_rtp_header(buf, *len, &hdr_len)) != 0)
        return ret;
    /* What is received must at least carry the clear header and the trailer (tag; SRTCP: E+index too). */
    if (!protect && *len - hdr_len < (rtcp ? s->info->rtcp_overhead : s->info->rtp_overhead))
        return OVL_ERR_PARSE;
    if (protect && (cap < *len || cap - *len < OVL_SRTP_MAX_OVERHEAD))
        return OVL_ERR_LIMIT;
    if (*len > (size_t)INT_MAX - OVL_SRTP_MAX_OVERHEAD)
        return OVL_ERR_LIMIT;
    n = (int)*len;
    if (protect)
        st = rtcp ? srtp_protect_rtcp(s->ctx, buf, &n) : srtp_protect(s->ctx, buf, &n);
    else
        st = rtcp ? srtp_unprotect_rtcp(s->ctx, buf, &n) : srtp_unprotect(s->ctx, buf, &n);
    if (st != srtp_err_status_ok)
        return map_status(st);
    if (n < 0)
        return OVL_ERR_CRYPTO;
    *len = (size_t)n;
    return 0;
}

int ovl_srtp_protect_rtp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    return transform(s, buf, len, cap, false, true);
}

int ovl_srtp_unprotect_rtp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len)
{
    return transform(s, buf, len, 0, false, false);
}

int ovl_srtp_protect_rtcp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    return transform(s, buf, len, cap, true, true);
}

int ovl_srtp_unprotect_rtcp(ovl_srtp_session_t *s, uint8_t *buf, size_t *len)
{
    return transform(s, buf, len, 0, true, false);
}

int ovl_srtp_remove_stream(ovl_srtp_session_t *s, uint32_t ssrc)
{
    if (!s)
        return OVL_ERR_ARG;
    /* libsrtp 2.x keys its streams by the SSRC as it appears on the wire (network order). */
    srtp_err_status_t st = srtp_remove_stream(s->ctx, htonl(ssrc));
    return st == srtp_err_status_ok ? 0 : st == srtp_err_status_no_ctx ? OVL_ERR_NOTFOUND : map_status(st);
}
