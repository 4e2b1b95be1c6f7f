/*
 * test_trainer.c - the trainer through the public API: settings checks,
 * byte-for-byte determinism with one thread, the planted-analogy quality
 * test for every architecture and loss, stopping, progress reports.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planted.h"
#include "testutil.h"
#include "w2v/w2v.h"

TestSuite(trainer, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* A planted corpus in the scratch directory. */
static char *planted_corpus(size_t sentences, uint64_t seed)
{
    char *path = tu_path(tu_scratch(), "planted.txt");
    cr_assert_eq(planted_write(path, sentences, seed, NULL), 0);
    return path;
}

/* Trains on path with opt; returns the model. */
static w2v_model *train(const char *path, const w2v_train_options *opt,
                        uint64_t min_count)
{
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_trainer *t;
    w2v_model *m;
    w2v_vocab_options vo = w2v_vocab_options_default();
    vo.min_count = min_count;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_vocab_build(c, &vo, &v, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_trainer_new(opt, v, &t, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    return m;
}

static w2v_train_options small_options(void)
{
    w2v_train_options o = w2v_train_options_default();
    o.dim = 24;
    o.window = 4;
    o.epochs = 5;
    o.sample = 0;
    o.threads = 1;
    o.seed = 3;
    return o;
}

Test(trainer, rejects_bad_settings)
{
    w2v_error err = {0};
    w2v_train_options o;
#define BAD(stmt, word)                                                     \
    do {                                                                    \
        o = w2v_train_options_default();                                    \
        stmt;                                                               \
        w2v_error_clear(&err);                                              \
        cr_expect_eq(w2v_train_options_check(&o, &err), W2V_ERR_ARG, #stmt); \
        cr_expect(strstr(err.message, word) != NULL, "%s: %s", #stmt,       \
                  err.message);                                             \
    } while (0)
    BAD(o.dim = 0, "size");
    BAD(o.window = 0, "window");
    BAD(o.negative = -1, "negative");
    BAD((o.negative = 0, o.hs = 0), "nothing to train");
    BAD(o.hs = 2, "hs");
    BAD(o.cache = 2, "cache");
    BAD(o.epochs = 0, "iter");
    BAD(o.sample = -0.1, "sample");
    BAD(o.sample = 1, "sample");
    BAD(o.arch = 7, "arch");
    BAD(o.alpha = NAN, "alpha");
#undef BAD
    o = w2v_train_options_default();
    cr_expect_eq(w2v_train_options_check(&o, &err), W2V_OK);
    cr_expect_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-12);
    o.arch = W2V_ARCH_CBOW;
    cr_expect_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-12);
    o.alpha = 0.3;
    cr_expect_float_eq(w2v_train_options_alpha(&o), 0.3, 1e-12);
}

static int same_vectors(const w2v_model *a, const w2v_model *b)
{
    if (w2v_model_size(a) != w2v_model_size(b) ||
        w2v_model_dim(a) != w2v_model_dim(b))
        return 0;
    size_t n = w2v_model_size(a) * w2v_model_dim(a) * sizeof(float);
    return memcmp(w2v_model_vector_const(a, 0), w2v_model_vector_const(b, 0),
                  n) == 0;
}

Test(trainer, one_thread_is_deterministic)
{
    char *path = planted_corpus(3000, 5);
    w2v_train_options o = small_options();
    w2v_model *a = train(path, &o, 1);
    w2v_model *b = train(path, &o, 1);
    cr_expect(same_vectors(a, b), "two runs with seed 3 differ");
    o.seed = 4;
    w2v_model *c = train(path, &o, 1);
    cr_expect(!same_vectors(a, c), "seeds 3 and 4 gave the same vectors");
    /* And the files written are byte-identical too. */
    char *fa = tu_path(tu_scratch(), "a.bin");
    char *fb = tu_path(tu_scratch(), "b.bin");
    cr_assert_eq(w2v_model_save(a, fa, W2V_FORMAT_BINARY, NULL), W2V_OK);
    cr_assert_eq(w2v_model_save(b, fb, W2V_FORMAT_BINARY, NULL), W2V_OK);
    size_t la, lb;
    char *da = tu_read_file(fa, &la), *db = tu_read_file(fb, &lb);
    cr_expect(la == lb && memcmp(da, db, la) == 0);
    free(da);
    free(db);
    free(fa);
    free(fb);
    w2v_model_free(a);
    w2v_model_free(b);
    w2v_model_free(c);
    free(path);
}

/* Every planted analogy has its expected answer first. */
static void expect_planted_analogies(const w2v_model *m, const char *what)
{
    w2v_knn *k;
    cr_assert_eq(w2v_knn_new(m, 0, &k, NULL), W2V_OK);
    const w2v_vocab *v = w2v_model_vocab(m);
    for (size_t i = 0; i < planted_n_analogies; i++) {
        const planted_analogy *q = &planted_analogies[i];
        int64_t a = w2v_vocab_find(v, q->a, strlen(q->a));
        int64_t b = w2v_vocab_find(v, q->b, strlen(q->b));
        int64_t c = w2v_vocab_find(v, q->c, strlen(q->c));
        cr_assert(a >= 0 && b >= 0 && c >= 0);
        w2v_neighbor best[3];
        size_t n;
        cr_assert_eq(w2v_knn_analogy(k, (size_t)a, (size_t)b, (size_t)c, 3,
                                     best, &n, NULL),
                     W2V_OK);
        cr_expect_str_eq(w2v_vocab_word(v, best[0].id), q->expect,
                         "%s: %s - %s + %s gave %s (%.3f), then %s", what,
                         q->a, q->b, q->c, w2v_vocab_word(v, best[0].id),
                         (double)best[0].score, w2v_vocab_word(v, best[1].id));
    }
    w2v_knn_free(k);
}

Test(trainer, skipgram_learns_planted_analogies)
{
    char *path = planted_corpus(20000, 7);
    w2v_train_options o = small_options();
    w2v_model *m = train(path, &o, 1);
    expect_planted_analogies(m, "skip-gram");
    w2v_model_free(m);
    free(path);
}

Test(trainer, cbow_learns_planted_analogies)
{
    char *path = planted_corpus(20000, 8);
    w2v_train_options o = small_options();
    o.arch = W2V_ARCH_CBOW;
    w2v_model *m = train(path, &o, 1);
    expect_planted_analogies(m, "CBOW");
    w2v_model_free(m);
    free(path);
}

Test(trainer, hierarchical_softmax_learns_planted_analogies)
{
    char *path = planted_corpus(20000, 9);
    w2v_train_options o = small_options();
    o.negative = 0;
    o.hs = 1;
    w2v_model *m = train(path, &o, 1);
    expect_planted_analogies(m, "skip-gram HS");
    w2v_model_free(m);
    free(path);
}

Test(trainer, two_threads_learn_planted_analogies)
{
    char *path = planted_corpus(20000, 10);
    w2v_train_options o = small_options();
    o.threads = 2;
    w2v_model *m = train(path, &o, 1);
    expect_planted_analogies(m, "skip-gram, 2 threads");
    w2v_model_free(m);
    free(path);
}

typedef struct seen {
    int calls, finals;
    int bad;
    uint64_t last_done, total;
    w2v_trainer *stop_me;
} seen;

static void record(const w2v_progress *p, void *user)
{
    seen *s = user;
    s->calls++;
    s->finals += p->done;
    if (p->fraction < 0 || p->fraction > 1 || p->epoch < 1 ||
        p->epoch > p->epochs || p->threads < 1)
        s->bad++;
    s->last_done = p->words_done;
    s->total = p->words_total;
    if (s->stop_me != NULL)
        w2v_trainer_stop(s->stop_me);
}

Test(trainer, progress_reports_are_sane)
{
    char *path = planted_corpus(20000, 11);
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_trainer *t;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_build(c, NULL, &v, &err), W2V_OK);
    seen s = {0};
    w2v_train_options o = small_options();
    o.progress = record;
    o.progress_user = &s;
    o.progress_interval = 0;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    cr_expect_eq(s.finals, 1, "one final report");
    cr_expect_eq(s.bad, 0);
    cr_expect_eq(s.last_done, w2v_vocab_total(v) * (uint64_t)o.epochs);
    cr_expect_eq(s.total, s.last_done);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(path);
}

