/* json.h — a small strict JSON (RFC 8259) reader into a tree, for file headers such as safetensors'.
 * Strings are UTF-8 (validated; \u escapes decoded, surrogate pairs joined; \u0000 is refused so every
 * string is a plain C string). Numbers keep both a double and, when the literal is an integer that
 * fits, the exact int64. Object keys keep their file order; duplicates are kept (callers decide). */
#ifndef RNNREG_JSON_H
#define RNNREG_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct JsonValue {
    JsonType type;
    int boolean;              /* JSON_BOOL */
    double number;            /* JSON_NUMBER */
    int is_int;               /* JSON_NUMBER: literal has no fraction/exponent and fits int64 */
    int64_t integer;          /* JSON_NUMBER with is_int */
    char *string;             /* JSON_STRING (NUL-terminated UTF-8) */
    int n;                    /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct JsonValue *items;  /* [n] array elements or object values */
    char **keys;              /* [n] object keys (JSON_OBJECT only) */
} JsonValue;

/* Parse text[0..len) as exactly one JSON value (surrounding whitespace allowed). On failure returns
 * -1 and writes "<problem> at byte <k>" into err (cap bytes); *out is left empty. Nesting is limited
 * to 64 levels. */
int json_parse(const char *text, size_t len, JsonValue *out, char *err, size_t cap);
void json_free(JsonValue *v);

/* The value of key in an object (first occurrence), or NULL when v is not an object or lacks it. */
const JsonValue *json_get(const JsonValue *v, const char *key);
const char *json_type_name(JsonType t); /* "null", "bool", "number", "string", "array", "object" */

/* s as a quoted JSON string, escaped the way serde_json writes it (\" \\ \b \f \n \r \t, other
 * control characters as \u00XX, everything else verbatim), malloc'd; NULL when s is not UTF-8. */
char *json_quote(const char *s);

#endif
