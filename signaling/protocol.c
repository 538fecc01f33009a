/* JSON <-> message structs for the signaling protocol. See protocol.h and PROTOCOL.md. */
#include "signaling/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/base.h"

static const char *const msg_names[OVL_MSG_COUNT] = {
    [OVL_MSG_JOIN] = "join",     [OVL_MSG_OFFER] = "offer",
    [OVL_MSG_ANSWER] = "answer", [OVL_MSG_ICE_RESTART] = "ice-restart",
    [OVL_MSG_MUTE] = "mute",     [OVL_MSG_CHAT] = "chat",
    [OVL_MSG_LEAVE] = "leave",   [OVL_MSG_PING] = "ping",
    [OVL_MSG_ADMIT] = "admit",   [OVL_MSG_DENY] = "deny",
    [OVL_MSG_REMOVE] = "remove", [OVL_MSG_LOCK] = "lock",
    [OVL_MSG_END] = "end",       [OVL_MSG_RECEIVE] = "receive",
};

static const char *const out_names[OVL_OUT_COUNT] = {
    [OVL_OUT_WELCOME] = "welcome",
    [OVL_OUT_LOBBY_WAIT] = "lobby-wait",
    [OVL_OUT_LOBBY] = "lobby",
    [OVL_OUT_PARTICIPANT_JOINED] = "participant-joined",
    [OVL_OUT_PARTICIPANT_LEFT] = "participant-left",
    [OVL_OUT_MUTE] = "mute",
    [OVL_OUT_CHAT] = "chat",
    [OVL_OUT_LOCKED] = "locked",
    [OVL_OUT_END] = "end",
    [OVL_OUT_PONG] = "pong",
    [OVL_OUT_OFFER] = "offer",
    [OVL_OUT_ANSWER] = "answer",
    [OVL_OUT_ACTIVE_SPEAKER] = "active-speaker",
    [OVL_OUT_ERROR] = "error",
};

static const struct {
    const char *name, *message;
} ecodes[OVL_E_COUNT] = {
    [OVL_E_NONE] = {"none", "No error."},
    [OVL_E_BAD_JSON] = {"bad-json", "The message is not valid JSON; send one JSON object per frame."},
    [OVL_E_BAD_MESSAGE] = {"bad-message", "A field is missing, has the wrong type or is too long."},
    [OVL_E_UNKNOWN_TYPE] = {"unknown-type", "Unknown message type; see PROTOCOL.md for the list."},
    [OVL_E_TOO_LARGE] = {"too-large", "The frame is larger than the server accepts."},
    [OVL_E_RATE_LIMITED] = {"rate-limited", "Too many messages; slow down or the connection is closed."},
    [OVL_E_NOT_JOINED] = {"not-joined", "Send join first."},
    [OVL_E_ALREADY_JOINED] = {"already-joined", "This connection has already joined a meeting."},
    [OVL_E_MEETING_NOT_FOUND] = {"meeting-not-found", "There is no such meeting; check the link."},
    [OVL_E_MEETING_FULL] = {"meeting-full", "The meeting is full; try again later."},
    [OVL_E_MEETING_LOCKED] = {"meeting-locked", "The host has locked the meeting."},
    [OVL_E_MEETING_ENDED] = {"meeting-ended", "The meeting has ended."},
    [OVL_E_MEETING_REVOKED] = {"meeting-revoked", "This meeting link has been revoked; ask for a new one."},
    [OVL_E_MEETING_EXPIRED] = {"meeting-expired", "This meeting has expired; ask for a new link."},
    [OVL_E_TOKEN_INVALID] = {"token-invalid", "The link is not valid; check that it was copied whole."},
    [OVL_E_TOKEN_EXPIRED] = {"token-expired", "The link has expired; ask for a new one."},
    [OVL_E_TOKEN_WRONG_MEETING] = {"token-wrong-meeting", "The link belongs to another meeting."},
    [OVL_E_FORBIDDEN] = {"forbidden", "Only a host can do that."},
    [OVL_E_NO_SUCH_PARTICIPANT] = {"no-such-participant", "No such participant in this meeting."},
    [OVL_E_TEXT_TOO_LONG] = {"text-too-long", "The chat message is empty or too long."},
    [OVL_E_NAME_INVALID] = {"name-invalid", "Give a display name (1 to 64 characters, no control characters)."},
    [OVL_E_MEDIA_UNAVAILABLE] = {"media-unavailable", "Audio and video are not available on this server yet."},
    [OVL_E_NEGOTIATION] = {"negotiation-state", "Not expected now: the relay makes every offer after the first."},
    [OVL_E_TOO_MANY_CONNECTIONS] = {"too-many-connections", "Too many connections from your address."},
    [OVL_E_DRAINING] = {"draining", "The server is shutting down; reconnect in a moment."},
    [OVL_E_JOIN_TIMEOUT] = {"join-timeout", "No join arrived in time; the connection is closed."},
    [OVL_E_INTERNAL] = {"internal", "Something went wrong on the server; try again."},
};

const char *ovl_msg_type_name(ovl_msg_type_t type)
{
    return (unsigned)type < OVL_MSG_COUNT ? msg_names[type] : NULL;
}

