/* The one-port listener: first-byte classification, and real loopback sockets handed over, timed out, capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/proto/base.h"
#include "signaling/listener.h"

/* RFC 4571 §2: each ICE-TCP frame is a 16-bit length then the packet; STUN messages start 0b00. */
static void test_classify(void **state)
{
    (void)state;
    const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    const uint8_t post[] = "POST /api/meetings";
    const uint8_t ice_tcp[] = {0x00, 0x14, 0x00, 0x01};
    const uint8_t big_frame[] = {0x05, 0xdc, 0x80, 0x60};
    const uint8_t lower[] = "get /";
    assert_int_equal(ovl_listener_classify(tls, sizeof(tls)), OVL_FIRST_BYTE_TLS);
    assert_int_equal(ovl_listener_classify(http, 4), OVL_FIRST_BYTE_HTTP);
    assert_int_equal(ovl_listener_classify(post, 4), OVL_FIRST_BYTE_HTTP);
    assert_int_equal(ovl_listener_classify(ice_tcp, sizeof(ice_tcp)), OVL_FIRST_BYTE_RAW);
    assert_int_equal(ovl_listener_classify(big_frame, sizeof(big_frame)), OVL_FIRST_BYTE_RAW);
    assert_int_equal(ovl_listener_classify(lower, 4), OVL_FIRST_BYTE_RAW);
    assert_int_equal(ovl_listener_classify(tls, 0), OVL_FIRST_BYTE_RAW);
}

typedef struct seen {
    int web_fd, web_tls, raw_fd;
    uint8_t first[16];
    size_t first_len;
} seen_t;

static void on_web(void *ud, int fd, int tls)
{
    seen_t *s = ud;
    s->web_fd = fd;
    s->web_tls = tls;
}

static void on_raw(void *ud, int fd, const uint8_t *first, size_t len)
{
    seen_t *s = ud;
    s->raw_fd = fd;
    memcpy(s->first, first, len < 16 ? len : 16);
    s->first_len = len;
}

static int dial(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static int peer_closed(int fd)
{
    char b;
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 2000) == 1 && recv(fd, &b, 1, 0) <= 0;
}

static void test_hand_over_by_first_byte(void **state)
{
    (void)state;
    seen_t seen = {-1, -1, -1, {0}, 0};
    ovl_listener_config_t cfg = {"127.0.0.1:0", 4, OVL_SEC(5)};
    ovl_listener_handlers_t h = {on_web, on_raw, &seen};
    ovl_listener_t *l = NULL;
    char err[256] = "";
    assert_int_equal(ovl_listener_new(&cfg, &h, &l, err, sizeof(err)), 0);
    uint16_t port = ovl_listener_port(l);
    assert_true(port > 0);

    int c1 = dial(port);
    assert_int_equal(send(c1, "\x16\x03\x01", 3, 0), 3);
    for (int i = 0; i < 200 && seen.web_fd < 0; i++) {
        struct pollfd p = {ovl_listener_fd(l), POLLIN, 0};
        poll(&p, 1, 10);
        ovl_listener_service(l, 0);
    }
    assert_true(seen.web_fd >= 0);
    assert_int_equal(seen.web_tls, 1);
    /* The byte is still there for TLS to read: it was only peeked. */
    uint8_t b[3];
    assert_int_equal(recv(seen.web_fd, b, 3, 0), 3);
    assert_int_equal(b[0], 0x16);
    close(seen.web_fd);
    close(c1);

    int c2 = dial(port);
    const uint8_t frame[] = {0x00, 0x14, 0x00, 0x01};
    assert_int_equal(send(c2, frame, sizeof(frame), 0), 4);
    for (int i = 0; i < 200 && seen.raw_fd < 0; i++) {
        struct pollfd p = {ovl_listener_fd(l), POLLIN, 0};
        poll(&p, 1, 10);
        ovl_listener_service(l, 0);
    }
    assert_true(seen.raw_fd >= 0);
    assert_int_equal(seen.first_len, 4);
    assert_memory_equal(seen.first, frame, 4);
    close(seen.raw_fd);
    close(c2);

    /* Without a raw handler such a socket is closed. */
    ovl_listener_set_raw_handler(l, NULL, NULL);
    int c3 = dial(port);
    assert_int_equal(send(c3, frame, sizeof(frame), 0), 4);
    for (int i = 0; i < 20; i++) {
        struct pollfd p = {ovl_listener_fd(l), POLLIN, 0};
        poll(&p, 1, 10);
        ovl_listener_service(l, 0);
    }
    assert_true(peer_closed(c3));
    close(c3);
    assert_int_equal(ovl_listener_pending(l), 0);
    ovl_listener_free(l);
}

