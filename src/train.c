/*
 * train.c - the multithreaded trainer: run state, worker threads, the
 * learning-rate schedule and progress reports. The arithmetic lives in
 * kernel.c. See w2v/train.h for the contract.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/train.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idcache.h"
#include "kernel.h"
#include "rng.h"
#include "sampler.h"
#include "trainstate.h"
#include "util.h"

/* Bytes of corpus text a worker takes at a time (about 170k words). */
#define BLOCK_BYTES (1u << 20)
/* Room for the ids of one block: words are at least 2 bytes apart. */
#define BLOCK_IDS (BLOCK_BYTES / 2 + 1)
/* Longest run of ids trained as one piece; longer sentences slide. */
#define SENTENCE_IDS 10000
/* Words a worker processes between updates of the shared counter. */
#define WORDS_PER_TICK 10000
/*
 * With more than one worker, each trains its own copy of the HOT_NODES
 * inner nodes nearest the root of the Huffman tree (see hotrows.h), which
 * every target's path passes. Measured on en17m (size 100, hierarchical
 * softmax, two threads, one epoch): 20.8 s without, 16.1 s with 5 nodes,
 * 13.5 s with 20, no faster with 300 or 1300. The most frequent words'
 * rows for negative sampling gained nothing (8.1 s against 8.0 and 8.5 s
 * with 80 and 330 rows): noise words spread over many more rows.
 */
#define HOT_NODES 64
/* Targets per batch of the batched skip-gram kernel (see kernel.h). */
#define SG_GROUP 1
/*
 * Targets per batched CBOW group. Sharing noise words among targets saves
 * output rows but costs accuracy: on en17m (benchmark settings) groups of 4
 * scored 20.9% on the analogies at size 300 and 27-31% at size 100 against
 * 34-35% for groups of one, whose speed comes from the batch step alone.
 */
#define CBOW_GROUP 1
/* One prediction in this many is scored for the progress loss. */
#define LOSS_EVERY 16

enum cache_mode { CACHE_OFF, CACHE_BUILD, CACHE_READ };

/* What next_block hands a worker. */
enum job { JOB_NONE, JOB_TEXT, JOB_IDS };

/* Per-thread state; aligned so that no two threads share a cache line. */
typedef struct worker {
    alignas(W2V_ALIGN) _Atomic double loss_sum;  /* written by owner only */
    _Atomic uint64_t loss_count;                 /* written by owner only */
    struct w2v_trainer *t;
    int index;
    pthread_t tid;
    w2v_rng rng;
    w2v_kernel_scratch scratch;
    w2v_sg_batch_scratch sgb;  /* the batched skip-gram kernel's buffers */
    w2v_cbow_batch_scratch cbb;  /* the batched CBOW kernel's buffers */
    char *buf;          /* (BLOCK_BYTES) corpus text */
    uint32_t *ids;      /* (BLOCK_IDS) the block's ids (see idcache.h) */
    size_t len;         /* bytes of text in buf */
    size_t seq;         /* the block's number in the id cache */
    int put;            /* the block's ids go to the cache */
    uint32_t *sent;     /* (SENTENCE_IDS) ids of the current sentence */
    uint64_t pending;   /* words not yet added to words_done */
    float alpha;
    uint64_t predictions;
    w2v_kernel_loss loss;
    int left_on_stop;   /* left because of a stop: its words stay pending */
} worker;

struct w2v_trainer {
    w2v_train_options opt;
    w2v_vocab *vocab;
    size_t n_words, dim;
    float *in;            /* (V, dim) */
    float *out_ns;        /* (V, dim) or NULL */
    float *out_hs;        /* (V - 1, dim) or NULL */
    w2v_alias noise;
    w2v_huffman tree;
    uint32_t *keep;       /* (V) sub-sampling thresholds */
    w2v_kernel_model km;
    float alpha0;
    int batch_impl;       /* enum w2v_batch_impl of the batched kernel */
    int threads;
    _Atomic int stop;

    /* Run state: the reader is shared under lock; counters are atomic. */
    pthread_mutex_t lock;
    w2v_corpus *corpus;
    int epoch;            /* 0-based epoch of the reader (under lock) */
    int finished;         /* all epochs read (under lock) */
    int failed;           /* a worker hit an error (under lock) */
    w2v_error error;      /* the first worker error (under lock) */
    _Atomic int epoch_seen;

    /*
     * The id cache (idcache.h): built during a whole pass that has passes
     * after it, then read instead of the text. All under lock.
     */
    int cache_mode;       /* enum cache_mode */
    int cache_tried;      /* opened once this run: not again */
    w2v_idcache cache;
    size_t cache_next;    /* the next block of a pass over the cache */
    uint64_t cache_offset;  /* text bytes behind the blocks handed out */
    _Atomic uint64_t words_done;
    _Atomic float alpha;
    _Atomic int running;
    uint64_t words_total;
    worker *workers;      /* (threads) */

