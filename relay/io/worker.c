/* Media worker thread: loop + pool + UDP socket + queues, driven by hooks (see worker.h). */
#include "relay/io/worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay/io/clock.h"

#define DEFAULT_POOL_PACKETS   4096u
#define DEFAULT_QUEUE_CAPACITY 1024u
#define DEFAULT_RX_BATCHES     8u
#define DEFAULT_COMMAND_BUDGET 64u

struct ovl_worker {
    unsigned index;
    ovl_worker_hooks_t hooks;
    size_t rx_batches, command_budget;
    ovl_time_t tick;

    ovl_pool_t *pool; /* owned */
    ovl_udp_t *udp;   /* owned */
    ovl_loop_t *loop; /* owned */
    ovl_spsc_t *in;   /* owned: commands, signaling -> worker */
    ovl_spsc_t *out;  /* owned: events, worker -> signaling */
    ovl_timer_t tick_timer;
    ovl_time_t tick_at;  /* deadline the tick timer is armed for */
    unsigned udp_events; /* current loop interest of the socket */

    pthread_t thread;
    bool started, joined;
    int result;

    ovl_udp_dgram_t dgrams[OVL_UDP_BATCH_MAX];
};

void ovl_worker_msg_dispose(ovl_worker_msg_t *msg)
{
    if (msg->payload) {
        if (msg->payload_free)
            msg->payload_free(msg->payload);
        else
            free(msg->payload);
    }
    msg->payload = NULL;
    msg->len = 0;
}

static void dispose_cb(void *msg, void *ctx)
{
    (void)ctx;
    ovl_worker_msg_dispose(msg);
}

/* ---- on the worker thread ---- */

static void set_udp_interest(ovl_worker_t *w)
{
    unsigned want = OVL_LOOP_READ | (ovl_udp_queued(w->udp) ? OVL_LOOP_WRITE : 0u);
    if (want != w->udp_events && ovl_loop_modify(w->loop, ovl_udp_fd(w->udp), want) == 0)
        w->udp_events = want;
}

static void on_udp(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    (void)loop, (void)fd;
    ovl_worker_t *w = ctx;
    if (events & OVL_LOOP_WRITE)
        ovl_udp_flush(w->udp); /* interest is settled at the end of the turn */
    if (!(events & OVL_LOOP_READ))
        return;
    /* A bounded number of batches per turn: level-triggered epoll brings us back for the rest. */
    for (size_t b = 0; b < w->rx_batches; b++) {
        size_t n;
        if (ovl_udp_recv(w->udp, w->dgrams, OVL_UDP_BATCH_MAX, &n) != 0)
            break;
        if (n && w->hooks.on_datagrams)
            w->hooks.on_datagrams(w, w->dgrams, n, w->hooks.ctx);
        for (size_t i = 0; i < n; i++)
            ovl_pkt_unref(w->dgrams[i].pkt);
    }
}

static void on_command_msg(void *msg, void *ctx)
{
    ovl_worker_t *w = ctx;
    ovl_worker_msg_t m = *(ovl_worker_msg_t *)msg;
    if (w->hooks.on_command)
        w->hooks.on_command(w, &m, w->hooks.ctx);
    else
        ovl_worker_msg_dispose(&m);
}

static void on_commands(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    (void)loop, (void)fd, (void)events;
    ovl_worker_t *w = ctx;
    ovl_spsc_consume(w->in, w->command_budget, on_command_msg, w);
}

static void on_tick(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    ovl_worker_t *w = ctx;
    /* Re-arm from the deadline, not from now, so the period does not drift; skip missed ticks. */
    w->tick_at += w->tick;
    if (w->tick_at <= now)
        w->tick_at = now + w->tick;
    ovl_timer_schedule(ovl_loop_timers(w->loop), timer, w->tick_at);
    w->hooks.on_tick(w, now, w->hooks.ctx);
}

static void on_turn_end(ovl_loop_t *loop, void *ctx)
{
    (void)loop;
    ovl_worker_t *w = ctx;
    ovl_udp_flush(w->udp);
    set_udp_interest(w);
}

static void *worker_main(void *arg)
{
    ovl_worker_t *w = arg;
    int ret = 0;
    if (w->hooks.on_start && (ret = w->hooks.on_start(w, w->hooks.ctx)) < 0)
        goto Exit;
    w->tick_at = ovl_clock_now() + w->tick;
    if (w->tick && w->hooks.on_tick &&
        (ret = ovl_timer_schedule(ovl_loop_timers(w->loop), &w->tick_timer, w->tick_at)) != 0)
        goto Exit;
    ret = ovl_loop_run(w->loop);
    if (w->hooks.on_stop)
        w->hooks.on_stop(w, w->hooks.ctx);
    ovl_udp_flush(w->udp);
Exit:
    ovl_timer_cancel(ovl_loop_timers(w->loop), &w->tick_timer);
    w->result = ret;
    return NULL;
}

/* ---- on the controlling thread ---- */

