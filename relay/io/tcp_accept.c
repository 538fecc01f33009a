/* Waiting for an ICE-TCP connection's first frame before the hand-off (see tcp_accept.h). */
#include "relay/io/tcp_accept.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "relay/io/tcp_conn.h"

#define TAG_TIMER UINT64_MAX
#define CHECK_NS  250000000L /* expiry checks every 250 ms while anyone waits */

typedef struct pending {
    int fd; /* -1: free slot */
    ovl_time_t since;
} pending_t;

struct ovl_tcp_accept {
    int ep, tfd;
    bool timer_on;
    pending_t *pend;
    size_t max, n;
    ovl_time_t timeout;
    ovl_tcp_accept_cb on_ready;
    void *ctx;
    ovl_tcp_accept_stats_t st;
};

int ovl_tcp_accept_new(ovl_tcp_accept_t **out, size_t max_pending, ovl_time_t timeout, ovl_tcp_accept_cb on_ready,
                       void *ctx)
{
    ovl_tcp_accept_t *a = NULL;
    int ret = OVL_ERR_NOMEM;
    *out = NULL;
    if (max_pending == 0 || max_pending > 4096 || timeout <= 0 || !on_ready)
        return OVL_ERR_ARG;
    if (!(a = calloc(1, sizeof(*a))) || !(a->pend = calloc(max_pending, sizeof(*a->pend))))
        goto Exit;
    a->ep = a->tfd = -1;
    for (size_t i = 0; i < max_pending; i++)
        a->pend[i].fd = -1;
    a->max = max_pending;
    a->timeout = timeout;
    a->on_ready = on_ready;
    a->ctx = ctx;
    ret = OVL_ERR_IO;
    if ((a->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
        goto Exit;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    if (epoll_ctl(a->ep, EPOLL_CTL_ADD, a->tfd, &ev) != 0)
        goto Exit;
    *out = a;
    a = NULL;
    ret = 0;
Exit:
    ovl_tcp_accept_free(a);
    return ret;
}

void ovl_tcp_accept_free(ovl_tcp_accept_t *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->pend && i < a->max; i++)
        if (a->pend[i].fd >= 0)
            close(a->pend[i].fd);
    if (a->tfd >= 0)
        close(a->tfd);
    if (a->ep >= 0)
        close(a->ep);
    free(a->pend);
    free(a);
}

int ovl_tcp_accept_fd(const ovl_tcp_accept_t *a)
{
    return a->ep;
}

void ovl_tcp_accept_stats(const ovl_tcp_accept_t *a, ovl_tcp_accept_stats_t *out)
{
    *out = a->st;
    out->pending = a->n;
}

static void set_timer(ovl_tcp_accept_t *a, bool on)
{
    if (a->timer_on == on)
        return;
    struct itimerspec its = {0};
    if (on)
        its.it_value.tv_nsec = its.it_interval.tv_nsec = CHECK_NS;
    (void)timerfd_settime(a->tfd, 0, &its, NULL);
    a->timer_on = on;
}

/* Forgets slot i (leaving the fd open when `keep`, closing it otherwise). */
static void release(ovl_tcp_accept_t *a, size_t i, bool keep)
{
    int fd = a->pend[i].fd;
    epoll_ctl(a->ep, EPOLL_CTL_DEL, fd, NULL);
    if (!keep)
        close(fd);
    a->pend[i].fd = -1;
    a->n--;
    if (a->n == 0)
        set_timer(a, false);
}

/* Peeks fd's first frame: 1 whole (handed on, fd no longer ours; slot, if any, released first),
 * 0 not yet, -1 not ICE-TCP or closed by the peer (the caller closes it). */
static int try_frame(ovl_tcp_accept_t *a, int fd, size_t slot)
{
    uint8_t buf[OVL_TCP_FIRST_FRAME_MAX];
    ovl_stun_text_t ufrag;
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        a->st.closed++;
        return -1;
    }
    int ret = ovl_tcp_first_frame_ufrag(buf, (size_t)n, &ufrag, NULL);
    if (ret == OVL_ERR_AGAIN)
        return 0;
    if (ret != 0) {
        a->st.not_ice++;
        return -1;
    }
    a->st.ready++;
    if (slot < a->max)
        release(a, slot, true); /* before the hand-off: the fd may be closed by its new owner */
    a->on_ready(a->ctx, fd, &ufrag);
    return 1;
}

void ovl_tcp_accept_add(ovl_tcp_accept_t *a, int fd, ovl_time_t now)
{
    size_t slot;
    a->st.added++;
    int r = try_frame(a, fd, SIZE_MAX);
    if (r == 1)
        return;
    if (r < 0 || a->n == a->max) {
        if (r == 0)
            a->st.full++;
        close(fd);
        return;
    }
    for (slot = 0; a->pend[slot].fd >= 0; slot++)
        ;
    /* Edge-triggered: the peeked bytes stay readable, so level-triggered would wake us forever. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = slot};
    if (epoll_ctl(a->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        a->st.closed++;
        close(fd);
        return;
    }
    a->pend[slot] = (pending_t){fd, now};
    a->n++;
    set_timer(a, true);
    /* Bytes that arrived between the peek and the registration raise the edge at once (the fd is
     * ready when added), so nothing is missed. */
}

void ovl_tcp_accept_service(ovl_tcp_accept_t *a, ovl_time_t now)
{
    struct epoll_event evs[64];
    int n = epoll_wait(a->ep, evs, 64, 0);
    bool check = false;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == TAG_TIMER) {
            uint64_t ticks;
            while (read(a->tfd, &ticks, sizeof(ticks)) > 0)
                ;
            check = true;
            continue;
        }
        if (tag >= a->max || a->pend[tag].fd < 0)
            continue;
        if (try_frame(a, a->pend[tag].fd, (size_t)tag) < 0)
            release(a, (size_t)tag, false);
    }
    if (!check)
        return;
    for (size_t i = 0; i < a->max && a->n > 0; i++)
        if (a->pend[i].fd >= 0 && now >= a->pend[i].since + a->timeout) {
            a->st.timed_out++;
            release(a, i, false);
        }
}
