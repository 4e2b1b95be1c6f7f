/*
 * model.c - a vocabulary plus one vector per word, and the file formats:
 * word2vec text and binary, and the native format used in place through
 * mmap. See w2v/model.h for the formats.
 */
#define _POSIX_C_SOURCE 200809L
/* madvise and its Linux hints (huge pages, prefaulting) */
#define _DEFAULT_SOURCE

#include "w2v/model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

struct w2v_model {
    w2v_vocab *vocab;
    size_t dim;
    float *vectors; /* (V, dim), one aligned block: owned, or inside map */
    void *map;      /* a native file mapped whole (private, copy on write),
                       which vectors points into; NULL when vectors is an
                       allocation of its own */
    size_t map_bytes;
};

/* Matrices from this size up are worth the page hints below. */
#define HUGE_PAGE ((size_t)2 << 20)

/*
 * An aligned block of `bytes` for a matrix, freed with w2v_free_aligned.
 * A large one is aligned to 2 MB and, where the kernel offers them, backed
 * by huge pages: a fresh 85 MB matrix faulted in 4 kB page by page (21,000
 * faults) takes longer than the rest of loading a 300-d, 70k-word model.
 * The hint is only a hint; if the kernel refuses, nothing changes.
 */
static void *alloc_matrix(size_t bytes)
{
    if (bytes < 4 * HUGE_PAGE)
        return w2v_alloc_aligned(bytes);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return p;
}

/*
 * Maps the pages of a block from alloc_matrix in one call rather than a
 * fault at a time, ahead of writing it. Only a hint, like the above.
 */
