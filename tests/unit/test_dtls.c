/*
 * DTLS-SRTP (RFC 5764, RFC 6347, RFC 8122, RFC 8827): fingerprint text, certificates, and two real
 * OpenSSL endpoints handshaking in memory through ovl_dtls, datagram by datagram, on a simulated
 * clock. Set OVL_WRITE_DTLS_SEEDS=DIR to write a captured ClientHello (a fuzz seed) into DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "relay/proto/cursor.h"
#include "relay/proto/dtls.h"
#include "relay/proto/srtp.h"

/* ---- fingerprint text (RFC 8122 §5) --------------------------------------------------------------- */

/* RFC 4572 §5's example attribute (the grammar RFC 8122 §5 keeps). */
static void test_fingerprint_rfc4572_example(void **state)
{
    (void)state;
    static const char text[] = "SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB";
    static const uint8_t want[20] = {0x4A, 0xAD, 0xB9, 0xB1, 0x3F, 0x82, 0x18, 0x3B, 0x54, 0x02,
                                     0x12, 0xDF, 0x3E, 0x5D, 0x49, 0x6B, 0x19, 0xE5, 0x7C, 0xAB};
    ovl_dtls_fingerprint_t fp;
    char out[OVL_DTLS_FINGERPRINT_TEXT_MAX];
    assert_int_equal(ovl_dtls_fingerprint_parse(text, strlen(text), &fp), 0);
    assert_int_equal(fp.hash, OVL_DTLS_HASH_SHA1);
    assert_int_equal(fp.len, 20);
    assert_memory_equal(fp.bytes, want, 20);
    assert_int_equal(ovl_dtls_fingerprint_format(&fp, out, sizeof(out)), 0);
    assert_string_equal(out, "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
    assert_int_equal(ovl_dtls_fingerprint_format(&fp, out, strlen(out)), OVL_ERR_LIMIT); /* no room for NUL */
}

static void test_fingerprint_parse_cases(void **state)
{
    (void)state;
    static const char s256[] = "97:69:FA:F9:8C:8E:D8:7A:2E:87:81:72:DF:E0:23:18:5F:BC:EF:6B:8C:DA:7C:17:BD:98:D4:C7:"
                               "5C:59:D8:77";
    static const struct {
        const char *text;
        int want;
        ovl_dtls_hash_t hash;
    } cases[] = {
        {"sha-256 97:69:FA:F9:8C:8E:D8:7A:2E:87:81:72:DF:E0:23:18:5F:BC:EF:6B:8C:DA:7C:17:BD:98:D4:C7:5C:59:D8:77", 0,
         OVL_DTLS_HASH_SHA256},
        {"  sha-256   "
         "97:69:fa:f9:8c:8e:d8:7a:2e:87:81:72:df:e0:23:18:5f:bc:ef:6b:8c:da:7c:17:bd:98:d4:c7:5c:59:d8:77\r\n",
         0, OVL_DTLS_HASH_SHA256},
        {"sha-256 97:69", OVL_ERR_PARSE, 0}, /* too short for SHA-256 */
        {"sha-1 97:69:FA:F9:8C:8E:D8:7A:2E:87:81:72:DF:E0:23:18:5F:BC:EF:6B:8C:DA:7C:17:BD:98:D4:C7:5C:59:D8:77",
         OVL_ERR_PARSE, 0},                   /* too long for SHA-1 */
        {"sha-256 97-69", OVL_ERR_PARSE, 0},  /* separator */
        {"sha-256 97:69:", OVL_ERR_PARSE, 0}, /* trailing colon */
        {"sha-256 9:769", OVL_ERR_PARSE, 0},  /* odd digits */
        {"sha-256 GG:69", OVL_ERR_PARSE, 0},  /* not hex */
        {"sha-256", OVL_ERR_PARSE, 0},        /* no fingerprint */
        {"", OVL_ERR_PARSE, 0},               /* nothing */
        {"md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", OVL_ERR_UNSUPPORTED, 0},
        {"sha-3 00:11", OVL_ERR_UNSUPPORTED, 0},
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++) {
        ovl_dtls_fingerprint_t fp;
        memset(&fp, 0xee, sizeof(fp));
        int ret = ovl_dtls_fingerprint_parse(cases[i].text, strlen(cases[i].text), &fp);
        if (ret != cases[i].want)
            fail_msg("\"%s\": got %s, want %s", cases[i].text, ovl_strerror(ret), ovl_strerror(cases[i].want));
        assert_int_equal(fp.hash, cases[i].hash);
        if (ret == 0) {
            ovl_dtls_fingerprint_t again;
            char hex[200];
            snprintf(hex, sizeof(hex), "SHA-256 %s", s256);
            assert_int_equal(ovl_dtls_fingerprint_parse(hex, strlen(hex), &again), 0);
            assert_memory_equal(fp.bytes, again.bytes, 32);
        } else {
            assert_int_equal(fp.len, 0);
        }
    }
    /* The text need not end with a NUL: only `len` bytes are read. */
    ovl_dtls_fingerprint_t fp;
    assert_int_equal(
        ovl_dtls_fingerprint_parse("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:CD", 65, &fp), 0);
}

/* ---- certificates ---------------------------------------------------------------------------------- */

static ovl_dtls_cert_t *cert_a, *cert_b;

static int group_setup(void **state)
{
    (void)state;
    return ovl_dtls_cert_generate(&cert_a) || ovl_dtls_cert_generate(&cert_b);
}

static int group_teardown(void **state)
{
    (void)state;
    ovl_dtls_cert_free(cert_a);
    ovl_dtls_cert_free(cert_b);
    return 0;
}

static void test_cert_generate(void **state)
{
    (void)state;
    const char *text = ovl_dtls_cert_fingerprint_text(cert_a);
    ovl_dtls_fingerprint_t fp;
    assert_int_equal(strncmp(text, "sha-256 ", 8), 0);
    assert_int_equal(strlen(text), 8 + 32 * 3 - 1);
    assert_int_equal(ovl_dtls_fingerprint_parse(text, strlen(text), &fp), 0);
    assert_memory_equal(fp.bytes, ovl_dtls_cert_fingerprint(cert_a)->bytes, 32);
    assert_memory_not_equal(fp.bytes, ovl_dtls_cert_fingerprint(cert_b)->bytes, 32);

    X509 *x = ovl_dtls_cert_x509(cert_a);
    EVP_PKEY *k = ovl_dtls_cert_key(cert_a);
    assert_int_equal(X509_check_private_key(x, k), 1);
    assert_int_equal(X509_verify(x, k), 1); /* self-signed */
    assert_true(EVP_PKEY_is_a(k, "EC"));
    char group[32];
    size_t glen = 0;
    assert_int_equal(EVP_PKEY_get_group_name(k, group, sizeof(group), &glen), 1);
    assert_string_equal(group, "prime256v1");
    assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
    assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
    assert_int_equal(days, 31);
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    assert_int_equal(BN_num_bytes(serial), 16);
    assert_false(BN_is_negative(serial));
    BN_free(serial);
    char cn[64];
    assert_int_equal(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)), 8);
}

