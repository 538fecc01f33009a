/* The hub: join authentication against tokens and the store, rate limits, timeouts, revocation, drain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "relay/proto/base.h"
#include "signaling/hub.h"

#define WALL   1700000000LL
#define MAX_EV 512

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";

typedef struct fx {
    char dir[64];
    ovl_store_t *store;
    ovl_metrics_t metrics;
    ovl_hub_t *hub;
    ovl_meeting_t meeting, lobby_meeting;
    size_t n;
    uint64_t conn[MAX_EV];
    json_t *msg[MAX_EV];
    size_t nclose;
    uint64_t closed[MAX_EV];
    int code[MAX_EV];
} fx_t;

static void on_send(void *ud, uint64_t conn, const char *text, size_t len)
{
    fx_t *f = ud;
    json_error_t e;
    assert_true(f->n < MAX_EV);
    f->conn[f->n] = conn;
    f->msg[f->n] = json_loadb(text, len, 0, &e);
    assert_non_null(f->msg[f->n]);
    f->n++;
}

static void on_close(void *ud, uint64_t conn, int code, const char *reason)
{
    fx_t *f = ud;
    (void)reason;
    f->closed[f->nclose] = conn;
    f->code[f->nclose++] = code;
}

static void reset(fx_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        json_decref(f->msg[i]);
    f->n = f->nclose = 0;
}

static json_t *got(fx_t *f, uint64_t conn, const char *type)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->conn[i] == conn && strcmp(json_string_value(json_object_get(f->msg[i], "type")), type) == 0)
            return f->msg[i];
    return NULL;
}

static const char *err_code(fx_t *f, uint64_t conn)
{
    json_t *e = got(f, conn, "error");
    return e ? json_string_value(json_object_get(e, "code")) : "(none)";
}

static int closed_with(fx_t *f, uint64_t conn, int code)
{
    for (size_t i = 0; i < f->nclose; i++)
        if (f->closed[i] == conn && f->code[i] == code)
            return 1;
    return 0;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    char path[128];
    strcpy(f->dir, "/tmp/ovl-hub-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(path, sizeof(path), "%s/m.db", f->dir);
    if (ovl_store_open(path, &f->store) != 0)
        return -1;
    f->meeting = (ovl_meeting_t){.created = WALL - 10, .expires = WALL + 3600};
    ovl_meeting_id_new(f->meeting.id);
    strcpy(f->meeting.title, "Plain");
    f->lobby_meeting = (ovl_meeting_t){.created = WALL - 10, .expires = WALL + 3600, .lobby = 1};
    ovl_meeting_id_new(f->lobby_meeting.id);
    strcpy(f->lobby_meeting.title, "Lobby");
    ovl_store_create(f->store, &f->meeting);
    ovl_store_create(f->store, &f->lobby_meeting);
    ovl_hub_config_t cfg = {.secret = secret,
                            .secret_len = sizeof(secret),
                            .store = f->store,
                            .metrics = &f->metrics,
                            .limits = {3, 100, 64},
                            .rate_per_second = 5,
                            .rate_burst = 10,
                            .join_timeout = OVL_SEC(10)};
    ovl_hub_io_t io = {on_send, on_close, f};
    if (ovl_hub_new(&cfg, &io, &f->hub) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];
    reset(f);
    ovl_hub_free(f->hub);
    ovl_store_free(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void token_for(const char *meeting, ovl_role_t role, int64_t expires, const uint8_t *key, char *out)
{
    ovl_token_claims_t c = {.role = role, .expires = expires};
    strcpy(c.meeting, meeting);
    assert_int_equal(ovl_token_issue(key, 32, &c, out, OVL_TOKEN_MAX_LEN + 1), 0);
}

static void send_text(fx_t *f, uint64_t conn, const char *text, ovl_time_t now)
{
    ovl_hub_receive(f->hub, conn, text, strlen(text), WALL, now);
}

static void join(fx_t *f, uint64_t conn, const char *meeting, const char *token, const char *name)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"meeting\":\"%s\",\"token\":\"%s\",\"name\":\"%s\"}", meeting,
             token, name);
    assert_int_equal(ovl_hub_connect(f->hub, conn, 0), 0);
    send_text(f, conn, buf, 0);
}

static void test_join_with_valid_tokens(void **state)
{
    fx_t *f = *state;
    char host[256], guest[256];
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, host);
    token_for(f->meeting.id, OVL_ROLE_GUEST, WALL + 60, secret, guest);
    join(f, 1, f->meeting.id, host, "Ann");
    assert_string_equal(json_string_value(json_object_get(got(f, 1, "welcome"), "role")), "host");
    join(f, 2, f->meeting.id, guest, "Bob");
    assert_string_equal(json_string_value(json_object_get(got(f, 2, "welcome"), "role")), "guest");
    assert_non_null(got(f, 1, "participant-joined"));
    size_t rooms, admitted, waiting, conns;
    ovl_hub_counts(f->hub, &rooms, &admitted, &waiting, &conns);
    assert_int_equal(rooms, 1);
    assert_int_equal(admitted, 2);
    assert_int_equal(conns, 2);
    assert_int_equal(f->metrics.joins, 2);
    /* Joining again on the same connection. */
    reset(f);
    char buf[512];
    snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"meeting\":\"%s\",\"token\":\"%s\"}", f->meeting.id, host);
    send_text(f, 1, buf, 0);
    assert_string_equal(err_code(f, 1), "already-joined");
    /* Chat through the hub reaches both. */
    reset(f);
    send_text(f, 2, "{\"type\":\"chat\",\"text\":\"hallo\"}", 0);
    assert_non_null(got(f, 1, "chat"));
    assert_non_null(got(f, 2, "chat"));
    /* Disconnect: the other is told; the empty room goes away. */
    reset(f);
    ovl_hub_disconnect(f->hub, 2);
    assert_non_null(got(f, 1, "participant-left"));
    ovl_hub_disconnect(f->hub, 1);
    ovl_hub_counts(f->hub, &rooms, &admitted, &waiting, &conns);
    assert_int_equal(rooms, 0);
    assert_int_equal(conns, 0);
}

