/*
 * DTLS-SRTP endpoint over OpenSSL 3; see dtls.h for the contract.
 *
 * I/O: instead of the usual pair of memory BIOs this uses one small custom BIO, because a memory
 * BIO concatenates records and loses the datagram boundaries DTLS depends on. Reads hand OpenSSL
 * exactly the datagram being fed (borrowed, no copy); writes are packed into datagrams of at most
 * `mtu` bytes the way OpenSSL's DTLS writer expects (it sizes each record by BIO_wpending and calls
 * BIO_flush when a datagram is full) and each finished datagram goes to the output callback.
 *
 * Timers, and why they are correct. OpenSSL 3.0 keeps its DTLS retransmission deadline as
 * gettimeofday() + duration (d1_lib.c) and checks it at the top of EVERY record read
 * (dtls1_read_bytes -> dtls1_handle_timeout), retransmitting on its own whenever the wall clock is
 * past it. No public call sets its clock or expires its timer early; DTLS_set_timer_cb only chooses
 * the duration of the NEXT period. A "tiny duration" therefore does not mean "expire when I say":
 * with it every read retransmits the flight, and the read loop (which re-checks the timer after each
 * retransmission) spins through all 12 allowed timeouts and fails the handshake at once. So:
 *  - The schedule is ours, on the caller's clock: 1 s, doubling, capped, at most N retransmissions.
 *  - timer_cb returns the same durations, so OpenSSL's wall-clock timer runs in step with ours, and
 *    tells us when a flight starts (prev 0) or OpenSSL retransmitted by itself (prev != 0, only if a
 *    datagram arrives just as its wall clock expires; we then re-base our deadline on `now`).
 *  - When our deadline passes, DTLSv1_handle_timeout() retransmits natively (fresh record sequence
 *    numbers) whenever OpenSSL's wall clock agrees, which in a real process it does (both clocks
 *    advance in real time; OpenSSL counts < 15 ms left as expired).
 *  - When it does not (a simulated clock in tests, a stepped system clock), we re-send the datagrams
 *    of our last flight byte for byte. RFC 6347 §4.2.4 retransmission exists to recover a lost
 *    flight: records the peer never received are accepted as they are, records it did receive are
 *    discarded as duplicates (§4.1.2.6), which is harmless. The only case a verbatim copy cannot
 *    cover is a client whose LAST flight arrived but whose server's final flight was lost: the server
 *    answers only a retransmission with fresh record numbers. The relay is always the DTLS server
 *    (a=setup:passive), whose final flight OpenSSL re-sends on the client's retransmission.
 */
#include "relay/proto/dtls.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define FLIGHT_MAX_BYTES     8192 /* our flights are ~1-2 kB (one P-256 certificate) */
#define FLIGHT_MAX_DATAGRAMS 16

static const ovl_srtp_profile_t default_profiles[] = {OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_AES128_CM_SHA1_80};