/* A fixed certificate; want = `openssl x509 -noout -fingerprint -sha256 -in tests/data/dtls/cert.pem`. */
static void test_cert_from_pem(void **state)
{
    (void)state;
    ovl_dtls_cert_t *c = NULL;
    assert_int_equal(ovl_dtls_cert_load_pem_files(OVL_TEST_DATA "/dtls/cert.pem", OVL_TEST_DATA "/dtls/key.pem", &c),
                     0);
    assert_string_equal(ovl_dtls_cert_fingerprint_text(c), "sha-256 97:69:FA:F9:8C:8E:D8:7A:2E:87:81:72:DF:E0:23:18:"
                                                           "5F:BC:EF:6B:8C:DA:7C:17:BD:98:D4:C7:5C:59:D8:77");
    ovl_dtls_cert_free(c);
    c = (ovl_dtls_cert_t *)1;
    assert_int_equal(
        ovl_dtls_cert_load_pem_files(OVL_TEST_DATA "/dtls/cert.pem", OVL_TEST_DATA "/dtls/other_key.pem", &c),
        OVL_ERR_AUTH);
    assert_null(c);
    assert_int_equal(ovl_dtls_cert_load_pem_files(OVL_TEST_DATA "/dtls/none.pem", OVL_TEST_DATA "/dtls/key.pem", &c),
                     OVL_ERR_IO);
    assert_int_equal(ovl_dtls_cert_from_pem("garbage", 7, "garbage", 7, &c), OVL_ERR_PARSE);
}

/* ---- two endpoints in memory ------------------------------------------------------------------------ */

#define QMAX 64

typedef struct peer {
    const char *name;
    size_t mtu;
    ovl_dtls_t *d;
    uint8_t q[QMAX][OVL_DTLS_MAX_MTU];
    size_t qlen[QMAX], n;
    int connected, failed, closed, fail_error;
    char reason[200];
    ovl_dtls_srtp_keys_t keys;
} peer_t;

