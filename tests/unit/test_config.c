/* Configuration: defaults, file syntax, environment overrides, one-line errors naming the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/base.h"
#include "signaling/config.h"

static int parse(ovl_config_t *c, const char *text, char *err)
{
    return ovl_config_parse(c, text, strlen(text), "test.conf", err, 256);
}

static void test_defaults_are_valid(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256] = "";
    ovl_config_defaults(&c);
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "[::]:8443");
    assert_string_equal(c.public_host, "localhost");
    assert_string_equal(c.data_dir, "./overleg-data");
    assert_int_equal(c.max_frame_bytes, 65536);
    assert_int_equal(c.max_participants, 50);
    assert_int_equal(c.join_timeout, 10);
}

static void test_file_syntax(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256] = "";
    ovl_config_defaults(&c);
    assert_int_equal(parse(&c,
                           "# comment\n\n  listen = 127.0.0.1:9443  \n"
                           "public_host=\"meet.example.org\"\r\n"
                           "log_format = json\n"
                           "demo_meeting = no\n"
                           "link_expiry = 7d\n"
                           "drain_time = 30s\n"
                           "max_participants = 12\n",
                           err),
                     0);
    assert_string_equal(c.listen, "127.0.0.1:9443");
    assert_string_equal(c.public_host, "meet.example.org");
    assert_int_equal(c.log_format, OVL_LOG_JSON);
    assert_int_equal(c.demo_meeting, 0);
    assert_int_equal(c.link_expiry, 7 * 86400);
    assert_int_equal(c.drain_time, 30);
    assert_int_equal(c.max_participants, 12);
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256];
    ovl_config_defaults(&c);
    assert_int_equal(parse(&c, "listen = x\nmax_participants = many\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "test.conf:2: max_participants: must be a whole number from 2 to 1000"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(parse(&c, "colour = blue\n", err), OVL_ERR_NOTFOUND);
    assert_string_equal(err, "test.conf:1: colour: unknown key");
    assert_int_equal(parse(&c, "just words\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "expected key = value"));
    assert_int_equal(parse(&c, "drain_time = 5 minutes\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "drain_time: must be a duration"));
    assert_int_equal(parse(&c, "log_format = xml\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "log_format: must be text or json"));
    assert_int_equal(parse(&c, "max_frame_bytes = 99999999999999999999\n", err), OVL_ERR_PARSE);
    assert_int_equal(parse(&c, "public_host =\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "public_host: must not be empty"));
}

static const char *env_table[][2] = {
    {"OVERLEG_LISTEN", "127.0.0.1:0"},
    {"OVERLEG_PUBLIC_HOST", "meet.gov.example"},
    {"OVERLEG_API_KEY", "0123456789abcdef0123"},
    {"OVERLEG_RATE_BURST", "80"},
};
static int env_bad;

static char *fake_getenv(const char *name)
{
    if (env_bad && strcmp(name, "OVERLEG_MAX_CHAT_CHARS") == 0)
        return "-3";
    for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++)
        if (strcmp(env_table[i][0], name) == 0)
            return (char *)env_table[i][1];
    return NULL;
}

static void test_environment_overrides(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256] = "";
    ovl_config_defaults(&c);
    assert_int_equal(parse(&c, "listen = 0.0.0.0:443\npublic_host = other\n", err), 0);
    env_bad = 0;
    assert_int_equal(ovl_config_apply_env(&c, fake_getenv, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "127.0.0.1:0");
    assert_string_equal(c.public_host, "meet.gov.example");
    assert_string_equal(c.api_key, "0123456789abcdef0123");
    assert_int_equal(c.rate_burst, 80);
    env_bad = 1;
    assert_int_equal(ovl_config_apply_env(&c, fake_getenv, err, sizeof(err)), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "max_chat_chars:"));
    assert_non_null(strstr(err, "OVERLEG_MAX_CHAT_CHARS"));
}

static void test_cross_key_validation(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256];
    ovl_config_defaults(&c);
    strcpy(c.tls_cert, "/etc/cert.pem");
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "tls_key"));
    ovl_config_defaults(&c);
    strcpy(c.api_key, "short");
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "api_key"));
    ovl_config_defaults(&c);
    c.rate_burst = 5;
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "rate_burst"));
    ovl_config_defaults(&c);
    strcpy(c.public_host, "evil/host");
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "public_host"));
}

/* The media relay's keys: defaults, the OVERLEG_PUBLIC_IP list, and their checks. */
static const char *media_env[][2] = {
    {"OVERLEG_PUBLIC_IP", "203.0.113.7, 2001:db8::7"},
    {"OVERLEG_MEDIA_WORKERS", "3"},
    {"OVERLEG_MEDIA_PORT_BASE", "0"},
};