/* ECDHE only, AEAD first; ECDSA for our own certificate, RSA too when we are the client. */
static const char cipher_list[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                                  "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:"
                                  "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";

struct ovl_dtls {
    SSL_CTX *ctx;         /* owned */
    SSL *ssl;             /* owned; owns the BIO */
    BIO_METHOD *bio_meth; /* owned */
    ovl_dtls_role_t role;
    ovl_dtls_state_t state;
    ovl_dtls_fingerprint_t remote_fp;
    size_t mtu;
    ovl_time_t rto_initial, rto_max;
    unsigned max_retransmits;
    ovl_dtls_output_cb output;
    ovl_dtls_event_cb event;
    void *user;

    /* The datagram being fed: borrowed for one ovl_dtls_feed. */
    const uint8_t *in;
    size_t in_len;
    /* The datagram being packed. */
    uint8_t out[OVL_DTLS_MAX_MTU];
    size_t out_len;
    /* Our last flight, kept for a verbatim re-send. */
    uint8_t flight[FLIGHT_MAX_BYTES];
    size_t flight_len, flight_count;
    uint16_t flight_sizes[FLIGHT_MAX_DATAGRAMS];
    bool flight_overflow;

    /* Retransmission schedule on the caller's clock. */
    ovl_time_t deadline, rto;
    unsigned retransmits;
    bool flight_started; /* this call: OpenSSL began a new flight */
    bool openssl_retx;   /* this call: OpenSSL retransmitted on its own */
    bool in_timeout;     /* inside our DTLSv1_handle_timeout */

    int fail_error; /* set by the verify callback before OpenSSL fails the handshake */
    int peer_alert; /* fatal alert received, or -1 */
    char reason[200];
};

/* ---- datagram BIO ------------------------------------------------------------------------------ */

static void emit(ovl_dtls_t *d, const uint8_t *data, size_t len)
{
    if (d->state == OVL_DTLS_CONNECTING) { /* a verbatim re-send bypasses emit() */
        if (!d->flight_overflow && d->flight_count < FLIGHT_MAX_DATAGRAMS && len <= sizeof(d->flight) - d->flight_len) {
            memcpy(d->flight + d->flight_len, data, len);
            d->flight_sizes[d->flight_count++] = (uint16_t)len;
            d->flight_len += len;
        } else {
            d->flight_overflow = true;
        }
    }
    d->output(d->user, data, len);
}

static void flush_out(ovl_dtls_t *d)
{
    if (d->out_len) {
        size_t n = d->out_len;
        d->out_len = 0;
        emit(d, d->out, n);
    }
}

static int bio_write(BIO *b, const char *data, int len)
{
    ovl_dtls_t *d = BIO_get_data(b);
    if (len <= 0)
        return 0;
    if (d->out_len && d->out_len + (size_t)len > d->mtu)
        flush_out(d);
    if ((size_t)len > d->mtu) { /* larger than a datagram (never a handshake record): on its own */
        emit(d, (const uint8_t *)data, (size_t)len);
        return len;
    }
    memcpy(d->out + d->out_len, data, (size_t)len);
    d->out_len += (size_t)len;
    return len;
}

static int bio_read(BIO *b, char *buf, int cap)
{
    ovl_dtls_t *d = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!d->in || cap <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = d->in_len < (size_t)cap ? d->in_len : (size_t)cap; /* recvfrom semantics: excess is lost */
    memcpy(buf, d->in, n);
    d->in = NULL;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    ovl_dtls_t *d = BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        flush_out(d);
        return 1;
    case BIO_CTRL_WPENDING:
        return (long)d->out_len;
    case BIO_CTRL_PENDING:
        return d->in ? (long)d->in_len : 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return (long)d->mtu;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 28; /* IPv4 + UDP */
    default:
        return 0; /* including BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT: the clock is the caller's */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

/* ---- failure, events -------------------------------------------------------------------------- */

static int fail(ovl_dtls_t *d, int error, const char *reason)
{
    if (d->state == OVL_DTLS_FAILED)
        return d->fail_error;
    d->state = OVL_DTLS_FAILED;
    d->fail_error = error;
    d->deadline = OVL_TIME_NEVER;
    if (reason != d->reason)
        snprintf(d->reason, sizeof(d->reason), "%s", reason);
    ovl_dtls_event_t ev = {.type = OVL_DTLS_EVENT_FAILED, .error = error, .reason = d->reason};
    d->event(d->user, &ev);
    return error;
}

static bool is_auth_alert(int desc)
{
    return desc == SSL_AD_HANDSHAKE_FAILURE || (desc >= SSL_AD_BAD_CERTIFICATE && desc <= SSL_AD_ACCESS_DENIED) ||
           desc == SSL_AD_DECRYPT_ERROR;
}

/* The handshake or a read failed inside OpenSSL: say why, most specific reason first. */
static int fail_from_openssl(ovl_dtls_t *d)
{
    int ret;
    if (d->fail_error) { /* our fingerprint check; reason already written */
        ret = fail(d, d->fail_error, d->reason);
    } else if (d->peer_alert >= 0) {
        snprintf(d->reason, sizeof(d->reason), "DTLS peer sent fatal alert: %s",
                 SSL_alert_desc_string_long(d->peer_alert));
        ret = fail(d, is_auth_alert(d->peer_alert) ? OVL_ERR_AUTH : OVL_ERR_STATE, d->reason);
    } else {
        unsigned long e = ERR_peek_last_error();
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        snprintf(d->reason, sizeof(d->reason), "DTLS handshake failed: %s", why ? why : "unknown error");
        ret = fail(d, OVL_ERR_CRYPTO, d->reason);
    }
    ERR_clear_error();
    return ret;
}

/* RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt. */
static int on_connected(ovl_dtls_t *d)
{
    int ret;
    uint8_t km[2 * OVL_SRTP_MAX_MASTER_LEN];
    ovl_dtls_srtp_keys_t keys;

    memset(&keys, 0, sizeof(keys));
    SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(d->ssl);
    const ovl_srtp_profile_info_t *info = sp ? ovl_srtp_profile_info((ovl_srtp_profile_t)sp->id) : NULL;
    if (!info) {
        ret = fail(d, OVL_ERR_UNSUPPORTED,
                   "DTLS peer negotiated no SRTP protection profile that we offer (use_srtp, RFC 5764)");
        goto Exit;
    }
    if (SSL_get0_peer_certificate(d->ssl) == NULL) {
        ret = fail(d, OVL_ERR_AUTH, "DTLS peer presented no certificate");
        goto Exit;
    }
    size_t k = info->key_len, s = info->salt_len;
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(d->ssl, km, 2 * (k + s), label, sizeof(label) - 1, NULL, 0, 0) != 1) {
        ret = fail(d, OVL_ERR_CRYPTO, "DTLS-SRTP keying material export failed");
        goto Exit;
    }
    const uint8_t *client_key = km, *server_key = km + k, *client_salt = km + 2 * k, *server_salt = km + 2 * k + s;
    bool client = d->role == OVL_DTLS_CLIENT;
    keys.profile = info->profile;
    keys.master_len = k + s;
    memcpy(keys.local, client ? client_key : server_key, k);
    memcpy(keys.local + k, client ? client_salt : server_salt, s);
    memcpy(keys.remote, client ? server_key : client_key, k);
    memcpy(keys.remote + k, client ? server_salt : client_salt, s);
    d->state = OVL_DTLS_CONNECTED;
    d->deadline = OVL_TIME_NEVER;
    ovl_dtls_event_t ev = {.type = OVL_DTLS_EVENT_CONNECTED, .keys = &keys};
    d->event(d->user, &ev);
    ret = 0;

Exit:
    OPENSSL_cleanse(km, sizeof(km));
    OPENSSL_cleanse(&keys, sizeof(keys));
    return ret;
}

/* ---- OpenSSL callbacks ------------------------------------------------------------------------ */

/* Accepts the peer's certificate, self-signed or not, iff its hash is the remote a=fingerprint. */
static int verify_cert(X509_STORE_CTX *store, void *arg)
{
    ovl_dtls_t *d = arg;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const EVP_MD *h = NULL;

    switch (d->remote_fp.hash) {
    case OVL_DTLS_HASH_SHA1:
        h = EVP_sha1();
        break;
    case OVL_DTLS_HASH_SHA224:
        h = EVP_sha224();
        break;
    case OVL_DTLS_HASH_SHA256:
        h = EVP_sha256();
        break;
    case OVL_DTLS_HASH_SHA384:
        h = EVP_sha384();
        break;
    case OVL_DTLS_HASH_SHA512:
        h = EVP_sha512();
        break;
    default:
        break;
    }
    X509 *peer = X509_STORE_CTX_get0_cert(store);
    if (peer && h && X509_digest(peer, h, md, &n) == 1 && n == d->remote_fp.len &&
        CRYPTO_memcmp(md, d->remote_fp.bytes, n) == 0)
        return 1;
    d->fail_error = OVL_ERR_AUTH;
    snprintf(d->reason, sizeof(d->reason), "peer certificate fingerprint does not match a=fingerprint");
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

static unsigned int clamp_us(ovl_time_t t)
{
    return t > UINT_MAX ? UINT_MAX : (unsigned int)t;
}

/* Called by OpenSSL when a flight starts (prev 0) and before each of its own retransmissions. */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    ovl_dtls_t *d = SSL_get_app_data(ssl);
    flush_out(d); /* whatever is packed belongs to what came before */
    d->flight_len = d->flight_count = 0;
    d->flight_overflow = false;
    if (prev_us == 0) {
        d->flight_started = true;
        return clamp_us(d->rto_initial);
    }
    if (!d->in_timeout)
        d->openssl_retx = true;
    ovl_time_t next = (ovl_time_t)prev_us * 2;
    return clamp_us(next > d->rto_max ? d->rto_max : next);
}

static void info_cb(const SSL *ssl, int where, int value)
{
    ovl_dtls_t *d = SSL_get_app_data(ssl);
    if ((where & SSL_CB_READ_ALERT) && (value >> 8) == SSL3_AL_FATAL)
        d->peer_alert = value & 0xff;
}

/* ---- driving OpenSSL --------------------------------------------------------------------------- */

static int read_records(ovl_dtls_t *d)
{
    uint8_t sink[2048];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(d->ssl, sink, sizeof(sink));
        if (r > 0)
            continue; /* application data: WebRTC media does not use it */
        int e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN) {
            SSL_shutdown(d->ssl); /* answer with our close_notify */
            ERR_clear_error();
            d->state = OVL_DTLS_CLOSED;
            ovl_dtls_event_t ev = {.type = OVL_DTLS_EVENT_CLOSED};
            d->event(d->user, &ev);
            return 0;
        }
        return fail_from_openssl(d);
    }
}

