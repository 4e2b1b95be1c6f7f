/*
 * tsan_train.c - a driver for ThreadSanitizer (make test-tsan): trains with
 * several threads on a generated corpus while the run thread pauses the
 * workers for checkpoints, stops a run from another thread, resumes it and
 * finishes. Criterion's process arena does not coexist with TSan, hence a
 * plain program; it exits non-zero on any failure, TSan with 66 on a race
 * not suppressed by tests/tsan.supp.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "planted.h"
#include "w2v/w2v.h"

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "tsan_train: %s failed: %s\n", what,             \
                    err.message);                                           \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

typedef struct ck_state {
    const char *path;
    int calls;
} ck_state;

static int save(w2v_trainer *t, void *user)
{
    ck_state *s = user;
    w2v_error err;
    w2v_error_clear(&err);
    s->calls++;
    CHECK(w2v_trainer_checkpoint_save(t, s->path, &err) == W2V_OK, "save");
    return 0;
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 600 * 1000 * 1000};
    nanosleep(&ts, NULL);
    w2v_trainer_stop(arg);
    return NULL;
}

static void progress(const w2v_progress *p, void *user)
{
    (void)p;
    (void)user;
}

static int run_kind(const char *corpus, const char *ck, int arch, int hs,
                    int kernel)
{
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c;
    w2v_vocab *v;
    w2v_vocab_options vo = w2v_vocab_options_default();
    CHECK(w2v_corpus_open(corpus, &c, &err) == W2V_OK, "open");
    CHECK(w2v_vocab_build(c, &vo, &v, &err) == W2V_OK, "vocab");
    w2v_train_options o = w2v_train_options_default();
    o.arch = arch;
    o.hs = hs;
    o.kernel = kernel;
    o.dim = 16;
    o.epochs = 3;  /* the first pass fills the id cache, two read it */
    o.threads = 3;
    o.progress = progress;
    o.progress_interval = 0;
    ck_state s = {ck, 0};
    o.checkpoint = save;
    o.checkpoint_user = &s;
    o.checkpoint_interval = 0;
    w2v_trainer *t;
    CHECK(w2v_trainer_new(&o, v, &t, &err) == W2V_OK, "new");
    pthread_t stopper;
    pthread_create(&stopper, NULL, stop_later, t);
    int rc = w2v_trainer_run(t, c, &err);
    pthread_join(stopper, NULL);
    CHECK(rc == W2V_OK || rc == W2V_ERR_STOPPED, "run");
    CHECK(w2v_trainer_checkpoint_save(t, ck, &err) == W2V_OK, "save");
    w2v_trainer_free(t);
    w2v_checkpoint *k;
    CHECK(w2v_checkpoint_load(ck, &k, &err) == W2V_OK, "load");
    CHECK(w2v_trainer_resume(k, &o, &t, &err) == W2V_OK, "resume");
    w2v_checkpoint_free(k);
    CHECK(w2v_trainer_run(t, c, &err) == W2V_OK, "resumed run");
    w2v_model *m;
    CHECK(w2v_trainer_model(t, &m, &err) == W2V_OK, "model");
    w2v_model_free(m);
    w2v_trainer_free(t);
    w2v_vocab_free(v);
    w2v_corpus_close(c);
    printf("tsan_train: arch %d hs %d kernel %d: %d checkpoints, %s\n", arch,
           hs, kernel, s.calls, rc == W2V_OK ? "ran to the end" : "stopped");
    return 0;
}

int main(void)
{
    const char *dir = getenv("TMPDIR");
    char corpus[4096], ck[4096];
    snprintf(corpus, sizeof corpus, "%s/w2v-tsan-%ld.txt",
             dir && dir[0] ? dir : "/tmp", (long)getpid());
    snprintf(ck, sizeof ck, "%s.ckpt", corpus);
    if (planted_write(corpus, 40000, 7, NULL) != 0) {
        fprintf(stderr, "tsan_train: cannot write %s\n", corpus);
        return 1;
    }
    run_kind(corpus, ck, W2V_ARCH_SKIPGRAM, 0, W2V_KERNEL_BATCHED);
    run_kind(corpus, ck, W2V_ARCH_SKIPGRAM, 1, W2V_KERNEL_PLAIN);
    run_kind(corpus, ck, W2V_ARCH_CBOW, 1, W2V_KERNEL_PLAIN);
    remove(corpus);
    remove(ck);
    return 0;
}
