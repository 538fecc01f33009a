/* The JSON protocol: every client message parses, every bad input gets its code, every server message encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/base.h"
#include "signaling/protocol.h"

static int parse(const char *s, ovl_msg_t *m, ovl_proto_error_t *e)
{
    return ovl_proto_parse(s, strlen(s), m, e);
}

static void test_every_client_message(void **state)
{
    (void)state;
    ovl_msg_t m;
    ovl_proto_error_t e;

    assert_int_equal(parse("{\"type\":\"join\",\"meeting\":\"M\",\"token\":\"T\",\"name\":\"Ann\"}", &m, &e), 0);
    assert_int_equal(m.type, OVL_MSG_JOIN);
    assert_string_equal(m.meeting, "M");
    assert_string_equal(m.token, "T");
    assert_string_equal(m.name, "Ann");
    ovl_msg_dispose(&m);
    assert_int_equal(parse("{\"type\":\"join\",\"meeting\":\"M\",\"token\":\"T\"}", &m, &e), 0);
    assert_null(m.name); /* optional: a personal link carries the name */
    ovl_msg_dispose(&m);

    assert_int_equal(parse("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}", &m, &e), 0);
    assert_int_equal(m.type, OVL_MSG_OFFER);
    assert_string_equal(m.sdp, "v=0\r\n");
    ovl_msg_dispose(&m);
    assert_int_equal(parse("{\"type\":\"answer\",\"sdp\":\"v=0\"}", &m, &e), 0);
    assert_int_equal(m.type, OVL_MSG_ANSWER);
    ovl_msg_dispose(&m);
    assert_int_equal(parse("{\"type\":\"ice-restart\"}", &m, &e), 0);
    assert_int_equal(m.type, OVL_MSG_ICE_RESTART);
    ovl_msg_dispose(&m);

    assert_int_equal(parse("{\"type\":\"mute\",\"kind\":\"video\",\"muted\":true}", &m, &e), 0);
    assert_int_equal(m.kind, OVL_KIND_VIDEO);
    assert_int_equal(m.muted, 1);
    assert_null(m.participant);
    ovl_msg_dispose(&m);
    assert_int_equal(parse("{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":false,\"participant\":\"p2\"}", &m, &e), 0);
    assert_int_equal(m.kind, OVL_KIND_AUDIO);
    assert_int_equal(m.muted, 0);
    assert_string_equal(m.participant, "p2");
    ovl_msg_dispose(&m);
    /* kind "screen": the screen share's state (muted false = sharing). */
    assert_int_equal(parse("{\"type\":\"mute\",\"kind\":\"screen\",\"muted\":false}", &m, &e), 0);
    assert_int_equal(m.kind, OVL_KIND_SCREEN);
    assert_int_equal(m.muted, 0);
    ovl_msg_dispose(&m);

    assert_int_equal(parse("{\"type\":\"chat\",\"text\":\"héllo\"}", &m, &e), 0);
    assert_string_equal(m.text, "héllo");
    ovl_msg_dispose(&m);

    static const struct {
        const char *json;
        ovl_msg_type_t type;
    } simple[] = {
        {"{\"type\":\"leave\"}", OVL_MSG_LEAVE},
        {"{\"type\":\"ping\"}", OVL_MSG_PING},
        {"{\"type\":\"admit\",\"participant\":\"p3\"}", OVL_MSG_ADMIT},
        {"{\"type\":\"deny\",\"participant\":\"p3\"}", OVL_MSG_DENY},
        {"{\"type\":\"remove\",\"participant\":\"p3\"}", OVL_MSG_REMOVE},
        {"{\"type\":\"lock\",\"locked\":true}", OVL_MSG_LOCK},
        {"{\"type\":\"end\"}", OVL_MSG_END},
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        assert_int_equal(parse(simple[i].json, &m, &e), 0);
        assert_int_equal(m.type, simple[i].type);
        if (m.participant)
            assert_string_equal(m.participant, "p3");
        ovl_msg_dispose(&m);
    }
    assert_int_equal(parse("{\"type\":\"lock\",\"locked\":true}", &m, &e), 0);
    assert_int_equal(m.locked, 1);
    ovl_msg_dispose(&m);
    /* PROTOCOL.md "receive": the camera video this participant wants. */
    assert_int_equal(parse("{\"type\":\"receive\",\"video\":false}", &m, &e), 0);
    assert_int_equal(m.type, OVL_MSG_RECEIVE);
    assert_int_equal(m.video, 0);
    ovl_msg_dispose(&m);
    assert_int_equal(parse("{\"type\":\"receive\",\"video\":true}", &m, &e), 0);
    assert_int_equal(m.video, 1);
    ovl_msg_dispose(&m);
}

static void test_unknown_fields_are_ignored(void **state)
{
    (void)state;
    ovl_msg_t m;
    ovl_proto_error_t e;
    assert_int_equal(parse("{\"type\":\"chat\",\"text\":\"x\",\"future\":{\"a\":[1,2]},\"id\":7}", &m, &e), 0);
    assert_string_equal(m.text, "x");
    ovl_msg_dispose(&m);
}