static void prefault_matrix(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    if (bytes >= 4 * HUGE_PAGE)
        madvise(p, bytes / HUGE_PAGE * HUGE_PAGE, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

/*
 * A model of rows x dim values for vocab (which it owns from here on, also
 * on failure), all zero when zero is set; otherwise the caller writes every
 * row. rows may exceed the vocabulary's size while a file loads.
 */
static int model_create(w2v_vocab *vocab, size_t rows, size_t dim, int zero,
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
    float *vec = alloc_matrix(bytes);
    if (m == NULL || vec == NULL) {
        free(m);
        w2v_free_aligned(vec);
        w2v_vocab_free(vocab);
        return w2v_fail(err, W2V_ERR_NOMEM,
                        "out of memory for a %zu x %zu matrix (%zu MB)", n,
                        dim, bytes >> 20);
    }
    if (zero) {
        prefault_matrix(vec, bytes);
        memset(vec, 0, bytes);
    }
    m->vocab = vocab;
    m->dim = dim;
    m->vectors = vec;
    *out = m;
    return W2V_OK;
}

int w2v_model_new(w2v_vocab *vocab, size_t dim, w2v_model **out,
                  w2v_error *err)
{
    return model_create(vocab, w2v_vocab_size(vocab), dim, 1, out, err);
}

void w2v_model_free(w2v_model *m)
{
    if (m == NULL)
        return;
    w2v_vocab_free(m->vocab);
    if (m->map != NULL)
        munmap(m->map, m->map_bytes);
    else
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

/* ---------------------------------------------------------------------- */
/* Native format: shared pieces                                            */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

static void put_u64le(unsigned char *p, uint64_t v)
{
    for (int b = 0; b < 8; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

static uint32_t get_u32le(const unsigned char *p)
{
    uint32_t v = 0;
    for (int b = 3; b >= 0; b--)
        v = v << 8 | p[b];
    return v;
}

static uint64_t get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--)
        v = v << 8 | p[b];
    return v;
}

/* Offsets of the header's fields (see w2v/model.h). */
enum native_field {
    H_VERSION = 8,
    H_FLAGS = 12,
    H_WORDS = 16,
    H_DIM = 24,
    H_MATRIX_OFF = 32,
    H_MATRIX_BYTES = 40,
    H_VOCAB_OFF = 48,
    H_VOCAB_BYTES = 56,
    H_FILE_BYTES = 64,
    H_MATRIX_SUM = 72,
    H_CHECKSUM = 80,
    H_RESERVED = 84
};

/* Where w2v puts the matrix: the first multiple of 64 after the header. */
#define NATIVE_MATRIX_AT                                                      \
    ((W2V_NATIVE_HEADER_BYTES + W2V_NATIVE_ALIGN - 1) / W2V_NATIVE_ALIGN *    \
     W2V_NATIVE_ALIGN)

/* zlib's crc32 continued over p[0, n), in pieces that fit its uInt. */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n > 0) {
        uInt piece = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n;
        crc = (uint32_t)crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return crc;
}

/* The checksum of a header (the checksum field read as zero) and vocab. */
static uint32_t native_checksum(const unsigned char *header,
                                const unsigned char *vocab, size_t vbytes)
{
    unsigned char h[W2V_NATIVE_HEADER_BYTES];
    memcpy(h, header, sizeof h);
    put_u32le(h + H_CHECKSUM, 0);
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    crc = crc_update(crc, h, sizeof h);
    return crc_update(crc, vocab, vbytes);
}

/*
 * One pass over v[0, cells) that both checks and sums: returns the index of
 * the first NaN or infinity (cells when there is none) and puts the
 * format's matrix sum in *sum, the values read as little-endian u32 words
 * (the host is little-endian here). The pass runs at memory speed; the
 * slow search for which value is bad runs only when there is one.
 */
static size_t scan_matrix(const float *v, size_t cells, uint64_t *sum)
{
    uint64_t s = 0;
    uint32_t special = 0;
    for (size_t i = 0; i < cells; i++) {
        uint32_t u;
        memcpy(&u, v + i, 4);
        special |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
        s += (uint64_t)u * (uint64_t)(i + 1);
    }
    *sum = s;
    for (size_t i = 0; special && i < cells; i++)
        if (!isfinite(v[i]))
            return i;
    return cells;
}

/* ---------------------------------------------------------------------- */
/* Native format: saving                                                   */

/* What saving reads: a vocabulary and its rows, a model's or any other. */
typedef struct matrix_view {
    const w2v_vocab *vocab;
    const float *vectors;  /* (size of vocab, dim) */
    size_t dim;
} matrix_view;

/*
 * The vocabulary section of m (n u64 counts, then u32 length + bytes per
 * word) in a new buffer *out of *bytes bytes, owned by the caller.
 */
static int vocab_section(const matrix_view *m, unsigned char **out,
                         size_t *bytes, w2v_error *err)
{
    *out = NULL;
    const w2v_vocab *v = m->vocab;
    size_t n = w2v_vocab_size(v), total;
    if (!w2v_mul_size(n, 12, &total))
        return w2v_fail_nomem(err, "the vocabulary section");
    for (size_t i = 0; i < n; i++) {
        size_t len = w2v_vocab_word_len(v, i);
        if (len > SIZE_MAX - total)
            return w2v_fail_nomem(err, "the vocabulary section");
        total += len;
    }
    unsigned char *buf = malloc(total ? total : 1);
    if (buf == NULL)
        return w2v_fail_nomem(err, "the vocabulary section");
    unsigned char *p = buf + 8 * n;
    for (size_t i = 0; i < n; i++) {
        size_t len = w2v_vocab_word_len(v, i);
        put_u64le(buf + 8 * i, w2v_vocab_count(v, i));
        put_u32le(p, (uint32_t)len); /* a vocabulary word fits in u32 */
        memcpy(p + 4, w2v_vocab_word(v, i), len);
        p += 4 + len;
    }
    *out = buf;
    *bytes = total;
    return W2V_OK;
}

static int save_native(const matrix_view *m, const char *path,
                       w2v_error *err)
{
    if (!host_is_little_endian())
        return w2v_fail(err, W2V_ERR_ARG, "%s: the native format is "
                        "little-endian and this host is not: save the "
                        "model as binary instead", path);
    size_t n = w2v_vocab_size(m->vocab), dim = m->dim;
    if (n == 0)
        return w2v_fail(err, W2V_ERR_EMPTY, "%s: a model without words "
                        "cannot be saved in the native format", path);
    size_t cells = n * dim, matrix_bytes = cells * sizeof(float);
    uint64_t sum;
    size_t bad = scan_matrix(m->vectors, cells, &sum);
    if (bad < cells)
        return w2v_fail(err, W2V_ERR_ARG, "%s: value %zu of row %zu is not "
                        "finite; the native format does not store it", path,
                        bad % dim + 1, bad / dim + 1);
    unsigned char *voc = NULL;
    size_t vocab_bytes = 0;
    int rc = vocab_section(m, &voc, &vocab_bytes, err);
    if (rc != W2V_OK)
        return rc;
    size_t matrix_off = NATIVE_MATRIX_AT;
    size_t matrix_end = matrix_off + matrix_bytes; /* model_create checked */
    size_t vocab_off = (matrix_end + 7) / 8 * 8;
    if (matrix_end > SIZE_MAX - 8 || vocab_bytes > SIZE_MAX - vocab_off) {
        free(voc);
        return w2v_fail_nomem(err, "a native model file");
    }
    unsigned char h[NATIVE_MATRIX_AT];
    memset(h, 0, sizeof h);
    memcpy(h, W2V_NATIVE_MAGIC, 8);
    put_u32le(h + H_VERSION, W2V_NATIVE_VERSION);
    put_u64le(h + H_WORDS, n);
    put_u64le(h + H_DIM, dim);
    put_u64le(h + H_MATRIX_OFF, matrix_off);
    put_u64le(h + H_MATRIX_BYTES, matrix_bytes);
    put_u64le(h + H_VOCAB_OFF, vocab_off);
    put_u64le(h + H_VOCAB_BYTES, vocab_bytes);
    put_u64le(h + H_FILE_BYTES, vocab_off + vocab_bytes);
    put_u64le(h + H_MATRIX_SUM, sum);
    put_u32le(h + H_CHECKSUM, native_checksum(h, voc, vocab_bytes));
    w2v_outfile o;
    rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK) {
        free(voc);
        return rc;
    }
    static const unsigned char zeros[8];
    /* The host is little-endian: the floats go out as they are. */
    fwrite(h, 1, sizeof h, o.fp);
    fwrite(m->vectors, sizeof(float), cells, o.fp);
    fwrite(zeros, 1, vocab_off - matrix_end, o.fp);
    fwrite(voc, 1, vocab_bytes, o.fp);
    free(voc);
    return w2v_outfile_commit(&o, err);
}

const char *w2v_format_name(int format)
{
    switch (format) {
    case W2V_FORMAT_BINARY:
        return "binary";
    case W2V_FORMAT_TEXT:
        return "text";
    case W2V_FORMAT_NATIVE:
        return "native";
    default:
        return "unknown";
    }
}

static int save_view(const matrix_view *m, const char *path, int format,
                     w2v_error *err)
{
    if (format == W2V_FORMAT_NATIVE)
        return save_native(m, path, err);
    if (format != W2V_FORMAT_BINARY && format != W2V_FORMAT_TEXT)
        return w2v_fail(err, W2V_ERR_ARG, "unknown model format %d", format);
    size_t n = w2v_vocab_size(m->vocab), dim = m->dim;
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

int w2v_model_save(const w2v_model *m, const char *path, int format,
                   w2v_error *err)
{
    matrix_view v = {m->vocab, m->vectors, m->dim};
    return save_view(&v, path, format, err);
}

int w2v_model_save_matrix(const w2v_vocab *vocab, const float *rows,
                          size_t dim, const char *path, int format,
                          w2v_error *err)
{
    if (dim == 0 || (rows == NULL && w2v_vocab_size(vocab) > 0))
        return w2v_fail(err, W2V_ERR_ARG, "%s: no matrix to save", path);
    matrix_view v = {vocab, rows, dim};
    return save_view(&v, path, format, err);
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
        /* Mapped in one call, not by a page fault every 64 kB. */
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;
#endif
        void *p = mmap(NULL, s->size, PROT_READ, flags, fd, 0);
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

/*
 * Reads the vector of a binary row into v, or with v NULL only steps over
 * it (the vector thread below reads it).
 */
static int read_binary_row(source *s, float *v, size_t dim, size_t row,
                           w2v_error *err)
{
    if (s->size - s->pos < dim * 4)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: file ends inside "
                        "the vector of row %zu: truncated", s->path, s->pos,
                        row + 1);
    if (v == NULL) {
        s->pos += dim * 4;
        if (!at_end(s) && s->data[s->pos] == '\n')
            s->pos++;
        return W2V_OK;
    }
    const unsigned char *p = s->data + s->pos;
    /* Compilers turn this into plain (vector) loads on little-endian hosts. */
    for (size_t j = 0; j < dim; j++)
        v[j] = get_f32le(p + 4 * j);
    /* NaN and infinity have all exponent bits set: one branch-free pass. */
    uint32_t special = 0;
    for (size_t j = 0; j < dim; j++) {
        uint32_t u;
        memcpy(&u, v + j, 4);
        special |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    for (size_t j = 0; special && j < dim; j++)
        if (!isfinite(v[j]))
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: value %zu of "
                            "row %zu is not finite", s->path,
                            s->pos + 4 * j, j + 1, row + 1);
    s->pos += dim * 4;
    if (!at_end(s) && s->data[s->pos] == '\n')
        s->pos++;
    return W2V_OK;
}

/*
 * Reads the n rows into m. With vectors_elsewhere (binary files only) the
 * vectors are stepped over: another thread reads them. *failed_row gets
 * the row of the first problem.
 */
static int load_rows(source *s, w2v_model *m, size_t n, int text,
                     int vectors_elsewhere, size_t *failed_row,
                     w2v_error *err)
{
    size_t dim = m->dim;
    *failed_row = n;
    for (size_t i = 0; i < n; i++) {
        *failed_row = i;
        const char *w = NULL;
        size_t len = 0;
        size_t word_at = s->pos;
        int rc = read_word(s, &w, &len, i, err);
        if (rc != W2V_OK)
            return rc;
        int64_t id;
        w2v_error sub;
        w2v_error_clear(&sub);
        rc = w2v_vocab_add(m->vocab, w, len, (uint64_t)(n - i), &id, &sub);
        if (rc != W2V_OK)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (row %zu): %s",
                            s->path, word_at, i + 1, sub.message);
        /* A new word gets id i; an earlier id means the word is back (its
         * count was added to, but the model is discarded anyway). */
        if ((size_t)id != i)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (row %zu): "
                            "duplicate word \"%.*s\" (first in row %lld)",
                            s->path, word_at, i + 1,
                            (int)(len > 64 ? 64 : len), w, (long long)id + 1);
        float *v = vectors_elsewhere ? NULL : m->vectors + i * dim;
        rc = text ? read_text_row(s, v, dim, i, err)
                  : read_binary_row(s, v, dim, i, err);
        if (rc != W2V_OK)
            return rc;
    }
    *failed_row = n;
    while (!at_end(s) && (s->data[s->pos] == '\n' || s->data[s->pos] == ' ' ||
                          s->data[s->pos] == '\r'))
        s->pos++;
    if (!at_end(s))
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: data after the "
                        "%zu rows the header announced", s->path, s->pos, n);
    return W2V_OK;
}

