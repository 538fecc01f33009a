/* Bounds-checked cursor reads and writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/proto/cursor.h"

static void test_reads_in_network_order(void **state)
{
    (void)state;
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
    const uint8_t *p = in, *end = in + sizeof(in);
    uint8_t u8;
    uint16_t u16;
    uint32_t u24, u32;
    uint64_t u64;
    assert_int_equal(ovl_get_u8(&p, end, &u8), 0);
    assert_int_equal(u8, 0x01);
    assert_int_equal(ovl_get_u16(&p, end, &u16), 0);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(ovl_get_u24(&p, end, &u24), 0);
    assert_int_equal(u24, 0x040506);
    assert_int_equal(ovl_get_u32(&p, end, &u32), 0);
    assert_int_equal(u32, 0x0708090a);
    assert_int_equal(ovl_get_u64(&p, end, &u64), 0);
    assert_true(u64 == 0x0b0c0d0e0f101112ull);
    assert_ptr_equal(p, end);
}

static void test_short_read_fails_without_moving(void **state)
{
    (void)state;
    static const uint8_t in[] = {0xaa, 0xbb, 0xcc};
    const uint8_t *p = in, *end = in + sizeof(in);
    uint32_t u32 = 7;
    uint64_t u64 = 7;
    const uint8_t *blk = NULL;
    assert_int_equal(ovl_get_u32(&p, end, &u32), OVL_ERR_PARSE);
    assert_int_equal(ovl_get_u64(&p, end, &u64), OVL_ERR_PARSE);
    assert_int_equal(ovl_get_block(&p, end, 4, &blk), OVL_ERR_PARSE);
    assert_ptr_equal(p, in);
    assert_int_equal(ovl_get_block(&p, end, 3, &blk), 0);
    assert_ptr_equal(blk, in);
    assert_ptr_equal(p, end);
    uint8_t u8;
    assert_int_equal(ovl_get_u8(&p, end, &u8), OVL_ERR_PARSE);
}

static void test_writes_stop_at_capacity(void **state)
{
    (void)state;
    uint8_t out[7];
    ovl_wbuf_t b;
    ovl_wbuf_init(&b, out, sizeof(out));
    assert_int_equal(ovl_put_u16(&b, 0x0102), 0);
    assert_int_equal(ovl_put_u32(&b, 0x03040506), 0);
    assert_int_equal(ovl_put_u16(&b, 0x0708), OVL_ERR_LIMIT);
    assert_int_equal(b.len, 6);
    assert_int_equal(ovl_put_u8(&b, 0x07), 0);
    assert_int_equal(ovl_put_zeros(&b, 1), OVL_ERR_LIMIT);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7};
    assert_memory_equal(out, want, sizeof(want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_in_network_order),
        cmocka_unit_test(test_short_read_fails_without_moving),
        cmocka_unit_test(test_writes_stop_at_capacity),
    };
    return cmocka_run_group_tests_name("cursor", tests, NULL, NULL);
}