const char *ovl_out_type_name(ovl_out_type_t type)
{
    return (unsigned)type < OVL_OUT_COUNT ? out_names[type] : NULL;
}

const char *ovl_ecode_name(ovl_ecode_t code)
{
    return (unsigned)code < OVL_E_COUNT ? ecodes[code].name : "internal";
}

const char *ovl_ecode_message(ovl_ecode_t code)
{
    return (unsigned)code < OVL_E_COUNT ? ecodes[code].message : ecodes[OVL_E_INTERNAL].message;
}

const char *ovl_media_kind_name(ovl_media_kind_t kind)
{
    return kind == OVL_KIND_SCREEN ? "screen" : kind == OVL_KIND_VIDEO ? "video" : "audio";
}

/* ---- parsing: one table row per field a message type reads ---- */

typedef enum { F_STR, F_BOOL, F_KIND } field_kind_t;

typedef struct field_spec {
    ovl_msg_type_t type;
    const char *name;
    field_kind_t kind;
    int required;
    size_t max; /* bytes, strings only */
    size_t offset;
} field_spec_t;

#define S(t, n, req, max, member)                                                                                      \
    {                                                                                                                  \
        t, n, F_STR, req, max, offsetof(ovl_msg_t, member)                                                             \
    }

static const field_spec_t fields[] = {
    S(OVL_MSG_JOIN, "meeting", 1, OVL_PROTO_MEETING_MAX, meeting),
    S(OVL_MSG_JOIN, "token", 1, OVL_TOKEN_MAX_LEN, token),
    S(OVL_MSG_JOIN, "name", 0, OVL_PROTO_NAME_MAX, name),
    S(OVL_MSG_OFFER, "sdp", 1, OVL_PROTO_SDP_MAX, sdp),
    S(OVL_MSG_ANSWER, "sdp", 1, OVL_PROTO_SDP_MAX, sdp),
    {OVL_MSG_MUTE, "kind", F_KIND, 1, 0, offsetof(ovl_msg_t, kind)},
    {OVL_MSG_MUTE, "muted", F_BOOL, 1, 0, offsetof(ovl_msg_t, muted)},
    S(OVL_MSG_MUTE, "participant", 0, OVL_PROTO_PARTICIPANT_MAX, participant),
    S(OVL_MSG_CHAT, "text", 1, OVL_PROTO_TEXT_MAX, text),
    S(OVL_MSG_ADMIT, "participant", 1, OVL_PROTO_PARTICIPANT_MAX, participant),
    S(OVL_MSG_DENY, "participant", 1, OVL_PROTO_PARTICIPANT_MAX, participant),
    S(OVL_MSG_REMOVE, "participant", 1, OVL_PROTO_PARTICIPANT_MAX, participant),
    {OVL_MSG_LOCK, "locked", F_BOOL, 1, 0, offsetof(ovl_msg_t, locked)},
    {OVL_MSG_RECEIVE, "video", F_BOOL, 1, 0, offsetof(ovl_msg_t, video)},
};

static int refuse(ovl_proto_error_t *err, ovl_ecode_t code, const char *field)
{
    err->code = code;
    if (field)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return OVL_ERR_PARSE;
}

static int read_field(const field_spec_t *f, json_t *v, ovl_msg_t *msg, ovl_proto_error_t *err)
{
    char *dst = (char *)msg + f->offset;
    if (!v || json_is_null(v))
        return f->required ? refuse(err, OVL_E_BAD_MESSAGE, f->name) : 0;
    switch (f->kind) {
    case F_STR: {
        if (!json_is_string(v) || json_string_length(v) > f->max)
            return refuse(err, OVL_E_BAD_MESSAGE, f->name);
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (memchr(s, '\0', n))
            return refuse(err, OVL_E_BAD_MESSAGE, f->name);
        char *copy = malloc(n + 1);
        if (!copy)
            return refuse(err, OVL_E_INTERNAL, NULL);
        memcpy(copy, s, n + 1);
        *(char **)dst = copy;
        return 0;
    }
    case F_BOOL:
        if (!json_is_boolean(v))
            return refuse(err, OVL_E_BAD_MESSAGE, f->name);
        *(int *)dst = json_is_true(v);
        return 0;
    case F_KIND: {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "audio") == 0)
            *(ovl_media_kind_t *)dst = OVL_KIND_AUDIO;
        else if (s && strcmp(s, "video") == 0)
            *(ovl_media_kind_t *)dst = OVL_KIND_VIDEO;
        else if (s && strcmp(s, "screen") == 0)
            *(ovl_media_kind_t *)dst = OVL_KIND_SCREEN;
        else
            return refuse(err, OVL_E_BAD_MESSAGE, f->name);
        return 0;
    }
    }
    return refuse(err, OVL_E_INTERNAL, NULL);
}

