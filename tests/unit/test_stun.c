/* STUN (RFC 8489) parser, integrity, fingerprint and builder, against the RFC 5769 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "relay/proto/crc32.h"
#include "relay/proto/stun.h"
#include "stun_vectors.h"

#define PWD     ((const uint8_t *)RFC5769_PASSWORD)
#define PWD_LEN (sizeof(RFC5769_PASSWORD) - 1)

static const uint8_t rfc5769_txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

struct vector {
    const char *name;
    const uint8_t *bytes;
    size_t len;
};

static const struct vector vectors[] = {
    {"RFC 5769 §2.1", rfc5769_request, sizeof(rfc5769_request)},
    {"RFC 5769 §2.2", rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4)},
    {"RFC 5769 §2.3", rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6)},
    {"RFC 5769 §2.4", rfc5769_request_long_term, sizeof(rfc5769_request_long_term)},
};

static void assert_text(ovl_stun_text_t t, const char *want)
{
    assert_int_equal(t.len, strlen(want));
    assert_memory_equal(t.s, want, t.len);
}

/* A heap copy of exactly len bytes, so ASan sees any read past the end. */
static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len)
        memcpy(p, src, len);
    return p;
}

/* CRC-32 check value of the ISO-HDLC CRC ("123456789"), the one §14.7 FINGERPRINT uses. */
static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(ovl_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
    /* Incremental use gives the same value. */
    assert_int_equal(ovl_crc32(ovl_crc32(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5), 0xcbf43926u);
    assert_int_equal(ovl_crc32(0, NULL, 0), 0);

    /* Every table entry, against the bitwise definition (reflected polynomial 0xedb88320). */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t byte = (uint8_t)v;
        uint32_t crc = ~0u ^ v;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
        assert_int_equal(ovl_crc32(0, &byte, 1), ~crc);
    }
}