    /*
     * Checkpoints. The run thread sets pause; each worker, at its next
     * block boundary, saves its state in saved[] and waits; the workers
     * that have left (left) save theirs on the way out. All under lock.
     */
    pthread_cond_t cond;  /* a worker paused or left; the pause ended */
    int pause, paused, left, started;
    int stopped;          /* a worker left because of a stop (under lock) */
    size_t n_ahead;       /* noise words a worker draws ahead */
    w2v_worker_state *saved;  /* (threads) state at the last boundary */
    uint32_t *saved_ahead;    /* (threads, n_ahead) */
    int snap_epoch;           /* the reader's position at that boundary */
    uint64_t snap_offset;
    w2v_corpus_print print;   /* the corpus of the last (or next) run */
    int resumed;              /* the next run continues from saved[] */
};

w2v_train_options w2v_train_options_default(void)
{
    w2v_train_options o;
    memset(&o, 0, sizeof o);
    o.arch = W2V_ARCH_SKIPGRAM;
    o.dim = 100;
    o.window = 5;
    o.sample = 1e-3;
    o.negative = 5;
    o.hs = 0;
    o.kernel = W2V_KERNEL_BATCHED;
    o.epochs = 5;
    o.alpha = 0;
    o.threads = 0;
    o.seed = 1;
    o.progress_interval = 0.5;
    o.checkpoint_interval = 600;
    o.cache = 1;
    return o;
}

double w2v_train_options_alpha(const w2v_train_options *opt)
{
    if (opt->alpha > 0)
        return opt->alpha;
    if (opt->arch == W2V_ARCH_CBOW)
        return 0.05;
    return opt->hs ? 0.025 : 0.05;
}

int w2v_train_options_check(const w2v_train_options *o, w2v_error *err)
{
    if (o->arch != W2V_ARCH_SKIPGRAM && o->arch != W2V_ARCH_CBOW)
        return w2v_fail(err, W2V_ERR_ARG, "arch must be skip-gram or CBOW");
    if (o->dim < 1 || o->dim > 100000)
        return w2v_fail(err, W2V_ERR_ARG, "size %zu: must be 1..100000",
                        o->dim);
    if (o->window < 1 || o->window > 1000)
        return w2v_fail(err, W2V_ERR_ARG, "window %d: must be 1..1000",
                        o->window);
    if (!(o->sample >= 0 && o->sample < 1))
        return w2v_fail(err, W2V_ERR_ARG, "sample %g: must be in [0, 1)",
                        o->sample);
    if (o->negative < 0 || o->negative > 1000)
        return w2v_fail(err, W2V_ERR_ARG, "negative %d: must be 0..1000",
                        o->negative);
    if (o->kernel != W2V_KERNEL_BATCHED && o->kernel != W2V_KERNEL_PLAIN &&
        o->kernel != W2V_KERNEL_BLAS)
        return w2v_fail(err, W2V_ERR_ARG, "kernel %d: must be batched, plain "
                        "or blas", o->kernel);
    if (o->cbow_step != W2V_CBOW_STEP_MEAN &&
        o->cbow_step != W2V_CBOW_STEP_GRADIENT)
        return w2v_fail(err, W2V_ERR_ARG, "cbow step %d: must be mean or "
                        "gradient", o->cbow_step);
    if (o->cache != 0 && o->cache != 1)
        return w2v_fail(err, W2V_ERR_ARG, "cache %d: must be 0 or 1",
                        o->cache);
    if (o->hs != 0 && o->hs != 1)
        return w2v_fail(err, W2V_ERR_ARG, "hs %d: must be 0 or 1", o->hs);
    if (o->negative == 0 && o->hs == 0)
        return w2v_fail(err, W2V_ERR_ARG, "nothing to train: negative is 0 "
                        "and hs is off; use -negative N or -hs 1");
    if (o->epochs < 1 || o->epochs > 100000)
        return w2v_fail(err, W2V_ERR_ARG, "iter %d: must be 1..100000",
                        o->epochs);
    if (!(o->alpha <= 10) || isnan(o->alpha))
        return w2v_fail(err, W2V_ERR_ARG, "alpha %g: must be at most 10",
                        o->alpha);
    if (o->threads > 4096)
        return w2v_fail(err, W2V_ERR_ARG, "threads %d: at most 4096",
                        o->threads);
    if (!(o->progress_interval >= 0))
        return w2v_fail(err, W2V_ERR_ARG, "negative progress interval");
    if (!(o->checkpoint_interval >= 0))
        return w2v_fail(err, W2V_ERR_ARG, "negative checkpoint interval");
    return W2V_OK;
}

static float *alloc_matrix(size_t rows, size_t dim, w2v_error *err)
{
    size_t bytes;
    if (!w2v_mul_size(rows, dim, &bytes) ||
        !w2v_mul_size(bytes, sizeof(float), &bytes)) {
        w2v_fail(err, W2V_ERR_NOMEM, "a %zu x %zu matrix is too big", rows,
                 dim);
        return NULL;
    }
    float *m = w2v_alloc_aligned(bytes);
    if (m == NULL)
        w2v_fail(err, W2V_ERR_NOMEM, "out of memory for a %zu x %zu matrix "
                 "(%zu MB)", rows, dim, bytes >> 20);
    return m;
}

