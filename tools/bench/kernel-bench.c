/*
 * kernel-bench - where the batched kernel's time goes: in moving rows to
 * and from memory, or in the arithmetic.
 *
 * It trains on CORPUS twice with the benchmark's settings (-window 5
 * -negative 5 -sample 1e-4 -iter 5 -min-count 5, THREADS workers, the id
 * cache on), as w2v-train does but without writing the vectors:
 *   train: the batched kernel as it is;
 *   touch: the same run with each batch step replaced by one read and one
 *          write of every row the step uses (w2v_batch_step_touch). The
 *          windows, noise draws, prefetches, copied rows, reading and
 *          threads are all as in "train"; only the products are gone. No
 *          kernel that reads and writes each row of a target's batch once
 *          (the batched design: a target's context rows, its own output
 *          row and its noise rows) can take less time than this.
 * Then, for skip-gram, it times the batch step alone on one thread, on a
 * batch of the mean size (6 context rows against the target and 5 noise
 * rows) whose rows stay in the cache: the arithmetic without the memory.
 * arith_s is that time per step times the run's expected number of kept
 * targets (each trained once per epoch), divided by THREADS.
 *
 * Prints one line of JSON:
 *   {"arch":A, "dim":D, "threads":T, "words":W, "targets":N,
 *    "vocab_s":S, "train_s":S, "touch_s":S, "step_per_s":R, "arith_s":S}
 * (train_s and touch_s are the training alone; vocab_s is the counting
 * pass, the same for both). For skip-gram, words is the corpus's words
 * times 5 epochs and targets the kept ones among them.
 *
 * Usage: kernel-bench CORPUS DIM [THREADS [sg|cbow]]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "trainstate.h"
#include "util.h"
#include "w2v/w2v.h"

#define EPOCHS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The benchmark's settings. */
static w2v_train_options settings(size_t dim, int threads, int arch)
{
    w2v_train_options o = w2v_train_options_default();
    o.arch = arch;
    o.dim = dim;
    o.window = 5;
    o.negative = 5;
    o.sample = 1e-4;
    o.epochs = EPOCHS;
    o.threads = threads;
    return o;
}

/* One training run with batch step impl; its time in *sec. */
static int run(const w2v_train_options *o, const w2v_vocab *v,
               const char *path, int impl, double *sec, w2v_error *err)
{
    w2v_corpus *c = NULL;
    w2v_trainer *t = NULL;
    int rc = w2v_corpus_open(path, &c, err);
    if (rc == W2V_OK)
        rc = w2v_trainer_new(o, v, &t, err);
    if (rc == W2V_OK) {
        w2v_trainer_set_batch_impl(t, impl);
        double t0 = now();
        rc = w2v_trainer_run(t, c, err);
        *sec = now() - t0;
    }
    w2v_trainer_free(t);
    w2v_corpus_close(c);
    return rc;
}

/* Kept targets the run can expect: every epoch, each word's kept share. */
static double kept_targets(const w2v_vocab *v, double sample)
{
    double n = 0;
    uint64_t total = w2v_vocab_total(v);
    for (size_t i = 0; i < w2v_vocab_size(v); i++) {
        uint64_t c = w2v_vocab_count(v, i);
        n += (double)c * w2v_subsample_prob(c, total, sample);
    }
    return n * EPOCHS;
}

/*
 * Steps per second of the batch step on one thread, on a batch of m rows
 * against n whose rows stay in the cache (the first column the positive
 * pair, every pair used, as in a skip-gram target's batch).
 */
static double step_rate(size_t m, size_t n, size_t dim)
{
    float *rows = w2v_alloc_aligned((m + n) * dim * sizeof(float));
    float *pos = calloc(m * n, sizeof *pos), *tot = malloc(m * n * sizeof *tot);
    float *work = w2v_alloc_aligned(w2v_batch_work_floats(m, n, dim) *
                                    sizeof(float));
    float *x[16], *y[16];
    double rate = 0;
    if (rows != NULL && pos != NULL && tot != NULL && work != NULL &&
        m <= 16 && n <= 16) {
        for (size_t k = 0; k < (m + n) * dim; k++)
            rows[k] = 0.01f * (float)((k * 2654435761u) % 1000) / 1000.0f;
        for (size_t i = 0; i < m; i++) {
            x[i] = rows + i * dim;
            pos[i * n] = 1.0f;
        }
        for (size_t j = 0; j < n; j++)
            y[j] = rows + (m + j) * dim;
        for (size_t k = 0; k < m * n; k++)
            tot[k] = 1.0f;
        w2v_batch b = {x, m, y, n, pos, tot, NULL};
        size_t steps = 0;
        double t0 = now(), t1;
        do {
            for (int r = 0; r < 1000; r++)
                w2v_batch_step(&b, dim, 1e-6f, work, 0);
            steps += 1000;
            t1 = now();
        } while (t1 - t0 < 1.0);
        rate = (double)steps / (t1 - t0);
    }
    w2v_free_aligned(work);
    free(tot);
    free(pos);
    w2v_free_aligned(rows);
    return rate;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: kernel-bench CORPUS DIM [THREADS [sg|cbow]]\n");
        return 2;
    }
    size_t dim = strtoul(argv[2], NULL, 10);
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    const char *a = argc > 4 ? argv[4] : "sg";
    int arch = strcmp(a, "cbow") == 0 ? W2V_ARCH_CBOW : W2V_ARCH_SKIPGRAM;
    if (dim == 0 || dim > 4096 || threads < 1 || threads > 256 ||
        (strcmp(a, "sg") != 0 && strcmp(a, "cbow") != 0)) {
        fprintf(stderr, "kernel-bench: bad arguments\n");
        return 2;
    }
    w2v_train_options o = settings(dim, threads, arch);
    w2v_vocab_options vo = w2v_vocab_options_default();
    w2v_error err = {0};
    w2v_corpus *c = NULL;
    w2v_vocab *v = NULL;
    double tv = now(), train_s = 0, touch_s = 0;
    int rc = w2v_corpus_open(argv[1], &c, &err);
    if (rc == W2V_OK)
        rc = w2v_vocab_build(c, &vo, &v, &err);
    w2v_corpus_close(c);
    tv = now() - tv;
    if (rc == W2V_OK)
        rc = run(&o, v, argv[1], W2V_BATCH_LOOPS, &train_s, &err);
    if (rc == W2V_OK)
        rc = run(&o, v, argv[1], W2V_BATCH_TOUCH, &touch_s, &err);
    if (rc != W2V_OK) {
        fprintf(stderr, "kernel-bench: %s\n", err.message);
        w2v_vocab_free(v);
        return 1;
    }
    double targets = kept_targets(v, o.sample);
    double rate = arch == W2V_ARCH_SKIPGRAM ? step_rate(6, 6, dim) : 0;
    double arith = rate > 0 ? targets / rate / threads : 0;
    printf("{\"arch\":\"%s\",\"dim\":%zu,\"threads\":%d,\"words\":%llu,"
           "\"targets\":%.0f,\"vocab_s\":%.3f,\"train_s\":%.3f,"
           "\"touch_s\":%.3f,\"step_per_s\":%.0f,\"arith_s\":%.3f}\n",
           a, dim, threads,
           (unsigned long long)w2v_vocab_total(v) * EPOCHS, targets, tv,
           train_s, touch_s, rate, arith);
    w2v_vocab_free(v);
    return 0;
}