static void on_output(void *user, const uint8_t *data, size_t len)
{
    peer_t *p = user;
    assert_true(len <= p->mtu); /* flights fragment below the configured MTU */
    assert_true(p->n < QMAX);
    memcpy(p->q[p->n], data, len);
    p->qlen[p->n++] = len;
}

static void on_event(void *user, const ovl_dtls_event_t *ev)
{
    peer_t *p = user;
    switch (ev->type) {
    case OVL_DTLS_EVENT_CONNECTED:
        p->connected++;
        p->keys = *ev->keys;
        break;
    case OVL_DTLS_EVENT_FAILED:
        p->failed++;
        p->fail_error = ev->error;
        snprintf(p->reason, sizeof(p->reason), "%s", ev->reason);
        break;
    case OVL_DTLS_EVENT_CLOSED:
        p->closed++;
        break;
    }
}

typedef struct setup {
    const ovl_srtp_profile_t *profiles;
    size_t n_profiles;
    const ovl_dtls_fingerprint_t *expect; /* NULL: the other side's real fingerprint */
    ovl_time_t rto_initial;
    size_t mtu;
} setup_t;

static void peer_init(peer_t *p, const char *name, ovl_dtls_role_t role, const ovl_dtls_cert_t *mine,
                      const ovl_dtls_cert_t *theirs, const setup_t *s)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->mtu = s && s->mtu ? s->mtu : OVL_DTLS_DEFAULT_MTU;
    ovl_dtls_config_t cfg = {
        .role = role,
        .cert = mine,
        .remote_fingerprint = s && s->expect ? s->expect : ovl_dtls_cert_fingerprint(theirs),
        .profiles = s ? s->profiles : NULL,
        .n_profiles = s ? s->n_profiles : 0,
        .rto_initial = s ? s->rto_initial : 0,
        .mtu = s ? s->mtu : 0,
        .output = on_output,
        .event = on_event,
        .user = p,
    };
    assert_int_equal(ovl_dtls_new(&cfg, &p->d), 0);
}

/* Hands every queued datagram of `from` to `to`; returns how many. */
static size_t deliver(peer_t *from, peer_t *to, ovl_time_t now)
{
    uint8_t q[QMAX][OVL_DTLS_MAX_MTU];
    size_t qlen[QMAX], n = from->n;
    memcpy(q, from->q, sizeof(q));
    memcpy(qlen, from->qlen, sizeof(qlen));
    from->n = 0;
    for (size_t i = 0; i < n; i++)
        ovl_dtls_feed(to->d, q[i], qlen[i], now);
    return n;
}

static void pump(peer_t *a, peer_t *b, ovl_time_t now)
{
    for (int round = 0; round < 20 && (a->n || b->n); round++) {
        deliver(a, b, now);
        deliver(b, a, now);
    }
}

static ovl_dtls_cert_t *cert_of(int which)
{
    return which ? cert_b : cert_a;
}

static void handshake(peer_t *c, peer_t *s, const setup_t *cs, const setup_t *ss)
{
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_of(0), cert_of(1), cs);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_of(1), cert_of(0), ss);
    assert_int_equal(ovl_dtls_state(c->d), OVL_DTLS_NEW);
    assert_int_equal(ovl_dtls_start(s->d, 0), 0); /* a no-op for a server */
    assert_int_equal(s->n, 0);
    assert_int_equal(ovl_dtls_start(c->d, 0), 0);
    assert_true(c->n > 0);
    assert_int_equal(ovl_dtls_next_timeout(c->d), OVL_SEC(1));
    pump(c, s, OVL_MS(10));
}

static void assert_keys_match(const peer_t *c, const peer_t *s, ovl_srtp_profile_t want)
{
    static const uint8_t zeros[OVL_SRTP_MAX_MASTER_LEN] = {0};
    assert_int_equal(c->connected, 1);
    assert_int_equal(s->connected, 1);
    assert_int_equal(c->keys.profile, want);
    assert_int_equal(s->keys.profile, want);
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(want);
    assert_int_equal(c->keys.master_len, info->key_len + info->salt_len);
    assert_memory_equal(c->keys.local, s->keys.remote, c->keys.master_len);
    assert_memory_equal(c->keys.remote, s->keys.local, c->keys.master_len);
    assert_memory_not_equal(c->keys.local, c->keys.remote, c->keys.master_len);
    assert_memory_not_equal(c->keys.local, zeros, c->keys.master_len);
    assert_int_equal(ovl_dtls_state(c->d), OVL_DTLS_CONNECTED);
    assert_int_equal(ovl_dtls_next_timeout(c->d), OVL_TIME_NEVER);
    assert_int_equal(ovl_dtls_next_timeout(s->d), OVL_TIME_NEVER);
}

