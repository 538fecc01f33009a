/* Receiver-side NACK generation (codecs/nack.c): RFC 4585 §6.2.1 generic NACK timing, on a simulated clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "codecs/nack.h"

#define T0 OVL_SEC(100)

static ovl_nack_t *make(ovl_time_t retry, unsigned retries, ovl_time_t age, size_t cap)
{
    ovl_nack_cfg_t cfg = {.retry = retry, .max_retries = retries, .max_age = age, .capacity = cap};
    ovl_nack_t *n = NULL;
    assert_int_equal(ovl_nack_new(&cfg, &n), 0);
    return n;
}

static void poll_at(ovl_nack_t *n, ovl_time_t now, uint16_t *nack, size_t *n_nack, uint16_t *lost, size_t *n_lost)
{
    ovl_nack_poll(n, now, nack, 64, n_nack, lost, 64, n_lost);
}

/* A gap is asked for at the next poll, in ascending order, and again every `retry` until it arrives. */
static void test_gap_then_recovery(void **state)
{
    (void)state;
    ovl_nack_t *n = make(OVL_MS(30), 10, OVL_SEC(1), 64);
    ovl_nack_result_t r;
    uint16_t nack[64], lost[64];
    size_t nn, nl;
    assert_int_equal(ovl_nack_next_timeout(n), OVL_TIME_NEVER);
    ovl_nack_on_packet(n, 100, T0, &r);
    ovl_nack_on_packet(n, 101, T0, &r);
    assert_int_equal(r.added, 0);
    ovl_nack_on_packet(n, 105, T0, &r); /* 102, 103, 104 missing */
    assert_int_equal(r.added, 3);
    assert_false(r.overflow);
    assert_int_equal(ovl_nack_pending(n), 3);
    assert_int_equal(ovl_nack_next_timeout(n), T0);
    poll_at(n, T0, nack, &nn, lost, &nl);
    assert_int_equal(nn, 3);
    assert_int_equal(nl, 0);
    assert_int_equal(nack[0], 102);
    assert_int_equal(nack[2], 104);
    /* Nothing again before `retry`. */
    assert_int_equal(ovl_nack_next_timeout(n), T0 + OVL_MS(30));
    poll_at(n, T0 + OVL_MS(29), nack, &nn, lost, &nl);
    assert_int_equal(nn, 0);
    /* 103 comes by retransmission; the others are asked for again. */
    ovl_nack_on_packet(n, 103, T0 + OVL_MS(10), &r);
    assert_true(r.recovered);
    assert_false(r.late);
    poll_at(n, T0 + OVL_MS(30), nack, &nn, lost, &nl);
    assert_int_equal(nn, 2);
    assert_int_equal(nack[0], 102);
    assert_int_equal(nack[1], 104);
    /* A second copy of 103 is a duplicate. */
    ovl_nack_on_packet(n, 103, T0 + OVL_MS(40), &r);
    assert_true(r.late);
    assert_false(r.recovered);
    ovl_nack_stats_t s;
    ovl_nack_stats(n, &s);
    assert_int_equal(s.missing, 3);
    assert_int_equal(s.requests, 5);
    assert_int_equal(s.recovered, 1);
    assert_int_equal(s.late, 1);
    ovl_nack_free(n);
}

/* After max_retries requests (and one more `retry` for the answer), the number is given up once. */
static void test_retries_exhausted(void **state)
{
    (void)state;
    ovl_nack_t *n = make(OVL_MS(20), 3, OVL_SEC(10), 64);
    uint16_t nack[64], lost[64];
    size_t nn, nl, requests = 0;
    ovl_nack_on_packet(n, 10, T0, NULL);
    ovl_nack_on_packet(n, 12, T0, NULL);
    ovl_time_t now = T0;
    for (int i = 0; i < 10; i++) {
        poll_at(n, now, nack, &nn, lost, &nl);
        requests += nn;
        if (nl) {
            assert_int_equal(nl, 1);
            assert_int_equal(lost[0], 11);
            break;
        }
        now = ovl_nack_next_timeout(n);
        assert_true(now != OVL_TIME_NEVER);
    }
    assert_int_equal(requests, 3);
    assert_int_equal(now, T0 + OVL_MS(60)); /* three requests 20 ms apart, then 20 ms for the last answer */
    assert_int_equal(ovl_nack_pending(n), 0);
    assert_int_equal(ovl_nack_next_timeout(n), OVL_TIME_NEVER);
    /* It may still arrive, late: not missing any more. */
    ovl_nack_result_t r;
    ovl_nack_on_packet(n, 11, now, &r);
    assert_true(r.late);
    ovl_nack_free(n);
}

