/* json.c — JSON read with jansson and copied into the JsonValue tree of json.h; jansson's errors
 * turned into one printable line with the byte, line and column; json_quote, our string writer. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* ---- errors ------------------------------------------------------------------------------- */

/* The byte offset of the bracket that opens nesting level limit + 1 within text[0..len), or -1.
 * Counts '[' and '{' outside strings; jansson's own limit is 2048 levels (compiled in), ours is
 * JSON_MAX_DEPTH, checked on the text before the first error jansson found. */
static long deeper_than(const char *text, size_t len, int limit) {
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return (long)i;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return -1;
}

/* The key of a duplicate-key error, printable: jansson stops right after the key's closing quote
 * (end), so the key is the string literal that ends there; decoded by jansson again. */
static void duplicate_key(const char *text, size_t len, size_t end, char *out, size_t cap) {
    snprintf(out, cap, "?");
    if (end < 2 || end > len) return;
    for (size_t q = end - 1; q-- > 0;) {
        if (text[q] != '"') continue;
        size_t bs = 0;
        while (bs < q && text[q - 1 - bs] == '\\') bs++;
        if (bs % 2) continue; /* an escaped quote inside the key */
        json_t *key = json_loadb(text + q, end - q, JSON_DECODE_ANY, NULL);
        if (json_is_string(key)) rr_escape(json_string_value(key), json_string_length(key), 64, out, cap);
        json_decref(key);
        return;
    }
}

/* One line for jansson's error e on text: our words for the errors callers name, jansson's text
 * (escaped: it quotes input bytes) for the rest, then the place. */
static void describe_error(const char *text, size_t len, const json_error_t *e, char *err, size_t cap) {
    char what[200], key[100];
    long deep = deeper_than(text, (size_t)e->position < len ? (size_t)e->position : len, JSON_MAX_DEPTH);
    if (deep >= 0) {
        snprintf(err, cap, "nesting deeper than %d at byte %ld", JSON_MAX_DEPTH, deep);
        return;
    }
    switch (json_error_code(e)) {
    case json_error_invalid_utf8: snprintf(what, sizeof what, "invalid UTF-8"); break;
    case json_error_end_of_input_expected: snprintf(what, sizeof what, "trailing characters after the JSON value"); break;
    case json_error_null_character:
    case json_error_null_byte_in_key: snprintf(what, sizeof what, "\\u0000 in string is not supported"); break;
    case json_error_stack_overflow: snprintf(what, sizeof what, "nesting deeper than jansson's limit"); break;
    case json_error_duplicate_key:
        duplicate_key(text, len, (size_t)e->position, key, sizeof key);
        snprintf(what, sizeof what, "duplicate key '%s'", key);
        break;
    default:
        if (!strncmp(e->text, "invalid Unicode", 15)) /* jansson's words for a surrogate without its pair */
            snprintf(what, sizeof what, "lone surrogate in \\u escape");
        else
            rr_escape(e->text, strlen(e->text), sizeof what, what, sizeof what);
    }
    snprintf(err, cap, "%s at byte %d (line %d, column %d)", what, e->position, e->line, e->column);
}

/* ---- the tree ----------------------------------------------------------------------------- */

/* Copy jansson's node j (and what it holds) into v. */
static void copy_node(const json_t *j, JsonValue *v) {
    memset(v, 0, sizeof *v);
    switch (json_typeof(j)) {
    case JSON_NULL: v->type = JSON_NULL; break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->type = JSON_BOOL;
        v->boolean = json_is_true(j);
        break;
    case JSON_INTEGER:
        v->type = JSON_NUMBER;
        v->is_int = 1;
        v->integer = (int64_t)json_integer_value(j);
        v->number = (double)v->integer;
        break;
    case JSON_REAL:
        v->type = JSON_NUMBER;
        v->number = json_real_value(j);
        break;
    case JSON_STRING:
        v->type = JSON_STRING;
        v->string = rr_strdup(json_string_value(j));
        break;
    case JSON_ARRAY: {
        v->type = JSON_ARRAY;
        v->n = (int)json_array_size(j);
        v->items = rr_calloc((size_t)v->n + 1, sizeof *v->items);
        size_t i;
        json_t *item;
        json_array_foreach(j, i, item) copy_node(item, &v->items[i]);
        break;
    }
    case JSON_OBJECT: {
        v->type = JSON_OBJECT;
        v->n = (int)json_object_size(j);
        v->items = rr_calloc((size_t)v->n + 1, sizeof *v->items);
        v->keys = rr_calloc((size_t)v->n + 1, sizeof *v->keys);
        int i = 0;
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)j, key, item) { /* jansson keeps the file's key order */
            v->keys[i] = rr_strdup(key);
            copy_node(item, &v->items[i++]);
        }
        break;
    }
    }
}

int json_parse(const char *text, size_t len, JsonValue *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    if (cap) err[0] = 0;
    json_error_t e;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        char line[300];
        describe_error(text, len, &e, line, sizeof line);
        if (cap) snprintf(err, cap, "%s", line);
        return -1;
    }
    long deep = deeper_than(text, len, JSON_MAX_DEPTH);
    if (deep >= 0) {
        json_decref(root);
        if (cap) snprintf(err, cap, "nesting deeper than %d at byte %ld", JSON_MAX_DEPTH, deep);
        return -1;
    }
    copy_node(root, out);
    json_decref(root);
    return 0;
}

void json_free(JsonValue *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const JsonValue *json_get(const JsonValue *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}

const char *json_type_name(JsonType t) {
    switch ((int)t) {
    case JSON_NULL: return "null";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "?";
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Our own writer, kept because the files we write must stay byte-identical and jansson's dump
 * writes control characters as \u001F where serde_json (and we) write \u001f. UTF-8 is checked
 * by jansson (json_string refuses invalid UTF-8). */
char *json_quote(const char *s) {
    json_t *check = json_string(s);
    if (!check) return NULL;
    json_decref(check);
    size_t len = strlen(s), n = 0;
    char *q = rr_malloc(6 * len + 3);
    q[n++] = '"';
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        const char *esc = NULL;
        switch (*u) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        }
        if (esc) n += (size_t)sprintf(q + n, "%s", esc);
        else if (*u < 0x20) n += (size_t)sprintf(q + n, "\\u%04x", *u);
        else q[n++] = (char)*u;
    }
    q[n++] = '"';
    q[n] = 0;
    return q;
}
