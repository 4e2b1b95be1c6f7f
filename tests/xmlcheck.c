/*
 * xmlcheck.c - a minimal XML well-formedness checker. See xmlcheck.h.
 */
#include "xmlcheck.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *p;
    size_t len, pos;
    xc_doc *doc;
    size_t *stack; /* indices into doc->el of the open elements */
    int depth;
    char *why;
    size_t why_cap;
} parser;

static int fail(parser *ps, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->why, ps->why_cap, "byte %zu: %s", ps->pos, msg);
    return -1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    cr_assert_not_null(q, "out of memory");
    return q;
}

static char *dup_range(const unsigned char *p, size_t n)
{
    char *s = xrealloc(NULL, n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void append(char **s, const void *data, size_t n)
{
    size_t old = *s != NULL ? strlen(*s) : 0;
    *s = xrealloc(*s, old + n + 1);
    memcpy(*s + old, data, n);
    (*s)[old + n] = '\0';
}

/* Is cp a character XML 1.0 allows? */
static int xml_char(uint32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD ||
           (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Validates the whole document as UTF-8 of allowed characters. */
static int check_chars(parser *ps)
{
    size_t i = 0;
    while (i < ps->len) {
        const unsigned char *q = ps->p + i;
        unsigned c = q[0];
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        ps->pos = i;
        if (n == 0 || i + n > ps->len)
            return fail(ps, "invalid UTF-8 byte 0x%02x", c);
        uint32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
        for (size_t k = 1; k < n; k++) {
            if ((q[k] & 0xC0) != 0x80)
                return fail(ps, "invalid UTF-8 continuation");
            cp = (cp << 6) | (q[k] & 0x3F);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n])
            return fail(ps, "overlong UTF-8");
        if (!xml_char(cp))
            return fail(ps, "character U+%04X not allowed in XML", cp);
        i += n;
    }
    return 0;
}

static int at(const parser *ps, const char *s)
{
    size_t n = strlen(s);
    return ps->pos + n <= ps->len && memcmp(ps->p + ps->pos, s, n) == 0;
}

static int is_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(parser *ps)
{
    while (ps->pos < ps->len && is_space(ps->p[ps->pos]))
        ps->pos++;
}

static int name_start(unsigned c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == ':' || c >= 0x80;
}

static int name_char(unsigned c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Reads a name at pos; returns its length (0: none). */
static size_t read_name(parser *ps)
{
    size_t start = ps->pos;
    if (ps->pos >= ps->len || !name_start(ps->p[ps->pos]))
        return 0;
    while (ps->pos < ps->len && name_char(ps->p[ps->pos]))
        ps->pos++;
    return ps->pos - start;
}

static void put_utf8(char **dst, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    append(dst, b, n);
}

/* Reads an entity or character reference at pos ('&'), decoded to *dst. */
static int read_ref(parser *ps, char **dst)
{
    static const char *const names[5] = {"amp", "lt", "gt", "quot", "apos"};
    static const char values[5] = {'&', '<', '>', '"', '\''};
    size_t start = ps->pos++;
    size_t end = start;
    while (end < ps->len && ps->p[end] != ';' && end - start < 12)
        end++;
    if (end >= ps->len || ps->p[end] != ';')
        return fail(ps, "'&' without a reference");
    const char *body = (const char *)ps->p + start + 1;
    size_t n = end - start - 1;
    for (int i = 0; i < 5; i++) {
        if (strlen(names[i]) == n && memcmp(body, names[i], n) == 0) {
            if (dst != NULL)
                append(dst, &values[i], 1);
            ps->pos = end + 1;
            return 0;
        }
    }
    if (n >= 2 && body[0] == '#') {
        int hex = body[1] == 'x';
        uint32_t cp = 0;
        size_t i = hex ? 2 : 1;
        if (i >= n)
            return fail(ps, "empty character reference");
        for (; i < n; i++) {
            char c = body[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return fail(ps, "bad character reference");
            cp = cp * (hex ? 16 : 10) + d;
        }
        if (!xml_char(cp))
            return fail(ps, "reference to a forbidden character");
        if (dst != NULL)
            put_utf8(dst, cp);
        ps->pos = end + 1;
        return 0;
    }
    return fail(ps, "unknown entity &%.*s;", (int)n, body);
}

static int read_comment(parser *ps)
{
    ps->pos += 4;
    while (ps->pos < ps->len && !at(ps, "--"))
        ps->pos++;
    if (!at(ps, "-->"))
        return fail(ps, "comment not closed by -->");
    ps->pos += 3;
    return 0;
}

/* Reads attributes up to '>' or '/>'; returns 1 for an empty element. */
static int read_attrs(parser *ps, xc_element *e)
{
    size_t start = ps->pos;
    char **seen = NULL;
    size_t n_seen = 0;
    int rc = -2;
    while (rc == -2) {
        size_t before = ps->pos;
        skip_space(ps);
        if (at(ps, "/>") || at(ps, ">")) {
            e->attrs = dup_range(ps->p + start, ps->pos - start);
            rc = at(ps, "/>");
            ps->pos += rc ? 2 : 1;
            break;
        }
        if (ps->pos == before) {
            rc = fail(ps, "expected a space before an attribute");
            break;
        }
        size_t name_at = ps->pos;
        size_t nlen = read_name(ps);
        if (nlen == 0) {
            rc = ps->pos >= ps->len ? fail(ps, "unterminated tag")
                                    : fail(ps, "bad attribute name");
            break;
        }
        char *name = dup_range(ps->p + name_at, nlen);
        for (size_t i = 0; i < n_seen && rc == -2; i++)
            if (strcmp(seen[i], name) == 0)
                rc = fail(ps, "attribute %s repeated", name);
        seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
        seen[n_seen++] = name;
        if (rc != -2)
            break;
        skip_space(ps);
        if (!at(ps, "=")) {
            rc = fail(ps, "attribute %s without '='", name);
            break;
        }
        ps->pos++;
        skip_space(ps);
        if (ps->pos >= ps->len ||
            (ps->p[ps->pos] != '"' && ps->p[ps->pos] != '\'')) {
            rc = fail(ps, "attribute %s value not quoted", name);
            break;
        }
        unsigned char q = ps->p[ps->pos++];
        while (rc == -2 && ps->pos < ps->len && ps->p[ps->pos] != q) {
            if (ps->p[ps->pos] == '<')
                rc = fail(ps, "'<' in attribute %s", name);
            else if (ps->p[ps->pos] == '&')
                rc = read_ref(ps, NULL) == 0 ? -2 : -1;
            else
                ps->pos++;
        }
        if (rc == -2 && ps->pos >= ps->len)
            rc = fail(ps, "attribute %s value not closed", name);
        ps->pos++;
    }
    for (size_t i = 0; i < n_seen; i++)
        free(seen[i]);
    free(seen);
    return rc;
}

static int start_tag(parser *ps)
{
    ps->pos++;
    size_t name_at = ps->pos;
    size_t nlen = read_name(ps);
    if (nlen == 0)
        return fail(ps, "bad element name");
    xc_doc *d = ps->doc;
    d->el = xrealloc(d->el, (d->n + 1) * sizeof *d->el);
    xc_element *e = &d->el[d->n];
    memset(e, 0, sizeof *e);
    e->name = dup_range(ps->p + name_at, nlen);
    e->text = dup_range(ps->p, 0);
    e->depth = ps->depth;
    size_t idx = d->n++;
    int empty = read_attrs(ps, e);
    if (empty < 0)
        return -1;
    if (!empty) {
        ps->stack = xrealloc(ps->stack, (size_t)(ps->depth + 1) *
                                            sizeof *ps->stack);
        ps->stack[ps->depth++] = idx;
    }
    return 0;
}

static int end_tag(parser *ps)
{
    ps->pos += 2;
    size_t name_at = ps->pos;
    size_t nlen = read_name(ps);
    if (ps->depth == 0)
        return fail(ps, "end tag without an open element");
    const char *open = ps->doc->el[ps->stack[ps->depth - 1]].name;
    if (nlen != strlen(open) || memcmp(ps->p + name_at, open, nlen) != 0)
        return fail(ps, "end tag </%.*s> does not match <%s>", (int)nlen,
                    (const char *)ps->p + name_at, open);
    skip_space(ps);
    if (!at(ps, ">"))
        return fail(ps, "end tag not closed");
    ps->pos++;
    ps->depth--;
    return 0;
}

static int char_data(parser *ps)
{
    char **dst = ps->depth > 0 ? &ps->doc->el[ps->stack[ps->depth - 1]].text
                               : NULL;
    while (ps->pos < ps->len && ps->p[ps->pos] != '<') {
        unsigned c = ps->p[ps->pos];
        if (c == '&') {
            if (read_ref(ps, dst) != 0)
                return -1;
            continue;
        }
        if (at(ps, "]]>"))
            return fail(ps, "']]>' in character data");
        if (dst == NULL && !is_space(c))
            return fail(ps, "text outside the root element");
        if (dst != NULL)
            append(dst, &ps->p[ps->pos], 1);
        ps->pos++;
    }
    return 0;
}

int xc_parse(const char *doc, size_t len, xc_doc *out, char *why,
             size_t why_cap)
{
    parser ps = {(const unsigned char *)doc, len, 0, out, NULL, 0, why,
                 why_cap};
    memset(out, 0, sizeof *out);
    int rc = check_chars(&ps);
    ps.pos = 0;
    if (rc == 0 && at(&ps, "<?xml")) {
        while (ps.pos < len && !at(&ps, "?>"))
            ps.pos++;
        rc = at(&ps, "?>") ? 0 : fail(&ps, "declaration not closed");
        ps.pos += 2;
    }
    int roots = 0;
    while (rc == 0 && ps.pos < len) {
        if (at(&ps, "<!--"))
            rc = read_comment(&ps);
        else if (at(&ps, "</"))
            rc = end_tag(&ps);
        else if (at(&ps, "<?") || at(&ps, "<!"))
            rc = fail(&ps, "unsupported markup");
        else if (at(&ps, "<")) {
            if (ps.depth == 0 && roots++ > 0)
                rc = fail(&ps, "a second root element");
            else
                rc = start_tag(&ps);
        } else
            rc = char_data(&ps);
    }
    if (rc == 0 && ps.depth > 0)
        rc = fail(&ps, "<%s> not closed", out->el[ps.stack[0]].name);
    if (rc == 0 && roots == 0)
        rc = fail(&ps, "no root element");
    free(ps.stack);
    if (rc != 0)
        xc_free(out);
    return rc;
}

void xc_free(xc_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->el[i].name);
        free(d->el[i].attrs);
        free(d->el[i].text);
    }
    free(d->el);
    memset(d, 0, sizeof *d);
}

size_t xc_count(const xc_doc *d, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += strcmp(d->el[i].name, name) == 0;
    return n;
}

char *xc_attr(const xc_element *e, const char *attr)
{
    if (e->attrs == NULL)
        return NULL;
    size_t alen = strlen(attr);
    const char *s = e->attrs;
    while (*s != '\0') {
        while (is_space((unsigned char)*s))
            s++;
        const char *name = s;
        while (*s != '\0' && *s != '=' && !is_space((unsigned char)*s))
            s++;
        size_t nlen = (size_t)(s - name);
        while (*s == '=' || is_space((unsigned char)*s))
            s++;
        if (*s != '"' && *s != '\'')
            return NULL;
        char q = *s++;
        const char *val = s;
        while (*s != '\0' && *s != q)
            s++;
        if (nlen == alen && memcmp(name, attr, alen) == 0) {
            parser ps = {(const unsigned char *)val, (size_t)(s - val), 0,
                         NULL, NULL, 0, NULL, 0};
            char why[8];
            ps.why = why;
            ps.why_cap = sizeof why;
            char *out = dup_range(ps.p, 0);
            while (ps.pos < ps.len) {
                if (ps.p[ps.pos] == '&' && read_ref(&ps, &out) == 0)
                    continue;
                append(&out, &ps.p[ps.pos++], 1);
            }
            return out;
        }
        if (*s != '\0')
            s++;
    }
    return NULL;
}
