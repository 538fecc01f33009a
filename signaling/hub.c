/* Connections, rooms, join authentication and rate limits, sans-IO. See hub.h. */
#include "signaling/hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define BUCKETS 1024

typedef struct conn {
    uint64_t id;
    ovl_room_t *room; /* borrowed from the hub's list; NULL until joined (or after leaving) */
    ovl_time_t opened;
    uint64_t tokens_milli; /* token bucket, in thousandths of a message */
    ovl_time_t refilled;
    uint32_t refused_in_row;
    int closing; /* a close was ordered; ignore further frames */
    struct conn *next;
} conn_t;

typedef struct room_node {
    ovl_room_t *room; /* owned */
    struct room_node *next;
} room_node_t;

struct ovl_hub {
    ovl_hub_config_t cfg;
    ovl_hub_io_t io;
    conn_t *buckets[BUCKETS];
    size_t conn_count;
    room_node_t *rooms;
    int draining;
    int64_t wall; /* unix time of the frame being handled (TURN credential expiry) */
};

static conn_t **slot_of(ovl_hub_t *hub, uint64_t id)
{
    conn_t **s = &hub->buckets[id % BUCKETS];
    while (*s && (*s)->id != id)
        s = &(*s)->next;
    return s;
}

static conn_t *find_conn(ovl_hub_t *hub, uint64_t id)
{
    return *slot_of(hub, id);
}

/* ---- output: room messages become JSON text ---- */

json_t *ovl_hub_turn_json(const char *uris, const char *secret, const char *who, int64_t wall)
{
    json_t *arr = json_array(), *urls = json_array();
    char user[96], cred[64];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    if (!arr || !urls || !uris || !uris[0] || !secret || !secret[0]) {
        json_decref(urls);
        return arr;
    }
    for (const char *p = uris; *p;) {
        size_t n = strcspn(p, ",");
        while (n > 0 && *p == ' ')
            p++, n--;
        if (n > 0)
            json_array_append_new(urls, json_stringn(p, n));
        p += n;
        if (*p == ',')
            p++;
    }
    snprintf(user, sizeof(user), "%lld:%s", (long long)(wall + OVL_TURN_TTL), who);
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)user, strlen(user), mac, &mac_len);
    EVP_EncodeBlock((unsigned char *)cred, mac, (int)mac_len);
    json_array_append_new(arr, json_pack("{s:o, s:s, s:s}", "urls", urls, "username", user, "credential", cred));
    return arr;
}

static void send_out(ovl_hub_t *hub, uint64_t conn, const ovl_out_t *m)
{
    json_t *j = ovl_proto_encode(m);
    char *text;
    if (j && m->type == OVL_OUT_WELCOME && hub->cfg.turn_uris && hub->cfg.turn_uris[0])
        json_object_set_new(j, "turn", ovl_hub_turn_json(hub->cfg.turn_uris, hub->cfg.turn_secret, m->you, hub->wall));
    text = j ? ovl_proto_dump(j) : NULL;
    if (text) {
        hub->io.send(hub->io.ud, conn, text, strlen(text));
        if (hub->cfg.metrics) {
            hub->cfg.metrics->messages_out[m->type]++;
            if (m->type == OVL_OUT_ERROR)
                hub->cfg.metrics->errors[m->code]++;
            if (m->type == OVL_OUT_WELCOME)
                hub->cfg.metrics->joins++;
        }
    }
    free(text);
    json_decref(j);
}

static void send_error(ovl_hub_t *hub, uint64_t conn, ovl_ecode_t code, const char *ref)
{
    ovl_out_t m = {.type = OVL_OUT_ERROR, .code = code, .ref = ref};
    send_out(hub, conn, &m);
}

static void order_close(ovl_hub_t *hub, uint64_t id, int code, const char *reason)
{
    conn_t *c = find_conn(hub, id);
    if (c) {
        if (c->closing)
            return;
        c->room = NULL;
        c->closing = 1;
    }
    hub->io.close(hub->io.ud, id, code, reason);
}

static void room_emit(void *ud, uint64_t conn, const ovl_out_t *msg)
{
    send_out(ud, conn, msg);
}

