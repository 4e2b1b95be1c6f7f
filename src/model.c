/*
 * model.c - a vocabulary plus one vector per word, and the word2vec text
 * and binary file formats. See w2v/model.h for the formats.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct w2v_model {
    w2v_vocab *vocab;
    size_t dim;
    float *vectors; /* (V, dim), one aligned block */
};

/*
 * A model of rows x dim zeros for vocab (which it owns from here on, also
 * on failure). rows may exceed the vocabulary's size while a file loads.
 */
static int model_create(w2v_vocab *vocab, size_t rows, size_t dim,
                        w2v_model **out, w2v_error *err)
{
    *out = NULL;
    size_t n = rows, cells, bytes;
    if (dim == 0) {
        w2v_vocab_free(vocab);
        return w2v_fail(err, W2V_ERR_ARG, "vector dimension is 0");
    }
    if (!w2v_mul_size(n ? n : 1, dim, &cells) ||
        !w2v_mul_size(cells, sizeof(float), &bytes)) {
        w2v_vocab_free(vocab);
        return w2v_fail(err, W2V_ERR_NOMEM, "a %zu x %zu matrix is too big",
                        n, dim);
    }
    w2v_model *m = calloc(1, sizeof *m);
    float *vec = w2v_alloc_aligned(bytes);
    if (m == NULL || vec == NULL) {
        free(m);
        w2v_free_aligned(vec);
        w2v_vocab_free(vocab);
        return w2v_fail(err, W2V_ERR_NOMEM,
                        "out of memory for a %zu x %zu matrix (%zu MB)", n,
                        dim, bytes >> 20);
    }
    memset(vec, 0, bytes);
    m->vocab = vocab;
    m->dim = dim;
    m->vectors = vec;
    *out = m;
    return W2V_OK;
}

int w2v_model_new(w2v_vocab *vocab, size_t dim, w2v_model **out,
                  w2v_error *err)
{
    return model_create(vocab, w2v_vocab_size(vocab), dim, out, err);
}

void w2v_model_free(w2v_model *m)
{
    if (m == NULL)
        return;
    w2v_vocab_free(m->vocab);
    w2v_free_aligned(m->vectors);
    free(m);
}

size_t w2v_model_size(const w2v_model *m)
{
    return w2v_vocab_size(m->vocab);
}

size_t w2v_model_dim(const w2v_model *m)
{
    return m->dim;
}

const w2v_vocab *w2v_model_vocab(const w2v_model *m)
{
    return m->vocab;
}

float *w2v_model_vector(w2v_model *m, size_t id)
{
    return m->vectors + id * m->dim;
}

const float *w2v_model_vector_const(const w2v_model *m, size_t id)
{
    return m->vectors + id * m->dim;
}

