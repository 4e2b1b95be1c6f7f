/*
 * export.c - the embedding matrix, .npy and safetensors writers and their
 * strict readers, and the token list. See w2v/export.h for the formats.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/export.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "w2v/tokenizer.h"

/* ---------------------------------------------------------------------- */
/* Shared helpers                                                          */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b = 0;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int refuse_big_endian(const char *path, w2v_error *err)
{
    return w2v_fail(err, W2V_ERR_ARG,
                    "%s: .npy and safetensors files are little-endian; this "
                    "big-endian host does not read or write them", path);
}

/* Reads the whole file: *buf malloc'ed (one spare byte), *len its size. */
static int read_whole(const char *path, unsigned char **buf, size_t *len,
                      w2v_error *err)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    while (b != NULL) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
        if (nb == NULL) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (b == NULL)
        return w2v_fail_nomem(err, path);
    if (bad) {
        free(b);
        return w2v_fail(err, W2V_ERR_IO, "%s: read failed", path);
    }
    *buf = b;
    *len = n;
    return W2V_OK;
}

/* rows * cols * 4 bytes, or 0 on overflow. */
static int matrix_bytes(size_t rows, size_t cols, size_t *bytes)
{
    size_t cells = 0;
    return w2v_mul_size(rows, cols, &cells) &&
           w2v_mul_size(cells, sizeof(float), bytes);
}

/*
 * Copies bytes[0, rows * cols * 4) into a new float matrix, checking that
 * every value is finite; data_off is where the bytes sit in the file.
 */
static int take_matrix(const char *path, const unsigned char *bytes,
                       size_t data_off, size_t rows, size_t cols,
                       float **out, w2v_error *err)
{
    size_t nbytes = 0;
    matrix_bytes(rows, cols, &nbytes);
    float *m = malloc(nbytes ? nbytes : 1);
    if (m == NULL)
        return w2v_fail_nomem(err, "a matrix");
    memcpy(m, bytes, nbytes);
    for (size_t i = 0; i < rows * cols; i++) {
        if (!isfinite(m[i])) {
            free(m);
            return w2v_fail(err, W2V_ERR_FORMAT,
                            "%s: byte %zu: value [%zu, %zu] is not a finite "
                            "number", path, data_off + i * sizeof(float),
                            i / cols, i % cols);
        }
    }
    *out = m;
    return W2V_OK;
}

/* Writes the matrix and commits o; aborts o on failure. */
static int write_matrix_commit(w2v_outfile *o, const float *data,
                               size_t nbytes, w2v_error *err)
{
    if (fwrite(data, 1, nbytes, o->fp) != nbytes) {
        w2v_outfile_abort(o);
        return w2v_fail(err, W2V_ERR_IO, "write failed");
    }
    return w2v_outfile_commit(o, err);
}

/* ---------------------------------------------------------------------- */
/* The embedding matrix and token list                                     */

int w2v_export_embedding(const w2v_model *m, float **out, size_t *rows,
                         size_t *cols, w2v_error *err)
{
    *out = NULL;
    size_t v = w2v_model_size(m), d = w2v_model_dim(m), bytes = 0;
    if (v > SIZE_MAX - 2 || !matrix_bytes(v + 2, d, &bytes))
        return w2v_fail(err, W2V_ERR_NOMEM, "embedding matrix too large");
    float *e = malloc(bytes);
    double *mean = calloc(d, sizeof *mean);
    if (e == NULL || mean == NULL) {
        free(e);
        free(mean);
        return w2v_fail_nomem(err, "the embedding matrix");
    }
    for (size_t i = 0; i < v; i++) {
        const float *row = w2v_model_vector_const(m, i);
        memcpy(e + i * d, row, d * sizeof(float));
        for (size_t j = 0; j < d; j++)
            mean[j] += row[j];
    }
    for (size_t j = 0; j < d; j++) {
        e[v * d + j] = (float)(mean[j] / (double)v);
        e[(v + 1) * d + j] = 0.0f;
    }
    free(mean);
    *out = e;
    *rows = v + 2;
    *cols = d;
    return W2V_OK;
}

