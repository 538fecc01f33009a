/* One TCP port for HTTPS, WSS and ICE-TCP: accept, peek the first byte, hand over. See listener.h. */
#include "signaling/listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_LISTEN 8
#define PEEK_BYTES 16
#define TAG_LISTEN (1ull << 63) /* epoll data: a listening socket's index, else a pending slot */

typedef struct pending {
    int fd; /* -1: free slot */
    ovl_time_t since;
} pending_t;

struct ovl_listener {
    int ep;
    int lfd[MAX_LISTEN];
    size_t nlisten;
    uint16_t port;
    ovl_listener_handlers_t h;
    ovl_listener_config_t cfg;
    pending_t *pend; /* owned, cfg.max_pending slots */
    size_t npend;
    uint64_t accepted, raw, dropped;
};

ovl_first_byte_t ovl_listener_classify(const uint8_t *first, size_t len)
{
    if (len == 0)
        return OVL_FIRST_BYTE_RAW;
    if (first[0] == 0x16)
        return OVL_FIRST_BYTE_TLS;
    if (first[0] >= 'A' && first[0] <= 'Z')
        return OVL_FIRST_BYTE_HTTP; /* an HTTP method: GET, POST, HEAD, OPTIONS, ... */
    return OVL_FIRST_BYTE_RAW;
}

/* Splits "host:port" / "[v6]:port" at `spec` into host and port strings. */
static int split_addr(const char *spec, size_t n, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (n == 0)
        return OVL_ERR_ARG;
    if (spec[0] == '[') {
        const char *close = memchr(spec, ']', n);
        if (!close || close + 1 >= spec + n || close[1] != ':')
            return OVL_ERR_ARG;
        snprintf(host, hcap, "%.*s", (int)(close - spec - 1), spec + 1);
        colon = close + 1;
    } else {
        colon = NULL;
        for (const char *c = spec; c < spec + n; c++)
            if (*c == ':')
                colon = c;
        if (!colon)
            return OVL_ERR_ARG;
        snprintf(host, hcap, "%.*s", (int)(colon - spec), spec);
    }
    snprintf(port, pcap, "%.*s", (int)(spec + n - colon - 1), colon + 1);
    if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
        return OVL_ERR_ARG;
    return 0;
}

static int open_one(ovl_listener_t *l, const char *spec, size_t n, char *err, size_t cap)
{
    char host[128], port[8];
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1, one = 1, zero = 0, ret = OVL_ERR_IO;

    if (l->nlisten == MAX_LISTEN || split_addr(spec, n, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, cap, "listen: \"%.*s\" is not host:port or [ipv6]:port", (int)n, spec);
        return OVL_ERR_ARG;
    }
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0 || !ai) {
        snprintf(err, cap, "listen: cannot resolve \"%s\"", host);
        return OVL_ERR_ARG;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 && errno == EAFNOSUPPORT &&
        strcmp(host, "::") == 0) {
        /* A host without IPv6: "[::]" (the default) falls back to every IPv4 address. */
        freeaddrinfo(ai);
        ai = NULL;
        hints.ai_family = AF_INET;
        if (getaddrinfo("0.0.0.0", port, &hints, &ai) != 0 || !ai)
            goto Fail;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        goto Fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* "[::]" serves IPv4 too (mapped addresses); a specific v6 address only itself. */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0)
        goto Fail;
    if (l->nlisten == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN | l->nlisten};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        goto Fail;
    l->lfd[l->nlisten++] = fd;
    freeaddrinfo(ai);
    return 0;
Fail:
    snprintf(err, cap, "listen: cannot listen on %.*s: %s", (int)n, spec, strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return ret;
}

int ovl_listener_new(const ovl_listener_config_t *cfg, const ovl_listener_handlers_t *h, ovl_listener_t **out,
                     char *err, size_t cap)
{
    ovl_listener_t *l = NULL;
    int ret = OVL_ERR_NOMEM;

    *out = NULL;
    if (!cfg->listen || cfg->max_pending == 0 || !h->on_web)
        return OVL_ERR_ARG;
    if (!(l = calloc(1, sizeof(*l))) || !(l->pend = calloc(cfg->max_pending, sizeof(*l->pend))))
        goto Exit;
    l->ep = -1;
    l->cfg = *cfg;
    l->h = *h;
    for (size_t i = 0; i < cfg->max_pending; i++)
        l->pend[i].fd = -1;
    if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        ret = OVL_ERR_IO;
        goto Exit;
    }
    for (const char *s = cfg->listen; *s;) {
        size_t n = strcspn(s, ",");
        while (n > 0 && *s == ' ')
            s++, n--;
        if ((ret = open_one(l, s, n, err, cap)) != 0)
            goto Exit;
        s += n;
        if (*s == ',')
            s++;
    }
    if (l->nlisten == 0) {
        snprintf(err, cap, "listen: no address given");
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    l->cfg.listen = NULL; /* borrowed text not kept */
    *out = l;
    l = NULL;
    ret = 0;
Exit:
    ovl_listener_free(l);
    return ret;
}