/* The weights: inputs small and random, outputs zero (as in word2vec.c). */
static int init_weights(w2v_trainer *t, w2v_error *err)
{
    size_t V = t->n_words, D = t->dim;
    t->in = alloc_matrix(V, D, err);
    if (t->in == NULL)
        return err ? err->code : W2V_ERR_NOMEM;
    w2v_rng rng;
    w2v_rng_seed(&rng, t->opt.seed, UINT64_MAX);
    for (size_t i = 0; i < V * D; i++)
        t->in[i] = (w2v_rng_float(&rng) - 0.5f) / (float)D;
    if (t->opt.negative > 0) {
        if ((t->out_ns = alloc_matrix(V, D, err)) == NULL)
            return err ? err->code : W2V_ERR_NOMEM;
        memset(t->out_ns, 0, V * D * sizeof(float));
    }
    if (t->opt.hs && V > 1) {
        if ((t->out_hs = alloc_matrix(V - 1, D, err)) == NULL)
            return err ? err->code : W2V_ERR_NOMEM;
        memset(t->out_hs, 0, (V - 1) * D * sizeof(float));
    }
    return W2V_OK;
}

static int init_samplers(w2v_trainer *t, w2v_error *err)
{
    int rc = w2v_subsample_init(t->vocab, t->opt.sample, &t->keep, err);
    if (rc == W2V_OK && t->opt.negative > 0)
        rc = w2v_alias_init(&t->noise, t->vocab, 0.75, err);
    if (rc == W2V_OK && t->opt.hs) {
        size_t V = t->n_words;
        uint64_t *counts = malloc(V * sizeof *counts);
        if (counts == NULL)
            return w2v_fail_nomem(err, "the Huffman tree");
        for (size_t i = 0; i < V; i++)
            counts[i] = w2v_vocab_count(t->vocab, i);
        rc = w2v_huffman_build(&t->tree, counts, V, err);
        free(counts);
    }
    return rc;
}

/* Room for every worker's state between runs (see trainstate.h). */
static int init_saved(w2v_trainer *t, w2v_error *err)
{
    if (t->opt.arch == W2V_ARCH_SKIPGRAM && t->opt.kernel != W2V_KERNEL_PLAIN)
        t->n_ahead = SG_GROUP * (size_t)t->opt.negative;
    t->saved = calloc((size_t)t->threads, sizeof *t->saved);
    t->saved_ahead = calloc((size_t)t->threads * t->n_ahead + 1,
                            sizeof *t->saved_ahead);
    if (t->saved == NULL || t->saved_ahead == NULL)
        return w2v_fail_nomem(err, "the workers' saved state");
    for (int i = 0; i < t->threads; i++)
        t->saved[i].ahead = t->saved_ahead + (size_t)i * t->n_ahead;
    return W2V_OK;
}

int w2v_trainer_new(const w2v_train_options *opt, const w2v_vocab *vocab,
                    w2v_trainer **out, w2v_error *err)
{
    *out = NULL;
    int rc = w2v_train_options_check(opt, err);
    if (rc != W2V_OK)
        return rc;
    if (w2v_vocab_size(vocab) == 0)
        return w2v_fail(err, W2V_ERR_EMPTY, "the vocabulary is empty");
    w2v_trainer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return w2v_fail_nomem(err, "a trainer");
    t->opt = *opt;
    t->dim = opt->dim;
    t->alpha0 = (float)w2v_train_options_alpha(opt);
    t->threads = opt->threads > 0 ? opt->threads : (int)w2v_online_cores();
    rc = w2v_vocab_clone(vocab, &t->vocab, err);
    if (rc == W2V_OK) {
        t->n_words = w2v_vocab_size(t->vocab);
        rc = init_weights(t, err);
    }
    if (rc == W2V_OK)
        rc = init_samplers(t, err);
    if (rc != W2V_OK) {
        w2v_trainer_free(t);
        return rc;
    }
    t->km.in = t->in;
    t->km.out_ns = t->out_ns;
    t->km.out_hs = t->out_hs;
    t->km.dim = t->dim;
    t->km.negative = opt->negative;
    t->km.noise = opt->negative > 0 ? &t->noise : NULL;
    t->km.tree = opt->hs && t->n_words > 1 ? &t->tree : NULL;
    t->km.cbow_mean_step = opt->cbow_step == W2V_CBOW_STEP_MEAN;
    t->batch_impl = opt->kernel == W2V_KERNEL_BLAS ? W2V_BATCH_BLAS
                                                   : W2V_BATCH_LOOPS;
    if ((rc = init_saved(t, err)) != W2V_OK) {
        w2v_trainer_free(t);
        return rc;
    }
    *out = t;
    return W2V_OK;
}

