/* epoll loop: readiness, interest changes, removal during dispatch, timers, end-of-turn hooks,
 * cross-thread wakeup and stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/io/clock.h"
#include "relay/io/loop.h"

#define TWO_SECONDS OVL_SEC(2)

struct rec {
    ovl_loop_t *loop;
    int calls;
    unsigned last_events;
    int remove_fd; /* remove this fd from inside the callback */
    char order[32];
    size_t norder;
};

static void on_io(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    struct rec *r = ctx;
    char buf[64];
    r->calls++;
    r->last_events = events;
    if (events & OVL_LOOP_READ) {
        ssize_t n = read(fd, buf, sizeof(buf));
        (void)n;
    }
    if (r->remove_fd >= 0)
        assert_int_equal(ovl_loop_remove(loop, r->remove_fd), 0);
    r->order[r->norder++] = 'i';
}

static void on_hook_a(ovl_loop_t *loop, void *ctx)
{
    (void)loop;
    struct rec *r = ctx;
    r->order[r->norder++] = 'a';
}

static void on_hook_b(ovl_loop_t *loop, void *ctx)
{
    (void)loop;
    struct rec *r = ctx;
    r->order[r->norder++] = 'b';
}

static void on_timer(ovl_timer_t *t, ovl_time_t now, void *ctx)
{
    (void)t, (void)now;
    struct rec *r = ctx;
    r->order[r->norder++] = 't';
}

static void test_loop_registration_errors(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    int sv[2];
    struct rec r = {.remove_fd = -1};
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(ovl_loop_add(loop, -1, OVL_LOOP_READ, on_io, &r), OVL_ERR_ARG);
    assert_int_equal(ovl_loop_add(loop, sv[0], OVL_LOOP_READ, NULL, &r), OVL_ERR_ARG);
    assert_int_equal(ovl_loop_add(loop, sv[0], OVL_LOOP_READ, on_io, &r), 0);
    assert_int_equal(ovl_loop_add(loop, sv[0], OVL_LOOP_READ, on_io, &r), OVL_ERR_STATE);
    assert_int_equal(ovl_loop_modify(loop, sv[1], OVL_LOOP_READ), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_loop_remove(loop, sv[1]), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_loop_remove(loop, sv[0]), 0);
    assert_int_equal(ovl_loop_remove(loop, sv[0]), OVL_ERR_NOTFOUND);
    for (int i = 0; i < OVL_LOOP_MAX_HOOKS; i++)
        assert_int_equal(ovl_loop_add_hook(loop, on_hook_a, &r), 0);
    assert_int_equal(ovl_loop_add_hook(loop, on_hook_a, &r), OVL_ERR_LIMIT);
    close(sv[0]);
    close(sv[1]);
    ovl_loop_free(loop);
}

/* Readiness reaches the callback with the right bits; interest can be changed and cleared. */
static void test_loop_read_write_interest(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    int sv[2];
    struct rec r = {.remove_fd = -1};
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    /* A descriptor number far above the loop's initial table makes it grow. */
    int high = dup2(sv[0], 700);
    assert_int_equal(high, 700);

    assert_int_equal(ovl_loop_add(loop, high, OVL_LOOP_WRITE, on_io, &r), 0);
    assert_true(ovl_loop_turn(loop, 0) >= 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_events, OVL_LOOP_WRITE);

    assert_int_equal(ovl_loop_modify(loop, high, 0), 0);
    assert_int_equal(ovl_loop_turn(loop, 0), 0);
    assert_int_equal(r.calls, 1);

    assert_int_equal(ovl_loop_modify(loop, high, OVL_LOOP_READ), 0);
    assert_int_equal(ovl_loop_turn(loop, 0), 0); /* nothing to read yet */
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(ovl_loop_turn(loop, TWO_SECONDS), 1);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.last_events, OVL_LOOP_READ);

    /* A hang-up is reported as readable (the read returns 0). */
    close(sv[1]);
    assert_int_equal(ovl_loop_turn(loop, TWO_SECONDS), 1);
    assert_true(r.last_events & OVL_LOOP_READ);
    assert_int_equal(ovl_loop_remove(loop, high), 0);
    close(high);
    close(sv[0]);
    ovl_loop_free(loop);
}

