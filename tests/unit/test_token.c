/* Meeting ids, base64url (RFC 4648 §5, §10 vectors) and HMAC-SHA256 link tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "relay/proto/base.h"
#include "signaling/b64url.h"
#include "signaling/token.h"

static const uint8_t secret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
#define NOW 1700000000LL

/* RFC 4648 §10 test vectors, without the padding (§3.2 allows leaving it out). */
static void test_b64url_rfc4648_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    char out[32];
    uint8_t back[32];
    size_t n;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(ovl_b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in), out, sizeof(out)), 0);
        assert_string_equal(out, v[i].out);
        assert_int_equal(ovl_b64url_len(strlen(v[i].in)), strlen(v[i].out));
        assert_int_equal(ovl_b64url_decode(out, strlen(out), back, sizeof(back), &n), 0);
        assert_int_equal(n, strlen(v[i].in));
        assert_memory_equal(back, v[i].in, n);
    }
}

/* §5: '-' and '_' replace '+' and '/'. */
static void test_b64url_alphabet_and_rejects(void **state)
{
    (void)state;
    const uint8_t in[] = {0xfb, 0xff, 0xbf};
    char out[8];
    uint8_t back[8];
    size_t n;
    assert_int_equal(ovl_b64url_encode(in, 3, out, sizeof(out)), 0);
    assert_string_equal(out, "-_-_");
    assert_int_equal(ovl_b64url_decode("+/+/", 4, back, sizeof(back), &n), OVL_ERR_PARSE);
    assert_int_equal(ovl_b64url_decode("Zm9=", 4, back, sizeof(back), &n), OVL_ERR_PARSE);
    assert_int_equal(ovl_b64url_decode("Z", 1, back, sizeof(back), &n), OVL_ERR_PARSE);
    assert_int_equal(ovl_b64url_decode("Zh", 2, back, sizeof(back), &n), OVL_ERR_PARSE); /* non-zero tail bits */
    assert_int_equal(ovl_b64url_decode("Zm9vYmFy", 8, back, 5, &n), OVL_ERR_LIMIT);
    assert_int_equal(ovl_b64url_encode(in, 3, out, 4), OVL_ERR_LIMIT);
}

static void test_meeting_id_is_128_random_bits(void **state)
{
    (void)state;
    char a[OVL_MEETING_ID_LEN + 1], b[OVL_MEETING_ID_LEN + 1];
    assert_int_equal(ovl_meeting_id_new(a), 0);
    assert_int_equal(ovl_meeting_id_new(b), 0);
    assert_int_equal(strlen(a), 22);
    assert_string_not_equal(a, b);
    assert_int_equal(ovl_meeting_id_check(a), 0);
    assert_int_equal(ovl_meeting_id_check("short"), OVL_ERR_PARSE);
    assert_int_equal(ovl_meeting_id_check("AAAAAAAAAAAAAAAAAAAAA!"), OVL_ERR_PARSE);
    assert_int_equal(ovl_meeting_id_check("AAAAAAAAAAAAAAAAAAAAAB"), OVL_ERR_PARSE); /* non-canonical tail */
}

static void issue(const char *meeting, ovl_role_t role, int64_t expires, const char *name, char *tok)
{
    ovl_token_claims_t c = {.role = role, .expires = expires};
    strcpy(c.meeting, meeting);
    strcpy(c.name, name);
    assert_int_equal(ovl_token_issue(secret, sizeof(secret), &c, tok, OVL_TOKEN_MAX_LEN + 1), 0);
}

static void test_token_valid_roundtrip(void **state)
{
    (void)state;
    char id[23], tok[OVL_TOKEN_MAX_LEN + 1];
    ovl_token_claims_t c;
    ovl_token_status_t st;
    ovl_meeting_id_new(id);
    issue(id, OVL_ROLE_HOST, NOW + 3600, "Minister Ødegård", tok);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, id, NOW, &c, &st), 0);
    assert_int_equal(st, OVL_TOKEN_OK);
    assert_int_equal(c.role, OVL_ROLE_HOST);
    assert_int_equal(c.expires, NOW + 3600);
    assert_string_equal(c.name, "Minister Ødegård");
    assert_string_equal(c.meeting, id);
    issue(id, OVL_ROLE_GUEST, NOW + 1, "", tok);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, id, NOW, &c, &st), 0);
    assert_int_equal(c.role, OVL_ROLE_GUEST);
    assert_string_equal(c.name, "");
}

