/* The logger: text and JSON lines, escaping, and the redaction rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "signaling/log.h"

static void test_text_line(void **state)
{
    (void)state;
    ovl_log_t log;
    char buf[512];
    const char *kv[] = {"meeting", "abc", "name", "Jan de Vries", "token", "SECRET-TOKEN"};
    ovl_log_init(&log, OVL_LOG_TEXT, NULL);
    size_t n = ovl_log_format_line(&log, buf, sizeof(buf), OVL_LOG_INFO, "join", kv, 3);
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, " info join meeting=abc name=\"Jan de Vries\" token=[redacted]\n"));
    assert_null(strstr(buf, "SECRET"));
}

static void test_json_line_is_one_valid_object(void **state)
{
    (void)state;
    ovl_log_t log;
    char buf[512];
    const char *kv[] = {"what", "line1\nline2 \"q\"", "sdp", "v=0\r\na=ice-pwd:xyz", "note", "a=ice-pwd:leak"};
    ovl_log_init(&log, OVL_LOG_JSON, NULL);
    ovl_log_format_line(&log, buf, sizeof(buf), OVL_LOG_WARN, "evt", kv, 3);
    assert_int_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(j, "event")), "evt");
    assert_string_equal(json_string_value(json_object_get(j, "what")), "line1\nline2 \"q\"");
    assert_string_equal(json_string_value(json_object_get(j, "sdp")), "[redacted]");
    assert_string_equal(json_string_value(json_object_get(j, "note")), "[redacted]");
    assert_null(strstr(buf, "xyz"));
    assert_null(strstr(buf, "leak"));
    json_decref(j);
}

static void test_secret_keys(void **state)
{
    (void)state;
    const char *secret[] = {"token", "api_key", "secret", "Authorization", "ice-pwd", "turn_password", "sdp"};
    const char *plain[] = {"meeting", "role", "code", "peer", "reason"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        assert_true(ovl_log_key_is_secret(secret[i]));
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        assert_false(ovl_log_key_is_secret(plain[i]));
}

static void test_long_values_are_cut(void **state)
{
    (void)state;
    ovl_log_t log;
    char big[1000], buf[2048];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *kv[] = {"v", big};
    ovl_log_init(&log, OVL_LOG_TEXT, NULL);
    ovl_log_format_line(&log, buf, sizeof(buf), OVL_LOG_INFO, "e", kv, 1);
    assert_true(strlen(buf) < 400);
    assert_non_null(strstr(buf, "...\n"));
    /* A tiny buffer still yields one terminated line. */
    char small[16];
    ovl_log_format_line(&log, small, sizeof(small), OVL_LOG_INFO, "e", kv, 1);
    assert_int_equal(small[strlen(small) - 1], '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line),
        cmocka_unit_test(test_json_line_is_one_valid_object),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test(test_long_values_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