/*
 * The vectors of a binary file, read by a second thread while the loading
 * thread reads the words into the vocabulary: the two are independent once
 * each row's start is known, and each thread finds the starts itself (a
 * row is a word, a space, 4 dim bytes and an optional newline). On two
 * cores the vocabulary's hashing then overlaps the memory-bound copy of the
 * vectors. Each thread stops at the first problem it sees; the caller
 * reports the one earlier in the file, so the message is the one a single
 * pass would give.
 */
typedef struct vector_reader {
    source s;           /* own cursor over the shared, read-only data */
    float *vectors;     /* (n, dim), written only by this thread */
    size_t n, dim;
    size_t bytes;       /* of vectors */
    atomic_size_t stop; /* the loading thread's failed row (n: none): rows
                           from there on cannot matter */
    int rc;             /* W2V_OK, or the first problem... */
    size_t failed_row;  /* ...its row (n when none)... */
    w2v_error err;      /* ...and its message */
} vector_reader;

/* Rows for which a second thread pays for itself (~4 MB of vectors). */
#define THREADED_LOAD_BYTES ((size_t)4 << 20)

static void *read_vectors(void *arg)
{
    vector_reader *r = arg;
    source *s = &r->s;
    prefault_matrix(r->vectors, r->bytes);
    r->failed_row = r->n;
    for (size_t i = 0; i < r->n; i++) {
        if (i >= atomic_load_explicit(&r->stop, memory_order_relaxed))
            break;
        size_t word_at = s->pos;
        while (!at_end(s) && s->data[s->pos] != ' ' && s->data[s->pos] != '\n')
            s->pos++;
        /* A bad word: the loading thread reports it. */
        if (at_end(s) || s->data[s->pos] != ' ' || s->pos == word_at)
            break;
        s->pos++;
        r->rc = read_binary_row(s, r->vectors + i * r->dim, r->dim, i,
                                &r->err);
        if (r->rc != W2V_OK) {
            r->failed_row = i;
            break;
        }
    }
    return NULL;
}

