/*
 * The media plane on the signaling thread (see media.h): one DTLS certificate, the announced
 * addresses, N media workers, and the two maps that route commands without asking the workers:
 * meeting -> worker (placement) and participant -> worker. Commands are posted to the worker's
 * queue with owned payloads; events are drained from its queue by ovl_media_poll.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/io/media_int.h"
#include "relay/proto/ice.h"

#define MAP_BUCKETS 1024

typedef struct meeting_ent {
    struct meeting_ent *next;
    char id[OVL_MEDIA_MEETING_ID_MAX + 1];
    size_t worker;
    size_t count; /* participants joined through us */
} meeting_ent_t;

typedef struct part_ent {
    struct part_ent *next;
    uint64_t id;
    meeting_ent_t *meeting; /* borrowed */
} part_ent_t;

struct ovl_media {
    ovl_dtls_cert_t *cert; /* owned */
    ovl_media_shared_t shared;
    ovl_media_worker_t **workers; /* owned */
    size_t n_workers;
    size_t *load; /* participants per worker */
    const char *addr_ptrs[OVL_MEDIA_MAX_ADDRS];
    meeting_ent_t *meetings[MAP_BUCKETS];
    part_ent_t *parts[MAP_BUCKETS];
    bool started;
    uint64_t refused;
};

/* ---- maps ---------------------------------------------------------------------------------------- */

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)(h % MAP_BUCKETS);
}

static size_t hash_u64(uint64_t v)
{
    v ^= v >> 33;
    v *= 0xc4ceb9fe1a85ec53ull;
    v ^= v >> 33;
    return (size_t)(v % MAP_BUCKETS);
}

