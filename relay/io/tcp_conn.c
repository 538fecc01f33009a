/* ICE-TCP connections: RFC 4571 framing, a two-class bounded send queue, timeouts (see tcp_conn.h). */
#include "relay/io/tcp_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "relay/io/timer.h"
#include "relay/proto/cursor.h"

/* One queued frame: a packet reference and its RFC 4571 length prefix. */
struct qent {
    ovl_pkt_t *pkt; /* owned reference */
    uint16_t len;   /* payload bytes at pkt->data */
    uint8_t hdr[2]; /* big-endian len */
};

/* A ring of queued frames of one class; capacity queue_frames, so it never overflows. */
struct ring {
    struct qent *e; /* inside the connection's allocation */
    size_t cap, head, count;
};

struct ovl_tcp_conn {
    ovl_tcp_set_t *set; /* back-ref */
    int fd;             /* owned; -1 once closed */
    uint64_t path_id;
    ovl_addr_t peer, local;
    ovl_tcp_frame_cb on_frame;
    ovl_tcp_close_cb on_close;
    void *ctx; /* borrowed */

    bool stun_only, validated;
    bool got_frame;  /* a whole frame arrived */
    bool want_write; /* EPOLLOUT interest is on */
    bool dirty;      /* in set->dirty */
    bool pending_rx; /* initial bytes wait in rx for the first timer run */
    bool dead;       /* closed; memory released when depth drops to 0 */
    unsigned depth;  /* entry points and callbacks running on this connection */

    ovl_time_t created, last_rx;
    ovl_timer_t timer;

    uint8_t *rx; /* set->rx_cap bytes inside the allocation */
    size_t rx_len;

    struct ring q[OVL_TCP_PRIO_COUNT];
    struct qent inflight; /* a frame partly written: finished before anything else */
    size_t inflight_off;  /* bytes of it (prefix included) already written */
    bool has_inflight;
    size_t queued_bytes, queued_frames;

    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_t *prev, *next;   /* set->conns */
    ovl_tcp_conn_t *dprev, *dnext; /* set->dirty */
};

struct ovl_tcp_set {
    ovl_loop_t *loop; /* borrowed */
    ovl_pool_t *pool; /* borrowed */
    ovl_tcp_config_t cfg;
    ovl_tcp_sys_t sys;
    bool has_sys;
    ovl_tcp_conn_t *conns; /* every open connection */
    ovl_tcp_conn_t *dirty; /* connections with frames queued this turn and no EPOLLOUT wait */
    ovl_tcp_set_stats_t st;
    struct iovec iov[2 * OVL_TCP_WRITE_FRAMES];
};

/* ---- rings and lists ---------------------------------------------------------------------------- */

static struct qent *ring_at(struct ring *r, size_t i)
{
    return &r->e[(r->head + i) % r->cap];
}

static void ring_push(struct ring *r, const struct qent *q)
{
    r->e[(r->head + r->count) % r->cap] = *q;
    r->count++;
}

