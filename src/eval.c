/*
 * eval.c - analogy and word-similarity benchmarks with gensim 4.2's
 * conventions. See w2v/eval.h for what is computed and why.
 *
 * Layout: small growable buffers; reading files; case folding; the two
 * file parsers; a hash map from (folded) word to the first model row that
 * has it; analogy answering (the batched sgemm path and the naive reference
 * beside it); similarity and Spearman's rho.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/eval.h"

#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* gensim asks most_similar for the five best answers and walks them. */
#define TOP_N 5

/* The batched path keeps its block of scores under this many bytes. */
#define SCORE_BLOCK_BYTES ((size_t)64 << 20)

/* Folding can turn one byte into at most three ("ΐ" becomes three letters
 * of two bytes each, from two bytes). */
#define FOLD_GROWTH 3

/* ---------------------------------------------------------------------- */
/* Growable buffers                                                        */

/*
 * Returns p grown to hold at least need elements of size bytes (*cap is
 * updated), or NULL on failure, in which case p is untouched and still
 * owned by the caller.
 */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16, bytes;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return NULL;
        c *= 2;
    }
    if (!w2v_mul_size(c, size, &bytes))
        return NULL;
    void *q = realloc(p, bytes);
    if (q != NULL)
        *cap = c;
    return q;
}

/* Strings stored back to back, each NUL-terminated, found by offset. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

/* Appends s[0, len) and a NUL; *off receives its offset. 0 when out of
 * memory. */
static int strbuf_add(strbuf *b, const char *s, size_t len, size_t *off)
{
    if (len > SIZE_MAX - b->len - 1)
        return 0;
    char *d = grow(b->data, &b->cap, b->len + len + 1, 1);
    if (d == NULL)
        return 0;
    b->data = d;
    memcpy(d + b->len, s, len);
    d[b->len + len] = '\0';
    *off = b->len;
    b->len += len + 1;
    return 1;
}

/* The malformed lines of a file. */
typedef struct skip_list {
    w2v_eval_skip *items;
    size_t n, cap;
} skip_list;

static int skip_add(skip_list *l, size_t line, const char *fmt, ...)
    W2V_PRINTF(3, 4);

/* Records line and a printf-style reason (cut to fit). 0 when out of
 * memory. */
static int skip_add(skip_list *l, size_t line, const char *fmt, ...)
{
    w2v_eval_skip *it = grow(l->items, &l->cap, l->n + 1, sizeof *it);
    if (it == NULL)
        return 0;
    l->items = it;
    it += l->n++;
    it->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->reason, sizeof it->reason, fmt, ap);
    va_end(ap);
    return 1;
}

/* "; the first, line N: reason" for messages about files with no data. */
static void first_skip_note(const skip_list *l, char *buf, size_t size)
{
    if (l->n == 0)
        snprintf(buf, size, "%s", "");
    else
        snprintf(buf, size, " (%zu malformed line%s; line %zu: %s)", l->n,
                 l->n == 1 ? "" : "s", l->items[0].line,
                 l->items[0].reason);
}

/* ---------------------------------------------------------------------- */
/* Reading files                                                           */

/* The whole file at path into a malloc'ed *buf of *len bytes. */
static int read_file(const char *path, char **buf, size_t *len,
                     w2v_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return w2v_fail(err, W2V_ERR_IO, "%s: is a directory, not a file",
                        path);
    }
    char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        char *d = grow(data, &cap, n + 65536, 1);
        if (d == NULL) {
            free(data);
            fclose(fp);
            return w2v_fail_nomem(err, "an evaluation file");
        }
        data = d;
        size_t got = fread(data + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        int e = errno;
        free(data);
        fclose(fp);
        return w2v_fail(err, W2V_ERR_IO, "%s: read error: %s", path,
                        strerror(e));
    }
    fclose(fp);
    *buf = data;
    *len = n;
    return W2V_OK;
}

/* One line of text at a time: [*b, *e) without the "\n" or "\r\n". */
typedef struct line_reader {
    const char *pos, *end;
    size_t line; /* number of the line last returned, 1-based */
} line_reader;

