/*
 * test_train.c - the trainer through the public API: option checks,
 * repeatability, end-to-end quality on a corpus with planted analogies,
 * every kind of input, errors in the middle of a run, stopping and progress
 * reports.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planted.h"
#include "testutil.h"
#include "w2v/corpus.h"
#include "w2v/knn.h"
#include "w2v/model.h"
#include "w2v/train.h"
#include "w2v/vocab.h"

TestSuite(train, .init = tu_scratch_init, .fini = tu_scratch_fini,
          .timeout = 120);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* Small, quick settings; tests change what they are about. */
static w2v_train_options small_options(void)
{
    w2v_train_options o = w2v_train_options_default();
    o.dim = 16;
    o.epochs = 2;
    o.threads = 1;
    o.seed = 7;
    return o;
}

/* Writes the planted corpus of n sentences to the scratch directory. */
static char *planted_file(const char *name, size_t n_sentences, uint64_t *words)
{
    char *path = tu_path(tu_scratch(), name);
    cr_assert_eq(planted_write(path, n_sentences, 3, words), 0,
                 "cannot write %s", path);
    return path;
}

static w2v_vocab *build_vocab(w2v_corpus *c, uint64_t min_count)
{
    w2v_error err;
    w2v_error_clear(&err);
    w2v_vocab_options vo = w2v_vocab_options_default();
    vo.min_count = min_count;
    w2v_vocab *v = NULL;
    int rc = w2v_vocab_build(c, &vo, &v, &err);
    cr_assert_eq(rc, W2V_OK, "vocabulary: %s", err.message);
    return v;
}

/*
 * Trains on corpus path ("-" = standard input) with a vocabulary built
 * from it (min-count 1) and returns the model; the test fails on errors.
 */
static w2v_model *train_file(const char *path, const w2v_train_options *o)
{
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = build_vocab(c, 1);
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(o, v, &t, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    return m;
}

/* Same words in the same order, and bit-identical vectors? */
static int same_model(const w2v_model *a, const w2v_model *b)
{
    if (w2v_model_size(a) != w2v_model_size(b) ||
        w2v_model_dim(a) != w2v_model_dim(b))
        return 0;
    const w2v_vocab *va = w2v_model_vocab(a), *vb = w2v_model_vocab(b);
    size_t dim = w2v_model_dim(a);
    for (size_t i = 0; i < w2v_model_size(a); i++) {
        if (strcmp(w2v_vocab_word(va, i), w2v_vocab_word(vb, i)) != 0 ||
            memcmp(w2v_model_vector_const(a, i), w2v_model_vector_const(b, i),
                   dim * sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

static size_t word_id(const w2v_model *m, const char *w)
{
    int64_t id = w2v_vocab_find(w2v_model_vocab(m), w, strlen(w));
    cr_assert_geq(id, 0, "\"%s\" is not in the vocabulary", w);
    return (size_t)id;
}

/* ---------------------------------------------------------------------- */
/* (a) Options                                                             */

Test(train, default_options_are_documented_values_and_valid)
{
    w2v_train_options o = w2v_train_options_default();
    cr_assert_eq(o.arch, W2V_ARCH_SKIPGRAM);
    cr_assert_eq(o.dim, 100);
    cr_assert_eq(o.window, 5);
    cr_assert_float_eq(o.sample, 1e-3, 1e-15);
    cr_assert_eq(o.negative, 5);
    cr_assert_eq(o.hs, 0);
    cr_assert_eq(o.epochs, 5);
    cr_assert_eq(o.seed, 1);
    cr_assert_null(o.progress);
    cr_assert_float_eq(o.progress_interval, 0.5, 1e-15);
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_train_options_check(&o, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(err.code, W2V_OK, "success leaves err untouched");
}

Test(train, default_alpha_depends_on_the_architecture)
{
    /*
     * train.h: alpha <= 0 means 0.05 for skip-gram (0.025 with hierarchical
     * softmax), 0.05 for CBOW with or without it.
     */
    w2v_train_options o = w2v_train_options_default();
    o.alpha = 0;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-15);
    o.alpha = -1;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-15);
    o.hs = 1;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.025, 1e-15);
    o.hs = 0;
    o.arch = W2V_ARCH_CBOW;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-15);
    o.hs = 1;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-15,
                       "CBOW keeps its rate with hierarchical softmax");
    o.hs = 0;
    o.alpha = 0;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.05, 1e-15);
    o.alpha = 0.3;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.3, 1e-15,
                       "an explicit rate wins for CBOW");
    o.arch = W2V_ARCH_SKIPGRAM;
    cr_assert_float_eq(w2v_train_options_alpha(&o), 0.3, 1e-15,
                       "an explicit rate wins for skip-gram");
}