static int drive(ovl_dtls_t *d)
{
    if (d->state == OVL_DTLS_CONNECTING) {
        ERR_clear_error();
        int r = SSL_do_handshake(d->ssl);
        if (r != 1) {
            int e = SSL_get_error(d->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                return 0;
            }
            return fail_from_openssl(d);
        }
        int ret = on_connected(d);
        if (ret)
            return ret;
    }
    if (d->state == OVL_DTLS_CONNECTED)
        return read_records(d);
    return 0;
}

static ovl_time_t next_rto(const ovl_dtls_t *d)
{
    ovl_time_t next = d->rto * 2;
    return next > d->rto_max ? d->rto_max : next;
}

/* After every call into OpenSSL: send what is packed, then bring our schedule up to date. */
static void after_call(ovl_dtls_t *d, ovl_time_t now)
{
    struct timeval tv;
    flush_out(d);
    if (d->state != OVL_DTLS_CONNECTING || SSL_is_init_finished(d->ssl) || DTLSv1_get_timeout(d->ssl, &tv) != 1) {
        d->deadline = OVL_TIME_NEVER; /* no flight of ours awaits an answer */
    } else if (d->flight_started) {
        d->retransmits = 0;
        d->rto = d->rto_initial;
        d->deadline = now + d->rto;
    } else if (d->openssl_retx) {
        d->retransmits++;
        d->rto = next_rto(d);
        d->deadline = now + d->rto;
    }
    d->flight_started = d->openssl_retx = false;
}

