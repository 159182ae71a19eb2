/* json.h — JSON (RFC 8259) read with jansson (Debian libjansson-dev, https://github.com/akheron/jansson)
 * into a plain tree, for file headers such as safetensors' and the run's log lines; and json_quote,
 * the one JSON string writer the files we write share. The tree: strings are UTF-8 (validated by
 * jansson; \u escapes decoded, surrogate pairs joined; \u0000 is refused, so every string is a plain
 * C string); numbers keep a double and, for an integer literal, the exact int64 (an integer literal
 * beyond int64 is refused); object keys keep their file order, and a key twice in one object is an
 * error. */
#ifndef RNNREG_JSON_H
#define RNNREG_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A node's type: jansson's null/string/array/object, and one kind each for booleans and numbers. */
typedef json_type JsonType;
#define JSON_BOOL JSON_TRUE    /* true and false */
#define JSON_NUMBER JSON_REAL  /* integers and reals */

typedef struct JsonValue {
    JsonType type;
    int boolean;              /* JSON_BOOL */
    double number;            /* JSON_NUMBER */
    int is_int;               /* JSON_NUMBER: the literal is an integer (no fraction or exponent) */
    int64_t integer;          /* JSON_NUMBER with is_int */
    char *string;             /* JSON_STRING (NUL-terminated UTF-8) */
    int n;                    /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct JsonValue *items;  /* [n] array elements or object values */
    char **keys;              /* [n] object keys (JSON_OBJECT only) */
} JsonValue;

/* Parse text[0..len) as exactly one JSON value (surrounding whitespace allowed). On failure returns
 * -1 and writes "<problem> at byte <k> (line <l>, column <c>)" into err (cap bytes, one printable
 * line); *out is left empty. Nesting is limited to JSON_MAX_DEPTH levels. */
#define JSON_MAX_DEPTH 64
int json_parse(const char *text, size_t len, JsonValue *out, char *err, size_t cap);
void json_free(JsonValue *v);

/* The value of key in an object (first occurrence), or NULL when v is not an object or lacks it. */
const JsonValue *json_get(const JsonValue *v, const char *key);
const char *json_type_name(JsonType t); /* "null", "bool", "number", "string", "array", "object" */

/* s as a quoted JSON string, escaped the way serde_json writes it (\" \\ \b \f \n \r \t, other
 * control characters as \u00XX, everything else verbatim), malloc'd; NULL when s is not UTF-8. */
char *json_quote(const char *s);

#endif
