/*
 * wordset.c - choosing the words of a 2-D map: the most frequent rows, a
 * word list file with groups, or the neighbourhoods of seed words. See
 * w2v/project.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/project.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct wordset_miss {
    char *word;
    size_t line;
    int repeated;
} wordset_miss;

struct w2v_wordset {
    size_t n, cap;
    size_t *ids;      /* (n) model rows */
    char **words;     /* (n) copies of the model's words */
    size_t *group;    /* (n) group index or W2V_NO_GROUP */
    char **groups;    /* (n_groups) names */
    size_t n_groups, groups_cap;
    wordset_miss *miss; /* (n_miss) skipped words */
    size_t n_miss, miss_cap;
    unsigned char *taken; /* (model size) 1 for rows already in the set */
};

/* ---------------------------------------------------------------------- */
/* Building                                                                */

static int wordset_new(const w2v_model *m, w2v_wordset **out,
                       w2v_error *err)
{
    *out = NULL;
    w2v_wordset *ws = calloc(1, sizeof *ws);
    size_t rows = w2v_model_size(m);
    if (ws == NULL || (ws->taken = calloc(rows ? rows : 1, 1)) == NULL) {
        free(ws);
        return w2v_fail_nomem(err, "a word set");
    }
    *out = ws;
    return W2V_OK;
}

/* Grows *p (of *cap elements of size el) to hold at least need. */
static int grow(void **p, size_t *cap, size_t need, size_t el)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    size_t bytes;
    if (!w2v_mul_size(c, el, &bytes))
        return 0;
    void *q = realloc(*p, bytes);
    if (q == NULL)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* Index of group name (added if new), or W2V_NO_GROUP for NULL/"". */
static int group_index(w2v_wordset *ws, const char *name, size_t *g,
                       w2v_error *err)
{
    *g = W2V_NO_GROUP;
    if (name == NULL || name[0] == '\0')
        return W2V_OK;
    for (size_t i = 0; i < ws->n_groups; i++) {
        if (strcmp(ws->groups[i], name) == 0) {
            *g = i;
            return W2V_OK;
        }
    }
    if (!grow((void **)&ws->groups, &ws->groups_cap, ws->n_groups + 1,
              sizeof *ws->groups))
        return w2v_fail_nomem(err, "word groups");
    ws->groups[ws->n_groups] = w2v_strdup(name, err);
    if (ws->groups[ws->n_groups] == NULL)
        return W2V_ERR_NOMEM;
    *g = ws->n_groups++;
    return W2V_OK;
}

static int add_word(w2v_wordset *ws, const w2v_model *m, size_t id,
                    size_t group, w2v_error *err)
{
    if (ws->n == ws->cap) {
        size_t c = ws->cap;
        size_t c1 = c, c2 = c, c3 = c;
        if (!grow((void **)&ws->ids, &c1, ws->n + 1, sizeof *ws->ids) ||
            !grow((void **)&ws->words, &c2, ws->n + 1, sizeof *ws->words) ||
            !grow((void **)&ws->group, &c3, ws->n + 1, sizeof *ws->group))
            return w2v_fail_nomem(err, "a word set");
        /* All three grew to the same capacity or the failing one kept c. */
        ws->cap = c1 < c2 ? c1 : c2;
        ws->cap = ws->cap < c3 ? ws->cap : c3;
    }
    char *w = w2v_strdup(w2v_vocab_word(w2v_model_vocab(m), id), err);
    if (w == NULL)
        return W2V_ERR_NOMEM;
    ws->ids[ws->n] = id;
    ws->words[ws->n] = w;
    ws->group[ws->n] = group;
    ws->n++;
    ws->taken[id] = 1;
    return W2V_OK;
}

static int add_miss(w2v_wordset *ws, const char *word, size_t line,
                    int repeated, w2v_error *err)
{
    if (!grow((void **)&ws->miss, &ws->miss_cap, ws->n_miss + 1,
              sizeof *ws->miss))
        return w2v_fail_nomem(err, "the list of skipped words");
    char *w = w2v_strdup(word, err);
    if (w == NULL)
        return W2V_ERR_NOMEM;
    ws->miss[ws->n_miss++] = (wordset_miss){w, line, repeated};
    return W2V_OK;
}

