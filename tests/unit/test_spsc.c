/* SPSC ring: order, full ring, wrap-around, eventfd wakeups only when the consumer may sleep,
 * a million sequenced messages across threads, ownership of heap payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/io/clock.h"
#include "relay/io/loop.h"
#include "relay/io/spsc.h"

struct msg {
    uint64_t seq;
    uint64_t check; /* a function of seq: a torn copy would not match */
    char *text;     /* owned heap payload, or NULL */
};

static uint64_t check_of(uint64_t seq)
{
    return seq * 0x9e3779b97f4a7c15ull ^ 0x5bd1e995u;
}

static int fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void test_queue_args(void **state)
{
    (void)state;
    ovl_spsc_t *q = (ovl_spsc_t *)1;
    assert_int_equal(ovl_spsc_new(&q, 0, 8), OVL_ERR_ARG);
    assert_null(q);
    assert_int_equal(ovl_spsc_new(&q, 1, 8), OVL_ERR_ARG);
    assert_int_equal(ovl_spsc_new(&q, 6, 8), OVL_ERR_ARG);
    assert_int_equal(ovl_spsc_new(&q, 8, 0), OVL_ERR_ARG);
    assert_int_equal(ovl_spsc_new(&q, 8, 3), 0); /* odd sizes are fine */
    ovl_spsc_free(q, NULL, NULL);
}

static void test_queue_order_full_and_wrap(void **state)
{
    (void)state;
    ovl_spsc_t *q;
    struct msg m = {0};
    assert_int_equal(ovl_spsc_new(&q, 4, sizeof(struct msg)), 0);
    assert_int_equal(ovl_spsc_pop(q, &m), OVL_ERR_AGAIN);
    uint64_t next_push = 0, next_pop = 0;
    /* Many times round the ring, at varying fill levels. */
    for (int round = 0; round < 50; round++) {
        int fill = 1 + round % 4;
        for (int i = 0; i < fill; i++) {
            m = (struct msg){.seq = next_push, .check = check_of(next_push)};
            assert_int_equal(ovl_spsc_push(q, &m), 0);
            next_push++;
        }
        if (fill == 4) {
            m = (struct msg){.seq = 999};
            assert_int_equal(ovl_spsc_push(q, &m), OVL_ERR_AGAIN); /* full */
        }
        for (int i = 0; i < fill; i++) {
            assert_int_equal(ovl_spsc_pop(q, &m), 0);
            assert_int_equal(m.seq, next_pop);
            assert_int_equal(m.check, check_of(next_pop));
            next_pop++;
        }
        assert_int_equal(ovl_spsc_pop(q, &m), OVL_ERR_AGAIN);
    }
    ovl_spsc_stats_t st;
    ovl_spsc_stats(q, &st);
    assert_int_equal(st.pushes, next_push);
    assert_int_equal(st.pops, next_pop);
    assert_int_equal(st.full, 50 / 4);
    ovl_spsc_free(q, NULL, NULL);
}

struct counter {
    uint64_t next;
    size_t handled;
};

static void on_msg(void *msg, void *ctx)
{
    struct msg *m = msg;
    struct counter *c = ctx;
    assert_int_equal(m->seq, c->next);
    assert_int_equal(m->check, check_of(m->seq));
    c->next++;
    c->handled++;
}

/* The producer writes the eventfd only when the consumer has said it may sleep. */
static void test_queue_signals_only_when_consumer_waits(void **state)
{
    (void)state;
    ovl_spsc_t *q;
    struct msg m = {0};
    struct counter c = {0};
    ovl_spsc_stats_t st;
    assert_int_equal(ovl_spsc_new(&q, 16, sizeof(struct msg)), 0);
    int fd = ovl_spsc_fd(q);
    assert_false(fd_readable(fd));
    for (uint64_t i = 0; i < 5; i++) {
        m = (struct msg){.seq = i, .check = check_of(i)};
        assert_int_equal(ovl_spsc_push(q, &m), 0);
    }
    ovl_spsc_stats(q, &st);
    assert_int_equal(st.signals, 1); /* the consumer starts asleep: only the first push signals */
    assert_true(fd_readable(fd));

    /* A budget of 3 leaves 2: the consumer signals itself so its loop comes back. */
    assert_int_equal(ovl_spsc_consume(q, 3, on_msg, &c), 3);
    assert_true(fd_readable(fd));
    assert_int_equal(ovl_spsc_consume(q, 3, on_msg, &c), 2);
    assert_false(fd_readable(fd)); /* drained and reset: waiting again */
    ovl_spsc_stats(q, &st);
    assert_int_equal(st.kicks, 1);
    assert_int_equal(st.signals, 1);

    m = (struct msg){.seq = 5, .check = check_of(5)};
    assert_int_equal(ovl_spsc_push(q, &m), 0);
    assert_true(fd_readable(fd));
    ovl_spsc_stats(q, &st);
    assert_int_equal(st.signals, 2);
    assert_int_equal(ovl_spsc_consume(q, 100, on_msg, &c), 1);
    assert_int_equal(c.next, 6);

    /* prepare_wait tells the truth about an empty or non-empty ring. */
    assert_true(ovl_spsc_prepare_wait(q));
    m = (struct msg){.seq = 6, .check = check_of(6)};
    assert_int_equal(ovl_spsc_push(q, &m), 0);
    assert_false(ovl_spsc_prepare_wait(q));
    ovl_spsc_free(q, NULL, NULL);
}

