#include "hex.h"

#include <stdlib.h>
#include <string.h>

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool hex_decode(const char *hex, unsigned char **out, size_t *out_len) {
    size_t n = strlen(hex);
    if (n % 2) return false;
    unsigned char *bytes = malloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            return false;
        }
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = bytes;
    *out_len = n / 2;
    return true;
}

char *hex_encode(const unsigned char *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 15];
    }
    hex[2 * len] = '\0';
    return hex;
}