/* Row of word: as given, then with ASCII letters lowercased; -1 if none. */
static int64_t lookup(const w2v_model *m, const char *word)
{
    const w2v_vocab *v = w2v_model_vocab(m);
    size_t len = strlen(word);
    int64_t id = w2v_vocab_find(v, word, len);
    if (id >= 0)
        return id;
    char *low = malloc(len + 1);
    if (low == NULL)
        return -1;
    int changed = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = word[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        changed |= low[i] != c;
    }
    id = changed ? w2v_vocab_find(v, low, len) : -1;
    free(low);
    return id;
}

/* Adds word with group, or records it as missing or repeated. */
static int add_named(w2v_wordset *ws, const w2v_model *m, const char *word,
                     const char *group, size_t line, w2v_error *err)
{
    int64_t id = lookup(m, word);
    if (id < 0)
        return add_miss(ws, word, line, 0, err);
    if (ws->taken[id])
        return add_miss(ws, word, line, 1, err);
    size_t g;
    int rc = group_index(ws, group, &g, err);
    return rc != W2V_OK ? rc : add_word(ws, m, (size_t)id, g, err);
}

int w2v_wordset_top(const w2v_model *m, size_t skip, size_t n,
                    w2v_wordset **out, w2v_error *err)
{
    *out = NULL;
    if (n == 0)
        return w2v_fail(err, W2V_ERR_ARG, "no words asked for (top 0)");
    size_t rows = w2v_model_size(m);
    if (skip >= rows)
        return w2v_fail(err, W2V_ERR_EMPTY, "skipping %zu words leaves none "
                        "of the model's %zu", skip, rows);
    w2v_wordset *ws;
    int rc = wordset_new(m, &ws, err);
    for (size_t i = skip; rc == W2V_OK && i < rows && i - skip < n; i++)
        rc = add_word(ws, m, i, W2V_NO_GROUP, err);
    if (rc != W2V_OK) {
        w2v_wordset_free(ws);
        return rc;
    }
    *out = ws;
    return W2V_OK;
}

/* Is s[0, len) valid UTF-8 (no overlongs, surrogates, > U+10FFFF)? */
static int valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4
                 : 0;
        if (k == 0 || i + k > len)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return 0;
        i += k;
    }
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Splits line (len bytes, newline removed) into word and group in place.
 * Returns 0 for a line to skip.
 */
static int split_line(char *line, size_t len, char **word, char **group)
{
    while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\r'))
        line[--len] = '\0';
    char *p = line;
    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    *word = p;
    while (*p != '\0' && !is_blank(*p))
        p++;
    if (*p != '\0')
        *p++ = '\0';
    while (is_blank(*p))
        p++;
    *group = p;
    return 1;
}

static int read_lines(w2v_wordset *ws, const w2v_model *m, FILE *fp,
                      const char *path, w2v_error *err)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = W2V_OK;
    errno = 0;
    while (rc == W2V_OK && (got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (memchr(line, '\0', len) != NULL)
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: NUL byte in the line",
                          path, lineno);
        else if (!valid_utf8((const unsigned char *)line, len))
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: not valid UTF-8",
                          path, lineno);
        char *word, *group;
        if (rc == W2V_OK && split_line(line, len, &word, &group))
            rc = add_named(ws, m, word, group, lineno, err);
    }
    if (rc == W2V_OK && ferror(fp))
        rc = w2v_fail(err, W2V_ERR_IO, "%s: read failed after line %zu: %s",
                      path, lineno, strerror(errno));
    free(line);
    return rc;
}

int w2v_wordset_read(const w2v_model *m, const char *path,
                     w2v_wordset **out, w2v_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open word list: %s",
                        path, strerror(errno));
    w2v_wordset *ws;
    int rc = wordset_new(m, &ws, err);
    if (rc == W2V_OK)
        rc = read_lines(ws, m, fp, path, err);
    fclose(fp);
    if (rc == W2V_OK && ws->n == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY, "%s: none of the %zu listed words "
                      "is in the model", path, ws->n_miss);
    if (rc != W2V_OK) {
        w2v_wordset_free(ws);
        return rc;
    }
    *out = ws;
    return W2V_OK;
}