/*
 * load_rows for a binary file, with the vectors read by a second thread
 * when the matrix is large; falls back to one thread if none can start.
 */
static int load_binary(source *s, w2v_model *m, size_t n, w2v_error *err)
{
    size_t failed_row;
    size_t bytes = n * m->dim * sizeof(float); /* checked by model_create */
    if (bytes < THREADED_LOAD_BYTES) {
        prefault_matrix(m->vectors, bytes);
        return load_rows(s, m, n, 0, 0, &failed_row, err);
    }
    vector_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return w2v_fail_nomem(err, "a model reader");
    r->s = *s;
    r->vectors = m->vectors;
    r->n = n;
    r->dim = m->dim;
    r->bytes = bytes;
    atomic_init(&r->stop, n);
    pthread_t tid;
    if (pthread_create(&tid, NULL, read_vectors, r) != 0) {
        free(r);
        prefault_matrix(m->vectors, bytes);
        return load_rows(s, m, n, 0, 0, &failed_row, err);
    }
    int rc = load_rows(s, m, n, 0, 1, &failed_row, err);
    if (rc != W2V_OK)
        atomic_store_explicit(&r->stop, failed_row, memory_order_relaxed);
    pthread_join(tid, NULL);
    /* Within one row the word comes first, so ties go to this thread. */
    if (r->rc != W2V_OK && r->failed_row < failed_row) {
        if (err != NULL)
            *err = r->err;
        rc = r->rc;
    }
    free(r);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Native format: loading                                                  */

/*
 * Does [a, a + na) overlap [b, b + nb)? Both are known to lie within the
 * file, so the sums cannot overflow.
 */
static int overlaps(uint64_t a, uint64_t na, uint64_t b, uint64_t nb)
{
    return a < b + nb && b < a + na;
}

/*
 * Checks the header's layout against the file: version, flags, sizes and
 * offsets. Fills the fields a loader needs.
 */
typedef struct native_layout {
    size_t n, dim;
    size_t matrix_off, matrix_bytes;
    size_t vocab_off, vocab_bytes;
    uint64_t matrix_sum;
} native_layout;

static int native_layout_check(const source *s, native_layout *l,
                               w2v_error *err)
{
    const unsigned char *d = s->data;
    const char *path = s->path;
    const size_t hb = W2V_NATIVE_HEADER_BYTES;
    if (s->size < hb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: the file ends "
                        "inside the %zu-byte native header: truncated",
                        path, s->size, hb);
    uint32_t version = get_u32le(d + H_VERSION);
    if (version != W2V_NATIVE_VERSION)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: native format "
                        "version %" PRIu32 "; this w2v reads version %d only",
                        path, H_VERSION, version, W2V_NATIVE_VERSION);
    uint32_t flags = get_u32le(d + H_FLAGS);
    if (flags != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: unknown flags "
                        "0x%" PRIx32 " (version %d defines none)", path,
                        H_FLAGS, flags, W2V_NATIVE_VERSION);
    if (get_u32le(d + H_RESERVED) != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: the reserved "
                        "field is not zero", path, H_RESERVED);
    uint64_t file_bytes = get_u64le(d + H_FILE_BYTES);
    if (file_bytes > s->size)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: the file ends "
                        "here, but its header (byte %d) says %" PRIu64
                        " bytes: truncated", path, s->size, H_FILE_BYTES,
                        file_bytes);
    if (file_bytes < s->size)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %" PRIu64 ": data "
                        "after the end the header (byte %d) gives", path,
                        file_bytes, H_FILE_BYTES);
    uint64_t n = get_u64le(d + H_WORDS), dim = get_u64le(d + H_DIM);
    if (n == 0 || dim == 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: header says %"
                        PRIu64 " words of dimension %" PRIu64 ": nothing to "
                        "load", path, H_WORDS, n, dim);
    /* Every section lies within the file, so sizes fit in size_t. */
    uint64_t mo = get_u64le(d + H_MATRIX_OFF);
    uint64_t mb = get_u64le(d + H_MATRIX_BYTES);
    uint64_t vo = get_u64le(d + H_VOCAB_OFF);
    uint64_t vb = get_u64le(d + H_VOCAB_BYTES);
    size_t cells, want;
    if (n > SIZE_MAX || dim > SIZE_MAX ||
        !w2v_mul_size((size_t)n, (size_t)dim, &cells) ||
        !w2v_mul_size(cells, sizeof(float), &want) || want != mb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: matrix bytes %"
                        PRIu64 ", but %" PRIu64 " words x %" PRIu64 " x 4 "
                        "bytes is not that: a lying header", path,
                        H_MATRIX_BYTES, mb, n, dim);
    if (mo % W2V_NATIVE_ALIGN != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: matrix offset %"
                        PRIu64 " is not a multiple of %d", path,
                        H_MATRIX_OFF, mo, W2V_NATIVE_ALIGN);
    if (mo < hb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: matrix offset %"
                        PRIu64 " overlaps the %zu-byte header", path,
                        H_MATRIX_OFF, mo, hb);
    if (mb > file_bytes || mo > file_bytes - mb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: the matrix "
                        "(%" PRIu64 " bytes at %" PRIu64 ") runs past the "
                        "end of the file (%" PRIu64 " bytes)", path,
                        H_MATRIX_OFF, mb, mo, file_bytes);
    if (vo % 8 != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: vocabulary "
                        "offset %" PRIu64 " is not a multiple of 8", path,
                        H_VOCAB_OFF, vo);
    if (vo < hb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: vocabulary "
                        "offset %" PRIu64 " overlaps the %zu-byte header",
                        path, H_VOCAB_OFF, vo, hb);
    if (vb > file_bytes || vo > file_bytes - vb)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: the vocabulary "
                        "(%" PRIu64 " bytes at %" PRIu64 ") runs past the "
                        "end of the file (%" PRIu64 " bytes)", path,
                        H_VOCAB_OFF, vb, vo, file_bytes);
    if (overlaps(vo, vb, mo, mb))
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: the vocabulary "
                        "[%" PRIu64 ", %" PRIu64 ") overlaps the matrix [%"
                        PRIu64 ", %" PRIu64 ")", path, H_VOCAB_OFF, vo,
                        vo + vb, mo, mo + mb);
    /* Each word takes at least 13 bytes: count, length, one byte. */
    if (n > vb / 13)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: %" PRIu64
                        " vocabulary bytes cannot hold %" PRIu64 " words: a "
                        "lying header", path, H_VOCAB_BYTES, vb, n);
    l->n = (size_t)n;
    l->dim = (size_t)dim;
    l->matrix_off = (size_t)mo;
    l->matrix_bytes = (size_t)mb;
    l->vocab_off = (size_t)vo;
    l->vocab_bytes = (size_t)vb;
    l->matrix_sum = get_u64le(d + H_MATRIX_SUM);
    return W2V_OK;
}