Test(trainer, stop_from_the_progress_callback)
{
    char *path = planted_corpus(200000, 12);
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_trainer *t;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_build(c, NULL, &v, &err), W2V_OK);
    seen s = {0};
    w2v_train_options o = small_options();
    o.epochs = 50;
    o.progress = record;
    o.progress_user = &s;
    o.progress_interval = 0;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK);
    s.stop_me = t;
    cr_expect_eq(w2v_trainer_run(t, c, &err), W2V_ERR_STOPPED);
    cr_expect_eq(s.finals, 0, "a stopped run has no final report");
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(path);
}

Test(trainer, gzip_and_plain_give_the_same_vectors)
{
    size_t len;
    uint64_t words;
    char *text = planted_text(3000, 13, &len, &words);
    cr_assert_not_null(text);
    char *plain = tu_write_file(NULL, "p.txt", text, len);
    char *gz = tu_write_gzip(NULL, "p.txt.gz", text, len);
    w2v_train_options o = small_options();
    w2v_model *a = train(plain, &o, 1);
    w2v_model *b = train(gz, &o, 1);
    cr_expect(same_vectors(a, b));
    w2v_model_free(a);
    w2v_model_free(b);
    free(plain);
    free(gz);
    free(text);
}

/* From the progress callback: notes whether the id cache's file is open. */
static void spot_cache(const w2v_progress *p, void *user)
{
    (void)p;
    int *open_seen = user;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    struct dirent *e;
    char link[300], target[4096];
    while ((e = readdir(d)) != NULL) {
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 0) {
            target[k] = '\0';
            if (strstr(target, "/w2v-ids-") != NULL)
                *open_seen = 1;
        }
    }
    closedir(d);
}

