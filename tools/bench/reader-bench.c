/*
 * reader-bench - how fast the corpus reader feeds the trainer, measured
 * alone: one thread reads the corpus (plain or gzip) in the trainer's 1 MB
 * blocks and nothing else (what the trainer does under its reader lock),
 * then reads and tokenises every block, then does the same again looking
 * each word up in the vocabulary, as a training worker does before it
 * trains. Then it does the lookup pass once more storing every block's ids
 * in the trainer's id cache (fill: the first epoch's extra work), and reads
 * the cache back block by block (cache: what each later epoch reads).
 * Prints one line of JSON for bench.py:
 *
 *   {"words":W, "blocks_s":S0, "blocks_words_per_s":R0,
 *    "read_s":S1, "read_words_per_s":R1,
 *    "lookup_s":S2, "lookup_words_per_s":R2,
 *    "fill_s":S3, "cache_s":S4, "cache_words_per_s":R4, "vocab":V}
 *
 * Rates are words of the corpus per second (the cache holds only the
 * words in the vocabulary, but serves the whole corpus's worth).
 *
 * Usage: reader-bench CORPUS [MIN_COUNT]
 * The vocabulary (min count 5 by default) is built first and not timed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "idcache.h"
#include "util.h"
#include "w2v/w2v.h"

#define BLOCK (1u << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One pass over the corpus reading its blocks, no more. */
static int blocks(w2v_corpus *c, char *buf, w2v_error *err)
{
    int rc = w2v_corpus_rewind(c, err);
    size_t len;
    while (rc == W2V_OK &&
           (rc = w2v_corpus_read(c, buf, BLOCK, &len, err)) == W2V_OK &&
           len > 0)
        ;
    return rc;
}

/*
 * One pass over the corpus: read and tokenise every block; with v, look
 * every word up too. *words is the number of words seen, *found (with v)
 * those in the vocabulary. Returns a status.
 */
static int pass(w2v_corpus *c, char *buf, const w2v_vocab *v,
                uint64_t *words, uint64_t *found, w2v_error *err)
{
    *words = *found = 0;
    int rc = w2v_corpus_rewind(c, err);
    size_t len;
    while (rc == W2V_OK &&
           (rc = w2v_corpus_read(c, buf, BLOCK, &len, err)) == W2V_OK &&
           len > 0) {
        w2v_tokens tok;
        w2v_tokens_init(&tok, buf, len);
        const char *w;
        size_t n;
        int kind;
        while ((kind = w2v_tokens_next(&tok, &w, &n)) != W2V_TOKEN_END) {
            if (kind != W2V_TOKEN_WORD)
                continue;
            ++*words;
            if (v != NULL && w2v_vocab_find(v, w, n) >= 0)
                ++*found;
        }
    }
    return rc;
}

/* The lookup pass, storing each block's ids in the cache as a worker does. */
static int fill(w2v_corpus *c, char *buf, const w2v_vocab *v, w2v_idcache *ic,
                uint32_t *ids, w2v_error *err)
{
    int rc = w2v_corpus_rewind(c, err);
    size_t len;
    while (rc == W2V_OK &&
           (rc = w2v_corpus_read(c, buf, BLOCK, &len, err)) == W2V_OK &&
           len > 0) {
        size_t seq;
        if (w2v_idcache_add(ic, len, &seq) != 0)
            return W2V_ERR_NOMEM;
        size_t n = w2v_block_ids(v, buf, len, ids);
        w2v_idcache_finish(ic, seq, w2v_idcache_put(ic, ids, n), n);
    }
    if (rc == W2V_OK && ic->broken)
        rc = w2v_fail(err, W2V_ERR_IO, "the id cache could not be written");
    return rc;
}

/* Reads every block of the cache back; *sum keeps the reads honest. */
static int read_back(const w2v_idcache *ic, uint32_t *ids, uint64_t *sum,
                     w2v_error *err)
{
    for (size_t k = 0; k < ic->n_blocks; k++) {
        size_t n;
        if (w2v_idcache_get(ic, k, ids, BLOCK / 2 + 1, &n) != 0)
            return w2v_fail(err, W2V_ERR_IO, "the id cache could not be read");
        *sum += n ? ids[n - 1] : 0;
    }
    return W2V_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: reader-bench CORPUS [MIN_COUNT]\n");
        return 2;
    }
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    w2v_vocab *v = NULL;
    char *buf = malloc(BLOCK);
    w2v_vocab_options vo = w2v_vocab_options_default();
    if (argc == 3)
        vo.min_count = strtoull(argv[2], NULL, 10);
    uint64_t words = 0, found = 0, words2 = 0, sum = 0;
    double tb = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
    uint32_t *ids = malloc((BLOCK / 2 + 1) * sizeof *ids);
    w2v_idcache ic;
    ic.fd = -1;
    ic.blocks = NULL;
    int rc = buf == NULL || ids == NULL ? W2V_ERR_NOMEM : W2V_OK;
    if (rc == W2V_OK)
        rc = w2v_corpus_open(argv[1], &c, &err);
    if (rc == W2V_OK)
        rc = w2v_vocab_build(c, &vo, &v, &err);
    if (rc == W2V_OK) {
        tb = now();
        rc = blocks(c, buf, &err);
        t0 = now();
    }
    if (rc == W2V_OK) {
        rc = pass(c, buf, NULL, &words, &found, &err);
        t1 = now();
    }
    if (rc == W2V_OK) {
        rc = pass(c, buf, v, &words2, &found, &err);
        t2 = now();
    }
    if (rc == W2V_OK && w2v_idcache_open(&ic) != 0)
        rc = w2v_fail(&err, W2V_ERR_IO, "cannot create the id cache in "
                      "$TMPDIR");
    if (rc == W2V_OK) {
        rc = fill(c, buf, v, &ic, ids, &err);
        t3 = now();
    }
    if (rc == W2V_OK) {
        rc = read_back(&ic, ids, &sum, &err);
        t4 = now();
    }
    if (rc == W2V_OK)
        printf("{\"words\":%llu,\"blocks_s\":%.4f,"
               "\"blocks_words_per_s\":%.0f,"
               "\"read_s\":%.4f,\"read_words_per_s\":%.0f,"
               "\"lookup_s\":%.4f,\"lookup_words_per_s\":%.0f,"
               "\"fill_s\":%.4f,\"cache_s\":%.4f,"
               "\"cache_words_per_s\":%.0f,\"check\":%llu,"
               "\"found\":%llu,\"vocab\":%zu}\n",
               (unsigned long long)words, t0 - tb, (double)words / (t0 - tb),
               t1 - t0,
               (double)words / (t1 - t0), t2 - t1,
               (double)words2 / (t2 - t1), t3 - t2, t4 - t3,
               (double)words / (t4 - t3), (unsigned long long)sum,
               (unsigned long long)found,
               w2v_vocab_size(v));
    else
        fprintf(stderr, "reader-bench: %s\n",
                rc == W2V_ERR_NOMEM ? "out of memory" : err.message);
    w2v_idcache_close(&ic);
    free(ids);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(buf);
    return rc == W2V_OK ? 0 : 1;
}
