/* One meeting's participants and lobby: a sans-IO state machine. See room.h. */
#include "signaling/room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/base.h"

typedef struct participant {
    uint64_t conn;
    char id[16];
    char name[OVL_PROTO_NAME_MAX + 1];
    ovl_role_t role;
    int admitted; /* 0: waiting in the lobby */
    int audio_muted, video_muted;
    int sharing; /* announced a screen share (mute kind screen, muted false) */
    int offered; /* the client's first offer went to the relay */
} participant_t;

struct ovl_room {
    ovl_meeting_t meeting;
    ovl_room_limits_t limits;
    const ovl_media_port_t *media; /* borrowed, may be NULL */
    ovl_room_io_t io;
    participant_t **parts; /* owned; admitted and waiting, in arrival order */
    size_t count, cap;
    uint32_t next_id;
    int locked;
    int ended;
};

size_t ovl_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

int ovl_room_new(const ovl_meeting_t *meeting, const ovl_room_limits_t *limits, const ovl_media_port_t *media,
                 const ovl_room_io_t *io, ovl_room_t **out)
{
    ovl_room_t *r;
    *out = NULL;
    if (!meeting || !limits || !io || !io->emit || !io->close || limits->max_participants == 0)
        return OVL_ERR_ARG;
    if (!(r = calloc(1, sizeof(*r))))
        return OVL_ERR_NOMEM;
    r->meeting = *meeting;
    r->limits = *limits;
    r->media = media;
    r->io = *io;
    *out = r;
    return 0;
}

void ovl_room_free(ovl_room_t *room)
{
    if (!room)
        return;
    for (size_t i = 0; i < room->count; i++)
        free(room->parts[i]);
    free(room->parts);
    free(room);
}

const char *ovl_room_meeting_id(const ovl_room_t *room)
{
    return room->meeting.id;
}

static participant_t *by_conn(const ovl_room_t *r, uint64_t conn)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->parts[i]->conn == conn)
            return r->parts[i];
    return NULL;
}

static participant_t *by_id(const ovl_room_t *r, const char *id)
{
    for (size_t i = 0; id && i < r->count; i++)
        if (strcmp(r->parts[i]->id, id) == 0)
            return r->parts[i];
    return NULL;
}

int ovl_room_has(const ovl_room_t *room, uint64_t conn)
{
    return by_conn(room, conn) != NULL;
}

static size_t count_where(const ovl_room_t *r, int admitted)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->parts[i]->admitted == admitted;
    return n;
}

size_t ovl_room_admitted(const ovl_room_t *room)
{
    return count_where(room, 1);
}

size_t ovl_room_waiting(const ovl_room_t *room)
{
    return count_where(room, 0);
}

static ovl_peer_info_t info_of(const participant_t *p)
{
    ovl_peer_info_t i = {p->id, p->name, p->role, p->audio_muted, p->video_muted, p->sharing};
    return i;
}

static void emit(ovl_room_t *r, uint64_t conn, const ovl_out_t *m)
{
    r->io.emit(r->io.ud, conn, m);
}

static void emit_error(ovl_room_t *r, uint64_t conn, ovl_ecode_t code, const char *ref)
{
    ovl_out_t m = {.type = OVL_OUT_ERROR, .code = code, .ref = ref};
    emit(r, conn, &m);
}

/* Sends `m` to every admitted participant except `skip` (0: nobody skipped). */
static void broadcast(ovl_room_t *r, const ovl_out_t *m, const participant_t *skip)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->parts[i]->admitted && r->parts[i] != skip)
            emit(r, r->parts[i]->conn, m);
}

/* Fills `out` (capacity r->count) with the participants admitted == `admitted`, minus `skip`. */
static size_t collect(const ovl_room_t *r, int admitted, const participant_t *skip, ovl_peer_info_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->parts[i]->admitted == admitted && r->parts[i] != skip)
            out[n++] = info_of(r->parts[i]);
    return n;
}

/* `lobby {waiting}` to every admitted host. */
static void lobby_update(ovl_room_t *r)
{
    ovl_peer_info_t *waiting = calloc(r->count + 1, sizeof(*waiting));
    ovl_out_t m = {.type = OVL_OUT_LOBBY};
    if (!waiting)
        return;
    m.peers = waiting;
    m.peer_count = collect(r, 0, NULL, waiting);
    for (size_t i = 0; i < r->count; i++)
        if (r->parts[i]->admitted && r->parts[i]->role == OVL_ROLE_HOST)
            emit(r, r->parts[i]->conn, &m);
    free(waiting);
}

/* Takes `p` out of the table (does not free it). */
static void unlink_part(ovl_room_t *r, participant_t *p)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->parts[i] == p) {
            memmove(&r->parts[i], &r->parts[i + 1], (r->count - i - 1) * sizeof(r->parts[0]));
            r->count--;
            return;
        }
}