/* Stores v as 4 little-endian bytes, whatever the host order. */
static void put_f32le(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

static float get_f32le(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

int w2v_model_save(const w2v_model *m, const char *path, int format,
                   w2v_error *err)
{
    if (format != W2V_FORMAT_BINARY && format != W2V_FORMAT_TEXT)
        return w2v_fail(err, W2V_ERR_ARG, "unknown model format %d", format);
    size_t n = w2v_model_size(m), dim = m->dim;
    unsigned char *row = malloc(dim * 4);
    if (row == NULL)
        return w2v_fail_nomem(err, "a row buffer");
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK) {
        free(row);
        return rc;
    }
    fprintf(o.fp, "%zu %zu\n", n, dim);
    for (size_t i = 0; i < n && !ferror(o.fp); i++) {
        const float *v = m->vectors + i * dim;
        fwrite(w2v_vocab_word(m->vocab, i), 1,
               w2v_vocab_word_len(m->vocab, i), o.fp);
        putc(' ', o.fp);
        if (format == W2V_FORMAT_BINARY) {
            for (size_t j = 0; j < dim; j++)
                put_f32le(row + 4 * j, v[j]);
            fwrite(row, 4, dim, o.fp);
        } else {
            for (size_t j = 0; j < dim; j++)
                fprintf(o.fp, "%f ", (double)v[j]);
        }
        putc('\n', o.fp);
    }
    free(row);
    return w2v_outfile_commit(&o, err);
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

/* The whole file in memory (mapped when possible) and a cursor. */
typedef struct source {
    const char *path;
    const unsigned char *data;
    size_t size;
    size_t pos;
    size_t line;      /* 1-based line of pos, for text messages */
    int mapped;
    void *base;       /* what to munmap or free */
} source;

static int source_open(source *s, const char *path, w2v_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->line = 1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open model: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return w2v_fail(err, W2V_ERR_IO, "%s: is a directory, not a model",
                        path);
    }
    if (S_ISREG(st.st_mode)) {
        s->size = (size_t)st.st_size;
        if (s->size == 0) {
            close(fd);
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: empty file", path);
        }
        void *p = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            return w2v_fail(err, W2V_ERR_IO, "%s: cannot map: %s", path,
                            strerror(errno));
        s->data = p;
        s->base = p;
        s->mapped = 1;
        return W2V_OK;
    }
    /* A pipe or device: read it all. */
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    ssize_t r;
    while (buf != NULL && (r = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap) {
            unsigned char *b = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap *= 2);
            if (b == NULL)
                free(buf);
            buf = b;
        }
    }
    close(fd);
    if (buf == NULL)
        return w2v_fail_nomem(err, "a model file");
    if (n == 0) {
        free(buf);
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: empty file", path);
    }
    s->data = buf;
    s->base = buf;
    s->size = n;
    return W2V_OK;
}

static void source_close(source *s)
{
    if (s->mapped)
        munmap(s->base, s->size);
    else
        free(s->base);
}

static int at_end(const source *s)
{
    return s->pos >= s->size;
}

/* Reads a decimal size_t; W2V_ERR_FORMAT if none or too large. */
static int read_size(source *s, size_t *out, const char *what,
                     w2v_error *err)
{
    size_t v = 0, start = s->pos;
    while (!at_end(s) && s->data[s->pos] >= '0' && s->data[s->pos] <= '9') {
        unsigned d = (unsigned)(s->data[s->pos] - '0');
        if (v > (SIZE_MAX - d) / 10)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: %s is too "
                            "large", s->path, start, what);
        v = v * 10 + d;
        s->pos++;
    }
    if (s->pos == start)
        return w2v_fail(err, W2V_ERR_FORMAT,
                        "%s: byte %zu: expected the %s in the header "
                        "\"<words> <dimension>\": not a word2vec model?",
                        s->path, start, what);
    *out = v;
    return W2V_OK;
}

static int read_header(source *s, size_t *n, size_t *dim, w2v_error *err)
{
    int rc = read_size(s, n, "word count", err);
    if (rc != W2V_OK)
        return rc;
    if (at_end(s) || s->data[s->pos] != ' ')
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: expected a space "
                        "after the word count in the header", s->path,
                        s->pos);
    s->pos++;
    if ((rc = read_size(s, dim, "dimension", err)) != W2V_OK)
        return rc;
    while (!at_end(s) && (s->data[s->pos] == ' ' || s->data[s->pos] == '\r'))
        s->pos++;
    if (at_end(s) || s->data[s->pos] != '\n')
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: expected the end "
                        "of the header line", s->path, s->pos);
    s->pos++;
    s->line = 2;
    if (*n == 0 || *dim == 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: header says %zu words of "
                        "dimension %zu: nothing to load", s->path, *n, *dim);
    /* Each value takes at least 2 bytes in text and 4 in binary. */
    size_t min_bytes;
    if (!w2v_mul_size(*n, *dim, &min_bytes) ||
        !w2v_mul_size(min_bytes, 2, &min_bytes) ||
        min_bytes > s->size - s->pos)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: header says %zu words of "
                        "dimension %zu, but the file is only %zu bytes: "
                        "truncated, or a lying header", s->path, *n, *dim,
                        s->size);
    return W2V_OK;
}