/* RFC 5769 §2.1: parse, MESSAGE-INTEGRITY with the short-term password, FINGERPRINT. */
static void test_rfc5769_request_parse(void **state)
{
    (void)state;
    ovl_stun_msg_t m;
    assert_int_equal(ovl_stun_parse(rfc5769_request, sizeof(rfc5769_request), &m), 0);
    assert_int_equal(m.cls, OVL_STUN_REQUEST);
    assert_int_equal(m.method, OVL_STUN_BINDING);
    assert_memory_equal(m.txid, rfc5769_txid, 12);
    assert_int_equal(m.len, 108);
    assert_text(m.software, "STUN test client");
    assert_true(m.has & OVL_STUN_HAS_PRIORITY);
    assert_int_equal(m.priority, 0x6e0001ffu);
    assert_true(m.has & OVL_STUN_HAS_ICE_CONTROLLED);
    assert_false(m.has & OVL_STUN_HAS_ICE_CONTROLLING);
    assert_true(m.ice_controlled == 0x932ff9b151263b36ull);
    assert_text(m.username, "evtj:h6vY");
    assert_false(m.has & OVL_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(m.integrity_off, 76);
    assert_int_equal(m.fingerprint_off, 100);
    assert_int_equal(m.unknown_count, 0);

    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", PWD_LEN), OVL_ERR_AUTH);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN - 1), OVL_ERR_AUTH);
}

/* RFC 5769 §2.2: XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static void test_rfc5769_response_ipv4_parse(void **state)
{
    (void)state;
    ovl_stun_msg_t m;
    ovl_addr_t want;
    char buf[OVL_ADDR_STRLEN];

    assert_int_equal(ovl_stun_parse(rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4), &m), 0);
    assert_int_equal(m.cls, OVL_STUN_SUCCESS);
    assert_int_equal(m.method, OVL_STUN_BINDING);
    assert_memory_equal(m.txid, rfc5769_txid, 12);
    assert_text(m.software, "test vector");
    assert_true(m.has & OVL_STUN_HAS_XOR_MAPPED_ADDRESS);
    assert_int_equal(ovl_addr_parse(&want, "192.0.2.1", 32853), 0);
    assert_true(ovl_addr_equal(&m.xor_mapped, &want));
    assert_string_equal(ovl_addr_format(&m.xor_mapped, buf, sizeof(buf)), "192.0.2.1:32853");
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
}

/* RFC 5769 §2.3: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853 (XOR with cookie || txid). */
static void test_rfc5769_response_ipv6_parse(void **state)
{
    (void)state;
    ovl_stun_msg_t m;
    ovl_addr_t want;
    char buf[OVL_ADDR_STRLEN];

    assert_int_equal(ovl_stun_parse(rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6), &m), 0);
    assert_int_equal(m.cls, OVL_STUN_SUCCESS);
    assert_text(m.software, "test vector");
    assert_int_equal(ovl_addr_parse(&want, "2001:db8:1234:5678:11:2233:4455:6677", 32853), 0);
    assert_true(ovl_addr_equal(&m.xor_mapped, &want));
    assert_string_equal(ovl_addr_format(&m.xor_mapped, buf, sizeof(buf)),
                        "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
}

/* RFC 5769 §2.4: long-term credentials, key = MD5(username ":" realm ":" SASLprep(password)). */
static void test_rfc5769_request_long_term(void **state)
{
    (void)state;
    ovl_stun_msg_t m;
    uint8_t key[OVL_STUN_LONG_TERM_KEYLEN];
    const char *user = rfc5769_long_term_username;

    assert_int_equal(ovl_stun_parse(rfc5769_request_long_term, sizeof(rfc5769_request_long_term), &m), 0);
    assert_int_equal(m.cls, OVL_STUN_REQUEST);
    assert_int_equal(m.method, OVL_STUN_BINDING);
    assert_text(m.username, user);
    assert_text(m.nonce, "f//499k954d6OL34oL9FSTvy64sA");
    assert_text(m.realm, "example.org");
    assert_false(m.has & OVL_STUN_HAS_FINGERPRINT);
    assert_int_equal(ovl_stun_check_fingerprint(&m), OVL_ERR_NOTFOUND);

    assert_int_equal(ovl_stun_long_term_key(user, strlen(user), "example.org", 11, "TheMatrIX", 9, key), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, key, sizeof(key)), 0);
    /* The password before SASLprep ("The" U+00AD "M" U+00AA "tr" U+2168) gives another key. */
    const char *raw = "The\xc2\xad"
                      "M\xc2\xaatr\xe2\x85\xa8";
    assert_int_equal(ovl_stun_long_term_key(user, strlen(user), "example.org", 11, raw, strlen(raw), key), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, key, sizeof(key)), OVL_ERR_AUTH);
}

/* RFC 5769 §2.1 rebuilt: same attributes, same order, space padding -> the same 108 bytes. */
static void test_rfc5769_request_build(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;

    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), 0);
    b.pad = 0x20;
    assert_int_equal(ovl_stun_add_software(&b, "STUN test client"), 0);
    assert_int_equal(ovl_stun_add_priority(&b, 0x6e0001ffu), 0);
    assert_int_equal(ovl_stun_add_ice_controlled(&b, 0x932ff9b151263b36ull), 0);
    assert_int_equal(ovl_stun_add_username(&b, "evtj:h6vY", 9), 0);
    assert_int_equal(ovl_stun_build_finish(&b, PWD, PWD_LEN), 0);
    assert_int_equal(out.len, sizeof(rfc5769_request));
    assert_memory_equal(buf, rfc5769_request, sizeof(rfc5769_request));
}

static void build_response(ovl_wbuf_t *out, const char *ip)
{
    ovl_stun_builder_t b;
    ovl_addr_t mapped;
    assert_int_equal(ovl_addr_parse(&mapped, ip, 32853), 0);
    assert_int_equal(ovl_stun_build_start(&b, out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, rfc5769_txid), 0);
    b.pad = 0x20;
    assert_int_equal(ovl_stun_add_software(&b, "test vector"), 0);
    assert_int_equal(ovl_stun_add_xor_mapped_address(&b, &mapped), 0);
    assert_int_equal(ovl_stun_build_finish(&b, PWD, PWD_LEN), 0);
}