static void free_peers(peer_t *c, peer_t *s)
{
    ovl_dtls_free(c->d);
    ovl_dtls_free(s->d);
    free(c);
    free(s);
}

static peer_t *new_peer(void)
{
    peer_t *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    return p;
}

/* RFC 5764 §4.1.2: the client lists profiles in its preference order; the server's order decides. */
static void test_handshake_profiles(void **state)
{
    (void)state;
    static const ovl_srtp_profile_t gcm_cm[] = {OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_AES128_CM_SHA1_80};
    static const ovl_srtp_profile_t cm_gcm[] = {OVL_SRTP_AES128_CM_SHA1_80, OVL_SRTP_AEAD_AES_128_GCM};
    static const ovl_srtp_profile_t cm[] = {OVL_SRTP_AES128_CM_SHA1_80};
    static const struct {
        setup_t client, server;
        ovl_srtp_profile_t want;
    } cases[] = {
        {{NULL, 0, NULL, 0, 0}, {NULL, 0, NULL, 0, 0}, OVL_SRTP_AEAD_AES_128_GCM},
        {{cm_gcm, 2, NULL, 0, 0}, {gcm_cm, 2, NULL, 0, 0}, OVL_SRTP_AEAD_AES_128_GCM},
        {{gcm_cm, 2, NULL, 0, 0}, {cm_gcm, 2, NULL, 0, 0}, OVL_SRTP_AES128_CM_SHA1_80},
        {{cm, 1, NULL, 0, 0}, {NULL, 0, NULL, 0, 0}, OVL_SRTP_AES128_CM_SHA1_80},
    };
    for (size_t i = 0; i < OVL_ARRAY_LEN(cases); i++) {
        peer_t *c = new_peer(), *s = new_peer();
        handshake(c, s, &cases[i].client, &cases[i].server);
        assert_keys_match(c, s, cases[i].want);
        free_peers(c, s);
    }
}

static void test_no_common_profile(void **state)
{
    (void)state;
    static const ovl_srtp_profile_t gcm[] = {OVL_SRTP_AEAD_AES_128_GCM};
    static const ovl_srtp_profile_t cm[] = {OVL_SRTP_AES128_CM_SHA1_80};
    setup_t cs = {cm, 1, NULL, 0, 0}, ss = {gcm, 1, NULL, 0, 0};
    peer_t *c = new_peer(), *s = new_peer();
    handshake(c, s, &cs, &ss);
    assert_int_equal(c->connected + s->connected, 0);
    assert_int_equal(s->failed, 1);
    assert_int_equal(s->fail_error, OVL_ERR_UNSUPPORTED);
    assert_int_equal(c->failed, 1);
    free_peers(c, s);
}

/* RFC 8827 §6.5 / RFC 5763 §5: a certificate whose hash is not the a=fingerprint fails the handshake. */
static void test_wrong_fingerprint(void **state)
{
    (void)state;
    ovl_dtls_fingerprint_t wrong = *ovl_dtls_cert_fingerprint(cert_b);
    wrong.bytes[31] ^= 1;
    for (int checker = 0; checker < 2; checker++) {
        setup_t bad = {NULL, 0, &wrong, 0, 0};
        peer_t *c = new_peer(), *s = new_peer();
        handshake(c, s, checker == 0 ? &bad : NULL, checker == 1 ? &bad : NULL);
        peer_t *judge = checker == 0 ? c : s, *other = checker == 0 ? s : c;
        assert_int_equal(judge->failed, 1);
        assert_int_equal(judge->fail_error, OVL_ERR_AUTH);
        assert_string_equal(judge->reason, "peer certificate fingerprint does not match a=fingerprint");
        assert_int_equal(ovl_dtls_state(judge->d), OVL_DTLS_FAILED);
        assert_int_equal(judge->connected + other->connected, 0); /* failed during the handshake */
        assert_int_equal(other->failed, 1);                       /* told by a fatal alert */
        assert_int_equal(other->fail_error, OVL_ERR_AUTH);
        assert_non_null(strstr(other->reason, "alert"));
        assert_int_equal(ovl_dtls_feed(judge->d, (const uint8_t *)"\x16", 1, 0), OVL_ERR_STATE);
        free_peers(c, s);
    }
    /* A SHA-1 a=fingerprint of the right certificate is accepted too. */
    ovl_dtls_cert_t *fixed = NULL;
    assert_int_equal(
        ovl_dtls_cert_load_pem_files(OVL_TEST_DATA "/dtls/cert.pem", OVL_TEST_DATA "/dtls/key.pem", &fixed), 0);
    static const char sha1[] = "sha-1 A5:03:58:09:6C:11:73:3F:E4:3A:D0:47:0E:E3:7B:6B:5D:81:F6:1C";
    ovl_dtls_fingerprint_t fp1;
    assert_int_equal(ovl_dtls_fingerprint_parse(sha1, strlen(sha1), &fp1), 0);
    setup_t cs = {NULL, 0, &fp1, 0, 0};
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, fixed, &cs);
    peer_init(s, "server", OVL_DTLS_SERVER, fixed, cert_a, NULL);
    ovl_dtls_start(c->d, 0);
    pump(c, s, 0);
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
    ovl_dtls_cert_free(fixed);
}

