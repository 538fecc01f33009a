/*
 * Addresses of the media plane: which ones go into the relay's ICE candidates, and the conversion
 * between the kernel's socket addresses and ovl_addr_t at the UDP socket.
 *
 * The relay is ICE-lite with host candidates only (RFC 8445 §2.5), so the candidates must carry an
 * address the browsers can send to: `public_ip` when the operator set one (NAT, containers), else
 * the machine's own interface addresses. Loopback is announced only when nothing else exists:
 * Chromium's host candidates are interface addresses, and Linux drops a datagram from one of them
 * to 127.0.0.1 as a martian, so a loopback candidate would only work for loopback peers.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "relay/io/media_int.h"

static bool is_wildcard(const char *bind)
{
    return !bind || !bind[0] || strcmp(bind, "::") == 0 || strcmp(bind, "0.0.0.0") == 0;
}

static void add(char (*out)[64], size_t max, size_t *n, const char *ip)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(out[i], ip) == 0)
            return;
    if (*n < max)
        snprintf(out[(*n)++], 64, "%s", ip);
}

/* Up and running (a carrier), non-loopback interfaces: IPv4 first, then IPv6 (not link-local: it needs a scope id). */
static void interfaces(bool v6_ok, char (*out)[64], size_t max, size_t *n)
{
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return;
    for (int pass = 0; pass < 2; pass++)
        for (struct ifaddrs *i = all; i; i = i->ifa_next) {
            char ip[INET6_ADDRSTRLEN];
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_RUNNING) ||
                (i->ifa_flags & IFF_LOOPBACK))
                continue;
            if (pass == 0 && i->ifa_addr->sa_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
                add(out, max, n, ip);
            } else if (pass == 1 && v6_ok && i->ifa_addr->sa_family == AF_INET6) {
                const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_V4MAPPED(a))
                    continue;
                inet_ntop(AF_INET6, a, ip, sizeof(ip));
                add(out, max, n, ip);
            }
        }
    freeifaddrs(all);
}

int ovl_media_addr_resolve(const char *public_ips, const char *bind, bool v6_ok, char (*out)[64], size_t max, size_t *n,
                           char *err, size_t cap)
{
    *n = 0;
    if (public_ips && public_ips[0]) {
        const char *p = public_ips;
        while (*p) {
            size_t len = strcspn(p, ", \t");
            if (len) {
                char ip[64];
                ovl_addr_t a;
                snprintf(ip, sizeof(ip), "%.*s", (int)(len < 63 ? len : 63), p);
                if (len >= sizeof(ip) || ovl_addr_parse(&a, ip, 0) != 0) {
                    snprintf(err, cap, "public_ip: not a numeric IPv4 or IPv6 address: \"%.64s\"", ip);
                    return OVL_ERR_PARSE;
                }
                if (a.family == OVL_ADDR_IPV6 && !v6_ok) {
                    snprintf(err, cap, "public_ip: %s is IPv6 but the media sockets are IPv4 (media_bind)", ip);
                    return OVL_ERR_PARSE;
                }
                if (*n == max) {
                    snprintf(err, cap, "public_ip: at most %zu addresses", max);
                    return OVL_ERR_PARSE;
                }
                char canon[64];
                inet_ntop(a.family == OVL_ADDR_IPV4 ? AF_INET : AF_INET6, a.ip, canon, sizeof(canon));
                add(out, max, n, canon);
            }
            p += len;
            p += strspn(p, ", \t");
        }
        if (*n == 0) {
            snprintf(err, cap, "public_ip: no address in \"%.64s\"", public_ips);
            return OVL_ERR_PARSE;
        }
        return 0;
    }
    if (!is_wildcard(bind)) {
        add(out, max, n, bind);
        return 0;
    }
    interfaces(v6_ok, out, max, n);
    if (*n == 0)
        add(out, max, n, "127.0.0.1");
    return 0;
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int ovl_media_addr_from_sockaddr(ovl_addr_t *a, const struct sockaddr *sa)
{
    int ret = ovl_addr_from_sockaddr(a, sa);
    if (ret == 0 && a->family == OVL_ADDR_IPV6 && memcmp(a->ip, v4mapped_prefix, 12) == 0) {
        uint8_t v4[4];
        memcpy(v4, a->ip + 12, 4);
        ovl_addr_set_ipv4(a, v4, a->port);
    }
    return ret;
}

int ovl_media_addr_to_sockaddr(const ovl_addr_t *a, bool v6_socket, struct sockaddr_storage *ss, socklen_t *len)
{
    size_t n = 0;
    int ret;
    if (v6_socket && a->family == OVL_ADDR_IPV4) {
        ovl_addr_t m;
        uint8_t ip[16];
        memcpy(ip, v4mapped_prefix, 12);
        memcpy(ip + 12, a->ip, 4);
        ovl_addr_set_ipv6(&m, ip, a->port);
        ret = ovl_addr_to_sockaddr(&m, ss, &n);
    } else {
        ret = ovl_addr_to_sockaddr(a, ss, &n);
    }
    *len = (socklen_t)n;
    return ret;
}
