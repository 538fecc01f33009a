/* libFuzzer target: token verification (base64url decoding, cursor parsing) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[OVL_SECRET_BYTES] = {7};
    char token[OVL_TOKEN_MAX_LEN + 2];
    ovl_token_claims_t claims;
    ovl_token_status_t status;
    size_t n = size < sizeof(token) - 1 ? size : sizeof(token) - 1;
    memcpy(token, data, n);
    token[n] = '\0';
    if (ovl_token_verify(secret, sizeof(secret), token, "AAAAAAAAAAAAAAAAAAAAAA", 0, &claims, &status) == 0)
        abort(); /* nobody forges a MAC by fuzzing */
    return 0;
}