/* RFC 6347 §4.2.4 on a simulated clock: the server's first flight is lost; nothing happens before its
 * deadline; at the deadline the same datagrams go out again (OpenSSL's wall clock has not moved, so
 * the copy is sent verbatim) and the handshake completes. */
static void test_lost_flight_simulated_clock(void **state)
{
    (void)state;
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, NULL);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_b, cert_a, NULL);
    ovl_time_t t0 = OVL_SEC(100);
    assert_int_equal(ovl_dtls_start(c->d, t0), 0);
    deliver(c, s, t0); /* ClientHello in */
    assert_true(s->n > 0);
    size_t lost_n = s->n;
    uint8_t lost[QMAX][OVL_DTLS_MAX_MTU];
    size_t lost_len[QMAX];
    memcpy(lost, s->q, sizeof(lost));
    memcpy(lost_len, s->qlen, sizeof(lost_len));
    s->n = 0; /* dropped */
    assert_int_equal(ovl_dtls_next_timeout(s->d), t0 + OVL_SEC(1));

    assert_int_equal(ovl_dtls_on_timeout(s->d, t0 + OVL_MS(999)), 0);
    assert_int_equal(s->n, 0);
    assert_int_equal(ovl_dtls_on_timeout(s->d, t0 + OVL_SEC(1)), 0);
    assert_int_equal(s->n, lost_n);
    for (size_t i = 0; i < lost_n; i++) {
        assert_int_equal(s->qlen[i], lost_len[i]);
        assert_memory_equal(s->q[i], lost[i], lost_len[i]);
    }
    assert_int_equal(ovl_dtls_next_timeout(s->d), t0 + OVL_SEC(3)); /* doubled */
    pump(c, s, t0 + OVL_SEC(1));
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
}

/* The same loss with real time passing (a short timeout and a sleep): OpenSSL agrees that its timer
 * expired and retransmits itself, with fresh DTLS record sequence numbers (RFC 6347 §4.1). */
static void test_lost_flight_native_retransmission(void **state)
{
    (void)state;
    setup_t fast = {NULL, 0, NULL, OVL_MS(20), 0};
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, NULL);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_b, cert_a, &fast);
    ovl_dtls_start(c->d, 0);
    deliver(c, s, 0);
    assert_true(s->n > 0);
    uint8_t first[OVL_DTLS_MAX_MTU];
    memcpy(first, s->q[0], s->qlen[0]);
    s->n = 0;
    assert_int_equal(ovl_dtls_next_timeout(s->d), OVL_MS(20));
    struct timespec ts = {0, 40 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(ovl_dtls_on_timeout(s->d, OVL_MS(20)), 0);
    assert_true(s->n > 0);
    /* DTLS record header: type(1) version(2) epoch(2) sequence_number(6) length(2). */
    assert_int_equal(s->q[0][0], first[0]);
    assert_true(memcmp(s->q[0] + 5, first + 5, 6) > 0);
    pump(c, s, OVL_MS(20));
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
}

/* The server's LAST flight (ChangeCipherSpec, Finished) is lost: the client's timer fires and OpenSSL
 * retransmits its flight with fresh record numbers (real time passes here, as in a process), which
 * makes the server, already connected, send its final flight again (RFC 6347 §4.2.4). */
static void test_lost_final_flight(void **state)
{
    (void)state;
    setup_t fast = {NULL, 0, NULL, OVL_MS(20), 0};
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, &fast);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_b, cert_a, NULL);
    ovl_dtls_start(c->d, 0);
    deliver(c, s, 0); /* ClientHello */
    deliver(s, c, 0); /* ServerHello .. ServerHelloDone */
    deliver(c, s, 0); /* Certificate .. Finished */
    assert_int_equal(s->connected, 1);
    assert_true(s->n > 0);
    s->n = 0; /* the server's ChangeCipherSpec and Finished are lost */
    assert_int_equal(c->connected, 0);
    assert_int_equal(ovl_dtls_next_timeout(c->d), OVL_MS(20));
    struct timespec ts = {0, 40 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(ovl_dtls_on_timeout(c->d, OVL_MS(20)), 0);
    pump(c, s, OVL_MS(20));
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
}