/* Admission: welcome to `p`, participant-joined to the others, the media plane is told. */
static void admit(ovl_room_t *r, participant_t *p)
{
    ovl_peer_info_t *others = calloc(r->count + 1, sizeof(*others));
    ovl_peer_info_t *waiting = calloc(r->count + 1, sizeof(*waiting));
    ovl_out_t w = {.type = OVL_OUT_WELCOME,
                   .you = p->id,
                   .role = p->role,
                   .meeting_id = r->meeting.id,
                   .title = r->meeting.title,
                   .locked = r->locked};
    ovl_out_t j = {.type = OVL_OUT_PARTICIPANT_JOINED};

    p->admitted = 1;
    if (others && waiting) {
        w.peers = others;
        w.peer_count = collect(r, 1, p, others);
        w.waiting = waiting;
        w.waiting_count = collect(r, 0, NULL, waiting);
        emit(r, p->conn, &w);
    } else {
        emit_error(r, p->conn, OVL_E_INTERNAL, "join");
    }
    free(others);
    free(waiting);
    j.peer = info_of(p);
    broadcast(r, &j, p);
    if (r->media && r->media->participant_joined)
        r->media->participant_joined(r->media->ctx, r->meeting.id, p->conn, p->id);
}

static int name_ok(const ovl_room_t *r, const char *name)
{
    size_t chars = ovl_utf8_chars(name);
    int visible = 0;
    if (chars == 0 || chars > r->limits.max_name_chars)
        return 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return 0;
        if (*c != ' ')
            visible = 1;
    }
    return visible;
}

static int refuse_join(ovl_room_t *r, uint64_t conn, ovl_ecode_t code, int close_code, int ret)
{
    emit_error(r, conn, code, "join");
    r->io.close(r->io.ud, conn, close_code, ovl_ecode_name(code));
    return ret;
}

int ovl_room_join(ovl_room_t *room, uint64_t conn, ovl_role_t role, const char *name)
{
    ovl_room_t *r = room;
    participant_t *p;
    int waits = r->meeting.lobby && role != OVL_ROLE_HOST;

    if (r->ended)
        return refuse_join(r, conn, OVL_E_MEETING_ENDED, OVL_CLOSE_NORMAL, OVL_ERR_STATE);
    if (by_conn(r, conn))
        return refuse_join(r, conn, OVL_E_ALREADY_JOINED, OVL_CLOSE_POLICY, OVL_ERR_STATE);
    if (!name || !name_ok(r, name))
        return refuse_join(r, conn, OVL_E_NAME_INVALID, OVL_CLOSE_POLICY, OVL_ERR_ARG);
    if (r->locked && role != OVL_ROLE_HOST)
        return refuse_join(r, conn, OVL_E_MEETING_LOCKED, OVL_CLOSE_NORMAL, OVL_ERR_STATE);
    if ((waits ? ovl_room_waiting(r) : ovl_room_admitted(r)) >= r->limits.max_participants)
        return refuse_join(r, conn, OVL_E_MEETING_FULL, OVL_CLOSE_TRY_AGAIN, OVL_ERR_LIMIT);
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        participant_t **grown = realloc(r->parts, cap * sizeof(*grown));
        if (!grown)
            return refuse_join(r, conn, OVL_E_INTERNAL, OVL_CLOSE_TRY_AGAIN, OVL_ERR_NOMEM);
        r->parts = grown;
        r->cap = cap;
    }
    if (!(p = calloc(1, sizeof(*p))))
        return refuse_join(r, conn, OVL_E_INTERNAL, OVL_CLOSE_TRY_AGAIN, OVL_ERR_NOMEM);
    p->conn = conn;
    p->role = role;
    snprintf(p->id, sizeof(p->id), "p%u", ++r->next_id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    r->parts[r->count++] = p;
    if (waits) {
        ovl_out_t m = {.type = OVL_OUT_LOBBY_WAIT, .you = p->id};
        emit(r, conn, &m);
        lobby_update(r);
    } else {
        admit(r, p);
    }
    return 0;
}

/* Removes `p`: participant-left to the others (or a lobby update), media told; frees `p`. */
static void drop(ovl_room_t *r, participant_t *p, const char *reason)
{
    int was_admitted = p->admitted;
    unlink_part(r, p);
    if (was_admitted) {
        ovl_out_t m = {.type = OVL_OUT_PARTICIPANT_LEFT, .participant = p->id, .reason = reason};
        broadcast(r, &m, NULL);
        if (r->media && r->media->participant_left)
            r->media->participant_left(r->media->ctx, p->conn);
    } else {
        lobby_update(r);
    }
    free(p);
}

