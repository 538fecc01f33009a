/*
 * One meeting's participants: a sans-IO state machine. It takes parsed client messages for
 * connections that joined it and emits server messages (and "close this connection" orders)
 * through ovl_room_io_t. No sockets, no clock, no JSON: join/lobby/admit/deny/mute/remove/lock/
 * end/chat/leave/revoke and the limits are unit-testable on their own.
 *
 * A connection is named by the caller's 64-bit id; the room gives each participant a short public
 * id ("p1", "p2", ...) that other participants see. Once the room orders a close, it has already
 * forgotten the connection (a later ovl_room_leave for it does nothing).
 */
#ifndef OVL_ROOM_H
#define OVL_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/media_port.h"
#include "signaling/protocol.h"
#include "signaling/store.h"

typedef struct ovl_room ovl_room_t;

typedef struct ovl_room_limits {
    uint32_t max_participants; /* admitted at once; the lobby holds as many again */
    uint32_t max_chat_chars;   /* Unicode code points */
    uint32_t max_name_chars;   /* Unicode code points */
} ovl_room_limits_t;

/* WebSocket close codes the room asks for. */
#define OVL_CLOSE_NORMAL     1000
#define OVL_CLOSE_GOING_AWAY 1001
#define OVL_CLOSE_POLICY     1008
#define OVL_CLOSE_TOO_BIG    1009
#define OVL_CLOSE_TRY_AGAIN  1013

typedef struct ovl_room_io {
    /** Send `msg` to connection `conn` (everything in msg is borrowed for the call). */
    void (*emit)(void *ud, uint64_t conn, const ovl_out_t *msg);
    /** Close connection `conn` with a WebSocket close code; the room no longer knows it. */
    void (*close)(void *ud, uint64_t conn, int code, const char *reason);
    void *ud;
} ovl_room_io_t;

/**
 * Makes a room for `meeting` (copied). `media` may be NULL (no media plane: offers are refused
 * with media-unavailable); it and `io` are borrowed and must outlive the room.
 * 0, OVL_ERR_NOMEM or OVL_ERR_ARG.
 */
int ovl_room_new(const ovl_meeting_t *meeting, const ovl_room_limits_t *limits, const ovl_media_port_t *media,
                 const ovl_room_io_t *io, ovl_room_t **out);

/** Frees the room without emitting anything (call ovl_room_end first to tell people). NULL is fine. */
void ovl_room_free(ovl_room_t *room);

/** The meeting id the room was made for. */
const char *ovl_room_meeting_id(const ovl_room_t *room);

/**
 * Connection `conn` joins with `role` and display `name`. A host, or a guest when the lobby is
 * off, is admitted at once (welcome to it, participant-joined to the others); a guest with the
 * lobby on waits (lobby-wait to it, lobby to the hosts). On refusal (name-invalid, meeting-locked,
 * meeting-full, meeting-ended) the room emits the error, orders a close and returns OVL_ERR_STATE
 * or OVL_ERR_LIMIT.
 */
int ovl_room_join(ovl_room_t *room, uint64_t conn, ovl_role_t role, const char *name);

/**
 * A joined connection's message (everything but join and ping). Errors (forbidden,
 * no-such-participant, text-too-long, media-unavailable, ...) are emitted to `conn`.
 */
void ovl_room_handle(ovl_room_t *room, uint64_t conn, const ovl_msg_t *msg);

/** `conn` left (leave message, closed socket, media failure): tells the others. Unknown conn: nothing. */
void ovl_room_leave(ovl_room_t *room, uint64_t conn, const char *reason);

/**
 * Ends the meeting for everyone: `end {reason}` to each participant and waiting guest, a close
 * with `close_code` for each, meeting_ended to the media port. The room is empty afterwards.
 */
void ovl_room_end(ovl_room_t *room, const char *reason, int close_code);

/** An event from the media plane for a participant of this room (see media_port.h). */
void ovl_room_media_event(ovl_room_t *room, const ovl_media_event_t *ev);

/** 1 if `conn` is a participant or waiting in the lobby. */
int ovl_room_has(const ovl_room_t *room, uint64_t conn);

/** Participants admitted, and guests waiting. */
size_t ovl_room_admitted(const ovl_room_t *room);
size_t ovl_room_waiting(const ovl_room_t *room);

/** Counts Unicode code points of valid UTF-8 `s` (continuation bytes are not counted). */
size_t ovl_utf8_chars(const char *s);

#endif