/* A small MTU: every flight is cut into datagrams of at most 300 bytes (checked in on_output). */
static void test_small_mtu(void **state)
{
    (void)state;
    setup_t small = {NULL, 0, NULL, 0, 300};
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, &small);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_b, cert_a, &small);
    ovl_dtls_start(c->d, 0);
    deliver(c, s, 0);
    assert_true(s->n >= 3); /* ServerHello .. ServerHelloDone with a certificate does not fit in 2 */
    pump(c, s, 0);
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
}

/* With no answer at all: retransmissions at 1, 2, 4, 8, 8 s intervals, then failure. */
static void test_handshake_times_out(void **state)
{
    (void)state;
    static const ovl_time_t gaps[] = {OVL_SEC(1), OVL_SEC(2), OVL_SEC(4), OVL_SEC(8), OVL_SEC(8), OVL_SEC(8)};
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, NULL);
    ovl_time_t now = 0;
    ovl_dtls_start(c->d, now);
    for (size_t i = 0; i < OVL_ARRAY_LEN(gaps); i++) {
        c->n = 0;
        assert_int_equal(ovl_dtls_next_timeout(c->d), now + gaps[i]);
        now += gaps[i];
        int ret = ovl_dtls_on_timeout(c->d, now);
        if (i + 1 < OVL_ARRAY_LEN(gaps)) {
            assert_int_equal(ret, 0);
            assert_true(c->n > 0);
        } else {
            assert_int_equal(ret, OVL_ERR_AGAIN);
            assert_int_equal(c->failed, 1);
            assert_string_equal(c->reason, "DTLS handshake timed out after 5 retransmissions");
        }
    }
    assert_int_equal(ovl_dtls_next_timeout(c->d), OVL_TIME_NEVER);
    ovl_dtls_free(c->d);
    free(c);
    free(s);
}

static uint32_t rng = 12345;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint8_t)rng;
}

/* Junk on the 5-tuple (RFC 6347 §4.1.2.7: invalid records are discarded) must not break a handshake. */
static void test_garbage_during_handshake(void **state)
{
    (void)state;
    int scrambled = 0;
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, NULL);
    peer_init(s, "server", OVL_DTLS_SERVER, cert_b, cert_a, NULL);
    ovl_dtls_start(c->d, 0);
    for (int round = 0; round < 20 && (c->n || s->n); round++) {
        peer_t *from = round % 2 ? s : c, *to = round % 2 ? c : s;
        for (size_t i = 0; i < from->n; i++) {
            uint8_t junk[OVL_DTLS_MAX_MTU];
            size_t len = from->qlen[i];
            for (int kind = 0; kind < 5; kind++) {
                size_t jlen;
                if (kind == 0) { /* random bytes */
                    jlen = 1 + rnd8() * 4u;
                    for (size_t k = 0; k < jlen; k++)
                        junk[k] = rnd8();
                } else if (kind == 1) { /* the real datagram, truncated */
                    jlen = len / 2;
                    memcpy(junk, from->q[i], jlen);
                } else if (kind == 2) { /* a record header announcing more than follows */
                    memcpy(junk, from->q[i], 13);
                    junk[11] = 0x3f, junk[12] = 0xff;
                    jlen = 40;
                } else if (kind == 3) { /* real record headers over scrambled encrypted bodies */
                    /* Only records of epoch > 0, which fail their MAC and are dropped. An epoch-0
                     * record is unauthenticated in DTLS 1.2: one forged with the right sequence
                     * number is not junk but an on-path attack that no DTLS 1.2 peer detects. */
                    bool any = false;
                    memcpy(junk, from->q[i], len);
                    for (size_t off = 0; off + 13 <= len;) {
                        size_t rlen = (size_t)junk[off + 11] << 8 | junk[off + 12];
                        bool encrypted = junk[off + 3] || junk[off + 4];
                        for (size_t k = off + 13; encrypted && k < off + 13 + rlen && k < len; k++)
                            junk[k] ^= rnd8() | 1;
                        any |= encrypted;
                        off += 13 + rlen;
                    }
                    if (!any)
                        continue;
                    scrambled++;
                    jlen = len;
                } else { /* empty and one-byte datagrams */
                    jlen = rnd8() & 1;
                    junk[0] = 22;
                }
                ovl_dtls_feed(to->d, junk, jlen, 0);
            }
            ovl_dtls_feed(to->d, from->q[i], len, 0);
        }
        from->n = 0;
    }
    assert_int_equal(c->failed + s->failed, 0);
    assert_true(scrambled >= 2); /* both Finished messages were preceded by a scrambled copy */
    assert_keys_match(c, s, OVL_SRTP_AEAD_AES_128_GCM);
    free_peers(c, s);
}

