/* Packet pool: exhaustion, reference-counted fan-out, buffer geometry, poisoning under ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "relay/io/pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

static void test_pool_rejects_empty(void **state)
{
    (void)state;
    ovl_pool_t *pool = (ovl_pool_t *)1;
    assert_int_equal(ovl_pool_new(&pool, 0), OVL_ERR_ARG);
    assert_null(pool);
}

static void test_pool_exhaustion_and_stats(void **state)
{
    (void)state;
    enum { N = 16 };
    ovl_pool_t *pool;
    ovl_pkt_t *pkts[N];
    ovl_pool_stats_t st;
    assert_int_equal(ovl_pool_new(&pool, N), 0);
    for (int i = 0; i < N; i++) {
        pkts[i] = ovl_pool_get(pool);
        assert_non_null(pkts[i]);
        assert_int_equal(ovl_pkt_refs(pkts[i]), 1);
        assert_int_equal(pkts[i]->len, 0);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(pkts[i], pkts[j]);
        memset(pkts[i]->data, i, OVL_POOL_DATA); /* every buffer is fully writable */
    }
    assert_null(ovl_pool_get(pool));
    assert_null(ovl_pool_get(pool));
    ovl_pool_stats(pool, &st);
    assert_int_equal(st.capacity, N);
    assert_int_equal(st.in_use, N);
    assert_int_equal(st.high_water, N);
    assert_int_equal(st.exhausted, 2);

    ovl_pkt_t *back = pkts[5];
    ovl_pkt_unref(back);
    ovl_pool_stats(pool, &st);
    assert_int_equal(st.in_use, N - 1);
    /* The returned buffer is the next one handed out, reset. */
    ovl_pkt_t *again = ovl_pool_get(pool);
    assert_ptr_equal(again, back);
    assert_int_equal(again->len, 0);
    assert_int_equal(ovl_pkt_headroom(again), OVL_POOL_HEADROOM);
    pkts[5] = again;
    for (int i = 0; i < N; i++)
        ovl_pkt_unref(pkts[i]);
    ovl_pool_stats(pool, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.high_water, N);
    ovl_pool_free(pool);
}

/* One packet fanned out to several users: it returns to the pool only with the last unref. */
static void test_pool_refcount_fanout(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    ovl_pool_stats_t st;
    assert_int_equal(ovl_pool_new(&pool, 2), 0);
    ovl_pkt_t *pkt = ovl_pool_get(pool);
    ovl_pkt_t *other = ovl_pool_get(pool);
    assert_null(ovl_pool_get(pool));
    memcpy(pkt->data, "hello", 5);
    pkt->len = 5;

    ovl_pkt_t *subscribers[3];
    for (int i = 0; i < 3; i++)
        subscribers[i] = ovl_pkt_ref(pkt);
    assert_ptr_equal(subscribers[2], pkt);
    assert_int_equal(ovl_pkt_refs(pkt), 4);
    ovl_pkt_unref(pkt); /* the receiver is done; subscribers still hold it */
    for (int i = 0; i < 2; i++) {
        ovl_pkt_unref(subscribers[i]);
        ovl_pool_stats(pool, &st);
        assert_int_equal(st.in_use, 2);
        assert_memory_equal(subscribers[2]->data, "hello", 5);
        assert_null(ovl_pool_get(pool)); /* still not free */
    }
    ovl_pkt_unref(subscribers[2]);
    ovl_pool_stats(pool, &st);
    assert_int_equal(st.in_use, 1);
    ovl_pkt_t *reused = ovl_pool_get(pool);
    assert_ptr_equal(reused, pkt);
    assert_int_equal(ovl_pkt_refs(reused), 1);
    ovl_pkt_unref(reused);
    ovl_pkt_unref(other);
    ovl_pool_free(pool);
}

static void test_pool_headroom_tailroom(void **state)
{
    (void)state;
    ovl_pool_t *pool;
    assert_int_equal(ovl_pool_new(&pool, 1), 0);
    ovl_pkt_t *pkt = ovl_pool_get(pool);
    assert_int_equal(ovl_pkt_headroom(pkt), OVL_POOL_HEADROOM);
    assert_int_equal(ovl_pkt_tailroom(pkt), OVL_POOL_DATA + OVL_POOL_TAILROOM);
    /* A full-size datagram still leaves the SRTP tailroom. */
    assert_int_equal(ovl_pkt_put(pkt, OVL_POOL_DATA), 0);
    assert_int_equal(ovl_pkt_tailroom(pkt), OVL_POOL_TAILROOM);
    memset(pkt->data + pkt->len, 0xaa, OVL_POOL_TAILROOM);
    assert_int_equal(ovl_pkt_put(pkt, OVL_POOL_TAILROOM + 1), OVL_ERR_LIMIT);
    assert_int_equal(ovl_pkt_put(pkt, OVL_POOL_TAILROOM), 0);
    assert_int_equal(ovl_pkt_tailroom(pkt), 0);
    /* Growing a header in front: the RFC 4588 OSN (2 bytes), then more up to the headroom. */
    uint8_t *data = pkt->data;
    assert_int_equal(ovl_pkt_push(pkt, 2), 0);
    assert_ptr_equal(pkt->data, data - 2);
    assert_int_equal(ovl_pkt_headroom(pkt), OVL_POOL_HEADROOM - 2);
    assert_int_equal(ovl_pkt_push(pkt, OVL_POOL_HEADROOM - 1), OVL_ERR_LIMIT);
    assert_int_equal(ovl_pkt_push(pkt, OVL_POOL_HEADROOM - 2), 0);
    assert_int_equal(ovl_pkt_headroom(pkt), 0);
    pkt->data[0] = 1; /* the first byte of the buffer is writable */
    assert_int_equal(pkt->len, OVL_POOL_BUF);
    assert_int_equal(ovl_pkt_pull(pkt, OVL_POOL_BUF + 1), OVL_ERR_LIMIT);
    assert_int_equal(ovl_pkt_pull(pkt, OVL_POOL_HEADROOM), 0);
    assert_ptr_equal(pkt->data, data);
    /* Packet data start is cache-line aligned (headroom is a multiple of 64). */
    assert_int_equal((uintptr_t)pkt->data % 64, 0);
    ovl_pkt_unref(pkt);
    ovl_pool_free(pool);
}

/* Under AddressSanitizer, touching a packet after its last unref is reported (in a child
 * process, which ASan ends). */
static void test_pool_use_after_unref_is_caught(void **state)
{
    (void)state;
#ifndef TEST_ASAN
    skip();
#else
    ovl_pool_t *pool;
    assert_int_equal(ovl_pool_new(&pool, 2), 0);
    ovl_pkt_t *pkt = ovl_pool_get(pool);
    uint8_t *data = pkt->data;
    data[0] = 1;
    ovl_pkt_unref(pkt);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        volatile uint8_t *p = data;
        p[0] = 2; /* use after the last unref */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* A packet handed out again is writable. */
    pkt = ovl_pool_get(pool);
    pkt->data[0] = 3;
    ovl_pkt_unref(pkt);
    ovl_pool_free(pool);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_rejects_empty),
        cmocka_unit_test(test_pool_exhaustion_and_stats),
        cmocka_unit_test(test_pool_refcount_fanout),
        cmocka_unit_test(test_pool_headroom_tailroom),
        cmocka_unit_test(test_pool_use_after_unref_is_caught),
    };
    return cmocka_run_group_tests_name("io packet pool", tests, NULL, NULL);
}