static int next_line(line_reader *r, const char **b, const char **e)
{
    if (r->pos >= r->end)
        return 0;
    const char *nl = memchr(r->pos, '\n', (size_t)(r->end - r->pos));
    const char *stop = nl ? nl : r->end;
    *b = r->pos;
    *e = stop > r->pos && stop[-1] == '\r' ? stop - 1 : stop;
    r->pos = nl ? nl + 1 : r->end;
    r->line++;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* ---------------------------------------------------------------------- */
/* Case folding                                                            */

/*
 * Upper-case mappings of U+0000-U+052F that map one code point to one, as
 * Python's str.upper does them (Unicode 14): for first <= c <= last with
 * (c - first) % step == 0, upper(c) = c + delta. Everything else in that
 * range maps to itself, except the few in upper_multi.
 */
static const struct upper_run {
    uint16_t first, last;
    uint8_t step;
    int32_t delta;
} upper_runs[] = {
    {0x0061, 0x007a, 1, -32},   /* a-z */
    {0x00b5, 0x00b5, 1, 743},   /* micro sign -> Greek capital mu */
    {0x00e0, 0x00f6, 1, -32},   /* Latin-1 letters */
    {0x00f8, 0x00fe, 1, -32},
    {0x00ff, 0x00ff, 1, 121},   /* y with diaeresis */
    {0x0101, 0x012f, 2, -1},    /* Latin Extended-A pairs */
    {0x0131, 0x0131, 1, -232},  /* dotless i -> I */
    {0x0133, 0x0137, 2, -1},
    {0x013a, 0x0148, 2, -1},
    {0x014b, 0x0177, 2, -1},
    {0x017a, 0x017e, 2, -1},
    {0x017f, 0x017f, 1, -300},  /* long s -> S */
    {0x0180, 0x0180, 1, 195},   /* Latin Extended-B */
    {0x0183, 0x0185, 2, -1},
    {0x0188, 0x0188, 1, -1},
    {0x018c, 0x018c, 1, -1},
    {0x0192, 0x0192, 1, -1},
    {0x0195, 0x0195, 1, 97},
    {0x0199, 0x0199, 1, -1},
    {0x019a, 0x019a, 1, 163},
    {0x019e, 0x019e, 1, 130},
    {0x01a1, 0x01a5, 2, -1},
    {0x01a8, 0x01a8, 1, -1},
    {0x01ad, 0x01ad, 1, -1},
    {0x01b0, 0x01b0, 1, -1},
    {0x01b4, 0x01b6, 2, -1},
    {0x01b9, 0x01b9, 1, -1},
    {0x01bd, 0x01bd, 1, -1},
    {0x01bf, 0x01bf, 1, 56},
    {0x01c5, 0x01c5, 1, -1},    /* the Dz, Lj, Nj digraphs */
    {0x01c6, 0x01c6, 1, -2},
    {0x01c8, 0x01c8, 1, -1},
    {0x01c9, 0x01c9, 1, -2},
    {0x01cb, 0x01cb, 1, -1},
    {0x01cc, 0x01cc, 1, -2},
    {0x01ce, 0x01dc, 2, -1},
    {0x01dd, 0x01dd, 1, -79},
    {0x01df, 0x01ef, 2, -1},
    {0x01f2, 0x01f2, 1, -1},
    {0x01f3, 0x01f3, 1, -2},
    {0x01f5, 0x01f5, 1, -1},
    {0x01f9, 0x021f, 2, -1},
    {0x0223, 0x0233, 2, -1},
    {0x023c, 0x023c, 1, -1},
    {0x023f, 0x0240, 1, 10815},
    {0x0242, 0x0242, 1, -1},
    {0x0247, 0x024f, 2, -1},
    {0x0250, 0x0250, 1, 10783}, /* IPA letters with capitals */
    {0x0251, 0x0251, 1, 10780},
    {0x0252, 0x0252, 1, 10782},
    {0x0253, 0x0253, 1, -210},
    {0x0254, 0x0254, 1, -206},
    {0x0256, 0x0257, 1, -205},
    {0x0259, 0x0259, 1, -202},
    {0x025b, 0x025b, 1, -203},
    {0x025c, 0x025c, 1, 42319},
    {0x0260, 0x0260, 1, -205},
    {0x0261, 0x0261, 1, 42315},
    {0x0263, 0x0263, 1, -207},
    {0x0265, 0x0265, 1, 42280},
    {0x0266, 0x0266, 1, 42308},
    {0x0268, 0x0268, 1, -209},
    {0x0269, 0x0269, 1, -211},
    {0x026a, 0x026a, 1, 42308},
    {0x026b, 0x026b, 1, 10743},
    {0x026c, 0x026c, 1, 42305},
    {0x026f, 0x026f, 1, -211},
    {0x0271, 0x0271, 1, 10749},
    {0x0272, 0x0272, 1, -213},
    {0x0275, 0x0275, 1, -214},
    {0x027d, 0x027d, 1, 10727},
    {0x0280, 0x0280, 1, -218},
    {0x0282, 0x0282, 1, 42307},
    {0x0283, 0x0283, 1, -218},
    {0x0287, 0x0287, 1, 42282},
    {0x0288, 0x0288, 1, -218},
    {0x0289, 0x0289, 1, -69},
    {0x028a, 0x028b, 1, -217},
    {0x028c, 0x028c, 1, -71},
    {0x0292, 0x0292, 1, -219},
    {0x029d, 0x029d, 1, 42261},
    {0x029e, 0x029e, 1, 42258},
    {0x0345, 0x0345, 1, 84},    /* combining ypogegrammeni -> Iota */
    {0x0371, 0x0373, 2, -1},    /* Greek */
    {0x0377, 0x0377, 1, -1},
    {0x037b, 0x037d, 1, 130},
    {0x03ac, 0x03ac, 1, -38},
    {0x03ad, 0x03af, 1, -37},
    {0x03b1, 0x03c1, 1, -32},
    {0x03c2, 0x03c2, 1, -31},   /* final sigma */
    {0x03c3, 0x03cb, 1, -32},
    {0x03cc, 0x03cc, 1, -64},
    {0x03cd, 0x03ce, 1, -63},
    {0x03d0, 0x03d0, 1, -62},
    {0x03d1, 0x03d1, 1, -57},
    {0x03d5, 0x03d5, 1, -47},
    {0x03d6, 0x03d6, 1, -54},
    {0x03d7, 0x03d7, 1, -8},
    {0x03d9, 0x03ef, 2, -1},
    {0x03f0, 0x03f0, 1, -86},
    {0x03f1, 0x03f1, 1, -80},
    {0x03f2, 0x03f2, 1, 7},
    {0x03f3, 0x03f3, 1, -116},
    {0x03f5, 0x03f5, 1, -96},
    {0x03f8, 0x03f8, 1, -1},
    {0x03fb, 0x03fb, 1, -1},
    {0x0430, 0x044f, 1, -32},   /* Cyrillic */
    {0x0450, 0x045f, 1, -80},
    {0x0461, 0x0481, 2, -1},
    {0x048b, 0x04bf, 2, -1},
    {0x04c2, 0x04ce, 2, -1},
    {0x04cf, 0x04cf, 1, -15},
    {0x04d1, 0x052f, 2, -1},
};

/* Code points whose upper case is several code points. */
static const struct upper_multi {
    uint32_t c;
    uint32_t to[3]; /* 0-terminated when shorter */
} upper_multi[] = {
    {0x00df, {'S', 'S', 0}},             /* sharp s */
    {0x0149, {0x02bc, 'N', 0}},          /* n preceded by apostrophe */
    {0x01f0, {'J', 0x030c, 0}},          /* j with caron */
    {0x0390, {0x0399, 0x0308, 0x0301}},  /* iota, dialytika and tonos */
    {0x03b0, {0x03a5, 0x0308, 0x0301}},  /* upsilon, same */
    {0xfb00, {'F', 'F', 0}},             /* Latin ligatures */
    {0xfb01, {'F', 'I', 0}},
    {0xfb02, {'F', 'L', 0}},
    {0xfb03, {'F', 'F', 'I'}},
    {0xfb04, {'F', 'F', 'L'}},
    {0xfb05, {'S', 'T', 0}},
    {0xfb06, {'S', 'T', 0}},
};

/* upper(c) into out (room for 3); returns the number of code points. */
static size_t upper_code_point(uint32_t c, uint32_t out[3])
{
    out[0] = c;
    if (c < 0x80) {
        if (c >= 'a' && c <= 'z')
            out[0] = c - 32;
        return 1;
    }
    for (size_t i = 0; i < sizeof upper_multi / sizeof *upper_multi; i++)
        if (upper_multi[i].c == c) {
            size_t k = 0;
            while (k < 3 && upper_multi[i].to[k] != 0) {
                out[k] = upper_multi[i].to[k];
                k++;
            }
            return k;
        }
    if (c > 0x052f)
        return 1;
    for (size_t i = 0; i < sizeof upper_runs / sizeof *upper_runs; i++) {
        const struct upper_run *r = &upper_runs[i];
        if (c >= r->first && c <= r->last && (c - r->first) % r->step == 0) {
            out[0] = (uint32_t)((int32_t)c + r->delta);
            break;
        }
    }
    return 1;
}

/*
 * Decodes one well-formed UTF-8 sequence at s[0, len) into *c and returns
 * its length, or 0 when s does not start with one (overlong forms and
 * surrogates are not well-formed).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *c)
{
    if (s[0] < 0x80) {
        *c = s[0];
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2, v = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3, v = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4, v = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *c = v;
    return n;
}

static size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/*
 * The upper-case form of s[0, len) into out (room for FOLD_GROWTH * len
 * bytes); returns its length. Bytes that are not well-formed UTF-8 are
 * copied unchanged: gensim could not load such words at all.
 */
static size_t fold_upper(const char *s, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            out[o++] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
            i++;
            continue;
        }
        uint32_t c, up[3];
        size_t n = utf8_decode(p + i, len - i, &c);
        if (n == 0) {
            out[o++] = (char)p[i++];
            continue;
        }
        size_t k = upper_code_point(c, up);
        for (size_t j = 0; j < k; j++)
            o += utf8_encode(up[j], out + o);
        i += n;
    }
    return o;
}