static void room_close(void *ud, uint64_t conn, int code, const char *reason)
{
    order_close(ud, conn, code, reason);
}

/* ---- rooms ---- */

static ovl_room_t *find_room(ovl_hub_t *hub, const char *meeting_id)
{
    for (room_node_t *n = hub->rooms; n; n = n->next)
        if (strcmp(ovl_room_meeting_id(n->room), meeting_id) == 0)
            return n->room;
    return NULL;
}

/* Frees `room` if nobody is left in it; connections no longer point at it then. */
static void collect_room(ovl_hub_t *hub, ovl_room_t *room)
{
    if (!room || ovl_room_admitted(room) + ovl_room_waiting(room) > 0)
        return;
    for (room_node_t **n = &hub->rooms; *n; n = &(*n)->next)
        if ((*n)->room == room) {
            room_node_t *dead = *n;
            *n = dead->next;
            for (size_t b = 0; b < BUCKETS; b++)
                for (conn_t *c = hub->buckets[b]; c; c = c->next)
                    if (c->room == room)
                        c->room = NULL;
            ovl_room_free(dead->room);
            free(dead);
            return;
        }
}

int ovl_hub_new(const ovl_hub_config_t *cfg, const ovl_hub_io_t *io, ovl_hub_t **out)
{
    ovl_hub_t *hub;
    *out = NULL;
    if (!cfg || !io || !io->send || !io->close || !cfg->store || !cfg->secret || cfg->rate_per_second == 0 ||
        cfg->rate_burst == 0)
        return OVL_ERR_ARG;
    if (!(hub = calloc(1, sizeof(*hub))))
        return OVL_ERR_NOMEM;
    hub->cfg = *cfg;
    hub->io = *io;
    *out = hub;
    return 0;
}

void ovl_hub_free(ovl_hub_t *hub)
{
    if (!hub)
        return;
    for (size_t b = 0; b < BUCKETS; b++)
        while (hub->buckets[b]) {
            conn_t *c = hub->buckets[b];
            hub->buckets[b] = c->next;
            free(c);
        }
    while (hub->rooms) {
        room_node_t *n = hub->rooms;
        hub->rooms = n->next;
        ovl_room_free(n->room);
        free(n);
    }
    free(hub);
}

int ovl_hub_connect(ovl_hub_t *hub, uint64_t conn, ovl_time_t now)
{
    conn_t **slot = slot_of(hub, conn), *c;
    if (conn == 0 || *slot)
        return OVL_ERR_ARG;
    if (!(c = calloc(1, sizeof(*c))))
        return OVL_ERR_NOMEM;
    c->id = conn;
    c->opened = now;
    c->refilled = now;
    c->tokens_milli = (uint64_t)hub->cfg.rate_burst * 1000;
    *slot = c;
    hub->conn_count++;
    return 0;
}

void ovl_hub_disconnect(ovl_hub_t *hub, uint64_t conn)
{
    conn_t **slot = slot_of(hub, conn), *c = *slot;
    if (!c)
        return;
    *slot = c->next;
    hub->conn_count--;
    if (c->room) {
        ovl_room_t *room = c->room;
        ovl_room_leave(room, conn, "left");
        collect_room(hub, room);
    }
    free(c);
}

void ovl_hub_send_error(ovl_hub_t *hub, uint64_t conn, ovl_ecode_t code)
{
    send_error(hub, conn, code, NULL);
}

/* Token bucket: 1 for a frame that may pass, 0 for one to refuse. */
static int take_token(ovl_hub_t *hub, conn_t *c, ovl_time_t now)
{
    uint64_t cap = (uint64_t)hub->cfg.rate_burst * 1000;
    if (now > c->refilled) {
        uint64_t add = (now - c->refilled) * hub->cfg.rate_per_second / 1000;
        c->tokens_milli = c->tokens_milli + add > cap ? cap : c->tokens_milli + add;
        c->refilled = now;
    }
    if (c->tokens_milli < 1000)
        return 0;
    c->tokens_milli -= 1000;
    return 1;
}