/* End to end: the exported keys (RFC 5764 §4.2) feed ovl_srtp sessions that interoperate. */
static void test_dtls_keys_drive_srtp(void **state)
{
    (void)state;
    static const ovl_srtp_profile_t cm[] = {OVL_SRTP_AES128_CM_SHA1_80};
    setup_t cm_only = {cm, 1, NULL, 0, 0};
    for (int p = 0; p < 2; p++) {
        peer_t *c = new_peer(), *s = new_peer();
        handshake(c, s, p ? &cm_only : NULL, p ? &cm_only : NULL);
        assert_int_equal(c->connected + s->connected, 2);
        peer_t *ends[2] = {c, s};
        for (int from = 0; from < 2; from++) {
            const ovl_dtls_srtp_keys_t *tx_keys = &ends[from]->keys, *rx_keys = &ends[1 - from]->keys;
            ovl_srtp_config_t tcfg = {
                tx_keys->profile, OVL_SRTP_OUTBOUND, tx_keys->local, tx_keys->master_len, 0, false};
            ovl_srtp_config_t rcfg = {
                rx_keys->profile, OVL_SRTP_INBOUND, rx_keys->remote, rx_keys->master_len, 0, false};
            ovl_srtp_session_t *tx = NULL, *rx = NULL;
            assert_int_equal(ovl_srtp_new(&tcfg, &tx), 0);
            assert_int_equal(ovl_srtp_new(&rcfg, &rx), 0);
            uint8_t pkt[512] = {0x80, 111, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef}, plain[512];
            size_t len = 12 + 160;
            memset(pkt + 12, 0x42, 160);
            memcpy(plain, pkt, len);
            assert_int_equal(ovl_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt)), 0);
            assert_int_equal(ovl_srtp_unprotect_rtp(rx, pkt, &len), 0);
            assert_int_equal(len, 172);
            assert_memory_equal(pkt, plain, len);
            ovl_srtp_free(tx);
            ovl_srtp_free(rx);
        }
        free_peers(c, s);
    }
}

static void test_close_and_states(void **state)
{
    (void)state;
    peer_t *c = new_peer(), *s = new_peer();
    peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, NULL);
    assert_int_equal(ovl_dtls_feed(c->d, (const uint8_t *)"\x16\xfe\xfd", 3, 0), OVL_ERR_STATE); /* not started */
    ovl_dtls_free(c->d);
    handshake(c, s, NULL, NULL);
    assert_int_equal(ovl_dtls_start(c->d, 0), OVL_ERR_STATE);
    assert_int_equal(ovl_dtls_close(c->d), 0);
    assert_int_equal(ovl_dtls_state(c->d), OVL_DTLS_CLOSED);
    assert_true(c->n > 0); /* close_notify */
    deliver(c, s, 0);
    assert_int_equal(s->closed, 1);
    assert_int_equal(ovl_dtls_state(s->d), OVL_DTLS_CLOSED);
    free_peers(c, s);

    ovl_dtls_t *d = (ovl_dtls_t *)1;
    ovl_dtls_config_t bad = {.role = OVL_DTLS_SERVER, .cert = cert_a, .output = on_output, .event = on_event};
    assert_int_equal(ovl_dtls_new(&bad, &d), OVL_ERR_ARG); /* no remote fingerprint */
    assert_null(d);
}

/* The use_srtp extension (RFC 5764 §4.1.1) of a ClientHello, walked with the cursor helpers:
 * record header (13) | handshake header (12) | version, random, session_id<1>, cookie<1>,
 * cipher_suites<2>, compression_methods<1>, extensions<2> = { type(2) length(2) data }. */