/* ---------------------------------------------------------------------- */
/* Analogy files                                                           */

typedef struct analogy_question {
    size_t word[4]; /* offsets of a, b, c, d in the set's text */
    size_t section;
    size_t line;
} analogy_question;

struct w2v_analogy_set {
    strbuf text;             /* words and section names */
    analogy_question *q;     /* (n_q) in file order */
    size_t n_q, cap_q;
    size_t *section;         /* (n_sec) offsets of the names in text */
    size_t n_sec, cap_sec;
    skip_list skipped;
};

void w2v_analogy_set_free(w2v_analogy_set *s)
{
    if (s == NULL)
        return;
    free(s->text.data);
    free(s->q);
    free(s->section);
    free(s->skipped.items);
    free(s);
}

/* A ": name" line: gensim strips every leading ':' and ' ', then spaces. */
static int analogy_add_section(w2v_analogy_set *s, const char *b,
                               const char *e)
{
    while (b < e && (*b == ':' || *b == ' '))
        b++;
    while (b < e && is_space(*b))
        b++;
    while (e > b && is_space(e[-1]))
        e--;
    size_t *sec = grow(s->section, &s->cap_sec, s->n_sec + 1, sizeof *sec);
    if (sec == NULL)
        return 0;
    s->section = sec;
    return strbuf_add(&s->text, b, (size_t)(e - b), &sec[s->n_sec++]);
}

/* One line that is not a section header. 0 when out of memory. */
static int analogy_add_line(w2v_analogy_set *s, const char *b, const char *e,
                            size_t line)
{
    const char *word[4];
    size_t len[4], n = 0;
    for (const char *p = b; p < e;) {
        while (p < e && is_space(*p))
            p++;
        if (p == e)
            break;
        const char *w = p;
        while (p < e && !is_space(*p))
            p++;
        if (n < 4) {
            word[n] = w;
            len[n] = (size_t)(p - w);
        }
        n++;
    }
    if (n == 0)
        return 1; /* a blank line is not a question */
    if (s->n_sec == 0)
        return skip_add(&s->skipped, line, "a question before the first "
                        "\": section\" line");
    if (n != 4)
        return skip_add(&s->skipped, line, "expected 4 words, found %zu", n);
    analogy_question *q = grow(s->q, &s->cap_q, s->n_q + 1, sizeof *q);
    if (q == NULL)
        return 0;
    s->q = q;
    q += s->n_q;
    for (int i = 0; i < 4; i++)
        if (!strbuf_add(&s->text, word[i], len[i], &q->word[i]))
            return 0;
    q->section = s->n_sec - 1;
    q->line = line;
    s->n_q++;
    return 1;
}

int w2v_analogy_set_parse(const char *text, size_t len, const char *name,
                          w2v_analogy_set **out, w2v_error *err)
{
    *out = NULL;
    w2v_analogy_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return w2v_fail_nomem(err, "an analogy set");
    line_reader r = {text, text + len, 0};
    const char *b, *e;
    while (next_line(&r, &b, &e)) {
        int ok;
        if (memchr(b, '\0', (size_t)(e - b)) != NULL)
            ok = skip_add(&s->skipped, r.line, "a NUL byte in the line");
        else if (e - b >= 2 && b[0] == ':' && b[1] == ' ')
            ok = analogy_add_section(s, b, e);
        else
            ok = analogy_add_line(s, b, e, r.line);
        if (!ok) {
            w2v_analogy_set_free(s);
            return w2v_fail_nomem(err, "an analogy set");
        }
    }
    if (s->n_q == 0) {
        char note[W2V_EVAL_REASON_MAX + 64];
        first_skip_note(&s->skipped, note, sizeof note);
        w2v_analogy_set_free(s);
        return w2v_fail(err, W2V_ERR_EMPTY, "%s: no analogy questions%s",
                        name, note);
    }
    *out = s;
    return W2V_OK;
}

int w2v_analogy_set_load(const char *path, w2v_analogy_set **out,
                         w2v_error *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    int rc = read_file(path, &buf, &len, err);
    if (rc != W2V_OK)
        return rc;
    rc = w2v_analogy_set_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

size_t w2v_analogy_set_size(const w2v_analogy_set *s)
{
    return s->n_q;
}

size_t w2v_analogy_set_sections(const w2v_analogy_set *s)
{
    return s->n_sec;
}

const char *w2v_analogy_set_section_name(const w2v_analogy_set *s, size_t i)
{
    return s->text.data + s->section[i];
}

void w2v_analogy_set_question(const w2v_analogy_set *s, size_t i,
                              const char *words[4], size_t *section,
                              size_t *line)
{
    const analogy_question *q = &s->q[i];
    if (words != NULL)
        for (int k = 0; k < 4; k++)
            words[k] = s->text.data + q->word[k];
    if (section != NULL)
        *section = q->section;
    if (line != NULL)
        *line = q->line;
}

size_t w2v_analogy_set_skipped(const w2v_analogy_set *s,
                               const w2v_eval_skip **lines)
{
    *lines = s->skipped.items;
    return s->skipped.n;
}

/* ---------------------------------------------------------------------- */
/* Word-pair files                                                         */

typedef struct pair_item {
    size_t word[2]; /* offsets in the set's text */
    double score;
    size_t line;
} pair_item;

struct w2v_pair_set {
    strbuf text;
    pair_item *p; /* (n) in file order */
    size_t n, cap;
    size_t header_line;
    skip_list skipped;
};

void w2v_pair_set_free(w2v_pair_set *s)
{
    if (s == NULL)
        return;
    free(s->text.data);
    free(s->p);
    free(s->skipped.items);
    free(s);
}

/* A field of a line: [b, e). */
typedef struct field {
    const char *b, *e;
} field;

/*
 * Splits [b, e) at sep (' ' = runs of whitespace), trimming whitespace
 * around each field. Stores the first max fields and returns the count.
 */
static size_t split_fields(const char *b, const char *e, char sep, field *f,
                           size_t max)
{
    size_t n = 0;
    const char *p = b;
    for (;;) {
        if (sep == ' ') {
            while (p < e && is_space(*p))
                p++;
            if (p == e)
                return n;
        }
        const char *fb = p;
        while (p < e && (sep == ' ' ? !is_space(*p) : *p != sep))
            p++;
        const char *fe = p;
        while (fb < fe && is_space(*fb))
            fb++;
        while (fe > fb && is_space(fe[-1]))
            fe--;
        if (n < max)
            f[n] = (field){fb, fe};
        n++;
        if (sep == ' ')
            continue;
        if (p == e)
            return n;
        p++; /* the separator */
    }
}

/*
 * Parses [b, e) as a decimal number: [+-] digits [. digits] [e [+-]
 * digits], with digits on at least one side of the point, finite. This is
 * what a human score looks like; strtod alone would take "nan" and hex.
 */
static int parse_decimal(const char *b, const char *e, double *out)
{
    const char *p = b;
    size_t digits = 0;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    while (p < e && *p >= '0' && *p <= '9')
        p++, digits++;
    if (p < e && *p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p == e || *p < '0' || *p > '9')
            return 0;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p != e)
        return 0;
    /* strtod needs a terminated copy; the field is not terminated. */
    char small[128], *copy = small;
    size_t len = (size_t)(e - b);
    if (len >= sizeof small && (copy = malloc(len + 1)) == NULL)
        return 0;
    memcpy(copy, b, len);
    copy[len] = '\0';
    double v = strtod(copy, NULL);
    int ok = isfinite(v);
    if (copy != small)
        free(copy);
    *out = v;
    return ok;
}