/* RFC 5769 §2.2 and §2.3 rebuilt byte for byte. */
static void test_rfc5769_responses_build(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;

    ovl_wbuf_init(&out, buf, sizeof(buf));
    build_response(&out, "192.0.2.1");
    assert_int_equal(out.len, sizeof(rfc5769_response_ipv4));
    assert_memory_equal(buf, rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4));

    ovl_wbuf_init(&out, buf, sizeof(buf));
    build_response(&out, "2001:db8:1234:5678:11:2233:4455:6677");
    assert_int_equal(out.len, sizeof(rfc5769_response_ipv6));
    assert_memory_equal(buf, rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6));

    /* Behind a reserved 2-byte prefix (an RFC 4571 frame header) the message is the same. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    out.len = 2;
    build_response(&out, "192.0.2.1");
    assert_int_equal(out.len, 2 + sizeof(rfc5769_response_ipv4));
    assert_memory_equal(buf + 2, rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4));
}

/* RFC 8489 §5/§14: every proper prefix of every vector is an error, never a crash or a success. */
static void test_truncation_every_byte(void **state)
{
    (void)state;
    for (size_t v = 0; v < OVL_ARRAY_LEN(vectors); v++) {
        for (size_t n = 0; n < vectors[v].len; n++) {
            uint8_t *p = dup_exact(vectors[v].bytes, n);
            ovl_stun_msg_t m;
            int r = ovl_stun_parse(p, n, &m);
            if (r != OVL_ERR_PARSE)
                fail_msg("%s truncated to %zu bytes: got %d, want OVL_ERR_PARSE", vectors[v].name, n, r);
            assert_int_equal(m.has, 0);
            free(p);
        }
        uint8_t *p = dup_exact(vectors[v].bytes, vectors[v].len);
        ovl_stun_msg_t m;
        assert_int_equal(ovl_stun_parse(p, vectors[v].len, &m), 0);
        free(p);
    }
    /* Trailing bytes after the message are rejected too (the datagram is exactly one message). */
    uint8_t longer[sizeof(rfc5769_request) + 4] = {0};
    memcpy(longer, rfc5769_request, sizeof(rfc5769_request));
    ovl_stun_msg_t m;
    assert_int_equal(ovl_stun_parse(longer, sizeof(longer), &m), OVL_ERR_PARSE);
    assert_int_equal(ovl_stun_parse(NULL, 0, &m), OVL_ERR_PARSE);
}

/* A copy of §2.2 to damage. */
static size_t copy_ipv4(uint8_t *buf)
{
    memcpy(buf, rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4));
    return sizeof(rfc5769_response_ipv4);
}

/* RFC 8489 §5: cookie, top bits, length a multiple of 4; §14: attributes inside the message. */
static void test_bad_headers_and_lengths(void **state)
{
    (void)state;
    uint8_t buf[128];
    ovl_stun_msg_t m;
    size_t n;

    n = copy_ipv4(buf);
    buf[7] ^= 0x01; /* wrong magic cookie */
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    n = copy_ipv4(buf);
    buf[0] |= 0x80; /* top bits must be zero */
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);
    n = copy_ipv4(buf);
    buf[0] |= 0x40;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* Length 0x3d (not a multiple of 4) with a datagram that matches it. */
    n = copy_ipv4(buf);
    buf[3] = 0x3d;
    buf[n] = 0;
    assert_int_equal(ovl_stun_parse(buf, n + 1, &m), OVL_ERR_PARSE);

    /* Header length shorter than the datagram. */
    n = copy_ipv4(buf);
    buf[3] = 0x38;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* FINGERPRINT's length says 8: its value would overrun the message. */
    n = copy_ipv4(buf);
    buf[n - 5] = 0x08;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* SOFTWARE's length 0xffff overruns everything. */
    n = copy_ipv4(buf);
    buf[22] = 0xff;
    buf[23] = 0xff;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* SOFTWARE of 13 bytes: its padding would swallow the next attribute's header misaligned. */
    n = copy_ipv4(buf);
    buf[23] = 0x0d;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* Address family 3 is neither IPv4 nor IPv6. */
    n = copy_ipv4(buf);
    buf[41] = 0x03;
    assert_int_equal(ovl_stun_parse(buf, n, &m), OVL_ERR_PARSE);

    /* IPv4 family with an IPv6-sized value: §2.3 with its family byte changed to 1. */
    memcpy(buf, rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6));
    buf[41] = 0x01;
    assert_int_equal(ovl_stun_parse(buf, sizeof(rfc5769_response_ipv6), &m), OVL_ERR_PARSE);
}

