/*
 * reader-bench - how fast the corpus reader feeds the trainer, measured
 * alone: one thread reads the corpus (plain or gzip) in the trainer's 1 MB
 * blocks and nothing else (what the trainer does under its reader lock),
 * then reads and tokenises every block, then does the same again looking
 * each word up in the vocabulary, as a training worker does before it
 * trains. Then it does the lookup pass once more storing every block's ids
 * in the trainer's id cache (fill: the first epoch's extra work), and reads
 * the cache back block by block (cache: what each later epoch reads).
 * Last, THREADS workers do the first epoch's reading together as the
 * trainer's workers do (each takes the next block under a lock, then
 * tokenises it, looks its words up and stores its ids outside it: fill_t),
 * and read the cache back together (cache_t).
 * Prints one line of JSON for bench.py:
 *
 *   {"words":W, "blocks_s":S0, "blocks_words_per_s":R0,
 *    "read_s":S1, "read_words_per_s":R1,
 *    "lookup_s":S2, "lookup_words_per_s":R2,
 *    "fill_s":S3, "cache_s":S4, "cache_words_per_s":R4,
 *    "threads":T, "fill_t_s":S5, "fill_t_words_per_s":R5,
 *    "cache_t_s":S6, "cache_t_words_per_s":R6, "vocab":V}
 *
 * Rates are words of the corpus per second (the cache holds only the
 * words in the vocabulary, but serves the whole corpus's worth).
 *
 * Usage: reader-bench CORPUS [MIN_COUNT [THREADS]]
 * The vocabulary (min count 5 by default) is built first and not timed.
 * THREADS defaults to 2.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
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

/*
 * Reads block k of the cache back and adds its last id to *sum, which
 * keeps the reads honest; -1 when it cannot be read.
 */
static int get_block(const w2v_idcache *ic, size_t k, uint32_t *ids,
                     uint64_t *sum)
{
    size_t n;
    if (w2v_idcache_get(ic, k, ids, BLOCK / 2 + 1, &n) != 0)
        return -1;
    *sum += n ? ids[n - 1] : 0;
    return 0;
}

/* Reads every block of the cache back. */
static int read_back(const w2v_idcache *ic, uint32_t *ids, uint64_t *sum,
                     w2v_error *err)
{
    for (size_t k = 0; k < ic->n_blocks; k++)
        if (get_block(ic, k, ids, sum) != 0)
            return w2v_fail(err, W2V_ERR_IO, "the id cache could not be read");
    return W2V_OK;
}

/* What the workers of the threaded passes share. */
typedef struct shared {
    pthread_mutex_t lock;
    w2v_corpus *c;          /* read under lock */
    const w2v_vocab *v;
    w2v_idcache *ic;        /* add and finish under lock */
    int rc;                 /* the first failure (under lock) */
    w2v_error err;
    _Atomic size_t next;    /* the next cache block to read back */
    _Atomic uint64_t sum;
} shared;

/*
 * A worker of the threaded first epoch: the next block under the lock,
 * its ids outside it, then their outcome under it again, as train.c does.
 */
static void *fill_worker(void *arg)
{
    shared *sh = arg;
    char *buf = malloc(BLOCK);
    uint32_t *ids = malloc((BLOCK / 2 + 1) * sizeof *ids);
    pthread_mutex_lock(&sh->lock);
    if (buf == NULL || ids == NULL)
        sh->rc = W2V_ERR_NOMEM;
    for (;;) {
        size_t len, seq;
        if (sh->rc != W2V_OK)
            break;
        int rc = w2v_corpus_read(sh->c, buf, BLOCK, &len, &sh->err);
        if (rc != W2V_OK || len == 0) {
            sh->rc = rc;
            break;
        }
        if (w2v_idcache_add(sh->ic, len, &seq) != 0) {
            sh->rc = W2V_ERR_NOMEM;
            break;
        }
        pthread_mutex_unlock(&sh->lock);
        size_t n = w2v_block_ids(sh->v, buf, len, ids);
        uint64_t at = w2v_idcache_put(sh->ic, ids, n);
        pthread_mutex_lock(&sh->lock);
        w2v_idcache_finish(sh->ic, seq, at, n);
    }
    pthread_mutex_unlock(&sh->lock);
    free(ids);
    free(buf);
    return NULL;
}