static const char *sep_name(char sep)
{
    return sep == '\t' ? "tabs" : sep == ',' ? "commas" : "spaces";
}

int w2v_pair_set_parse(const char *text, size_t len, const char *name,
                       w2v_pair_set **out, w2v_error *err)
{
    *out = NULL;
    w2v_pair_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return w2v_fail_nomem(err, "a word-pair set");
    line_reader r = {text, text + len, 0};
    const char *b, *e;
    char sep = 0;        /* chosen from the first data line */
    size_t columns = 3;  /* the header may declare more */
    int ok = 1;
    while (ok && next_line(&r, &b, &e)) {
        if (b < e && b[0] == '#')
            continue;
        const char *p = b;
        while (p < e && is_space(*p))
            p++;
        if (p == e)
            continue;
        if (memchr(b, '\0', (size_t)(e - b)) != NULL) {
            ok = skip_add(&s->skipped, r.line, "a NUL byte in the line");
            continue;
        }
        int first = sep == 0;
        if (first)
            sep = memchr(b, '\t', (size_t)(e - b))  ? '\t'
                  : memchr(b, ',', (size_t)(e - b)) ? ','
                                                    : ' ';
        field f[3];
        size_t n = split_fields(b, e, sep, f, 3);
        double score = 0;
        int numeric = n >= 3 && parse_decimal(f[2].b, f[2].e, &score);
        if (first && n >= 3 && !numeric) {
            /* "Word 1,Word 2,Human (mean),1,2,..." declares its columns;
             * between spaces, "Word 1" is two fields, so no count. */
            s->header_line = r.line;
            if (sep != ' ')
                columns = n;
            continue;
        }
        if (n != columns)
            ok = skip_add(&s->skipped, r.line, "expected %zu fields "
                          "separated by %s, found %zu", columns,
                          sep_name(sep), n);
        else if (f[0].b == f[0].e || f[1].b == f[1].e)
            ok = skip_add(&s->skipped, r.line, "an empty word");
        else if (!numeric)
            ok = skip_add(&s->skipped, r.line, "score \"%.*s\" is not a "
                          "number", (int)(f[2].e - f[2].b > 40
                                              ? 40 : f[2].e - f[2].b),
                          f[2].b);
        else {
            pair_item *it = grow(s->p, &s->cap, s->n + 1, sizeof *it);
            ok = it != NULL;
            if (ok) {
                s->p = it;
                it += s->n;
                it->score = score;
                it->line = r.line;
                ok = strbuf_add(&s->text, f[0].b, (size_t)(f[0].e - f[0].b),
                                &it->word[0]) &&
                     strbuf_add(&s->text, f[1].b, (size_t)(f[1].e - f[1].b),
                                &it->word[1]);
                s->n += ok;
            }
        }
    }
    if (!ok) {
        w2v_pair_set_free(s);
        return w2v_fail_nomem(err, "a word-pair set");
    }
    if (s->n == 0) {
        char note[W2V_EVAL_REASON_MAX + 64];
        first_skip_note(&s->skipped, note, sizeof note);
        w2v_pair_set_free(s);
        return w2v_fail(err, W2V_ERR_EMPTY, "%s: no word pairs%s", name,
                        note);
    }
    *out = s;
    return W2V_OK;
}

