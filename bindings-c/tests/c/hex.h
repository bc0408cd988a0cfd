/* Hex for the test programs (vectors carry binary values as hex). */
#ifndef TC_TEST_HEX_H
#define TC_TEST_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* Decode `hex` into a new buffer (*out, caller frees; never NULL on success). */
bool hex_decode(const char *hex, unsigned char **out, size_t *out_len);

/* Encode `len` bytes as a new NUL-terminated lowercase hex string (caller frees). */
char *hex_encode(const unsigned char *data, size_t len);

#endif
