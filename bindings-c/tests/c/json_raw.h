/* Raw JSON text of a member, exactly as written in the vector file. Jobs and frame objects are handed
 * to trustcore as that text (as the Rust runner hands over what serde_json read), so cJSON's own
 * number and string printing never changes what is tested. */
#ifndef TC_TEST_JSON_RAW_H
#define TC_TEST_JSON_RAW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct raw_span {
    const char *ptr;
    size_t len;
} raw_span;

/* The value of member `key` of the JSON object `object`; false when absent or not an object. */
bool raw_member(raw_span object, const char *key, raw_span *value);

/* Element `index` of the JSON array `array`; false when out of range or not an array. */
bool raw_element(raw_span array, size_t index, raw_span *value);

#endif
