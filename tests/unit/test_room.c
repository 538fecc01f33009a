/* The meeting state machine, without sockets: every flow from PROTOCOL.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay/proto/base.h"
#include "signaling/room.h"

#define MAX_EV 256

typedef struct rec {
    size_t n;
    uint64_t conn[MAX_EV];
    json_t *msg[MAX_EV];
    size_t nclose;
    uint64_t closed[MAX_EV];
    int code[MAX_EV];
    /* media port calls */
    int joined, left, ended, offers, answers, restarts;
    int receives, receive_video; /* `receive` calls, and the last wish */
    int offer_rc;
    uint64_t joined_conn; /* the last participant_joined call */
    char joined_id[16];
} rec_t;

static void on_emit(void *ud, uint64_t conn, const ovl_out_t *m)
{
    rec_t *r = ud;
    assert_true(r->n < MAX_EV);
    r->conn[r->n] = conn;
    r->msg[r->n++] = ovl_proto_encode(m);
}

static void on_close(void *ud, uint64_t conn, int code, const char *reason)
{
    rec_t *r = ud;
    (void)reason;
    r->closed[r->nclose] = conn;
    r->code[r->nclose++] = code;
}

static void reset(rec_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->msg[i]);
    r->n = r->nclose = 0;
}

/* The i-th message sent to `conn` of type `type` (NULL when none). */
static json_t *got(rec_t *r, uint64_t conn, const char *type)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->conn[i] == conn && strcmp(json_string_value(json_object_get(r->msg[i], "type")), type) == 0)
            return r->msg[i];
    return NULL;
}

static size_t count_type(rec_t *r, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += strcmp(json_string_value(json_object_get(r->msg[i], "type")), type) == 0;
    return n;
}

static const char *field(json_t *j, const char *k)
{
    assert_non_null(j);
    return json_string_value(json_object_get(j, k));
}

static int was_closed(rec_t *r, uint64_t conn, int code)
{
    for (size_t i = 0; i < r->nclose; i++)
        if (r->closed[i] == conn && r->code[i] == code)
            return 1;
    return 0;
}

static int mp_joined(void *ctx, const char *m, uint64_t p, const char *public_id)
{
    rec_t *r = ctx;
    (void)m;
    r->joined++;
    r->joined_conn = p;
    snprintf(r->joined_id, sizeof(r->joined_id), "%s", public_id);
    return 0;
}
static int mp_offer(void *ctx, uint64_t p, const char *sdp)
{
    (void)p, (void)sdp;
    ((rec_t *)ctx)->offers++;
    return ((rec_t *)ctx)->offer_rc;
}
static int mp_answer(void *ctx, uint64_t p, const char *sdp)
{
    (void)p, (void)sdp;
    ((rec_t *)ctx)->answers++;
    return 0;
}
static int mp_restart(void *ctx, uint64_t p)
{
    (void)p;
    ((rec_t *)ctx)->restarts++;
    return 0;
}
static void mp_left(void *ctx, uint64_t p)
{
    (void)p;
    ((rec_t *)ctx)->left++;
}
static void mp_ended(void *ctx, const char *m)
{
    (void)m;
    ((rec_t *)ctx)->ended++;
}
static int mp_receive(void *ctx, uint64_t p, int video)
{
    (void)p;
    ((rec_t *)ctx)->receives++;
    ((rec_t *)ctx)->receive_video = video;
    return 0;
}

typedef struct fx {
    rec_t rec;
    ovl_room_io_t io;
    ovl_media_port_t media;
    ovl_room_t *room;
} fx_t;

static fx_t *make(int lobby, uint32_t max, int with_media)
{
    fx_t *f = calloc(1, sizeof(*f));
    ovl_meeting_t m = {.created = 1, .expires = 100, .lobby = lobby};
    ovl_room_limits_t lim = {max, 20, 10};
    strcpy(m.id, "AAAAAAAAAAAAAAAAAAAAAA");
    strcpy(m.title, "Overleg");
    f->io = (ovl_room_io_t){on_emit, on_close, &f->rec};
    f->media = (ovl_media_port_t){&f->rec, mp_joined, mp_offer, mp_answer, mp_restart, mp_left, mp_ended, mp_receive};
    assert_int_equal(ovl_room_new(&m, &lim, with_media ? &f->media : NULL, &f->io, &f->room), 0);
    return f;
}

static void done(fx_t *f)
{
    reset(&f->rec);
    ovl_room_free(f->room);
    free(f);
}

static void handle(fx_t *f, uint64_t conn, ovl_msg_t m)
{
    ovl_room_handle(f->room, conn, &m);
}