int w2v_export_token_vector(const w2v_model *m, size_t id, float *out,
                            w2v_error *err)
{
    size_t v = w2v_model_size(m), d = w2v_model_dim(m);
    if (id < v) {
        memcpy(out, w2v_model_vector_const(m, id), d * sizeof(float));
        return W2V_OK;
    }
    if (id > v + 1)
        return w2v_fail(err, W2V_ERR_ARG, "token id %zu is beyond the last "
                        "id, %zu", id, v + 1);
    double *mean = calloc(d, sizeof *mean);
    if (mean == NULL)
        return w2v_fail_nomem(err, "a mean vector");
    for (size_t i = 0; id == v && i < v; i++) {
        const float *row = w2v_model_vector_const(m, i);
        for (size_t j = 0; j < d; j++)
            mean[j] += row[j];
    }
    /* The same sums in the same order as w2v_export_embedding: same bits. */
    for (size_t j = 0; j < d; j++)
        out[j] = id == v ? (float)(mean[j] / (double)v) : 0.0f;
    free(mean);
    return W2V_OK;
}

int w2v_export_vocab_write(const w2v_model *m, const char *path,
                           w2v_error *err)
{
    const w2v_vocab *v = w2v_model_vocab(m);
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK)
        return rc;
    for (size_t i = 0; i < w2v_vocab_size(v); i++) {
        fwrite(w2v_vocab_word(v, i), 1, w2v_vocab_word_len(v, i), o.fp);
        fputc('\n', o.fp);
    }
    fputs(W2V_TOKEN_UNK "\n" W2V_TOKEN_EOT "\n", o.fp);
    return w2v_outfile_commit(&o, err);
}

/* ---------------------------------------------------------------------- */
/* .npy                                                                    */

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64

int w2v_export_npy_write(const char *path, const float *data, size_t rows,
                         size_t cols, w2v_error *err)
{
    if (!host_is_little_endian())
        return refuse_big_endian(path, err);
    size_t nbytes = 0;
    if (rows == 0 || cols == 0 || !matrix_bytes(rows, cols, &nbytes))
        return w2v_fail(err, W2V_ERR_ARG, "%s: bad matrix shape (%zu, %zu)",
                        path, rows, cols);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (%zu, %zu), }", rows, cols);
    /* 10 bytes of preamble, the dict, spaces, "\n": a multiple of 64. */
    size_t total = ((size_t)n + 10 + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - 10;
    memset(head + n, ' ', hlen - (size_t)n - 1);
    head[hlen - 1] = '\n';
    unsigned char pre[10];
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK)
        return rc;
    fwrite(pre, 1, sizeof pre, o.fp);
    fwrite(head, 1, hlen, o.fp);
    return write_matrix_commit(&o, data, nbytes, err);
}

/* A cursor over the .npy header dict, for error offsets. */
typedef struct npy_parser {
    const char *path;
    const unsigned char *s; /* the whole file */
    size_t pos, end;        /* position, end of the header */
    w2v_error *err;
} npy_parser;

static int npy_bad(npy_parser *p, const char *what)
{
    return w2v_fail(p->err, W2V_ERR_FORMAT, "%s: byte %zu: %s", p->path,
                    p->pos, what);
}

