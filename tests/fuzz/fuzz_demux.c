/* libFuzzer target: RFC 7983 classification must accept any input. */
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/demux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_demux_kind_t k = ovl_demux_classify(data, size);
    (void)ovl_demux_kind_name(k);
    return 0;
}