static void test_bad_input_codes(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        ovl_ecode_t code;
        const char *field;
    } bad[] = {
        {"", OVL_E_BAD_JSON, ""},
        {"{", OVL_E_BAD_JSON, ""},
        {"not json", OVL_E_BAD_JSON, ""},
        {"[1,2]", OVL_E_BAD_JSON, ""},
        {"\"join\"", OVL_E_BAD_JSON, ""},
        {"{\"type\":\"chat\",\"type\":\"chat\",\"text\":\"x\"}", OVL_E_BAD_JSON, ""},
        {"{\"text\":\"x\"}", OVL_E_BAD_MESSAGE, "type"},
        {"{\"type\":5}", OVL_E_BAD_MESSAGE, "type"},
        {"{\"type\":\"dance\"}", OVL_E_UNKNOWN_TYPE, "type"},
        {"{\"type\":\"JOIN\"}", OVL_E_UNKNOWN_TYPE, "type"},
        {"{\"type\":\"join\",\"token\":\"T\"}", OVL_E_BAD_MESSAGE, "meeting"},
        {"{\"type\":\"join\",\"meeting\":\"M\"}", OVL_E_BAD_MESSAGE, "token"},
        {"{\"type\":\"join\",\"meeting\":7,\"token\":\"T\"}", OVL_E_BAD_MESSAGE, "meeting"},
        {"{\"type\":\"join\",\"meeting\":\"M\",\"token\":\"T\",\"name\":[]}", OVL_E_BAD_MESSAGE, "name"},
        {"{\"type\":\"chat\"}", OVL_E_BAD_MESSAGE, "text"},
        {"{\"type\":\"chat\",\"text\":null}", OVL_E_BAD_MESSAGE, "text"},
        {"{\"type\":\"chat\",\"text\":\"a\\u0000b\"}", OVL_E_BAD_JSON, ""}, /* jansson refuses NUL */
        {"{\"type\":\"mute\",\"kind\":\"smell\",\"muted\":true}", OVL_E_BAD_MESSAGE, "kind"},
        {"{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":1}", OVL_E_BAD_MESSAGE, "muted"},
        {"{\"type\":\"lock\"}", OVL_E_BAD_MESSAGE, "locked"},
        {"{\"type\":\"receive\"}", OVL_E_BAD_MESSAGE, "video"},
        {"{\"type\":\"receive\",\"video\":0}", OVL_E_BAD_MESSAGE, "video"},
        {"{\"type\":\"receive\",\"video\":\"no\"}", OVL_E_BAD_MESSAGE, "video"},
        {"{\"type\":\"admit\"}", OVL_E_BAD_MESSAGE, "participant"},
        {"{\"type\":\"offer\",\"sdp\":{}}", OVL_E_BAD_MESSAGE, "sdp"},
    };
    ovl_msg_t m;
    ovl_proto_error_t e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i].json, &m, &e) != OVL_ERR_PARSE)
            fail_msg("accepted %s", bad[i].json);
        if (e.code != bad[i].code || strcmp(e.field, bad[i].field) != 0)
            fail_msg("%s: got %s/%s, want %s/%s", bad[i].json, ovl_ecode_name(e.code), e.field,
                     ovl_ecode_name(bad[i].code), bad[i].field);
        assert_null(m.text);
    }
    /* Invalid UTF-8 is refused by jansson. */
    assert_int_equal(ovl_proto_parse("{\"type\":\"chat\",\"text\":\"\xff\"}", 23, &m, &e), OVL_ERR_PARSE);
    assert_int_equal(e.code, OVL_E_BAD_JSON);
    /* A string past the hard cap. */
    size_t big = OVL_PROTO_TEXT_MAX + 100;
    char *s = malloc(big + 40);
    strcpy(s, "{\"type\":\"chat\",\"text\":\"");
    size_t off = strlen(s);
    memset(s + off, 'a', big);
    strcpy(s + off + big, "\"}");
    assert_int_equal(parse(s, &m, &e), OVL_ERR_PARSE);
    assert_int_equal(e.code, OVL_E_BAD_MESSAGE);
    assert_string_equal(e.field, "text");
    free(s);
    /* Not NUL-terminated input is read by length only. */
    const char frame[] = "{\"type\":\"ping\"}garbage";
    assert_int_equal(ovl_proto_parse(frame, 15, &m, &e), 0);
    ovl_msg_dispose(&m);
}

static json_t *enc(const ovl_out_t *o)
{
    json_t *j = ovl_proto_encode(o);
    assert_non_null(j);
    return j;
}

#define STR(j, k) json_string_value(json_object_get((j), (k)))

