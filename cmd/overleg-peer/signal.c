/*
 * The peer's signaling thread: joins like the browser (signaling/PROTOCOL.md) and relays SDP and participant
 * news between the server and the media thread. It sleeps in lws's poll (ovl_wsclient_service) and is woken by
 * the server or by the media thread (ovl_wsclient_wakeup after each message it posts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/overleg-peer/peer.h"
#include "signaling/link.h"
#include "signaling/wsclient.h"

typedef struct sig {
    const ovl_peer_opts_t *o;
    ovl_wsclient_t *ws;
    ovl_peer_media_t *m;
    bool stopped, media_done;
} sig_t;

static const char *str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

static void post(sig_t *g, ovl_peer_msg_t *msg)
{
    if (ovl_peer_media_post(g->m, msg) != 0) {
        fprintf(stderr, "overleg-peer: the media thread is not keeping up; a message was lost\n");
        free(msg->sdp);
    }
}

static void stop(sig_t *g, int code, const char *reason)
{
    ovl_peer_msg_t msg = {.type = OVL_PEER_MSG_STOP, .code = code};
    if (g->stopped)
        return;
    g->stopped = true;
    snprintf(msg.reason, sizeof(msg.reason), "%s", reason);
    post(g, &msg);
}

static void post_participant(sig_t *g, const json_t *p)
{
    ovl_peer_msg_t msg = {.type = OVL_PEER_MSG_PARTICIPANT};
    snprintf(msg.id, sizeof(msg.id), "%s", str(p, "id"));
    snprintf(msg.name, sizeof(msg.name), "%s", str(p, "name"));
    if (msg.id[0])
        post(g, &msg);
}

static void post_sdp(sig_t *g, ovl_peer_msg_type_t type, const json_t *j)
{
    ovl_peer_msg_t msg = {.type = type, .sdp = strdup(str(j, "sdp"))};
    if (msg.sdp)
        post(g, &msg);
}

/* Codes (PROTOCOL.md "Errors and limits") that end the join: the link or the meeting is not usable now. */
static bool refusal(const char *code)
{
    static const char *const codes[] = {"meeting-not-found",
                                        "token-invalid",
                                        "token-expired",
                                        "token-wrong-meeting",
                                        "meeting-revoked",
                                        "meeting-expired",
                                        "meeting-locked",
                                        "meeting-full",
                                        "meeting-ended",
                                        "name-invalid",
                                        "draining",
                                        "join-timeout",
                                        "too-many-connections",
                                        NULL};
    for (size_t i = 0; codes[i]; i++)
        if (strcmp(codes[i], code) == 0)
            return true;
    return false;
}

static void on_error(sig_t *g, const json_t *j)
{
    const char *code = str(j, "code"), *ref = str(j, "ref");
    char why[OVL_PEER_REASON_LEN];
    if (refusal(code)) {
        snprintf(why, sizeof(why), "the server refused the join: %s (%s)", str(j, "message"), code);
        stop(g, OVL_PEER_EXIT_REFUSED, why);
    } else if (strcmp(code, "media-unavailable") == 0 || strcmp(code, "negotiation-state") == 0 ||
               strcmp(ref, "offer") == 0 || strcmp(ref, "answer") == 0) {
        snprintf(why, sizeof(why), "the server refused our %s: %s (%s)", ref[0] ? ref : "SDP", str(j, "message"), code);
        stop(g, OVL_PEER_EXIT_MEDIA, why);
    } else {
        fprintf(stderr, "overleg-peer: server error %s: %s\n", code, str(j, "message"));
    }
}

static void on_message(sig_t *g, const json_t *j)
{
    const char *type = str(j, "type");
    ovl_peer_msg_t msg = {0};
    char why[OVL_PEER_REASON_LEN];
    if (strcmp(type, "welcome") == 0) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(j, "participants"), i, p) post_participant(g, p);
        msg.type = OVL_PEER_MSG_JOINED;
        snprintf(msg.id, sizeof(msg.id), "%s", str(j, "you"));
        post(g, &msg);
    } else if (strcmp(type, "lobby-wait") == 0) {
        fprintf(stderr, "overleg-peer: waiting in the lobby for a host to admit us\n");
    } else if (strcmp(type, "participant-joined") == 0) {
        post_participant(g, json_object_get(j, "participant"));
    } else if (strcmp(type, "participant-left") == 0) {
        msg.type = OVL_PEER_MSG_LEFT;
        snprintf(msg.id, sizeof(msg.id), "%s", str(j, "participant"));
        snprintf(msg.reason, sizeof(msg.reason), "%s", str(j, "reason"));
        post(g, &msg);
    } else if (strcmp(type, "answer") == 0) {
        post_sdp(g, OVL_PEER_MSG_ANSWER, j);
    } else if (strcmp(type, "offer") == 0) {
        post_sdp(g, OVL_PEER_MSG_OFFER, j);
    } else if (strcmp(type, "error") == 0) {
        on_error(g, j);
    } else if (strcmp(type, "end") == 0) {
        const char *reason = str(j, "reason");
        snprintf(why, sizeof(why), "the server ended our session: %s", reason);
        stop(g, strcmp(reason, "media-failed") == 0 ? OVL_PEER_EXIT_MEDIA : OVL_PEER_EXIT_REFUSED, why);
    }
}

