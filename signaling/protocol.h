/*
 * The WebSocket JSON protocol (signaling/PROTOCOL.md): client messages parsed into ovl_msg_t with
 * strict validation (types, lengths; unknown fields ignored, unknown types refused), server
 * messages described by ovl_out_t and encoded with jansson. Also the stable error codes.
 */
#ifndef OVL_PROTOCOL_H
#define OVL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "signaling/token.h"

/* Hard caps of the parser (bytes); finer limits (chat characters, names) are the room's. */
#define OVL_PROTO_MEETING_MAX     64
#define OVL_PROTO_NAME_MAX        512
#define OVL_PROTO_TEXT_MAX        32768
#define OVL_PROTO_SDP_MAX         (1 << 20)
#define OVL_PROTO_PARTICIPANT_MAX 32

/* Client -> server message types. */
typedef enum {
    OVL_MSG_JOIN = 0,
    OVL_MSG_OFFER,
    OVL_MSG_ANSWER,
    OVL_MSG_ICE_RESTART,
    OVL_MSG_MUTE,
    OVL_MSG_CHAT,
    OVL_MSG_LEAVE,
    OVL_MSG_PING,
    OVL_MSG_ADMIT,
    OVL_MSG_DENY,
    OVL_MSG_REMOVE,
    OVL_MSG_LOCK,
    OVL_MSG_END,
    OVL_MSG_RECEIVE,
    OVL_MSG_COUNT
} ovl_msg_type_t;

/* Server -> client message types. */
typedef enum {
    OVL_OUT_WELCOME = 0,
    OVL_OUT_LOBBY_WAIT,
    OVL_OUT_LOBBY,
    OVL_OUT_PARTICIPANT_JOINED,
    OVL_OUT_PARTICIPANT_LEFT,
    OVL_OUT_MUTE,
    OVL_OUT_CHAT,
    OVL_OUT_LOCKED,
    OVL_OUT_END,
    OVL_OUT_PONG,
    OVL_OUT_OFFER,
    OVL_OUT_ANSWER,
    OVL_OUT_ACTIVE_SPEAKER,
    OVL_OUT_ERROR,
    OVL_OUT_COUNT
} ovl_out_type_t;

/* Stable error codes carried in `error {code}`. */
typedef enum {
    OVL_E_NONE = 0,
    OVL_E_BAD_JSON,
    OVL_E_BAD_MESSAGE,
    OVL_E_UNKNOWN_TYPE,
    OVL_E_TOO_LARGE,
    OVL_E_RATE_LIMITED,
    OVL_E_NOT_JOINED,
    OVL_E_ALREADY_JOINED,
    OVL_E_MEETING_NOT_FOUND,
    OVL_E_MEETING_FULL,
    OVL_E_MEETING_LOCKED,
    OVL_E_MEETING_ENDED,
    OVL_E_MEETING_REVOKED,
    OVL_E_MEETING_EXPIRED,
    OVL_E_TOKEN_INVALID,
    OVL_E_TOKEN_EXPIRED,
    OVL_E_TOKEN_WRONG_MEETING,
    OVL_E_FORBIDDEN,
    OVL_E_NO_SUCH_PARTICIPANT,
    OVL_E_TEXT_TOO_LONG,
    OVL_E_NAME_INVALID,
    OVL_E_MEDIA_UNAVAILABLE,
    OVL_E_NEGOTIATION,
    OVL_E_TOO_MANY_CONNECTIONS,
    OVL_E_DRAINING,
    OVL_E_JOIN_TIMEOUT,
    OVL_E_INTERNAL,
    OVL_E_COUNT
} ovl_ecode_t;

/* What a `mute` is about: the microphone, the camera, or the screen share (muted = not sharing). */
typedef enum { OVL_KIND_AUDIO = 0, OVL_KIND_VIDEO = 1, OVL_KIND_SCREEN = 2 } ovl_media_kind_t;

/* A parsed client message. Strings are owned (freed by ovl_msg_dispose); NULL when absent. */
typedef struct ovl_msg {
    ovl_msg_type_t type;
    char *meeting, *token, *name; /* join */
    char *sdp;                    /* offer, answer */
    char *text;                   /* chat */
    char *participant;            /* mute (optional target), admit, deny, remove */
    ovl_media_kind_t kind;        /* mute */
    int muted;                    /* mute */
    int locked;                   /* lock */
    int video;                    /* receive: camera video wanted */
} ovl_msg_t;

/* Why a message was refused: the code and, where it helps, the offending field and the type. */
typedef struct ovl_proto_error {
    ovl_ecode_t code;
    char field[32];
    char type[32];
} ovl_proto_error_t;

/* One participant as shown to others (borrowed strings). */
typedef struct ovl_peer_info {
    const char *id;
    const char *name;
    ovl_role_t role;
    int audio_muted, video_muted;
    int sharing; /* sending a screen share (wire: "sharing") */
} ovl_peer_info_t;

/* A server message; every pointer is borrowed for the duration of the call that receives it. */
typedef struct ovl_out {
    ovl_out_type_t type;
    const char *you;                /* welcome, lobby-wait */
    ovl_role_t role;                /* welcome */
    const char *meeting_id, *title; /* welcome */
    int locked;                     /* welcome, locked */
    const ovl_peer_info_t *peers;   /* welcome: participants; lobby: waiting */
    size_t peer_count;
    const ovl_peer_info_t *waiting; /* welcome (hosts only): the lobby */
    size_t waiting_count;
    ovl_peer_info_t peer;    /* participant-joined */
    const char *participant; /* participant-left, mute, chat (from), active-speaker */
    const char *name;        /* chat */
    const char *text;        /* chat */
    const char *reason;      /* participant-left, end */
    ovl_media_kind_t kind;   /* mute */
    int muted;               /* mute */
    const char *by;          /* mute (host who muted), optional */
    const char *sdp;         /* offer, answer */
    ovl_ecode_t code;        /* error */
    const char *message;     /* error: NULL = the code's default sentence */
    const char *ref;         /* error: the type of the refused message, optional */
} ovl_out_t;

/** Wire name of a client message type ("join"...), NULL when out of range. */
const char *ovl_msg_type_name(ovl_msg_type_t type);

/** Wire name of a server message type ("welcome"...), NULL when out of range. */
const char *ovl_out_type_name(ovl_out_type_t type);

/** Wire name of an error code ("bad-json"...), "internal" when out of range. */
const char *ovl_ecode_name(ovl_ecode_t code);

/** Default human sentence for an error code (what happened and what to do). */
const char *ovl_ecode_message(ovl_ecode_t code);

/** "audio" / "video" / "screen". */
const char *ovl_media_kind_name(ovl_media_kind_t kind);

/**
 * Parses one frame (`len` bytes, not NUL-terminated) into *msg (cleared on entry; dispose it on
 * success). Returns 0, or OVL_ERR_PARSE with *err saying why (bad-json, bad-message with the
 * field, unknown-type). On error nothing needs disposing.
 */
int ovl_proto_parse(const char *data, size_t len, ovl_msg_t *msg, ovl_proto_error_t *err);

/** Frees the strings of a parsed message; safe on a cleared one. */
void ovl_msg_dispose(ovl_msg_t *msg);

/** Encodes a server message as a new JSON object (caller json_decref's it); NULL on NOMEM. */
json_t *ovl_proto_encode(const ovl_out_t *out);

/** Compact text of `json` (malloc'd, caller frees); NULL on NOMEM. */
char *ovl_proto_dump(const json_t *json);

#endif
