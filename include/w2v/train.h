/*
 * w2v/train.h - the multithreaded word2vec trainer.
 *
 * Skip-gram or CBOW, each with negative sampling (noise drawn from the
 * unigram distribution raised to 3/4) and/or hierarchical softmax over a
 * Huffman tree; sub-sampling of frequent words; a window shrunk at random
 * for every target; a learning rate that falls linearly over all epochs
 * down to a floor of 1e-4 times its start.
 *
 * CBOW averages the context vectors; the gradient for each of them is that
 * of the average, and cbow_step says how far they move along it (see
 * w2v_cbow_step). CBOW starts at a rate of 0.1 where word2vec.c starts at
 * 0.05. Skip-gram with negative sampling starts at 0.05 (fastText's
 * default; word2vec.c uses 0.025), which scores 4 points higher on the
 * Google analogies after 5 epochs on a 17M-word corpus; with hierarchical
 * softmax it starts at 0.025, which scores higher with both kernels there
 * (see README.md).
 *
 * Threads share the two weight matrices without locks (Hogwild); each owns
 * its random generator and scratch buffers. They take blocks of the corpus
 * in turn from one reader, so gzip files and standard input stream as well
 * as plain files, and memory does not grow with the corpus. With one thread
 * and a fixed seed a run is deterministic, byte for byte.
 */
#ifndef W2V_TRAIN_H
#define W2V_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Architectures. */
enum w2v_arch {
    W2V_ARCH_SKIPGRAM = 0,
    W2V_ARCH_CBOW = 1
};

/*
 * Training kernels. The batched kernel shares one draw of noise words among
 * all the context words of a target and does a window's arithmetic as three
 * small matrix products; the plain kernel is word2vec.c's per-pair update,
 * kept as the reference. W2V_KERNEL_BLAS is the batched kernel with its
 * products done by cblas_sgemm (OpenBLAS, one thread per worker) instead of
 * vectorised loops. The batched kernels also batch hierarchical softmax
 * (a window against its target's path). CBOW with negative sampling under
 * W2V_KERNEL_BATCHED and W2V_KERNEL_BLAS does each target's mean against
 * its output and noise rows as one batch step, with the draws of
 * W2V_KERNEL_PLAIN in the same order (only the rounding differs); CBOW with
 * hierarchical softmax keeps the plain arithmetic. Both draw one target
 * ahead and prefetch its rows.
 */
enum w2v_kernel {
    W2V_KERNEL_BATCHED = 0,
    W2V_KERNEL_PLAIN = 1,
    W2V_KERNEL_BLAS = 2
};

/*
 * The step CBOW gives the context words. Their mean h predicts the target,
 * and the gradient for each of the cw context vectors is (1/cw) dL/dh.
 * W2V_CBOW_STEP_MEAN (the default) preconditions that gradient by cw: each
 * context vector moves by -alpha dL/dh, so the mean moves by alpha times
 * its own gradient in every window, small or large. W2V_CBOW_STEP_GRADIENT
 * is the plain gradient step, -alpha (1/cw) dL/dh: in a window of ten
 * words the mean moves a tenth as far, and the input vectors learn slower
 * than the output vectors (4 to 5 points less on the Google analogies).
 * Both descend the same objective; the first is the update word2vec.c and
 * fastText make.
 */
enum w2v_cbow_step {
    W2V_CBOW_STEP_MEAN = 0,
    W2V_CBOW_STEP_GRADIENT = 1
};

/* A snapshot of a run's progress, passed to the progress callback. */
typedef struct w2v_progress {
    int epoch;              /* 1-based epoch of the newest block read */
    int epochs;             /* total epochs */
    double fraction;        /* words done / words planned, 0..1 */
    uint64_t words_done;    /* corpus words processed, all epochs */
    uint64_t words_total;   /* corpus words planned, all epochs */
    double words_per_sec;   /* words_done / elapsed */
    int threads;            /* worker threads */
    double alpha;           /* current learning rate */
    double loss;            /* mean loss per prediction since last report */
    double elapsed;         /* seconds since training started */
    double eta;             /* seconds left, estimated; 0 when done */
    int done;               /* 1 for the final report of the run */
} w2v_progress;

