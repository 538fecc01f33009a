/* Meeting links read back (signaling/link.c), against links made by the server's own ovl_meetings_link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "signaling/link.h"
#include "signaling/datadir.h"
#include "signaling/meetings.h"

#define MEETING "b0pBmder_yZlUfFNcRBJgA"
#define TOKEN   "AQEAAAAAazFTMW9K-_x"

static void ok(const char *url, const char *host, uint16_t port)
{
    ovl_link_t l;
    const char *why = "unset";
    if (ovl_link_parse(url, &l, &why) != 0)
        fail_msg("%s: %s", url, why);
    assert_null(why);
    assert_string_equal(l.host, host);
    assert_int_equal(l.port, port);
    assert_string_equal(l.meeting, MEETING);
    assert_string_equal(l.token, TOKEN);
}

static void bad(const char *url)
{
    ovl_link_t l;
    const char *why = NULL;
    if (ovl_link_parse(url, &l, &why) != OVL_ERR_PARSE)
        fail_msg("%s parsed", url);
    assert_non_null(why);
    assert_string_equal(l.host, "");
}

static void test_good_links(void **state)
{
    (void)state;
    ok("https://meet.example.org/m/" MEETING "#t=" TOKEN, "meet.example.org", 443);
    ok("https://127.0.0.1:8443/m/" MEETING "#t=" TOKEN, "127.0.0.1", 8443);
    ok("HTTPS://[2001:db8::1]:9/m/" MEETING "/#t=" TOKEN, "2001:db8::1", 9);
    ok("https://[::ffff:192.0.2.1]/m/" MEETING "#x=1&t=" TOKEN "&y=2", "::ffff:192.0.2.1", 443);
}

static void test_bad_links(void **state)
{
    (void)state;
    bad("http://meet.example.org/m/" MEETING "#t=" TOKEN);    /* not TLS */
    bad("https://meet.example.org/m/" MEETING);               /* token cut off */
    bad("https://meet.example.org/m/" MEETING "#t=");         /* empty token */
    bad("https://meet.example.org/m/" MEETING "#t=a b");      /* not base64url */
    bad("https://meet.example.org/x/" MEETING "#t=" TOKEN);   /* another path */
    bad("https://meet.example.org/m/short#t=" TOKEN);         /* not a meeting id */
    bad("https://meet.example.org:0/m/" MEETING "#t=" TOKEN); /* port 0 */
    bad("https://meet.example.org:65536/m/" MEETING "#t=" TOKEN);
    bad("https://meet.example.org:/m/" MEETING "#t=" TOKEN);
    bad("https://[2001:db8::1/m/" MEETING "#t=" TOKEN);
    bad("https://user@host/m/" MEETING "#t=" TOKEN);
    bad("https:///m/" MEETING "#t=" TOKEN);
    bad("https://host#t=" TOKEN);
    bad("");
    bad(NULL);
}

/* Whatever the server writes, the client reads: the round trip through ovl_meetings_link. */
static void test_round_trip(void **state)
{
    (void)state;
    uint8_t secret[OVL_SECRET_BYTES] = {1, 2, 3};
    ovl_meeting_t m = {.expires = 4102444800};
    char url[512];
    ovl_link_t l;
    memcpy(m.id, MEETING, sizeof(MEETING));
    const char *hosts[] = {"meet.example.org", "127.0.0.1", "2001:db8::7"};
    const uint16_t ports[] = {443, 8443, 10443};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ovl_meetings_link(secret, hosts[i], ports[i], &m, OVL_ROLE_GUEST, NULL, url, sizeof(url)), 0);
        assert_int_equal(ovl_link_parse(url, &l, NULL), 0);
        assert_string_equal(l.host, hosts[i]);
        assert_int_equal(l.port, ports[i]);
        assert_string_equal(l.meeting, MEETING);
        assert_string_equal(l.token, strstr(url, "#t=") + 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_links),
        cmocka_unit_test(test_bad_links),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
