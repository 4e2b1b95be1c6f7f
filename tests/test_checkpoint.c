/*
 * test_checkpoint.c - checkpoints: a run stopped, saved and resumed gives
 * the same vectors byte for byte as one that never stopped (one thread);
 * the reader rejects damaged, truncated and lying files with the byte
 * offset; resuming refuses other settings or another corpus; a failed
 * write leaves the previous checkpoint intact.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "planted.h"
#include "testutil.h"
#include "trainstate.h"
#include "w2v/w2v.h"

TestSuite(checkpoint, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* Criterion does not run .fini for a skipped test: clean up first. */
#define skip_test(...)                                                      \
    do {                                                                    \
        tu_scratch_fini();                                                  \
        cr_skip_test(__VA_ARGS__);                                          \
    } while (0)

/* A planted corpus of about 2.5 MB: three blocks per epoch. */
static char *big_corpus(const char *name, uint64_t seed)
{
    char *path = tu_path(tu_scratch(), name);
    cr_assert_eq(planted_write(path, 60000, seed, NULL), 0);
    return path;
}

static w2v_vocab *vocab_of(const char *path)
{
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_vocab_options vo = w2v_vocab_options_default();
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_vocab_build(c, &vo, &v, &err), W2V_OK, "%s",
                 err.message);
    w2v_corpus_close(c);
    return v;
}

/* Saves a checkpoint at the n-th callback and stops the run there. */
typedef struct saver {
    const char *path;
    int calls, stop_at;
} saver;

static int save_and_stop(w2v_trainer *t, void *user)
{
    saver *s = user;
    if (++s->calls < s->stop_at)
        return 0;
    w2v_error err = {0};
    cr_assert_eq(w2v_trainer_checkpoint_save(t, s->path, &err), W2V_OK, "%s",
                 err.message);
    return 1;
}

/*
 * Saves a checkpoint and stops the run at the first callback that finds
 * the reader inside pass stop_at (a pass that reads the id cache when
 * stop_at >= 1), past its first block.
 */
static int save_inside_pass(w2v_trainer *t, void *user)
{
    saver *s = user;
    w2v_train_state st;
    w2v_trainer_state(t, &st);
    if (st.epoch != s->stop_at || st.offset == 0)
        return 0;
    s->calls++;
    w2v_error err = {0};
    cr_assert_eq(w2v_trainer_checkpoint_save(t, s->path, &err), W2V_OK, "%s",
                 err.message);
    return 1;
}

/* Runs t on path to the end and returns its input vectors (V x dim). */
static float *finish(w2v_trainer *t, const char *path, size_t *n)
{
    w2v_error err = {0};
    w2v_corpus *c;
    w2v_model *m;
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_trainer_model(t, &m, &err), W2V_OK, "%s", err.message);
    *n = w2v_model_size(m) * w2v_model_dim(m);
    float *v = malloc(*n * sizeof *v);
    cr_assert_not_null(v);
    memcpy(v, w2v_model_vector(m, 0), *n * sizeof *v);
    w2v_model_free(m);
    w2v_corpus_close(c);
    return v;
}

static w2v_train_options small_options(void)
{
    w2v_train_options o = w2v_train_options_default();
    o.dim = 16;
    o.window = 3;
    o.negative = 3;
    o.epochs = 2;
    o.threads = 1;
    o.seed = 11;
    return o;
}

/*
 * Stops a run at its stop_at-th checkpoint, resumes it from the file and
 * compares the final vectors with those of a run that never stopped.
 */
