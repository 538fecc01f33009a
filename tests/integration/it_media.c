/*
 * Integration: `overleg serve` with its media plane. Over WSS, a client's offer gets the relay's
 * answer (ICE-lite, DTLS passive, a UDP host candidate on the worker's port, RFC 8445 §2.5 /
 * RFC 8842 §5.2); a second participant's tracks reach the first in a relay offer under
 * a=msid:<public id> <public id>-<slot> (PROTOCOL.md, Tracks); ice-restart brings new credentials; a leave
 * retires the tracks. The ICE/DTLS/media path itself is tested in test_media.c (and, with real
 * VP8/Opus, by the synthetic peer's suites).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "ovl_harness.h"
#include "signaling/wsclient.h"

#define T 15000

static const char *const env[] = {"OVERLEG_PUBLIC_IP=127.0.0.1", NULL};
static ovl_srv_t srv;
static char offer_text[16384];

static const char *str(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

/* tests/data/chromium-offer-av-screen.sdp (this file is tests/integration/it_media.c). */
static int load_offer(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (!slash)
        return -1;
    strcpy(slash, "/../data/chromium-offer-av-screen.sdp");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(offer_text, 1, sizeof(offer_text) - 1, f);
    fclose(f);
    offer_text[n] = '\0';
    char *p = offer_text;
    while (*p == '#')
        p = strchr(p, '\n') + 1;
    memmove(offer_text, p, strlen(p) + 1);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (load_offer() != 0 || ovl_srv_init(&srv, env) != 0 || ovl_srv_start(&srv) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return ovl_srv_finish(&srv);
}

/* Joins and returns the client; its public id in `you`. */
static ovl_wsclient_t *join(const char *meeting, const char *token, const char *name, char *you)
{
    ovl_wsclient_t *c = NULL;
    assert_int_equal(ovl_it_connect(srv.port, T, &c), 0);
    assert_int_equal(
        ovl_wsclient_sendf(c, "{s:s, s:s, s:s, s:s}", "type", "join", "meeting", meeting, "token", token, "name", name),
        0);
    json_t *w = ovl_wsclient_wait(c, "welcome", T);
    assert_non_null(w);
    snprintf(you, 16, "%s", str(w, "you"));
    json_decref(w);
    return c;
}

/* Waits for an `offer` or `answer` and returns a copy of its SDP. */
static char *wait_sdp(ovl_wsclient_t *c, const char *type)
{
    json_t *j = ovl_wsclient_wait(c, type, T);
    if (!j)
        fail_msg("no %s", type);
    char *sdp = strdup(str(j, "sdp"));
    json_decref(j);
    return sdp;
}

/* A browser-like answer to a relay offer, by text: directions mirrored, setup:active, no ice-lite. */
static char *answer_text(const char *offer)
{
    size_t n = strlen(offer);
    char *out = malloc(n + 1), *o = out;
    for (const char *p = offer; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, "a=sendonly", 10) == 0)
            o += sprintf(o, "a=recvonly\r\n");
        else if (strncmp(p, "a=recvonly", 10) == 0)
            o += sprintf(o, "a=sendonly\r\n");
        else if (strncmp(p, "a=setup:actpass", 15) == 0)
            o += sprintf(o, "a=setup:active\r\n");
        else if (strncmp(p, "a=ice-lite", 10) == 0 || strncmp(p, "a=candidate:", 12) == 0 ||
                 strncmp(p, "a=end-of-candidates", 19) == 0)
            ;
        else {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
    }
    *o = '\0';
    return out;
}

static void send_sdp(ovl_wsclient_t *c, const char *type, const char *sdp)
{
    assert_int_equal(ovl_wsclient_sendf(c, "{s:s, s:s}", "type", type, "sdp", sdp), 0);
}

/* The first "a=ice-ufrag:" value. */
static void ufrag_of(const char *sdp, char *out, size_t cap)
{
    const char *u = strstr(sdp, "a=ice-ufrag:");
    assert_non_null(u);
    u += 12;
    snprintf(out, cap, "%.*s", (int)strcspn(u, "\r\n"), u);
}