int w2v_pair_set_load(const char *path, w2v_pair_set **out, w2v_error *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    int rc = read_file(path, &buf, &len, err);
    if (rc != W2V_OK)
        return rc;
    rc = w2v_pair_set_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

size_t w2v_pair_set_size(const w2v_pair_set *s)
{
    return s->n;
}

void w2v_pair_set_pair(const w2v_pair_set *s, size_t i, const char **w1,
                       const char **w2, double *score, size_t *line)
{
    const pair_item *it = &s->p[i];
    if (w1 != NULL)
        *w1 = s->text.data + it->word[0];
    if (w2 != NULL)
        *w2 = s->text.data + it->word[1];
    if (score != NULL)
        *score = it->score;
    if (line != NULL)
        *line = it->line;
}

size_t w2v_pair_set_header_line(const w2v_pair_set *s)
{
    return s->header_line;
}

size_t w2v_pair_set_skipped(const w2v_pair_set *s,
                            const w2v_eval_skip **lines)
{
    *lines = s->skipped.items;
    return s->skipped.n;
}

/* ---------------------------------------------------------------------- */
/* Word -> first model row, after folding                                  */

/*
 * gensim builds {upper(w): row for w in reversed(first rows)}, so a key
 * maps to its first (most frequent) row. This map does the same over all
 * rows of the model; "is the word among the first n rows" is then "is its
 * first row < n", and canon[i] is the row that stands for row i.
 */
typedef struct word_map {
    int fold;        /* 1 = keys are upper-cased */
    size_t rows;
    size_t mask;     /* slots - 1, slots a power of two >= 2 rows */
    int64_t *slot;   /* (mask + 1) first row with the key, -1 = empty */
    size_t *key;     /* (rows + 1) row i's key is keys[key[i], key[i+1]) */
    char *keys;
    int64_t *canon;  /* (rows) first row with row i's key */
    char *scratch;   /* room to fold one looked-up word */
    size_t scratch_cap;
} word_map;

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void word_map_free(word_map *wm)
{
    free(wm->slot);
    free(wm->key);
    free(wm->keys);
    free(wm->canon);
    free(wm->scratch);
    memset(wm, 0, sizeof *wm);
}

/* The slot holding key k[0, len), or the empty slot where it would go. */
static size_t word_map_probe(const word_map *wm, const char *k, size_t len)
{
    size_t i = (size_t)hash_bytes(k, len) & wm->mask;
    for (;; i = (i + 1) & wm->mask) {
        int64_t row = wm->slot[i];
        if (row < 0)
            return i;
        size_t off = wm->key[row], klen = wm->key[row + 1] - off;
        if (klen == len && memcmp(wm->keys + off, k, len) == 0)
            return i;
    }
}

static int word_map_build(word_map *wm, const w2v_vocab *v, int fold,
                          w2v_error *err)
{
    memset(wm, 0, sizeof *wm);
    wm->fold = fold;
    size_t n = w2v_vocab_size(v), slots = 16, bytes = 0;
    while (slots < 2 * n) {
        if (slots > SIZE_MAX / 4)
            return w2v_fail_nomem(err, "a word map");
        slots *= 2;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = w2v_vocab_word_len(v, i);
        if (len > (SIZE_MAX - bytes) / FOLD_GROWTH - 1)
            return w2v_fail_nomem(err, "a word map");
        bytes += FOLD_GROWTH * len;
    }
    wm->rows = n;
    wm->mask = slots - 1;
    wm->slot = malloc(slots * sizeof *wm->slot);
    wm->key = malloc((n + 1) * sizeof *wm->key);
    wm->keys = malloc(bytes + 1);
    wm->canon = malloc((n ? n : 1) * sizeof *wm->canon);
    if (wm->slot == NULL || wm->key == NULL || wm->keys == NULL ||
        wm->canon == NULL) {
        word_map_free(wm);
        return w2v_fail_nomem(err, "a word map");
    }
    memset(wm->slot, 0xff, slots * sizeof *wm->slot); /* all -1 */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *w = w2v_vocab_word(v, i);
        size_t len = w2v_vocab_word_len(v, i);
        wm->key[i] = off;
        if (fold) {
            off += fold_upper(w, len, wm->keys + off);
        } else {
            memcpy(wm->keys + off, w, len);
            off += len;
        }
        wm->key[i + 1] = off;
        size_t at = word_map_probe(wm, wm->keys + wm->key[i], off - wm->key[i]);
        if (wm->slot[at] < 0)
            wm->slot[at] = (int64_t)i;
        wm->canon[i] = wm->slot[at];
    }
    return W2V_OK;
}

/* The first row whose key equals word's, -1 if none; -2 out of memory. */
static int64_t word_map_find(word_map *wm, const char *word)
{
    size_t len = strlen(word);
    const char *k = word;
    if (wm->fold) {
        if (len > SIZE_MAX / FOLD_GROWTH)
            return -2;
        char *s = grow(wm->scratch, &wm->scratch_cap, FOLD_GROWTH * len + 1,
                       1);
        if (s == NULL)
            return -2;
        wm->scratch = s;
        len = fold_upper(word, len, s);
        k = s;
    }
    return wm->slot[word_map_probe(wm, k, len)];
}

/* ---------------------------------------------------------------------- */
/* Analogies                                                               */

w2v_analogy_options w2v_analogy_options_default(void)
{
    w2v_analogy_options o;
    memset(&o, 0, sizeof o);
    o.method = W2V_ANALOGY_ADD;
    o.restrict_vocab = 30000;
    o.case_sensitive = 0;
    o.mul_epsilon = 0.001;
    o.block = 256;
    o.naive = 0;
    return o;
}

void w2v_analogy_result_free(w2v_analogy_result *r)
{
    if (r == NULL)
        return;
    free(r->sections); /* the section names live in the same block */
    free(r->answers);
    free(r);
}

/*
 * The TOP_N best (row, score) offered so far, best first. Rows are offered
 * in increasing order, so a tie keeps the lower row ahead: an equal score
 * never displaces an entry.
 */
typedef struct top_list {
    size_t n;
    double score[TOP_N];
    int64_t row[TOP_N];
} top_list;

static void top_offer(top_list *t, int64_t row, double score)
{
    if (t->n == TOP_N && !(score > t->score[TOP_N - 1]))
        return;
    size_t i = t->n < TOP_N ? t->n++ : TOP_N - 1;
    while (i > 0 && score > t->score[i - 1]) {
        t->score[i] = t->score[i - 1];
        t->row[i] = t->row[i - 1];
        i--;
    }
    t->score[i] = score;
    t->row[i] = row;
}

/* Rows scanned at a time for a score above the current fifth best. */
#define SCAN_CHUNK 64

/*
 * The TOP_N best of scores[0, n), skipping rows a, b and c (q[0..2]). Once
 * five are held, few rows beat the fifth: each chunk is first checked for
 * any score above it with a loop the compiler vectorises, and only chunks
 * with one are looked at row by row.
 */
static void top_of_row(const float *scores, size_t n, const int64_t *q,
                       top_list *t)
{
    t->n = 0;
    float floor = -INFINITY; /* only a score above it can enter */
    for (size_t base = 0; base < n; base += SCAN_CHUNK) {
        size_t end = base + SCAN_CHUNK < n ? base + SCAN_CHUNK : n;
        int hit = 0;
        for (size_t i = base; i < end; i++)
            hit |= scores[i] > floor;
        if (!hit)
            continue;
        for (size_t i = base; i < end; i++) {
            if (!(scores[i] > floor))
                continue;
            int64_t row = (int64_t)i;
            if (row == q[0] || row == q[1] || row == q[2])
                continue;
            top_offer(t, row, scores[i]);
            if (t->n == TOP_N)
                floor = (float)t->score[TOP_N - 1];
        }
    }
}

/*
 * gensim's walk over its five answers: the first whose folded word is not
 * an input's, else the last one; correct when it folds to d. q holds the
 * first rows of a, b, c, d.
 */
static void resolve(const top_list *t, const int64_t *canon,
                    const int64_t *q, w2v_analogy_answer *ans)
{
    int64_t pick = -1;
    double score = 0;
    for (size_t k = 0; k < t->n; k++) {
        pick = t->row[k];
        score = t->score[k];
        int64_t c = canon[pick];
        if (c != q[0] && c != q[1] && c != q[2])
            break;
    }
    ans->predicted = pick;
    ans->score = (float)score;
    ans->outcome = pick >= 0 && canon[pick] == q[3] ? W2V_ANALOGY_CORRECT
                                                    : W2V_ANALOGY_WRONG;
}