static char *media_getenv(const char *name)
{
    for (size_t i = 0; i < sizeof(media_env) / sizeof(media_env[0]); i++)
        if (strcmp(media_env[i][0], name) == 0)
            return (char *)media_env[i][1];
    return NULL;
}

static void test_media_keys(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256] = "";
    ovl_config_defaults(&c);
    assert_int_equal(c.media_workers, 0); /* one per CPU */
    assert_int_equal(c.media_port_base, 10000);
    assert_string_equal(c.public_ip, "");
    assert_string_equal(c.media_bind, "");
    assert_int_equal(c.media_consent_timeout, 30);
    assert_int_equal(ovl_config_apply_env(&c, media_getenv, err, sizeof(err)), 0);
    assert_string_equal(c.public_ip, "203.0.113.7, 2001:db8::7");
    assert_int_equal(c.media_workers, 3);
    assert_int_equal(c.media_port_base, 0);
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), 0);
    assert_int_equal(parse(&c, "media_bind = 10.0.0.5\nmedia_consent_timeout = 5s\n", err), 0);
    assert_string_equal(c.media_bind, "10.0.0.5");
    assert_int_equal(c.media_consent_timeout, 5);
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), 0);

    assert_int_equal(parse(&c, "media_workers = 1000\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "media_workers: must be a whole number from 0 to 256"));
    assert_int_equal(parse(&c, "media_consent_timeout = 0\n", err), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "media_consent_timeout"));
    ovl_config_defaults(&c);
    strcpy(c.public_ip, "meet.example.org");
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "public_ip"));
    ovl_config_defaults(&c);
    strcpy(c.media_bind, "any");
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "media_bind"));
    ovl_config_defaults(&c);
    c.media_port_base = 65535;
    c.media_workers = 2;
    assert_int_equal(ovl_config_validate(&c, err, sizeof(err)), OVL_ERR_ARG);
    assert_non_null(strstr(err, "media_port_base"));
}

static void test_durations(void **state)
{
    (void)state;
    int64_t s;
    assert_int_equal(ovl_config_parse_duration("90", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(ovl_config_parse_duration("15m", &s), 0);
    assert_int_equal(s, 900);
    assert_int_equal(ovl_config_parse_duration("2h", &s), 0);
    assert_int_equal(s, 7200);
    assert_int_equal(ovl_config_parse_duration("7d", &s), 0);
    assert_int_equal(s, 604800);
    assert_int_equal(ovl_config_parse_duration("-1", &s), OVL_ERR_PARSE);
    assert_int_equal(ovl_config_parse_duration("1w", &s), OVL_ERR_PARSE);
    assert_int_equal(ovl_config_parse_duration("", &s), OVL_ERR_PARSE);
}

/* Every key in the table is documented in deploy/overleg.conf.example. */
static void test_example_documents_every_key(void **state)
{
    (void)state;
    char path[512], *text = malloc(1 << 16), err[256] = "";
    /* OVL_TEST_DATA is <root>/tests/data (which need not exist): the root is two levels up. */
    snprintf(path, sizeof(path), "%s", OVL_TEST_DATA);
    for (int up = 0; up < 2; up++)
        *strrchr(path, '/') = '\0';
    strcat(path, "/deploy/overleg.conf.example");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; i < ovl_config_key_count(); i++) {
        char needle[80];
        snprintf(needle, sizeof(needle), "\n# %s =", ovl_config_key_name(i));
        if (!strstr(text, needle))
            fail_msg("deploy/overleg.conf.example does not document %s", ovl_config_key_name(i));
    }
    /* And the example, uncommented, parses. */
    ovl_config_t c;
    ovl_config_defaults(&c);
    assert_int_equal(ovl_config_parse(&c, text, n, "example", err, sizeof(err)), 0);
    free(text);
}

static void test_file_loading(void **state)
{
    (void)state;
    ovl_config_t c;
    char err[256];
    ovl_config_defaults(&c);
    assert_int_equal(ovl_config_load_file(&c, "/nonexistent/overleg.conf", err, sizeof(err)), OVL_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/overleg.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_valid),
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_environment_overrides),
        cmocka_unit_test(test_cross_key_validation),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_example_documents_every_key),
        cmocka_unit_test(test_media_keys),
        cmocka_unit_test(test_file_loading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