/* Progress callback; called from the thread that runs w2v_trainer_run. */
typedef void (*w2v_progress_fn)(const w2v_progress *p, void *user);

typedef struct w2v_trainer w2v_trainer;

/*
 * Checkpoint callback: called from the thread that runs w2v_trainer_run,
 * every checkpoint_interval seconds, while every worker waits between two
 * blocks of the corpus, so the run state is consistent and can be saved
 * with w2v_trainer_checkpoint_save (w2v/checkpoint.h). Return 0 to go on,
 * non-zero to stop the run (it then returns W2V_ERR_STOPPED).
 */
typedef int (*w2v_checkpoint_fn)(w2v_trainer *t, void *user);

/* Training settings. Start from w2v_train_options_default(). */
typedef struct w2v_train_options {
    int arch;            /* W2V_ARCH_SKIPGRAM (default) or W2V_ARCH_CBOW */
    size_t dim;          /* vector size, default 100 */
    int window;          /* max distance of a context word, default 5 */
    double sample;       /* sub-sampling threshold, default 1e-3; 0 = off */
    int negative;        /* noise words per prediction, default 5 */
    int hs;              /* 1 = hierarchical softmax too, default 0 */
    int kernel;          /* enum w2v_kernel, default W2V_KERNEL_BATCHED */
    int cbow_step;       /* enum w2v_cbow_step, default W2V_CBOW_STEP_MEAN */
    int epochs;          /* passes over the corpus, default 5 */
    double alpha;        /* starting rate; <= 0 = 0.05 skip-gram (0.025
                            with hs), 0.05 CBOW */
    int threads;         /* workers; <= 0 = all online cores */
    uint64_t seed;       /* random seed, default 1 */
    int cache;           /* 1 (default): after the first pass, later epochs
                            read the corpus as word ids from a temporary
                            file in $TMPDIR (4 bytes per word) instead of
                            the text; same vectors, less work. 0 = off */
    w2v_progress_fn progress;  /* may be NULL */
    void *progress_user;
    double progress_interval;  /* seconds between reports, default 0.5 */
    w2v_checkpoint_fn checkpoint;  /* may be NULL */
    void *checkpoint_user;
    double checkpoint_interval;  /* seconds between checkpoints (>= 0) */
} w2v_train_options;

/* The defaults above. */
w2v_train_options w2v_train_options_default(void);

/* Checks every setting; W2V_ERR_ARG with a message naming the first bad. */
int w2v_train_options_check(const w2v_train_options *opt, w2v_error *err);

/* The learning rate a run would start at (resolves alpha <= 0). */
double w2v_train_options_alpha(const w2v_train_options *opt);

/*
 * Creates a trainer for the words of vocab (copied; the caller keeps its
 * vocab) with freshly initialised weights: input vectors uniform in
 * [-0.5/dim, 0.5/dim), output vectors zero.
 */
int w2v_trainer_new(const w2v_train_options *opt, const w2v_vocab *vocab,
                    w2v_trainer **out, w2v_error *err);

/* Frees the trainer. NULL is a no-op. */
void w2v_trainer_free(w2v_trainer *t);

/*
 * Trains for all epochs on corpus (rewound first; a corpus error stops the
 * run and is reported after every worker has stopped). Words not in the
 * vocabulary are skipped. Blocks the calling thread, which reports
 * progress through the callback.
 */
int w2v_trainer_run(w2v_trainer *t, w2v_corpus *corpus, w2v_error *err);

/*
 * Asks a running w2v_trainer_run to stop soon (safe from a signal handler
 * or another thread): each worker finishes its block, and the run returns
 * W2V_ERR_STOPPED with a consistent state that w2v_trainer_checkpoint_save
 * can write and w2v_trainer_resume continue from. A stop that arrives after
 * the last block was taken lets the run finish normally.
 */
void w2v_trainer_stop(w2v_trainer *t);

/* The learned input vectors as a new model (a copy; the caller frees it). */
int w2v_trainer_model(const w2v_trainer *t, w2v_model **out, w2v_error *err);

/*
 * Writes the learned input vectors as w2v_model_save does, straight from
 * the trainer's matrix (no copy). Call it while no run is in progress.
 */
int w2v_trainer_save(const w2v_trainer *t, const char *path, int format,
                     w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_TRAIN_H */