static ovl_ecode_t token_ecode(ovl_token_status_t st)
{
    switch (st) {
    case OVL_TOKEN_EXPIRED:
        return OVL_E_TOKEN_EXPIRED;
    case OVL_TOKEN_WRONG_MEETING:
        return OVL_E_TOKEN_WRONG_MEETING;
    default:
        return OVL_E_TOKEN_INVALID;
    }
}

static void refuse_join(ovl_hub_t *hub, conn_t *c, ovl_ecode_t code, int close_code)
{
    send_error(hub, c->id, code, "join");
    if (hub->cfg.log)
        ovl_log_event(hub->cfg.log, OVL_LOG_INFO, "join-refused", "code", ovl_ecode_name(code), NULL);
    order_close(hub, c->id, close_code, ovl_ecode_name(code));
}

static void handle_join(ovl_hub_t *hub, conn_t *c, const ovl_msg_t *msg, int64_t wall)
{
    ovl_token_claims_t claims;
    ovl_token_status_t status;
    ovl_meeting_t meeting;
    ovl_room_t *room;
    const char *name;

    if (hub->draining)
        return refuse_join(hub, c, OVL_E_DRAINING, OVL_CLOSE_TRY_AGAIN);
    if (ovl_meeting_id_check(msg->meeting) != 0 || ovl_store_get(hub->cfg.store, msg->meeting, &meeting) != 0)
        return refuse_join(hub, c, OVL_E_MEETING_NOT_FOUND, OVL_CLOSE_POLICY);
    if (ovl_token_verify(hub->cfg.secret, hub->cfg.secret_len, msg->token, msg->meeting, wall, &claims, &status))
        return refuse_join(hub, c, token_ecode(status), OVL_CLOSE_POLICY);
    if (meeting.revoked)
        return refuse_join(hub, c, OVL_E_MEETING_REVOKED, OVL_CLOSE_POLICY);
    if (meeting.expires <= wall)
        return refuse_join(hub, c, OVL_E_MEETING_EXPIRED, OVL_CLOSE_POLICY);
    /* A name bound into the link wins over the one typed in the browser. */
    name = claims.name[0] ? claims.name : (msg->name ? msg->name : "");
    if (!(room = find_room(hub, meeting.id))) {
        room_node_t *node = calloc(1, sizeof(*node));
        ovl_room_io_t rio = {room_emit, room_close, hub};
        if (!node || ovl_room_new(&meeting, &hub->cfg.limits, hub->cfg.media, &rio, &node->room) != 0) {
            free(node);
            return refuse_join(hub, c, OVL_E_INTERNAL, OVL_CLOSE_TRY_AGAIN);
        }
        node->next = hub->rooms;
        hub->rooms = node;
        room = node->room;
    }
    if (ovl_room_join(room, c->id, claims.role, name) == 0) {
        c->room = room;
        if (hub->cfg.log)
            ovl_log_event(hub->cfg.log, OVL_LOG_INFO, "join", "meeting", meeting.id, "role", ovl_role_name(claims.role),
                          NULL);
    }
    collect_room(hub, room);
}