/* Reads the vocabulary section into a new vocabulary, checking each word. */
static int native_vocab(const source *s, const native_layout *l,
                        w2v_vocab **out, w2v_error *err)
{
    *out = NULL;
    w2v_vocab *v;
    int rc = w2v_vocab_new(&v, err);
    /* Each word's length and NUL: the section less counts and lengths
     * (the layout check made sure it holds at least 13 bytes a word). */
    if (rc == W2V_OK)
        rc = w2v_vocab_reserve(v, l->n, l->vocab_bytes - 11 * l->n, err);
    if (rc != W2V_OK) {
        w2v_vocab_free(v);
        return rc;
    }
    const unsigned char *d = s->data;
    size_t p = l->vocab_off + 8 * l->n, end = l->vocab_off + l->vocab_bytes;
    for (size_t i = 0; i < l->n && rc == W2V_OK; i++) {
        if (end - p < 4) {
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: the "
                          "vocabulary ends inside the length of word %zu "
                          "of %zu", s->path, p, i + 1, l->n);
            break;
        }
        size_t len = get_u32le(d + p);
        if (len == 0 || len > end - p - 4) {
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: word %zu has "
                          "length %zu, %s", s->path, p, i + 1, len,
                          len == 0 ? "an empty word"
                                   : "past the end of the vocabulary");
            break;
        }
        const char *w = (const char *)d + p + 4;
        uint64_t count = get_u64le(d + l->vocab_off + 8 * i);
        int64_t id;
        w2v_error sub;
        w2v_error_clear(&sub);
        if (w2v_vocab_add(v, w, len, count, &id, &sub) != W2V_OK)
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (word %zu): %s",
                          s->path, p + 4, i + 1, sub.message);
        else if ((size_t)id != i)
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu (word %zu): "
                          "duplicate word \"%.*s\" (first in row %lld)",
                          s->path, p + 4, i + 1, (int)(len > 64 ? 64 : len),
                          w, (long long)id + 1);
        p += 4 + len;
    }
    if (rc == W2V_OK && p != end)
        rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: %zu bytes left in "
                      "the vocabulary after its %zu words", s->path, p,
                      end - p, l->n);
    if (rc != W2V_OK) {
        w2v_vocab_free(v);
        return rc;
    }
    *out = v;
    return W2V_OK;
}