/* ---- a million messages across threads ---- */

#define MILLION 1000000u

struct xthread {
    ovl_spsc_t *q;
    ovl_loop_t *loop;
    struct counter c;
    uint64_t producer_retries;
};

static void *producer(void *arg)
{
    struct xthread *x = arg;
    for (uint64_t i = 0; i < MILLION; i++) {
        struct msg m = {.seq = i, .check = check_of(i)};
        while (ovl_spsc_push(x->q, &m) == OVL_ERR_AGAIN) {
            x->producer_retries++;
            sched_yield();
        }
    }
    return NULL;
}

static void on_queue_readable(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    (void)fd, (void)events;
    struct xthread *x = ctx;
    ovl_spsc_consume(x->q, 256, on_msg, &x->c);
    if (x->c.handled == MILLION)
        ovl_loop_stop(loop);
}

static void test_queue_million_across_threads(void **state)
{
    (void)state;
    struct xthread x = {0};
    pthread_t th;
    assert_int_equal(ovl_spsc_new(&x.q, 1024, sizeof(struct msg)), 0);
    assert_int_equal(ovl_loop_new(&x.loop, 0), 0);
    assert_int_equal(ovl_loop_add(x.loop, ovl_spsc_fd(x.q), OVL_LOOP_READ, on_queue_readable, &x), 0);
    ovl_time_t start = ovl_clock_now();
    assert_int_equal(pthread_create(&th, NULL, producer, &x), 0);
    assert_int_equal(ovl_loop_run(x.loop), 0);
    pthread_join(th, NULL);
    ovl_time_t took = ovl_clock_now() - start;
    assert_int_equal(x.c.handled, MILLION);
    assert_int_equal(x.c.next, MILLION);
    ovl_spsc_stats_t st;
    ovl_spsc_stats(x.q, &st);
    assert_int_equal(st.pushes, MILLION);
    assert_int_equal(st.pops, MILLION);
    assert_true(st.signals >= 1);
    assert_true(st.signals <= MILLION);
    /* Informational (no assertion on time): how often the producer had to make a system call. */
    printf("    1M messages in %.3f s: %llu eventfd writes (%.4f per message), %llu full-ring retries, %llu kicks\n",
           (double)took / 1e6, (unsigned long long)st.signals, (double)st.signals / MILLION,
           (unsigned long long)x.producer_retries, (unsigned long long)st.kicks);
    ovl_loop_free(x.loop);
    ovl_spsc_free(x.q, NULL, NULL);
}

/* ---- ownership of heap payloads ---- */

static void take_and_free(void *msg, void *ctx)
{
    struct msg *m = msg;
    size_t *n = ctx;
    char want[32];
    snprintf(want, sizeof(want), "sdp %llu", (unsigned long long)m->seq);
    assert_string_equal(m->text, want);
    free(m->text); /* the consumer owns it */
    m->text = NULL;
    (*n)++;
}

static void test_queue_payload_ownership(void **state)
{
    (void)state;
    ovl_spsc_t *q;
    size_t consumed = 0, disposed = 0;
    assert_int_equal(ovl_spsc_new(&q, 64, sizeof(struct msg)), 0);
    for (uint64_t i = 0; i < 80; i++) {
        struct msg m = {.seq = i, .check = check_of(i)};
        char text[32];
        snprintf(text, sizeof(text), "sdp %llu", (unsigned long long)i);
        m.text = strdup(text);
        if (ovl_spsc_push(q, &m) != 0)
            free(m.text); /* refused: still the producer's */
    }
    assert_int_equal(ovl_spsc_consume(q, 30, take_and_free, &consumed), 30);
    /* 34 left in the ring: freeing it hands each to the dispose function (ASan checks leaks). */
    ovl_spsc_free(q, take_and_free, &disposed);
    assert_int_equal(consumed, 30);
    assert_int_equal(disposed, 34);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_args),
        cmocka_unit_test(test_queue_order_full_and_wrap),
        cmocka_unit_test(test_queue_signals_only_when_consumer_waits),
        cmocka_unit_test(test_queue_million_across_threads),
        cmocka_unit_test(test_queue_payload_ownership),
    };
    return cmocka_run_group_tests_name("io spsc queue", tests, NULL, NULL);
}
