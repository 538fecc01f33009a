#include "relay/proto/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "relay/proto/base.h"

void ovl_addr_set_ipv4(ovl_addr_t *a, const uint8_t ip[4], uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->family = OVL_ADDR_IPV4;
    a->port = port;
    memcpy(a->ip, ip, 4);
}

void ovl_addr_set_ipv6(ovl_addr_t *a, const uint8_t ip[16], uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->family = OVL_ADDR_IPV6;
    a->port = port;
    memcpy(a->ip, ip, 16);
}

bool ovl_addr_equal(const ovl_addr_t *a, const ovl_addr_t *b)
{
    if (a->family != b->family || a->port != b->port)
        return false;
    size_t n = a->family == OVL_ADDR_IPV4 ? 4 : a->family == OVL_ADDR_IPV6 ? 16 : 0;
    return memcmp(a->ip, b->ip, n) == 0;
}

int ovl_addr_parse(ovl_addr_t *a, const char *ip, uint16_t port)
{
    uint8_t bytes[16];
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, ip, bytes) == 1) {
        ovl_addr_set_ipv4(a, bytes, port);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, bytes) == 1) {
        ovl_addr_set_ipv6(a, bytes, port);
        return 0;
    }
    return OVL_ERR_PARSE;
}

const char *ovl_addr_format(const ovl_addr_t *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (cap == 0)
        return buf;
    switch (a->family) {
    case OVL_ADDR_IPV4:
        inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, (unsigned)a->port);
        break;
    case OVL_ADDR_IPV6:
        inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, (unsigned)a->port);
        break;
    default:
        snprintf(buf, cap, "-");
        break;
    }
    return buf;
}

int ovl_addr_from_sockaddr(ovl_addr_t *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ovl_addr_set_ipv4(a, (const uint8_t *)&in->sin_addr, ntohs(in->sin_port));
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        ovl_addr_set_ipv6(a, in6->sin6_addr.s6_addr, ntohs(in6->sin6_port));
        return 0;
    }
    return OVL_ERR_UNSUPPORTED;
}

int ovl_addr_to_sockaddr(const ovl_addr_t *a, struct sockaddr_storage *ss, size_t *len)
{
    memset(ss, 0, sizeof(*ss));
    *len = 0;
    if (a->family == OVL_ADDR_IPV4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        *len = sizeof(*in);
        return 0;
    }
    if (a->family == OVL_ADDR_IPV6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->ip, 16);
        *len = sizeof(*in6);
        return 0;
    }
    return OVL_ERR_ARG;
}