static void test_join_welcome_and_joined(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 0);
    assert_int_equal(ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann"), 0);
    json_t *w = got(&f->rec, 1, "welcome");
    assert_string_equal(field(w, "you"), "p1");
    assert_string_equal(field(w, "role"), "host");
    assert_int_equal(json_array_size(json_object_get(w, "participants")), 0);
    reset(&f->rec);
    assert_int_equal(ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob"), 0);
    w = got(&f->rec, 2, "welcome");
    assert_string_equal(field(w, "you"), "p2");
    assert_string_equal(field(w, "role"), "guest");
    json_t *parts = json_object_get(w, "participants");
    assert_int_equal(json_array_size(parts), 1);
    assert_string_equal(field(json_array_get(parts, 0), "name"), "Ann");
    json_t *j = got(&f->rec, 1, "participant-joined");
    assert_string_equal(field(json_object_get(j, "participant"), "name"), "Bob");
    assert_null(got(&f->rec, 2, "participant-joined")); /* not to oneself */
    assert_int_equal(ovl_room_admitted(f->room), 2);
    done(f);
}

static void test_leave_tells_others(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 1);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob");
    assert_int_equal(f->rec.joined, 2);
    /* The media plane learns the public id the others know Bob by (it names his tracks). */
    assert_int_equal(f->rec.joined_conn, 2);
    assert_string_equal(f->rec.joined_id, "p2");
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_LEAVE});
    json_t *l = got(&f->rec, 1, "participant-left");
    assert_string_equal(field(l, "participant"), "p2");
    assert_string_equal(field(l, "reason"), "left");
    assert_true(was_closed(&f->rec, 2, OVL_CLOSE_NORMAL));
    assert_int_equal(f->rec.left, 1);
    reset(&f->rec);
    ovl_room_leave(f->room, 1, "left"); /* socket closed */
    ovl_room_leave(f->room, 1, "left"); /* twice: nothing */
    assert_int_equal(ovl_room_admitted(f->room), 0);
    assert_int_equal(f->rec.n, 0);
    done(f);
}