/* The settings a bad_option can change. */
enum setting {
    S_DIM,
    S_WINDOW,
    S_NEGATIVE,
    S_NOTHING,
    S_HS,
    S_EPOCHS,
    S_SAMPLE,
    S_ARCH,
    S_ALPHA,
    S_THREADS,
    S_INTERVAL,
    S_CBOW_STEP
};

/* One bad setting and a word its message must contain. */
typedef struct bad_option {
    const char *name;
    enum setting what;
    double value;
    const char *mention;
} bad_option;

static const bad_option bad_options[] = {
    {"size 0", S_DIM, 0, "size"},
    {"size 100001", S_DIM, 100001, "size"},
    {"window 0", S_WINDOW, 0, "window"},
    {"window -3", S_WINDOW, -3, "window"},
    {"negative -1", S_NEGATIVE, -1, "negative"},
    {"negative 0 and hs 0", S_NOTHING, 0, "negative"},
    {"hs 2", S_HS, 2, "hs"},
    {"epochs 0", S_EPOCHS, 0, "iter"},
    {"epochs -1", S_EPOCHS, -1, "iter"},
    {"sample -0.001", S_SAMPLE, -0.001, "sample"},
    {"sample 1", S_SAMPLE, 1, "sample"},
    {"sample NaN", S_SAMPLE, NAN, "sample"},
    {"arch 2", S_ARCH, 2, "arch"},
    {"arch -1", S_ARCH, -1, "arch"},
    {"alpha NaN", S_ALPHA, NAN, "alpha"},
    {"alpha 11", S_ALPHA, 11, "alpha"},
    {"threads 5000", S_THREADS, 5000, "threads"},
    {"progress interval -1", S_INTERVAL, -1, "interval"},
    {"cbow step 2", S_CBOW_STEP, 2, "cbow step"},
    {"cbow step -1", S_CBOW_STEP, -1, "cbow step"},
};

static void apply_bad_option(w2v_train_options *o, const bad_option *b)
{
    switch (b->what) {
    case S_DIM:
        o->dim = (size_t)b->value;
        break;
    case S_WINDOW:
        o->window = (int)b->value;
        break;
    case S_NEGATIVE:
        o->negative = (int)b->value;
        break;
    case S_NOTHING:
        o->negative = 0;
        o->hs = 0;
        break;
    case S_HS:
        o->hs = (int)b->value;
        break;
    case S_EPOCHS:
        o->epochs = (int)b->value;
        break;
    case S_SAMPLE:
        o->sample = b->value;
        break;
    case S_ARCH:
        o->arch = (int)b->value;
        break;
    case S_ALPHA:
        o->alpha = b->value;
        break;
    case S_THREADS:
        o->threads = (int)b->value;
        break;
    case S_INTERVAL:
        o->progress_interval = b->value;
        break;
    case S_CBOW_STEP:
        o->cbow_step = (int)b->value;
        break;
    }
}

