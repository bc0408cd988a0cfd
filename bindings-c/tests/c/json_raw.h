/* Raw JSON text of a member, exactly as written in the vector file. Jobs and frame objects are handed
 * to trustcore as that text (as the Rust runner hands over what serde_json read), so cJSON's own
 * number and string printing never changes what is tested.
 *
 * And a case's large values (tests/vectors/README.md, "Large values"): an object whose only member
 * is `$repeat` [TEXT, N], `$nest` [KEY, N, LEAF] or `$nest_list` [N, LEAF] stands for the value it
 * makes. raw_expand writes the text out (everything else byte for byte); tree_expand does the same in
 * a cJSON tree, where a nested value becomes a cJSON raw item holding its text: cJSON refuses to read
 * past 1000 levels, and reads and frees recursively. */
#ifndef TC_TEST_JSON_RAW_H
#define TC_TEST_JSON_RAW_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

typedef struct raw_span {
    const char *ptr;
    size_t len;
} raw_span;

/* The value of member `key` of the JSON object `object`; false when absent or not an object. Values
 * are skipped over, never parsed: a value nested 10,000 deep is found as any other. */
bool raw_member(raw_span object, const char *key, raw_span *value);

/* Element `index` of the JSON array `array`; false when out of range or not an array. */
bool raw_element(raw_span array, size_t index, raw_span *value);

/* The JSON string `value` with its escapes written out, \u0000 included (cJSON stops a string at a
 * NUL), as a new buffer (caller frees; a NUL follows the text, its length in *len, which counts
 * any NUL inside). False when `value` is not a string. */
bool raw_string(raw_span value, char **out, size_t *len);

/* `value` (valid JSON text) with every marker written out, as a new NUL-terminated text (caller
 * frees; its length in *len). NULL for a marker whose arguments are malformed. */
char *raw_expand(raw_span value, size_t *len);

/* `item` with every marker written out: `$repeat` becomes a string, `$nest` and `$nest_list` a raw
 * item with the expanded text (cJSON_Print writes it as it is). Returns `item`, or its replacement
 * when `item` is itself a marker (then `item` is deleted); NULL for malformed arguments (`item` is
 * deleted too). */
cJSON *tree_expand(cJSON *item);

#endif