/* ---- public API ---------------------------------------------------------------------------------- */

static int make_ssl(ovl_dtls_t *d, const ovl_dtls_config_t *cfg)
{
    char srtp_list[128] = "";
    const ovl_srtp_profile_t *profiles = cfg->profiles ? cfg->profiles : default_profiles;
    size_t n_profiles = cfg->profiles ? cfg->n_profiles : OVL_ARRAY_LEN(default_profiles);
    BIO *bio = NULL;

    if (n_profiles == 0)
        return OVL_ERR_ARG;
    for (size_t i = 0; i < n_profiles; i++) {
        const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(profiles[i]);
        if (!info || strlen(srtp_list) + strlen(info->dtls_name) + 2 > sizeof(srtp_list))
            return OVL_ERR_ARG;
        if (i)
            strcat(srtp_list, ":");
        strcat(srtp_list, info->dtls_name);
    }
    if ((d->ctx = SSL_CTX_new(DTLS_method())) == NULL)
        return OVL_ERR_NOMEM;
    SSL_CTX_set_options(d->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(d->ctx, verify_cert, d);
    if (SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(d->ctx, cipher_list) != 1 ||
        SSL_CTX_set1_groups_list(d->ctx, "X25519:P-256:P-384") != 1 ||
        SSL_CTX_use_certificate(d->ctx, ovl_dtls_cert_x509(cfg->cert)) != 1 ||
        SSL_CTX_use_PrivateKey(d->ctx, ovl_dtls_cert_key(cfg->cert)) != 1 || (d->ssl = SSL_new(d->ctx)) == NULL ||
        (d->bio_meth = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "ovl_dtls")) == NULL)
        return OVL_ERR_CRYPTO;
    /* SSL_set_tlsext_use_srtp returns 0 on success; SSL_set_mtu returns the MTU it set. */
    if (SSL_set_tlsext_use_srtp(d->ssl, srtp_list) != 0 || SSL_set_mtu(d->ssl, (long)d->mtu) != (long)d->mtu)
        return OVL_ERR_CRYPTO;
    if (BIO_meth_set_write(d->bio_meth, bio_write) != 1 || BIO_meth_set_read(d->bio_meth, bio_read) != 1 ||
        BIO_meth_set_ctrl(d->bio_meth, bio_ctrl) != 1 || BIO_meth_set_create(d->bio_meth, bio_create) != 1 ||
        BIO_meth_set_destroy(d->bio_meth, bio_destroy) != 1 || (bio = BIO_new(d->bio_meth)) == NULL)
        return OVL_ERR_CRYPTO;
    BIO_set_data(bio, d);
    SSL_set_bio(d->ssl, bio, bio); /* the SSL owns the one reference */
    SSL_set_app_data(d->ssl, d);
    SSL_set_info_callback(d->ssl, info_cb);
    DTLS_set_timer_cb(d->ssl, timer_cb);
    if (d->role == OVL_DTLS_CLIENT)
        SSL_set_connect_state(d->ssl);
    else
        SSL_set_accept_state(d->ssl);
    return 0;
}