void w2v_trainer_free(w2v_trainer *t)
{
    if (t == NULL)
        return;
    w2v_vocab_free(t->vocab);
    w2v_free_aligned(t->in);
    w2v_free_aligned(t->out_ns);
    w2v_free_aligned(t->out_hs);
    w2v_alias_free(&t->noise);
    w2v_huffman_free(&t->tree);
    free(t->keep);
    free(t->saved);
    free(t->saved_ahead);
    free(t);
}

void w2v_trainer_stop(w2v_trainer *t)
{
    atomic_store(&t->stop, 1);
}

int w2v_trainer_model(const w2v_trainer *t, w2v_model **out, w2v_error *err)
{
    *out = NULL;
    w2v_vocab *v;
    int rc = w2v_vocab_clone(t->vocab, &v, err);
    if (rc != W2V_OK)
        return rc;
    w2v_model *m;
    rc = w2v_model_new(v, t->dim, &m, err);
    if (rc != W2V_OK)
        return rc;
    for (size_t i = 0; i < t->n_words; i++)
        memcpy(w2v_model_vector(m, i), t->in + i * t->dim,
               t->dim * sizeof(float));
    *out = m;
    return W2V_OK;
}

int w2v_trainer_save(const w2v_trainer *t, const char *path, int format,
                     w2v_error *err)
{
    return w2v_model_save_matrix(t->vocab, t->in, t->dim, path, format, err);
}

/* ---------------------------------------------------------------------- */
/* Workers                                                                 */

/* Adds a worker's pending words to the shared count; sets its rate. */
static void tick(worker *w)
{
    w2v_trainer *t = w->t;
    uint64_t done = atomic_fetch_add(&t->words_done, w->pending) + w->pending;
    w->pending = 0;
    /* Linear decay over all epochs, with a floor (word2vec.c's schedule). */
    double left = 1.0 - (double)done / (double)(t->words_total + 1);
    float a = t->alpha0 * (float)(left > 1e-4 ? left : 1e-4);
    w->alpha = a;
    atomic_store_explicit(&t->alpha, a, memory_order_relaxed);
}

/* Trains targets sent[from, to) of the n ids in sent. */
static void train_range(worker *w, const uint32_t *sent, size_t n,
                        size_t from, size_t to)
{
    w2v_trainer *t = w->t;
    int window = t->opt.window;
    if (t->opt.arch == W2V_ARCH_SKIPGRAM && t->opt.kernel != W2V_KERNEL_PLAIN) {
        w2v_kernel_skipgram_batched(&t->km, &w->sgb, &w->rng, sent, n, from,
                                    to, window, w->alpha, t->batch_impl,
                                    &w->loss);
        return;
    }
    if (t->opt.arch == W2V_ARCH_CBOW && t->opt.kernel != W2V_KERNEL_PLAIN &&
        w->cbb.group > 0) {
        w2v_kernel_cbow_batched(&t->km, &w->cbb, &w->rng, sent, n, from, to,
                                window, w->alpha, t->batch_impl, &w->loss);
        return;
    }
    if (t->opt.arch == W2V_ARCH_CBOW && t->opt.kernel != W2V_KERNEL_PLAIN) {
        w2v_kernel_cbow_range(&t->km, &w->scratch, &w->rng, sent, n, from, to,
                              window, w->alpha, &w->predictions, LOSS_EVERY,
                              &w->loss);
        return;
    }
    for (size_t pos = from; pos < to; pos++) {
        int win = window - (int)w2v_rng_below(&w->rng, (uint32_t)window);
        w2v_kernel_loss *loss =
            (w->predictions++ % LOSS_EVERY) == 0 ? &w->loss : NULL;
        if (t->opt.arch == W2V_ARCH_CBOW)
            w2v_kernel_cbow(&t->km, &w->scratch, &w->rng, sent, n, pos, win,
                            w->alpha, loss);
        else
            w2v_kernel_skipgram(&t->km, &w->scratch, &w->rng, sent, n, pos,
                                win, w->alpha, loss);
    }
}

/*
 * Trains on one block's ids (from w2v_block_ids or the cache), sentence by
 * sentence, sub-sampling as it goes. A sentence longer than SENTENCE_IDS
 * slides: trained targets leave the buffer, but the last 2 * window ids
 * stay as context, so nothing is cut.
 */
static void train_ids(worker *w, const uint32_t *ids, size_t n_ids)
{
    w2v_trainer *t = w->t;
    size_t window = (size_t)t->opt.window;
    size_t n = 0, from = 0;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i] & ~W2V_ID_EOL;
        if (++w->pending >= WORDS_PER_TICK)
            tick(w);
        uint32_t keep = t->keep[id];
        if (keep == UINT32_MAX || (uint32_t)w2v_rng_next(&w->rng) < keep) {
            w->sent[n++] = id;
            if (n == SENTENCE_IDS) {
                /* The first n - window have their whole right context. */
                size_t ready = n - window;
                train_range(w, w->sent, n, from, ready);
                size_t keep_from = n - 2 * window;
                memmove(w->sent, w->sent + keep_from,
                        2 * window * sizeof *w->sent);
                n = 2 * window;
                from = window;
            }
        }
        if (ids[i] & W2V_ID_EOL) {
            train_range(w, w->sent, n, from, n);
            n = from = 0;
        }
    }
    train_range(w, w->sent, n, from, n);
    w2v_sg_batch_scratch_sync(&w->sgb, &t->km);
    atomic_store_explicit(&w->loss_sum, w->loss.sum, memory_order_relaxed);
    atomic_store_explicit(&w->loss_count, w->loss.count,
                          memory_order_relaxed);
}