/* The evaluation's state: unit rows and the questions' rows. */
typedef struct analogy_run {
    const w2v_analogy_options *opt;
    size_t n, dim;        /* rows that take part, vector size */
    float *unit;          /* (n, dim) unit-length rows; zero rows stay 0 */
    const int64_t *canon; /* (n) the row that stands for each row */
    const int64_t *ids;   /* (questions, 4) first rows of a, b, c, d */
    w2v_analogy_answer *answers;
} analogy_run;

/*
 * The reference: one question, a plain loop over every row in double
 * precision, no BLAS. The batched path must agree with it.
 */
static int answer_naive(const analogy_run *run, size_t qi)
{
    size_t dim = run->dim;
    const int64_t *q = run->ids + 4 * qi;
    const float *ua = run->unit + (size_t)q[0] * dim,
                *ub = run->unit + (size_t)q[1] * dim,
                *uc = run->unit + (size_t)q[2] * dim;
    double *query = malloc(dim * sizeof *query);
    if (query == NULL)
        return 0;
    double ss = 0;
    for (size_t j = 0; j < dim; j++) {
        query[j] = ((double)ub[j] + uc[j]) - ua[j];
        ss += query[j] * query[j];
    }
    double inv = ss > 0 ? 1 / sqrt(ss) : 0;
    top_list t = {0};
    for (size_t i = 0; i < run->n; i++) {
        int64_t row = (int64_t)i;
        if (row == q[0] || row == q[1] || row == q[2])
            continue;
        const float *x = run->unit + i * dim;
        double score;
        if (run->opt->method == W2V_ANALOGY_ADD) {
            double dot = 0;
            for (size_t j = 0; j < dim; j++)
                dot += x[j] * query[j];
            score = dot * inv;
        } else {
            double ca = 0, cb = 0, cc = 0;
            for (size_t j = 0; j < dim; j++) {
                ca += (double)x[j] * ua[j];
                cb += (double)x[j] * ub[j];
                cc += (double)x[j] * uc[j];
            }
            score = ((1 + cb) / 2) * ((1 + cc) / 2) /
                    ((1 + ca) / 2 + run->opt->mul_epsilon);
        }
        top_offer(&t, row, score);
    }
    free(query);
    resolve(&t, run->canon, q, &run->answers[qi]);
    return 1;
}

/*
 * The fast path. Every score a question needs is a combination of the
 * cosines of its three input words with every row: 3CosAdd ranks by
 * cos(x, b - a + c) = (cos(x, b) + cos(x, c) - cos(x, a)) / |b - a + c|
 * over unit vectors, and 3CosMul combines the same three cosines. So the
 * distinct input words of a block of questions form a matrix W, one sgemm
 * gives all their cosines, S = W U^T, and each question then combines
 * three rows of S. A section has far fewer distinct words than questions
 * (capital-world: 4,524 questions, 232 words), so this is a fraction of
 * the arithmetic of one query row per question, which would leave the
 * sgemm, not the answers, as the cost.
 */
typedef struct word_block {
    size_t cap;       /* rows of W and S */
    size_t k;         /* distinct words in the block */
    size_t *row;      /* (cap) model row of each word */
    int32_t *slot;    /* (n) index of a row in the block, -1 = absent */
    size_t *qs;       /* (cap) questions of the block */
    size_t nq;
    float *W;         /* (cap, dim) the words' unit vectors */
    float *S;         /* (cap, n) their cosines with every row */
    float *comb;      /* (n) one question's combined scores */
} word_block;

/* Scores and answers the questions of the block, then empties it. */
static void block_answer(const analogy_run *run, word_block *b)
{
    size_t dim = run->dim, n = run->n;
    for (size_t j = 0; j < b->k; j++)
        memcpy(b->W + j * dim, run->unit + b->row[j] * dim,
               dim * sizeof *b->W);
    /* S (k, n) = W (k, dim) . unit (n, dim)^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b->k, (int)n,
                (int)dim, 1.0f, b->W, (int)dim, run->unit, (int)dim, 0.0f,
                b->S, (int)n);
    float eps = (float)run->opt->mul_epsilon;
    for (size_t r = 0; r < b->nq; r++) {
        const int64_t *q = run->ids + 4 * b->qs[r];
        const float *sa = b->S + (size_t)b->slot[q[0]] * n,
                    *sb = b->S + (size_t)b->slot[q[1]] * n,
                    *sc = b->S + (size_t)b->slot[q[2]] * n;
        float *comb = b->comb;
        double scale = 1;
        if (run->opt->method == W2V_ANALOGY_MUL) {
            /* float throughout, as gensim's most_similar_cosmul */
            for (size_t i = 0; i < n; i++)
                comb[i] = ((1 + sb[i]) / 2) * ((1 + sc[i]) / 2) /
                          ((1 + sa[i]) / 2 + eps);
        } else {
            for (size_t i = 0; i < n; i++)
                comb[i] = (sb[i] + sc[i]) - sa[i];
            /* |b - a + c|, to report a cosine; it does not change ranks */
            const float *ua = run->unit + (size_t)q[0] * dim,
                        *ub = run->unit + (size_t)q[1] * dim,
                        *uc = run->unit + (size_t)q[2] * dim;
            double ss = 0;
            for (size_t j = 0; j < dim; j++) {
                double v = ((double)ub[j] + uc[j]) - ua[j];
                ss += v * v;
            }
            scale = ss > 0 ? 1 / sqrt(ss) : 0;
        }
        top_list t;
        top_of_row(comb, n, q, &t);
        for (size_t k = 0; k < t.n; k++)
            t.score[k] *= scale;
        resolve(&t, run->canon, q, &run->answers[b->qs[r]]);
    }
    for (size_t j = 0; j < b->k; j++)
        b->slot[b->row[j]] = -1;
    b->k = b->nq = 0;
}

/* Adds question qi, answering the block first when its words do not fit. */
static void block_add(const analogy_run *run, word_block *b, size_t qi)
{
    const int64_t *q = run->ids + 4 * qi;
    size_t fresh = 0;
    for (int w = 0; w < 3; w++)
        fresh += b->slot[q[w]] < 0 && (w < 1 || q[w] != q[0]) &&
                 (w < 2 || q[w] != q[1]);
    if (b->k + fresh > b->cap)
        block_answer(run, b);
    for (int w = 0; w < 3; w++)
        if (b->slot[q[w]] < 0) {
            b->slot[q[w]] = (int32_t)b->k;
            b->row[b->k++] = (size_t)q[w];
        }
    b->qs[b->nq++] = qi;
    if (b->nq == b->cap) /* qs is full */
        block_answer(run, b);
}