/*
 * Loads a native file from s. A mapped file is kept mapped and becomes the
 * model's matrix (made writable, copy on write); a file read into memory
 * has its matrix copied into an aligned block.
 */
static int load_native(source *s, w2v_model **out, w2v_error *err)
{
    *out = NULL;
    if (!host_is_little_endian())
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: a native w2v model is "
                        "little-endian and this host is not: convert it to "
                        "binary (w2v-train -format binary) on a "
                        "little-endian machine", s->path);
    native_layout l = {0};
    int rc = native_layout_check(s, &l, err);
    if (rc != W2V_OK)
        return rc;
    uint32_t stored = get_u32le(s->data + H_CHECKSUM);
    uint32_t crc = native_checksum(s->data, s->data + l.vocab_off,
                                   l.vocab_bytes);
    if (crc != stored)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: checksum "
                        "0x%08" PRIx32 ", but the header and vocabulary "
                        "give 0x%08" PRIx32 ": the file is damaged", s->path,
                        H_CHECKSUM, stored, crc);
    const float *vec = (const float *)(s->data + l.matrix_off);
    size_t cells = l.matrix_bytes / sizeof(float);
    uint64_t sum;
    size_t bad = scan_matrix(vec, cells, &sum);
    if (bad < cells)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: value %zu of "
                        "row %zu is not finite", s->path,
                        l.matrix_off + 4 * bad, bad % l.dim + 1,
                        bad / l.dim + 1);
    if (sum != l.matrix_sum)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %d: the matrix sum "
                        "does not match the matrix (%zu bytes at %zu): the "
                        "vectors are damaged", s->path, H_MATRIX_SUM,
                        l.matrix_bytes, l.matrix_off);
    w2v_vocab *vocab;
    if ((rc = native_vocab(s, &l, &vocab, err)) != W2V_OK)
        return rc;
    w2v_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        w2v_vocab_free(vocab);
        return w2v_fail_nomem(err, "a model");
    }
    m->vocab = vocab;
    m->dim = l.dim;
    if (s->mapped &&
        mprotect(s->base, s->size, PROT_READ | PROT_WRITE) == 0) {
        /* The model owns the mapping from here on. */
        m->map = s->base;
        m->map_bytes = s->size;
        m->vectors = (float *)((unsigned char *)s->base + l.matrix_off);
        s->mapped = 0;
        s->base = NULL;
    } else {
        m->vectors = alloc_matrix(l.matrix_bytes);
        if (m->vectors == NULL) {
            w2v_model_free(m);
            return w2v_fail(err, W2V_ERR_NOMEM, "out of memory for a %zu x "
                            "%zu matrix", l.n, l.dim);
        }
        memcpy(m->vectors, vec, l.matrix_bytes);
    }
    *out = m;
    return W2V_OK;
}

