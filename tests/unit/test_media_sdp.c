/*
 * The media plane's SDP text work and addresses (relay/io/media_sdp.c, media_addr.c), without
 * sockets or threads: ICE credentials (RFC 8839 §5.4), a client offer's transport parameters
 * (RFC 8839 §5.4, RFC 8122 §5), the rewriting of the relay's descriptions (RFC 8830 msid, RFC 8866
 * §5.2 o=), the ICE-restart offer (RFC 8445 §9) and the announced addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/io/media_int.h"

static char *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OVL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, OVL_SDP_MAX_SIZE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, OVL_SDP_MAX_SIZE, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == '#')
        p = strchr(p, '\n') + 1;
    memmove(buf, p, strlen(p) + 1);
    return buf;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"; ufrag 4..256, pwd 22..256. The ufrag names
 * its worker (ufrag.h), the rest is random. */
static void test_credentials(void **state)
{
    (void)state;
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char u1[OVL_MEDIA_UFRAG_LEN + 1], p1[OVL_MEDIA_PWD_LEN + 1], u2[OVL_MEDIA_UFRAG_LEN + 1], p2[OVL_MEDIA_PWD_LEN + 1];
    unsigned w = 99;
    assert_int_equal(ovl_media_sdp_credentials(3, u1, p1, OVL_MEDIA_PWD_LEN), 0);
    assert_int_equal(ovl_media_sdp_credentials(200, u2, p2, OVL_MEDIA_PWD_LEN), 0);
    assert_int_equal(strlen(u1), OVL_MEDIA_UFRAG_LEN);
    assert_int_equal(strlen(p1), OVL_MEDIA_PWD_LEN);
    assert_true(OVL_MEDIA_UFRAG_LEN >= 4 && OVL_MEDIA_PWD_LEN >= 22);
    assert_int_equal(strspn(u1, alphabet), OVL_MEDIA_UFRAG_LEN);
    assert_int_equal(strspn(p1, alphabet), OVL_MEDIA_PWD_LEN);
    assert_int_equal(ovl_media_ufrag_worker(u1, strlen(u1), &w), 0);
    assert_int_equal(w, 3);
    assert_int_equal(ovl_media_ufrag_worker(u2, strlen(u2), &w), 0);
    assert_int_equal(w, 200);
    assert_memory_not_equal(u1 + 2, u2 + 2, OVL_MEDIA_UFRAG_LEN - 2);
    assert_string_not_equal(p1, p2);
}

/* The ICE ufrag and DTLS fingerprint the relay's transport needs, from Chromium's offer. */
static void test_offer_params(void **state)
{
    (void)state;
    char ufrag[64];
    ovl_dtls_fingerprint_t fp;
    char *o = load("chromium-offer-av-screen.sdp");
    assert_int_equal(ovl_media_sdp_offer_params(o, strlen(o), ufrag, sizeof(ufrag), &fp), 0);
    assert_string_equal(ufrag, "ISzb");
    assert_int_equal(fp.hash, OVL_DTLS_HASH_SHA256);
    assert_int_equal(fp.len, 32);
    assert_int_equal(fp.bytes[0], 0x58);
    assert_int_equal(fp.bytes[31], 0xF0);
    /* A SHA-1 fingerprint too (RFC 8122 §5 allows several): SHA-256 is still the one taken. */
    char *two = malloc(strlen(o) + 256);
    const char *at = strstr(o, "a=fingerprint:");
    size_t head = (size_t)(at - o);
    memcpy(two, o, head);
    strcpy(two + head, "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n");
    strcat(two, at);
    assert_int_equal(ovl_media_sdp_offer_params(two, strlen(two), ufrag, sizeof(ufrag), &fp), 0);
    assert_int_equal(fp.hash, OVL_DTLS_HASH_SHA256);
    free(two);
    /* No fingerprint at all: nothing to authenticate DTLS with (RFC 8827 §6.5). */
    for (char *f = strstr(o, "a=fingerprint:"); f; f = strstr(f, "a=fingerprint:"))
        f[2] = 'X';
    assert_int_equal(ovl_media_sdp_offer_params(o, strlen(o), ufrag, sizeof(ufrag), &fp), OVL_ERR_UNSUPPORTED);
    assert_int_equal(ovl_media_sdp_offer_params("v=0\r\nbogus", 11, ufrag, sizeof(ufrag), &fp), OVL_ERR_PARSE);
    free(o);
    char *ff = load("firefox68-offer-audio.sdp");
    assert_int_equal(ovl_media_sdp_offer_params(ff, strlen(ff), ufrag, sizeof(ufrag), &fp), 0);
    assert_true(ufrag[0] != '\0');
    assert_int_equal(fp.hash, OVL_DTLS_HASH_SHA256);
    free(ff);
}

static const char *pub(void *ctx, uint64_t id)
{
    (void)ctx;
    return id == 17 ? "p3" : id == 2 ? "p9" : NULL;
}