/* Answers the attempted questions section by section, in blocks. */
static int answer_batched(const analogy_run *run, const w2v_analogy_set *s,
                          w2v_error *err)
{
    size_t n = run->n, dim = run->dim;
    /* Words per sgemm: the option, then the 64 MB bound on S; a question
     * needs room for its three. */
    size_t cap = run->opt->block, limit = SCORE_BLOCK_BYTES / sizeof(float) / n;
    if (cap > limit)
        cap = limit;
    if (cap < 3)
        cap = 3;
    size_t w_bytes, s_bytes, s_cells;
    if (!w2v_mul_size(cap, dim * sizeof(float), &w_bytes) ||
        !w2v_mul_size(cap, n, &s_cells) ||
        !w2v_mul_size(s_cells, sizeof(float), &s_bytes))
        return w2v_fail_nomem(err, "analogy score blocks");
    word_block b = {0};
    b.cap = cap;
    b.row = malloc(cap * sizeof *b.row);
    b.qs = malloc(cap * sizeof *b.qs);
    b.slot = malloc(n * sizeof *b.slot);
    b.comb = w2v_alloc_aligned(n * sizeof *b.comb);
    b.W = w2v_alloc_aligned(w_bytes);
    b.S = w2v_alloc_aligned(s_bytes);
    int ok = b.row && b.qs && b.slot && b.comb && b.W && b.S;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            b.slot[i] = -1;
        for (size_t sec = 0; sec < s->n_sec; sec++) {
            for (size_t i = 0; i < s->n_q; i++)
                if (s->q[i].section == sec &&
                    run->answers[i].outcome == W2V_ANALOGY_WRONG)
                    block_add(run, &b, i); /* WRONG = attempted, unanswered */
            if (b.nq > 0)
                block_answer(run, &b);
        }
    }
    free(b.row);
    free(b.qs);
    free(b.slot);
    w2v_free_aligned(b.comb);
    w2v_free_aligned(b.W);
    w2v_free_aligned(b.S);
    return ok ? W2V_OK : w2v_fail_nomem(err, "analogy score blocks");
}

static void tally(w2v_analogy_score *sc, int outcome)
{
    sc->questions++;
    switch (outcome) {
    case W2V_ANALOGY_CORRECT: sc->correct++; break;
    case W2V_ANALOGY_WRONG: sc->wrong++; break;
    case W2V_ANALOGY_SKIPPED_OOV: sc->skipped_oov++; break;
    default: sc->skipped_restrict++; break;
    }
}

/* A result with its sections named, every count 0. */
static w2v_analogy_result *result_new(const w2v_analogy_set *s)
{
    w2v_analogy_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    /* One block: the section array, then the names. */
    size_t bytes = s->n_sec * sizeof *r->sections;
    for (size_t i = 0; i < s->n_sec; i++)
        bytes += strlen(w2v_analogy_set_section_name(s, i)) + 1;
    r->sections = calloc(1, bytes ? bytes : 1);
    r->answers = calloc(s->n_q ? s->n_q : 1, sizeof *r->answers);
    if (r->sections == NULL || r->answers == NULL) {
        w2v_analogy_result_free(r);
        return NULL;
    }
    char *names = (char *)(r->sections + s->n_sec);
    for (size_t i = 0; i < s->n_sec; i++) {
        const char *nm = w2v_analogy_set_section_name(s, i);
        size_t len = strlen(nm) + 1;
        memcpy(names, nm, len);
        r->sections[i].name = names;
        r->sections[i].syntactic = strncmp(nm, "gram", 4) == 0;
        names += len;
    }
    r->n_sections = s->n_sec;
    r->n_questions = s->n_q;
    r->semantic.name = "semantic";
    r->syntactic.name = "syntactic";
    r->syntactic.syntactic = 1;
    r->total.name = "total";
    return r;
}

int w2v_eval_analogies(const w2v_model *m, const w2v_analogy_set *s,
                       const w2v_analogy_options *opt,
                       w2v_analogy_result **out, w2v_error *err)
{
    *out = NULL;
    w2v_analogy_options o = opt ? *opt : w2v_analogy_options_default();
    if (o.method != W2V_ANALOGY_ADD && o.method != W2V_ANALOGY_MUL)
        return w2v_fail(err, W2V_ERR_ARG, "unknown analogy method %d",
                        o.method);
    if (o.block == 0)
        return w2v_fail(err, W2V_ERR_ARG, "analogy block size is 0");
    if (!(o.mul_epsilon >= 0) || !isfinite(o.mul_epsilon))
        return w2v_fail(err, W2V_ERR_ARG, "3CosMul epsilon %g is not a "
                        "finite number >= 0", o.mul_epsilon);
    size_t vsize = w2v_model_size(m), dim = w2v_model_dim(m);
    size_t n = o.restrict_vocab && o.restrict_vocab < vsize ? o.restrict_vocab
                                                            : vsize;
    if (n > INT_MAX || dim > INT_MAX)
        return w2v_fail(err, W2V_ERR_ARG, "%zu x %zu is too big for BLAS; "
                        "restrict the vocabulary", n, dim);
    w2v_analogy_result *r = result_new(s);
    int64_t *ids = malloc((s->n_q ? s->n_q : 1) * 4 * sizeof *ids);
    if (r == NULL || ids == NULL) {
        w2v_analogy_result_free(r);
        free(ids);
        return w2v_fail_nomem(err, "analogy results");
    }
    r->rows = n;
    word_map wm;
    int rc = word_map_build(&wm, w2v_model_vocab(m), !o.case_sensitive, err);
    /* Look every word up; WRONG marks "to be answered" until answered. */
    size_t attempted = 0;
    for (size_t i = 0; rc == W2V_OK && i < s->n_q; i++) {
        int outcome = W2V_ANALOGY_WRONG;
        for (int k = 0; k < 4; k++) {
            int64_t id = word_map_find(&wm, s->text.data + s->q[i].word[k]);
            if (id == -2)
                rc = w2v_fail_nomem(err, "a folded word");
            if (id < 0)
                outcome = W2V_ANALOGY_SKIPPED_OOV;
            else if ((size_t)id >= n && outcome == W2V_ANALOGY_WRONG)
                outcome = W2V_ANALOGY_SKIPPED_RESTRICT;
            ids[4 * i + k] = id;
        }
        r->answers[i].outcome = outcome;
        r->answers[i].predicted = -1;
        attempted += outcome == W2V_ANALOGY_WRONG;
    }
    float *unit = NULL;
    if (rc == W2V_OK && attempted > 0) {
        size_t bytes;
        if (!w2v_mul_size(n, dim * sizeof(float), &bytes) ||
            (unit = w2v_alloc_aligned(bytes)) == NULL)
            rc = w2v_fail_nomem(err, "the unit vectors");
    }
    if (rc == W2V_OK && attempted > 0) {
        for (size_t i = 0; i < n; i++) {
            const float *v = w2v_model_vector_const(m, i);
            double ss = 0;
            for (size_t j = 0; j < dim; j++)
                ss += (double)v[j] * v[j];
            float inv = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f;
            for (size_t j = 0; j < dim; j++)
                unit[i * dim + j] = v[j] * inv;
        }
        analogy_run run = {&o, n, dim, unit, wm.canon, ids, r->answers};
        if (o.naive) {
            for (size_t i = 0; rc == W2V_OK && i < s->n_q; i++)
                if (r->answers[i].outcome == W2V_ANALOGY_WRONG &&
                    !answer_naive(&run, i))
                    rc = w2v_fail_nomem(err, "an analogy query");
        } else {
            rc = answer_batched(&run, s, err);
        }
    }
    w2v_free_aligned(unit);
    word_map_free(&wm);
    free(ids);
    if (rc != W2V_OK) {
        w2v_analogy_result_free(r);
        return rc;
    }
    for (size_t i = 0; i < s->n_q; i++) {
        w2v_analogy_score *sec = &r->sections[s->q[i].section];
        int outcome = r->answers[i].outcome;
        tally(sec, outcome);
        tally(sec->syntactic ? &r->syntactic : &r->semantic, outcome);
        tally(&r->total, outcome);
    }
    *out = r;
    return W2V_OK;
}