static struct qent ring_pop_head(struct ring *r)
{
    struct qent q = r->e[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return q;
}

static struct qent ring_pop_tail(struct ring *r)
{
    r->count--;
    return r->e[(r->head + r->count) % r->cap];
}

static void dirty_add(ovl_tcp_conn_t *c)
{
    ovl_tcp_set_t *set = c->set;
    c->dprev = NULL;
    c->dnext = set->dirty;
    if (set->dirty != NULL)
        set->dirty->dprev = c;
    set->dirty = c;
    c->dirty = true;
}

static void dirty_remove(ovl_tcp_conn_t *c)
{
    if (!c->dirty)
        return;
    if (c->dprev != NULL)
        c->dprev->dnext = c->dnext;
    else
        c->set->dirty = c->dnext;
    if (c->dnext != NULL)
        c->dnext->dprev = c->dprev;
    c->dprev = c->dnext = NULL;
    c->dirty = false;
}

/* ---- lifetime ----------------------------------------------------------------------------------- */

static void drop_queues(ovl_tcp_conn_t *c)
{
    for (size_t p = 0; p < OVL_TCP_PRIO_COUNT; p++)
        while (c->q[p].count > 0)
            ovl_pkt_unref(ring_pop_head(&c->q[p]).pkt);
    if (c->has_inflight)
        ovl_pkt_unref(c->inflight.pkt);
    c->has_inflight = false;
    c->queued_bytes = c->queued_frames = 0;
}

/* Releases everything but the memory: socket, loop entry, timer, queues, list links. */
static void teardown(ovl_tcp_conn_t *c)
{
    ovl_tcp_set_t *set = c->set;
    c->dead = true;
    ovl_loop_remove(set->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    ovl_timer_cancel(ovl_loop_timers(set->loop), &c->timer);
    drop_queues(c);
    dirty_remove(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        set->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    set->st.conns--;
}

/* Ends an entry point or callback; frees a dead connection when nothing runs on it any more.
 * Returns true when the connection is dead (then it must not be touched). */
static bool leave(ovl_tcp_conn_t *c)
{
    bool dead = c->dead;
    if (--c->depth == 0 && dead)
        free(c);
    return dead;
}

static void conn_close(ovl_tcp_conn_t *c, ovl_tcp_close_reason_t reason, int err)
{
    if (c->dead)
        return;
    teardown(c);
    c->set->st.closed[reason]++;
    c->depth++;
    if (c->on_close != NULL)
        c->on_close(c, reason, err, c->ctx);
    leave(c);
}

void ovl_tcp_conn_free(ovl_tcp_conn_t *c)
{
    if (c == NULL || c->dead)
        return;
    teardown(c);
    c->set->st.freed++;
    if (c->depth == 0)
        free(c);
}

/* ---- sending ------------------------------------------------------------------------------------ */

/* RFC 8489 §5: the two top bits zero and the magic cookie; RFC 7983 puts STUN at first bytes 0..3. */
static bool is_stun(const uint8_t *p, size_t len)
{
    return len >= OVL_STUN_HEADER_LEN && (p[0] & 0xc0) == 0 && ovl_load_u32(p + 4) == OVL_STUN_MAGIC_COOKIE;
}

static void count_drop(ovl_tcp_conn_t *c, ovl_tcp_prio_t prio, size_t len)
{
    c->st.drops[prio]++;
    c->st.drop_bytes[prio] += len;
}

/* Makes room for an audio frame of `need` bytes by evicting the newest queued video frames. */
static bool room_for_audio(ovl_tcp_conn_t *c, size_t need)
{
    const ovl_tcp_config_t *cfg = &c->set->cfg;
    struct ring *video = &c->q[OVL_TCP_PRIO_VIDEO];
    while (c->queued_bytes + need > cfg->queue_bytes || c->queued_frames + 1 > cfg->queue_frames) {
        if (video->count == 0)
            return false;
        struct qent e = ring_pop_tail(video);
        c->queued_bytes -= 2u + e.len;
        c->queued_frames--;
        count_drop(c, OVL_TCP_PRIO_VIDEO, e.len);
        ovl_pkt_unref(e.pkt);
    }
    return true;
}

int ovl_tcp_conn_send(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_tcp_prio_t prio)
{
    if (c->dead)
        return OVL_ERR_STATE;
    if (pkt == NULL || pkt->len == 0 || pkt->len > OVL_TCP_FRAME_MAX ||
        (prio != OVL_TCP_PRIO_AUDIO && prio != OVL_TCP_PRIO_VIDEO))
        return OVL_ERR_ARG;
    if (c->stun_only && !c->validated && !is_stun(pkt->data, pkt->len)) {
        c->st.tx_gated++;
        return OVL_ERR_STATE;
    }
    const ovl_tcp_config_t *cfg = &c->set->cfg;
    size_t need = 2u + pkt->len;
    bool fits = prio == OVL_TCP_PRIO_VIDEO
                    ? c->queued_bytes + need <= cfg->video_queue_bytes && c->queued_frames + 1 <= cfg->queue_frames
                    : room_for_audio(c, need);
    if (!fits) {
        count_drop(c, prio, pkt->len);
        return OVL_ERR_LIMIT;
    }
    struct qent e = {.pkt = ovl_pkt_ref(pkt), .len = (uint16_t)pkt->len};
    ovl_store_u16(e.hdr, e.len);
    ring_push(&c->q[prio], &e);
    c->queued_bytes += need;
    c->queued_frames++;
    if (c->queued_bytes > c->st.queue_high_water)
        c->st.queue_high_water = c->queued_bytes;
    if (!c->dirty && !c->want_write)
        dirty_add(c);
    return 0;
}

int ovl_tcp_conn_send_copy(ovl_tcp_conn_t *c, const uint8_t *data, size_t len, ovl_tcp_prio_t prio)
{
    if (c->dead)
        return OVL_ERR_STATE;
    if (data == NULL || len == 0 || len > OVL_POOL_DATA)
        return OVL_ERR_ARG;
    ovl_pkt_t *pkt = ovl_pool_get(c->set->pool);
    if (pkt == NULL) {
        c->st.tx_nobuf++;
        return OVL_ERR_LIMIT;
    }
    memcpy(pkt->data, data, len);
    pkt->len = len;
    int ret = ovl_tcp_conn_send(c, pkt, prio);
    ovl_pkt_unref(pkt);
    return ret;
}

static void frame_sent(ovl_tcp_conn_t *c, struct qent *e)
{
    c->st.tx_frames++;
    c->st.tx_bytes += e->len;
    c->queued_frames--;
    ovl_pkt_unref(e->pkt);
}

/* Accounts for n bytes written, in the order the iovecs were gathered: the frame in flight, then
 * AUDIO, then VIDEO (every AUDIO frame is gathered before any VIDEO frame). */
static void consume(ovl_tcp_conn_t *c, size_t n)
{
    c->queued_bytes -= n;
    if (c->has_inflight) {
        size_t rest = 2u + c->inflight.len - c->inflight_off;
        if (n < rest) {
            c->inflight_off += n;
            return;
        }
        n -= rest;
        c->has_inflight = false;
        frame_sent(c, &c->inflight);
    }
    for (size_t p = 0; p < OVL_TCP_PRIO_COUNT && n > 0; p++) {
        while (n > 0 && c->q[p].count > 0) {
            struct qent e = ring_pop_head(&c->q[p]);
            size_t size = 2u + e.len;
            if (n < size) { /* the write stopped inside this frame: it is finished first next time */
                c->inflight = e;
                c->inflight_off = n;
                c->has_inflight = true;
                return;
            }
            n -= size;
            frame_sent(c, &e);
        }
    }
}

/* Gathers the frame in flight and up to OVL_TCP_WRITE_FRAMES queued frames into set->iov. */
static size_t gather(ovl_tcp_conn_t *c, size_t *total)
{
    struct iovec *iov = c->set->iov;
    size_t n = 0, frames = 0;
    *total = 0;
    if (c->has_inflight) {
        struct qent *e = &c->inflight;
        size_t off = c->inflight_off;
        if (off < 2)
            iov[n++] = (struct iovec){.iov_base = e->hdr + off, .iov_len = 2 - off};
        size_t done = off < 2 ? 0 : off - 2;
        iov[n++] = (struct iovec){.iov_base = e->pkt->data + done, .iov_len = e->len - done};
        *total += 2u + e->len - off;
        frames++;
    }
    for (size_t p = 0; p < OVL_TCP_PRIO_COUNT; p++) {
        for (size_t i = 0; i < c->q[p].count && frames < OVL_TCP_WRITE_FRAMES; i++, frames++) {
            struct qent *e = ring_at(&c->q[p], i);
            iov[n++] = (struct iovec){.iov_base = e->hdr, .iov_len = 2};
            iov[n++] = (struct iovec){.iov_base = e->pkt->data, .iov_len = e->len};
            *total += 2u + e->len;
        }
    }
    return n;
}

static ssize_t sys_sendmsg(ovl_tcp_conn_t *c, const struct msghdr *m)
{
    ovl_tcp_set_t *set = c->set;
    if (set->has_sys)
        return set->sys.sendmsg(c->fd, m, set->sys.ctx);
    return sendmsg(c->fd, m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Writes until the queue is empty (0), the socket is full (OVL_ERR_AGAIN) or the connection failed
 * and closed (OVL_ERR_STATE). */
static int write_queue(ovl_tcp_conn_t *c)
{
    while (c->queued_frames > 0) {
        size_t total;
        struct msghdr m = {.msg_iov = c->set->iov};
        m.msg_iovlen = gather(c, &total);
        ssize_t n = sys_sendmsg(c, &m);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->st.tx_blocked++;
                return OVL_ERR_AGAIN;
            }
            conn_close(c, OVL_TCP_CLOSE_ERROR, errno);
            return OVL_ERR_STATE;
        }
        c->st.tx_calls++;
        consume(c, (size_t)n);
        if ((size_t)n < total) {
            c->st.tx_short++;
            c->st.tx_blocked++;
            return OVL_ERR_AGAIN;
        }
    }
    return 0;
}

/* Writes and sets EPOLLOUT interest to match: on while frames wait for a full socket, off after. */
static int write_out(ovl_tcp_conn_t *c)
{
    dirty_remove(c);
    int ret = write_queue(c);
    if (ret == OVL_ERR_STATE)
        return ret;
    bool want = ret == OVL_ERR_AGAIN;
    if (want != c->want_write) {
        ovl_loop_modify(c->set->loop, c->fd, OVL_LOOP_READ | (want ? OVL_LOOP_WRITE : 0u));
        c->want_write = want;
    }
    return ret;
}

int ovl_tcp_conn_flush(ovl_tcp_conn_t *c)
{
    if (c->dead)
        return OVL_ERR_STATE;
    c->depth++;
    int ret = write_out(c);
    return leave(c) ? OVL_ERR_STATE : ret;
}

void ovl_tcp_set_flush(ovl_tcp_set_t *set)
{
    /* Pop from the head: a close inside write_out may free other connections, which unlink
     * themselves from this list, and may queue frames on others, which join it. */
    while (set->dirty != NULL) {
        ovl_tcp_conn_t *c = set->dirty;
        c->depth++;
        write_out(c);
        leave(c);
    }
}

static void on_turn_end(ovl_loop_t *loop, void *ctx)
{
    (void)loop;
    ovl_tcp_set_flush(ctx);
}

/* ---- receiving ---------------------------------------------------------------------------------- */

static void deliver(ovl_tcp_conn_t *c, const uint8_t *frame, size_t len, ovl_time_t now)
{
    c->got_frame = true;
    if (len == 0) {
        c->st.rx_empty++;
        return;
    }
    ovl_pkt_t *pkt = ovl_pool_get(c->set->pool);
    if (pkt == NULL) {
        c->st.rx_nobuf++;
        return;
    }
    memcpy(pkt->data, frame, len);
    pkt->len = len;
    c->st.rx_frames++;
    c->st.rx_bytes += len;
    c->on_frame(c, pkt, now, c->ctx);
    ovl_pkt_unref(pkt);
}

/*
 * Cuts the whole RFC 4571 frames (§2: a 16-bit length, then the packet) out of rx, hands each up,
 * and keeps the incomplete rest at the front. A frame never exceeds max_frame, so the rest
 * (at most max_frame + 1 bytes) always leaves room in rx (max_frame + 2 bytes or more).
 */
static void parse_frames(ovl_tcp_conn_t *c, ovl_time_t now)
{
    size_t off = 0;
    while (!c->dead && c->rx_len - off >= 2) {
        size_t len = ovl_load_u16(c->rx + off);
        if (len > c->set->cfg.max_frame) {
            conn_close(c, OVL_TCP_CLOSE_FRAME_TOO_BIG, 0);
            return;
        }
        if (c->rx_len - off < 2 + len)
            break;
        deliver(c, c->rx + off + 2, len, now);
        off += 2 + len;
    }
    if (c->dead)
        return;
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
}

static ssize_t sys_recv(ovl_tcp_conn_t *c, void *buf, size_t len)
{
    ovl_tcp_set_t *set = c->set;
    if (set->has_sys)
        return set->sys.recv(c->fd, buf, len, set->sys.ctx);
    return recv(c->fd, buf, len, MSG_DONTWAIT);
}

static void read_frames(ovl_tcp_conn_t *c, ovl_time_t now)
{
    size_t cap = c->set->cfg.rx_buffer;
    for (unsigned i = 0; i < c->set->cfg.reads_per_event && !c->dead; i++) {
        size_t space = cap - c->rx_len;
        ssize_t n = sys_recv(c, c->rx + c->rx_len, space);
        if (n > 0) {
            c->rx_len += (size_t)n;
            c->last_rx = now;
            parse_frames(c, now);
            if ((size_t)n < space)
                return; /* drained */
        } else if (n == 0) {
            conn_close(c, OVL_TCP_CLOSE_EOF, 0);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno != EINTR) {
            conn_close(c, OVL_TCP_CLOSE_ERROR, errno);
        }
    }
}

static void on_io(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    (void)fd;
    ovl_tcp_conn_t *c = ctx;
    c->depth++;
    if (events & OVL_LOOP_WRITE)
        write_out(c);
    if (!c->dead && (events & OVL_LOOP_READ))
        read_frames(c, ovl_loop_now(loop));
    leave(c);
}

/* ---- timeouts ----------------------------------------------------------------------------------- */

static ovl_time_t deadline(ovl_time_t from, ovl_time_t after)
{
    return after == OVL_TIME_NEVER || from > OVL_TIME_NEVER - after ? OVL_TIME_NEVER : from + after;
}

/* The three deadlines that apply now: first frame, validation, idle. */
static void deadlines(const ovl_tcp_conn_t *c, ovl_time_t *first, ovl_time_t *valid, ovl_time_t *idle)
{
    const ovl_tcp_config_t *cfg = &c->set->cfg;
    *first = c->got_frame ? OVL_TIME_NEVER : deadline(c->created, cfg->first_frame_timeout);
    *valid = c->stun_only && !c->validated ? deadline(c->created, cfg->validate_timeout) : OVL_TIME_NEVER;
    *idle = deadline(c->last_rx, cfg->idle_timeout);
}

static ovl_time_t earliest(const ovl_tcp_conn_t *c)
{
    ovl_time_t first, valid, idle;
    deadlines(c, &first, &valid, &idle);
    ovl_time_t due = first < valid ? first : valid;
    return due < idle ? due : idle;
}

/* Closes the connection if a timeout has passed, else arms the timer for the earliest one (a
 * deadline that moved on, e.g. idle after a frame, just re-arms it: no timer work per frame). */
static void check_timeouts(ovl_tcp_conn_t *c, ovl_time_t now)
{
    ovl_time_t first, valid, idle;
    deadlines(c, &first, &valid, &idle);
    if (now >= first) {
        conn_close(c, OVL_TCP_CLOSE_FIRST_TIMEOUT, 0);
    } else if (now >= valid) {
        conn_close(c, OVL_TCP_CLOSE_VALIDATE_TIMEOUT, 0);
    } else if (now >= idle) {
        conn_close(c, OVL_TCP_CLOSE_IDLE_TIMEOUT, 0);
    } else {
        ovl_time_t due = earliest(c);
        if (due != OVL_TIME_NEVER) /* re-arming the timer that just left the heap needs no memory */
            (void)ovl_timer_schedule(ovl_loop_timers(c->set->loop), &c->timer, due);
    }
}

static void on_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    (void)timer;
    ovl_tcp_conn_t *c = ctx;
    c->depth++;
    if (c->pending_rx) {
        c->pending_rx = false;
        parse_frames(c, now);
    }
    if (!c->dead)
        check_timeouts(c, now);
    leave(c);
}

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
    if ((ret = ovl_loop_add_hook(loop, on_turn_end, set)) < 0)
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
    ovl_timer_init(&c->timer, on_timer, c);
    if (params->initial_len > 0) {
        memcpy(c->rx, params->initial, params->initial_len);
        c->rx_len = params->initial_len;
        c->pending_rx = true;
    }
    if ((ret = ovl_loop_add(set->loop, fd, OVL_LOOP_READ, on_io, c)) < 0)
        goto Exit;
    ovl_time_t due = c->pending_rx ? now : earliest(c);
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
