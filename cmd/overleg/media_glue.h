/*
 * The one place that knows both the signaling server and the media plane: an ovl_media_port_t
 * whose functions post commands to the media workers (relay/io/media.h), and the drain of every
 * worker's event queue on the signaling thread into ovl_server_media_event.
 */
#ifndef OVL_CMD_MEDIA_GLUE_H
#define OVL_CMD_MEDIA_GLUE_H

#include "relay/io/media.h"
#include "signaling/media_port.h"
#include "signaling/server.h"

typedef struct ovl_glue ovl_glue_t;

/** Makes the glue over `media` (borrowed) and fills *port (its ctx is the glue). 0 or OVL_ERR_NOMEM. */
int ovl_glue_new(ovl_media_t *media, ovl_media_port_t *port, ovl_glue_t **out);

/**
 * Watches every worker's event queue in the server's loop and delivers events to `server`
 * (borrowed); also adds the media counters to /metrics. 0 or a negative OVL_ERR_*.
 */
int ovl_glue_attach(ovl_glue_t *g, ovl_server_t *server);

/**
 * After ovl_server_enable_turn: the TURN server's allocations reach the media workers directly
 * (ovl_media_turn_send) and the workers' answers go back to them, with no UDP socket in between.
 * 0 or OVL_ERR_STATE (no TURN server).
 */
int ovl_glue_attach_turn(ovl_glue_t *g);

/** Frees the glue (after the server that uses its port). NULL is fine. */
void ovl_glue_free(ovl_glue_t *g);

#endif