static size_t offered_profiles(const uint8_t *dgram, size_t len, uint16_t *out, size_t cap)
{
    const uint8_t *p = dgram, *end = dgram + len, *blk = NULL;
    uint8_t type = 0, n8 = 0;
    uint16_t n16 = 0, ext_type = 0, ext_len = 0;
    assert_int_equal(ovl_get_u8(&p, end, &type), 0);
    assert_int_equal(type, 22);
    assert_int_equal(ovl_skip(&p, end, 12), 0);
    assert_int_equal(ovl_get_u8(&p, end, &type), 0);
    assert_int_equal(type, 1); /* client_hello */
    assert_int_equal(ovl_skip(&p, end, 11 + 2 + 32), 0);
    assert_int_equal(ovl_get_u8(&p, end, &n8) || ovl_skip(&p, end, n8), 0);    /* session_id */
    assert_int_equal(ovl_get_u8(&p, end, &n8) || ovl_skip(&p, end, n8), 0);    /* cookie */
    assert_int_equal(ovl_get_u16(&p, end, &n16) || ovl_skip(&p, end, n16), 0); /* cipher_suites */
    assert_int_equal(ovl_get_u8(&p, end, &n8) || ovl_skip(&p, end, n8), 0);    /* compression */
    assert_int_equal(ovl_get_u16(&p, end, &n16), 0);
    assert_int_equal(ovl_get_block(&p, end, n16, &blk), 0);
    for (const uint8_t *q = blk, *qend = blk + n16; q < qend;) {
        const uint8_t *data = NULL;
        assert_int_equal(ovl_get_u16(&q, qend, &ext_type) || ovl_get_u16(&q, qend, &ext_len) ||
                             ovl_get_block(&q, qend, ext_len, &data),
                         0);
        if (ext_type != 14) /* use_srtp */
            continue;
        const uint8_t *d = data, *dend = data + ext_len;
        size_t count = 0;
        assert_int_equal(ovl_get_u16(&d, dend, &n16), 0);
        for (size_t i = 0; i < n16 / 2u; i++) {
            assert_true(count < cap);
            assert_int_equal(ovl_get_u16(&d, dend, &out[count++]), 0);
        }
        return count;
    }
    return 0;
}

/* The client offers its profiles in its order. With OVL_WRITE_DTLS_SEEDS=DIR the ClientHello is also
 * written to DIR/client_hello, framed as fuzz_dtls reads it (how tests/fuzz/corpus/dtls was made). */
static void test_client_hello_offers_profiles(void **state)
{
    (void)state;
    static const ovl_srtp_profile_t cm_gcm[] = {OVL_SRTP_AES128_CM_SHA1_80, OVL_SRTP_AEAD_AES_128_GCM};
    setup_t reversed = {cm_gcm, 2, NULL, 0, 0};
    for (int order = 0; order < 2; order++) {
        peer_t *c = new_peer();
        uint16_t ids[8];
        peer_init(c, "client", OVL_DTLS_CLIENT, cert_a, cert_b, order ? &reversed : NULL);
        ovl_dtls_start(c->d, 0);
        assert_int_equal(c->n, 1);
        assert_int_equal(offered_profiles(c->q[0], c->qlen[0], ids, 8), 2);
        assert_int_equal(ids[0], order ? 0x0001 : 0x0007);
        assert_int_equal(ids[1], order ? 0x0007 : 0x0001);
        const char *dir = getenv("OVL_WRITE_DTLS_SEEDS");
        if (dir && order == 0) {
            char path[512];
            snprintf(path, sizeof(path), "%s/client_hello", dir);
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            uint8_t hdr[2] = {(uint8_t)(c->qlen[0] >> 8), (uint8_t)c->qlen[0]};
            fwrite(hdr, 1, 2, f);
            fwrite(c->q[0], 1, c->qlen[0], f);
            fclose(f);
        }
        ovl_dtls_free(c->d);
        free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_rfc4572_example),
        cmocka_unit_test(test_fingerprint_parse_cases),
        cmocka_unit_test(test_cert_generate),
        cmocka_unit_test(test_cert_from_pem),
        cmocka_unit_test(test_handshake_profiles),
        cmocka_unit_test(test_no_common_profile),
        cmocka_unit_test(test_wrong_fingerprint),
        cmocka_unit_test(test_lost_flight_simulated_clock),
        cmocka_unit_test(test_lost_flight_native_retransmission),
        cmocka_unit_test(test_lost_final_flight),
        cmocka_unit_test(test_small_mtu),
        cmocka_unit_test(test_handshake_times_out),
        cmocka_unit_test(test_garbage_during_handshake),
        cmocka_unit_test(test_dtls_keys_drive_srtp),
        cmocka_unit_test(test_close_and_states),
        cmocka_unit_test(test_client_hello_offers_profiles),
    };
    return cmocka_run_group_tests_name("dtls (RFC 5764, RFC 6347, RFC 8122)", tests, group_setup, group_teardown);
}