static void drop_pending(ovl_listener_t *l, size_t i, int close_it)
{
    epoll_ctl(l->ep, EPOLL_CTL_DEL, l->pend[i].fd, NULL);
    if (close_it) {
        close(l->pend[i].fd);
        l->dropped++;
    }
    l->pend[i].fd = -1;
    l->npend--;
}

void ovl_listener_free(ovl_listener_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nlisten; i++)
        close(l->lfd[i]);
    for (size_t i = 0; l->pend && i < l->cfg.max_pending; i++)
        if (l->pend[i].fd >= 0)
            close(l->pend[i].fd);
    if (l->ep >= 0)
        close(l->ep);
    free(l->pend);
    free(l);
}

int ovl_listener_fd(const ovl_listener_t *l)
{
    return l->ep;
}

uint16_t ovl_listener_port(const ovl_listener_t *l)
{
    return l->port;
}

void ovl_listener_set_raw_handler(ovl_listener_t *l, void (*on_raw_tcp)(void *, int, const uint8_t *, size_t), void *ud)
{
    l->h.on_raw_tcp = on_raw_tcp;
    if (on_raw_tcp)
        l->h.ud = ud;
}

static void accept_all(ovl_listener_t *l, int lfd, ovl_time_t now)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        size_t slot;
        if (fd < 0)
            return; /* EAGAIN, or a transient error (EMFILE, ECONNABORTED): try on the next wake-up */
        l->accepted++;
        if (l->npend == l->cfg.max_pending) {
            close(fd);
            l->dropped++;
            continue;
        }
        for (slot = 0; l->pend[slot].fd >= 0; slot++)
            ;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = slot};
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            l->dropped++;
            continue;
        }
        l->pend[slot] = (pending_t){fd, now};
        l->npend++;
    }
}

static void classify_pending(ovl_listener_t *l, size_t i)
{
    uint8_t first[PEEK_BYTES];
    int fd = l->pend[i].fd;
    ssize_t n = recv(fd, first, sizeof(first), MSG_PEEK | MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* closed before saying anything */
        drop_pending(l, i, 1);
        return;
    }
    switch (ovl_listener_classify(first, (size_t)n)) {
    case OVL_FIRST_BYTE_TLS:
    case OVL_FIRST_BYTE_HTTP:
        drop_pending(l, i, 0);
        l->h.on_web(l->h.ud, fd, first[0] == 0x16);
        break;
    case OVL_FIRST_BYTE_RAW:
        if (!l->h.on_raw_tcp) {
            drop_pending(l, i, 1);
            break;
        }
        drop_pending(l, i, 0);
        l->raw++;
        l->h.on_raw_tcp(l->h.ud, fd, first, (size_t)n);
        break;
    }
}

void ovl_listener_service(ovl_listener_t *l, ovl_time_t now)
{
    struct epoll_event evs[64];
    int n = epoll_wait(l->ep, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag & TAG_LISTEN) {
            size_t k = (size_t)(tag & ~TAG_LISTEN);
            if (k < l->nlisten && l->lfd[k] >= 0)
                accept_all(l, l->lfd[k], now);
        } else if (tag < l->cfg.max_pending && l->pend[tag].fd >= 0) {
            classify_pending(l, (size_t)tag);
        }
    }
}

void ovl_listener_expire(ovl_listener_t *l, ovl_time_t now)
{
    for (size_t i = 0; i < l->cfg.max_pending && l->npend > 0; i++)
        if (l->pend[i].fd >= 0 && now >= l->pend[i].since + l->cfg.first_byte_timeout)
            drop_pending(l, i, 1);
}

void ovl_listener_stop(ovl_listener_t *l)
{
    for (size_t i = 0; i < l->nlisten; i++)
        if (l->lfd[i] >= 0) {
            epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd[i], NULL);
            close(l->lfd[i]);
            l->lfd[i] = -1;
        }
}

size_t ovl_listener_pending(const ovl_listener_t *l)
{
    return l->npend;
}

void ovl_listener_stats(const ovl_listener_t *l, uint64_t *accepted, uint64_t *raw, uint64_t *dropped)
{
    *accepted = l->accepted;
    *raw = l->raw;
    *dropped = l->dropped;
}
