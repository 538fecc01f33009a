/* Integration: links survive a restart; SIGTERM drains (participants told, exit 0 within drain_time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ovl_harness.h"
#include "signaling/wsclient.h"

#define T 15000

static const char *const env[] = {"OVERLEG_DRAIN_TIME=8s", NULL};

static ovl_wsclient_t *join(const ovl_srv_t *s, const char *m, const char *token, const char *want)
{
    ovl_wsclient_t *c = NULL;
    assert_int_equal(ovl_it_connect(s->port, T, &c), 0);
    assert_int_equal(
        ovl_wsclient_sendf(c, "{s:s, s:s, s:s, s:s}", "type", "join", "meeting", m, "token", token, "name", "Ann"), 0);
    json_t *w = ovl_wsclient_wait(c, want, T);
    if (!w)
        fail_msg("no %s", want);
    json_decref(w);
    return c;
}

static void test_links_survive_restart(void **state)
{
    (void)state;
    ovl_srv_t s;
    char m[64], host[256], guest[256], demo_before[1024], *demo_after;
    int st = 0;
    assert_int_equal(ovl_srv_init(&s, env), 0);
    assert_int_equal(ovl_srv_start(&s), 0);
    /* The start-up text offers a ready-to-click demo link. */
    assert_non_null(strstr(s.stdout_text, "Host link:  https://127.0.0.1:"));
    snprintf(demo_before, sizeof(demo_before), "%s", strstr(s.stdout_text, "/m/"));
    *strchr(demo_before, '#') = '\0';
    assert_int_equal(ovl_make_meeting(&s, m, host, guest, NULL), 0);
    ovl_wsclient_free(join(&s, m, host, "welcome"));
    assert_int_equal(ovl_srv_stop(&s, 30000, &st), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* Same data directory, new process (and new port): yesterday's links still open the meeting. */
    assert_int_equal(ovl_srv_start(&s), 0);
    ovl_wsclient_t *h = join(&s, m, host, "welcome");
    ovl_wsclient_t *g = join(&s, m, guest, "welcome");
    demo_after = strstr(s.stdout_text, demo_before); /* the same demo meeting, not a new one */
    assert_non_null(demo_after);
    ovl_wsclient_free(h);
    ovl_wsclient_free(g);
    assert_int_equal(ovl_srv_stop(&s, 30000, &st), 0);
    ovl_srv_cleanup(&s);
}

static void test_sigterm_drains_and_exits_zero(void **state)
{
    (void)state;
    ovl_srv_t s;
    char m[64], host[256], guest[256];
    int st = -1, code = 0;
    struct timespec t0, t1;
    assert_int_equal(ovl_srv_init(&s, env), 0);
    assert_int_equal(ovl_srv_start(&s), 0);
    assert_int_equal(ovl_make_meeting(&s, m, host, guest, NULL), 0);
    ovl_wsclient_t *a = join(&s, m, host, "welcome");
    ovl_wsclient_t *b = join(&s, m, guest, "welcome");
    ovl_wsclient_t *idle = NULL; /* connected, not joined */
    assert_int_equal(ovl_it_connect(s.port, T, &idle), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(s.pid, SIGTERM);
    /* Participants are told, then closed with 1001 (going away). */
    ovl_wsclient_t *all[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        json_t *e = ovl_wsclient_wait(all[i], "end", T);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), "shutdown");
        json_decref(e);
        assert_true(ovl_wsclient_wait_closed(all[i], T, &code));
        assert_int_equal(code, 1001);
    }
    assert_true(ovl_wsclient_wait_error(idle, "draining", T));
    assert_true(ovl_wsclient_wait_closed(idle, T, NULL));
    /* Exit 0 within the drain time (8 s) plus slack for a loaded machine. */
    for (int i = 0; i < 400 && waitpid(s.pid, &st, WNOHANG) != s.pid; i++)
        usleep(50000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("drain took %.2f s\n", secs);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(secs < 8 + 10);
    s.pid = -1;
    /* New connections are refused once it is gone. */
    assert_true(ovl_tcp_connect(s.port) < 0);
    ovl_wsclient_free(a);
    ovl_wsclient_free(b);
    ovl_wsclient_free(idle);
    ovl_srv_cleanup(&s);
}

/* A client that never answers keeps its socket open: the drain still ends by drain_time. */
static void test_drain_deadline(void **state)
{
    (void)state;
    static const char *const short_env[] = {"OVERLEG_DRAIN_TIME=2s", NULL};
    ovl_srv_t s;
    char m[64], host[256], guest[256];
    int st = -1;
    assert_int_equal(ovl_srv_init(&s, short_env), 0);
    assert_int_equal(ovl_srv_start(&s), 0);
    assert_int_equal(ovl_make_meeting(&s, m, host, guest, NULL), 0);
    ovl_wsclient_t *a = join(&s, m, host, "welcome"); /* not serviced from here on: never answers the close */
    assert_int_equal(ovl_srv_stop(&s, 20000, &st), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ovl_wsclient_free(a);
    ovl_srv_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_survive_restart),
        cmocka_unit_test(test_sigterm_drains_and_exits_zero),
        cmocka_unit_test(test_drain_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
