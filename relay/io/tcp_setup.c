/* ICE-TCP sets and connections: configuration, creation, socket options, accessors (see tcp_conn.h). */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/io/tcp_conn_internal.h"

/* ---- set and connection ------------------------------------------------------------------------- */

static int resolve_config(ovl_tcp_config_t *cfg)
{
    if (cfg->max_frame == 0)
        cfg->max_frame = OVL_POOL_DATA;
    if (cfg->rx_buffer == 0)
        cfg->rx_buffer = 4 * (cfg->max_frame + 2);
    if (cfg->queue_bytes == 0)
        cfg->queue_bytes = OVL_TCP_DEFAULT_QUEUE_BYTES;
    if (cfg->queue_frames == 0)
        cfg->queue_frames = OVL_TCP_DEFAULT_QUEUE_FRAMES;
    if (cfg->video_queue_bytes == 0)
        cfg->video_queue_bytes = cfg->queue_bytes / 2;
    if (cfg->first_frame_timeout == 0)
        cfg->first_frame_timeout = OVL_TCP_DEFAULT_FIRST_TIMEOUT;
    if (cfg->validate_timeout == 0)
        cfg->validate_timeout = OVL_TCP_DEFAULT_VALIDATE;
    if (cfg->idle_timeout == 0)
        cfg->idle_timeout = OVL_TCP_DEFAULT_IDLE;
    if (cfg->notsent_lowat == 0)
        cfg->notsent_lowat = OVL_TCP_DEFAULT_NOTSENT_LOWAT;
    if (cfg->reads_per_event == 0)
        cfg->reads_per_event = OVL_TCP_DEFAULT_READS;
    if (cfg->max_frame > OVL_POOL_DATA || cfg->rx_buffer < cfg->max_frame + 2 ||
        cfg->video_queue_bytes > cfg->queue_bytes || cfg->queue_frames > SIZE_MAX / (4 * sizeof(struct qent)) ||
        cfg->rx_buffer > SIZE_MAX / 4 || cfg->sndbuf < 0)
        return OVL_ERR_ARG;
    if (cfg->sys != NULL && (cfg->sys->recv == NULL || cfg->sys->sendmsg == NULL))
        return OVL_ERR_ARG;
    return 0;
}