static void test_lobby_wait_admit_deny(void **state)
{
    (void)state;
    fx_t *f = make(1, 10, 0);
    /* A guest can arrive before any host; it waits. */
    assert_int_equal(ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob"), 0);
    assert_string_equal(field(got(&f->rec, 2, "lobby-wait"), "you"), "p1");
    assert_null(got(&f->rec, 2, "welcome"));
    /* A host never waits, and sees the lobby in its welcome. */
    assert_int_equal(ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann"), 0);
    json_t *w = got(&f->rec, 1, "welcome");
    assert_int_equal(json_array_size(json_object_get(w, "waiting")), 1);
    assert_int_equal(json_array_size(json_object_get(w, "participants")), 0);
    reset(&f->rec);
    assert_int_equal(ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy"), 0);
    json_t *lobby = got(&f->rec, 1, "lobby");
    assert_int_equal(json_array_size(json_object_get(lobby, "waiting")), 2);
    /* A waiting guest cannot chat. */
    reset(&f->rec);
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_CHAT, .text = "let me in"});
    assert_string_equal(field(got(&f->rec, 3, "error"), "code"), "not-joined");
    assert_null(got(&f->rec, 1, "chat"));
    /* A guest cannot admit. */
    reset(&f->rec);
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_ADMIT, .participant = "p1"});
    assert_non_null(got(&f->rec, 3, "error"));
    /* Admit Bob: welcome to him, participant-joined to Ann, lobby shrinks. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_ADMIT, .participant = "p1"});
    assert_string_equal(field(got(&f->rec, 2, "welcome"), "you"), "p1");
    assert_non_null(got(&f->rec, 1, "participant-joined"));
    assert_int_equal(json_array_size(json_object_get(got(&f->rec, 1, "lobby"), "waiting")), 1);
    /* Deny Cy: told with end {reason: denied}, closed. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_DENY, .participant = "p3"});
    assert_string_equal(field(got(&f->rec, 3, "end"), "reason"), "denied");
    assert_true(was_closed(&f->rec, 3, OVL_CLOSE_NORMAL));
    assert_int_equal(json_array_size(json_object_get(got(&f->rec, 1, "lobby"), "waiting")), 0);
    assert_null(got(&f->rec, 2, "participant-left")); /* nobody saw Cy */
    assert_int_equal(ovl_room_waiting(f->room), 0);
    /* Admitting someone already in: no-such-participant. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_ADMIT, .participant = "p1"});
    assert_string_equal(field(got(&f->rec, 1, "error"), "code"), "no-such-participant");
    done(f);
}

static void test_host_mute_remove_lock_end(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 1);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob");
    ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy");
    reset(&f->rec);
    /* Host mutes Bob's audio: everyone hears of it, with who did it. */
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_AUDIO, .muted = 1, .participant = "p2"});
    json_t *m = got(&f->rec, 2, "mute");
    assert_string_equal(field(m, "participant"), "p2");
    assert_string_equal(field(m, "by"), "p1");
    assert_true(json_is_true(json_object_get(m, "muted")));
    assert_int_equal(count_type(&f->rec, "mute"), 3);
    /* Nobody unmutes someone else; a guest mutes nobody else. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_AUDIO, .muted = 0, .participant = "p2"});
    assert_string_equal(field(got(&f->rec, 1, "error"), "code"), "forbidden");
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_VIDEO, .muted = 1, .participant = "p2"});
    assert_string_equal(field(got(&f->rec, 3, "error"), "code"), "forbidden");
    /* Self-mute announces state. */
    reset(&f->rec);
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_VIDEO, .muted = 1});
    assert_string_equal(field(got(&f->rec, 1, "mute"), "participant"), "p3");
    assert_string_equal(field(got(&f->rec, 1, "mute"), "kind"), "video");
    /* Guests cannot remove, lock or end. */
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_REMOVE, .participant = "p3"});
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_LOCK, .locked = 1});
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_END});
    assert_int_equal(count_type(&f->rec, "error"), 3);
    assert_int_equal(ovl_room_admitted(f->room), 3);
    /* Host removes Cy. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_REMOVE, .participant = "p3"});
    assert_string_equal(field(got(&f->rec, 3, "end"), "reason"), "removed");
    assert_true(was_closed(&f->rec, 3, OVL_CLOSE_NORMAL));
    assert_string_equal(field(got(&f->rec, 2, "participant-left"), "reason"), "removed");
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_REMOVE, .participant = "p9"});
    assert_string_equal(field(got(&f->rec, 1, "error"), "code"), "no-such-participant");
    /* Lock: guests are refused, hosts still come in. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_LOCK, .locked = 1});
    assert_true(json_is_true(json_object_get(got(&f->rec, 2, "locked"), "locked")));
    assert_int_equal(ovl_room_join(f->room, 4, OVL_ROLE_GUEST, "Dee"), OVL_ERR_STATE);
    assert_string_equal(field(got(&f->rec, 4, "error"), "code"), "meeting-locked");
    assert_true(was_closed(&f->rec, 4, OVL_CLOSE_NORMAL));
    assert_int_equal(ovl_room_join(f->room, 5, OVL_ROLE_HOST, "Eva"), 0);
    assert_true(json_is_true(json_object_get(got(&f->rec, 5, "welcome"), "locked")));
    /* End for all. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_END});
    assert_string_equal(field(got(&f->rec, 1, "end"), "reason"), "ended");
    assert_string_equal(field(got(&f->rec, 2, "end"), "reason"), "ended");
    assert_string_equal(field(got(&f->rec, 5, "end"), "reason"), "ended");
    assert_int_equal(f->rec.nclose, 3);
    assert_int_equal(count_type(&f->rec, "participant-left"), 0);
    assert_int_equal(f->rec.ended, 1);
    assert_int_equal(ovl_room_admitted(f->room), 0);
    /* After the end nobody joins this room object again. */
    reset(&f->rec);
    assert_int_equal(ovl_room_join(f->room, 6, OVL_ROLE_HOST, "Fay"), OVL_ERR_STATE);
    assert_string_equal(field(got(&f->rec, 6, "error"), "code"), "meeting-ended");
    done(f);
}

static void test_chat_fan_out_and_limits(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 0);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob");
    ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy");
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_CHAT, .text = "goedemorgen"});
    assert_int_equal(count_type(&f->rec, "chat"), 3); /* everyone, sender included */
    json_t *c = got(&f->rec, 3, "chat");
    assert_string_equal(field(c, "from"), "p2");
    assert_string_equal(field(c, "name"), "Bob");
    assert_string_equal(field(c, "text"), "goedemorgen");
    /* 20 characters is the limit here; multi-byte characters count once. */
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_CHAT, .text = "éééééééééééééééééééé"});
    assert_int_equal(count_type(&f->rec, "chat"), 3);
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_CHAT, .text = "123456789012345678901"});
    assert_string_equal(field(got(&f->rec, 2, "error"), "code"), "text-too-long");
    assert_int_equal(count_type(&f->rec, "chat"), 0);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_CHAT, .text = ""});
    assert_int_equal(count_type(&f->rec, "error"), 2);
    done(f);
}