Test(train, options_check_rejects_each_bad_value)
{
    w2v_vocab *v = NULL;
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, "word", 4, 3, NULL, &err), W2V_OK);
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        const bad_option *b = &bad_options[i];
        w2v_train_options o = w2v_train_options_default();
        apply_bad_option(&o, b);
        w2v_error_clear(&err);
        cr_assert_eq(w2v_train_options_check(&o, &err), W2V_ERR_ARG,
                     "%s was accepted", b->name);
        cr_assert_eq(err.code, W2V_ERR_ARG, "%s", b->name);
        cr_assert_not_null(strstr(err.message, b->mention),
                           "%s: message \"%s\" does not name %s", b->name,
                           err.message, b->mention);
        /* The trainer refuses it too, leaving no trainer behind. */
        w2v_trainer *t = (w2v_trainer *)&err; /* must be reset to NULL */
        cr_assert_eq(w2v_trainer_new(&o, v, &t, NULL), W2V_ERR_ARG,
                     "%s: w2v_trainer_new", b->name);
        cr_assert_null(t, "%s: *out must be NULL on failure", b->name);
    }
    w2v_vocab_free(v);
}

Test(train, options_check_accepts_edge_values)
{
    w2v_error err;
    w2v_error_clear(&err);
    w2v_train_options o = w2v_train_options_default();
    o.negative = 0;
    o.hs = 1;     /* hierarchical softmax alone */
    o.sample = 0; /* sub-sampling off */
    o.dim = 1;
    o.window = 1;
    o.epochs = 1;
    o.threads = 0; /* all cores */
    o.progress_interval = 0;
    cr_assert_eq(w2v_train_options_check(&o, &err), W2V_OK, "%s", err.message);
    o.arch = W2V_ARCH_CBOW;
    o.sample = 0.999;
    o.dim = 100000;
    cr_assert_eq(w2v_train_options_check(&o, &err), W2V_OK, "%s", err.message);
}

Test(train, trainer_rejects_an_empty_vocabulary)
{
    w2v_vocab *v = NULL;
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK);
    w2v_train_options o = small_options();
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_ERR_EMPTY);
    cr_assert_null(t);
    cr_assert_neq(err.message[0], '\0');
    w2v_trainer_free(NULL); /* a harmless no-op */
    w2v_vocab_free(v);
}

Test(train, initial_vectors_are_small_and_uniform)
{
    w2v_vocab *v = NULL;
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK);
    char w[16];
    for (int i = 0; i < 200; i++) {
        snprintf(w, sizeof w, "w%d", i);
        cr_assert_eq(
            w2v_vocab_add(v, w, strlen(w), (uint64_t)(300 - i), NULL, &err),
            W2V_OK);
    }
    cr_assert_eq(w2v_vocab_finalize(v, 1, 0, &err), W2V_OK);
    w2v_train_options o = small_options();
    o.dim = 50;
    w2v_trainer *t = NULL;
    w2v_model *m = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    /* Uniform in [-0.5/dim, 0.5/dim): bounded, mean ~0, variance 1/12dim^2. */
    double lim = 0.5 / 50, sum = 0, sq = 0;
    size_t n = 0;
    for (size_t i = 0; i < w2v_model_size(m); i++) {
        const float *x = w2v_model_vector_const(m, i);
        for (size_t j = 0; j < 50; j++, n++) {
            cr_assert(x[j] >= -lim && x[j] < lim, "[%zu][%zu] = %g", i, j,
                      (double)x[j]);
            sum += x[j];
            sq += (double)x[j] * x[j];
        }
    }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    double want = lim * lim * 4 / 12;
    cr_assert_lt(fabs(mean), 0.05 * lim, "mean %g", mean);
    cr_assert(fabs(var - want) < 0.05 * want, "variance %g, uniform %g", var,
              want);
    w2v_model_free(m);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* (b) Determinism                                                         */

