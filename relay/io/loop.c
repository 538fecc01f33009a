/* epoll event loop (see loop.h). */
#include "relay/io/loop.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "relay/io/clock.h"

/* Readiness collected per epoll_wait; more waits for the next turn (level-triggered). */
#define MAX_EVENTS 64

/* One watched descriptor, indexed by fd as in ae.c. cb == NULL: not watched. */
struct watch {
    ovl_loop_io_cb cb;
    void *ctx; /* borrowed */
    unsigned events;
};

struct hook {
    ovl_loop_hook_cb cb;
    void *ctx; /* borrowed */
};

struct ovl_loop {
    int epfd;              /* owned */
    int wakefd;            /* owned eventfd */
    struct watch *watches; /* owned, indexed by fd */
    size_t nwatches;
    struct epoll_event ready[MAX_EVENTS];
    int nready, iready; /* the batch being dispatched */
    ovl_timers_t timers;
    ovl_time_t now;
    struct hook hooks[OVL_LOOP_MAX_HOOKS];
    size_t nhooks;
    atomic_bool stop;
};

static uint32_t to_epoll(unsigned events)
{
    return (events & OVL_LOOP_READ ? EPOLLIN : 0u) | (events & OVL_LOOP_WRITE ? EPOLLOUT : 0u);
}

static struct watch *find(ovl_loop_t *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nwatches || !loop->watches[fd].cb)
        return NULL;
    return &loop->watches[fd];
}

static void on_wakeup(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    (void)loop, (void)events, (void)ctx;
    uint64_t count;
    /* Resets the counter; EAGAIN (already reset) is fine. */
    ssize_t n = read(fd, &count, sizeof(count));
    (void)n;
}

int ovl_loop_new(ovl_loop_t **out, size_t timer_capacity)
{
    int ret;
    ovl_loop_t *loop = NULL;

    *out = NULL;
    if (!(loop = calloc(1, sizeof(*loop))))
        return OVL_ERR_NOMEM;
    loop->epfd = loop->wakefd = -1;
    atomic_init(&loop->stop, false);
    if ((ret = ovl_timers_init(&loop->timers, timer_capacity)) != 0)
        goto Exit;
    if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        ret = OVL_ERR_IO;
        goto Exit;
    }
    if ((ret = ovl_loop_add(loop, loop->wakefd, OVL_LOOP_READ, on_wakeup, NULL)) != 0)
        goto Exit;
    loop->now = ovl_clock_now();
    *out = loop;
    loop = NULL;
Exit:
    ovl_loop_free(loop);
    return ret;
}