/* RFC 8489 §14.7 FINGERPRINT and §14.5 MESSAGE-INTEGRITY detect damage independently. */
static void test_bad_fingerprint_and_integrity(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_stun_msg_t m;
    size_t n;

    /* Damaged CRC value: still parses, FINGERPRINT fails, MESSAGE-INTEGRITY (before it) holds. */
    n = copy_ipv4(buf);
    buf[n - 1] ^= 0x01;
    assert_int_equal(ovl_stun_parse(buf, n, &m), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), OVL_ERR_PARSE);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);

    /* Damaged HMAC value: integrity fails (and the CRC, which covers it, too). */
    n = copy_ipv4(buf);
    buf[55] ^= 0x80;
    assert_int_equal(ovl_stun_parse(buf, n, &m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), OVL_ERR_AUTH);
    assert_int_equal(ovl_stun_check_fingerprint(&m), OVL_ERR_PARSE);

    /* A damaged byte of SOFTWARE breaks both. */
    n = copy_ipv4(buf);
    buf[25] ^= 0x20;
    assert_int_equal(ovl_stun_parse(buf, n, &m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), OVL_ERR_AUTH);
    assert_int_equal(ovl_stun_check_fingerprint(&m), OVL_ERR_PARSE);

    /* Signed with another key but a correct CRC: only the integrity check catches it. */
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), 0);
    assert_int_equal(ovl_stun_add_username(&b, "evtj:h6vY", 9), 0);
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)"forged", 6), 0);
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), OVL_ERR_AUTH);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)"forged", 6), 0);

    /* No MESSAGE-INTEGRITY at all. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), 0);
    assert_int_equal(ovl_stun_build_finish(&b, NULL, 0), 0);
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
}

/* RFC 8489 §14: unknown comprehension-required types are reported (for 420), optional ones skipped. */
static void test_unknown_attributes(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t m;
    static const uint8_t v[3] = {1, 2, 3};

    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), 0);
    ovl_stun_add_attr(&b, 0x8777, v, 3); /* optional: skipped */
    ovl_stun_add_attr(&b, 0x7777, v, 3); /* required: reported */
    ovl_stun_add_attr(&b, 0x001c, v, 0); /* MESSAGE-INTEGRITY-SHA256, not implemented: reported */
    ovl_stun_add_attr(&b, 0x7777, v, 1); /* reported once */
    ovl_stun_add_username(&b, "evtj:h6vY", 9);
    assert_int_equal(ovl_stun_build_finish(&b, PWD, PWD_LEN), 0);

    assert_int_equal(ovl_stun_parse(buf, out.len, &m), OVL_ERR_UNSUPPORTED);
    assert_int_equal(m.unknown_count, 2);
    assert_int_equal(m.unknown[0], 0x7777);
    assert_int_equal(m.unknown[1], 0x001c);
    /* The view is complete, so the request can be authenticated before the 420 goes out. */
    assert_text(m.username, "evtj:h6vY");
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);

    /* More unknown types than OVL_STUN_MAX_UNKNOWN: the first ones are kept. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid);
    for (uint16_t t = 0x4000; t < 0x4000 + OVL_STUN_MAX_UNKNOWN + 3; t++)
        ovl_stun_add_attr(&b, t, NULL, 0);
    assert_int_equal(ovl_stun_build_finish(&b, NULL, 0), 0);
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), OVL_ERR_UNSUPPORTED);
    assert_int_equal(m.unknown_count, OVL_STUN_MAX_UNKNOWN);
    assert_int_equal(m.unknown[OVL_STUN_MAX_UNKNOWN - 1], 0x4000 + OVL_STUN_MAX_UNKNOWN - 1);
}

/* RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY (but FINGERPRINT) are ignored; §14.7: FINGERPRINT is last. */
static void test_attributes_after_integrity_and_fingerprint(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t m;

    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid);
    ovl_stun_add_username(&b, "evtj:h6vY", 9);
    assert_int_equal(ovl_stun_add_integrity(&b, PWD, PWD_LEN), 0);
    /* The builder refuses to put anything but FINGERPRINT after MESSAGE-INTEGRITY ... */
    assert_int_equal(ovl_stun_add_priority(&b, 1), OVL_ERR_STATE);
    assert_int_equal(out.len, 0);

    /* ... so append by hand: PRIORITY, then an unknown required type, after MESSAGE-INTEGRITY. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid);
    ovl_stun_add_username(&b, "evtj:h6vY", 9);
    assert_int_equal(ovl_stun_add_integrity(&b, PWD, PWD_LEN), 0);
    static const uint8_t tail[] = {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 7, 0x7e, 0x57, 0x00, 0x00};
    ovl_put_bytes(&out, tail, sizeof(tail));
    ovl_store_u16(buf + 2, (uint16_t)(out.len - 20));
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
    assert_false(m.has & OVL_STUN_HAS_PRIORITY);
    assert_int_equal(m.unknown_count, 0);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);

    /* An attribute after FINGERPRINT makes the message malformed. */
    size_t n = copy_ipv4(buf);
    static const uint8_t extra[] = {0x80, 0x22, 0x00, 0x00};
    memcpy(buf + n, extra, sizeof(extra));
    buf[3] += 4;
    assert_int_equal(ovl_stun_parse(buf, n + 4, &m), OVL_ERR_PARSE);
}

