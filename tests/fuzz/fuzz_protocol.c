/* libFuzzer target: the WebSocket JSON message parser (signaling/protocol.c), and re-encoding of what it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "signaling/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_msg_t msg;
    ovl_proto_error_t err;
    if (ovl_proto_parse((const char *)data, size, &msg, &err) == 0) {
        /* Echo the accepted fields back through the encoder, as the room would. */
        ovl_out_t out = {.type = OVL_OUT_CHAT, .participant = msg.participant, .name = msg.name, .text = msg.text};
        json_t *j = ovl_proto_encode(&out);
        char *text = j ? ovl_proto_dump(j) : NULL;
        free(text);
        json_decref(j);
        ovl_msg_dispose(&msg);
    } else if (err.code == OVL_E_NONE) {
        abort(); /* a refusal always carries a code */
    }
    return 0;
}