void ovl_hub_receive(ovl_hub_t *hub, uint64_t conn, const char *data, size_t len, int64_t wall, ovl_time_t now)
{
    conn_t *c = find_conn(hub, conn);
    ovl_proto_error_t perr;
    ovl_msg_t msg;

    if (!c || c->closing)
        return;
    hub->wall = wall;
    if (!take_token(hub, c, now)) {
        /* Tell once; a flood that goes on closes the connection. */
        if (c->refused_in_row++ == 0)
            send_error(hub, conn, OVL_E_RATE_LIMITED, NULL);
        if (c->refused_in_row >= hub->cfg.rate_burst) {
            ovl_room_t *room = c->room;
            if (room)
                ovl_room_leave(room, conn, "left");
            order_close(hub, conn, OVL_CLOSE_POLICY, "rate-limited");
            collect_room(hub, room);
        }
        return;
    }
    c->refused_in_row = 0;
    if (ovl_proto_parse(data, len, &msg, &perr) != 0) {
        ovl_out_t m = {.type = OVL_OUT_ERROR, .code = perr.code, .ref = perr.type[0] ? perr.type : NULL};
        char text[96];
        if (perr.field[0]) {
            snprintf(text, sizeof(text), "%s (field \"%s\")", ovl_ecode_message(perr.code), perr.field);
            m.message = text;
        }
        if (hub->cfg.metrics)
            hub->cfg.metrics->messages_in[OVL_MSG_COUNT]++;
        send_out(hub, conn, &m);
        return;
    }
    if (hub->cfg.metrics)
        hub->cfg.metrics->messages_in[msg.type]++;
    if (msg.type == OVL_MSG_PING) {
        ovl_out_t pong = {.type = OVL_OUT_PONG};
        send_out(hub, conn, &pong);
    } else if (msg.type == OVL_MSG_JOIN) {
        if (c->room)
            send_error(hub, conn, OVL_E_ALREADY_JOINED, "join");
        else
            handle_join(hub, c, &msg, wall);
    } else if (!c->room) {
        if (msg.type == OVL_MSG_LEAVE)
            order_close(hub, conn, OVL_CLOSE_NORMAL, "left");
        else
            send_error(hub, conn, OVL_E_NOT_JOINED, ovl_msg_type_name(msg.type));
    } else {
        ovl_room_t *room = c->room;
        ovl_room_handle(room, conn, &msg);
        collect_room(hub, room);
    }
    ovl_msg_dispose(&msg);
}

void ovl_hub_tick(ovl_hub_t *hub, ovl_time_t now)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (conn_t *c = hub->buckets[b]; c; c = c->next)
            if (!c->room && !c->closing && now >= c->opened + hub->cfg.join_timeout) {
                send_error(hub, c->id, OVL_E_JOIN_TIMEOUT, NULL);
                order_close(hub, c->id, OVL_CLOSE_POLICY, "join-timeout");
            }
}

/* Ends `room` with `reason` and frees it. */
static void end_room(ovl_hub_t *hub, ovl_room_t *room, const char *reason, int close_code)
{
    if (hub->cfg.log)
        ovl_log_event(hub->cfg.log, OVL_LOG_INFO, "meeting-end", "meeting", ovl_room_meeting_id(room), "reason", reason,
                      NULL);
    ovl_room_end(room, reason, close_code);
    collect_room(hub, room);
}

void ovl_hub_revalidate(ovl_hub_t *hub, int64_t wall)
{
    room_node_t *n = hub->rooms;
    while (n) {
        room_node_t *next = n->next; /* end_room frees n */
        ovl_meeting_t m;
        int rc = ovl_store_get(hub->cfg.store, ovl_room_meeting_id(n->room), &m);
        if (rc == OVL_ERR_NOTFOUND || (rc == 0 && m.revoked))
            end_room(hub, n->room, "revoked", OVL_CLOSE_NORMAL);
        else if (rc == 0 && m.expires <= wall)
            end_room(hub, n->room, "expired", OVL_CLOSE_NORMAL);
        n = next;
    }
}

void ovl_hub_drain(ovl_hub_t *hub)
{
    hub->draining = 1;
    while (hub->rooms)
        end_room(hub, hub->rooms->room, "shutdown", OVL_CLOSE_GOING_AWAY);
    for (size_t b = 0; b < BUCKETS; b++)
        for (conn_t *c = hub->buckets[b]; c; c = c->next)
            if (!c->closing) {
                send_error(hub, c->id, OVL_E_DRAINING, NULL);
                order_close(hub, c->id, OVL_CLOSE_GOING_AWAY, "shutdown");
            }
}

void ovl_hub_media_event(ovl_hub_t *hub, const ovl_media_event_t *ev)
{
    conn_t *c = find_conn(hub, ev->participant);
    ovl_room_t *room = c ? c->room : NULL;
    if (!room)
        return;
    ovl_room_media_event(room, ev);
    collect_room(hub, room);
}

void ovl_hub_counts(const ovl_hub_t *hub, size_t *rooms, size_t *admitted, size_t *waiting, size_t *conns)
{
    *rooms = *admitted = *waiting = 0;
    for (room_node_t *n = hub->rooms; n; n = n->next) {
        (*rooms)++;
        *admitted += ovl_room_admitted(n->room);
        *waiting += ovl_room_waiting(n->room);
    }
    *conns = hub->conn_count;
}