/* RFC 8489 §14: only the first occurrence of an attribute counts; fixed-size attributes have their size. */
static void test_duplicates_and_fixed_sizes(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t m;

    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid);
    ovl_stun_add_priority(&b, 1);
    ovl_stun_add_priority(&b, 2);
    ovl_stun_add_username(&b, "first", 5);
    ovl_stun_add_username(&b, "second", 6);
    assert_int_equal(ovl_stun_build_finish(&b, NULL, 0), 0);
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
    assert_int_equal(m.priority, 1);
    assert_text(m.username, "first");

    static const struct {
        uint16_t type;
        size_t len;
    } bad[] = {
        {OVL_STUN_ATTR_PRIORITY, 3},           {OVL_STUN_ATTR_PRIORITY, 8},
        {OVL_STUN_ATTR_USE_CANDIDATE, 4},      {OVL_STUN_ATTR_ICE_CONTROLLING, 4},
        {OVL_STUN_ATTR_ICE_CONTROLLED, 12},    {OVL_STUN_ATTR_MESSAGE_INTEGRITY, 16},
        {OVL_STUN_ATTR_FINGERPRINT, 8},        {OVL_STUN_ATTR_ERROR_CODE, 3},
        {OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES, 3}, {OVL_STUN_ATTR_XOR_MAPPED_ADDRESS, 4},
    };
    static const uint8_t zeros[32] = {0};
    for (size_t i = 0; i < OVL_ARRAY_LEN(bad); i++) {
        ovl_wbuf_init(&out, buf, sizeof(buf));
        ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid);
        assert_int_equal(ovl_stun_add_attr(&b, bad[i].type, zeros, bad[i].len), 0);
        if (ovl_stun_parse(buf, out.len, &m) != OVL_ERR_PARSE)
            fail_msg("attribute 0x%04x of length %zu was accepted", bad[i].type, bad[i].len);
    }

    /* ERROR-CODE class 7 is outside 3..6. */
    static const uint8_t class7[4] = {0, 0, 7, 0};
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, rfc5769_txid);
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_ERROR_CODE, class7, 4);
    assert_int_equal(ovl_stun_parse(buf, out.len, &m), OVL_ERR_PARSE);
}