int ovl_dtls_new(const ovl_dtls_config_t *cfg, ovl_dtls_t **out)
{
    int ret;
    ovl_dtls_t *d = NULL;

    if (out)
        *out = NULL;
    if (!cfg || !out || !cfg->cert || !cfg->remote_fingerprint || !cfg->output || !cfg->event ||
        (cfg->role != OVL_DTLS_CLIENT && cfg->role != OVL_DTLS_SERVER) || cfg->remote_fingerprint->len == 0 ||
        cfg->remote_fingerprint->len > OVL_DTLS_FINGERPRINT_MAX || cfg->mtu > OVL_DTLS_MAX_MTU ||
        (cfg->mtu && cfg->mtu < 256)) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    d->role = cfg->role;
    d->state = cfg->role == OVL_DTLS_SERVER ? OVL_DTLS_CONNECTING : OVL_DTLS_NEW;
    d->remote_fp = *cfg->remote_fingerprint;
    d->mtu = cfg->mtu ? cfg->mtu : OVL_DTLS_DEFAULT_MTU;
    d->rto_initial = cfg->rto_initial ? cfg->rto_initial : OVL_SEC(1);
    d->rto_max = cfg->rto_max ? cfg->rto_max : OVL_SEC(8);
    if (d->rto_max < d->rto_initial)
        d->rto_max = d->rto_initial;
    d->max_retransmits = cfg->max_retransmits ? cfg->max_retransmits : 5;
    d->output = cfg->output;
    d->event = cfg->event;
    d->user = cfg->user;
    d->deadline = OVL_TIME_NEVER;
    d->peer_alert = -1;
    if ((ret = make_ssl(d, cfg)) != 0)
        goto Exit;
    *out = d;
    d = NULL;

Exit:
    ERR_clear_error();
    ovl_dtls_free(d);
    return ret;
}

