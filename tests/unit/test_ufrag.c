/* Relay ufrags that name their media worker (relay/io/ufrag.h): the rule, its round trip for every
 * worker index, and what is refused. ICE-char rules from RFC 8839 §5.4, randomness from RFC 8445 §5.3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay/io/ufrag.h"

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static int is_ice_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static void test_ufrag_layout(void **state)
{
    (void)state;
    uint8_t rnd[OVL_MEDIA_UFRAG_RAND_LEN];
    for (size_t i = 0; i < sizeof(rnd); i++)
        rnd[i] = (uint8_t)(i * 64 + i); /* the top bits must not matter: & 63 gives i */
    char u[OVL_MEDIA_UFRAG_LEN + 1];
    assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), 0, rnd), 0);
    assert_string_equal(u, "AAABCDEFGHIJKLMN");
    assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), 65, rnd), 0); /* 65 = 1 * 64 + 1 */
    assert_memory_equal(u, "BB", 2);
    assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), OVL_MEDIA_UFRAG_MAX_WORKERS - 1, rnd), 0);
    assert_memory_equal(u, "//", 2);
    assert_int_equal(strlen(u), OVL_MEDIA_UFRAG_LEN);
    /* RFC 8445 §5.3: at least 24 bits of randomness; we carry 14 characters of 6 bits. */
    assert_true((OVL_MEDIA_UFRAG_LEN - OVL_MEDIA_UFRAG_WORKER_LEN) * 6 >= 24);
}

static void test_ufrag_round_trip_every_worker(void **state)
{
    (void)state;
    uint8_t rnd[OVL_MEDIA_UFRAG_RAND_LEN];
    char u[OVL_MEDIA_UFRAG_LEN + 1];
    for (unsigned w = 0; w < OVL_MEDIA_UFRAG_MAX_WORKERS; w++) {
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (uint8_t)(w * 7 + i * 13);
        assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), w, rnd), 0);
        for (size_t i = 0; i < OVL_MEDIA_UFRAG_LEN; i++)
            assert_true(is_ice_char(u[i]));
        unsigned got = 9999;
        assert_int_equal(ovl_media_ufrag_worker(u, strlen(u), &got), 0);
        assert_int_equal(got, w);
    }
}

static void test_ufrag_every_byte_value_is_an_ice_char(void **state)
{
    (void)state;
    uint8_t rnd[OVL_MEDIA_UFRAG_RAND_LEN];
    char u[OVL_MEDIA_UFRAG_LEN + 1];
    for (unsigned v = 0; v < 256; v++) {
        memset(rnd, (int)v, sizeof(rnd));
        assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), 3, rnd), 0);
        for (size_t i = 0; i < OVL_MEDIA_UFRAG_LEN; i++)
            assert_true(is_ice_char(u[i]));
    }
}

static void test_ufrag_refusals(void **state)
{
    (void)state;
    uint8_t rnd[OVL_MEDIA_UFRAG_RAND_LEN] = {0};
    char u[OVL_MEDIA_UFRAG_LEN + 1] = "unchanged";
    assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), OVL_MEDIA_UFRAG_MAX_WORKERS, rnd), OVL_ERR_ARG);
    assert_int_equal(ovl_media_ufrag_make(u, OVL_MEDIA_UFRAG_LEN, 0, rnd), OVL_ERR_ARG); /* no room for NUL */
    assert_int_equal(ovl_media_ufrag_make(u, sizeof(u), 0, NULL), OVL_ERR_ARG);
    assert_int_equal(ovl_media_ufrag_make(NULL, sizeof(u), 0, rnd), OVL_ERR_ARG);
    assert_string_equal(u, "unchanged");

    unsigned w = 77;
    assert_int_equal(ovl_media_ufrag_worker("AAAAAAAAAAAAAAA", 15, &w), OVL_ERR_PARSE); /* too short */
    assert_int_equal(w, 0);
    assert_int_equal(ovl_media_ufrag_worker("AAAAAAAAAAAAAAAAA", 17, &w), OVL_ERR_PARSE); /* too long */
    assert_int_equal(ovl_media_ufrag_worker("AB-AAAAAAAAAAAAA", 16, &w), OVL_ERR_PARSE);  /* not an ice-char */
    assert_int_equal(ovl_media_ufrag_worker("A:AAAAAAAAAAAAAA", 16, &w), OVL_ERR_PARSE);
    assert_int_equal(ovl_media_ufrag_worker(NULL, 16, &w), OVL_ERR_PARSE);
    /* Chromium's own ufrags are 4 characters: never taken for ours. */
    assert_int_equal(ovl_media_ufrag_worker("x2Zq", 4, &w), OVL_ERR_PARSE);
    /* Only the first OVL_MEDIA_UFRAG_LEN bytes count when the caller passes that length. */
    assert_int_equal(ovl_media_ufrag_worker("BAAAAAAAAAAAAAAA:peer", 16, &w), 0);
    assert_int_equal(w, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ufrag_layout),
        cmocka_unit_test(test_ufrag_round_trip_every_worker),
        cmocka_unit_test(test_ufrag_every_byte_value_is_an_ice_char),
        cmocka_unit_test(test_ufrag_refusals),
    };
    return cmocka_run_group_tests_name("io ufrag", tests, NULL, NULL);
}