/* ---------------------------------------------------------------------- */
/* Similarity                                                              */

w2v_similarity_options w2v_similarity_options_default(void)
{
    w2v_similarity_options o;
    memset(&o, 0, sizeof o);
    o.restrict_vocab = 300000;
    o.case_sensitive = 0;
    return o;
}

void w2v_similarity_result_free(w2v_similarity_result *r)
{
    if (r == NULL)
        return;
    free(r->cosine);
    free(r);
}

/*
 * Cosine of x and y in double precision, 0 if either is zero. The same
 * operations in either order, so cos(a, b) == cos(b, a) exactly and a pair
 * listed twice ties with itself, as in gensim.
 */
static double cosine(const float *x, const float *y, size_t dim)
{
    double xy = 0, xx = 0, yy = 0;
    for (size_t j = 0; j < dim; j++) {
        xy += (double)x[j] * y[j];
        xx += (double)x[j] * x[j];
        yy += (double)y[j] * y[j];
    }
    return xx > 0 && yy > 0 ? xy / (sqrt(xx) * sqrt(yy)) : 0;
}

int w2v_eval_similarity(const w2v_model *m, const w2v_pair_set *s,
                        const w2v_similarity_options *opt,
                        w2v_similarity_result **out, w2v_error *err)
{
    *out = NULL;
    w2v_similarity_options o = opt ? *opt : w2v_similarity_options_default();
    size_t vsize = w2v_model_size(m), dim = w2v_model_dim(m);
    size_t n = o.restrict_vocab && o.restrict_vocab < vsize ? o.restrict_vocab
                                                            : vsize;
    w2v_similarity_result *r = calloc(1, sizeof *r);
    double *gold = malloc((s->n ? s->n : 1) * sizeof *gold);
    double *model = malloc((s->n ? s->n : 1) * sizeof *model);
    if (r != NULL)
        r->cosine = malloc((s->n ? s->n : 1) * sizeof *r->cosine);
    if (r == NULL || r->cosine == NULL || gold == NULL || model == NULL) {
        w2v_similarity_result_free(r);
        free(gold);
        free(model);
        return w2v_fail_nomem(err, "similarity results");
    }
    word_map wm;
    int rc = word_map_build(&wm, w2v_model_vocab(m), !o.case_sensitive, err);
    r->pairs = s->n;
    for (size_t i = 0; rc == W2V_OK && i < s->n; i++) {
        int64_t a = word_map_find(&wm, s->text.data + s->p[i].word[0]);
        int64_t b = word_map_find(&wm, s->text.data + s->p[i].word[1]);
        r->cosine[i] = NAN;
        if (a == -2 || b == -2)
            rc = w2v_fail_nomem(err, "a folded word");
        else if (a < 0 || b < 0)
            r->skipped_oov++;
        else if ((size_t)a >= n || (size_t)b >= n)
            r->skipped_restrict++;
        else {
            r->cosine[i] = cosine(w2v_model_vector_const(m, (size_t)a),
                                  w2v_model_vector_const(m, (size_t)b), dim);
            gold[r->used] = s->p[i].score;
            model[r->used] = r->cosine[i];
            r->used++;
        }
    }
    word_map_free(&wm);
    if (rc == W2V_OK) {
        r->spearman = NAN;
        if (r->used >= 2) {
            rc = w2v_eval_spearman(gold, model, r->used, &r->spearman, NULL);
            if (rc == W2V_ERR_ARG) /* a constant side: undefined, not a
                                      failure */
                rc = W2V_OK;
            else if (rc != W2V_OK)
                rc = w2v_fail_nomem(err, "ranks");
        }
    }
    free(gold);
    free(model);
    if (rc != W2V_OK) {
        w2v_similarity_result_free(r);
        return rc;
    }
    *out = r;
    return W2V_OK;
}

/* A value and where it came from, for ranking. */
typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int by_value(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* rank[i] = 1-based rank of x[i]; equal values share their mean rank. */
static int average_ranks(const double *x, size_t n, double *rank)
{
    ranked *t = malloc(n * sizeof *t);
    if (t == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        t[i] = (ranked){x[i], i};
    qsort(t, n, sizeof *t, by_value);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && t[hi].v == t[lo].v)
            hi++;
        /* positions lo..hi-1 hold ranks lo+1..hi: their mean */
        double mean = (double)(lo + 1 + hi) / 2;
        for (size_t k = lo; k < hi; k++)
            rank[t[k].i] = mean;
        lo = hi;
    }
    free(t);
    return 1;
}

int w2v_eval_spearman(const double *x, const double *y, size_t n,
                      double *rho, w2v_error *err)
{
    *rho = NAN;
    if (n < 2)
        return w2v_fail(err, W2V_ERR_ARG, "Spearman's rho needs 2 pairs, "
                        "got %zu", n);
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    if (rx == NULL || ry == NULL || !average_ranks(x, n, rx) ||
        !average_ranks(y, n, ry)) {
        free(rx);
        free(ry);
        return w2v_fail_nomem(err, "ranks");
    }
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += rx[i];
        my += ry[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = rx[i] - mx, dy = ry[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    free(rx);
    free(ry);
    if (sxx == 0 || syy == 0)
        return w2v_fail(err, W2V_ERR_ARG, "Spearman's rho is undefined: "
                        "all %s values are equal", sxx == 0 ? "x" : "y");
    double r = sxy / sqrt(sxx * syy);
    *rho = r > 1 ? 1 : r < -1 ? -1 : r;
    return W2V_OK;
}
