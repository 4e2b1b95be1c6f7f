/*
 * w2v/checkpoint.h - saving a training run and resuming it.
 *
 * A checkpoint holds everything a run needs to continue exactly where it
 * stopped: the settings, the vocabulary with its counts, both weight
 * matrices, the reader's epoch and byte offset, the shared word counter,
 * and each worker's random generator, learning rate, pending word count
 * and the noise words it has drawn ahead. The noise table and the Huffman
 * tree are rebuilt from the counts and the settings. With one thread and
 * the same seed, a run stopped, saved and resumed ends with the same
 * vectors, byte for byte, as a run that never stopped.
 *
 * The file is written under a temporary name in the target's directory,
 * synced and renamed over the target, so a crash, a full disk or a second
 * Ctrl-C leaves the previous checkpoint as it was.
 *
 * File format, version 1. Scalars are little-endian; the float matrices
 * are IEEE-754 single precision in the host's (little-endian) order.
 *
 *   offset size  field
 *   0      8     magic "W2VCKPT\n"
 *   8      4     version (1)
 *   12     4     header bytes (192), from offset 0
 *   16     8     file bytes, in all
 *   24     4     arch           28  4  hs          32  4  kernel
 *   36     4     window         40  4  negative    44  4  epochs
 *   48     4     threads        52  4  epoch (0-based, of the reader)
 *   56     8     dim            64  8  sample (double)
 *   72     8     alpha as given (double; <= 0 = the default)
 *   80     8     seed           88  8  byte offset in the epoch's pass
 *   96     8     words done     104 8  words planned (all epochs)
 *   112    8     vocabulary words V
 *   120    8     vocabulary text bytes (sum of word lengths)
 *   128    8     noise words drawn ahead per worker (A)
 *   136    4     corpus is a stream (1) or a file (0)
 *   140    4     crc32 of the corpus file's first bytes
 *   144    8     corpus file bytes  152 8  bytes the crc32 covers
 *   160    4     CBOW step (enum w2v_cbow_step)
 *   164    28    zero
 *   192          threads worker records of 56 + 4 A bytes: rng state,
 *                pending words, predictions, loss count, groups (u64 each),
 *                loss sum (double), rate (float), ahead ready (u32), then
 *                A noise word ids (u32)
 *                V words: length (u32), bytes, count (u64)
 *                the input vectors (V x dim floats); the negative-sampling
 *                output vectors if negative > 0 (V x dim); the
 *                hierarchical-softmax node vectors if hs = 1 and V > 1
 *                ((V - 1) x dim)
 *   end - 4 4    crc32 (zlib) of every byte before it
 *
 * The reader checks the magic, the version, every count and range, that
 * the file has exactly the size the header implies (before allocating
 * anything), each word, and the checksum; every error names the file and
 * the byte offset.
 */
#ifndef W2V_CHECKPOINT_H
#define W2V_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"
#include "w2v/train.h"
#include "w2v/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format version this library writes and reads. */
#define W2V_CHECKPOINT_VERSION 1

/*
 * Writes t's run state to path atomically. Valid before a run, after one
 * returned (W2V_OK or W2V_ERR_STOPPED), and from the checkpoint callback.
 * W2V_ERR_IO on a write failure (the previous file at path is untouched).
 */
int w2v_trainer_checkpoint_save(w2v_trainer *t, const char *path,
                                w2v_error *err);

typedef struct w2v_checkpoint w2v_checkpoint;

/*
 * Reads and checks the checkpoint at path. On success *out owns it (free
 * with w2v_checkpoint_free); on failure *out is NULL and err names the
 * byte offset of the problem (W2V_ERR_FORMAT) or the I/O error.
 */
int w2v_checkpoint_load(const char *path, w2v_checkpoint **out,
                        w2v_error *err);

/* Frees a checkpoint. NULL is a no-op. */
void w2v_checkpoint_free(w2v_checkpoint *c);

/* What a checkpoint says about its run. */
typedef struct w2v_checkpoint_info {
    w2v_train_options opt;  /* its settings (no callbacks; threads > 0) */
    size_t words;           /* vocabulary size */
    int epoch;              /* 0-based epoch it stopped in */
    uint64_t offset;        /* byte of that epoch's pass */
    uint64_t words_done;    /* corpus words trained, all epochs */
    uint64_t words_total;   /* corpus words planned, all epochs */
    uint64_t corpus_bytes;  /* size of its corpus file */
} w2v_checkpoint_info;

void w2v_checkpoint_get_info(const w2v_checkpoint *c,
                             w2v_checkpoint_info *info);

/*
 * The same facts about t's run as a checkpoint saved now would hold: where
 * a stopped or paused run is (valid when w2v_trainer_checkpoint_save is).
 */
void w2v_trainer_get_info(w2v_trainer *t, w2v_checkpoint_info *info);

/* The checkpoint's vocabulary (owned by c). */
const w2v_vocab *w2v_checkpoint_vocab(const w2v_checkpoint *c);

/*
 * A trainer that continues c's run. opt must have c's settings (arch, dim,
 * window, sample, negative, hs, kernel, epochs, alpha, seed and, resolved,
 * threads); its callbacks and intervals are used as given. A mismatch is
 * W2V_ERR_ARG with a message naming the setting and both values. The
 * next w2v_trainer_run checks that its corpus is the checkpoint's (size
 * and the crc32 of its start; W2V_ERR_ARG if not) and goes on from the
 * saved epoch and offset.
 */
int w2v_trainer_resume(const w2v_checkpoint *c, const w2v_train_options *opt,
                       w2v_trainer **out, w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_CHECKPOINT_H */
