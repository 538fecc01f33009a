/* Internal to the rtcp_*.c files: shared between the parser and the transport-cc decoder. */
#ifndef OVL_RTCP_PRIV_H
#define OVL_RTCP_PRIV_H

#include "relay/proto/rtcp.h"

/**
 * Parses the transport-cc FCI in t->fb and walks its chunks once: sets every other field of *t
 * (chunks, deltas and their lengths). Returns 0 or OVL_ERR_PARSE.
 */
int ovl_rtcp_twcc_parse(ovl_rtcp_twcc_t *t);

#endif