/* Two descriptors ready in the same turn, each callback removing the other: only one runs. */
static void test_loop_remove_during_dispatch(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    int a[2], b[2];
    struct rec ra = {0}, rb = {0};
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
    ra.remove_fd = b[0];
    rb.remove_fd = a[0];
    assert_int_equal(ovl_loop_add(loop, a[0], OVL_LOOP_READ, on_io, &ra), 0);
    assert_int_equal(ovl_loop_add(loop, b[0], OVL_LOOP_READ, on_io, &rb), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "y", 1), 1);
    assert_int_equal(ovl_loop_turn(loop, TWO_SECONDS), 1);
    assert_int_equal(ra.calls + rb.calls, 1);
    /* The survivor is still watched and still fires. */
    int survivor = ra.calls ? a[0] : b[0];
    struct rec *rs = ra.calls ? &ra : &rb;
    rs->remove_fd = -1;
    assert_int_equal(write(ra.calls ? a[1] : b[1], "z", 1), 1);
    assert_int_equal(ovl_loop_turn(loop, TWO_SECONDS), 1);
    assert_int_equal(rs->calls, 2);
    assert_int_equal(ovl_loop_remove(loop, survivor), 0);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    ovl_loop_free(loop);
}

/* A turn runs descriptor callbacks, then timers, then the hooks in the order they were added. */
static void test_loop_turn_order_and_timers(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    int sv[2];
    struct rec r = {.remove_fd = -1};
    ovl_timer_t timer;
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    assert_int_equal(ovl_loop_add(loop, sv[0], OVL_LOOP_READ, on_io, &r), 0);
    assert_int_equal(ovl_loop_add_hook(loop, on_hook_a, &r), 0);
    assert_int_equal(ovl_loop_add_hook(loop, on_hook_b, &r), 0);
    ovl_timer_init(&timer, on_timer, &r);
    assert_int_equal(ovl_timer_schedule(ovl_loop_timers(loop), &timer, ovl_clock_now()), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(ovl_loop_turn(loop, TWO_SECONDS), 2);
    assert_string_equal(r.order, "itab");

    /* With nothing else to do, a turn sleeps until the timer is due (3 ms), not forever. */
    r.norder = 0;
    memset(r.order, 0, sizeof(r.order));
    ovl_time_t start = ovl_clock_now();
    assert_int_equal(ovl_timer_schedule(ovl_loop_timers(loop), &timer, start + OVL_MS(3)), 0);
    int ran = 0;
    while (ran == 0 && ovl_clock_now() - start < TWO_SECONDS)
        ran = ovl_loop_turn(loop, TWO_SECONDS);
    assert_int_equal(ran, 1);
    assert_true(ovl_loop_now(loop) >= start + OVL_MS(3)); /* never fired early */
    assert_true(strchr(r.order, 't') != NULL);
    assert_int_equal(ovl_loop_remove(loop, sv[0]), 0);
    close(sv[0]), close(sv[1]);
    ovl_loop_free(loop);
}

struct other_thread {
    ovl_loop_t *loop;
    int stop; /* 1: ovl_loop_stop, 0: ovl_loop_wakeup */
};

static void *poke_later(void *arg)
{
    struct other_thread *o = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (o->stop)
        ovl_loop_stop(o->loop);
    else
        ovl_loop_wakeup(o->loop);
    return NULL;
}

/* Another thread wakes a loop sleeping with no timer and no descriptor ready. */
static void test_loop_wakeup_from_other_thread(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    pthread_t th;
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    struct other_thread o = {.loop = loop, .stop = 0};
    ovl_time_t start = ovl_clock_now();
    assert_int_equal(pthread_create(&th, NULL, poke_later, &o), 0);
    /* Without the wakeup this turn would sleep the full 10 s. */
    assert_true(ovl_loop_turn(loop, OVL_SEC(10)) >= 1);
    assert_true(ovl_clock_now() - start < TWO_SECONDS);
    pthread_join(th, NULL);
    ovl_loop_free(loop);
}

static void test_loop_stop_from_other_thread(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    pthread_t th;
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    struct other_thread o = {.loop = loop, .stop = 1};
    assert_int_equal(pthread_create(&th, NULL, poke_later, &o), 0);
    ovl_time_t start = ovl_clock_now();
    assert_int_equal(ovl_loop_run(loop), 0);
    assert_true(ovl_clock_now() - start < TWO_SECONDS);
    assert_false(ovl_loop_stopping(loop)); /* consumed */
    pthread_join(th, NULL);
    /* A stop requested before run makes run return without sleeping. */
    ovl_loop_stop(loop);
    assert_true(ovl_loop_stopping(loop));
    assert_int_equal(ovl_loop_run(loop), 0);
    ovl_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_registration_errors),      cmocka_unit_test(test_loop_read_write_interest),
        cmocka_unit_test(test_loop_remove_during_dispatch),   cmocka_unit_test(test_loop_turn_order_and_timers),
        cmocka_unit_test(test_loop_wakeup_from_other_thread), cmocka_unit_test(test_loop_stop_from_other_thread),
    };
    return cmocka_run_group_tests_name("io event loop", tests, NULL, NULL);
}