/*
 * The native magic, or its first four bytes followed by others: a native
 * file damaged on the way (a text-mode transfer rewrites \r\n). Returns 1
 * for the magic, 0 for anything else, W2V_ERR_FORMAT (negated) after a
 * message for damage.
 */
static int native_magic(const source *s, w2v_error *err)
{
    if (s->size < 4 || memcmp(s->data, W2V_NATIVE_MAGIC, 4) != 0)
        return 0;
    size_t k = 4;
    while (k < 8 && k < s->size &&
           s->data[k] == (unsigned char)W2V_NATIVE_MAGIC[k])
        k++;
    if (k == 8)
        return 1;
    w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: damaged native magic "
             "(expected 89 57 32 56 0d 0a 1a 0a): truncated, or copied as "
             "text?", s->path, k);
    return -W2V_ERR_FORMAT;
}

int w2v_model_load(const char *path, w2v_model **out, w2v_error *err)
{
    return w2v_model_load_format(path, out, NULL, err);
}

int w2v_model_load_format(const char *path, w2v_model **out, int *format,
                          w2v_error *err)
{
    *out = NULL;
    source s;
    int rc = source_open(&s, path, err);
    if (rc != W2V_OK)
        return rc;
    int native = native_magic(&s, err);
    if (native != 0) {
        rc = native > 0 ? load_native(&s, out, err) : -native;
        source_close(&s);
        if (rc == W2V_OK && format != NULL)
            *format = W2V_FORMAT_NATIVE;
        return rc;
    }
    size_t n, dim;
    w2v_vocab *vocab = NULL;
    w2v_model *m = NULL;
    rc = read_header(&s, &n, &dim, err);
    if (rc == W2V_OK)
        rc = w2v_vocab_new(&vocab, err);
    /* Room for the rows the file can hold (each takes at least 2 dim + 2
     * bytes), not for any number a lying header gives. */
    if (rc == W2V_OK) {
        size_t fit = s.size / (2 * dim + 2);
        size_t words = n < fit ? n : fit;
        rc = w2v_vocab_reserve(vocab, words, 8 * words, err);
        if (rc != W2V_OK)
            w2v_vocab_free(vocab);
    }
    /* The vocabulary starts empty and fills as the rows load. */
    if (rc == W2V_OK)
        rc = model_create(vocab, n, dim, 0, &m, err);
    if (rc == W2V_OK) {
        size_t failed_row;
        int text = looks_like_text(&s, dim);
        if (text) {
            prefault_matrix(m->vectors, n * dim * sizeof(float));
            rc = load_rows(&s, m, n, 1, 0, &failed_row, err);
        } else {
            rc = load_binary(&s, m, n, err);
        }
        if (format != NULL)
            *format = text ? W2V_FORMAT_TEXT : W2V_FORMAT_BINARY;
    }
    source_close(&s);
    if (rc != W2V_OK) {
        w2v_model_free(m);
        return rc;
    }
    *out = m;
    return W2V_OK;
}