int ovl_proto_parse(const char *data, size_t len, ovl_msg_t *msg, ovl_proto_error_t *err)
{
    json_error_t jerr;
    json_t *root = NULL, *type;
    int ret = OVL_ERR_PARSE;
    size_t t;

    memset(msg, 0, sizeof(*msg));
    memset(err, 0, sizeof(*err));
    /* Depth and size are bounded by the frame limit; jansson rejects invalid UTF-8 and NUL. */
    if (!(root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(root)) {
        refuse(err, OVL_E_BAD_JSON, NULL);
        goto Exit;
    }
    type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        refuse(err, OVL_E_BAD_MESSAGE, "type");
        goto Exit;
    }
    snprintf(err->type, sizeof(err->type), "%s", json_string_value(type));
    for (t = 0; t < OVL_MSG_COUNT; t++)
        if (strcmp(msg_names[t], json_string_value(type)) == 0)
            break;
    if (t == OVL_MSG_COUNT) {
        refuse(err, OVL_E_UNKNOWN_TYPE, "type");
        goto Exit;
    }
    msg->type = (ovl_msg_type_t)t;
    for (size_t i = 0; i < OVL_ARRAY_LEN(fields); i++)
        if (fields[i].type == msg->type && read_field(&fields[i], json_object_get(root, fields[i].name), msg, err))
            goto Exit;
    ret = 0;
Exit:
    if (ret != 0)
        ovl_msg_dispose(msg);
    json_decref(root);
    return ret;
}

void ovl_msg_dispose(ovl_msg_t *msg)
{
    free(msg->meeting);
    free(msg->token);
    free(msg->name);
    free(msg->sdp);
    free(msg->text);
    free(msg->participant);
    memset(msg, 0, sizeof(*msg));
}

/* ---- encoding ---- */

static json_t *peer_json(const ovl_peer_info_t *p)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", p->id ? p->id : "", "name", p->name ? p->name : "", "role",
                     ovl_role_name(p->role), "audio_muted", p->audio_muted, "video_muted", p->video_muted, "sharing",
                     p->sharing);
}

static json_t *peers_json(const ovl_peer_info_t *peers, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, peer_json(&peers[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

json_t *ovl_proto_encode(const ovl_out_t *m)
{
    json_t *o = json_object();
    int bad = !o || (unsigned)m->type >= OVL_OUT_COUNT;

    if (bad)
        goto Exit;
    bad |= json_object_set_new(o, "type", json_string(out_names[m->type]));
    switch (m->type) {
    case OVL_OUT_WELCOME:
        bad |= set_str(o, "you", m->you);
        bad |= json_object_set_new(o, "role", json_string(ovl_role_name(m->role)));
        bad |= json_object_set_new(
            o, "meeting",
            json_pack("{s:s, s:s}", "id", m->meeting_id ? m->meeting_id : "", "title", m->title ? m->title : ""));
        bad |= json_object_set_new(o, "locked", json_boolean(m->locked));
        bad |= json_object_set_new(o, "participants", peers_json(m->peers, m->peer_count));
        if (m->role == OVL_ROLE_HOST)
            bad |= json_object_set_new(o, "waiting", peers_json(m->waiting, m->waiting_count));
        bad |= json_object_set_new(o, "turn", json_array());
        break;
    case OVL_OUT_LOBBY_WAIT:
        bad |= set_str(o, "you", m->you);
        break;
    case OVL_OUT_LOBBY:
        bad |= json_object_set_new(o, "waiting", peers_json(m->peers, m->peer_count));
        break;
    case OVL_OUT_PARTICIPANT_JOINED:
        bad |= json_object_set_new(o, "participant", peer_json(&m->peer));
        break;
    case OVL_OUT_PARTICIPANT_LEFT:
        bad |= set_str(o, "participant", m->participant);
        bad |= set_str(o, "reason", m->reason);
        break;
    case OVL_OUT_MUTE:
        bad |= set_str(o, "participant", m->participant);
        bad |= json_object_set_new(o, "kind", json_string(ovl_media_kind_name(m->kind)));
        bad |= json_object_set_new(o, "muted", json_boolean(m->muted));
        bad |= set_str(o, "by", m->by);
        break;
    case OVL_OUT_CHAT:
        bad |= set_str(o, "from", m->participant);
        bad |= set_str(o, "name", m->name);
        bad |= set_str(o, "text", m->text);
        break;
    case OVL_OUT_LOCKED:
        bad |= json_object_set_new(o, "locked", json_boolean(m->locked));
        break;
    case OVL_OUT_END:
        bad |= set_str(o, "reason", m->reason);
        break;
    case OVL_OUT_OFFER:
    case OVL_OUT_ANSWER:
        bad |= set_str(o, "sdp", m->sdp);
        break;
    case OVL_OUT_ACTIVE_SPEAKER:
        bad |= set_str(o, "participant", m->participant);
        break;
    case OVL_OUT_ERROR:
        bad |= json_object_set_new(o, "code", json_string(ovl_ecode_name(m->code)));
        bad |= json_object_set_new(o, "message", json_string(m->message ? m->message : ovl_ecode_message(m->code)));
        bad |= set_str(o, "ref", m->ref);
        break;
    case OVL_OUT_PONG:
    case OVL_OUT_COUNT:
        break;
    }
Exit:
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *ovl_proto_dump(const json_t *json)
{
    return json_dumps(json, JSON_COMPACT);
}