static void test_join_refusals(void **state)
{
    fx_t *f = *state;
    char tok[256], other_key[32] = {0};
    uint64_t c = 10;
    struct {
        const char *meeting;
        ovl_role_t role;
        int64_t expires;
        const uint8_t *key;
        const char *want;
    } cases[] = {
        {f->meeting.id, OVL_ROLE_GUEST, WALL - 1, secret, "token-expired"},
        {f->meeting.id, OVL_ROLE_HOST, WALL + 60, (const uint8_t *)other_key, "token-invalid"},
        {f->lobby_meeting.id, OVL_ROLE_HOST, WALL + 60, secret, "token-wrong-meeting"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++, c++) {
        reset(f);
        token_for(cases[i].meeting, cases[i].role, cases[i].expires, cases[i].key, tok);
        join(f, c, f->meeting.id, tok, "Mallory");
        assert_string_equal(err_code(f, c), cases[i].want);
        assert_true(closed_with(f, c, OVL_CLOSE_POLICY));
        assert_null(got(f, c, "welcome"));
    }
    reset(f);
    join(f, c, f->meeting.id, "garbage", "Mallory");
    assert_string_equal(err_code(f, c), "token-invalid");
    c++;
    reset(f);
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok);
    join(f, c, "AAAAAAAAAAAAAAAAAAAAAA", tok, "Mallory");
    assert_string_equal(err_code(f, c), "meeting-not-found");
    c++;
    reset(f);
    join(f, c, "../../etc/passwd", tok, "Mallory");
    assert_string_equal(err_code(f, c), "meeting-not-found");
    c++;
    /* Revoked: a genuine, unexpired token stops working. */
    reset(f);
    ovl_store_revoke(f->store, f->meeting.id, WALL);
    join(f, c, f->meeting.id, tok, "Ann");
    assert_string_equal(err_code(f, c), "meeting-revoked");
    c++;
    /* Messages before join. */
    reset(f);
    ovl_hub_connect(f->hub, c, 0);
    send_text(f, c, "{\"type\":\"chat\",\"text\":\"x\"}", 0);
    assert_string_equal(err_code(f, c), "not-joined");
    reset(f);
    send_text(f, c, "{\"type\":\"ping\"}", 0);
    assert_non_null(got(f, c, "pong"));
    assert_true(f->metrics.errors[OVL_E_TOKEN_EXPIRED] >= 1);
}