Test(train, one_thread_and_a_seed_repeat_byte_for_byte)
{
    char *corpus = planted_file("corpus.txt", 4000, NULL);
    w2v_train_options o = small_options();
    char *paths[3];
    const uint64_t seeds[3] = {11, 11, 12};
    for (int r = 0; r < 3; r++) {
        o.seed = seeds[r];
        w2v_model *m = train_file(corpus, &o);
        char name[32];
        snprintf(name, sizeof name, "run%d.bin", r);
        paths[r] = tu_path(tu_scratch(), name);
        w2v_error err;
        w2v_error_clear(&err);
        cr_assert_eq(w2v_model_save(m, paths[r], W2V_FORMAT_BINARY, &err),
                     W2V_OK, "%s", err.message);
        w2v_model_free(m);
    }
    size_t n0, n1, n2;
    char *b0 = tu_read_file(paths[0], &n0);
    char *b1 = tu_read_file(paths[1], &n1);
    char *b2 = tu_read_file(paths[2], &n2);
    cr_assert_eq(n0, n1);
    cr_assert_eq(memcmp(b0, b1, n0), 0, "same seed, different vectors");
    cr_assert_eq(n0, n2, "same vocabulary and size whatever the seed");
    cr_assert_neq(memcmp(b0, b2, n0), 0, "another seed, same vectors");
    for (int r = 0; r < 3; r++)
        free(paths[r]);
    free(b0);
    free(b1);
    free(b2);
    free(corpus);
}

Test(train, cbow_and_hs_runs_repeat_too)
{
    char *corpus = planted_file("corpus.txt", 3000, NULL);
    w2v_train_options o = small_options();
    o.arch = W2V_ARCH_CBOW;
    o.hs = 1;
    w2v_model *a = train_file(corpus, &o);
    w2v_model *b = train_file(corpus, &o);
    cr_assert(same_model(a, b), "CBOW + HS + NS is not repeatable");
    w2v_model_free(a);
    w2v_model_free(b);
    free(corpus);
}

/* ---------------------------------------------------------------------- */
/* (c) Quality on planted analogies                                        */

/*
 * Trains on ~255k words of the planted corpus with two threads and checks
 * that every planted analogy has the planted answer first.
 */
static void check_analogies_step(int arch, int negative, int hs,
                                 int cbow_step)
{
    char *corpus = planted_file("planted.txt", 30000, NULL);
    w2v_train_options o = w2v_train_options_default();
    o.arch = arch;
    o.cbow_step = cbow_step;
    o.negative = negative;
    o.hs = hs;
    o.dim = 40;
    o.epochs = 3;
    o.threads = 2;
    w2v_model *m = train_file(corpus, &o);
    w2v_knn *k = NULL;
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_knn_new(m, 0, &k, &err), W2V_OK, "%s", err.message);
    const w2v_vocab *v = w2v_model_vocab(m);
    for (size_t i = 0; i < planted_n_analogies; i++) {
        const planted_analogy *p = &planted_analogies[i];
        w2v_neighbor nb[3];
        size_t n = 0;
        cr_assert_eq(w2v_knn_analogy(k, word_id(m, p->a), word_id(m, p->b),
                                     word_id(m, p->c), 3, nb, &n, &err),
                     W2V_OK, "%s", err.message);
        cr_assert_eq(n, 3);
        cr_assert_str_eq(w2v_vocab_word(v, nb[0].id), p->expect,
                         "%s - %s + %s: got %s (%.3f), then %s "
                         "(%.3f); expected %s",
                         p->a, p->b, p->c, w2v_vocab_word(v, nb[0].id),
                         (double)nb[0].score, w2v_vocab_word(v, nb[1].id),
                         (double)nb[1].score, p->expect);
    }
    w2v_knn_free(k);
    w2v_model_free(m);
    free(corpus);
}

static void check_analogies(int arch, int negative, int hs)
{
    check_analogies_step(arch, negative, hs, W2V_CBOW_STEP_MEAN);
}

Test(train, skipgram_learns_planted_analogies)
{
    check_analogies(W2V_ARCH_SKIPGRAM, 5, 0);
}

Test(train, cbow_learns_planted_analogies)
{
    check_analogies(W2V_ARCH_CBOW, 5, 0);
}

