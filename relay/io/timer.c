/* Binary min-heap of embedded timers (see timer.h). */
#include "relay/io/timer.h"

#include <stdlib.h>

/* ovl_timer_t.slot: a heap index, or one of these. */
#define SLOT_IDLE  SIZE_MAX
#define SLOT_READY (SIZE_MAX - 1)

#define DEFAULT_CAPACITY 64

static bool before(const ovl_timer_t *a, const ovl_timer_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(ovl_timers_t *h, size_t i, ovl_timer_t *t)
{
    h->heap[i] = t;
    t->slot = i;
}

static void sift_up(ovl_timers_t *h, size_t i)
{
    ovl_timer_t *t = h->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, h->heap[parent]))
            break;
        place(h, i, h->heap[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(ovl_timers_t *h, size_t i)
{
    ovl_timer_t *t = h->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && before(h->heap[child + 1], h->heap[child]))
            child++;
        if (!before(h->heap[child], t))
            break;
        place(h, i, h->heap[child]);
        i = child;
    }
    place(h, i, t);
}

/* Takes the timer at heap index i out of the heap, leaving it idle. */
static void heap_remove(ovl_timers_t *h, size_t i)
{
    ovl_timer_t *t = h->heap[i];
    ovl_timer_t *last = h->heap[--h->len];
    t->slot = SLOT_IDLE;
    if (last == t)
        return;
    place(h, i, last);
    if (i > 0 && before(last, h->heap[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

static void ready_unlink(ovl_timers_t *h, ovl_timer_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        h->ready_head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        h->ready_tail = t->prev;
    t->prev = t->next = NULL;
    t->slot = SLOT_IDLE;
}

static void ready_append(ovl_timers_t *h, ovl_timer_t *t)
{
    t->prev = h->ready_tail;
    t->next = NULL;
    if (h->ready_tail)
        h->ready_tail->next = t;
    else
        h->ready_head = t;
    h->ready_tail = t;
    t->slot = SLOT_READY;
}

static int grow(ovl_timers_t *h)
{
    size_t cap = h->cap ? h->cap * 2 : DEFAULT_CAPACITY;
    ovl_timer_t **heap = realloc(h->heap, cap * sizeof(*heap));
    if (!heap)
        return OVL_ERR_NOMEM;
    h->heap = heap;
    h->cap = cap;
    return 0;
}

void ovl_timer_init(ovl_timer_t *timer, ovl_timer_cb cb, void *ctx)
{
    *timer = (ovl_timer_t){.when = OVL_TIME_NEVER, .slot = SLOT_IDLE, .cb = cb, .ctx = ctx};
}

bool ovl_timer_armed(const ovl_timer_t *timer)
{
    return timer->slot != SLOT_IDLE;
}

ovl_time_t ovl_timer_when(const ovl_timer_t *timer)
{
    return ovl_timer_armed(timer) ? timer->when : OVL_TIME_NEVER;
}

int ovl_timers_init(ovl_timers_t *timers, size_t capacity)
{
    *timers = (ovl_timers_t){0};
    timers->cap = capacity ? capacity : DEFAULT_CAPACITY;
    timers->heap = malloc(timers->cap * sizeof(*timers->heap));
    if (!timers->heap) {
        timers->cap = 0;
        return OVL_ERR_NOMEM;
    }
    return 0;
}

void ovl_timers_dispose(ovl_timers_t *timers)
{
    for (size_t i = 0; i < timers->len; i++)
        timers->heap[i]->slot = SLOT_IDLE;
    while (timers->ready_head)
        ready_unlink(timers, timers->ready_head);
    free(timers->heap);
    *timers = (ovl_timers_t){0};
}

void ovl_timer_cancel(ovl_timers_t *timers, ovl_timer_t *timer)
{
    if (timer->slot == SLOT_READY)
        ready_unlink(timers, timer);
    else if (timer->slot != SLOT_IDLE)
        heap_remove(timers, timer->slot);
}

int ovl_timer_schedule(ovl_timers_t *timers, ovl_timer_t *timer, ovl_time_t when)
{
    if (timer->slot == SLOT_READY)
        ready_unlink(timers, timer);
    timer->when = when;
    timer->seq = timers->seq++;
    if (timer->slot != SLOT_IDLE) {
        /* Already in the heap: move it up or down from where it is. */
        size_t i = timer->slot;
        if (i > 0 && before(timer, timers->heap[(i - 1) / 2]))
            sift_up(timers, i);
        else
            sift_down(timers, i);
        return 0;
    }
    if (timers->len == timers->cap && grow(timers) != 0)
        return OVL_ERR_NOMEM;
    place(timers, timers->len++, timer);
    sift_up(timers, timer->slot);
    return 0;
}

size_t ovl_timers_count(const ovl_timers_t *timers)
{
    size_t n = timers->len;
    for (const ovl_timer_t *t = timers->ready_head; t; t = t->next)
        n++;
    return n;
}

ovl_time_t ovl_timers_first(const ovl_timers_t *timers)
{
    ovl_time_t first = timers->len ? timers->heap[0]->when : OVL_TIME_NEVER;
    for (const ovl_timer_t *t = timers->ready_head; t; t = t->next)
        if (t->when < first)
            first = t->when;
    return first;
}

ovl_time_t ovl_timers_next(const ovl_timers_t *timers, ovl_time_t now)
{
    ovl_time_t first = ovl_timers_first(timers);
    if (first == OVL_TIME_NEVER)
        return OVL_TIME_NEVER;
    return first <= now ? 0 : first - now;
}

size_t ovl_timers_run(ovl_timers_t *timers, ovl_time_t now)
{
    if (timers->running)
        return 0;
    timers->running = true;
    /* Collect what is due now, in deadline order, so that timers armed by the callbacks below
     * wait for the next run whatever their deadline. */
    while (timers->len && timers->heap[0]->when <= now) {
        ovl_timer_t *t = timers->heap[0];
        heap_remove(timers, 0);
        ready_append(timers, t);
    }
    size_t fired = 0;
    while (timers->ready_head) {
        ovl_timer_t *t = timers->ready_head;
        ready_unlink(timers, t); /* idle from here: the callback may re-arm it */
        fired++;
        t->cb(t, now, t->ctx);
    }
    timers->running = false;
    return fired;
}