/* Tells `p` its session is over (end {reason}), orders the close, then drops it. */
static void expel(ovl_room_t *r, participant_t *p, const char *reason, int close_code)
{
    ovl_out_t m = {.type = OVL_OUT_END, .reason = reason};
    uint64_t conn = p->conn;
    emit(r, conn, &m);
    drop(r, p, reason);
    r->io.close(r->io.ud, conn, close_code, reason);
}

void ovl_room_leave(ovl_room_t *room, uint64_t conn, const char *reason)
{
    participant_t *p = by_conn(room, conn);
    if (p)
        drop(room, p, reason ? reason : "left");
}

void ovl_room_end(ovl_room_t *room, const char *reason, int close_code)
{
    ovl_out_t m = {.type = OVL_OUT_END, .reason = reason};
    room->ended = 1;
    /* Tell everyone first, then close, so nobody sees a participant-left storm. */
    while (room->count > 0) {
        participant_t *p = room->parts[room->count - 1];
        room->count--;
        emit(room, p->conn, &m);
        if (p->admitted && room->media && room->media->participant_left)
            room->media->participant_left(room->media->ctx, p->conn);
        room->io.close(room->io.ud, p->conn, close_code, reason);
        free(p);
    }
    if (room->media && room->media->meeting_ended)
        room->media->meeting_ended(room->media->ctx, room->meeting.id);
}

static void handle_mute(ovl_room_t *r, participant_t *p, const ovl_msg_t *msg)
{
    participant_t *target = p;
    ovl_out_t m = {.type = OVL_OUT_MUTE, .kind = msg->kind, .muted = msg->muted};

    if (msg->participant && strcmp(msg->participant, p->id) != 0) {
        /* Muting someone else is a host's right; unmuting someone else is nobody's. */
        if (p->role != OVL_ROLE_HOST || !msg->muted) {
            emit_error(r, p->conn, OVL_E_FORBIDDEN, "mute");
            return;
        }
        if (!(target = by_id(r, msg->participant)) || !target->admitted) {
            emit_error(r, p->conn, OVL_E_NO_SUCH_PARTICIPANT, "mute");
            return;
        }
        m.by = p->id;
    }
    if (msg->kind == OVL_KIND_AUDIO)
        target->audio_muted = msg->muted;
    else if (msg->kind == OVL_KIND_VIDEO)
        target->video_muted = msg->muted;
    else
        target->sharing = !msg->muted; /* a host's mute stops someone's share; their client obeys */
    m.participant = target->id;
    broadcast(r, &m, NULL);
}

static void handle_chat(ovl_room_t *r, participant_t *p, const ovl_msg_t *msg)
{
    size_t chars = ovl_utf8_chars(msg->text);
    ovl_out_t m = {.type = OVL_OUT_CHAT, .participant = p->id, .name = p->name, .text = msg->text};
    if (chars == 0 || chars > r->limits.max_chat_chars) {
        emit_error(r, p->conn, OVL_E_TEXT_TOO_LONG, "chat");
        return;
    }
    broadcast(r, &m, NULL);
}

/* admit / deny / remove: a host acting on another participant. */
static void handle_host_target(ovl_room_t *r, participant_t *p, const ovl_msg_t *msg)
{
    const char *ref = ovl_msg_type_name(msg->type);
    participant_t *t = by_id(r, msg->participant);
    int lobby_op = msg->type == OVL_MSG_ADMIT || msg->type == OVL_MSG_DENY;

    if (!t || (lobby_op && t->admitted) || t == p) {
        emit_error(r, p->conn, t == p ? OVL_E_FORBIDDEN : OVL_E_NO_SUCH_PARTICIPANT, ref);
        return;
    }
    if (msg->type == OVL_MSG_ADMIT) {
        if (ovl_room_admitted(r) >= r->limits.max_participants) {
            emit_error(r, p->conn, OVL_E_MEETING_FULL, ref);
            return;
        }
        admit(r, t);
        lobby_update(r);
    } else {
        expel(r, t, msg->type == OVL_MSG_DENY ? "denied" : "removed", OVL_CLOSE_NORMAL);
    }
}