/* RFC 8830 §2 msid = "a=msid:" msid-id [ SP msid-appdata ]: the stream id becomes the publisher's
 * public id and the appdata "<public id>-<slot>"; RFC 5576 §4.1 a=ssrc:<ssrc> msid:<value> likewise. */
static void test_rewrite(void **state)
{
    (void)state;
    const char *in = "v=0\r\n"
                     "o=- 7315112201536498210 3 IN IP4 0.0.0.0\r\n"
                     "a=ice-ufrag:old1\r\n"
                     "a=ice-pwd:oldpasswordoldpassword\r\n"
                     "a=msid:ovl-17 ovl-17-camera\r\n"
                     "a=ssrc:5 cname:ovl-17\r\n"
                     "a=ssrc:5 msid:ovl-17 ovl-17-audio\r\n"
                     "a=msid:17 screen\r\n"
                     "a=msid:ovl-4 ovl-4-camera\r\n"
                     "a=msid:p9 audio\r\n"
                     "a=msid-semantic: WMS\r\n";
    ovl_media_sdp_edit_t e = {.ufrag = "NEWU", .pwd = "newpasswordnewpassword", .version = 9, .public_id = pub};
    char *out = NULL;
    assert_int_equal(ovl_media_sdp_rewrite(in, &e, &out), 0);
    assert_string_equal(out, "v=0\r\n"
                             "o=- 7315112201536498210 9 IN IP4 0.0.0.0\r\n"
                             "a=ice-ufrag:NEWU\r\n"
                             "a=ice-pwd:newpasswordnewpassword\r\n"
                             "a=msid:p3 p3-camera\r\n"
                             "a=ssrc:5 cname:ovl-17\r\n"
                             "a=ssrc:5 msid:p3 p3-audio\r\n"
                             "a=msid:p3 p3-screen\r\n"
                             "a=msid:ovl-4 ovl-4-camera\r\n" /* unknown participant: kept */
                             "a=msid:p9 audio\r\n"           /* already a public id: kept */
                             "a=msid-semantic: WMS\r\n");
    free(out);
    /* o= fields may be separated by several spaces (RFC 8866 §5.2 as parsers accept it). */
    assert_int_equal(ovl_media_sdp_rewrite("o=- 12  3 IN IP4 0.0.0.0\r\no=-\r\n", &e, &out), 0);
    assert_string_equal(out, "o=- 12  9 IN IP4 0.0.0.0\r\no=-\r\n");
    free(out);
    /* Nothing to change: byte for byte the same (LF endings too). */
    ovl_media_sdp_edit_t none = {0};
    assert_int_equal(ovl_media_sdp_rewrite("v=0\no=- 1 2 IN IP4 0.0.0.0\na=msid:ovl-17 x\n", &none, &out), 0);
    assert_string_equal(out, "v=0\no=- 1 2 IN IP4 0.0.0.0\na=msid:ovl-17 x\n");
    free(out);
}

/* The router's own offer (relay-offer.sdp) through the rewrite parses and attributes its tracks. */
static void test_rewrite_router_offer(void **state)
{
    (void)state;
    char *o = load("relay-offer.sdp"), *out = NULL;
    /* The capture names its publisher "ovl-p2": not a number, so kept as it is. */
    ovl_media_sdp_edit_t e = {.ufrag = "abcd", .pwd = "0123456789abcdefghijkl", .version = 4, .public_id = pub};
    assert_int_equal(ovl_media_sdp_rewrite(o, &e, &out), 0);
    ovl_sdp_t *sdp = NULL;
    assert_int_equal(ovl_sdp_parse(out, strlen(out), &sdp, NULL), 0);
    assert_int_equal(sdp->sess_version, 4);
    assert_string_equal(sdp->media[0].ice.ufrag, "abcd");
    assert_string_equal(sdp->media[3].msids[0].stream, "ovl-p2");
    ovl_sdp_free(sdp);
    free(out);
    char *numbered = strdup(o);
    for (char *q = strstr(numbered, "ovl-p2"); q; q = strstr(q, "ovl-p2"))
        memcpy(q, "ovl-02", 6);
    assert_int_equal(ovl_media_sdp_rewrite(numbered, &e, &out), 0);
    assert_int_equal(ovl_sdp_parse(out, strlen(out), &sdp, NULL), 0);
    assert_string_equal(sdp->media[3].msids[0].stream, "p9");
    assert_string_equal(sdp->media[3].msids[0].track, "p9-audio");
    assert_string_equal(sdp->media[4].msids[0].stream, "p9");
    assert_string_equal(sdp->media[4].msids[0].track, "ovl-02-video"); /* not a slot label: kept */
    ovl_sdp_free(sdp);
    free(out);
    free(numbered);
    free(o);
}

/* RFC 8445 §9, RFC 9429 §5.2.1: the restart offer is the current description again with new
 * credentials in every section, setup:actpass (no DTLS restart), sess-version + 1. */