static meeting_ent_t *meeting_find(const ovl_media_t *m, const char *id)
{
    for (meeting_ent_t *e = m->meetings[hash_str(id)]; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static part_ent_t *part_find(const ovl_media_t *m, uint64_t id)
{
    for (part_ent_t *e = m->parts[hash_u64(id)]; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

static void meeting_drop(ovl_media_t *m, meeting_ent_t *e)
{
    for (meeting_ent_t **pp = &m->meetings[hash_str(e->id)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            free(e);
            return;
        }
}

static void part_drop(ovl_media_t *m, part_ent_t *e)
{
    for (part_ent_t **pp = &m->parts[hash_u64(e->id)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            m->load[e->meeting->worker]--;
            if (--e->meeting->count == 0)
                meeting_drop(m, e->meeting);
            free(e);
            return;
        }
}

/* ---- creation ------------------------------------------------------------------------------------ */

static bool host_has_ipv6(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int make_workers(ovl_media_t *m, const ovl_media_config_t *cfg, const char *bind, bool dual, char *err,
                        size_t cap)
{
    for (size_t i = 0; i < m->n_workers; i++) {
        ovl_worker_config_t wc = {
            .index = (unsigned)i,
            .port_base = cfg->port_base,
            .udp = {.addr = bind,
                    .dual_stack = dual,
                    .rcvbuf = 4 << 20,
                    .sndbuf = 4 << 20,
                    .batch = OVL_UDP_BATCH_MAX,
                    .send_queue = 4096},
            .pool_packets = cfg->pool_packets ? cfg->pool_packets : 8192,
            .queue_capacity = cfg->queue_capacity ? cfg->queue_capacity : 4096,
            .tick = OVL_MEDIA_TICK,
        };
        int ret =
            ovl_media_worker_new(&m->workers[i], &m->shared, &wc, cfg->max_transports ? cfg->max_transports : 4096);
        if (ret != 0) {
            if (ret == OVL_ERR_IO && cfg->port_base)
                snprintf(err, cap, "media_port_base: cannot bind UDP port %u on %s (in use, or not permitted)",
                         (unsigned)(cfg->port_base + i), bind ? bind : "::");
            else if (ret == OVL_ERR_IO)
                snprintf(err, cap, "media_bind: cannot open a UDP socket on %s", bind ? bind : "::");
            else
                snprintf(err, cap, "media: cannot create worker %zu: %s", i, ovl_strerror(ret));
            return ret;
        }
    }
    return 0;
}

int ovl_media_new(const ovl_media_config_t *cfg, ovl_media_t **out, char *err, size_t cap)
{
    ovl_media_t *m = NULL;
    int ret = OVL_ERR_NOMEM;
    const char *bind = cfg->bind && cfg->bind[0] ? cfg->bind : NULL;
    bool dual = false, v6 = false;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    *out = NULL;
    snprintf(err, cap, "media: out of memory");
    if (!(m = calloc(1, sizeof(*m))))
        goto Exit;
    m->n_workers = cfg->workers ? cfg->workers : (size_t)(cpus > 0 ? cpus : 1);
    if (m->n_workers > OVL_MEDIA_MAX_WORKERS || (size_t)cfg->port_base + m->n_workers - 1 > 65535) {
        snprintf(err, cap, "media_workers: %zu workers from port %u do not fit (at most %d, ports up to 65535)",
                 m->n_workers, (unsigned)cfg->port_base, OVL_MEDIA_MAX_WORKERS);
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if (!bind) {
        v6 = dual = host_has_ipv6();
        bind = v6 ? NULL : "0.0.0.0";
    } else {
        v6 = strchr(bind, ':') != NULL;
        dual = strcmp(bind, "::") == 0;
        ovl_addr_t a;
        if (ovl_addr_parse(&a, bind, 0) != 0) {
            snprintf(err, cap, "media_bind: not a numeric IPv4 or IPv6 address: \"%.64s\"", bind);
            ret = OVL_ERR_ARG;
            goto Exit;
        }
        if (dual)
            bind = NULL; /* "::" with IPv4 too */
    }
    m->shared.v6_socket = v6;
    if ((ret = ovl_media_addr_resolve(cfg->public_ips, cfg->bind, v6, m->shared.addrs, OVL_MEDIA_MAX_ADDRS,
                                      &m->shared.n_addrs, err, cap)) != 0)
        goto Exit;
    for (size_t i = 0; i < m->shared.n_addrs; i++) {
        m->addr_ptrs[i] = m->shared.addrs[i];
        (void)ovl_addr_parse(&m->shared.addr_bin[i], m->shared.addrs[i], 0); /* numeric: resolve checked it */
    }
    if ((ret = ovl_dtls_cert_generate(&m->cert)) != 0) {
        snprintf(err, cap, "media: cannot make the DTLS certificate");
        goto Exit;
    }
    m->shared.cert = m->cert;
    memcpy(m->shared.fingerprint_sha256, ovl_dtls_cert_fingerprint(m->cert)->bytes, 32);
    ovl_ice_lite_config_default(&m->shared.ice);
    if (cfg->consent_timeout)
        m->shared.ice.consent_timeout = cfg->consent_timeout;
    if (cfg->connect_timeout)
        m->shared.ice.connect_timeout = cfg->connect_timeout;
    m->shared.max_participants = cfg->max_participants ? cfg->max_participants : 50;
    if (m->shared.max_participants > 256)
        m->shared.max_participants = 256; /* the router's limit per room */
    ret = OVL_ERR_NOMEM;
    if (!(m->workers = calloc(m->n_workers, sizeof(*m->workers))) || !(m->load = calloc(m->n_workers, sizeof(size_t))))
        goto Exit;
    if ((ret = make_workers(m, cfg, bind, dual, err, cap)) != 0)
        goto Exit;
    *out = m;
    m = NULL;
    err[0] = '\0';
Exit:
    ovl_media_free(m);
    return ret;
}

int ovl_media_start(ovl_media_t *m)
{
    for (size_t i = 0; i < m->n_workers; i++) {
        int ret = ovl_worker_start(m->workers[i]->w);
        if (ret != 0 && ret != OVL_ERR_STATE) {
            ovl_media_stop(m);
            return ret;
        }
    }
    m->started = true;
    return 0;
}

void ovl_media_stop(ovl_media_t *m)
{
    for (size_t i = 0; i < m->n_workers; i++)
        if (m->workers[i])
            ovl_worker_stop(m->workers[i]->w);
    for (size_t i = 0; i < m->n_workers; i++)
        if (m->workers[i])
            ovl_worker_join(m->workers[i]->w); /* OVL_ERR_STATE when not running: fine */
}

void ovl_media_free(ovl_media_t *m)
{
    if (!m)
        return;
    if (m->workers) {
        ovl_media_stop(m);
        for (size_t i = 0; i < m->n_workers; i++)
            ovl_media_worker_free(m->workers[i]);
    }
    for (size_t b = 0; b < MAP_BUCKETS; b++) {
        while (m->parts[b]) {
            part_ent_t *e = m->parts[b];
            m->parts[b] = e->next;
            free(e);
        }
        while (m->meetings[b]) {
            meeting_ent_t *e = m->meetings[b];
            m->meetings[b] = e->next;
            free(e);
        }
    }
    free(m->workers);
    free(m->load);
    ovl_dtls_cert_free(m->cert);
    free(m);
}

size_t ovl_media_worker_count(const ovl_media_t *m)
{
    return m->n_workers;
}

uint16_t ovl_media_worker_port(const ovl_media_t *m, size_t i)
{
    return i < m->n_workers ? ovl_worker_port(m->workers[i]->w) : 0;
}

const char *const *ovl_media_public_addrs(const ovl_media_t *m, size_t *n)
{
    *n = m->shared.n_addrs;
    return m->addr_ptrs;
}

/* ---- ICE-TCP ------------------------------------------------------------------------------------- */

void ovl_media_set_tcp_port(ovl_media_t *m, uint16_t port)
{
    if (m->started)
        return;
    m->shared.tcp_port = port;
    for (size_t i = 0; i < m->n_workers; i++)
        ovl_media_worker_candidates(m->workers[i]);
}

static void close_fd_payload(void *payload)
{
    int *fd = payload;
    if (*fd >= 0)
        close(*fd);
    free(fd);
}

int ovl_media_tcp_hand_off(ovl_media_t *m, int fd, const char *ufrag, size_t len)
{
    unsigned w = 0;
    int *box = NULL, ret;
    if ((ret = ovl_media_ufrag_worker(ufrag, len, &w)) != 0)
        goto Fail;
    ret = OVL_ERR_NOTFOUND;
    if (w >= m->n_workers)
        goto Fail;
    ret = OVL_ERR_NOMEM;
    if (!(box = malloc(sizeof(*box))))
        goto Fail;
    *box = fd;
    ovl_worker_msg_t msg = {
        .type = OVL_MEDIA_CMD_TCP, .payload = box, .len = sizeof(*box), .payload_free = close_fd_payload};
    if (ovl_worker_post(m->workers[w]->w, &msg) == 0)
        return 0;
    m->refused++;
    ret = OVL_ERR_AGAIN;
Fail:
    free(box);
    close(fd);
    return ret;
}

/* ---- TURN allocations short-circuited (media_turn.c) ---------------------------------------------- */

int ovl_media_turn_send(ovl_media_t *m, const ovl_addr_t *relayed, const ovl_addr_t *to, const uint8_t *data,
                        size_t len)
{
    for (size_t i = 0; i < m->n_workers; i++) {
        if (ovl_worker_port(m->workers[i]->w) != to->port)
            continue;
        for (size_t k = 0; k < m->shared.n_addrs; k++) {
            const ovl_addr_t *a = &m->shared.addr_bin[k];
            if (a->family == to->family && memcmp(a->ip, to->ip, sizeof(a->ip)) == 0)
                return ovl_media_turn_lane_send(m->workers[i], k, relayed, data, len);
        }
        break;
    }
    return OVL_ERR_NOTFOUND;
}

int ovl_media_turn_fd(const ovl_media_t *m, size_t i)
{
    return i < m->n_workers ? ovl_spsc_fd(m->workers[i]->turn_up) : -1;
}

size_t ovl_media_turn_poll(ovl_media_t *m, size_t i, size_t budget, ovl_media_turn_fn fn, void *ctx)
{
    return i < m->n_workers ? ovl_media_turn_lane_poll(m->workers[i], budget, fn, ctx) : 0;
}

/* ---- commands ------------------------------------------------------------------------------------ */

static int post(ovl_media_t *m, size_t worker, uint32_t type, uint64_t id, void *payload, size_t len)
{
    ovl_worker_msg_t msg = {.type = type, .id = id, .payload = payload, .len = len};
    if (ovl_worker_post(m->workers[worker]->w, &msg) != 0) {
        free(payload);
        m->refused++;
        return OVL_ERR_AGAIN;
    }
    return 0;
}

/* A participant's public id goes into a=msid (RFC 8830 msid-id: 1*64 token-char): be stricter. */
static bool id_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

int ovl_media_join(ovl_media_t *m, const char *meeting_id, uint64_t participant, const char *public_id)
{
    meeting_ent_t *me;
    part_ent_t *pe;
    ovl_media_join_cmd_t *cmd;
    bool new_meeting = false;
    int ret;
    if (!id_ok(meeting_id, OVL_MEDIA_MEETING_ID_MAX) || !id_ok(public_id, OVL_MEDIA_PUBLIC_ID_MAX))
        return OVL_ERR_ARG;
    if (part_find(m, participant))
        return OVL_ERR_STATE;
    if (!(me = meeting_find(m, meeting_id))) {
        size_t best = 0;
        for (size_t i = 1; i < m->n_workers; i++)
            if (m->load[i] < m->load[best])
                best = i;
        if (!(me = calloc(1, sizeof(*me))))
            return OVL_ERR_NOMEM;
        snprintf(me->id, sizeof(me->id), "%s", meeting_id);
        me->worker = best;
        size_t b = hash_str(meeting_id);
        me->next = m->meetings[b];
        m->meetings[b] = me;
        new_meeting = true;
    }
    if (!(pe = calloc(1, sizeof(*pe))) || !(cmd = calloc(1, sizeof(*cmd)))) {
        free(pe);
        if (new_meeting)
            meeting_drop(m, me);
        return OVL_ERR_NOMEM;
    }
    snprintf(cmd->meeting, sizeof(cmd->meeting), "%s", meeting_id);
    snprintf(cmd->public_id, sizeof(cmd->public_id), "%s", public_id);
    if ((ret = post(m, me->worker, OVL_MEDIA_CMD_JOIN, participant, cmd, sizeof(*cmd))) != 0) {
        free(pe);
        if (new_meeting)
            meeting_drop(m, me);
        return ret;
    }
    pe->id = participant;
    pe->meeting = me;
    size_t b = hash_u64(participant);
    pe->next = m->parts[b];
    m->parts[b] = pe;
    me->count++;
    m->load[me->worker]++;
    return 0;
}

int ovl_media_offer(ovl_media_t *m, uint64_t participant, const char *sdp)
{
    part_ent_t *pe = part_find(m, participant);
    size_t len = sdp ? strlen(sdp) : 0;
    ovl_media_offer_cmd_t *cmd;
    int ret;
    if (!pe)
        return OVL_ERR_NOTFOUND;
    if (!(cmd = malloc(sizeof(*cmd) + len + 1)))
        return OVL_ERR_NOMEM;
    /* Parsed here, on the signaling thread, so that a bad offer gets its error at once. */
    if ((ret = ovl_media_sdp_offer_params(sdp ? sdp : "", len, cmd->remote_ufrag, sizeof(cmd->remote_ufrag),
                                          &cmd->remote_fingerprint)) != 0) {
        free(cmd);
        return ret;
    }
    cmd->len = len;
    memcpy(cmd->sdp, sdp, len + 1);
    return post(m, pe->meeting->worker, OVL_MEDIA_CMD_OFFER, participant, cmd, sizeof(*cmd) + len + 1);
}

int ovl_media_answer(ovl_media_t *m, uint64_t participant, const char *sdp)
{
    part_ent_t *pe = part_find(m, participant);
    char *copy;
    if (!pe)
        return OVL_ERR_NOTFOUND;
    if (!sdp || !(copy = strdup(sdp)))
        return sdp ? OVL_ERR_NOMEM : OVL_ERR_ARG;
    return post(m, pe->meeting->worker, OVL_MEDIA_CMD_ANSWER, participant, copy, strlen(copy));
}

int ovl_media_ice_restart(ovl_media_t *m, uint64_t participant)
{
    part_ent_t *pe = part_find(m, participant);
    if (!pe)
        return OVL_ERR_NOTFOUND;
    return post(m, pe->meeting->worker, OVL_MEDIA_CMD_ICE_RESTART, participant, NULL, 0);
}

int ovl_media_receive(ovl_media_t *m, uint64_t participant, bool video)
{
    part_ent_t *pe = part_find(m, participant);
    if (!pe)
        return OVL_ERR_NOTFOUND;
    ovl_worker_msg_t msg = {.type = OVL_MEDIA_CMD_RECEIVE, .id = participant, .arg = video ? 1 : 0};
    if (ovl_worker_post(m->workers[pe->meeting->worker]->w, &msg) != 0) {
        m->refused++;
        return OVL_ERR_AGAIN;
    }
    return 0;
}

void ovl_media_leave(ovl_media_t *m, uint64_t participant)
{
    part_ent_t *pe = part_find(m, participant);
    if (!pe)
        return;
    /* If the queue is full the worker keeps the participant until its consent runs out (30 s). */
    post(m, pe->meeting->worker, OVL_MEDIA_CMD_LEAVE, participant, NULL, 0);
    part_drop(m, pe);
}

void ovl_media_end(ovl_media_t *m, const char *meeting_id)
{
    meeting_ent_t *me = meeting_id ? meeting_find(m, meeting_id) : NULL;
    char *copy;
    if (!me)
        return; /* everyone left already (signaling reports leaves first): the rooms are gone */
    if ((copy = strdup(meeting_id)) != NULL)
        post(m, me->worker, OVL_MEDIA_CMD_END, 0, copy, strlen(copy));
    for (size_t b = 0; b < MAP_BUCKETS; b++)
        for (part_ent_t **pp = &m->parts[b]; *pp;) {
            part_ent_t *e = *pp;
            if (e->meeting != me) {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            m->load[me->worker]--;
            free(e);
        }
    meeting_drop(m, me);
}

/* ---- events -------------------------------------------------------------------------------------- */

int ovl_media_events_fd(const ovl_media_t *m, size_t i)
{
    return i < m->n_workers ? ovl_worker_events_fd(m->workers[i]->w) : -1;
}

struct poll_ctx {
    void (*fn)(const ovl_media_out_t *ev, void *ctx);
    void *ctx;
};

static void on_event(ovl_worker_msg_t *msg, void *ctx)
{
    struct poll_ctx *pc = ctx;
    ovl_media_out_t ev = {.type = (ovl_media_out_type_t)msg->type, .participant = msg->id};
    if (msg->type == OVL_MEDIA_OUT_OFFER || msg->type == OVL_MEDIA_OUT_ANSWER)
        ev.sdp = msg->payload;
    else if (msg->type == OVL_MEDIA_OUT_FAILED)
        ev.reason = msg->payload ? msg->payload : "The media connection failed.";
    if ((ev.type != OVL_MEDIA_OUT_OFFER && ev.type != OVL_MEDIA_OUT_ANSWER) || ev.sdp)
        pc->fn(&ev, pc->ctx);
    ovl_worker_msg_dispose(msg);
}

size_t ovl_media_poll(ovl_media_t *m, size_t i, size_t budget, void (*fn)(const ovl_media_out_t *ev, void *ctx),
                      void *ctx)
{
    struct poll_ctx pc = {fn, ctx};
    if (i >= m->n_workers)
        return 0;
    return ovl_worker_poll_events(m->workers[i]->w, budget, on_event, &pc);
}

/* ---- counters ------------------------------------------------------------------------------------ */

void ovl_media_stats(const ovl_media_t *m, size_t i, ovl_media_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (i < m->n_workers)
        ovl_media_worker_snapshot(m->workers[i], out);
}

uint64_t ovl_media_commands_refused(const ovl_media_t *m)
{
    return m->refused;
}
