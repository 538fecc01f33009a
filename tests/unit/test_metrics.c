/*
 * signaling/metrics.c: the Prometheus text exposition (format 0.0.4: "# HELP", "# TYPE", then
 * `name{label="value"} number` lines) of the signaling counters and of the built-in TURN server's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signaling/metrics.h"

/* The line "series value\n" is in text, exactly. */
static void has_line(const char *text, const char *series, unsigned long long value)
{
    char line[256];
    snprintf(line, sizeof(line), "\n%s %llu\n", series, value);
    if (!strstr(text, line))
        fail_msg("missing line \"%s %llu\"", series, value);
}

/* Every metric has its HELP and TYPE lines once, before its first sample. */
static void has_header(const char *text, const char *name, const char *type)
{
    char help[160], typ[160];
    snprintf(help, sizeof(help), "# HELP %s ", name);
    snprintf(typ, sizeof(typ), "# TYPE %s %s\n", name, type);
    const char *h = strstr(text, help), *t = strstr(text, typ);
    assert_non_null(h);
    assert_non_null(t);
    assert_null(strstr(h + 1, help));
    assert_true(h < t);
    const char *sample = strstr(t + strlen(typ), name);
    assert_true(sample == t + strlen(typ)); /* the first sample follows its TYPE line */
}

static void test_signaling_counters(void **state)
{
    (void)state;
    ovl_metrics_t m;
    memset(&m, 0, sizeof(m));
    m.joins = 3;
    m.http_requests = 11;
    m.tcp_accepted = 5;
    m.meetings_created = 2;
    m.errors[1] = 4;
    ovl_metrics_gauges_t g = {.meetings = 2, .participants = 5, .waiting = 1, .ws_connections = 7, .draining = 1};
    char *text = ovl_metrics_render(&m, &g);
    assert_non_null(text);
    has_header(text, "overleg_meetings", "gauge");
    has_line(text, "overleg_meetings", 2);
    has_line(text, "overleg_participants", 5);
    has_line(text, "overleg_lobby_waiting", 1);
    has_line(text, "overleg_websocket_connections", 7);
    has_line(text, "overleg_draining", 1);
    has_header(text, "overleg_joins_total", "counter");
    has_line(text, "overleg_joins_total", 3);
    has_line(text, "overleg_http_requests_total", 11);
    has_line(text, "overleg_tcp_accepted_total", 5);
    has_line(text, "overleg_meetings_created_total", 2);
    assert_null(strstr(text, "overleg_turn_")); /* no TURN server: no TURN series */
    free(text);
}

static void test_turn_counters(void **state)
{
    (void)state;
    ovl_metrics_t m;
    memset(&m, 0, sizeof(m));
    ovl_metrics_turn_t t;
    memset(&t, 0, sizeof(t));
    t.core.sessions = 3;
    t.core.allocations = 2;
    t.core.allocations_total = 9;
    t.core.expired = 1;
    t.core.permissions = 4;
    t.core.channel_binds = 6;
    t.core.requests = 40;
    t.core.err_401 = 9;
    t.core.err_403 = 2;
    t.core.err_437 = 1;
    t.core.err_486 = 5;
    t.core.err_4xx_other = 7;
    t.core.to_peer_packets = 1000;
    t.core.to_peer_bytes = 900000;
    t.core.from_peer_packets = 2000;
    t.core.from_peer_bytes = 1900000;
    t.core.dropped = 12;
    t.queue_drops = 13;
    t.peer_drops = 14;
    ovl_metrics_gauges_t g = {.turn = &t};
    char *text = ovl_metrics_render(&m, &g);
    assert_non_null(text);
    has_header(text, "overleg_turn_allocations", "gauge");
    has_line(text, "overleg_turn_sessions", 3);
    has_line(text, "overleg_turn_allocations", 2);
    has_header(text, "overleg_turn_allocations_total", "counter");
    has_line(text, "overleg_turn_allocations_total", 9);
    has_line(text, "overleg_turn_allocations_expired_total", 1);
    has_line(text, "overleg_turn_permissions_total", 4);
    has_line(text, "overleg_turn_channel_binds_total", 6);
    has_line(text, "overleg_turn_requests_total", 40);
    has_header(text, "overleg_turn_refused_total", "counter");
    has_line(text, "overleg_turn_refused_total{code=\"401\"}", 9);
    has_line(text, "overleg_turn_refused_total{code=\"403\"}", 2);
    has_line(text, "overleg_turn_refused_total{code=\"437\"}", 1);
    has_line(text, "overleg_turn_refused_total{code=\"486\"}", 5);
    has_line(text, "overleg_turn_refused_total{code=\"400\"}", 0);
    has_line(text, "overleg_turn_refused_total{code=\"other\"}", 7);
    has_header(text, "overleg_turn_relayed_packets_total", "counter");
    has_line(text, "overleg_turn_relayed_packets_total{direction=\"to_relay\"}", 1000);
    has_line(text, "overleg_turn_relayed_packets_total{direction=\"to_client\"}", 2000);
    has_line(text, "overleg_turn_relayed_bytes_total{direction=\"to_relay\"}", 900000);
    has_line(text, "overleg_turn_relayed_bytes_total{direction=\"to_client\"}", 1900000);
    has_line(text, "overleg_turn_dropped_total{reason=\"no-permission\"}", 12);
    has_line(text, "overleg_turn_dropped_total{reason=\"client-queue\"}", 13);
    has_line(text, "overleg_turn_dropped_total{reason=\"media\"}", 14);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signaling_counters),
        cmocka_unit_test(test_turn_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
