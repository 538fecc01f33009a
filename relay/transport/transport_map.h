/*
 * Finding the transport a datagram belongs to, when one relay port (a media worker's UDP socket, or
 * the ICE-TCP listener) is shared by many transports — as with mediasoup's WebRtcServer:
 *
 * - a STUN check names its transport in USERNAME ("<relay ufrag>:<peer ufrag>", RFC 8445 §7.2.2),
 *   so it is routed by the local ufrag (ovl_ice_username_local_ufrag);
 * - everything else (DTLS, SRTP, consent checks too if USERNAME is absent) is routed by its source,
 *   (remote address, path_id), among the paths that passed an ICE check.
 *
 * The map is kept up to date by the transports themselves (ovl_transport_config_t.map): a transport
 * registers its local ufrag when created (and the new one on an ICE restart, the old one being
 * removed once the restart completes), each path as soon as a check validates it (the latest
 * transport to validate a path owns it), removes the paths ICE forgets (timeout, eviction, failure,
 * restart), and removes everything when freed.
 *
 * Two open-addressing tables (linear probing, backward-shift deletion, no tombstones), sized once
 * for `max_transports` at no more than half full and hashed with SipHash-2-4 under a per-map random
 * key, so that nobody can choose addresses or ufrags that collide. No allocation after
 * ovl_transport_map_new, none per lookup; one map belongs to one thread (its media worker).
 */
#ifndef OVL_TRANSPORT_MAP_H
#define OVL_TRANSPORT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/ice.h"
#include "relay/transport/transport.h"

/* Paths one transport may have in a map: the lite agent's validated pairs, plus the media path and
 * a pre-restart path of a client. */
#define OVL_TRANSPORT_MAX_PATHS (OVL_ICE_LITE_MAX_PAIRS + 2)

typedef struct ovl_transport_map_stats {
    size_t transports; /* registered */
    size_t ufrags;     /* ufrag entries (a transport in an ICE restart has two) */
    size_t paths;      /* (address, path_id) entries */
    uint64_t refused;  /* registrations refused: map full, or a ufrag already taken */
} ovl_transport_map_stats_t;

#define OVL_TRANSPORT_MAP_MAX          65536 /* transports per map (a media worker) */
#define OVL_TRANSPORT_MAP_HASH_KEY_LEN 16

/**
 * Creates a map for up to max_transports transports (1 .. OVL_TRANSPORT_MAP_MAX), allocating both
 * tables. hash_key (OVL_TRANSPORT_MAP_HASH_KEY_LEN bytes, copied) keys SipHash-2-4 over the keys;
 * NULL draws a random one from OpenSSL (tests pass a fixed key). *out owns the map; free it after
 * every transport registered in it. Errors: OVL_ERR_ARG, OVL_ERR_NOMEM, OVL_ERR_CRYPTO.
 */
int ovl_transport_map_new(size_t max_transports, const uint8_t *hash_key, ovl_transport_map_t **out);

/** Frees the map. Transports still registered must not be used with it afterwards. NULL is a no-op. */
void ovl_transport_map_free(ovl_transport_map_t *map);

/** The transport whose current (or, during an ICE restart, previous) local ufrag is ufrag[0..len),
 * or NULL. */
ovl_transport_t *ovl_transport_map_find_ufrag(const ovl_transport_map_t *map, const char *ufrag, size_t len);

/** The transport that trusts (addr, path_id), or NULL. */
ovl_transport_t *ovl_transport_map_find_path(const ovl_transport_map_t *map, const ovl_addr_t *addr, uint64_t path_id);

/**
 * Routes one received datagram: a STUN message whose USERNAME names a registered local ufrag to that
 * transport (parsed once, then ovl_transport_on_stun); anything else by (from, path_id)
 * (ovl_transport_on_datagram). Sets *found (may be NULL) to the transport that took it. Returns that
 * call's result, or OVL_ERR_NOTFOUND when no transport claims the datagram (the caller drops and
 * counts it).
 */
int ovl_transport_map_dispatch(ovl_transport_map_t *map, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf,
                               size_t len, ovl_time_t now, ovl_transport_t **found);

/** Copies the counters into *out. */
void ovl_transport_map_stats(const ovl_transport_map_t *map, ovl_transport_map_stats_t *out);

/* ---- for transport.c: registration (callers of the map need none of these) -------------------- */

/** Counts a transport in (OVL_ERR_LIMIT when max_transports are registered). */
int ovl_transport_map_attach(ovl_transport_map_t *map);

/** Counts a transport out (after it removed its entries). */
void ovl_transport_map_detach(ovl_transport_map_t *map);

/** Maps ufrag[0..len) (borrowed from t: it must stay unchanged until removed) to t. OVL_ERR_ARG if
 * another transport has it, OVL_ERR_LIMIT if the table is full. Idempotent for the same t. */
int ovl_transport_map_add_ufrag(ovl_transport_map_t *map, ovl_transport_t *t, const char *ufrag, size_t len);

/** Removes ufrag[0..len) if t owns it. */
void ovl_transport_map_remove_ufrag(ovl_transport_map_t *map, const ovl_transport_t *t, const char *ufrag, size_t len);

/** Maps the path to t, taking it over from another transport if need be. OVL_ERR_LIMIT when full. */
int ovl_transport_map_add_path(ovl_transport_map_t *map, ovl_transport_t *t, const ovl_ice_path_t *path);

/** Removes the path if t owns it. */
void ovl_transport_map_remove_path(ovl_transport_map_t *map, const ovl_transport_t *t, const ovl_ice_path_t *path);

/** SipHash-2-4 (Aumasson and Bernstein, 2012) of data[0..len) under a 16-byte key; exposed for its
 * test vectors. */
uint64_t ovl_transport_map_siphash(const uint8_t key[OVL_TRANSPORT_MAP_HASH_KEY_LEN], const uint8_t *data, size_t len);

#endif