/* A word: bytes up to the next space. */
static int read_word(source *s, const char **w, size_t *len, size_t row,
                     w2v_error *err)
{
    size_t start = s->pos;
    while (!at_end(s) && s->data[s->pos] != ' ' && s->data[s->pos] != '\n')
        s->pos++;
    if (at_end(s))
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: file ends inside "
                        "row %zu of the header's count: truncated", s->path,
                        start, row + 1);
    if (s->data[s->pos] != ' ' || s->pos == start)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (line %zu): "
                        "expected a word followed by a space", s->path, start,
                        s->line);
    *w = (const char *)s->data + start;
    *len = s->pos - start;
    s->pos++;
    return W2V_OK;
}

/*
 * Is the file text? The first row decides; after its word, a text row holds
 * only printable ASCII and blanks up to its newline. It is text when its
 * fields are dim numbers (characters of numbers, nan and inf only), and
 * also, for dim > 1, when it has at least two fields, one of them a plain
 * decimal number, in at least 2 dim - 1 bytes: a text row with a typo, or
 * with too few or too many values, so that the error names its line
 * instead of decoding text as floats. A binary row of dim > 1 floats almost
 * never passes (a negative value has a byte >= 0x80, most others one below
 * 0x20); a single float might, so for dim 1 only the first test applies.
 */
static int looks_like_text(const source *s, size_t dim)
{
    size_t p = s->pos;
    while (p < s->size && s->data[p] != ' ')
        p++;
    size_t start = ++p, fields = 0;
    int in_field = 0, numeric = 1, has_decimal = 0;
    int decimal = 0; /* this field: 0 not a plain number, 1 maybe, 2 yes */
    for (;; p++) {
        int c = p < s->size ? s->data[p] : '\n';
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_field && decimal == 2)
                has_decimal = 1;
            in_field = 0;
            if (c == '\n')
                break;
            continue;
        }
        if (c < 0x20 || c > 0x7e)
            return 0;
        if (!in_field) {
            fields++;
            in_field = 1;
            decimal = 1;
        }
        if (strchr("0123456789.+-eEinfatyINFATY", c) == NULL)
            numeric = 0;
        if (c >= '0' && c <= '9')
            decimal = decimal ? 2 : 0;
        else if (strchr(".+-eE", c) == NULL)
            decimal = 0;
    }
    if (numeric && fields == dim)
        return 1;
    return dim > 1 && fields >= 2 && has_decimal && p - start >= 2 * dim - 1;
}

static int parse_value(source *s, float *out, size_t row, size_t col,
                       w2v_error *err)
{
    while (!at_end(s) && (s->data[s->pos] == ' ' || s->data[s->pos] == '\t'))
        s->pos++;
    char tmp[64];
    size_t k = 0, start = s->pos;
    while (!at_end(s) && s->data[s->pos] != ' ' && s->data[s->pos] != '\t' &&
           s->data[s->pos] != '\n' && s->data[s->pos] != '\r') {
        if (k + 1 >= sizeof tmp)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: value %zu of row "
                            "%zu is too long", s->path, s->line, col + 1,
                            row + 1);
        tmp[k++] = (char)s->data[s->pos++];
    }
    tmp[k] = '\0';
    if (k == 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: row %zu has %zu values, "
                        "the header says more (byte %zu)", s->path, s->line,
                        row + 1, col, start);
    char *end;
    errno = 0;
    float v = strtof(tmp, &end);
    if (*end != '\0')
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: value %zu of row %zu, "
                        "\"%s\", is not a number", s->path, s->line, col + 1,
                        row + 1, tmp);
    if (!isfinite(v))
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: value %zu of row %zu "
                        "is %s", s->path, s->line, col + 1, row + 1, tmp);
    *out = v;
    return W2V_OK;
}