static void test_participant_limit_and_names(void **state)
{
    (void)state;
    fx_t *f = make(0, 2, 0);
    assert_int_equal(ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann"), 0);
    assert_int_equal(ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob"), 0);
    assert_int_equal(ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy"), OVL_ERR_LIMIT);
    assert_string_equal(field(got(&f->rec, 3, "error"), "code"), "meeting-full");
    assert_true(was_closed(&f->rec, 3, OVL_CLOSE_TRY_AGAIN));
    assert_int_equal(ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann"), OVL_ERR_STATE); /* same conn twice */
    reset(&f->rec);
    const char *bad[] = {"", "   ", "tab\there", "elevenchars"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ovl_room_join(f->room, 10 + i, OVL_ROLE_GUEST, bad[i]), OVL_ERR_ARG);
        assert_string_equal(field(got(&f->rec, 10 + i, "error"), "code"), "name-invalid");
    }
    assert_int_equal(ovl_room_join(f->room, 20, OVL_ROLE_GUEST, NULL), OVL_ERR_ARG);
    done(f);
}

static void test_revoke_ends_for_everyone(void **state)
{
    (void)state;
    fx_t *f = make(1, 10, 1);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob"); /* waiting */
    reset(&f->rec);
    ovl_room_end(f->room, "revoked", OVL_CLOSE_NORMAL);
    assert_string_equal(field(got(&f->rec, 1, "end"), "reason"), "revoked");
    assert_string_equal(field(got(&f->rec, 2, "end"), "reason"), "revoked");
    assert_true(was_closed(&f->rec, 1, OVL_CLOSE_NORMAL));
    assert_true(was_closed(&f->rec, 2, OVL_CLOSE_NORMAL));
    assert_int_equal(f->rec.left, 1); /* only the admitted one had media */
    assert_int_equal(f->rec.ended, 1);
    assert_false(ovl_room_has(f->room, 1));
    done(f);
}

static void test_media_unavailable_without_port(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 0);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_OFFER, .sdp = "v=0"});
    json_t *e = got(&f->rec, 1, "error");
    assert_string_equal(field(e, "code"), "media-unavailable");
    assert_string_equal(field(e, "ref"), "offer");
    assert_null(got(&f->rec, 1, "answer"));
    done(f);
}

/* DESIGN.md "Negotiation": client offers once, the relay answers; afterwards the relay offers. */
static void test_negotiation_through_media_port(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 1);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob");
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_ANSWER, .sdp = "v=0"}); /* nothing to answer yet */
    assert_string_equal(field(got(&f->rec, 1, "error"), "code"), "negotiation-state");
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_OFFER, .sdp = "v=0 first"});
    assert_int_equal(f->rec.offers, 1);
    ovl_room_media_event(f->room, &(ovl_media_event_t){OVL_MEDIA_EV_ANSWER, 1, "v=0 relay answer"});
    assert_string_equal(field(got(&f->rec, 1, "answer"), "sdp"), "v=0 relay answer");
    assert_null(got(&f->rec, 2, "answer")); /* nobody else is touched */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_OFFER, .sdp = "v=0 again"}); /* glare-free: no second client offer */
    assert_string_equal(field(got(&f->rec, 1, "error"), "code"), "negotiation-state");
    assert_int_equal(f->rec.offers, 1);
    ovl_room_media_event(f->room, &(ovl_media_event_t){OVL_MEDIA_EV_OFFER, 1, "v=0 relay offer"});
    assert_string_equal(field(got(&f->rec, 1, "offer"), "sdp"), "v=0 relay offer");
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_ANSWER, .sdp = "v=0 client answer"});
    assert_int_equal(f->rec.answers, 1);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_ICE_RESTART});
    assert_int_equal(f->rec.restarts, 1);
    /* PROTOCOL.md "receive": the wish goes to the media port, no reply. */
    reset(&f->rec);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_RECEIVE, .video = 0});
    assert_int_equal(f->rec.receives, 1);
    assert_int_equal(f->rec.receive_video, 0);
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_RECEIVE, .video = 1});
    assert_int_equal(f->rec.receives, 2);
    assert_int_equal(f->rec.receive_video, 1);
    assert_null(got(&f->rec, 1, "error"));
    /* Active speaker goes to everyone. */
    reset(&f->rec);
    ovl_room_media_event(f->room, &(ovl_media_event_t){OVL_MEDIA_EV_ACTIVE_SPEAKER, 2, NULL});
    assert_string_equal(field(got(&f->rec, 1, "active-speaker"), "participant"), "p2");
    /* Media failure is a leave. */
    reset(&f->rec);
    ovl_room_media_event(f->room, &(ovl_media_event_t){OVL_MEDIA_EV_FAILED, 2, NULL});
    assert_string_equal(field(got(&f->rec, 1, "participant-left"), "reason"), "media-failed");
    assert_true(was_closed(&f->rec, 2, OVL_CLOSE_NORMAL));
    assert_false(ovl_room_has(f->room, 2));
    /* A failing relay call is reported, not swallowed. */
    ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy");
    f->rec.offer_rc = OVL_ERR_PARSE;
    reset(&f->rec);
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_OFFER, .sdp = "garbage"});
    assert_string_equal(field(got(&f->rec, 3, "error"), "code"), "bad-message");
    /* A refused offer may be corrected and sent again (it was never accepted). */
    f->rec.offer_rc = 0;
    reset(&f->rec);
    int before = f->rec.offers;
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_OFFER, .sdp = "v=0 corrected"});
    assert_null(got(&f->rec, 3, "error"));
    assert_int_equal(f->rec.offers, before + 1);
    done(f);
}