static void handle_media(ovl_room_t *r, participant_t *p, const ovl_msg_t *msg)
{
    const char *ref = ovl_msg_type_name(msg->type);
    const ovl_media_port_t *mp = r->media;
    int rc = 0;

    if (!mp) {
        emit_error(r, p->conn, OVL_E_MEDIA_UNAVAILABLE, ref);
        return;
    }
    switch (msg->type) {
    case OVL_MSG_OFFER:
        /* Only the first offer comes from the client; afterwards the relay offers (no glare). */
        if (p->offered || !mp->client_offer) {
            emit_error(r, p->conn, OVL_E_NEGOTIATION, ref);
            return;
        }
        rc = mp->client_offer(mp->ctx, p->conn, msg->sdp);
        p->offered = rc == 0; /* a refused offer (bad SDP) may be corrected and sent again */
        break;
    case OVL_MSG_ANSWER:
        if (!p->offered || !mp->client_answer) {
            emit_error(r, p->conn, OVL_E_NEGOTIATION, ref);
            return;
        }
        rc = mp->client_answer(mp->ctx, p->conn, msg->sdp);
        break;
    default: /* ice-restart */
        if (!p->offered || !mp->ice_restart) {
            emit_error(r, p->conn, OVL_E_NEGOTIATION, ref);
            return;
        }
        rc = mp->ice_restart(mp->ctx, p->conn);
        break;
    }
    if (rc != 0)
        emit_error(r, p->conn, rc == OVL_ERR_PARSE ? OVL_E_BAD_MESSAGE : OVL_E_MEDIA_UNAVAILABLE, ref);
}

void ovl_room_handle(ovl_room_t *room, uint64_t conn, const ovl_msg_t *msg)
{
    ovl_room_t *r = room;
    participant_t *p = by_conn(r, conn);
    const char *ref = ovl_msg_type_name(msg->type);
    int host_only = msg->type == OVL_MSG_ADMIT || msg->type == OVL_MSG_DENY || msg->type == OVL_MSG_REMOVE ||
                    msg->type == OVL_MSG_LOCK || msg->type == OVL_MSG_END;

    if (!p)
        return;
    if (msg->type == OVL_MSG_LEAVE) {
        drop(r, p, "left");
        r->io.close(r->io.ud, conn, OVL_CLOSE_NORMAL, "left");
        return;
    }
    if (!p->admitted) {
        emit_error(r, conn, OVL_E_NOT_JOINED, ref); /* still in the lobby */
        return;
    }
    if (host_only && p->role != OVL_ROLE_HOST) {
        emit_error(r, conn, OVL_E_FORBIDDEN, ref);
        return;
    }
    switch (msg->type) {
    case OVL_MSG_MUTE:
        handle_mute(r, p, msg);
        break;
    case OVL_MSG_CHAT:
        handle_chat(r, p, msg);
        break;
    case OVL_MSG_ADMIT:
    case OVL_MSG_DENY:
    case OVL_MSG_REMOVE:
        handle_host_target(r, p, msg);
        break;
    case OVL_MSG_LOCK: {
        ovl_out_t m = {.type = OVL_OUT_LOCKED, .locked = msg->locked};
        r->locked = msg->locked;
        broadcast(r, &m, NULL);
        break;
    }
    case OVL_MSG_END:
        ovl_room_end(r, "ended", OVL_CLOSE_NORMAL);
        break;
    case OVL_MSG_OFFER:
    case OVL_MSG_ANSWER:
    case OVL_MSG_ICE_RESTART:
        handle_media(r, p, msg);
        break;
    case OVL_MSG_RECEIVE: /* a wish about what the relay forwards: no reply; nothing to do without media */
        if (r->media && r->media->receive && r->media->receive(r->media->ctx, p->conn, msg->video) != 0)
            emit_error(r, conn, OVL_E_MEDIA_UNAVAILABLE, ref);
        break;
    default: /* join and ping are the hub's */
        emit_error(r, conn, OVL_E_ALREADY_JOINED, ref);
        break;
    }
}

void ovl_room_media_event(ovl_room_t *room, const ovl_media_event_t *ev)
{
    participant_t *p = by_conn(room, ev->participant);
    ovl_out_t m = {.sdp = ev->sdp};

    if (!p || !p->admitted)
        return;
    switch (ev->type) {
    case OVL_MEDIA_EV_OFFER:
    case OVL_MEDIA_EV_ANSWER:
        m.type = ev->type == OVL_MEDIA_EV_OFFER ? OVL_OUT_OFFER : OVL_OUT_ANSWER;
        if (ev->sdp)
            emit(room, p->conn, &m);
        break;
    case OVL_MEDIA_EV_FAILED: {
        uint64_t conn = p->conn;
        ovl_out_t e = {.type = OVL_OUT_END, .reason = "media-failed"};
        emit(room, conn, &e);
        drop(room, p, "media-failed");
        room->io.close(room->io.ud, conn, OVL_CLOSE_NORMAL, "media-failed");
        break;
    }
    case OVL_MEDIA_EV_ACTIVE_SPEAKER:
        m.type = OVL_OUT_ACTIVE_SPEAKER;
        m.participant = p->id;
        broadcast(room, &m, NULL);
        break;
    }
}
