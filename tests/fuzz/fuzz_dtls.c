/*
 * libFuzzer target: a server-role ovl_dtls_t fed arbitrary datagrams, and the a=fingerprint parser.
 *
 * Input: datagrams, each framed as a 2-byte big-endian length then that many bytes (a length past
 * the end takes what is left). The whole input also goes to ovl_dtls_fingerprint_parse. The clock
 * advances 700 ms per datagram and on_timeout runs after each, so retransmission and give-up paths
 * are reached. Seeds (tests/fuzz/corpus/dtls/): a captured ClientHello (written by test_dtls with
 * OVL_WRITE_DTLS_SEEDS), record-shaped junk, and fingerprint text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/proto/dtls.h"

static ovl_dtls_cert_t *cert; /* made once per fuzzing process: certificate generation is slow */

static void on_output(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    if (len == 0 || len > OVL_DTLS_MAX_MTU)
        abort();
    (void)data[len - 1];
}

static void on_event(void *user, const ovl_dtls_event_t *ev)
{
    (void)user;
    if (ev->type == OVL_DTLS_EVENT_FAILED && !ev->reason)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_dtls_fingerprint_t fp;
    char text[OVL_DTLS_FINGERPRINT_TEXT_MAX];
    if (ovl_dtls_fingerprint_parse((const char *)data, size, &fp) == 0 &&
        ovl_dtls_fingerprint_format(&fp, text, sizeof(text)) != 0)
        abort();

    if (!cert && ovl_dtls_cert_generate(&cert) != 0)
        abort();
    ovl_dtls_config_t cfg = {
        .role = OVL_DTLS_SERVER,
        .cert = cert,
        .remote_fingerprint = ovl_dtls_cert_fingerprint(cert),
        .output = on_output,
        .event = on_event,
    };
    ovl_dtls_t *d = NULL;
    if (ovl_dtls_new(&cfg, &d) != 0)
        abort();
    ovl_time_t now = 0;
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 2) {
        size_t len = (size_t)p[0] << 8 | p[1];
        p += 2;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        ovl_dtls_feed(d, p, len, now);
        p += len;
        now += OVL_MS(700);
        ovl_dtls_on_timeout(d, now);
        if (ovl_dtls_next_timeout(d) < now)
            abort();
    }
    ovl_dtls_free(d);
    return 0;
}
