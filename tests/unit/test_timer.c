/* Timer heap: ordering, cancel, reschedule (also from inside callbacks), against a reference model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "relay/io/timer.h"

#define MAX_FIRED 4096

/* Records which timers fired, in order. */
struct log {
    int fired[MAX_FIRED];
    size_t n;
};

/* A test timer embedded in its owner, as real owners will embed them. */
struct owner {
    ovl_timer_t timer;
    int id;
    struct log *log;
    /* what the callback does */
    ovl_timers_t *timers;
    struct owner *cancel;  /* cancel this one */
    struct owner *resched; /* reschedule this one to resched_to */
    ovl_time_t resched_to;
    struct owner *arm; /* arm this one at arm_at */
    ovl_time_t arm_at;
    int nested_run_result;
    int try_nested_run;
};

static void on_fire(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    struct owner *o = ctx;
    (void)now;
    assert_ptr_equal(timer, &o->timer);
    assert_false(ovl_timer_armed(timer)); /* disarmed before its callback */
    o->log->fired[o->log->n++] = o->id;
    if (o->cancel)
        ovl_timer_cancel(o->timers, &o->cancel->timer);
    if (o->resched)
        assert_int_equal(ovl_timer_schedule(o->timers, &o->resched->timer, o->resched_to), 0);
    if (o->arm)
        assert_int_equal(ovl_timer_schedule(o->timers, &o->arm->timer, o->arm_at), 0);
    if (o->try_nested_run)
        o->nested_run_result = (int)ovl_timers_run(o->timers, now);
}

static void owners_init(struct owner *o, size_t n, ovl_timers_t *timers, struct log *log)
{
    for (size_t i = 0; i < n; i++) {
        o[i] = (struct owner){.id = (int)i, .log = log, .timers = timers};
        ovl_timer_init(&o[i].timer, on_fire, &o[i]);
    }
}

static void test_timer_empty(void **state)
{
    (void)state;
    ovl_timers_t t;
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    assert_int_equal(ovl_timers_first(&t), OVL_TIME_NEVER);
    assert_int_equal(ovl_timers_next(&t, 123), OVL_TIME_NEVER);
    assert_int_equal(ovl_timers_run(&t, 1000000), 0);
    assert_int_equal(ovl_timers_count(&t), 0);
    ovl_timers_dispose(&t);
}

static void test_timer_order_and_next(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[5];
    assert_int_equal(ovl_timers_init(&t, 2), 0); /* small: forces the array to grow */
    owners_init(o, 5, &t, &log);
    const ovl_time_t when[5] = {500, 100, 300, 100, 200};
    for (int i = 0; i < 5; i++)
        assert_int_equal(ovl_timer_schedule(&t, &o[i].timer, when[i]), 0);
    assert_int_equal(ovl_timers_count(&t), 5);
    assert_int_equal(ovl_timers_first(&t), 100);
    assert_int_equal(ovl_timers_next(&t, 40), 60);
    assert_int_equal(ovl_timers_next(&t, 100), 0);
    assert_int_equal(ovl_timers_next(&t, 150), 0);
    assert_int_equal(ovl_timer_when(&o[2].timer), 300);

    assert_int_equal(ovl_timers_run(&t, 99), 0); /* nothing due yet */
    assert_int_equal(ovl_timers_run(&t, 250), 3);
    /* Equal deadlines (1 and 3 at 100) fire in scheduling order. */
    assert_int_equal(log.n, 3);
    assert_int_equal(log.fired[0], 1);
    assert_int_equal(log.fired[1], 3);
    assert_int_equal(log.fired[2], 4);
    assert_false(ovl_timer_armed(&o[1].timer));
    assert_int_equal(ovl_timer_when(&o[1].timer), OVL_TIME_NEVER);
    assert_int_equal(ovl_timers_next(&t, 250), 50);
    assert_int_equal(ovl_timers_run(&t, 1000), 2);
    assert_int_equal(log.fired[3], 2);
    assert_int_equal(log.fired[4], 0);
    assert_int_equal(ovl_timers_count(&t), 0);
    ovl_timers_dispose(&t);
}

