/*
 * trainstate.h - a view of a trainer's complete run state at a block
 * boundary, shared by the trainer (train.c) and the checkpoint file format
 * (checkpoint.c). Not API.
 *
 * A worker's state between two blocks is its random generator, the words
 * it has counted but not yet added to the shared counter, its learning
 * rate, its loss tally and the noise words the batched skip-gram kernel
 * has drawn ahead. With the weights, the vocabulary, the reader's epoch and
 * byte offset and the shared word counter, that is everything a run needs
 * to continue exactly as if it had never stopped.
 */
#ifndef W2V_TRAINSTATE_H
#define W2V_TRAINSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/train.h"

typedef struct w2v_worker_state {
    uint64_t rng;          /* the generator's state */
    uint64_t pending;      /* words not yet added to the shared counter */
    float alpha;           /* the rate set at the worker's last tick */
    uint64_t predictions;  /* plain-kernel predictions so far (loss sampling) */
    double loss_sum;
    uint64_t loss_count;
    uint64_t groups;       /* batched-kernel groups so far (loss sampling) */
    uint32_t ahead_ready;  /* ahead holds a draw not used yet */
    uint32_t *ahead;       /* (n_ahead) noise words drawn ahead */
} w2v_worker_state;

/* Identifies a corpus file: its size and a CRC-32 of its first bytes. */
typedef struct w2v_corpus_print {
    int stream;            /* not a regular file: cannot be identified */
    uint64_t size;         /* bytes of the file as stored (compressed) */
    uint64_t head;         /* bytes covered by crc */
    uint32_t crc;          /* zlib crc32 of the first head bytes */
} w2v_corpus_print;

/* Bytes of a corpus file's start that its fingerprint covers. */
#define W2V_CORPUS_PRINT_BYTES 65536

typedef struct w2v_train_state {
    w2v_train_options opt;   /* settings; callbacks are not part of it */
    const w2v_vocab *vocab;
    size_t dim;
    float *in;               /* (V, dim) */
    float *out_ns;           /* (V, dim) or NULL */
    float *out_hs;           /* (V - 1, dim) or NULL */
    int threads;
    int epoch;               /* 0-based epoch of the reader */
    uint64_t offset;         /* bytes of that pass handed out */
    uint64_t words_done;     /* the shared counter */
    uint64_t words_total;
    w2v_corpus_print corpus;
    size_t n_ahead;          /* noise words drawn ahead per worker */
    w2v_worker_state *workers;  /* (threads) */
} w2v_train_state;

/*
 * Fills s with pointers into t (valid until t changes): between runs, or
 * from the checkpoint callback while the workers wait.
 */
void w2v_trainer_state(w2v_trainer *t, w2v_train_state *s);

/*
 * Replaces t's weights and run state with s (same vocabulary, settings and
 * thread count, checked by the caller); the next w2v_trainer_run continues
 * from there after checking that its corpus matches s->corpus.
 */
void w2v_trainer_restore(w2v_trainer *t, const w2v_train_state *s);

/*
 * Makes the batched kernels take batch step impl (enum w2v_batch_impl in
 * kernel.h) instead of the one opt->kernel picked; for kernel-bench, which
 * times a run with W2V_BATCH_TOUCH. Call before w2v_trainer_run.
 */
void w2v_trainer_set_batch_impl(w2v_trainer *t, int impl);

/* The fingerprint of the corpus file at path (see w2v_corpus_print). */
int w2v_corpus_fingerprint(const char *path, w2v_corpus_print *p,
                           w2v_error *err);

/*
 * Before a resumed run: checks that corpus is the checkpoint's (want) and
 * reads it in blocks of cap bytes into buf up to byte offset of the pass.
 * W2V_ERR_ARG naming the file when it is another corpus or a stream.
 */
int w2v_corpus_resume_at(w2v_corpus *corpus, const w2v_corpus_print *want,
                         uint64_t offset, char *buf, size_t cap,
                         w2v_error *err);

#endif /* W2V_TRAINSTATE_H */