int ovl_tcp_set_new(ovl_tcp_set_t **out, ovl_loop_t *loop, ovl_pool_t *pool, const ovl_tcp_config_t *cfg)
{
    ovl_tcp_set_t *set = NULL;
    int ret;

    *out = NULL;
    if (loop == NULL || pool == NULL) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((set = calloc(1, sizeof(*set))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    set->loop = loop;
    set->pool = pool;
    if (cfg != NULL)
        set->cfg = *cfg;
    if ((ret = resolve_config(&set->cfg)) < 0)
        goto Exit;
    if (set->cfg.sys != NULL) {
        set->sys = *set->cfg.sys;
        set->has_sys = true;
        set->cfg.sys = NULL;
    }
    if ((ret = ovl_loop_add_hook(loop, ovl_tcp_set_on_turn_end, set)) < 0)
        goto Exit;
    *out = set;
    set = NULL;

Exit:
    free(set);
    return ret;
}

void ovl_tcp_set_free(ovl_tcp_set_t *set)
{
    if (set == NULL)
        return;
    while (set->conns != NULL)
        ovl_tcp_conn_free(set->conns);
    free(set);
}

void ovl_tcp_set_stats(const ovl_tcp_set_t *set, ovl_tcp_set_stats_t *out)
{
    *out = set->st;
}

/* Socket options are best effort: a kernel without TCP_NOTSENT_LOWAT still carries the frames. */
static void tune_socket(int fd, const ovl_tcp_config_t *cfg)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (cfg->sndbuf > 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->sndbuf, sizeof(cfg->sndbuf));
    if (cfg->notsent_lowat > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &cfg->notsent_lowat, sizeof(cfg->notsent_lowat));
}

static void read_addresses(ovl_tcp_conn_t *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
        (void)ovl_addr_from_sockaddr(&c->peer, (struct sockaddr *)&ss);
    len = sizeof(ss);
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
        (void)ovl_addr_from_sockaddr(&c->local, (struct sockaddr *)&ss);
}

/* One allocation: the connection, its two rings, its read buffer. */
static ovl_tcp_conn_t *conn_alloc(const ovl_tcp_config_t *cfg)
{
    size_t head = (sizeof(ovl_tcp_conn_t) + alignof(struct qent) - 1) / alignof(struct qent) * alignof(struct qent);
    size_t rings = OVL_TCP_PRIO_COUNT * cfg->queue_frames * sizeof(struct qent);
    uint8_t *mem = calloc(1, head + rings + cfg->rx_buffer);
    if (mem == NULL)
        return NULL;
    ovl_tcp_conn_t *c = (ovl_tcp_conn_t *)mem;
    for (size_t p = 0; p < OVL_TCP_PRIO_COUNT; p++) {
        c->q[p].e = (struct qent *)(mem + head) + p * cfg->queue_frames;
        c->q[p].cap = cfg->queue_frames;
    }
    c->rx = mem + head + rings;
    return c;
}

int ovl_tcp_conn_new(ovl_tcp_conn_t **out, ovl_tcp_set_t *set, int fd, const ovl_tcp_conn_params_t *params,
                     ovl_time_t now)
{
    ovl_tcp_conn_t *c = NULL;
    int ret, flags;

    *out = NULL;
    if (set == NULL || fd < 0 || params == NULL || params->on_frame == NULL ||
        params->initial_len > set->cfg.rx_buffer || (params->initial_len > 0 && params->initial == NULL)) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        ret = OVL_ERR_IO;
        goto Exit;
    }
    if ((c = conn_alloc(&set->cfg)) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    c->set = set;
    c->fd = fd;
    c->path_id = params->path_id;
    c->on_frame = params->on_frame;
    c->on_close = params->on_close;
    c->ctx = params->ctx;
    c->stun_only = params->stun_only;
    c->validated = !params->stun_only;
    c->created = c->last_rx = now;
    tune_socket(fd, &set->cfg);
    read_addresses(c);
    ovl_timer_init(&c->timer, ovl_tcp_conn_on_timer, c);
    if (params->initial_len > 0) {
        memcpy(c->rx, params->initial, params->initial_len);
        c->rx_len = params->initial_len;
        c->pending_rx = true;
    }
    if ((ret = ovl_loop_add(set->loop, fd, OVL_LOOP_READ, ovl_tcp_conn_on_io, c)) < 0)
        goto Exit;
    ovl_time_t due = c->pending_rx ? now : ovl_tcp_conn_earliest(c);
    if (due != OVL_TIME_NEVER && (ret = ovl_timer_schedule(ovl_loop_timers(set->loop), &c->timer, due)) < 0) {
        ovl_loop_remove(set->loop, fd);
        goto Exit;
    }
    c->next = set->conns;
    if (set->conns != NULL)
        set->conns->prev = c;
    set->conns = c;
    set->st.conns++;
    set->st.opened++;
    *out = c;
    c = NULL;
    fd = -1;
    ret = 0;

Exit:
    free(c);
    if (fd >= 0)
        close(fd);
    return ret;
}

/* ---- accessors ---------------------------------------------------------------------------------- */

void ovl_tcp_conn_validate(ovl_tcp_conn_t *c)
{
    c->validated = true;
}

bool ovl_tcp_conn_validated(const ovl_tcp_conn_t *c)
{
    return c->validated;
}

uint64_t ovl_tcp_conn_path_id(const ovl_tcp_conn_t *c)
{
    return c->path_id;
}

const ovl_addr_t *ovl_tcp_conn_peer(const ovl_tcp_conn_t *c)
{
    return &c->peer;
}

const ovl_addr_t *ovl_tcp_conn_local(const ovl_tcp_conn_t *c)
{
    return &c->local;
}

int ovl_tcp_conn_fd(const ovl_tcp_conn_t *c)
{
    return c->fd;
}

void ovl_tcp_conn_stats(const ovl_tcp_conn_t *c, ovl_tcp_conn_stats_t *out)
{
    *out = c->st;
    out->queued_bytes = c->queued_bytes;
    out->queued_frames = c->queued_frames;
}

const char *ovl_tcp_close_reason_name(ovl_tcp_close_reason_t reason)
{
    switch (reason) {
    case OVL_TCP_CLOSE_EOF:
        return "eof";
    case OVL_TCP_CLOSE_ERROR:
        return "error";
    case OVL_TCP_CLOSE_FIRST_TIMEOUT:
        return "first-frame-timeout";
    case OVL_TCP_CLOSE_VALIDATE_TIMEOUT:
        return "validate-timeout";
    case OVL_TCP_CLOSE_IDLE_TIMEOUT:
        return "idle-timeout";
    case OVL_TCP_CLOSE_FRAME_TOO_BIG:
        return "frame-too-big";
    }
    return "unknown";
}
