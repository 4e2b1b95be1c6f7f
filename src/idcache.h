/*
 * idcache.h - the corpus as word ids, kept in a temporary file after the
 * first pass so that later epochs skip decompression, tokenising and the
 * vocabulary lookups. Not API.
 *
 * The first pass hands out text blocks in order; each gets the next block
 * number when it is read (w2v_idcache_add), and its ids once a worker has
 * looked them up (w2v_idcache_put, from any thread, in any order). Later
 * passes read block k's ids back (w2v_idcache_get) in block order, so a
 * pass over the cache meets the same blocks, sentences and ids as a pass
 * over the text, and the number of text bytes behind blocks 0..k-1 is the
 * reader's offset for checkpoints.
 *
 * An id is a vocabulary index; W2V_ID_EOL set on an id says a sentence
 * ends after that word. The file takes 4 bytes per word of the vocabulary
 * that the corpus holds; it is unlinked at once and gone when closed. A
 * failed write (a full disk) marks the cache broken, and the caller reads
 * the text instead: the cache is only ever a way to go faster.
 */
#ifndef W2V_IDCACHE_H
#define W2V_IDCACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "w2v/vocab.h"

/* Set on the last id of a sentence. Ids themselves stay below it. */
#define W2V_ID_EOL 0x80000000u

/*
 * The ids of the words of text[0, len) that are in vocabulary v, with
 * W2V_ID_EOL on the last id before each newline, into ids (room for
 * len / 2 + 1). Returns their number. What a block is cached as.
 */
size_t w2v_block_ids(const w2v_vocab *v, const char *text, size_t len,
                     uint32_t *ids);

typedef struct w2v_idcache_block {
    uint64_t offset;      /* bytes into the file */
    uint32_t n;           /* ids */
    uint32_t text_bytes;  /* bytes of text they came from */
    int state;            /* 0 reading, 1 stored, -1 failed */
} w2v_idcache_block;

typedef struct w2v_idcache {
    int fd;                     /* -1 when closed */
    _Atomic uint64_t end;       /* bytes of the file reserved */
    w2v_idcache_block *blocks;  /* (n_blocks) in text order */
    size_t n_blocks, cap;
    size_t pending;             /* blocks added but not yet put */
    int broken;                 /* a write failed or memory ran out */
} w2v_idcache;

/* Opens an empty cache in $TMPDIR (else /tmp). -1 with errno on failure. */
int w2v_idcache_open(w2v_idcache *c);

/* Closes the file and frees the index. Safe on a closed cache. */
void w2v_idcache_close(w2v_idcache *c);

/*
 * Numbers the next text block (text_bytes long) and stores it in *seq.
 * Callers serialise add, finish and the reading of pending and broken.
 * -1 (and the cache broken) when the index cannot grow.
 */
int w2v_idcache_add(w2v_idcache *c, size_t text_bytes, size_t *seq);

/*
 * Writes block seq's n ids to the file. Thread-safe: any number of workers
 * write at once, each to a range of its own. Returns the state to pass to
 * w2v_idcache_finish: the file offset, or UINT64_MAX when the write failed.
 */
uint64_t w2v_idcache_put(w2v_idcache *c, const uint32_t *ids, size_t n);

/* Records the outcome of a put of block seq (serialised like add). */
void w2v_idcache_finish(w2v_idcache *c, size_t seq, uint64_t offset,
                        size_t n);

/*
 * Reads block seq's ids into ids (room for cap) and stores their count in
 * *n. Only once every block is finished; then thread-safe. -1 on a read
 * error or a block larger than cap.
 */
int w2v_idcache_get(const w2v_idcache *c, size_t seq, uint32_t *ids,
                    size_t cap, size_t *n);

#endif /* W2V_IDCACHE_H */
