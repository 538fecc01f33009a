/* Monotonic clock and the NTP timestamp format of RFC 5905 §6 used by RTCP SR (RFC 3550 §6.4.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/io/clock.h"

static void test_clock_monotonic_never_goes_back(void **state)
{
    (void)state;
    ovl_time_t prev = ovl_clock_now();
    assert_true(prev > 0);
    for (int i = 0; i < 100000; i++) {
        ovl_time_t now = ovl_clock_now();
        assert_true(now >= prev);
        prev = now;
    }
}

static void test_clock_wall_is_unix_time(void **state)
{
    (void)state;
    /* After 2024-01-01 (1704067200 s) and before 2100. */
    uint64_t wall = ovl_clock_wall();
    assert_true(wall > 1704067200ull * 1000000u);
    assert_true(wall < 4102444800ull * 1000000u);
    ovl_clock_pair_t p;
    ovl_clock_pair(&p);
    assert_true(p.wall >= wall);
    assert_true(p.mono > 0);
}

/* RFC 5905 §6: the NTP era 0 epoch is 1900-01-01; Unix time 0 is NTP second 2208988800 (0x83AA7E80). */
static void test_clock_ntp_conversion(void **state)
{
    (void)state;
    assert_int_equal(ovl_clock_ntp_from_unix(0), 0x83AA7E8000000000ull);
    /* Half a second is 2^31 fractional units; a quarter 2^30. */
    assert_int_equal(ovl_clock_ntp_from_unix(1500000), 0x83AA7E8180000000ull);
    assert_int_equal(ovl_clock_ntp_from_unix(250000), 0x83AA7E8040000000ull);
    /* One microsecond is 4294.967296 units: truncated to 4294. */
    assert_int_equal(ovl_clock_ntp_from_unix(1) & 0xffffffffu, 4294);
    assert_int_equal(ovl_clock_ntp_from_unix(999999) & 0xffffffffu, 0xffffef39u);
    /* 2036-02-07T06:28:16Z (Unix 2085978496) ends NTP era 0: the seconds field wraps to 0. */
    assert_int_equal(ovl_clock_ntp_from_unix(2085978496ull * 1000000u), 0);
    assert_int_equal(ovl_clock_ntp_from_unix(2085978495ull * 1000000u) >> 32, 0xffffffffu);
}

static void test_clock_ntp_at_anchor(void **state)
{
    (void)state;
    ovl_clock_pair_t a = {.mono = 5000000, .wall = 1700000000ull * 1000000u};
    uint64_t base = ovl_clock_ntp_from_unix(a.wall);
    assert_int_equal(ovl_clock_ntp_at(&a, a.mono), base);
    /* 1.5 s later and 0.5 s earlier on the monotonic clock. */
    assert_int_equal(ovl_clock_ntp_at(&a, a.mono + 1500000), base + 0x180000000ull);
    assert_int_equal(ovl_clock_ntp_at(&a, a.mono - 500000), base - 0x80000000ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_monotonic_never_goes_back),
        cmocka_unit_test(test_clock_wall_is_unix_time),
        cmocka_unit_test(test_clock_ntp_conversion),
        cmocka_unit_test(test_clock_ntp_at_anchor),
    };
    return cmocka_run_group_tests_name("io clock", tests, NULL, NULL);
}