static void test_offer_answer_tracks_restart_leave(void **state)
{
    (void)state;
    char m[64], host[256], guest[256], pa[16], pb[16], cand[128], u1[64], u2[64];
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    ovl_wsclient_t *a = join(m, host, "Ann", pa);
    ovl_wsclient_t *b = join(m, guest, "Bob", pb);

    /* The first offer gets the relay's answer. */
    send_sdp(a, "offer", offer_text);
    char *ans = wait_sdp(a, "answer");
    assert_non_null(strstr(ans, "a=ice-lite\r\n"));
    assert_non_null(strstr(ans, "a=setup:passive\r\n"));
    assert_non_null(strstr(ans, "a=fingerprint:sha-256 "));
    const char *ports = strstr(srv.stdout_text, "media on UDP ports ");
    assert_non_null(ports);
    snprintf(cand, sizeof(cand), " udp %u 127.0.0.1 %d typ host\r\n", 2130706431u,
             atoi(ports + strlen("media on UDP ports ")));
    assert_non_null(strstr(ans, cand));
    assert_non_null(strstr(ans, "a=end-of-candidates\r\n"));
    ufrag_of(ans, u1, sizeof(u1));

    /* Bob offers: Ann is offered his tracks under his public id (and he hers). */
    send_sdp(b, "offer", offer_text);
    free(wait_sdp(b, "answer"));
    char *to_a = wait_sdp(a, "offer"), *to_b = wait_sdp(b, "offer");
    char msid[64];
    snprintf(msid, sizeof(msid), "a=msid:%s %s-audio\r\n", pb, pb);
    assert_non_null(strstr(to_a, msid));
    snprintf(msid, sizeof(msid), "a=msid:%s %s-camera\r\n", pb, pb);
    assert_non_null(strstr(to_a, msid));
    snprintf(msid, sizeof(msid), "a=msid:%s %s-audio\r\n", pa, pa);
    assert_non_null(strstr(to_b, msid));
    assert_null(strstr(to_a, "ovl-"));
    char *ans_a = answer_text(to_a), *ans_b = answer_text(to_b);
    send_sdp(a, "answer", ans_a);
    send_sdp(b, "answer", ans_b);

    /* A second client offer is out of order; a renegotiation answer without an offer is too. */
    send_sdp(a, "offer", offer_text);
    assert_true(ovl_wsclient_wait_error(a, "negotiation-state", T));

    /* ICE restart: a new relay offer with new credentials, the same tracks. */
    assert_int_equal(ovl_wsclient_send(a, "{\"type\":\"ice-restart\"}"), 0);
    char *restart = wait_sdp(a, "offer");
    ufrag_of(restart, u2, sizeof(u2));
    assert_string_not_equal(u1, u2);
    snprintf(msid, sizeof(msid), "a=msid:%s %s-audio\r\n", pb, pb);
    assert_non_null(strstr(restart, msid));
    char *ans_r = answer_text(restart);
    send_sdp(a, "answer", ans_r);

    /* Bob leaves: Ann is told, and offered his tracks retired. */
    assert_int_equal(ovl_wsclient_send(b, "{\"type\":\"leave\"}"), 0);
    json_t *left = ovl_wsclient_wait(a, "participant-left", T);
    assert_non_null(left);
    json_decref(left);
    char *retire = wait_sdp(a, "offer");
    assert_non_null(strstr(retire, "a=inactive\r\n"));
    snprintf(msid, sizeof(msid), "a=msid:%s", pb);
    assert_null(strstr(retire, msid));
    ufrag_of(retire, u1, sizeof(u1));
    assert_string_equal(u1, u2); /* the restarted credentials stay */

    free(ans), free(to_a), free(to_b), free(ans_a), free(ans_b), free(restart), free(ans_r), free(retire);
    ovl_wsclient_free(a);
    ovl_wsclient_free(b);
}

static void test_bad_offers(void **state)
{
    (void)state;
    char m[64], host[256], guest[256], pa[16];
    assert_int_equal(ovl_make_meeting(&srv, m, host, guest, NULL), 0);
    ovl_wsclient_t *a = join(m, host, "Ann", pa);
    send_sdp(a, "offer", "v=0\r\nm=nonsense\r\n");
    assert_true(ovl_wsclient_wait_error(a, "bad-message", T));
    /* Without a fingerprint DTLS cannot be authenticated: refused, and the session stays usable. */
    char *nofp = strdup(offer_text);
    for (char *f = strstr(nofp, "a=fingerprint:"); f; f = strstr(f, "a=fingerprint:"))
        f[2] = 'X';
    send_sdp(a, "offer", nofp);
    assert_true(ovl_wsclient_wait_error(a, "media-unavailable", T));
    free(nofp);
    assert_int_equal(ovl_wsclient_send(a, "{\"type\":\"ping\"}"), 0);
    json_t *p = ovl_wsclient_wait(a, "pong", T);
    assert_non_null(p);
    json_decref(p);
    ovl_wsclient_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_answer_tracks_restart_leave),
        cmocka_unit_test(test_bad_offers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
