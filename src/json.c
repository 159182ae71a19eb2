/* json.c — a small strict JSON reader (RFC 8259) into a JsonValue tree; see json.h. Recursive descent
 * with a depth limit; every read is bounds-checked against the given length. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define JSON_MAX_DEPTH 64

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    char *err;
    size_t cap;
    int failed;
} Parser;

static int fail(Parser *p, const char *fmt, ...) RR_PRINTF(2, 3);
static int fail(Parser *p, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = 1;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->cap) snprintf(p->err, p->cap, "%s at byte %zu", what, p->pos);
    return -1;
}

static void skip_ws(Parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int peek(const Parser *p) { return p->pos < p->len ? p->s[p->pos] : -1; }

static int match_word(Parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail(p, "invalid literal");
    p->pos += n;
    return 0;
}

/* ---- strings ---------------------------------------------------------------------------- */

typedef struct {
    char *b;
    size_t n, cap;
} Buf;

static void buf_put(Buf *b, const void *src, size_t n) {
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 32;
        b->b = rr_realloc(b->b, b->cap);
    }
    memcpy(b->b + b->n, src, n);
    b->n += n;
    b->b[b->n] = 0;
}

static void put_utf8(Buf *b, unsigned cp) {
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = 0xC0 | (cp >> 6); u[1] = 0x80 | (cp & 0x3F); n = 2; }
    else if (cp < 0x10000) { u[0] = 0xE0 | (cp >> 12); u[1] = 0x80 | ((cp >> 6) & 0x3F); u[2] = 0x80 | (cp & 0x3F); n = 3; }
    else { u[0] = 0xF0 | (cp >> 18); u[1] = 0x80 | ((cp >> 12) & 0x3F); u[2] = 0x80 | ((cp >> 6) & 0x3F); u[3] = 0x80 | (cp & 0x3F); n = 4; }
    buf_put(b, u, n);
}

/* Length of the valid UTF-8 sequence at s[0..avail) (Unicode 3.9, table 3-7), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

static int hex4(Parser *p, unsigned *out) {
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p->s[p->pos + i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return fail(p, "invalid \\u escape");
        v = v * 16 + (unsigned)d;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

/* p->pos is at the opening quote; on success *out is a malloc'd NUL-terminated string. */
static int parse_string(Parser *p, char **out) {
    Buf b = {0};
    buf_put(&b, "", 0);
    p->pos++; /* opening quote */
    for (;;) {
        if (p->pos >= p->len) { free(b.b); return fail(p, "unterminated string"); }
        unsigned char c = p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) { free(b.b); return fail(p, "control character in string"); }
        if (c != '\\') {
            size_t n = utf8_seq_len(p->s + p->pos, p->len - p->pos);
            if (!n) { free(b.b); return fail(p, "invalid UTF-8 in string"); }
            buf_put(&b, p->s + p->pos, n);
            p->pos += n;
            continue;
        }
        p->pos++;
        if (p->pos >= p->len) { free(b.b); return fail(p, "unterminated string"); }
        char e = (char)p->s[p->pos++], ch;
        switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
            unsigned cp;
            if (hex4(p, &cp)) { free(b.b); return -1; }
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* high surrogate: a low one must follow */
                unsigned lo;
                if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    free(b.b);
                    return fail(p, "lone surrogate in \\u escape");
                }
                p->pos += 2;
                if (hex4(p, &lo)) { free(b.b); return -1; }
                if (lo < 0xDC00 || lo > 0xDFFF) { free(b.b); return fail(p, "lone surrogate in \\u escape"); }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(b.b);
                return fail(p, "lone surrogate in \\u escape");
            } else if (cp == 0) {
                free(b.b);
                return fail(p, "\\u0000 in string is not supported");
            }
            put_utf8(&b, cp);
            continue;
        }
        default: free(b.b); return fail(p, "invalid escape '\\%c'", e >= 0x20 && e < 0x7F ? e : '?');
        }
        buf_put(&b, &ch, 1);
    }
    *out = b.b;
    return 0;
}