/* RFC 8489 §5: class and method bits interleave in the message type. */
static void test_class_and_method_encoding(void **state)
{
    (void)state;
    static const uint16_t methods[] = {0x001, 0x003, 0x07f, 0x080, 0xabc, 0xfff};
    uint8_t buf[64];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t m;

    for (size_t i = 0; i < OVL_ARRAY_LEN(methods); i++) {
        for (int c = OVL_STUN_REQUEST; c <= OVL_STUN_ERROR; c++) {
            ovl_wbuf_init(&out, buf, sizeof(buf));
            assert_int_equal(ovl_stun_build_start(&b, &out, (ovl_stun_class_t)c, methods[i], rfc5769_txid), 0);
            assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
            assert_int_equal(m.cls, c);
            assert_int_equal(m.method, methods[i]);
        }
    }
    /* The wire values RFC 8489 §5 gives: Binding request 0x0001, success 0x0101, error 0x0111. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_load_u16(buf), 0x0111);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_INDICATION, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_load_u16(buf), 0x0011);
    assert_string_equal(ovl_stun_class_name(OVL_STUN_ERROR), "error");
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, 0x1000, rfc5769_txid), OVL_ERR_ARG);
}

/* Builder round trips: what ICE sends parses back to the same values. */
static void test_build_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t m;
    ovl_addr_t a6, a4;
    static const uint16_t unknown[2] = {0x7777, 0x0031};

    ovl_addr_parse(&a6, "2001:db8::1", 9);
    ovl_addr_parse(&a4, "10.1.2.3", 65535);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, rfc5769_txid);
    ovl_stun_add_error_code(&b, 420, "Unknown Attribute");
    ovl_stun_add_unknown_attributes(&b, unknown, 2);
    ovl_stun_add_xor_mapped_address(&b, &a6);
    ovl_stun_add_mapped_address(&b, &a4);
    ovl_stun_add_ice_controlling(&b, 0x0102030405060708ull);
    ovl_stun_add_use_candidate(&b);
    assert_int_equal(ovl_stun_build_finish(&b, PWD, PWD_LEN), 0);
    assert_int_equal(out.len % 4, 0);

    assert_int_equal(ovl_stun_parse(buf, out.len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_ERROR);
    assert_int_equal(m.error_code, 420);
    assert_text(m.error_reason, "Unknown Attribute");
    assert_true(m.has & OVL_STUN_HAS_UNKNOWN_ATTRIBUTES);
    assert_true(ovl_addr_equal(&m.xor_mapped, &a6));
    assert_true(ovl_addr_equal(&m.mapped, &a4));
    assert_true(m.ice_controlling == 0x0102030405060708ull);
    assert_true(m.has & OVL_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(ovl_stun_check_integrity(&m, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    /* RFC 8489 §14: padding bytes are zero by default. */
    assert_int_equal(buf[20 + 4 + 4 + 17], 0);
    assert_int_equal(buf[20 + 4 + 4 + 18], 0);
    assert_int_equal(buf[20 + 4 + 4 + 19], 0);
}

/* The builder never leaves a partial message: the first error sticks and the buffer is rolled back. */
static void test_build_errors_roll_back(void **state)
{
    (void)state;
    uint8_t buf[256];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;

    /* Too small for the header. */
    ovl_wbuf_init(&out, buf, 19);
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), OVL_ERR_LIMIT);
    assert_int_equal(out.len, 0);

    /* Room for the header and SOFTWARE but not for MESSAGE-INTEGRITY. */
    ovl_wbuf_init(&out, buf, 60);
    out.len = 3; /* something of the caller's in front */
    assert_int_equal(ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, rfc5769_txid), 0);
    assert_int_equal(ovl_stun_add_software(&b, "test vector"), 0);
    assert_int_equal(ovl_stun_build_finish(&b, PWD, PWD_LEN), OVL_ERR_LIMIT);
    assert_int_equal(out.len, 3);
    assert_int_equal(ovl_stun_add_software(&b, "x"), OVL_ERR_LIMIT); /* sticky */
    assert_int_equal(out.len, 3);

    /* Invalid arguments stick as well. */
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_error_code(&b, 299, "Nope"), OVL_ERR_ARG);
    assert_int_equal(ovl_stun_build_finish(&b, NULL, 0), OVL_ERR_ARG);
    assert_int_equal(out.len, 0);

    ovl_addr_t unset = {0};
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_xor_mapped_address(&b, &unset), OVL_ERR_ARG);
    assert_int_equal(out.len, 0);

    /* Nothing after FINGERPRINT; no second MESSAGE-INTEGRITY. */
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_fingerprint(&b), 0);
    assert_int_equal(ovl_stun_add_fingerprint(&b), OVL_ERR_STATE);
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_integrity(&b, PWD, PWD_LEN), 0);
    assert_int_equal(ovl_stun_add_integrity(&b, PWD, PWD_LEN), OVL_ERR_STATE);

    /* A message longer than the 16-bit length field can say. */
    static uint8_t big[70000];
    static uint8_t value[65536];
    ovl_wbuf_init(&out, big, sizeof(big));
    ovl_stun_build_start(&b, &out, OVL_STUN_INDICATION, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_attr(&b, 0x8888, value, 65535), OVL_ERR_LIMIT);
    ovl_stun_build_start(&b, &out, OVL_STUN_INDICATION, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_attr(&b, 0x8888, value, 65536), OVL_ERR_LIMIT);
    ovl_stun_build_start(&b, &out, OVL_STUN_INDICATION, OVL_STUN_BINDING, rfc5769_txid);
    assert_int_equal(ovl_stun_add_attr(&b, 0x8888, value, 30000), 0);
    assert_int_equal(ovl_stun_add_attr(&b, 0x8888, value, 30000), 0);
    assert_int_equal(ovl_stun_add_attr(&b, 0x8888, value, 5600), OVL_ERR_LIMIT);
    assert_int_equal(out.len, 0);
}