static void test_restart_offer(void **state)
{
    (void)state;
    char *o = load("relay-offer.sdp"), *out = NULL;
    ovl_sdp_t *before = NULL, *after = NULL;
    assert_int_equal(ovl_media_sdp_restart_offer(o, "RsTr", "restartpasswordrestart", &out), 0);
    assert_int_equal(ovl_sdp_parse(o, strlen(o), &before, NULL), 0);
    assert_int_equal(ovl_sdp_parse(out, strlen(out), &after, NULL), 0);
    assert_int_equal(after->n_media, before->n_media);
    assert_int_equal(after->sess_version, before->sess_version + 1);
    assert_true(after->ice_lite);
    for (size_t i = 0; i < after->n_media; i++) {
        ovl_sdp_transport_t tp;
        ovl_sdp_media_transport(after, &after->media[i], &tp);
        assert_string_equal(tp.ufrag, "RsTr");
        assert_string_equal(tp.pwd, "restartpasswordrestart");
        assert_int_equal(tp.setup, OVL_SDP_SETUP_ACTPASS);
        assert_string_equal(after->media[i].mid, before->media[i].mid);
        assert_int_equal(after->media[i].dir, before->media[i].dir);
    }
    assert_int_equal(after->media[0].n_candidates, before->media[0].n_candidates);
    ovl_sdp_free(before);
    ovl_sdp_free(after);
    free(out);
    assert_int_equal(ovl_media_sdp_restart_offer("nonsense", "RsTr", "restartpasswordrestart", &out), OVL_ERR_PARSE);
    assert_null(out);
    free(o);
}

static void test_addresses(void **state)
{
    (void)state;
    char a[OVL_MEDIA_MAX_ADDRS][64], err[200];
    size_t n;
    assert_int_equal(ovl_media_addr_resolve("203.0.113.7, 2001:DB8::7,203.0.113.7", NULL, true, a, 8, &n, err, 200), 0);
    assert_int_equal(n, 2); /* the duplicate once; IPv6 in canonical form */
    assert_string_equal(a[0], "203.0.113.7");
    assert_string_equal(a[1], "2001:db8::7");
    assert_int_equal(ovl_media_addr_resolve("2001:db8::7", "0.0.0.0", false, a, 8, &n, err, 200), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "public_ip"));
    assert_int_equal(ovl_media_addr_resolve("meet.example.org", NULL, true, a, 8, &n, err, 200), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "public_ip: not a numeric"));
    assert_int_equal(ovl_media_addr_resolve(" , ", NULL, true, a, 8, &n, err, 200), OVL_ERR_PARSE);
    assert_int_equal(ovl_media_addr_resolve("1.1.1.1,1.1.1.2,1.1.1.3", NULL, true, a, 2, &n, err, 200), OVL_ERR_PARSE);
    /* A specific bind address is what peers reach. */
    assert_int_equal(ovl_media_addr_resolve("", "10.1.2.3", false, a, 8, &n, err, 200), 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0], "10.1.2.3");
    /* Wildcard: the interfaces (never loopback unless nothing else exists). */
    assert_int_equal(ovl_media_addr_resolve(NULL, "::", true, a, 8, &n, err, 200), 0);
    assert_true(n >= 1);
    for (size_t i = 0; i < n && n > 1; i++) {
        assert_string_not_equal(a[i], "127.0.0.1");
        assert_string_not_equal(a[i], "::1");
        assert_int_not_equal(strncmp(a[i], "fe80:", 5), 0);
    }
}

/* On a dual-stack socket IPv4 peers are ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): ICE sees them as IPv4. */
static void test_mapped_addresses(void **state)
{
    (void)state;
    ovl_addr_t v4, back;
    struct sockaddr_storage ss;
    socklen_t sl;
    assert_int_equal(ovl_addr_parse(&v4, "192.0.2.10", 50000), 0);
    assert_int_equal(ovl_media_addr_to_sockaddr(&v4, true, &ss, &sl), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(sl, sizeof(struct sockaddr_in6));
    assert_int_equal(ovl_media_addr_from_sockaddr(&back, (struct sockaddr *)&ss), 0);
    assert_true(ovl_addr_equal(&back, &v4));
    assert_int_equal(ovl_media_addr_to_sockaddr(&v4, false, &ss, &sl), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    ovl_addr_t v6;
    assert_int_equal(ovl_addr_parse(&v6, "2001:db8::1", 443), 0);
    assert_int_equal(ovl_media_addr_to_sockaddr(&v6, true, &ss, &sl), 0);
    assert_int_equal(ovl_media_addr_from_sockaddr(&back, (struct sockaddr *)&ss), 0);
    assert_true(ovl_addr_equal(&back, &v6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credentials),      cmocka_unit_test(test_offer_params),
        cmocka_unit_test(test_rewrite),          cmocka_unit_test(test_rewrite_router_offer),
        cmocka_unit_test(test_restart_offer),    cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_mapped_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