/* ---- numbers ---------------------------------------------------------------------------- */

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int parse_number(Parser *p, JsonValue *v) {
    size_t start = p->pos;
    int neg = 0, integral = 1;
    if (peek(p) == '-') { neg = 1; p->pos++; }
    if (!is_digit(peek(p))) return fail(p, "invalid number");
    if (peek(p) == '0') {
        p->pos++;
        if (is_digit(peek(p))) return fail(p, "leading zero in number");
    } else {
        while (is_digit(peek(p))) p->pos++;
    }
    size_t int_end = p->pos;
    if (peek(p) == '.') {
        integral = 0;
        p->pos++;
        if (!is_digit(peek(p))) return fail(p, "invalid number");
        while (is_digit(peek(p))) p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        integral = 0;
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!is_digit(peek(p))) return fail(p, "invalid number");
        while (is_digit(peek(p))) p->pos++;
    }
    size_t n = p->pos - start;
    char small[64], *tmp = n < sizeof small ? small : rr_malloc(n + 1);
    memcpy(tmp, p->s + start, n);
    tmp[n] = 0;
    v->type = JSON_NUMBER;
    v->number = strtod(tmp, NULL);
    if (tmp != small) free(tmp);
    if (integral) { /* exact int64 when it fits */
        uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        int fits = 1;
        for (size_t i = start + (size_t)neg; i < int_end; i++) {
            unsigned d = p->s[i] - '0';
            if (mag > (limit - d) / 10) { fits = 0; break; }
            mag = mag * 10 + d;
        }
        if (fits) {
            v->is_int = 1;
            v->integer = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
        }
    }
    return 0;
}

/* ---- values ----------------------------------------------------------------------------- */

static int parse_value(Parser *p, JsonValue *v, int depth);

static int parse_container(Parser *p, JsonValue *v, int depth, int is_object) {
    char close = is_object ? '}' : ']';
    int cap = 0;
    v->type = is_object ? JSON_OBJECT : JSON_ARRAY;
    p->pos++; /* opening bracket */
    skip_ws(p);
    if (peek(p) == close) { p->pos++; return 0; }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? 2 * cap : 4;
            v->items = rr_realloc(v->items, (size_t)cap * sizeof *v->items);
            if (is_object) v->keys = rr_realloc(v->keys, (size_t)cap * sizeof *v->keys);
        }
        JsonValue *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        if (is_object) {
            skip_ws(p);
            if (peek(p) != '"') return fail(p, "expected a string key");
            if (parse_string(p, &v->keys[v->n])) return -1;
            v->n++; /* counted now so json_free releases the key even if the value fails */
            skip_ws(p);
            if (peek(p) != ':') return fail(p, "expected ':'");
            p->pos++;
        } else {
            v->n++;
        }
        if (parse_value(p, item, depth + 1)) return -1;
        skip_ws(p);
        int c = peek(p);
        if (c == ',') { p->pos++; continue; }
        if (c == close) { p->pos++; return 0; }
        return fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(Parser *p, JsonValue *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nesting deeper than %d", JSON_MAX_DEPTH);
    skip_ws(p);
    int c = peek(p);
    switch (c) {
    case -1: return fail(p, "unexpected end of input");
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"': v->type = JSON_STRING; return parse_string(p, &v->string);
    case 't': v->type = JSON_BOOL; v->boolean = 1; return match_word(p, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = 0; return match_word(p, "false");
    case 'n': v->type = JSON_NULL; return match_word(p, "null");
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, v);
        return fail(p, "unexpected character");
    }
}

int json_parse(const char *text, size_t len, JsonValue *out, char *err, size_t cap) {
    Parser p = {(const unsigned char *)text, len, 0, err, cap, 0};
    memset(out, 0, sizeof *out);
    if (cap) err[0] = 0;
    if (parse_value(&p, out, 0) == 0) {
        skip_ws(&p);
        if (p.pos == p.len) return 0;
        fail(&p, "trailing characters after the JSON value");
    }
    json_free(out);
    return -1;
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
    static const char *names[] = {"null", "bool", "number", "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

char *json_quote(const char *s) {
    Buf b = {0};
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    buf_put(&b, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        if (esc) {
            buf_put(&b, esc, strlen(esc));
            i++;
            continue;
        }
        size_t n = utf8_seq_len(u + i, len - i);
        if (!n) {
            free(b.b);
            return NULL;
        }
        buf_put(&b, u + i, n);
        i += n;
    }
    buf_put(&b, "\"", 1);
    return b.b;
}