void ovl_loop_free(ovl_loop_t *loop)
{
    if (!loop)
        return;
    if (loop->wakefd >= 0)
        close(loop->wakefd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    ovl_timers_dispose(&loop->timers);
    free(loop->watches);
    free(loop);
}

static int ensure_slot(ovl_loop_t *loop, int fd)
{
    if ((size_t)fd < loop->nwatches)
        return 0;
    size_t n = loop->nwatches ? loop->nwatches : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct watch *w = realloc(loop->watches, n * sizeof(*w));
    if (!w)
        return OVL_ERR_NOMEM;
    for (size_t i = loop->nwatches; i < n; i++)
        w[i] = (struct watch){0};
    loop->watches = w;
    loop->nwatches = n;
    return 0;
}

int ovl_loop_add(ovl_loop_t *loop, int fd, unsigned events, ovl_loop_io_cb cb, void *ctx)
{
    int ret;
    if (fd < 0 || !cb)
        return OVL_ERR_ARG;
    if (find(loop, fd))
        return OVL_ERR_STATE;
    if ((ret = ensure_slot(loop, fd)) != 0)
        return ret;
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return errno == ENOMEM ? OVL_ERR_NOMEM : OVL_ERR_IO;
    loop->watches[fd] = (struct watch){.cb = cb, .ctx = ctx, .events = events};
    return 0;
}

int ovl_loop_modify(ovl_loop_t *loop, int fd, unsigned events)
{
    struct watch *w = find(loop, fd);
    if (!w)
        return OVL_ERR_NOTFOUND;
    if (w->events == events)
        return 0;
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return OVL_ERR_IO;
    w->events = events;
    return 0;
}

int ovl_loop_remove(ovl_loop_t *loop, int fd)
{
    struct watch *w = find(loop, fd);
    if (!w)
        return OVL_ERR_NOTFOUND;
    /* Fails only if fd was closed already, which removed it from the epoll set anyway. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    *w = (struct watch){0};
    /* Readiness of this fd still waiting in the batch must not reach a later owner of the number. */
    for (int i = loop->iready; i < loop->nready; i++)
        if (loop->ready[i].data.fd == fd)
            loop->ready[i].data.fd = -1;
    return 0;
}

int ovl_loop_add_hook(ovl_loop_t *loop, ovl_loop_hook_cb cb, void *ctx)
{
    if (!cb)
        return OVL_ERR_ARG;
    if (loop->nhooks == OVL_LOOP_MAX_HOOKS)
        return OVL_ERR_LIMIT;
    loop->hooks[loop->nhooks++] = (struct hook){.cb = cb, .ctx = ctx};
    return 0;
}

ovl_timers_t *ovl_loop_timers(ovl_loop_t *loop)
{
    return &loop->timers;
}

ovl_time_t ovl_loop_now(const ovl_loop_t *loop)
{
    return loop->now;
}

/* epoll_wait's timeout in milliseconds, rounded up so that a timer is never woken for early. */
static int wait_ms(ovl_loop_t *loop, ovl_time_t max_wait)
{
    if (atomic_load_explicit(&loop->stop, memory_order_relaxed))
        return 0;
    ovl_time_t wait = ovl_timers_next(&loop->timers, ovl_clock_now());
    if (max_wait < wait)
        wait = max_wait;
    if (wait == OVL_TIME_NEVER)
        return -1;
    ovl_time_t ms = wait / 1000u + (wait % 1000u != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int dispatch(ovl_loop_t *loop)
{
    int ran = 0;
    for (loop->iready = 0; loop->iready < loop->nready; loop->iready++) {
        struct epoll_event *ev = &loop->ready[loop->iready];
        struct watch *w = find(loop, ev->data.fd);
        if (!w)
            continue; /* removed earlier in this turn */
        /* As in ae.c, an error or hang-up wakes both directions: the next call reports it. */
        unsigned ready = (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? OVL_LOOP_READ : 0u) |
                         (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP) ? OVL_LOOP_WRITE : 0u);
        ready &= w->events;
        if (!ready)
            continue;
        /* The callback may add descriptors (moving the table): copy what it needs first. */
        ovl_loop_io_cb cb = w->cb;
        void *ctx = w->ctx;
        cb(loop, ev->data.fd, ready, ctx);
        ran++;
    }
    loop->nready = loop->iready = 0;
    return ran;
}

int ovl_loop_turn(ovl_loop_t *loop, ovl_time_t max_wait)
{
    int n = epoll_wait(loop->epfd, loop->ready, MAX_EVENTS, wait_ms(loop, max_wait));
    if (n < 0 && errno != EINTR)
        return OVL_ERR_IO;
    loop->nready = n < 0 ? 0 : n;
    loop->now = ovl_clock_now();
    int ran = dispatch(loop);
    loop->now = ovl_clock_now();
    ran += (int)ovl_timers_run(&loop->timers, loop->now);
    for (size_t i = 0; i < loop->nhooks; i++)
        loop->hooks[i].cb(loop, loop->hooks[i].ctx);
    return ran;
}

int ovl_loop_run(ovl_loop_t *loop)
{
    int ret = 0;
    while (!atomic_load_explicit(&loop->stop, memory_order_acquire)) {
        int n = ovl_loop_turn(loop, OVL_TIME_NEVER);
        if (n < 0) {
            ret = n;
            break;
        }
    }
    atomic_store_explicit(&loop->stop, false, memory_order_release);
    return ret;
}

void ovl_loop_stop(ovl_loop_t *loop)
{
    atomic_store_explicit(&loop->stop, true, memory_order_release);
    ovl_loop_wakeup(loop);
}

bool ovl_loop_stopping(const ovl_loop_t *loop)
{
    return atomic_load_explicit(&loop->stop, memory_order_acquire);
}

void ovl_loop_wakeup(ovl_loop_t *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
    ssize_t n = write(loop->wakefd, &one, sizeof(one));
    (void)n;
}