void ovl_dtls_free(ovl_dtls_t *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);
    SSL_CTX_free(d->ctx);
    BIO_meth_free(d->bio_meth);
    OPENSSL_cleanse(d->flight, sizeof(d->flight));
    free(d);
}

int ovl_dtls_start(ovl_dtls_t *d, ovl_time_t now)
{
    if (!d)
        return OVL_ERR_ARG;
    if (d->role == OVL_DTLS_SERVER)
        return 0;
    if (d->state != OVL_DTLS_NEW)
        return OVL_ERR_STATE;
    d->state = OVL_DTLS_CONNECTING;
    int ret = drive(d);
    after_call(d, now);
    return ret;
}

int ovl_dtls_feed(ovl_dtls_t *d, const uint8_t *datagram, size_t len, ovl_time_t now)
{
    if (!d || (!datagram && len))
        return OVL_ERR_ARG;
    if (d->state != OVL_DTLS_CONNECTING && d->state != OVL_DTLS_CONNECTED)
        return OVL_ERR_STATE;
    if (len == 0 || len > INT_MAX)
        return 0;
    d->in = datagram;
    d->in_len = len;
    int ret = drive(d);
    d->in = NULL;
    after_call(d, now);
    return ret;
}

ovl_time_t ovl_dtls_next_timeout(const ovl_dtls_t *d)
{
    return d ? d->deadline : OVL_TIME_NEVER;
}

int ovl_dtls_on_timeout(ovl_dtls_t *d, ovl_time_t now)
{
    if (!d)
        return OVL_ERR_ARG;
    if (d->state != OVL_DTLS_CONNECTING || d->deadline == OVL_TIME_NEVER || now < d->deadline)
        return 0;
    if (d->retransmits >= d->max_retransmits) {
        snprintf(d->reason, sizeof(d->reason), "DTLS handshake timed out after %u retransmissions", d->retransmits);
        return fail(d, OVL_ERR_AGAIN, d->reason);
    }
    ERR_clear_error();
    d->in_timeout = true;
    int r = DTLSv1_handle_timeout(d->ssl);
    flush_out(d);
    if (r == 0 && !d->flight_overflow) { /* OpenSSL's wall clock says "not yet": our copy, verbatim */
        size_t off = 0;
        for (size_t i = 0; i < d->flight_count; i++) {
            d->output(d->user, d->flight + off, d->flight_sizes[i]);
            off += d->flight_sizes[i];
        }
    }
    d->in_timeout = false;
    if (r < 0)
        return fail_from_openssl(d);
    ERR_clear_error();
    d->retransmits++;
    d->rto = next_rto(d);
    d->deadline = now + d->rto;
    return 0;
}

int ovl_dtls_close(ovl_dtls_t *d)
{
    if (!d)
        return OVL_ERR_ARG;
    if (d->state == OVL_DTLS_CONNECTED) {
        ERR_clear_error();
        SSL_shutdown(d->ssl);
        flush_out(d);
        ERR_clear_error();
    }
    if (d->state != OVL_DTLS_FAILED)
        d->state = OVL_DTLS_CLOSED;
    d->deadline = OVL_TIME_NEVER;
    return 0;
}

ovl_dtls_state_t ovl_dtls_state(const ovl_dtls_t *d)
{
    return d ? d->state : OVL_DTLS_FAILED;
}