/* Adds the k nearest neighbours of row id to the set in group g. */
static int add_neighbours(w2v_wordset *ws, const w2v_model *m,
                          const w2v_knn *k_index, size_t id, size_t k,
                          size_t g, w2v_error *err)
{
    w2v_neighbor *nb = malloc((k ? k : 1) * sizeof *nb);
    if (nb == NULL)
        return w2v_fail_nomem(err, "neighbours");
    size_t got = 0;
    int rc = W2V_OK;
    if (k > 0 && id < w2v_knn_size(k_index))
        rc = w2v_knn_query(k_index, w2v_knn_unit(k_index, id), k, &id, 1, nb,
                           &got, err);
    for (size_t i = 0; rc == W2V_OK && i < got; i++)
        if (!ws->taken[nb[i].id])
            rc = add_word(ws, m, nb[i].id, g, err);
    free(nb);
    return rc;
}

int w2v_wordset_around(const w2v_model *m, const w2v_knn *k_index,
                       const char *const *seeds, size_t n_seeds, size_t k,
                       w2v_wordset **out, w2v_error *err)
{
    *out = NULL;
    if (n_seeds == 0)
        return w2v_fail(err, W2V_ERR_ARG, "no seed words");
    w2v_wordset *ws;
    int rc = wordset_new(m, &ws, err);
    for (size_t s = 0; rc == W2V_OK && s < n_seeds; s++) {
        size_t before = ws->n;
        rc = add_named(ws, m, seeds[s], seeds[s], 0, err);
        if (rc == W2V_OK && ws->n > before)
            rc = add_neighbours(ws, m, k_index, ws->ids[before], k,
                                ws->group[before], err);
    }
    if (rc == W2V_OK && ws->n == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY, "none of the %zu seed words is in "
                      "the model", n_seeds);
    if (rc != W2V_OK) {
        w2v_wordset_free(ws);
        return rc;
    }
    *out = ws;
    return W2V_OK;
}

void w2v_wordset_free(w2v_wordset *ws)
{
    if (ws == NULL)
        return;
    for (size_t i = 0; i < ws->n; i++)
        free(ws->words[i]);
    for (size_t i = 0; i < ws->n_groups; i++)
        free(ws->groups[i]);
    for (size_t i = 0; i < ws->n_miss; i++)
        free(ws->miss[i].word);
    free(ws->ids);
    free(ws->words);
    free(ws->group);
    free(ws->groups);
    free(ws->miss);
    free(ws->taken);
    free(ws);
}

/* ---------------------------------------------------------------------- */
/* Accessors                                                               */

size_t w2v_wordset_size(const w2v_wordset *ws)
{
    return ws->n;
}

size_t w2v_wordset_id(const w2v_wordset *ws, size_t i)
{
    return ws->ids[i];
}

const char *w2v_wordset_word(const w2v_wordset *ws, size_t i)
{
    return ws->words[i];
}

size_t w2v_wordset_group(const w2v_wordset *ws, size_t i)
{
    return ws->group[i];
}

size_t w2v_wordset_n_groups(const w2v_wordset *ws)
{
    return ws->n_groups;
}

const char *w2v_wordset_group_name(const w2v_wordset *ws, size_t g)
{
    return ws->groups[g];
}

size_t w2v_wordset_n_missing(const w2v_wordset *ws)
{
    return ws->n_miss;
}

const char *w2v_wordset_missing(const w2v_wordset *ws, size_t i,
                                size_t *line, int *repeated)
{
    if (line != NULL)
        *line = ws->miss[i].line;
    if (repeated != NULL)
        *repeated = ws->miss[i].repeated;
    return ws->miss[i].word;
}

int w2v_wordset_vectors(const w2v_wordset *ws, const w2v_model *m, int unit,
                        float **out, w2v_error *err)
{
    *out = NULL;
    size_t dim = w2v_model_dim(m), cells;
    if (!w2v_mul_size(ws->n, dim, &cells) ||
        !w2v_mul_size(cells, sizeof(float), &cells))
        return w2v_fail_nomem(err, "word vectors");
    float *x = malloc(cells ? cells : 1);
    if (x == NULL)
        return w2v_fail_nomem(err, "word vectors");
    for (size_t i = 0; i < ws->n; i++) {
        const float *v = w2v_model_vector_const(m, ws->ids[i]);
        float *row = x + i * dim;
        double ss = 0;
        for (size_t j = 0; j < dim; j++)
            ss += (double)v[j] * v[j];
        float scale = unit && ss > 0 ? (float)(1 / sqrt(ss)) : 1.0f;
        for (size_t j = 0; j < dim; j++)
            row[j] = v[j] * scale;
    }
    *out = x;
    return W2V_OK;
}