/* addr.h helpers other modules reuse. */
static void test_addr_helpers(void **state)
{
    (void)state;
    ovl_addr_t a, b;
    char buf[OVL_ADDR_STRLEN];

    assert_int_equal(ovl_addr_parse(&a, "not-an-ip", 1), OVL_ERR_PARSE);
    assert_int_equal(a.family, OVL_ADDR_NONE);
    assert_string_equal(ovl_addr_format(&a, buf, sizeof(buf)), "-");
    assert_int_equal(ovl_addr_parse(&a, "192.0.2.1", 1), 0);
    assert_int_equal(ovl_addr_parse(&b, "192.0.2.1", 2), 0);
    assert_false(ovl_addr_equal(&a, &b));
    b.port = 1;
    assert_true(ovl_addr_equal(&a, &b));
    assert_int_equal(ovl_addr_parse(&b, "::ffff:192.0.2.1", 1), 0);
    assert_false(ovl_addr_equal(&a, &b)); /* a v4-mapped IPv6 address is another family */

    struct sockaddr_storage ss;
    size_t sl;
    ovl_addr_parse(&a, "2001:db8::7", 4242);
    assert_int_equal(ovl_addr_to_sockaddr(&a, &ss, &sl), 0);
    assert_int_equal(ovl_addr_from_sockaddr(&b, (const struct sockaddr *)&ss), 0);
    assert_true(ovl_addr_equal(&a, &b));
    ovl_addr_parse(&a, "127.0.0.1", 80);
    assert_int_equal(ovl_addr_to_sockaddr(&a, &ss, &sl), 0);
    assert_int_equal(ovl_addr_from_sockaddr(&b, (const struct sockaddr *)&ss), 0);
    assert_true(ovl_addr_equal(&a, &b));
    assert_string_equal(ovl_addr_format(&b, buf, 6), "127.0");
    memset(&a, 0, sizeof(a));
    assert_int_equal(ovl_addr_to_sockaddr(&a, &ss, &sl), OVL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_rfc5769_request_parse),
        cmocka_unit_test(test_rfc5769_response_ipv4_parse),
        cmocka_unit_test(test_rfc5769_response_ipv6_parse),
        cmocka_unit_test(test_rfc5769_request_long_term),
        cmocka_unit_test(test_rfc5769_request_build),
        cmocka_unit_test(test_rfc5769_responses_build),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_bad_headers_and_lengths),
        cmocka_unit_test(test_bad_fingerprint_and_integrity),
        cmocka_unit_test(test_unknown_attributes),
        cmocka_unit_test(test_attributes_after_integrity_and_fingerprint),
        cmocka_unit_test(test_duplicates_and_fixed_sizes),
        cmocka_unit_test(test_class_and_method_encoding),
        cmocka_unit_test(test_build_round_trip),
        cmocka_unit_test(test_build_errors_roll_back),
        cmocka_unit_test(test_addr_helpers),
    };
    return cmocka_run_group_tests_name("stun (RFC 8489, RFC 5769 vectors)", tests, NULL, NULL);
}