/* A worker of the threaded cache pass: blocks in turn, as train.c does. */
static void *cache_worker(void *arg)
{
    shared *sh = arg;
    uint32_t *ids = malloc((BLOCK / 2 + 1) * sizeof *ids);
    uint64_t sum = 0;
    int ok = ids != NULL;
    for (size_t k; ok && (k = atomic_fetch_add(&sh->next, 1)) <
                             sh->ic->n_blocks;)
        ok = get_block(sh->ic, k, ids, &sum) == 0;
    atomic_fetch_add(&sh->sum, sum);
    if (!ok) {
        pthread_mutex_lock(&sh->lock);
        sh->rc = W2V_ERR_IO;
        pthread_mutex_unlock(&sh->lock);
    }
    free(ids);
    return NULL;
}

/* Runs fn on `threads` threads over sh; a status. */
static int run_workers(void *(*fn)(void *), shared *sh, size_t threads)
{
    pthread_t tid[64];
    size_t started = 0;
    while (started < threads &&
           pthread_create(&tid[started], NULL, fn, sh) == 0)
        started++;
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return started == threads ? sh->rc : W2V_ERR_NOMEM;
}

/*
 * The threaded passes: the first epoch into a cache of its own (*fill_s),
 * then that cache read back (*cache_s).
 */
static int threaded(w2v_corpus *c, const w2v_vocab *v, size_t threads,
                    double *fill_s, double *cache_s, uint64_t *sum,
                    w2v_error *err)
{
    shared sh = {.c = c, .v = v, .rc = W2V_OK};
    w2v_idcache ic;
    ic.fd = -1;
    ic.blocks = NULL;
    w2v_error_clear(&sh.err);
    pthread_mutex_init(&sh.lock, NULL);
    int rc = w2v_corpus_rewind(c, err);
    if (rc == W2V_OK && w2v_idcache_open(&ic) != 0)
        rc = w2v_fail(err, W2V_ERR_IO, "cannot create the id cache in "
                      "$TMPDIR");
    sh.ic = &ic;
    double t0 = now();
    if (rc == W2V_OK)
        rc = run_workers(fill_worker, &sh, threads);
    double t1 = now();
    if (rc == W2V_OK && ic.broken)
        rc = w2v_fail(err, W2V_ERR_IO, "the id cache could not be written");
    if (rc == W2V_OK)
        rc = run_workers(cache_worker, &sh, threads);
    double t2 = now();
    if (rc != W2V_OK && sh.err.code != W2V_OK)
        *err = sh.err;
    else if (rc != W2V_OK && err->code == W2V_OK)
        w2v_fail(err, rc, "the threaded passes failed (out of memory, or "
                 "the id cache could not be read)");
    *fill_s = t1 - t0;
    *cache_s = t2 - t1;
    *sum = atomic_load(&sh.sum);
    w2v_idcache_close(&ic);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: reader-bench CORPUS [MIN_COUNT [THREADS]]\n");
        return 2;
    }
    size_t threads = argc == 4 ? strtoul(argv[3], NULL, 10) : 2;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "reader-bench: THREADS must be 1 to 64\n");
        return 2;
    }
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    w2v_vocab *v = NULL;
    char *buf = malloc(BLOCK);
    w2v_vocab_options vo = w2v_vocab_options_default();
    if (argc >= 3)
        vo.min_count = strtoull(argv[2], NULL, 10);
    uint64_t words = 0, found = 0, words2 = 0, sum = 0, sum_t = 0;
    double tb = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, tf = 0, tc = 0;
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
        rc = threaded(c, v, threads, &tf, &tc, &sum_t, &err);
    if (rc == W2V_OK && sum_t != sum)
        rc = w2v_fail(&err, W2V_ERR_IO, "the threaded passes stored other "
                      "ids than the single-threaded one");
    if (rc == W2V_OK)
        printf("{\"words\":%llu,\"blocks_s\":%.4f,"
               "\"blocks_words_per_s\":%.0f,"
               "\"read_s\":%.4f,\"read_words_per_s\":%.0f,"
               "\"lookup_s\":%.4f,\"lookup_words_per_s\":%.0f,"
               "\"fill_s\":%.4f,\"cache_s\":%.4f,"
               "\"cache_words_per_s\":%.0f,\"threads\":%zu,"
               "\"fill_t_s\":%.4f,\"fill_t_words_per_s\":%.0f,"
               "\"cache_t_s\":%.4f,\"cache_t_words_per_s\":%.0f,"
               "\"check\":%llu,\"found\":%llu,\"vocab\":%zu}\n",
               (unsigned long long)words, t0 - tb, (double)words / (t0 - tb),
               t1 - t0,
               (double)words / (t1 - t0), t2 - t1,
               (double)words2 / (t2 - t1), t3 - t2, t4 - t3,
               (double)words / (t4 - t3), threads, tf, (double)words / tf,
               tc, (double)words / tc, (unsigned long long)sum,
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