static void npy_space(npy_parser *p)
{
    while (p->pos < p->end && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n'))
        p->pos++;
}

/* Expects character c (after blanks). */
static int npy_expect(npy_parser *p, char c, const char *what)
{
    npy_space(p);
    if (p->pos >= p->end || p->s[p->pos] != (unsigned char)c)
        return npy_bad(p, what);
    p->pos++;
    return W2V_OK;
}

/* A quoted Python string into buf (at most size - 1 bytes). */
static int npy_string(npy_parser *p, char *buf, size_t size)
{
    npy_space(p);
    if (p->pos >= p->end || (p->s[p->pos] != '\'' && p->s[p->pos] != '"'))
        return npy_bad(p, "expected a quoted string in the .npy header");
    unsigned char q = p->s[p->pos++];
    size_t n = 0;
    while (p->pos < p->end && p->s[p->pos] != q) {
        if (n + 1 >= size || p->s[p->pos] == '\\')
            return npy_bad(p, "unexpected string in the .npy header");
        buf[n++] = (char)p->s[p->pos++];
    }
    if (p->pos >= p->end)
        return npy_bad(p, "unterminated string in the .npy header");
    p->pos++;
    buf[n] = '\0';
    return W2V_OK;
}

/* A decimal size. */
static int npy_size(npy_parser *p, size_t *v)
{
    npy_space(p);
    size_t start = p->pos, x = 0;
    while (p->pos < p->end && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        size_t d = (size_t)(p->s[p->pos] - '0');
        if (x > (SIZE_MAX - d) / 10)
            return npy_bad(p, "dimension too large");
        x = x * 10 + d;
        p->pos++;
    }
    if (p->pos == start)
        return npy_bad(p, "expected a dimension in the shape");
    *v = x;
    return W2V_OK;
}

/* The shape tuple: exactly two dimensions. */
static int npy_shape(npy_parser *p, size_t *rows, size_t *cols)
{
    int rc = npy_expect(p, '(', "expected '(' for the shape");
    size_t dims[3], nd = 0;
    npy_space(p);
    while (rc == W2V_OK && p->pos < p->end && p->s[p->pos] != ')') {
        size_t at = p->pos;
        if (nd == 3) {
            p->pos = at;
            return npy_bad(p, "the array has more than 2 dimensions; a "
                           "2-D matrix is expected");
        }
        rc = npy_size(p, &dims[nd++]);
        npy_space(p);
        if (rc == W2V_OK && p->pos < p->end && p->s[p->pos] == ',')
            p->pos++;
        else if (rc == W2V_OK && (p->pos >= p->end || p->s[p->pos] != ')'))
            rc = npy_bad(p, "expected ',' or ')' in the shape");
        npy_space(p);
    }
    if (rc == W2V_OK)
        rc = npy_expect(p, ')', "unterminated shape");
    if (rc != W2V_OK)
        return rc;
    if (nd != 2)
        return w2v_fail(p->err, W2V_ERR_FORMAT,
                        "%s: the array has %zu dimension%s; a 2-D matrix is "
                        "expected", p->path, nd, nd == 1 ? "" : "s");
    *rows = dims[0];
    *cols = dims[1];
    return W2V_OK;
}

/* One "key: value" of the header dict. */
static int npy_member(npy_parser *p, int *seen, size_t *rows, size_t *cols)
{
    char key[32], val[32];
    int rc = npy_string(p, key, sizeof key);
    if (rc == W2V_OK)
        rc = npy_expect(p, ':', "expected ':' after a key");
    if (rc != W2V_OK)
        return rc;
    npy_space(p);
    size_t at = p->pos;
    if (strcmp(key, "descr") == 0) {
        rc = npy_string(p, val, sizeof val);
        if (rc == W2V_OK && strcmp(val, "<f4") != 0) {
            p->pos = at;
            return w2v_fail(p->err, W2V_ERR_FORMAT,
                            "%s: byte %zu: dtype '%s'; float32 little-endian "
                            "('<f4') is expected", p->path, at, val);
        }
        *seen |= 1;
    } else if (strcmp(key, "fortran_order") == 0) {
        if (p->end - p->pos >= 5 && memcmp(p->s + p->pos, "False", 5) == 0)
            p->pos += 5;
        else if (p->end - p->pos >= 4 && memcmp(p->s + p->pos, "True", 4) == 0)
            return npy_bad(p, "fortran_order is True; C (row-major) order "
                           "is expected");
        else
            return npy_bad(p, "fortran_order must be True or False");
        *seen |= 2;
    } else if (strcmp(key, "shape") == 0) {
        rc = npy_shape(p, rows, cols);
        *seen |= 4;
    } else {
        return npy_bad(p, "unknown key in the .npy header");
    }
    return rc;
}

/* The header dict at p->pos .. p->end. */
static int npy_dict(npy_parser *p, size_t *rows, size_t *cols)
{
    int seen = 0;
    int rc = npy_expect(p, '{', "the .npy header does not start with '{'");
    while (rc == W2V_OK) {
        npy_space(p);
        if (p->pos < p->end && p->s[p->pos] == '}')
            break;
        rc = npy_member(p, &seen, rows, cols);
        npy_space(p);
        if (rc == W2V_OK && p->pos < p->end && p->s[p->pos] == ',')
            p->pos++;
        else if (rc == W2V_OK && (p->pos >= p->end || p->s[p->pos] != '}'))
            rc = npy_bad(p, "expected ',' or '}' in the .npy header");
    }
    if (rc == W2V_OK)
        rc = npy_expect(p, '}', "unterminated .npy header");
    npy_space(p);
    if (rc == W2V_OK && p->pos != p->end)
        rc = npy_bad(p, "junk after the .npy header dict");
    if (rc == W2V_OK && seen != 7)
        rc = w2v_fail(p->err, W2V_ERR_FORMAT, "%s: the .npy header lacks %s",
                      p->path, !(seen & 1) ? "'descr'" :
                      !(seen & 2) ? "'fortran_order'" : "'shape'");
    return rc;
}

/* Checks the preamble; sets *hstart and *hlen, the header's place. */
static int npy_preamble(const char *path, const unsigned char *b, size_t n,
                        size_t *hstart, size_t *hlen, w2v_error *err)
{
    if (n < 10 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return w2v_fail(err, W2V_ERR_FORMAT,
                        "%s: byte 0: not a .npy file (no \\x93NUMPY magic)",
                        path);
    if (b[6] == 1 && b[7] == 0) {
        *hstart = 10;
        *hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if ((b[6] == 2 || b[6] == 3) && b[7] == 0 && n >= 12) {
        *hstart = 12;
        *hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
                (size_t)b[11] << 24;
    } else {
        return w2v_fail(err, W2V_ERR_FORMAT,
                        "%s: byte 6: .npy version %u.%u is not supported "
                        "(1.0, 2.0, 3.0 are)", path, b[6], b[7]);
    }
    if (*hlen > n - *hstart)
        return w2v_fail(err, W2V_ERR_FORMAT,
                        "%s: byte 8: header length %zu runs past the end of "
                        "the file (%zu bytes)", path, *hlen, n);
    return W2V_OK;
}

int w2v_export_npy_read(const char *path, float **data, size_t *rows,
                        size_t *cols, w2v_error *err)
{
    *data = NULL;
    if (!host_is_little_endian())
        return refuse_big_endian(path, err);
    unsigned char *b = NULL;
    size_t n = 0, hstart = 0, hlen = 0, r = 0, c = 0, nbytes = 0;
    int rc = read_whole(path, &b, &n, err);
    if (rc != W2V_OK)
        return rc;
    rc = npy_preamble(path, b, n, &hstart, &hlen, err);
    npy_parser p = {path, b, hstart, hstart + hlen, err};
    if (rc == W2V_OK)
        rc = npy_dict(&p, &r, &c);
    size_t data_off = hstart + hlen;
    if (rc == W2V_OK && (r == 0 || c == 0 || !matrix_bytes(r, c, &nbytes)))
        rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: shape (%zu, %zu) is empty or "
                      "too large", path, r, c);
    else if (rc == W2V_OK && n - data_off != nbytes)
        rc = w2v_fail(err, W2V_ERR_FORMAT,
                      "%s: byte %zu: shape (%zu, %zu) needs %zu bytes of "
                      "data, the file has %zu", path, data_off, r, c, nbytes,
                      n - data_off);
    if (rc == W2V_OK)
        rc = take_matrix(path, b + data_off, data_off, r, c, data, err);
    free(b);
    if (rc == W2V_OK) {
        *rows = r;
        *cols = c;
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* safetensors: writing                                                    */

/* A growing byte buffer for the JSON header. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1 && cap < SIZE_MAX / 2)
            cap *= 2;
        char *ns = cap < b->len + n + 1 ? NULL : realloc(b->s, cap);
        if (ns == NULL) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* s as a JSON string: quotes, and escapes for '"', '\\' and controls. */
static void sb_json(strbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_add(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc, 6);
        } else {
            sb_add(b, s, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static int safetensors_header(strbuf *b, const char *name, size_t rows,
                              size_t cols, size_t nbytes,
                              const char *const *meta, size_t n_meta)
{
    char num[96];
    sb_str(b, "{");
    sb_json(b, name);
    snprintf(num, sizeof num, ":{\"dtype\":\"F32\",\"shape\":[%zu,%zu],"
             "\"data_offsets\":[0,%zu]}", rows, cols, nbytes);
    sb_str(b, num);
    if (n_meta > 0) {
        sb_str(b, ",\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i > 0)
                sb_str(b, ",");
            sb_json(b, meta[2 * i]);
            sb_str(b, ":");
            sb_json(b, meta[2 * i + 1]);
        }
        sb_str(b, "}");
    }
    sb_str(b, "}");
    while (!b->failed && b->len % 8 != 0)
        sb_str(b, " ");
    return !b->failed;
}

int w2v_export_safetensors_write(const char *path, const char *name,
                                 const float *data, size_t rows, size_t cols,
                                 const char *const *meta, size_t n_meta,
                                 w2v_error *err)
{
    if (!host_is_little_endian())
        return refuse_big_endian(path, err);
    size_t nbytes = 0;
    if (rows == 0 || cols == 0 || !matrix_bytes(rows, cols, &nbytes))
        return w2v_fail(err, W2V_ERR_ARG, "%s: bad matrix shape (%zu, %zu)",
                        path, rows, cols);
    if (name == NULL || name[0] == '\0' || strcmp(name, "__metadata__") == 0)
        return w2v_fail(err, W2V_ERR_ARG, "%s: bad tensor name", path);
    strbuf b = {0};
    if (!safetensors_header(&b, name, rows, cols, nbytes, meta, n_meta)) {
        free(b.s);
        return w2v_fail_nomem(err, "a safetensors header");
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc == W2V_OK) {
        fwrite(len8, 1, 8, o.fp);
        fwrite(b.s, 1, b.len, o.fp);
        rc = write_matrix_commit(&o, data, nbytes, err);
    }
    free(b.s);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* safetensors: a strict JSON reader for the header                        */

#define JSON_MAX_DEPTH 32

typedef struct json_parser {
    const char *path;
    const unsigned char *s;
    size_t pos, end; /* file offsets: the header is s[8, end) */
    w2v_error *err;
} json_parser;

/* What the reader wants to know of the tensor it looks for. */
typedef struct tensor_info {
    int found;
    size_t at;           /* where its entry starts, for messages */
    char dtype[16];
    size_t shape[3], nd; /* nd > 2 is kept as 3 */
    size_t off[2], n_off;
} tensor_info;

static int json_bad(json_parser *p, const char *what)
{
    return w2v_fail(p->err, W2V_ERR_FORMAT, "%s: byte %zu: %s", p->path,
                    p->pos, what);
}

static void json_space(json_parser *p)
{
    while (p->pos < p->end &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
            p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int json_peek(json_parser *p)
{
    json_space(p);
    return p->pos < p->end ? p->s[p->pos] : -1;
}

static int json_expect(json_parser *p, int c, const char *what)
{
    if (json_peek(p) != c)
        return json_bad(p, what);
    p->pos++;
    return W2V_OK;
}

/*
 * A JSON string. Its raw bytes between the quotes are s[*start, *start +
 * *len); escapes are checked but not decoded (names compare raw, which is
 * right for every name w2v writes).
 */
static int json_string(json_parser *p, size_t *start, size_t *len)
{
    if (json_expect(p, '"', "expected a JSON string") != W2V_OK)
        return W2V_ERR_FORMAT;
    *start = p->pos;
    while (p->pos < p->end && p->s[p->pos] != '"') {
        unsigned char c = p->s[p->pos];
        if (c < 0x20)
            return json_bad(p, "control character in a JSON string");
        if (c == '\\') {
            p->pos++;
            if (p->pos >= p->end || !strchr("\"\\/bfnrtu", p->s[p->pos]))
                return json_bad(p, "bad escape in a JSON string");
        }
        p->pos++;
    }
    if (p->pos >= p->end)
        return json_bad(p, "unterminated JSON string");
    *len = p->pos - *start;
    p->pos++;
    return W2V_OK;
}

/* A non-negative JSON integer (all that shapes and offsets hold). */
static int json_size(json_parser *p, size_t *v)
{
    json_space(p);
    size_t start = p->pos, x = 0;
    while (p->pos < p->end && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        size_t d = (size_t)(p->s[p->pos] - '0');
        if (x > (SIZE_MAX - d) / 10)
            return json_bad(p, "number too large");
        x = x * 10 + d;
        p->pos++;
    }
    if (p->pos == start)
        return json_bad(p, "expected a non-negative integer");
    if (p->pos - start > 1 && p->s[start] == '0')
        return json_bad(p, "leading zero in a number");
    *v = x;
    return W2V_OK;
}

/* An array of non-negative integers; keeps the first `keep` of them. */
static int json_sizes(json_parser *p, size_t *out, size_t keep, size_t *n)
{
    *n = 0;
    if (json_expect(p, '[', "expected '['") != W2V_OK)
        return W2V_ERR_FORMAT;
    if (json_peek(p) == ']') {
        p->pos++;
        return W2V_OK;
    }
    for (;;) {
        size_t v = 0;
        if (json_size(p, &v) != W2V_OK)
            return W2V_ERR_FORMAT;
        if (*n < keep)
            out[*n] = v;
        (*n)++;
        int c = json_peek(p);
        p->pos++;
        if (c == ']')
            return W2V_OK;
        if (c != ',') {
            p->pos--;
            return json_bad(p, "expected ',' or ']'");
        }
    }
}

static int json_skip_value(json_parser *p, int depth);

/* Skips an object or array after its opening bracket. */
static int json_skip_container(json_parser *p, int close, int depth)
{
    if (json_peek(p) == close) {
        p->pos++;
        return W2V_OK;
    }
    for (;;) {
        size_t a, b;
        if (close == '}' && (json_string(p, &a, &b) != W2V_OK ||
                             json_expect(p, ':', "expected ':'") != W2V_OK))
            return W2V_ERR_FORMAT;
        if (json_skip_value(p, depth + 1) != W2V_OK)
            return W2V_ERR_FORMAT;
        int c = json_peek(p);
        p->pos++;
        if (c == close)
            return W2V_OK;
        if (c != ',') {
            p->pos--;
            return json_bad(p, "expected ',' or a closing bracket");
        }
    }
}

/* Skips any JSON value, checking its syntax. */
static int json_skip_value(json_parser *p, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return json_bad(p, "JSON nested too deeply");
    int c = json_peek(p);
    size_t a, b;
    if (c == '"')
        return json_string(p, &a, &b);
    if (c == '{' || c == '[') {
        p->pos++;
        return json_skip_container(p, c == '{' ? '}' : ']', depth);
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (p->end - p->pos >= n && memcmp(p->s + p->pos, words[i], n) == 0) {
            p->pos += n;
            return W2V_OK;
        }
    }
    size_t start = p->pos;
    while (p->pos < p->end && strchr("+-0123456789.eE", p->s[p->pos]))
        p->pos++;
    if (p->pos == start)
        return json_bad(p, "expected a JSON value");
    return W2V_OK;
}

/* The members of the wanted tensor's entry: dtype, shape, data_offsets. */
static int json_tensor(json_parser *p, tensor_info *t)
{
    if (json_expect(p, '{', "a tensor entry must be a JSON object") != W2V_OK)
        return W2V_ERR_FORMAT;
    int seen = 0;
    while (json_peek(p) != '}') {
        size_t ks, kl, vs, vl;
        if (json_string(p, &ks, &kl) != W2V_OK ||
            json_expect(p, ':', "expected ':'") != W2V_OK)
            return W2V_ERR_FORMAT;
        const char *k = (const char *)p->s + ks;
        int rc;
        if (kl == 5 && memcmp(k, "dtype", 5) == 0) {
            rc = json_string(p, &vs, &vl);
            size_t n = vl < sizeof t->dtype - 1 ? vl : sizeof t->dtype - 1;
            memcpy(t->dtype, p->s + vs, n);
            t->dtype[n] = '\0';
            seen |= 1;
        } else if (kl == 5 && memcmp(k, "shape", 5) == 0) {
            rc = json_sizes(p, t->shape, 3, &t->nd);
            seen |= 2;
        } else if (kl == 12 && memcmp(k, "data_offsets", 12) == 0) {
            rc = json_sizes(p, t->off, 2, &t->n_off);
            seen |= 4;
        } else {
            rc = json_bad(p, "unknown key in a tensor entry");
        }
        if (rc != W2V_OK)
            return rc;
        if (json_peek(p) == ',')
            p->pos++;
        else if (json_peek(p) != '}')
            return json_bad(p, "expected ',' or '}'");
    }
    p->pos++;
    if (seen != 7)
        return w2v_fail(p->err, W2V_ERR_FORMAT,
                        "%s: byte %zu: the tensor entry lacks dtype, shape "
                        "or data_offsets", p->path, t->at);
    return W2V_OK;
}

/* The whole header: finds tensor `name`, checks the syntax of the rest. */
static int json_header(json_parser *p, const char *name, tensor_info *t)
{
    if (json_expect(p, '{', "the safetensors header is not a JSON object") !=
        W2V_OK)
        return W2V_ERR_FORMAT;
    size_t name_len = strlen(name);
    while (json_peek(p) != '}') {
        size_t ks, kl;
        if (json_string(p, &ks, &kl) != W2V_OK ||
            json_expect(p, ':', "expected ':'") != W2V_OK)
            return W2V_ERR_FORMAT;
        int rc;
        if (kl == name_len && memcmp(p->s + ks, name, kl) == 0) {
            if (t->found) {
                p->pos = ks - 1;
                return json_bad(p, "the tensor is named twice");
            }
            t->found = 1;
            t->at = ks - 1;
            rc = json_tensor(p, t);
        } else {
            rc = json_skip_value(p, 1);
        }
        if (rc != W2V_OK)
            return rc;
        if (json_peek(p) == ',')
            p->pos++;
        else if (json_peek(p) != '}')
            return json_bad(p, "expected ',' or '}'");
    }
    p->pos++;
    json_space(p);
    if (p->pos != p->end)
        return json_bad(p, "junk after the safetensors header");
    return W2V_OK;
}

/* Checks what the header says of the tensor against the file. */
static int check_tensor(const char *path, const char *name,
                        const tensor_info *t, size_t data_bytes,
                        w2v_error *err)
{
    size_t nbytes = 0;
    if (strcmp(t->dtype, "F32") != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: tensor \"%s\" "
                        "has dtype %s; F32 is expected", path, t->at, name,
                        t->dtype);
    if (t->nd != 2)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: tensor \"%s\" "
                        "has %zu dimension%s; 2 are expected", path, t->at,
                        name, t->nd, t->nd == 1 ? "" : "s");
    if (t->n_off != 2 || t->off[1] < t->off[0])
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: tensor \"%s\" "
                        "has bad data_offsets", path, t->at, name);
    if (t->shape[0] == 0 || t->shape[1] == 0 ||
        !matrix_bytes(t->shape[0], t->shape[1], &nbytes) ||
        t->off[1] - t->off[0] != nbytes)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %zu: tensor \"%s\" "
                        "of shape [%zu, %zu] has data_offsets [%zu, %zu]",
                        path, t->at, name, t->shape[0], t->shape[1],
                        t->off[0], t->off[1]);
    if (t->off[1] > data_bytes)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: tensor \"%s\" ends at data "
                        "byte %zu, past the end of the file (%zu bytes of "
                        "data)", path, name, t->off[1], data_bytes);
    return W2V_OK;
}

int w2v_export_safetensors_read(const char *path, const char *name,
                                float **data, size_t *rows, size_t *cols,
                                w2v_error *err)
{
    *data = NULL;
    if (!host_is_little_endian())
        return refuse_big_endian(path, err);
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = read_whole(path, &b, &n, err);
    if (rc != W2V_OK)
        return rc;
    uint64_t hlen = 0;
    for (int i = 0; i < 8 && n >= 8; i++)
        hlen |= (uint64_t)b[i] << (8 * i);
    if (n < 8 || hlen > n - 8) {
        free(b);
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte 0: not a safetensors "
                        "file (header length %llu, file %zu bytes)", path,
                        (unsigned long long)hlen, n);
    }
    json_parser p = {path, b, 8, 8 + (size_t)hlen, err};
    tensor_info t;
    memset(&t, 0, sizeof t);
    rc = json_header(&p, name, &t);
    size_t data_off = 8 + (size_t)hlen;
    if (rc == W2V_OK && !t.found)
        rc = w2v_fail(err, W2V_ERR_NOTFOUND, "%s: no tensor \"%s\"", path,
                      name);
    if (rc == W2V_OK)
        rc = check_tensor(path, name, &t, n - data_off, err);
    if (rc == W2V_OK)
        rc = take_matrix(path, b + data_off + t.off[0], data_off + t.off[0],
                         t.shape[0], t.shape[1], data, err);
    free(b);
    if (rc == W2V_OK) {
        *rows = t.shape[0];
        *cols = t.shape[1];
    }
    return rc;
}
