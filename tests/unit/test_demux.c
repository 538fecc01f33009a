/* RFC 7983 §7 demultiplexing, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/proto/demux.h"

struct demux_case {
    const char *what;
    uint8_t first, second;
    size_t len;
    ovl_demux_kind_t want;
};

static const struct demux_case cases[] = {
    {"empty packet", 0x00, 0x00, 0, OVL_DEMUX_UNKNOWN},
    {"STUN binding request (0x00)", 0x00, 0x01, 20, OVL_DEMUX_STUN},
    {"STUN with method bits (0x01)", 0x01, 0x01, 28, OVL_DEMUX_STUN},
    {"STUN upper bound (3)", 0x03, 0x00, 20, OVL_DEMUX_STUN},
    {"STUN shorter than its header", 0x00, 0x01, 19, OVL_DEMUX_UNKNOWN},
    {"4..15 is reserved", 0x04, 0x00, 100, OVL_DEMUX_UNKNOWN},
    {"ZRTP (16) is not used", 0x10, 0x00, 100, OVL_DEMUX_UNKNOWN},
    {"DTLS change_cipher_spec (20)", 20, 0xfe, 14, OVL_DEMUX_DTLS},
    {"DTLS handshake (22)", 22, 0xfe, 100, OVL_DEMUX_DTLS},
    {"DTLS application data (23)", 23, 0xfe, 13, OVL_DEMUX_DTLS},
    {"DTLS upper bound (63)", 63, 0xfe, 13, OVL_DEMUX_DTLS},
    {"DTLS shorter than a record header", 22, 0xfe, 12, OVL_DEMUX_UNKNOWN},
    {"TURN channel data (64) is not used", 64, 0x00, 100, OVL_DEMUX_UNKNOWN},
    {"80..127 is reserved", 100, 0x00, 100, OVL_DEMUX_UNKNOWN},
    {"RTP VP8 pt 96", 0x80, 96, 12, OVL_DEMUX_RTP},
    {"RTP with marker, pt 111", 0x80, 0x80 | 111, 100, OVL_DEMUX_RTP},
    {"RTP pt 0", 0x80, 0, 12, OVL_DEMUX_RTP},
    {"RTP shorter than its header", 0x80, 96, 11, OVL_DEMUX_UNKNOWN},
    {"RTCP SR (200)", 0x80, 200, 28, OVL_DEMUX_RTCP},
    {"RTCP RR (201) with one report block", 0x81, 201, 32, OVL_DEMUX_RTCP},
    {"RTCP RTPFB (205)", 0x81, 205, 16, OVL_DEMUX_RTCP},
    {"RTCP PSFB (206)", 0x81, 206, 12, OVL_DEMUX_RTCP},
    {"RTCP lower bound of range (192)", 0x80, 192, 8, OVL_DEMUX_RTCP},
    {"RTCP upper bound of range (223)", 0x80, 223, 8, OVL_DEMUX_RTCP},
    {"RTP pt 96 with marker is 224: RTP", 0x80, 224, 12, OVL_DEMUX_RTP},
    {"RTCP shorter than its header", 0x80, 200, 7, OVL_DEMUX_UNKNOWN},
    {"RTP/RTCP upper bound (191)", 0xbf, 96, 12, OVL_DEMUX_RTP},
    {"192..255 is reserved", 0xc0, 96, 100, OVL_DEMUX_UNKNOWN},
    {"0xff", 0xff, 0xff, 100, OVL_DEMUX_UNKNOWN},
};

static void test_demux_table(void **state)
{
    (void)state;
    uint8_t pkt[128] = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pkt[0] = cases[i].first;
        pkt[1] = cases[i].second;
        ovl_demux_kind_t got = ovl_demux_classify(pkt, cases[i].len);
        if (got != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].what, ovl_demux_kind_name(got),
                     ovl_demux_kind_name(cases[i].want));
    }
}

static void test_demux_every_first_byte(void **state)
{
    (void)state;
    uint8_t pkt[64] = {0};
    for (int b = 0; b < 256; b++) {
        pkt[0] = (uint8_t)b;
        pkt[1] = 96;
        ovl_demux_kind_t want = b <= 3                 ? OVL_DEMUX_STUN
                                : b >= 20 && b <= 63   ? OVL_DEMUX_DTLS
                                : b >= 128 && b <= 191 ? OVL_DEMUX_RTP
                                                       : OVL_DEMUX_UNKNOWN;
        assert_int_equal(ovl_demux_classify(pkt, sizeof(pkt)), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demux_table),
        cmocka_unit_test(test_demux_every_first_byte),
    };
    return cmocka_run_group_tests_name("demux (RFC 7983)", tests, NULL, NULL);
}