static void test_timer_cancel_and_reschedule(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[4];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 4, &t, &log);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ovl_timer_schedule(&t, &o[i].timer, 100u * (ovl_time_t)(i + 1)), 0);
    ovl_timer_cancel(&t, &o[1].timer);
    ovl_timer_cancel(&t, &o[1].timer); /* idle: no effect */
    assert_false(ovl_timer_armed(&o[1].timer));
    assert_int_equal(ovl_timer_schedule(&t, &o[3].timer, 50), 0);   /* earlier */
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 1000), 0); /* later */
    assert_int_equal(ovl_timers_count(&t), 3);
    assert_int_equal(ovl_timers_run(&t, 999), 2);
    assert_int_equal(log.fired[0], 3);
    assert_int_equal(log.fired[1], 2);
    assert_int_equal(ovl_timers_run(&t, 1000), 1);
    assert_int_equal(log.fired[2], 0);
    assert_int_equal(log.n, 3);
    ovl_timers_dispose(&t);
}

/* A callback cancels a timer due in the same run, and one due later. */
static void test_timer_cancel_inside_callback(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[3];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 3, &t, &log);
    o[0].cancel = &o[1];
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 10), 0);
    assert_int_equal(ovl_timer_schedule(&t, &o[1].timer, 10), 0); /* due in the same run */
    assert_int_equal(ovl_timer_schedule(&t, &o[2].timer, 10), 0);
    assert_int_equal(ovl_timers_run(&t, 10), 2);
    assert_int_equal(log.fired[0], 0);
    assert_int_equal(log.fired[1], 2);
    assert_false(ovl_timer_armed(&o[1].timer));

    o[0].cancel = &o[2];
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 20), 0);
    assert_int_equal(ovl_timer_schedule(&t, &o[2].timer, 500), 0); /* due later */
    assert_int_equal(ovl_timers_run(&t, 20), 1);
    assert_int_equal(ovl_timers_count(&t), 0);
    assert_int_equal(ovl_timers_run(&t, 1000), 0);
    ovl_timers_dispose(&t);
}

/* A callback re-arms itself for "now": it must not fire twice in one run (no starvation). */
static void test_timer_reschedule_self_inside_callback(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[2];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 2, &t, &log);
    o[0].resched = &o[0];
    o[0].resched_to = 5; /* already past when it fires at 10 */
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 10), 0);
    assert_int_equal(ovl_timers_run(&t, 10), 1);
    assert_true(ovl_timer_armed(&o[0].timer));
    assert_int_equal(ovl_timers_next(&t, 10), 0); /* due: the loop must not sleep */
    assert_int_equal(ovl_timers_run(&t, 10), 1);
    assert_int_equal(ovl_timers_run(&t, 10), 1);
    assert_int_equal(log.n, 3);
    o[0].resched = NULL;
    assert_int_equal(ovl_timers_run(&t, 10), 1);
    assert_int_equal(ovl_timers_count(&t), 0);
    ovl_timers_dispose(&t);
}

/* A callback moves another timer that is due in the same run to later, and one due later to now. */
static void test_timer_reschedule_other_inside_callback(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[3];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 3, &t, &log);
    o[0].resched = &o[1];
    o[0].resched_to = 300;
    o[0].arm = &o[2];
    o[0].arm_at = 1; /* newly armed in the past: next run */
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 100), 0);
    assert_int_equal(ovl_timer_schedule(&t, &o[1].timer, 100), 0);
    assert_int_equal(ovl_timers_run(&t, 200), 1);
    assert_int_equal(log.fired[0], 0);
    assert_int_equal(ovl_timer_when(&o[1].timer), 300);
    assert_int_equal(ovl_timer_when(&o[2].timer), 1);
    assert_int_equal(ovl_timers_first(&t), 1);
    assert_int_equal(ovl_timers_run(&t, 200), 1);
    assert_int_equal(log.fired[1], 2);
    assert_int_equal(ovl_timers_run(&t, 300), 1);
    assert_int_equal(log.fired[2], 1);
    ovl_timers_dispose(&t);
}

static void test_timer_nested_run_is_refused(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[2];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 2, &t, &log);
    o[0].try_nested_run = 1;
    o[0].nested_run_result = -1;
    assert_int_equal(ovl_timer_schedule(&t, &o[0].timer, 1), 0);
    assert_int_equal(ovl_timer_schedule(&t, &o[1].timer, 1), 0);
    assert_int_equal(ovl_timers_run(&t, 1), 2);
    assert_int_equal(o[0].nested_run_result, 0);
    assert_int_equal(log.n, 2);
    ovl_timers_dispose(&t);
}