/* Copies the worker's state between blocks into t->saved (under lock). */
static void worker_save(const worker *w)
{
    w2v_trainer *t = w->t;
    w2v_worker_state *s = &t->saved[w->index];
    s->rng = w->rng.state;
    s->pending = w->pending;
    s->alpha = w->alpha;
    s->predictions = w->predictions;
    s->loss_sum = w->loss.sum;
    s->loss_count = w->loss.count;
    s->groups = w->sgb.groups;
    s->ahead_ready = (uint32_t)w->sgb.ahead_ready;
    if (t->n_ahead > 0 && s->ahead_ready)
        memcpy(s->ahead, w->sgb.ahead, t->n_ahead * sizeof *s->ahead);
    else if (t->n_ahead > 0)
        memset(s->ahead, 0, t->n_ahead * sizeof *s->ahead);
}

/* The reverse of worker_save, for a resumed run. */
static void worker_load(worker *w)
{
    const w2v_trainer *t = w->t;
    const w2v_worker_state *s = &t->saved[w->index];
    w->rng.state = s->rng;
    w->pending = s->pending;
    w->alpha = s->alpha;
    w->predictions = s->predictions;
    w->loss.sum = s->loss_sum;
    w->loss.count = s->loss_count;
    w->sgb.groups = s->groups;
    w->sgb.ahead_ready = (int)s->ahead_ready;
    if (t->n_ahead > 0)
        memcpy(w->sgb.ahead, s->ahead, t->n_ahead * sizeof *s->ahead);
}

/*
 * Whether a pass that starts now should fill the id cache (under lock): a
 * cache is opened at most once a run, so one that exists was tried.
 */
static int cache_wanted(const w2v_trainer *t)
{
    return t->opt.cache && !t->cache_tried && t->epoch + 1 < t->opt.epochs &&
           t->n_words < W2V_ID_EOL;
}

/* Starts filling the cache if a pass starting now should (under lock). */
static void cache_start(w2v_trainer *t)
{
    if (!cache_wanted(t))
        return;
    t->cache_tried = 1;
    if (w2v_idcache_open(&t->cache) == 0)
        t->cache_mode = CACHE_BUILD;
}

/* The text offset of the reader's pass (under lock). */
static uint64_t reader_offset(const w2v_trainer *t)
{
    return t->cache_mode == CACHE_READ ? t->cache_offset
                                       : w2v_corpus_offset(t->corpus);
}

/*
 * Hands out the pass's next block (under lock): JOB_IDS with w->seq from a
 * cache pass, JOB_TEXT with w->len bytes in w->buf from the text (numbered
 * for the cache when one is being filled), or JOB_NONE at the end of the
 * pass, when w2v_corpus_read failed (rc set) or the cache's last blocks are
 * still being written (rc W2V_OK and *wait set).
 */
static int take_block(worker *w, int *rc, int *wait, w2v_error *e)
{
    w2v_trainer *t = w->t;
    *rc = W2V_OK;
    *wait = 0;
    if (t->cache_mode == CACHE_READ) {
        if (t->cache_next == t->cache.n_blocks)
            return JOB_NONE;
        w->seq = t->cache_next++;
        t->cache_offset += t->cache.blocks[w->seq].text_bytes;
        return JOB_IDS;
    }
    *rc = w2v_corpus_read(t->corpus, w->buf, BLOCK_BYTES, &w->len, e);
    if (*rc == W2V_OK && w->len > 0) {
        w->put = t->cache_mode == CACHE_BUILD &&
                 w2v_idcache_add(&t->cache, w->len, &w->seq) == 0;
        return JOB_TEXT;
    }
    if (*rc == W2V_OK && t->cache_mode == CACHE_BUILD) {
        if (t->cache.pending > 0) {
            *wait = 1;
            return JOB_NONE;
        }
        if (t->cache.broken) {
            w2v_idcache_close(&t->cache);
            t->cache_mode = CACHE_OFF;
        } else {
            t->cache_mode = CACHE_READ;
        }
    }
    return JOB_NONE;
}

/* Goes on to the next pass (under lock); W2V_OK or the rewind's error. */
static int next_pass(w2v_trainer *t, w2v_error *e)
{
    if (t->cache_mode == CACHE_READ) {
        t->cache_next = 0;
        t->cache_offset = 0;
    } else {
        int rc = w2v_corpus_rewind(t->corpus, e);
        if (rc != W2V_OK)
            return rc;
    }
    t->epoch++;
    atomic_store(&t->epoch_seen, t->epoch);
    cache_start(t);
    return W2V_OK;
}