/* max_age cuts the wait short, whatever the retries left. */
static void test_max_age(void **state)
{
    (void)state;
    ovl_nack_t *n = make(OVL_MS(100), 100, OVL_MS(250), 64);
    uint16_t nack[64], lost[64];
    size_t nn, nl;
    ovl_nack_on_packet(n, 1, T0, NULL);
    ovl_nack_on_packet(n, 3, T0, NULL);
    poll_at(n, T0, nack, &nn, lost, &nl);
    poll_at(n, T0 + OVL_MS(100), nack, &nn, lost, &nl);
    poll_at(n, T0 + OVL_MS(200), nack, &nn, lost, &nl);
    assert_int_equal(nn, 1);
    assert_int_equal(ovl_nack_next_timeout(n), T0 + OVL_MS(250));
    poll_at(n, T0 + OVL_MS(250), nack, &nn, lost, &nl);
    assert_int_equal(nn, 0);
    assert_int_equal(nl, 1);
    assert_int_equal(lost[0], 2);
    ovl_nack_free(n);
}

/* RFC 3550 App. A.1: sequence numbers wrap at 2^16; the gap across the wrap is found. */
static void test_wrap(void **state)
{
    (void)state;
    ovl_nack_t *n = make(0, 0, 0, 0);
    uint16_t nack[64], lost[64];
    size_t nn, nl;
    ovl_nack_result_t r;
    ovl_nack_on_packet(n, 65534, T0, NULL);
    ovl_nack_on_packet(n, 1, T0, &r); /* 65535 and 0 missing */
    assert_int_equal(r.added, 2);
    poll_at(n, T0, nack, &nn, lost, &nl);
    assert_int_equal(nn, 2);
    assert_int_equal(nack[0], 65535);
    assert_int_equal(nack[1], 0);
    ovl_nack_on_packet(n, 0, T0, &r);
    assert_true(r.recovered);
    ovl_nack_free(n);
}

/* A gap wider than the list is not asked for: it is lost at once and the caller needs a key frame. */
static void test_overflow(void **state)
{
    (void)state;
    ovl_nack_t *n = make(0, 0, 0, 16);
    uint16_t nack[64], lost[64];
    size_t nn, nl;
    ovl_nack_result_t r;
    ovl_nack_on_packet(n, 0, T0, NULL);
    ovl_nack_on_packet(n, 10, T0, &r);
    assert_int_equal(r.added, 9);
    ovl_nack_on_packet(n, 30, T0, &r); /* 19 more do not fit beside the 9 */
    assert_true(r.overflow);
    assert_int_equal(r.added, 0);
    assert_int_equal(ovl_nack_pending(n), 9);
    poll_at(n, T0, nack, &nn, lost, &nl);
    assert_int_equal(nn, 9);
    ovl_nack_stats_t s;
    ovl_nack_stats(n, &s);
    assert_int_equal(s.overflows, 1);
    assert_int_equal(s.lost, 19);
    assert_int_equal(s.missing, 28);
    ovl_nack_free(n);
}

/* A poll with little room keeps the rest due for the next one. */
static void test_small_poll(void **state)
{
    (void)state;
    ovl_nack_t *n = make(OVL_MS(30), 2, OVL_SEC(1), 64);
    uint16_t nack[2], lost[1];
    size_t nn, nl;
    ovl_nack_on_packet(n, 0, T0, NULL);
    ovl_nack_on_packet(n, 5, T0, NULL);
    ovl_nack_poll(n, T0, nack, 2, &nn, lost, 1, &nl);
    assert_int_equal(nn, 2);
    assert_int_equal(nack[0], 1);
    assert_int_equal(nack[1], 2);
    ovl_nack_poll(n, T0, nack, 2, &nn, lost, 1, &nl);
    assert_int_equal(nn, 2);
    assert_int_equal(nack[0], 3);
    assert_int_equal(nack[1], 4);
    ovl_nack_free(n);
    assert_int_equal(ovl_nack_new(&(ovl_nack_cfg_t){.capacity = 5000}, &n), OVL_ERR_ARG);
    assert_null(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gap_then_recovery), cmocka_unit_test(test_retries_exhausted),
        cmocka_unit_test(test_max_age),           cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_overflow),          cmocka_unit_test(test_small_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