Test(train, cbow_gradient_step_learns_planted_analogies_too)
{
    check_analogies_step(W2V_ARCH_CBOW, 5, 0, W2V_CBOW_STEP_GRADIENT);
}

Test(train, hierarchical_softmax_learns_planted_analogies)
{
    check_analogies(W2V_ARCH_SKIPGRAM, 0, 1);
}

/* ---------------------------------------------------------------------- */
/* (d) Every kind of input gives the same run                              */

/*
 * ~1.7 MB of text, more than one block of the reader, from a plain file, a
 * gzip file, standard input redirected from a file and a pipe: with one
 * thread and one seed the vectors must be identical.
 */
Test(train, plain_gzip_and_stdin_corpora_train_identically)
{
    size_t len;
    uint64_t words;
    char *text = planted_text(40000, 3, &len, &words);
    cr_assert_not_null(text);
    cr_assert_gt(len, (size_t)(1 << 20), "the text spans several blocks");
    char *plain = tu_write_file(NULL, "corpus.txt", text, len);
    char *gz = tu_write_gzip(NULL, "corpus.txt.gz", text, len);
    w2v_train_options o = small_options();
    o.dim = 8;
    w2v_model *ref = train_file(plain, &o);
    cr_assert_eq(w2v_vocab_total(w2v_model_vocab(ref)), words,
                 "every word counted");
    w2v_model *from_gz = train_file(gz, &o);
    cr_assert(same_model(ref, from_gz), "gzip corpus trains differently");
    w2v_model_free(from_gz);
    free(gz);
    free(plain);
    free(text);
    w2v_model_free(ref);
}

Test(train, stdin_file_trains_like_the_file)
{
    char *corpus = planted_file("corpus.txt", 40000, NULL);
    w2v_train_options o = small_options();
    o.dim = 8;
    w2v_model *ref = train_file(corpus, &o);
    tu_redirect_stdin(corpus);
    w2v_model *m = train_file("-", &o);
    cr_assert(same_model(ref, m), "standard input trains differently");
    w2v_model_free(m);
    w2v_model_free(ref);
    free(corpus);
}

Test(train, stdin_pipe_trains_like_the_file)
{
    size_t len;
    char *text = planted_text(40000, 3, &len, NULL);
    cr_assert_not_null(text);
    char *corpus = tu_write_file(NULL, "corpus.txt", text, len);
    w2v_train_options o = small_options();
    o.dim = 8;
    w2v_model *ref = train_file(corpus, &o);
    tu_stdin_from_pipe(text, len);
    w2v_model *m = train_file("-", &o);
    cr_assert(same_model(ref, m), "a pipe trains differently");
    w2v_model_free(m);
    w2v_model_free(ref);
    free(corpus);
    free(text);
}

/* ---------------------------------------------------------------------- */
/* (e) Bad corpora                                                         */

Test(train, nul_byte_fails_vocabulary_building_with_its_offset)
{
    size_t len;
    char *text = planted_text(2000, 3, &len, NULL);
    cr_assert_not_null(text);
    size_t at = len / 2 + 17;
    text[at] = '\0';
    char *path = tu_write_file(NULL, "nul.txt", text, len);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = (w2v_vocab *)&err; /* must be reset to NULL */
    w2v_vocab_options vo = w2v_vocab_options_default();
    cr_assert_eq(w2v_vocab_build(c, &vo, &v, &err), W2V_ERR_FORMAT);
    cr_assert_null(v);
    char want[64];
    snprintf(want, sizeof want, "byte %zu", at);
    cr_assert_not_null(strstr(err.message, want), "\"%s\" lacks \"%s\"",
                       err.message, want);
    cr_assert_not_null(strstr(err.message, path), "\"%s\" lacks the path",
                       err.message);
    w2v_corpus_close(c);
    free(path);
    free(text);
}

/*
 * Runs a trainer whose vocabulary comes from a good corpus on a bad one:
 * the error must stop every worker and come back whole.
 */