static int setup(ovl_worker_t *w, const ovl_worker_config_t *cfg)
{
    int ret;
    ovl_udp_config_t ucfg = cfg->udp;
    if ((unsigned)cfg->port_base + cfg->index > UINT16_MAX)
        return OVL_ERR_ARG;
    ucfg.port = cfg->port_base ? (uint16_t)(cfg->port_base + cfg->index) : 0;
    if ((ret = ovl_pool_new(&w->pool, cfg->pool_packets ? cfg->pool_packets : DEFAULT_POOL_PACKETS)) != 0 ||
        (ret = ovl_udp_new(&w->udp, &ucfg, w->pool)) != 0 || (ret = ovl_loop_new(&w->loop, 0)) != 0)
        return ret;
    size_t qcap = cfg->queue_capacity ? cfg->queue_capacity : DEFAULT_QUEUE_CAPACITY;
    if ((ret = ovl_spsc_new(&w->in, qcap, sizeof(ovl_worker_msg_t))) != 0 ||
        (ret = ovl_spsc_new(&w->out, qcap, sizeof(ovl_worker_msg_t))) != 0)
        return ret;
    w->udp_events = OVL_LOOP_READ;
    if ((ret = ovl_loop_add(w->loop, ovl_udp_fd(w->udp), w->udp_events, on_udp, w)) != 0 ||
        (ret = ovl_loop_add(w->loop, ovl_spsc_fd(w->in), OVL_LOOP_READ, on_commands, w)) != 0 ||
        (ret = ovl_loop_add_hook(w->loop, on_turn_end, w)) != 0)
        return ret;
    ovl_timer_init(&w->tick_timer, on_tick, w);
    return 0;
}

int ovl_worker_new(ovl_worker_t **out, const ovl_worker_config_t *cfg, const ovl_worker_hooks_t *hooks)
{
    int ret;
    ovl_worker_t *w = NULL;

    *out = NULL;
    if (!(w = calloc(1, sizeof(*w))))
        return OVL_ERR_NOMEM;
    w->index = cfg->index;
    w->hooks = hooks ? *hooks : (ovl_worker_hooks_t){0};
    w->rx_batches = cfg->rx_batches ? cfg->rx_batches : DEFAULT_RX_BATCHES;
    w->command_budget = cfg->command_budget ? cfg->command_budget : DEFAULT_COMMAND_BUDGET;
    w->tick = cfg->tick;
    if ((ret = setup(w, cfg)) != 0)
        goto Exit;
    *out = w;
    w = NULL;
Exit:
    ovl_worker_free(w);
    return ret;
}

int ovl_worker_start(ovl_worker_t *w)
{
    if (w->started)
        return OVL_ERR_STATE;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return OVL_ERR_IO;
    char name[16];
    snprintf(name, sizeof(name), "ovl-worker-%u", w->index % 1000u);
    pthread_setname_np(w->thread, name);
    w->started = true;
    return 0;
}

void ovl_worker_stop(ovl_worker_t *w)
{
    ovl_loop_stop(w->loop);
}

int ovl_worker_join(ovl_worker_t *w)
{
    if (!w->started || w->joined)
        return OVL_ERR_STATE;
    pthread_join(w->thread, NULL);
    w->joined = true;
    return w->result;
}

void ovl_worker_free(ovl_worker_t *w)
{
    if (!w)
        return;
    if (w->started && !w->joined) {
        ovl_worker_stop(w);
        ovl_worker_join(w);
    }
    ovl_spsc_free(w->in, dispose_cb, NULL);
    ovl_spsc_free(w->out, dispose_cb, NULL);
    ovl_loop_free(w->loop);
    ovl_udp_free(w->udp); /* returns its packets to the pool: before the pool */
    ovl_pool_free(w->pool);
    free(w);
}

int ovl_worker_post(ovl_worker_t *w, const ovl_worker_msg_t *msg)
{
    return ovl_spsc_push(w->in, msg);
}

int ovl_worker_events_fd(const ovl_worker_t *w)
{
    return ovl_spsc_fd(w->out);
}

struct poll_ctx {
    void (*fn)(ovl_worker_msg_t *msg, void *ctx);
    void *ctx;
};

static void on_event_msg(void *msg, void *ctx)
{
    struct poll_ctx *p = ctx;
    ovl_worker_msg_t m = *(ovl_worker_msg_t *)msg;
    p->fn(&m, p->ctx);
}

size_t ovl_worker_poll_events(ovl_worker_t *w, size_t budget, void (*fn)(ovl_worker_msg_t *msg, void *ctx), void *ctx)
{
    struct poll_ctx p = {.fn = fn, .ctx = ctx};
    return ovl_spsc_consume(w->out, budget, on_event_msg, &p);
}

int ovl_worker_emit(ovl_worker_t *w, const ovl_worker_msg_t *msg)
{
    return ovl_spsc_push(w->out, msg);
}

unsigned ovl_worker_index(const ovl_worker_t *w)
{
    return w->index;
}

uint16_t ovl_worker_port(const ovl_worker_t *w)
{
    return ovl_udp_port(w->udp);
}

ovl_loop_t *ovl_worker_loop(ovl_worker_t *w)
{
    return w->loop;
}

ovl_udp_t *ovl_worker_udp(ovl_worker_t *w)
{
    return w->udp;
}

ovl_pool_t *ovl_worker_pool(ovl_worker_t *w)
{
    return w->pool;
}

ovl_timers_t *ovl_worker_timers(ovl_worker_t *w)
{
    return ovl_loop_timers(w->loop);
}