/* Takes the next block under the lock; JOB_NONE when nothing is left. */
static int next_block(worker *w)
{
    w2v_trainer *t = w->t;
    int job = JOB_NONE;
    w2v_error e;
    w2v_error_clear(&e);
    pthread_mutex_lock(&t->lock);
    for (;;) {
        if (t->failed || t->finished || atomic_load(&t->stop)) {
            t->stopped |= !t->failed && !t->finished;
            w->left_on_stop = !t->failed && !t->finished;
            worker_save(w);
            t->left++;
            pthread_cond_broadcast(&t->cond);
            job = JOB_NONE;
            break;
        }
        if (t->pause) {
            worker_save(w);
            t->paused++;
            pthread_cond_broadcast(&t->cond);
            while (t->pause)
                pthread_cond_wait(&t->cond, &t->lock);
            t->paused--;
            pthread_cond_broadcast(&t->cond);
            continue;
        }
        int rc, wait;
        job = take_block(w, &rc, &wait, &e);
        if (job != JOB_NONE)
            break;
        if (rc == W2V_OK && wait) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        if (rc == W2V_OK) { /* the end of a pass */
            if (t->epoch + 1 >= t->opt.epochs) {
                t->finished = 1;
                continue;
            }
            if ((rc = next_pass(t, &e)) == W2V_OK)
                continue;
        }
        t->failed = 1;
        t->error = e;
    }
    pthread_mutex_unlock(&t->lock);
    return job;
}