/* The MAC is HMAC-SHA256(secret, "overleg-token-v1" || payload), checked with OpenSSL's one-shot HMAC(). */
static void test_token_mac_construction(void **state)
{
    (void)state;
    char id[23], tok[OVL_TOKEN_MAX_LEN + 1];
    uint8_t raw[256], msg[300], mac[32];
    unsigned int mac_len = 0;
    size_t n;
    ovl_meeting_id_new(id);
    issue(id, OVL_ROLE_GUEST, NOW + 60, "x", tok);
    assert_int_equal(ovl_b64url_decode(tok, strlen(tok), raw, sizeof(raw), &n), 0);
    assert_int_equal(n, 1 + 1 + 8 + 16 + 1 + 1 + 32);
    assert_int_equal(raw[0], 1);
    assert_int_equal(raw[1], OVL_ROLE_GUEST);
    memcpy(msg, "overleg-token-v1", 16);
    memcpy(msg + 16, raw, n - 32);
    HMAC(EVP_sha256(), secret, sizeof(secret), msg, 16 + n - 32, mac, &mac_len);
    assert_int_equal(mac_len, 32);
    assert_memory_equal(mac, raw + n - 32, 32);
}

static void test_token_expired(void **state)
{
    (void)state;
    char id[23], tok[OVL_TOKEN_MAX_LEN + 1];
    ovl_token_claims_t c;
    ovl_token_status_t st;
    ovl_meeting_id_new(id);
    issue(id, OVL_ROLE_GUEST, NOW, "", tok);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_EXPIRED);
    assert_int_equal(c.role, OVL_ROLE_NONE);
}

static void test_token_forged(void **state)
{
    (void)state;
    char id[23], tok[OVL_TOKEN_MAX_LEN + 1];
    uint8_t other[32] = {0};
    ovl_token_claims_t c;
    ovl_token_status_t st;
    ovl_meeting_id_new(id);
    issue(id, OVL_ROLE_GUEST, NOW + 60, "", tok);
    /* Another server's secret. */
    assert_int_equal(ovl_token_verify(other, sizeof(other), tok, id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_FORGED);
    /* A guest who edits the role byte to host: payload byte 1 lives in characters 1..2. */
    uint8_t raw[256];
    size_t n;
    ovl_b64url_decode(tok, strlen(tok), raw, sizeof(raw), &n);
    raw[1] = OVL_ROLE_HOST;
    ovl_b64url_encode(raw, n, tok, sizeof(tok));
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_FORGED);
}

static void test_token_wrong_meeting_and_malformed(void **state)
{
    (void)state;
    char id[23], other[23], tok[OVL_TOKEN_MAX_LEN + 1];
    ovl_token_claims_t c;
    ovl_token_status_t st;
    ovl_meeting_id_new(id);
    ovl_meeting_id_new(other);
    issue(id, OVL_ROLE_HOST, NOW + 60, "", tok);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, other, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_WRONG_MEETING);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), "", id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_MALFORMED);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), "not a token!", id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_equal(st, OVL_TOKEN_MALFORMED);
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), NULL, id, NOW, &c, &st), OVL_ERR_AUTH);
    /* Truncated: the MAC no longer matches. */
    tok[strlen(tok) - 4] = '\0';
    assert_int_equal(ovl_token_verify(secret, sizeof(secret), tok, id, NOW, &c, &st), OVL_ERR_AUTH);
    assert_int_not_equal(st, OVL_TOKEN_OK);
}

static void test_token_issue_rejects_bad_claims(void **state)
{
    (void)state;
    char tok[OVL_TOKEN_MAX_LEN + 1];
    ovl_token_claims_t c = {.role = OVL_ROLE_HOST, .expires = NOW};
    strcpy(c.meeting, "bad");
    assert_int_equal(ovl_token_issue(secret, sizeof(secret), &c, tok, sizeof(tok)), OVL_ERR_ARG);
    ovl_meeting_id_new(c.meeting);
    c.role = OVL_ROLE_NONE;
    assert_int_equal(ovl_token_issue(secret, sizeof(secret), &c, tok, sizeof(tok)), OVL_ERR_ARG);
    assert_int_equal(ovl_role_parse("host"), OVL_ROLE_HOST);
    assert_int_equal(ovl_role_parse("guest"), OVL_ROLE_GUEST);
    assert_int_equal(ovl_role_parse("admin"), OVL_ROLE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_rfc4648_vectors),
        cmocka_unit_test(test_b64url_alphabet_and_rejects),
        cmocka_unit_test(test_meeting_id_is_128_random_bits),
        cmocka_unit_test(test_token_valid_roundtrip),
        cmocka_unit_test(test_token_mac_construction),
        cmocka_unit_test(test_token_expired),
        cmocka_unit_test(test_token_forged),
        cmocka_unit_test(test_token_wrong_meeting_and_malformed),
        cmocka_unit_test(test_token_issue_rejects_bad_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