static void test_timer_dispose_leaves_timers_idle(void **state)
{
    (void)state;
    ovl_timers_t t;
    struct log log = {0};
    struct owner o[3];
    assert_int_equal(ovl_timers_init(&t, 0), 0);
    owners_init(o, 3, &t, &log);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ovl_timer_schedule(&t, &o[i].timer, 7), 0);
    ovl_timers_dispose(&t);
    for (int i = 0; i < 3; i++)
        assert_false(ovl_timer_armed(&o[i].timer));
}

/* ---- randomized comparison with a naive model ---- */

#define MODEL_N 300

struct model_timer {
    ovl_timer_t timer;
    int id;
    int *out;
    size_t *nout;
};

static void on_model_fire(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    (void)timer, (void)now;
    struct model_timer *m = ctx;
    m->out[(*m->nout)++] = m->id;
}

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

static void test_timer_matches_model(void **state)
{
    (void)state;
    static struct model_timer mt[MODEL_N];
    static int fired[MODEL_N * 4];
    /* The model: armed flag, deadline and scheduling sequence per timer. */
    static int armed[MODEL_N];
    static ovl_time_t when[MODEL_N];
    static uint64_t seq[MODEL_N];
    static int want[MODEL_N];
    uint64_t rng = 42, next_seq = 0;
    size_t nfired = 0;
    ovl_time_t now = 0;
    ovl_timers_t t;

    assert_int_equal(ovl_timers_init(&t, 1), 0);
    for (int i = 0; i < MODEL_N; i++) {
        mt[i] = (struct model_timer){.id = i, .out = fired, .nout = &nfired};
        ovl_timer_init(&mt[i].timer, on_model_fire, &mt[i]);
        armed[i] = 0;
    }
    for (int step = 0; step < 20000; step++) {
        uint64_t op = rng_next(&rng) % 10;
        int i = (int)(rng_next(&rng) % MODEL_N);
        if (op < 6) { /* schedule or reschedule, sometimes in the past */
            ovl_time_t w = now + rng_next(&rng) % 1000;
            w = w > 100 ? w - 100 : 0;
            assert_int_equal(ovl_timer_schedule(&t, &mt[i].timer, w), 0);
            armed[i] = 1, when[i] = w, seq[i] = next_seq++;
        } else if (op < 8) {
            ovl_timer_cancel(&t, &mt[i].timer);
            armed[i] = 0;
        } else { /* advance and run: the model fires due timers by (when, seq) */
            now += rng_next(&rng) % 400;
            size_t nwant = 0;
            for (;;) {
                int best = -1;
                for (int k = 0; k < MODEL_N; k++)
                    if (armed[k] && when[k] <= now &&
                        (best < 0 || when[k] < when[best] || (when[k] == when[best] && seq[k] < seq[best])))
                        best = k;
                if (best < 0)
                    break;
                armed[best] = 0;
                want[nwant++] = best;
            }
            nfired = 0;
            assert_int_equal(ovl_timers_run(&t, now), nwant);
            assert_int_equal(nfired, nwant);
            for (size_t k = 0; k < nwant; k++)
                assert_int_equal(fired[k], want[k]);
        }
        size_t count = 0;
        ovl_time_t first = OVL_TIME_NEVER;
        for (int k = 0; k < MODEL_N; k++) {
            assert_int_equal(ovl_timer_armed(&mt[k].timer), armed[k]);
            if (armed[k]) {
                count++;
                first = when[k] < first ? when[k] : first;
            }
        }
        assert_int_equal(ovl_timers_count(&t), count);
        assert_int_equal(ovl_timers_first(&t), first);
    }
    ovl_timers_dispose(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_empty),
        cmocka_unit_test(test_timer_order_and_next),
        cmocka_unit_test(test_timer_cancel_and_reschedule),
        cmocka_unit_test(test_timer_cancel_inside_callback),
        cmocka_unit_test(test_timer_reschedule_self_inside_callback),
        cmocka_unit_test(test_timer_reschedule_other_inside_callback),
        cmocka_unit_test(test_timer_nested_run_is_refused),
        cmocka_unit_test(test_timer_dispose_leaves_timers_idle),
        cmocka_unit_test(test_timer_matches_model),
    };
    return cmocka_run_group_tests_name("io timer heap", tests, NULL, NULL);
}
