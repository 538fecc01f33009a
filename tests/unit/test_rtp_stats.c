/* RTP receive statistics: RFC 3550 App. A.1 (sequence), A.3 (expected/lost), A.8 (jitter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/proto/rtp_stats.h"

#define VIDEO_HZ 90000
#define FRAME_TS 3000 /* 30 fps at 90 kHz */

/* Feeds seq first..first+n-1 (mod 2^16) at 30 fps with a constant network delay, skipping `skip`. */
static void feed(ovl_rtp_stats_t *s, uint16_t first, int n, int skip_every)
{
    for (int i = 0; i < n; i++) {
        if (skip_every && i % skip_every == skip_every - 1)
            continue;
        uint16_t seq = (uint16_t)(first + i);
        assert_int_equal(ovl_rtp_stats_update(s, seq, (uint32_t)i * FRAME_TS, OVL_MS(5) + (ovl_time_t)i * 33333), 0);
    }
}

/* A.3: no loss means expected == received, fraction 0, cumulative 0. */
static void test_no_loss(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtcp_rb_t rb = {0};
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    feed(&s, 1000, 100, 0);
    assert_int_equal(ovl_rtp_stats_expected(&s), 100);
    assert_int_equal(ovl_rtp_stats_lost(&s), 0);
    ovl_rtp_stats_fill_report(&s, &rb);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 0);
    assert_int_equal(rb.highest_seq, 1099);
}

/* A.3: every 10th packet lost: fraction = 10/100 * 256 = 25 (integer division). */
static void test_loss_and_interval(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtcp_rb_t rb = {0};
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    feed(&s, 0, 100, 10); /* seq 9, 19, ..., 99 missing: expected 99 (0..98), lost 9 */
    assert_int_equal(ovl_rtp_stats_expected(&s), 99);
    assert_int_equal(ovl_rtp_stats_lost(&s), 9);
    ovl_rtp_stats_fill_report(&s, &rb);
    assert_int_equal(rb.fraction_lost, 9 * 256 / 99);
    assert_int_equal(rb.cumulative_lost, 9);
    /* next interval: 100..149 arrive, so 99 turns out lost too: 1 of 51 expected */
    for (uint16_t seq = 100; seq < 150; seq++)
        assert_int_equal(ovl_rtp_stats_update(&s, seq, seq * FRAME_TS, OVL_SEC(10) + seq * 33333u), 0);
    ovl_rtp_stats_fill_report(&s, &rb);
    assert_int_equal(rb.fraction_lost, 1 * 256 / 51);
    assert_int_equal(rb.cumulative_lost, 10);
    assert_int_equal(rb.highest_seq, 149);
    /* and an interval with nothing new: fraction 0 */
    ovl_rtp_stats_fill_report(&s, &rb);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 10);
}

/* A.1: the sequence number wraps; the extended highest number counts the cycle. */
static void test_wrap(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    feed(&s, 65530, 20, 0); /* 65530..65535, 0..13 */
    assert_int_equal(ovl_rtp_stats_ext_max(&s), 65536 + 13);
    assert_int_equal(ovl_rtp_stats_expected(&s), 20);
    assert_int_equal(ovl_rtp_stats_lost(&s), 0);
}

/* A.1: reordered packets are counted but do not move the highest number; duplicates count too. */
static void test_reorder_and_duplicate(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    assert_int_equal(ovl_rtp_stats_update(&s, 10, 0, 0), 0);
    assert_int_equal(ovl_rtp_stats_update(&s, 12, 0, 1000), 0);
    assert_int_equal(ovl_rtp_stats_lost(&s), 1);
    assert_int_equal(ovl_rtp_stats_update(&s, 11, 0, 2000), 0);
    assert_int_equal(ovl_rtp_stats_ext_max(&s), 12);
    assert_int_equal(ovl_rtp_stats_lost(&s), 0);
    assert_int_equal(ovl_rtp_stats_update(&s, 11, 0, 3000), 0); /* duplicate */
    assert_int_equal(ovl_rtp_stats_lost(&s), -1);
}

/* A.1: a jump beyond MAX_DROPOUT is held; the next sequential packet confirms a restart. */
static void test_restart(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    feed(&s, 100, 10, 0);
    assert_int_equal(ovl_rtp_stats_update(&s, 30000, 0, OVL_SEC(1)), OVL_ERR_AGAIN);
    assert_int_equal(ovl_rtp_stats_ext_max(&s), 109);
    assert_int_equal(ovl_rtp_stats_update(&s, 30001, 0, OVL_SEC(1)), 0);
    assert_int_equal(ovl_rtp_stats_ext_max(&s), 30001);
    assert_int_equal(ovl_rtp_stats_expected(&s), 1);
    assert_int_equal(ovl_rtp_stats_update(&s, 30002, 0, OVL_SEC(1)), 0);
    assert_int_equal(ovl_rtp_stats_expected(&s), 2);
    assert_int_equal(ovl_rtp_stats_lost(&s), 0);
    /* a single stray packet far away is held and forgotten */
    assert_int_equal(ovl_rtp_stats_update(&s, 5, 0, OVL_SEC(1)), OVL_ERR_AGAIN);
    assert_int_equal(ovl_rtp_stats_update(&s, 30003, 0, OVL_SEC(1)), 0);
    assert_int_equal(ovl_rtp_stats_ext_max(&s), 30003);
}

/* A.8: constant transit time gives zero jitter. */
static void test_jitter_zero(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    feed(&s, 0, 300, 0); /* arrival step 33333 µs vs 3000 ticks (33333.3 µs): rounding only */
    assert_true(ovl_rtp_stats_jitter(&s) <= 1);
}

/*
 * A.8: frames every 20 ms (1800 ticks at 90 kHz), arrivals alternately on time and 1 ms late
 * (90 ticks): |D| = 90 every step, so J_n = 90 (1 - (15/16)^n), which is 90 within rounding
 * after a few hundred frames; after 1 step J = 90/16 = 5.6.
 */
static void test_jitter_alternating(void **state)
{
    (void)state;
    ovl_rtp_stats_t s;
    ovl_rtp_stats_init(&s, VIDEO_HZ);
    for (uint32_t i = 0; i < 400; i++) {
        ovl_time_t arrival = OVL_SEC(3) + (ovl_time_t)i * 20000 + (i % 2 ? 1000 : 0);
        assert_int_equal(ovl_rtp_stats_update(&s, (uint16_t)i, i * 1800, arrival), 0);
        if (i == 1)
            assert_int_equal(ovl_rtp_stats_jitter(&s), 5);
    }
    uint32_t j = ovl_rtp_stats_jitter(&s);
    assert_true(j >= 88 && j <= 90);
    /* packets of one frame (same timestamp) leave the jitter alone */
    uint32_t before = ovl_rtp_stats_jitter(&s);
    assert_int_equal(ovl_rtp_stats_update(&s, 400, 399 * 1800, OVL_SEC(20)), 0);
    assert_int_equal(ovl_rtp_stats_jitter(&s), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss),
        cmocka_unit_test(test_loss_and_interval),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_reorder_and_duplicate),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_jitter_zero),
        cmocka_unit_test(test_jitter_alternating),
    };
    return cmocka_run_group_tests_name("rtp_stats (RFC 3550 App. A.1, A.3, A.8)", tests, NULL, NULL);
}
