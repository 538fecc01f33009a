/* CRC-32 (ISO-HDLC / IEEE 802.3, the one zlib and STUN FINGERPRINT use). */
#ifndef OVL_CRC32_H
#define OVL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/**
 * Continues a CRC-32 over len bytes: start with crc = 0, feed the result back in for the next
 * piece. ovl_crc32(0, "123456789", 9) == 0xcbf43926. Pure function, no tables to initialise.
 */
uint32_t ovl_crc32(uint32_t crc, const uint8_t *buf, size_t len);

#endif
