/* Internals shared by server.c (loop, vhost, timers), http.c (HTTP routes) and ws.c (WebSocket). */
#ifndef OVL_SERVER_PRIV_H
#define OVL_SERVER_PRIV_H

#include <signal.h>

#include <libwebsockets.h>

#include "signaling/hub.h"
#include "signaling/listener.h"
#include "signaling/metrics.h"
#include "signaling/server.h"

#define OVL_WS_BUCKETS 1024

typedef struct ovl_out_frame {
    struct ovl_out_frame *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
} ovl_out_frame_t;

/* Per-connection state (lws allocates and zeroes it; the same wsi is HTTP first, then maybe WS). */
typedef struct ovl_session {
    /* HTTP */
    int method; /* OVL_HTTP_GET ... */
    char uri[256];
    char auth[320];
    char *req; /* owned: request body */
    size_t req_len;
    int req_too_big;
    int status;
    const char *ctype;
    const char *extra[4][2]; /* extra headers {name, value} (Location, WWW-Authenticate, ETag, ...) */
    size_t n_extra;
    const char *cache; /* cache-control: "no-store" unless set */
    char location[600];
    unsigned char *resp; /* owned: LWS_PRE + body */
    size_t resp_len;
    /* WebSocket */
    uint64_t conn; /* 0 until established */
    struct lws *wsi;
    char ip[64];
    char *rx; /* owned: the message being assembled */
    size_t rx_len;
    int rx_refused;
    size_t rx_discarded;
    ovl_out_frame_t *out_head, *out_tail; /* owned */
    size_t out_bytes;
    int close_code; /* non-zero: close once the queue is flushed */
    char close_reason[64];
    struct ovl_session *next; /* hash chain */
} ovl_session_t;

enum { OVL_HTTP_OTHER = 0, OVL_HTTP_GET, OVL_HTTP_POST, OVL_HTTP_DELETE };

#define OVL_SERVER_MAX_WAKEUPS 260 /* media workers' event queues */

typedef struct ovl_wakeup {
    void (*cb)(void *ctx);
    void *ctx;
} ovl_wakeup_t;

typedef struct ip_count {
    char ip[64];
    uint32_t n;
} ip_count_t;

struct ovl_server {
    void (*raw_tcp)(void *ud, int fd, const uint8_t *first, size_t len); /* ICE-TCP (the media plane's) */
    void *raw_ud;
    ovl_config_t cfg;
    ovl_log_t *log;                /* borrowed */
    ovl_store_t *store;            /* borrowed */
    const ovl_media_port_t *media; /* borrowed */
    uint8_t secret[OVL_SECRET_BYTES];
    uint16_t link_port;
    ovl_metrics_t metrics;
    ovl_hub_t *hub;           /* owned */
    ovl_listener_t *listener; /* owned */
    struct lws_context *ctx;  /* owned */
    struct lws_vhost *vh;
    int listen_dup; /* our dup of the listener's epoll fd, adopted into lws */
    lws_sorted_usec_list_t tick;
    lws_retry_bo_t retry;
    char cert[512], key[512];
    volatile sig_atomic_t drain_requested;
    int draining, stop;
    ovl_time_t drain_deadline, next_poll, next_revalidate;
    int64_t data_version;
    ovl_session_t *ws[OVL_WS_BUCKETS];
    size_t ws_count;
    uint64_t next_conn;
    ip_count_t *ips; /* owned */
    size_t nips, capips;
    ovl_wakeup_t wakeups[OVL_SERVER_MAX_WAKEUPS];
    size_t n_wakeups;
    struct ovl_turn_glue *turn; /* owned; NULL until ovl_server_enable_turn */
    char *(*metrics_extra)(void *ctx);
    void *metrics_ctx;
};

ovl_time_t ovl_server_now(void);

/* Opaque marker on connections that arrived as plain HTTP. */
extern const char ovl_server_plain_mark;
static inline int ovl_server_is_plain(struct lws *wsi)
{
    return lws_get_opaque_user_data(wsi) == &ovl_server_plain_mark;
}
int64_t ovl_server_wall(void);

/* http.c */
int ovl_http_callback(ovl_server_t *s, struct lws *wsi, enum lws_callback_reasons reason, ovl_session_t *pss, void *in,
                      size_t len);
void ovl_http_session_reset(ovl_session_t *pss);

/* ws.c */
int ovl_ws_callback(ovl_server_t *s, struct lws *wsi, enum lws_callback_reasons reason, ovl_session_t *pss, void *in,
                    size_t len);
void ovl_ws_hub_send(void *ud, uint64_t conn, const char *text, size_t len);
void ovl_ws_hub_close(void *ud, uint64_t conn, int code, const char *reason);

#endif
