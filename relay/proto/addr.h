/*
 * A transport address (IP + port) small enough to copy by value and compare with one call: what STUN
 * puts in (XOR-)MAPPED-ADDRESS, what ICE remembers per validated pair, what SDP candidates carry.
 * The event loop converts to and from struct sockaddr at the socket; protocol cores never see one.
 */
#ifndef OVL_ADDR_H
#define OVL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct sockaddr_storage;

enum {
    OVL_ADDR_NONE = 0, /* an unset address */
    OVL_ADDR_IPV4 = 4,
    OVL_ADDR_IPV6 = 6,
};

typedef struct ovl_addr {
    uint8_t family; /* OVL_ADDR_IPV4, OVL_ADDR_IPV6 or OVL_ADDR_NONE */
    uint16_t port;  /* host byte order */
    uint8_t ip[16]; /* network byte order; IPv4 uses ip[0..3], the rest stays zero */
} ovl_addr_t;

/* Longest ovl_addr_format output including the NUL: "[" + 45-char IPv6 + "]:" + 5 digits. */
#define OVL_ADDR_STRLEN 56

/** Sets *a to the IPv4 address ip[0..3] (network order) and port (host order). */
void ovl_addr_set_ipv4(ovl_addr_t *a, const uint8_t ip[4], uint16_t port);

/** Sets *a to the IPv6 address ip[0..15] (network order) and port (host order). */
void ovl_addr_set_ipv6(ovl_addr_t *a, const uint8_t ip[16], uint16_t port);

/** True when family, port and IP bytes are equal. Two unset addresses are equal. */
bool ovl_addr_equal(const ovl_addr_t *a, const ovl_addr_t *b);

/**
 * Parses a numeric IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1") string, no brackets, no port, no
 * host names, into *a with the given port. Returns 0 or OVL_ERR_PARSE (then *a is unset).
 */
int ovl_addr_parse(ovl_addr_t *a, const char *ip, uint16_t port);

/**
 * Writes "192.0.2.1:32853" or "[2001:db8::1]:32853" (or "-" for an unset address) into buf, always
 * NUL-terminated when cap > 0. Returns buf so it can be used inside a printf argument list.
 */
const char *ovl_addr_format(const ovl_addr_t *a, char *buf, size_t cap);

/** Converts a sockaddr_in or sockaddr_in6 into *a. Returns 0 or OVL_ERR_UNSUPPORTED (other families). */
int ovl_addr_from_sockaddr(ovl_addr_t *a, const struct sockaddr *sa);

/** Fills *ss (and *len, the length to pass to sendto) from *a. Returns 0 or OVL_ERR_ARG for an unset address. */
int ovl_addr_to_sockaddr(const ovl_addr_t *a, struct sockaddr_storage *ss, size_t *len);

#endif