static void test_bad_frames_then_rate_limit(void **state)
{
    fx_t *f = *state;
    ovl_hub_connect(f->hub, 7, 0);
    send_text(f, 7, "{nope", 0);
    assert_string_equal(err_code(f, 7), "bad-json");
    reset(f);
    send_text(f, 7, "{\"type\":\"teleport\"}", 0);
    assert_string_equal(err_code(f, 7), "unknown-type");
    assert_string_equal(json_string_value(json_object_get(got(f, 7, "error"), "ref")), "teleport");
    reset(f);
    send_text(f, 7, "{\"type\":\"chat\",\"text\":5}", 0);
    assert_string_equal(err_code(f, 7), "bad-message");
    assert_non_null(strstr(json_string_value(json_object_get(got(f, 7, "error"), "message")), "\"text\""));
    assert_int_equal(f->metrics.messages_in[OVL_MSG_COUNT], 3);
    /* Burst is 10 and 3 are spent: 7 more pass, then rate-limited once, then closed after 10 refusals. */
    reset(f);
    for (int i = 0; i < 7; i++)
        send_text(f, 7, "{\"type\":\"ping\"}", 0);
    assert_int_equal(f->n, 7);
    send_text(f, 7, "{\"type\":\"ping\"}", 0);
    assert_string_equal(err_code(f, 7), "rate-limited");
    for (int i = 0; i < 8; i++)
        send_text(f, 7, "{\"type\":\"ping\"}", 0);
    assert_int_equal(f->n, 8); /* one error, no more */
    assert_int_equal(f->nclose, 0);
    send_text(f, 7, "{\"type\":\"ping\"}", 0);
    assert_true(closed_with(f, 7, OVL_CLOSE_POLICY));
    /* Another connection is unaffected; and refills with time (5/s). */
    reset(f);
    ovl_hub_connect(f->hub, 8, 0);
    for (int i = 0; i < 10; i++)
        send_text(f, 8, "{\"type\":\"ping\"}", 0);
    send_text(f, 8, "{\"type\":\"ping\"}", 0);
    assert_string_equal(err_code(f, 8), "rate-limited");
    reset(f);
    send_text(f, 8, "{\"type\":\"ping\"}", OVL_MS(400)); /* 2 tokens back */
    assert_non_null(got(f, 8, "pong"));
}

static void test_join_timeout(void **state)
{
    fx_t *f = *state;
    char tok[256];
    ovl_hub_connect(f->hub, 1, 0);
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok);
    join(f, 2, f->meeting.id, tok, "Ann");
    reset(f);
    ovl_hub_tick(f->hub, OVL_SEC(9));
    assert_int_equal(f->nclose, 0);
    ovl_hub_tick(f->hub, OVL_SEC(10));
    assert_string_equal(err_code(f, 1), "join-timeout");
    assert_true(closed_with(f, 1, OVL_CLOSE_POLICY));
    assert_false(closed_with(f, 2, OVL_CLOSE_POLICY)); /* joined: stays */
    reset(f);
    ovl_hub_tick(f->hub, OVL_SEC(11)); /* told once */
    assert_int_equal(f->n, 0);
}

static void test_revalidate_revoked_and_expired(void **state)
{
    fx_t *f = *state;
    char tok[256], tok2[256];
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok);
    token_for(f->lobby_meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok2);
    join(f, 1, f->meeting.id, tok, "Ann");
    join(f, 2, f->lobby_meeting.id, tok2, "Bob");
    reset(f);
    ovl_hub_revalidate(f->hub, WALL);
    assert_int_equal(f->n, 0);
    ovl_store_revoke(f->store, f->meeting.id, WALL);
    ovl_hub_revalidate(f->hub, WALL);
    assert_string_equal(json_string_value(json_object_get(got(f, 1, "end"), "reason")), "revoked");
    assert_true(closed_with(f, 1, OVL_CLOSE_NORMAL));
    assert_null(got(f, 2, "end"));
    reset(f);
    ovl_hub_revalidate(f->hub, WALL + 3600);
    assert_string_equal(json_string_value(json_object_get(got(f, 2, "end"), "reason")), "expired");
    size_t rooms, admitted, waiting, conns;
    ovl_hub_counts(f->hub, &rooms, &admitted, &waiting, &conns);
    assert_int_equal(rooms, 0);
    /* Frames from a connection the hub closed are ignored until the socket goes. */
    reset(f);
    send_text(f, 1, "{\"type\":\"ping\"}", 0);
    assert_int_equal(f->n, 0);
}