static void check_resume_identical_at(w2v_train_options o, int stop_at,
                                      w2v_checkpoint_fn when)
{
    char *corpus = big_corpus("c.txt", 5);
    char *ck = tu_path(tu_scratch(), "run.ckpt");
    w2v_vocab *v = vocab_of(corpus);
    w2v_error err = {0};
    w2v_trainer *t;

    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s",
                 err.message);
    size_t n_ref;
    float *ref = finish(t, corpus, &n_ref);
    w2v_trainer_free(t);

    saver s = {ck, 0, stop_at};
    w2v_train_options oc = o;
    oc.checkpoint = when;
    oc.checkpoint_user = &s;
    oc.checkpoint_interval = 0;
    cr_assert_eq(w2v_trainer_new(&oc, v, &t, &err), W2V_OK, "%s",
                 err.message);
    w2v_corpus *c;
    cr_assert_eq(w2v_corpus_open(corpus, &c, &err), W2V_OK, "%s",
                 err.message);
    int rc = w2v_trainer_run(t, c, &err);
    w2v_corpus_close(c);
    w2v_trainer_free(t);
    if (rc == W2V_OK)
        skip_test("the run ended before its checkpoint (machine too "
                     "fast for this corpus)");
    cr_assert_eq(rc, W2V_ERR_STOPPED, "%s", err.message);

    w2v_checkpoint *ckp;
    cr_assert_eq(w2v_checkpoint_load(ck, &ckp, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_info info;
    w2v_checkpoint_get_info(ckp, &info);
    cr_expect_lt(info.words_done, info.words_total, "stopped mid-run");
    if (when == save_inside_pass)
        cr_expect(info.epoch == stop_at && info.offset > 0,
                  "stopped inside pass %d", stop_at);
    cr_log_info("stopped in epoch %d at byte %llu, %llu of %llu words", info.epoch,
                (unsigned long long)info.offset,
                (unsigned long long)info.words_done,
                (unsigned long long)info.words_total);
    cr_assert_eq(w2v_trainer_resume(ckp, &o, &t, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(ckp);
    size_t n;
    float *got = finish(t, corpus, &n);
    w2v_trainer_free(t);
    cr_assert_eq(n, n_ref);
    cr_expect(memcmp(got, ref, n * sizeof *got) == 0,
              "resumed vectors differ from the uninterrupted run's");
    free(got);
    free(ref);
    w2v_vocab_free(v);
    free(ck);
    free(corpus);
}

static void check_resume_identical(w2v_train_options o, int stop_at)
{
    check_resume_identical_at(o, stop_at, save_and_stop);
}

Test(checkpoint, resume_is_byte_identical_skipgram)
{
    check_resume_identical(small_options(), 1);
}

Test(checkpoint, resume_is_byte_identical_later_stop)
{
    check_resume_identical(small_options(), 3);
}

/*
 * Stopped in the second of four passes, which reads the id cache: the
 * checkpoint's offset is the text behind the cached blocks handed out, the
 * resumed run reads the rest of that pass as text, fills a cache of its own
 * in the third and reads it in the fourth.
 */
Test(checkpoint, resume_is_byte_identical_inside_a_cached_pass)
{
    w2v_train_options o = small_options();
    o.epochs = 4;
    check_resume_identical_at(o, 1, save_inside_pass);
}

Test(checkpoint, resume_is_byte_identical_cbow_hs)
{
    w2v_train_options o = small_options();
    o.arch = W2V_ARCH_CBOW;
    o.hs = 1;
    check_resume_identical(o, 2);
}

Test(checkpoint, resume_is_byte_identical_plain_kernel_hs_only)
{
    w2v_train_options o = small_options();
    o.kernel = W2V_KERNEL_PLAIN;
    o.negative = 0;
    o.hs = 1;
    check_resume_identical(o, 1);
}

/* A checkpoint of a fresh trainer on a small corpus, for the reader. */
static char *small_checkpoint(const char *corpus, w2v_train_options o)
{
    w2v_error err = {0};
    char *ck = tu_path(tu_scratch(), "small.ckpt");
    w2v_vocab *v = vocab_of(corpus);
    w2v_trainer *t;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s",
                 err.message);
    w2v_trainer_stop(t);
    w2v_corpus *c;
    cr_assert_eq(w2v_corpus_open(corpus, &c, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_trainer_run(t, c, &err), W2V_ERR_STOPPED);
    cr_assert_eq(w2v_trainer_checkpoint_save(t, ck, &err), W2V_OK, "%s",
                 err.message);
    w2v_corpus_close(c);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    return ck;
}

static char *small_corpus(const char *name, uint64_t seed)
{
    char *path = tu_path(tu_scratch(), name);
    cr_assert_eq(planted_write(path, 300, seed, NULL), 0);
    return path;
}

static void expect_load_fails(const char *path, int code, const char *part)
{
    w2v_error err = {0};
    w2v_checkpoint *c = (w2v_checkpoint *)1;
    cr_expect_eq(w2v_checkpoint_load(path, &c, &err), code, "%s",
                 err.message);
    cr_expect_null(c);
    cr_expect(strstr(err.message, part) != NULL, "'%s' not in: %s", part,
              err.message);
}

Test(checkpoint, reader_rejects_damage_with_offsets)
{
    char *corpus = small_corpus("s.txt", 1);
    char *ck = small_checkpoint(corpus, small_options());
    size_t len;
    unsigned char *good = (unsigned char *)tu_read_file(ck, &len);
    w2v_error err = {0};
    w2v_checkpoint *c;
    cr_assert_eq(w2v_checkpoint_load(ck, &c, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(c);

    unsigned char *bad = malloc(len);
    cr_assert_not_null(bad);
    /* A flipped bit in the vectors: only the checksum can tell. */
    memcpy(bad, good, len);
    bad[len - 100] ^= 1;
    char *p = tu_write_file(NULL, "flip.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "checksum");
    free(p);
    /* Truncated anywhere: the size check, before any allocation. */
    size_t cuts[] = {0, 7, 100, 191, 192, 300, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        p = tu_write_file(NULL, "cut.ckpt", good, cuts[i]);
        expect_load_fails(p, W2V_ERR_FORMAT, "byte");
        free(p);
    }
    /* Bad magic, version, dimension, a lying vocabulary size. */
    memcpy(bad, good, len);
    bad[0] = 'X';
    p = tu_write_file(NULL, "magic.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "byte 0");
    free(p);
    memcpy(bad, good, len);
    bad[8] = 9;
    p = tu_write_file(NULL, "version.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "version 9");
    free(p);
    memcpy(bad, good, len);
    memset(bad + 56, 0, 8);
    p = tu_write_file(NULL, "dim.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "byte 56");
    free(p);
    memcpy(bad, good, len);
    bad[112 + 4] = 1;  /* 2^32 more words */
    p = tu_write_file(NULL, "vocab.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "byte 112");
    free(p);
    memcpy(bad, good, len);
    bad[113] ^= 1;  /* a few hundred words more or less: size mismatch */
    p = tu_write_file(NULL, "vocab2.ckpt", bad, len);
    expect_load_fails(p, W2V_ERR_FORMAT, "byte");
    free(p);
    expect_load_fails(tu_scratch(), W2V_ERR_IO, "directory");
    p = tu_path(tu_scratch(), "missing.ckpt");
    expect_load_fails(p, W2V_ERR_IO, "missing.ckpt");
    free(p);
    free(bad);
    free(good);
    free(ck);
    free(corpus);
}

Test(checkpoint, resume_refuses_other_settings)
{
    char *corpus = small_corpus("s.txt", 1);
    char *ck = small_checkpoint(corpus, small_options());
    w2v_error err = {0};
    w2v_checkpoint *c;
    cr_assert_eq(w2v_checkpoint_load(ck, &c, &err), W2V_OK, "%s",
                 err.message);
    w2v_trainer *t = NULL;
    w2v_train_options o = small_options();
    o.dim = 17;
    cr_expect_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "size 17") != NULL, "%s", err.message);
    cr_expect_null(t);
    o = small_options();
    o.seed = 12;
    cr_expect_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "seed") != NULL, "%s", err.message);
    o = small_options();
    o.threads = 2;
    cr_expect_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "threads") != NULL, "%s", err.message);
    o = small_options();
    o.cbow_step = W2V_CBOW_STEP_GRADIENT;
    cr_expect_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "cbow-step") != NULL, "%s", err.message);
    w2v_checkpoint_free(c);
    free(ck);
    free(corpus);
}

Test(checkpoint, resume_refuses_another_corpus)
{
    char *corpus = small_corpus("s.txt", 1);
    char *other = small_corpus("o.txt", 2);
    char *ck = small_checkpoint(corpus, small_options());
    w2v_error err = {0};
    w2v_checkpoint *c;
    cr_assert_eq(w2v_checkpoint_load(ck, &c, &err), W2V_OK, "%s",
                 err.message);
    w2v_train_options o = small_options();
    w2v_trainer *t;
    cr_assert_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_OK, "%s",
                 err.message);
    w2v_corpus *cp;
    cr_assert_eq(w2v_corpus_open(other, &cp, &err), W2V_OK, "%s",
                 err.message);
    cr_expect_eq(w2v_trainer_run(t, cp, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "not the corpus") != NULL, "%s",
              err.message);
    w2v_corpus_close(cp);
    w2v_trainer_free(t);
    w2v_checkpoint_free(c);
    free(ck);
    free(other);
    free(corpus);
}

/*
 * A file size limit (as a full disk would) in a child: the save fails with
 * an I/O error and the previous checkpoint is still there and loadable.
 */
Test(checkpoint, write_failure_keeps_previous_file)
{
    char *corpus = small_corpus("s.txt", 1);
    char *ck = small_checkpoint(corpus, small_options());
    size_t len;
    char *before = tu_read_file(ck, &len);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {1000, 1000};
        setrlimit(RLIMIT_FSIZE, &rl);
        w2v_error err = {0};
        w2v_vocab *v = vocab_of(corpus);
        w2v_train_options o = small_options();
        o.seed = 99;
        w2v_trainer *t;
        if (w2v_trainer_new(&o, v, &t, &err) != W2V_OK)
            _exit(3);
        int rc = w2v_trainer_checkpoint_save(t, ck, &err);
        _exit(rc == W2V_ERR_IO && strstr(err.message, "write failed") ? 0
                                                                     : 4);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the save must fail with an I/O error (status %d)", status);
    size_t len2;
    char *after = tu_read_file(ck, &len2);
    cr_expect_eq(len, len2);
    cr_expect(memcmp(before, after, len) == 0, "the old checkpoint changed");
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp."), 0,
                 "a temporary file was left behind");
    w2v_error err = {0};
    w2v_checkpoint *c;
    cr_expect_eq(w2v_checkpoint_load(ck, &c, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(c);
    free(before);
    free(after);
    free(ck);
    free(corpus);
}

/* Counts checkpoints and saves each; never stops the run. */
static int save_every_time(w2v_trainer *t, void *user)
{
    saver *s = user;
    s->calls++;
    w2v_error err = {0};
    cr_assert_eq(w2v_trainer_checkpoint_save(t, s->path, &err), W2V_OK, "%s",
                 err.message);
    return 0;
}

/*
 * Two threads, paused for a checkpoint every 20 ms: the run completes,
 * and a run resumed from the last checkpoint taken mid-run completes too
 * (the path ThreadSanitizer watches in make test-tsan).
 */
Test(checkpoint, two_threads_pause_save_and_resume)
{
    char *corpus = big_corpus("c.txt", 6);
    char *ck = tu_path(tu_scratch(), "mt.ckpt");
    w2v_vocab *v = vocab_of(corpus);
    w2v_error err = {0};
    w2v_trainer *t;
    saver s = {ck, 0, 0};
    w2v_train_options o = small_options();
    o.threads = 2;
    o.checkpoint = save_every_time;
    o.checkpoint_user = &s;
    o.checkpoint_interval = 0;
    cr_assert_eq(w2v_trainer_new(&o, v, &t, &err), W2V_OK, "%s",
                 err.message);
    size_t n;
    float *a = finish(t, corpus, &n);
    w2v_trainer_free(t);
    free(a);
    if (s.calls == 0)
        skip_test("the run ended before its first checkpoint");
    w2v_checkpoint *c;
    cr_assert_eq(w2v_checkpoint_load(ck, &c, &err), W2V_OK, "%s",
                 err.message);
    o.checkpoint = NULL;
    cr_assert_eq(w2v_trainer_resume(c, &o, &t, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(c);
    float *b = finish(t, corpus, &n);
    for (size_t i = 0; i < n; i++)
        cr_assert(isfinite(b[i]));
    free(b);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    free(ck);
    free(corpus);
}
