/*
 * The relay's ICE ufrags name their media worker, so that any thread can route a STUN check (or a
 * whole ICE-TCP connection) to the worker that owns the transport without a shared map.
 *
 * Why: an ICE-TCP connection is accepted on the signaling thread (signaling/listener.c owns the
 * one TCP port), but the transport it belongs to lives in one media worker, and the only thing
 * that names that transport is the USERNAME of the first STUN check ("<relay ufrag>:<peer ufrag>",
 * RFC 8445 §7.2.2). A map from ufrag to worker shared between threads would need a lock or an RCU
 * scheme; instead the relay writes the worker's index into every ufrag it issues.
 *
 * The rule (OVL_MEDIA_UFRAG_LEN = 16 ice-chars, RFC 8839 §5.4 "ice-char = ALPHA / DIGIT / + / /"):
 *
 *     ufrag[0..2)  = the worker index w (0 .. OVL_MEDIA_UFRAG_MAX_WORKERS-1) in two base64 digits,
 *                    most significant first: ALPHABET[w >> 6], ALPHABET[w & 63]
 *     ufrag[2..16) = 14 random ice-chars, ALPHABET[rand[i] & 63] (84 bits, RFC 8445 §5.3 asks for
 *                    at least 24; 256 is a multiple of 64 so the mapping is unbiased)
 *
 * with ALPHABET = "A-Z a-z 0-9 + /" (the base64 alphabet, all ice-chars). The ufrag travels in the
 * relay's SDP (a=ice-ufrag), so the browser echoes it back in every check.
 *
 * Hand-off of an ICE-TCP connection (signaling thread, the media plane's raw-TCP handler):
 *
 *     peek the socket until ovl_tcp_first_frame_ufrag (tcp_conn.h) finds the first RFC 4571 frame
 *     -> ovl_media_ufrag_worker(ufrag, len, &w)   (OVL_ERR_PARSE: not one of ours, close)
 *     -> post the fd to worker w (ovl_worker_post), which makes an ovl_tcp_conn_t of it; the
 *        first frame is still unread in the socket (peeked), so the worker reads it as usual.
 *
 * Pure functions: no randomness of their own (the caller passes it), no clock, no state.
 */
#ifndef OVL_IO_UFRAG_H
#define OVL_IO_UFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

#define OVL_MEDIA_UFRAG_LEN         16   /* characters, without the NUL */
#define OVL_MEDIA_UFRAG_WORKER_LEN  2    /* leading characters naming the worker */
#define OVL_MEDIA_UFRAG_RAND_LEN    14   /* random bytes the caller supplies (one per character) */
#define OVL_MEDIA_UFRAG_MAX_WORKERS 4096 /* 64 * 64 */

/**
 * Writes worker w's ufrag into out (OVL_MEDIA_UFRAG_LEN characters and a NUL; cap must be at least
 * OVL_MEDIA_UFRAG_LEN + 1), taking one character from each of the OVL_MEDIA_UFRAG_RAND_LEN bytes of
 * `rand` (the caller draws them from a CSPRNG, e.g. RAND_bytes). Returns 0, or OVL_ERR_ARG when w
 * is OVL_MEDIA_UFRAG_MAX_WORKERS or more, or rand/out is NULL, or cap is too small (then out is
 * left unchanged).
 */
int ovl_media_ufrag_make(char *out, size_t cap, unsigned worker, const uint8_t rand[OVL_MEDIA_UFRAG_RAND_LEN]);

/**
 * The worker a relay ufrag names: ufrag[0..len) (not NUL-terminated; e.g. borrowed from a STUN
 * USERNAME) must be exactly OVL_MEDIA_UFRAG_LEN ice-chars. Sets *worker (0 on failure) and returns
 * 0, or OVL_ERR_PARSE when the text cannot be a relay ufrag (wrong length, a character outside the
 * alphabet). A well-formed ufrag that the relay never issued still names some worker: that
 * worker's transport map then finds no transport, and the connection is closed there.
 */
int ovl_media_ufrag_worker(const char *ufrag, size_t len, unsigned *worker);

#endif