static void test_drain(void **state)
{
    fx_t *f = *state;
    char tok[256];
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok);
    join(f, 1, f->meeting.id, tok, "Ann");
    ovl_hub_connect(f->hub, 2, 0);
    reset(f);
    ovl_hub_drain(f->hub);
    assert_string_equal(json_string_value(json_object_get(got(f, 1, "end"), "reason")), "shutdown");
    assert_true(closed_with(f, 1, OVL_CLOSE_GOING_AWAY));
    assert_string_equal(err_code(f, 2), "draining");
    assert_true(closed_with(f, 2, OVL_CLOSE_GOING_AWAY));
    reset(f);
    join(f, 3, f->meeting.id, tok, "Late");
    assert_string_equal(err_code(f, 3), "draining");
    assert_null(got(f, 3, "welcome"));
}

static void test_media_event_routing(void **state)
{
    fx_t *f = *state;
    char tok[256];
    token_for(f->meeting.id, OVL_ROLE_HOST, WALL + 60, secret, tok);
    join(f, 1, f->meeting.id, tok, "Ann");
    reset(f);
    ovl_hub_media_event(f->hub, &(ovl_media_event_t){OVL_MEDIA_EV_OFFER, 1, "v=0"});
    assert_non_null(got(f, 1, "offer"));
    ovl_hub_media_event(f->hub, &(ovl_media_event_t){OVL_MEDIA_EV_OFFER, 99, "v=0"}); /* unknown: ignored */
    ovl_hub_media_event(f->hub, &(ovl_media_event_t){OVL_MEDIA_EV_FAILED, 1, NULL});
    size_t rooms, admitted, waiting, conns;
    ovl_hub_counts(f->hub, &rooms, &admitted, &waiting, &conns);
    assert_int_equal(rooms, 0);
}

/* coturn use-auth-secret (the "TURN REST API" draft): username "expiry:user", password base64(HMAC-SHA1). */
static void test_turn_credentials(void **state)
{
    (void)state;
    json_t *none = ovl_hub_turn_json(NULL, NULL, "p1", WALL);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    json_t *t = ovl_hub_turn_json("turns:turn.example.org:443?transport=tcp, turn:10.0.0.1:3478", "north", "p1", 1000);
    assert_int_equal(json_array_size(t), 1);
    json_t *e = json_array_get(t, 0);
    assert_int_equal(json_array_size(json_object_get(e, "urls")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "urls"), 1)), "turn:10.0.0.1:3478");
    char user[64];
    snprintf(user, sizeof(user), "%d:p1", 1000 + OVL_TURN_TTL);
    assert_string_equal(json_string_value(json_object_get(e, "username")), user);
    /* Independent computation of the credential. */
    unsigned char mac[20];
    unsigned int len = 0;
    char want[40];
    HMAC(EVP_sha1(), "north", 5, (const unsigned char *)user, strlen(user), mac, &len);
    EVP_EncodeBlock((unsigned char *)want, mac, (int)len);
    assert_string_equal(json_string_value(json_object_get(e, "credential")), want);
    json_decref(t);
}

static void test_metrics_render(void **state)
{
    fx_t *f = *state;
    ovl_metrics_gauges_t g = {.meetings = 2, .participants = 5, .ws_connections = 7};
    f->metrics.errors[OVL_E_BAD_JSON] = 3;
    f->metrics.messages_in[OVL_MSG_CHAT] = 4;
    char *text = ovl_metrics_render(&f->metrics, &g);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE overleg_participants gauge\noverleg_participants 5\n"));
    assert_non_null(strstr(text, "overleg_errors_total{code=\"bad-json\"} 3\n"));
    assert_non_null(strstr(text, "overleg_messages_received_total{type=\"chat\"} 4\n"));
    assert_non_null(strstr(text, "overleg_websocket_connections 7\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_with_valid_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frames_then_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revalidate_revoked_and_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_event_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_render, setup, teardown),
        cmocka_unit_test(test_turn_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