static void test_encode_every_server_message(void **state)
{
    (void)state;
    ovl_peer_info_t peers[2] = {{"p1", "Ann", OVL_ROLE_HOST, 0, 1, 0}, {"p2", "Bob", OVL_ROLE_GUEST, 1, 0, 1}};
    ovl_out_t o;
    json_t *j;

    o = (ovl_out_t){.type = OVL_OUT_WELCOME,
                    .you = "p3",
                    .role = OVL_ROLE_HOST,
                    .meeting_id = "M",
                    .title = "T",
                    .peers = peers,
                    .peer_count = 2,
                    .waiting = peers + 1,
                    .waiting_count = 1};
    j = enc(&o);
    assert_string_equal(STR(j, "type"), "welcome");
    assert_string_equal(STR(j, "you"), "p3");
    assert_string_equal(STR(j, "role"), "host");
    assert_string_equal(STR(json_object_get(j, "meeting"), "title"), "T");
    assert_int_equal(json_array_size(json_object_get(j, "participants")), 2);
    json_t *p0 = json_array_get(json_object_get(j, "participants"), 0);
    assert_string_equal(STR(p0, "name"), "Ann");
    assert_true(json_is_true(json_object_get(p0, "video_muted")));
    assert_true(json_is_false(json_object_get(p0, "sharing")));
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "participants"), 1), "sharing")));
    assert_int_equal(json_array_size(json_object_get(j, "waiting")), 1);
    assert_true(json_is_array(json_object_get(j, "turn")));
    json_decref(j);
    o.role = OVL_ROLE_GUEST; /* guests do not see the lobby */
    j = enc(&o);
    assert_null(json_object_get(j, "waiting"));
    json_decref(j);

    struct {
        ovl_out_t o;
        const char *type, *key, *value;
    } cases[] = {
        {{.type = OVL_OUT_LOBBY_WAIT, .you = "p4"}, "lobby-wait", "you", "p4"},
        {{.type = OVL_OUT_PARTICIPANT_JOINED, .peer = {"p5", "Eve", OVL_ROLE_GUEST, 0, 0, 0}},
         "participant-joined",
         NULL,
         NULL},
        {{.type = OVL_OUT_PARTICIPANT_LEFT, .participant = "p5", .reason = "removed"},
         "participant-left",
         "reason",
         "removed"},
        {{.type = OVL_OUT_MUTE, .participant = "p2", .kind = OVL_KIND_AUDIO, .muted = 1, .by = "p1"},
         "mute",
         "by",
         "p1"},
        {{.type = OVL_OUT_MUTE, .participant = "p2", .kind = OVL_KIND_SCREEN, .muted = 0}, "mute", "kind", "screen"},
        {{.type = OVL_OUT_CHAT, .participant = "p1", .name = "Ann", .text = "hoi"}, "chat", "from", "p1"},
        {{.type = OVL_OUT_LOCKED, .locked = 1}, "locked", NULL, NULL},
        {{.type = OVL_OUT_END, .reason = "revoked"}, "end", "reason", "revoked"},
        {{.type = OVL_OUT_PONG}, "pong", NULL, NULL},
        {{.type = OVL_OUT_OFFER, .sdp = "v=0"}, "offer", "sdp", "v=0"},
        {{.type = OVL_OUT_ANSWER, .sdp = "v=0"}, "answer", "sdp", "v=0"},
        {{.type = OVL_OUT_ACTIVE_SPEAKER, .participant = "p2"}, "active-speaker", "participant", "p2"},
        {{.type = OVL_OUT_ERROR, .code = OVL_E_MEETING_FULL, .ref = "join"}, "error", "code", "meeting-full"},
        {{.type = OVL_OUT_LOBBY, .peers = peers, .peer_count = 1}, "lobby", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        j = enc(&cases[i].o);
        assert_string_equal(STR(j, "type"), cases[i].type);
        if (cases[i].key)
            assert_string_equal(STR(j, cases[i].key), cases[i].value);
        char *text = ovl_proto_dump(j);
        assert_non_null(text);
        assert_null(strchr(text, '\n'));
        free(text);
        json_decref(j);
    }
    o = (ovl_out_t){.type = OVL_OUT_ERROR, .code = OVL_E_TOKEN_EXPIRED};
    j = enc(&o);
    assert_string_equal(STR(j, "message"), ovl_ecode_message(OVL_E_TOKEN_EXPIRED));
    json_decref(j);
}

static void test_names_are_stable(void **state)
{
    (void)state;
    for (int t = 0; t < OVL_MSG_COUNT; t++)
        assert_non_null(ovl_msg_type_name((ovl_msg_type_t)t));
    for (int t = 0; t < OVL_OUT_COUNT; t++)
        assert_non_null(ovl_out_type_name((ovl_out_type_t)t));
    for (int c = 0; c < OVL_E_COUNT; c++) {
        assert_non_null(ovl_ecode_name((ovl_ecode_t)c));
        assert_non_null(ovl_ecode_message((ovl_ecode_t)c));
    }
    assert_string_equal(ovl_ecode_name(OVL_E_TOO_LARGE), "too-large");
    assert_string_equal(ovl_ecode_name(OVL_E_COUNT), "internal");
    assert_null(ovl_msg_type_name(OVL_MSG_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_client_message), cmocka_unit_test(test_unknown_fields_are_ignored),
        cmocka_unit_test(test_bad_input_codes),      cmocka_unit_test(test_encode_every_server_message),
        cmocka_unit_test(test_names_are_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