static void on_media_msg(sig_t *g, ovl_peer_msg_t *msg)
{
    if (msg->type == OVL_PEER_MSG_SEND_OFFER || msg->type == OVL_PEER_MSG_SEND_ANSWER) {
        json_t *j = json_pack("{s:s, s:s}", "type", msg->type == OVL_PEER_MSG_SEND_OFFER ? "offer" : "answer", "sdp",
                              msg->sdp ? msg->sdp : "");
        if (!j || ovl_wsclient_queue_json(g->ws, j) != 0)
            stop(g, OVL_PEER_EXIT_CONNECT, "could not send SDP to the server");
        json_decref(j);
    } else if (msg->type == OVL_PEER_MSG_DONE) {
        g->media_done = true;
    }
    free(msg->sdp);
    msg->sdp = NULL;
}

static void wake(void *ctx)
{
    ovl_wsclient_wakeup(ctx);
}

static int connect_ws(const ovl_peer_opts_t *o, ovl_wsclient_t **ws, char *err, size_t cap)
{
    ovl_link_t link;
    const char *why;
    char detail[200];
    if (ovl_link_parse(o->link, &link, &why) != 0) {
        snprintf(err, cap, "bad link: %s", why);
        return OVL_PEER_EXIT_USAGE;
    }
    ovl_wsclient_config_t wc = {.host = link.host,
                                .port = link.port,
                                .path = "/ws",
                                .insecure = o->insecure,
                                .ca_file = o->ca_file,
                                .timeout_ms = 10000};
    if (ovl_wsclient_connect(&wc, ws, detail, sizeof(detail)) != 0) {
        bool tls = strstr(detail, "SSL") || strstr(detail, "ssl") || strstr(detail, "tls") || strstr(detail, "cert");
        snprintf(err, cap, "cannot reach wss://%s%s%s:%u/ws: %s%s", strchr(link.host, ':') ? "[" : "", link.host,
                 strchr(link.host, ':') ? "]" : "", link.port, detail,
                 !o->insecure && tls ? " (TLS failed: is the server's certificate trusted by this machine? a test "
                                       "server's self-signed one needs --insecure)"
                                     : "");
        return OVL_PEER_EXIT_CONNECT;
    }
    json_t *join = json_pack("{s:s, s:s, s:s, s:s}", "type", "join", "meeting", link.meeting, "token", link.token,
                             "name", o->name);
    int ret = join ? ovl_wsclient_queue_json(*ws, join) : OVL_ERR_NOMEM;
    json_decref(join);
    if (ret != 0) {
        snprintf(err, cap, "cannot send the join (%s)", ovl_strerror(ret));
        return OVL_PEER_EXIT_CONNECT;
    }
    return 0;
}

static void run(sig_t *g)
{
    ovl_peer_msg_t msg;
    json_t *j;
    char why[OVL_PEER_REASON_LEN];
    while (!g->media_done) {
        while ((j = ovl_wsclient_take(g->ws, NULL)) != NULL) {
            on_message(g, j);
            json_decref(j);
        }
        while (!g->media_done && ovl_peer_media_poll(g->m, &msg) == 0)
            on_media_msg(g, &msg);
        if (g->media_done)
            break;
        if (ovl_wsclient_closed(g->ws)) {
            snprintf(why, sizeof(why), "the server closed the connection (WebSocket close code %d)",
                     ovl_wsclient_close_code(g->ws));
            stop(g, OVL_PEER_EXIT_CONNECT, why);
            ovl_peer_media_join(g->m); /* nothing more can come from the server: just wait for the media thread */
            while (ovl_peer_media_poll(g->m, &msg) == 0)
                on_media_msg(g, &msg);
            break;
        }
        (void)ovl_wsclient_service(g->ws, -1);
    }
}

int ovl_peer_signal_run(const ovl_peer_opts_t *o, ovl_peer_media_t **media_out, char *err, size_t cap)
{
    sig_t g = {.o = o};
    int ret;
    *media_out = NULL;
    if ((ret = connect_ws(o, &g.ws, err, cap)) != 0)
        goto Exit;
    if (ovl_peer_media_new(o, wake, g.ws, &g.m, err, cap) != 0 || ovl_peer_media_start(g.m) != 0) {
        ret = OVL_PEER_EXIT_INTERNAL;
        if (!err[0])
            snprintf(err, cap, "cannot start the media thread");
        goto Exit;
    }
    *media_out = g.m;
    run(&g);
    ovl_peer_media_join(g.m);
    if (!ovl_wsclient_closed(g.ws)) {
        (void)ovl_wsclient_send(g.ws, "{\"type\":\"leave\"}");
        (void)ovl_wsclient_wait_closed(g.ws, 1000, NULL);
    }
    ret = 0;
Exit:
    if (ret != 0 && g.m) {
        ovl_peer_media_free(g.m);
        *media_out = NULL;
    }
    ovl_wsclient_free(g.ws);
    return ret;
}