static void check_bad_run(const char *bad_path, const char *want)
{
    char *good = planted_file("good.txt", 3000, NULL);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(good, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = build_vocab(c, 1);
    w2v_corpus_close(c);
    cr_assert_eq(w2v_corpus_open(bad_path, &c, &err), W2V_OK, "%s",
                 err.message);
    w2v_train_options o = small_options();
    o.threads = 2;
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s", err.message);
    int rc = w2v_trainer_run(t, c, &err);
    cr_assert_eq(rc, W2V_ERR_FORMAT, "run returned %d: %s", rc, err.message);
    cr_assert_eq(err.code, W2V_ERR_FORMAT);
    cr_assert_not_null(strstr(err.message, want), "\"%s\" lacks \"%s\"",
                       err.message, want);
    cr_assert_not_null(strstr(err.message, bad_path), "\"%s\" lacks the path",
                       err.message);
    w2v_trainer_free(t);
    w2v_corpus_close(c);
    w2v_vocab_free(v);
    free(good);
}

Test(train, nul_byte_in_the_middle_stops_the_run_with_its_offset)
{
    size_t len;
    char *text = planted_text(60000, 3, &len, NULL);
    cr_assert_not_null(text);
    size_t at = len - 1000; /* after the first blocks were trained */
    cr_assert_gt(at, (size_t)(2 << 20));
    text[at] = '\0';
    char *bad = tu_write_file(NULL, "bad.txt", text, len);
    char want[64];
    snprintf(want, sizeof want, "byte %zu", at);
    check_bad_run(bad, want);
    free(bad);
    free(text);
}

Test(train, truncated_gzip_stops_the_run)
{
    size_t len, gz_len;
    char *text = planted_text(60000, 3, &len, NULL);
    cr_assert_not_null(text);
    unsigned char *gz = tu_gzip_bytes(text, len, &gz_len);
    char *bad = tu_write_file(NULL, "bad.txt.gz", gz, gz_len * 3 / 4);
    check_bad_run(bad, "gzip");
    free(bad);
    free(gz);
    free(text);
}

/* ---------------------------------------------------------------------- */
/* (f), (g) Stopping and progress                                          */

typedef struct progress_log {
    w2v_progress *r; /* (n) reports in order */
    size_t n, cap;
    w2v_trainer *trainer; /* stop it at the first report when set */
} progress_log;

static void log_progress(const w2v_progress *p, void *user)
{
    progress_log *log = user;
    if (log->n == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 64;
        log->r = realloc(log->r, log->cap * sizeof *log->r);
        cr_assert_not_null(log->r);
    }
    log->r[log->n++] = *p;
    if (log->trainer != NULL)
        w2v_trainer_stop(log->trainer);
}

Test(train, stop_from_the_progress_callback_ends_the_run)
{
    char *corpus = planted_file("corpus.txt", 2000, NULL);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(corpus, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = build_vocab(c, 1);
    progress_log log = {NULL, 0, 0, NULL};
    w2v_train_options o = small_options();
    o.threads = 2;
    o.epochs = 100000; /* hours of work unless stopped */
    o.progress = log_progress;
    o.progress_user = &log;
    o.progress_interval = 0;
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s", err.message);
    log.trainer = t;
    int rc = w2v_trainer_run(t, c, &err);
    cr_assert_eq(rc, W2V_ERR_STOPPED, "run returned %d: %s", rc, err.message);
    cr_assert_eq(err.code, W2V_ERR_STOPPED);
    cr_assert_neq(err.message[0], '\0');
    cr_assert_geq(log.n, 1, "the callback ran");
    for (size_t i = 0; i < log.n; i++)
        cr_assert_eq(log.r[i].done, 0, "a stopped run has no final report");
    cr_assert_lt(log.r[log.n - 1].words_done, log.r[0].words_total);
    /* The vectors learned so far are still there. */
    w2v_model *m = NULL;
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_model_size(m), w2v_vocab_size(v));
    w2v_model_free(m);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(log.r);
    free(corpus);
}

Test(train, progress_reports_are_sane_and_end_with_done)
{
    uint64_t words;
    char *corpus = planted_file("corpus.txt", 20000, &words);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(corpus, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = build_vocab(c, 1);
    cr_assert_eq(w2v_vocab_total(v), words);
    progress_log log = {NULL, 0, 0, NULL};
    w2v_train_options o = small_options();
    o.threads = 2;
    o.epochs = 3;
    o.progress = log_progress;
    o.progress_user = &log;
    o.progress_interval = 0;
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);

    cr_assert_geq(log.n, 1);
    double alpha0 = w2v_train_options_alpha(&o);
    uint64_t last_done = 0;
    for (size_t i = 0; i < log.n; i++) {
        const w2v_progress *p = &log.r[i];
        cr_assert(p->fraction >= 0 && p->fraction <= 1, "fraction %g",
                  p->fraction);
        cr_assert_eq(p->epochs, 3);
        cr_assert(p->epoch >= 1 && p->epoch <= 3, "epoch %d", p->epoch);
        cr_assert_eq(p->words_total, 3 * words);
        cr_assert_leq(p->words_done, p->words_total);
        cr_assert_geq(p->words_done, last_done, "words_done went back");
        last_done = p->words_done;
        cr_assert_eq(p->threads, 2);
        cr_assert(p->alpha > 0 && p->alpha <= alpha0 * (1 + 1e-6), "alpha %g",
                  p->alpha);
        cr_assert(p->elapsed >= 0 && p->eta >= 0 && p->words_per_sec >= 0);
        cr_assert(isnan(p->loss) || (isfinite(p->loss) && p->loss > 0),
                  "loss %g", p->loss);
        cr_assert_eq(p->done, i + 1 == log.n, "done only on the last report");
    }
    const w2v_progress *last = &log.r[log.n - 1];
    cr_assert_eq(last->done, 1);
    cr_assert_float_eq(last->fraction, 1.0, 1e-12);
    cr_assert_eq(last->words_done, 3 * words, "done %llu of %llu",
                 (unsigned long long)last->words_done,
                 (unsigned long long)(3 * words));
    cr_assert_eq(last->epoch, 3);
    cr_assert_float_eq(last->eta, 0.0, 1e-12);
    cr_assert(isfinite(last->loss) && last->loss > 0 && last->loss < 50,
              "mean loss of the run %g", last->loss);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(log.r);
    free(corpus);
}

Test(train, words_outside_the_vocabulary_are_skipped_not_counted)
{
    uint64_t words;
    char *corpus = planted_file("corpus.txt", 5000, &words);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(corpus, &c, &err), W2V_OK, "%s", err.message);
    /* Only the eight person words: one in every sentence. */
    static const char *const persons[] = {"king",   "queen",    "man", "woman",
                                          "prince", "princess", "boy", "girl"};
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK);
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(
            w2v_vocab_add(v, persons[i], strlen(persons[i]), 10000, NULL, &err),
            W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(v, 1, 0, &err), W2V_OK);
    progress_log log = {NULL, 0, 0, NULL};
    w2v_train_options o = small_options();
    o.progress = log_progress;
    o.progress_user = &log;
    w2v_trainer *t = NULL;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    cr_assert_geq(log.n, 1);
    /*
     * 5000 sentences, one person each, 2 epochs. (The vocabulary's counts,
     * 8 x 10000, plan more words than that: they are not clamped away.)
     */
    cr_assert_eq(log.r[log.n - 1].words_total, 2 * 80000);
    cr_assert_eq(log.r[log.n - 1].words_done, 2 * 5000, "%llu words done",
                 (unsigned long long)log.r[log.n - 1].words_done);
    cr_assert_lt(log.r[log.n - 1].words_done, 2 * words);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    free(log.r);
    free(corpus);
}