static void test_first_byte_timeout_and_cap(void **state)
{
    (void)state;
    seen_t seen = {-1, -1, -1, {0}, 0};
    ovl_listener_config_t cfg = {"127.0.0.1:0", 2, OVL_SEC(5)};
    ovl_listener_handlers_t h = {on_web, on_raw, &seen};
    ovl_listener_t *l = NULL;
    char err[256];
    uint64_t accepted, raw, dropped;
    assert_int_equal(ovl_listener_new(&cfg, &h, &l, err, sizeof(err)), 0);
    uint16_t port = ovl_listener_port(l);
    int a = dial(port), b = dial(port), c = dial(port);
    for (int i = 0; i < 50; i++) {
        struct pollfd p = {ovl_listener_fd(l), POLLIN, 0};
        poll(&p, 1, 10);
        ovl_listener_service(l, OVL_SEC(100));
    }
    assert_int_equal(ovl_listener_pending(l), 2); /* the third went over the cap */
    assert_true(peer_closed(c));
    ovl_listener_expire(l, OVL_SEC(104));
    assert_int_equal(ovl_listener_pending(l), 2);
    ovl_listener_expire(l, OVL_SEC(105));
    assert_int_equal(ovl_listener_pending(l), 0);
    assert_true(peer_closed(a));
    assert_true(peer_closed(b));
    ovl_listener_stats(l, &accepted, &raw, &dropped);
    assert_int_equal(accepted, 3);
    assert_int_equal(dropped, 3);
    assert_int_equal(raw, 0);
    /* Stopped: no more accepts. */
    ovl_listener_stop(l);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int d = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_not_equal(connect(d, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(a), close(b), close(c), close(d);
    ovl_listener_free(l);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    seen_t seen;
    ovl_listener_handlers_t h = {on_web, NULL, &seen};
    ovl_listener_t *l = NULL;
    char err[256];
    const char *bad[] = {"8443", "[::1]8443", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ovl_listener_config_t cfg = {bad[i], 4, OVL_SEC(5)};
        assert_int_equal(ovl_listener_new(&cfg, &h, &l, err, sizeof(err)), OVL_ERR_ARG);
        assert_null(l);
        assert_non_null(strstr(err, "listen:"));
    }
    /* Two listeners on the same port cannot both bind. */
    ovl_listener_config_t one = {"127.0.0.1:0", 4, OVL_SEC(5)};
    assert_int_equal(ovl_listener_new(&one, &h, &l, err, sizeof(err)), 0);
    char spec[64];
    snprintf(spec, sizeof(spec), "127.0.0.1:%u", ovl_listener_port(l));
    ovl_listener_config_t two = {spec, 4, OVL_SEC(5)};
    ovl_listener_t *l2 = NULL;
    assert_int_equal(ovl_listener_new(&two, &h, &l2, err, sizeof(err)), OVL_ERR_IO);
    assert_non_null(strstr(err, spec));
    ovl_listener_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_hand_over_by_first_byte),
        cmocka_unit_test(test_first_byte_timeout_and_cap),
        cmocka_unit_test(test_bad_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