/*
 * Epochs after the first read the id cache instead of the text: with one
 * thread the vectors are the same, bit for bit, as reading the text every
 * epoch, for every kernel; and when $TMPDIR cannot take the cache, the run
 * reads the text and gets them too. The corpus spans several blocks.
 */
Test(trainer, id_cache_gives_the_vectors_of_the_text)
{
    char *path = tu_path(tu_scratch(), "big.txt");
    cr_assert_eq(planted_write(path, 60000, 17, NULL), 0);
    static const struct {
        int arch, hs, negative, kernel;
    } runs[] = {
        {W2V_ARCH_SKIPGRAM, 0, 5, W2V_KERNEL_BATCHED},
        {W2V_ARCH_SKIPGRAM, 1, 0, W2V_KERNEL_BATCHED},
        {W2V_ARCH_CBOW, 1, 3, W2V_KERNEL_BATCHED},
        {W2V_ARCH_SKIPGRAM, 0, 3, W2V_KERNEL_PLAIN},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        w2v_train_options o = small_options();
        o.dim = 8;
        o.epochs = 3;
        o.sample = 1e-3;
        o.arch = runs[r].arch;
        o.hs = runs[r].hs;
        o.negative = runs[r].negative;
        o.kernel = runs[r].kernel;
        o.cache = 0;
        w2v_model *text = train(path, &o, 1);
        o.cache = 1;
        int cache_seen = 0;
        o.progress = spot_cache;
        o.progress_user = &cache_seen;
        o.progress_interval = 0;
        w2v_model *cached = train(path, &o, 1);
        cr_expect(cache_seen, "run %zu: no id cache was open", r);
        cr_expect(same_vectors(text, cached), "run %zu: the cache changed "
                  "the vectors", r);
        if (r == 0) {
            cr_assert_eq(setenv("TMPDIR", "/nonexistent/w2v-test", 1), 0);
            cache_seen = 0;
            w2v_model *fallback = train(path, &o, 1);
            cr_expect(same_vectors(text, fallback), "without a cache");
            cr_expect(!cache_seen, "a cache outside $TMPDIR");
            w2v_model_free(fallback);
            unsetenv("TMPDIR");
        }
        w2v_model_free(text);
        w2v_model_free(cached);
    }
    free(path);
}

/* With two threads the cache is filled and read concurrently. */
Test(trainer, id_cache_with_two_threads_learns_planted_analogies)
{
    char *path = tu_path(tu_scratch(), "big.txt");
    cr_assert_eq(planted_write(path, 60000, 19, NULL), 0);
    w2v_train_options o = small_options();
    o.threads = 2;
    o.epochs = 3;
    w2v_model *m = train(path, &o, 1);
    expect_planted_analogies(m, "two threads, id cache");
    w2v_model_free(m);
    free(path);
}

/*
 * w2v_trainer_save writes straight from the trainer's matrix: the same
 * bytes, in every format, as copying it into a model and saving that.
 */
Test(trainer, save_writes_what_the_model_copy_writes)
{
    char *path = planted_corpus(300, 5);
    w2v_train_options o = small_options();
    o.epochs = 1;
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_trainer *t;
    w2v_model *m;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_vocab_build(c, NULL, &v, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    static const int formats[] = {W2V_FORMAT_BINARY, W2V_FORMAT_TEXT,
                                  W2V_FORMAT_NATIVE};
    for (size_t f = 0; f < 3; f++) {
        char *a = tu_path(tu_scratch(), "copy.model");
        char *b = tu_path(tu_scratch(), "direct.model");
        cr_assert_eq(w2v_model_save(m, a, formats[f], &err), W2V_OK, "%s",
                     err.message);
        cr_assert_eq(w2v_trainer_save(t, b, formats[f], &err), W2V_OK, "%s",
                     err.message);
        size_t la, lb;
        char *da = tu_read_file(a, &la), *db = tu_read_file(b, &lb);
        cr_assert_gt(la, 0);
        cr_assert_eq(la, lb, "format %d: %zu and %zu bytes", formats[f], la,
                     lb);
        cr_assert_eq(memcmp(da, db, la), 0, "format %d differs", formats[f]);
        free(da);
        free(db);
        free(a);
        free(b);
    }
    /* No matrix is an error, not a crash. */
    cr_assert_eq(w2v_model_save_matrix(v, NULL, 24, "x.bin",
                                       W2V_FORMAT_BINARY, &err),
                 W2V_ERR_ARG);
    cr_assert_eq(w2v_model_save_matrix(v, w2v_model_vector(m, 0), 0, "x.bin",
                                       W2V_FORMAT_BINARY, &err),
                 W2V_ERR_ARG);
    w2v_model_free(m);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(path);
}