/* PROTOCOL.md "mute — someone's mute state changed", kind "screen": a screen share starting and
 * stopping reaches everyone (a stopped share sends no RTP, so only signaling can say so), a late
 * joiner learns it from welcome, and a host can stop someone else's share. */
static void test_screen_share_state(void **state)
{
    (void)state;
    fx_t *f = make(0, 10, 1);
    ovl_room_join(f->room, 1, OVL_ROLE_HOST, "Ann");
    ovl_room_join(f->room, 2, OVL_ROLE_GUEST, "Bob");
    reset(&f->rec);
    /* Nobody shares at first. */
    ovl_room_join(f->room, 3, OVL_ROLE_GUEST, "Cy");
    json_t *parts = json_object_get(got(&f->rec, 3, "welcome"), "participants");
    assert_true(json_is_false(json_object_get(json_array_get(parts, 1), "sharing")));
    /* Bob starts sharing: everyone hears it. */
    reset(&f->rec);
    handle(f, 2, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_SCREEN, .muted = 0});
    assert_int_equal(count_type(&f->rec, "mute"), 3);
    json_t *m = got(&f->rec, 3, "mute");
    assert_string_equal(field(m, "participant"), "p2");
    assert_string_equal(field(m, "kind"), "screen");
    assert_true(json_is_false(json_object_get(m, "muted")));
    assert_null(json_object_get(m, "by"));
    /* A late joiner sees Bob sharing in welcome; Bob's other states are untouched. */
    reset(&f->rec);
    ovl_room_join(f->room, 4, OVL_ROLE_GUEST, "Dee");
    parts = json_object_get(got(&f->rec, 4, "welcome"), "participants");
    json_t *bob = json_array_get(parts, 1);
    assert_string_equal(field(bob, "name"), "Bob");
    assert_true(json_is_true(json_object_get(bob, "sharing")));
    assert_true(json_is_false(json_object_get(bob, "video_muted")));
    /* A guest cannot stop someone else's share; a host can, and it says who. */
    reset(&f->rec);
    handle(f, 3, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_SCREEN, .muted = 1, .participant = "p2"});
    assert_string_equal(field(got(&f->rec, 3, "error"), "code"), "forbidden");
    handle(f, 1, (ovl_msg_t){.type = OVL_MSG_MUTE, .kind = OVL_KIND_SCREEN, .muted = 1, .participant = "p2"});
    m = got(&f->rec, 2, "mute");
    assert_string_equal(field(m, "kind"), "screen");
    assert_string_equal(field(m, "by"), "p1");
    assert_true(json_is_true(json_object_get(m, "muted")));
    reset(&f->rec);
    ovl_room_join(f->room, 5, OVL_ROLE_GUEST, "Eli");
    parts = json_object_get(got(&f->rec, 5, "welcome"), "participants");
    assert_true(json_is_false(json_object_get(json_array_get(parts, 1), "sharing")));
    done(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_welcome_and_joined),        cmocka_unit_test(test_leave_tells_others),
        cmocka_unit_test(test_lobby_wait_admit_deny),          cmocka_unit_test(test_host_mute_remove_lock_end),
        cmocka_unit_test(test_chat_fan_out_and_limits),        cmocka_unit_test(test_participant_limit_and_names),
        cmocka_unit_test(test_revoke_ends_for_everyone),       cmocka_unit_test(test_media_unavailable_without_port),
        cmocka_unit_test(test_negotiation_through_media_port), cmocka_unit_test(test_screen_share_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