static int read_text_row(source *s, float *v, size_t dim, size_t row,
                         w2v_error *err)
{
    for (size_t j = 0; j < dim; j++) {
        int rc = parse_value(s, v + j, row, j, err);
        if (rc != W2V_OK)
            return rc;
    }
    while (!at_end(s) && (s->data[s->pos] == ' ' || s->data[s->pos] == '\t' ||
                          s->data[s->pos] == '\r'))
        s->pos++;
    if (!at_end(s) && s->data[s->pos] != '\n')
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: row %zu has more than "
                        "%zu values", s->path, s->line, row + 1, dim);
    if (!at_end(s))
        s->pos++;
    s->line++;
    return W2V_OK;
}

static int read_binary_row(source *s, float *v, size_t dim, size_t row,
                           w2v_error *err)
{
    if (s->size - s->pos < dim * 4)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: file ends inside "
                        "the vector of row %zu: truncated", s->path, s->pos,
                        row + 1);
    for (size_t j = 0; j < dim; j++) {
        v[j] = get_f32le(s->data + s->pos + 4 * j);
        if (!isfinite(v[j]))
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: value %zu of "
                            "row %zu is not finite", s->path,
                            s->pos + 4 * j, j + 1, row + 1);
    }
    s->pos += dim * 4;
    if (!at_end(s) && s->data[s->pos] == '\n')
        s->pos++;
    return W2V_OK;
}

static int load_rows(source *s, w2v_model *m, size_t n, int text,
                     w2v_error *err)
{
    size_t dim = m->dim;
    for (size_t i = 0; i < n; i++) {
        const char *w = NULL;
        size_t len = 0;
        size_t word_at = s->pos;
        int rc = read_word(s, &w, &len, i, err);
        if (rc != W2V_OK)
            return rc;
        int64_t id;
        w2v_error sub;
        w2v_error_clear(&sub);
        if (w2v_vocab_find(m->vocab, w, len) >= 0)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (row %zu): "
                            "duplicate word \"%.*s\"", s->path, word_at, i + 1,
                            (int)(len > 64 ? 64 : len), w);
        rc = w2v_vocab_add(m->vocab, w, len, (uint64_t)(n - i), &id, &sub);
        if (rc != W2V_OK)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (row %zu): %s",
                            s->path, word_at, i + 1, sub.message);
        float *v = m->vectors + i * dim;
        rc = text ? read_text_row(s, v, dim, i, err)
                  : read_binary_row(s, v, dim, i, err);
        if (rc != W2V_OK)
            return rc;
    }
    while (!at_end(s) && (s->data[s->pos] == '\n' || s->data[s->pos] == ' ' ||
                          s->data[s->pos] == '\r'))
        s->pos++;
    if (!at_end(s))
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: data after the "
                        "%zu rows the header announced", s->path, s->pos, n);
    return W2V_OK;
}

int w2v_model_load(const char *path, w2v_model **out, w2v_error *err)
{
    *out = NULL;
    source s;
    int rc = source_open(&s, path, err);
    if (rc != W2V_OK)
        return rc;
    size_t n, dim;
    w2v_vocab *vocab = NULL;
    w2v_model *m = NULL;
    rc = read_header(&s, &n, &dim, err);
    if (rc == W2V_OK)
        rc = w2v_vocab_new(&vocab, err);
    /* The vocabulary starts empty and fills as the rows load. */
    if (rc == W2V_OK)
        rc = model_create(vocab, n, dim, &m, err);
    if (rc == W2V_OK)
        rc = load_rows(&s, m, n, looks_like_text(&s, dim), err);
    source_close(&s);
    if (rc != W2V_OK) {
        w2v_model_free(m);
        return rc;
    }
    *out = m;
    return W2V_OK;
}