/* Stores a block's ids in the cache and says so (the lock is not held). */
static void cache_put(worker *w, size_t n)
{
    w2v_trainer *t = w->t;
    uint64_t at = w2v_idcache_put(&t->cache, w->ids, n);
    pthread_mutex_lock(&t->lock);
    w2v_idcache_finish(&t->cache, w->seq, at, n);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

/* Reads a block's ids back from the cache; 0, or -1 with the run failed. */
static int cache_get(worker *w, size_t *n)
{
    w2v_trainer *t = w->t;
    if (w2v_idcache_get(&t->cache, w->seq, w->ids, BLOCK_IDS, n) == 0)
        return 0;
    int e = errno;
    pthread_mutex_lock(&t->lock);
    if (!t->failed) {
        t->failed = 1;
        w2v_fail(&t->error, W2V_ERR_IO, "cannot read back the corpus's word "
                 "ids from the temporary file in $TMPDIR: %s", strerror(e));
    }
    pthread_mutex_unlock(&t->lock);
    return -1;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int job;
    /* A resumed worker's rate and pending words are those it saved. */
    if (!w->t->resumed)
        tick(w);
    while ((job = next_block(w)) != JOB_NONE) {
        size_t n = 0;
        if (job == JOB_TEXT) {
            n = w2v_block_ids(w->t->vocab, w->buf, w->len, w->ids);
            if (w->put)
                cache_put(w, n);
        } else if (cache_get(w, &n) != 0) {
            continue;  /* next_block sees the failure */
        }
        train_ids(w, w->ids, n);
    }
    /* A stopped run keeps its pending words for the checkpoint. */
    if (!w->left_on_stop)
        tick(w);
    atomic_fetch_sub(&w->t->running, 1);
    return NULL;
}

static int worker_init(worker *w, w2v_trainer *t, int index, w2v_error *err)
{
    memset(w, 0, sizeof *w);
    w->t = t;
    w->index = index;
    w2v_rng_seed(&w->rng, t->opt.seed, (uint64_t)index);
    size_t D = t->dim;
    w->buf = malloc(BLOCK_BYTES);
    w->sent = malloc(SENTENCE_IDS * sizeof *w->sent);
    w->ids = malloc(BLOCK_IDS * sizeof *w->ids);
    w->scratch.h = w2v_alloc_aligned(D * sizeof(float));
    w->scratch.grad = w2v_alloc_aligned(D * sizeof(float));
    w->scratch.ids = malloc(((size_t)t->opt.negative + 1) * sizeof(uint32_t));
    w->scratch.ids_ahead =
        malloc(((size_t)t->opt.negative + 1) * sizeof(uint32_t));
    if (!w->buf || !w->sent || !w->ids || !w->scratch.h || !w->scratch.grad ||
        !w->scratch.ids || !w->scratch.ids_ahead)
        return w2v_fail_nomem(err, "a worker's buffers");
    if (t->opt.arch == W2V_ARCH_SKIPGRAM &&
        t->opt.kernel != W2V_KERNEL_PLAIN &&
        w2v_sg_batch_scratch_init(&w->sgb, &t->km, SG_GROUP,
                                  t->opt.window) != 0)
        return w2v_fail_nomem(err, "a worker's batch buffers");
    w->sgb.hs_batched = 1;
    if (t->threads > 1 && w->sgb.x != NULL &&
        w2v_sg_batch_scratch_hot(&w->sgb, &t->km, t->n_words, 0,
                                 HOT_NODES) != 0)
        return w2v_fail_nomem(err, "a worker's copy of the hottest rows");
    if (t->opt.arch == W2V_ARCH_CBOW && t->opt.kernel != W2V_KERNEL_PLAIN &&
        t->km.tree == NULL && t->opt.negative > 0 &&
        w2v_cbow_batch_scratch_init(&w->cbb, &t->km, CBOW_GROUP) != 0)
        return w2v_fail_nomem(err, "a worker's batch buffers");
    if (t->resumed)
        worker_load(w);
    return W2V_OK;
}

static void worker_free(worker *w)
{
    free(w->buf);
    free(w->sent);
    free(w->ids);
    w2v_free_aligned(w->scratch.h);
    w2v_free_aligned(w->scratch.grad);
    free(w->scratch.ids);
    free(w->scratch.ids_ahead);
    w2v_sg_batch_scratch_free(&w->sgb);
    w2v_cbow_batch_scratch_free(&w->cbb);
}

/* ---------------------------------------------------------------------- */
/* Progress                                                                */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct loss_tally {
    double sum;
    uint64_t count;
} loss_tally;

static void report(w2v_trainer *t, double start, loss_tally *prev, int done)
{
    if (t->opt.progress == NULL)
        return;
    w2v_progress p;
    memset(&p, 0, sizeof p);
    loss_tally cur = {0, 0};
    for (int i = 0; i < t->threads; i++) {
        cur.sum += atomic_load_explicit(&t->workers[i].loss_sum,
                                        memory_order_relaxed);
        cur.count += atomic_load_explicit(&t->workers[i].loss_count,
                                          memory_order_relaxed);
    }
    p.epochs = t->opt.epochs;
    p.epoch = atomic_load(&t->epoch_seen) + 1;
    p.words_total = t->words_total;
    p.words_done = atomic_load(&t->words_done);
    if (p.words_done > p.words_total)
        p.words_done = p.words_total;
    p.fraction = p.words_total ? (double)p.words_done / p.words_total : 1;
    if (done)
        p.fraction = 1;
    p.elapsed = now_seconds() - start;
    p.words_per_sec = p.elapsed > 0 ? p.words_done / p.elapsed : 0;
    p.threads = t->threads;
    p.alpha = atomic_load_explicit(&t->alpha, memory_order_relaxed);
    if (cur.count > prev->count)
        p.loss = (cur.sum - prev->sum) / (double)(cur.count - prev->count);
    else
        p.loss = NAN;
    if (done)  /* the final report: the mean over the whole run */
        p.loss = cur.count ? cur.sum / (double)cur.count : NAN;
    *prev = cur;
    p.eta = p.fraction > 0 && !done ? p.elapsed * (1 - p.fraction) /
                                          p.fraction
                                    : 0;
    p.done = done;
    t->opt.progress(&p, t->opt.progress_user);
}

/*
 * Waits until every started worker is paused at a block boundary or has
 * left, calls the checkpoint callback, then lets the workers go on.
 */
static void take_checkpoint(w2v_trainer *t)
{
    pthread_mutex_lock(&t->lock);
    t->pause = 1;
    while (t->paused + t->left < t->started)
        pthread_cond_wait(&t->cond, &t->lock);
    t->snap_epoch = t->epoch;
    t->snap_offset = reader_offset(t);
    pthread_mutex_unlock(&t->lock);
    /* The workers wait on t->pause, so the callback sees quiet weights. */
    int stop = t->opt.checkpoint(t, t->opt.checkpoint_user);
    if (stop)
        w2v_trainer_stop(t);
    pthread_mutex_lock(&t->lock);
    t->pause = 0;
    pthread_cond_broadcast(&t->cond);
    while (t->paused > 0)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static void wait_and_report(w2v_trainer *t, double start)
{
    loss_tally prev = {0, 0};
    double last = start, last_checkpoint = start;
    while (atomic_load(&t->running) > 0) {
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
        double now = now_seconds();
        if (now - last >= t->opt.progress_interval) {
            report(t, start, &prev, 0);
            last = now;
        }
        if (t->opt.checkpoint != NULL && !atomic_load(&t->stop) &&
            now - last_checkpoint >= t->opt.checkpoint_interval) {
            take_checkpoint(t);
            last_checkpoint = now_seconds();
        }
    }
}

void w2v_trainer_state(w2v_trainer *t, w2v_train_state *s)
{
    memset(s, 0, sizeof *s);
    s->opt = t->opt;
    s->opt.progress = NULL;
    s->opt.progress_user = NULL;
    s->opt.checkpoint = NULL;
    s->opt.checkpoint_user = NULL;
    s->opt.threads = t->threads;
    s->vocab = t->vocab;
    s->dim = t->dim;
    s->in = t->in;
    s->out_ns = t->out_ns;
    s->out_hs = t->out_hs;
    s->threads = t->threads;
    s->epoch = t->snap_epoch;
    s->offset = t->snap_offset;
    s->words_done = atomic_load(&t->words_done);
    s->words_total = w2v_vocab_total(t->vocab) * (uint64_t)t->opt.epochs;
    s->corpus = t->print;
    s->n_ahead = t->n_ahead;
    s->workers = t->saved;
}

void w2v_trainer_set_batch_impl(w2v_trainer *t, int impl)
{
    t->batch_impl = impl;
}

void w2v_trainer_restore(w2v_trainer *t, const w2v_train_state *s)
{
    size_t V = t->n_words, D = t->dim;
    memcpy(t->in, s->in, V * D * sizeof(float));
    if (t->out_ns != NULL)
        memcpy(t->out_ns, s->out_ns, V * D * sizeof(float));
    if (t->out_hs != NULL)
        memcpy(t->out_hs, s->out_hs, (V - 1) * D * sizeof(float));
    for (int i = 0; i < t->threads; i++) {
        w2v_worker_state *d = &t->saved[i];
        uint32_t *ahead = d->ahead;
        *d = s->workers[i];
        d->ahead = ahead;
        if (t->n_ahead > 0)
            memcpy(ahead, s->workers[i].ahead, t->n_ahead * sizeof *ahead);
    }
    t->snap_epoch = s->epoch;
    t->snap_offset = s->offset;
    atomic_store(&t->words_done, s->words_done);
    t->print = s->corpus;
    t->resumed = 1;
}

int w2v_trainer_run(w2v_trainer *t, w2v_corpus *corpus, w2v_error *err)
{
    int rc = w2v_corpus_rewind(corpus, err);
    if (rc != W2V_OK)
        return rc;
    t->workers = w2v_alloc_aligned((size_t)t->threads * sizeof(worker));
    if (t->workers == NULL)
        return w2v_fail_nomem(err, "worker state");
    for (int i = 0; i < t->threads && rc == W2V_OK; i++)
        rc = worker_init(&t->workers[i], t, i, err);
    if (rc != W2V_OK) {
        for (int i = 0; i < t->threads; i++)
            worker_free(&t->workers[i]);
        w2v_free_aligned(t->workers);
        t->workers = NULL;
        return rc;
    }
    if (t->resumed)
        rc = w2v_corpus_resume_at(corpus, &t->print, t->snap_offset,
                                  t->workers[0].buf, BLOCK_BYTES, err);
    else
        rc = w2v_corpus_fingerprint(w2v_corpus_path(corpus), &t->print, err);
    if (rc != W2V_OK) {
        for (int i = 0; i < t->threads; i++)
            worker_free(&t->workers[i]);
        w2v_free_aligned(t->workers);
        t->workers = NULL;
        return rc;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    t->pause = t->paused = t->left = t->started = t->stopped = 0;
    t->corpus = corpus;
    t->epoch = t->resumed ? t->snap_epoch : 0;
    t->finished = t->failed = 0;
    t->cache_mode = CACHE_OFF;
    t->cache_tried = 0;
    t->cache.fd = -1;
    if (!t->resumed || t->snap_offset == 0)
        cache_start(t);  /* only a whole pass fills it */
    w2v_error_clear(&t->error);
    atomic_store(&t->epoch_seen, t->epoch);
    if (!t->resumed)
        atomic_store(&t->words_done, 0);
    t->words_total = w2v_vocab_total(t->vocab) * (uint64_t)t->opt.epochs;
    atomic_store(&t->alpha, t->resumed ? t->saved[0].alpha : t->alpha0);
    atomic_store(&t->running, t->threads);
    double start = now_seconds();
    int started = 0;
    for (int i = 0; i < t->threads; i++) {
        if (pthread_create(&t->workers[i].tid, NULL, worker_main,
                           &t->workers[i]) != 0) {
            atomic_store(&t->stop, 1);
            atomic_fetch_sub(&t->running, t->threads - i);
            rc = w2v_fail(err, W2V_ERR_THREAD, "cannot start thread %d of %d",
                          i + 1, t->threads);
            break;
        }
        started++;
    }
    pthread_mutex_lock(&t->lock);
    t->started = started;
    pthread_mutex_unlock(&t->lock);
    wait_and_report(t, start);
    for (int i = 0; i < started; i++)
        pthread_join(t->workers[i].tid, NULL);
    t->snap_epoch = t->epoch;
    t->snap_offset = reader_offset(t);
    t->resumed = 0;
    w2v_idcache_close(&t->cache);
    t->cache_mode = CACHE_OFF;
    loss_tally dummy = {0, 0};
    if (rc == W2V_OK && t->failed) {
        rc = t->error.code;
        if (err != NULL)
            *err = t->error;
    } else if (rc == W2V_OK && t->stopped) {
        rc = w2v_fail(err, W2V_ERR_STOPPED, "training was stopped");
    }
    if (rc == W2V_OK)
        report(t, start, &dummy, 1);
    for (int i = 0; i < t->threads; i++)
        worker_free(&t->workers[i]);
    w2v_free_aligned(t->workers);
    t->workers = NULL;
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    t->corpus = NULL;
    return rc;
}
