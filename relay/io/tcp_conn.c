/* ICE-TCP connections, the packet path: RFC 4571 framing, the two-class bounded send queue, timeouts
 * and closing (see tcp_conn.h). Creation and accessors are in tcp_setup.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/io/tcp_conn_internal.h"
#include "relay/proto/cursor.h"

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

void ovl_tcp_set_on_turn_end(ovl_loop_t *loop, void *ctx)
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

void ovl_tcp_conn_on_io(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
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

ovl_time_t ovl_tcp_conn_earliest(const ovl_tcp_conn_t *c)
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
        ovl_time_t due = ovl_tcp_conn_earliest(c);
        if (due != OVL_TIME_NEVER) /* re-arming the timer that just left the heap needs no memory */
            (void)ovl_timer_schedule(ovl_loop_timers(c->set->loop), &c->timer, due);
    }
}

void ovl_tcp_conn_on_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
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
