/*
 * test_idcache.c - the id cache: blocks written in any order, from several
 * threads, come back in block order with their ids and text sizes; nothing
 * is read before it is stored; a failed write marks the cache broken; a
 * block's ids leave out unknown words and mark the ends of sentences.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idcache.h"
#include "w2v/vocab.h"

/* Block k holds 1000 + 37 k ids, id i of it being k * 1000000 + i. */
static size_t block_len(size_t k) { return 1000 + 37 * k; }

static void fill_block(size_t k, uint32_t *ids)
{
    for (size_t i = 0; i < block_len(k); i++)
        ids[i] = (uint32_t)(k * 1000000 + i) |
                 (i % 7 == 6 ? W2V_ID_EOL : 0);
}

typedef struct writer {
    w2v_idcache *c;
    pthread_mutex_t *lock;
    size_t first, step, blocks;
} writer;

/* Puts every step-th block from first on, the way a worker does. */
static void *write_blocks(void *arg)
{
    writer *w = arg;
    uint32_t *ids = malloc(block_len(w->blocks) * sizeof *ids);
    cr_assert_not_null(ids);
    for (size_t k = w->first; k < w->blocks; k += w->step) {
        fill_block(k, ids);
        uint64_t at = w2v_idcache_put(w->c, ids, block_len(k));
        pthread_mutex_lock(w->lock);
        w2v_idcache_finish(w->c, k, at, block_len(k));
        pthread_mutex_unlock(w->lock);
    }
    free(ids);
    return NULL;
}

Test(idcache, blocks_put_by_threads_come_back_in_order)
{
    enum { BLOCKS = 40, THREADS = 3 };
    w2v_idcache c;
    cr_assert_eq(w2v_idcache_open(&c), 0);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    for (size_t k = 0; k < BLOCKS; k++) {
        size_t seq;
        cr_assert_eq(w2v_idcache_add(&c, 5000 + k, &seq), 0);
        cr_assert_eq(seq, k);
    }
    cr_expect_eq(c.pending, BLOCKS);
    uint32_t *got = malloc(block_len(BLOCKS) * sizeof *got);
    uint32_t *want = malloc(block_len(BLOCKS) * sizeof *want);
    size_t n;
    cr_expect_neq(w2v_idcache_get(&c, 0, got, block_len(BLOCKS), &n), 0,
                  "a block not yet stored cannot be read");
    pthread_t tid[THREADS];
    writer w[THREADS];
    /* Thread j writes blocks j, j + 3, ...: the file is out of order. */
    for (size_t j = 0; j < THREADS; j++) {
        w[j] = (writer){&c, &lock, THREADS - 1 - j, THREADS, BLOCKS};
        cr_assert_eq(pthread_create(&tid[j], NULL, write_blocks, &w[j]), 0);
    }
    for (size_t j = 0; j < THREADS; j++)
        pthread_join(tid[j], NULL);
    cr_expect_eq(c.pending, 0);
    cr_expect_eq(c.broken, 0);
    for (size_t k = 0; k < BLOCKS; k++) {
        cr_assert_eq(w2v_idcache_get(&c, k, got, block_len(BLOCKS), &n), 0);
        cr_assert_eq(n, block_len(k));
        cr_expect_eq(c.blocks[k].text_bytes, 5000 + k);
        fill_block(k, want);
        cr_assert_eq(memcmp(got, want, n * sizeof *got), 0, "block %zu", k);
    }
    cr_expect_neq(w2v_idcache_get(&c, BLOCKS - 1, got, 10, &n), 0,
                  "a block larger than the buffer is refused");
    free(got);
    free(want);
    w2v_idcache_close(&c);
    w2v_idcache_close(&c);  /* closing twice is harmless */
}

Test(idcache, a_failed_write_breaks_the_cache)
{
    w2v_idcache c;
    cr_assert_eq(w2v_idcache_open(&c), 0);
    size_t seq;
    cr_assert_eq(w2v_idcache_add(&c, 100, &seq), 0);
    /* A descriptor that cannot be written stands in for a full disk. */
    close(c.fd);
    c.fd = open("/dev/null", O_RDONLY);
    cr_assert_geq(c.fd, 0);
    uint32_t ids[4] = {1, 2, 3, 4};
    uint64_t at = w2v_idcache_put(&c, ids, 4);
    cr_expect_eq(at, UINT64_MAX);
    w2v_idcache_finish(&c, seq, at, 4);
    cr_expect_eq(c.broken, 1);
    cr_expect_eq(c.pending, 0);
    size_t n;
    cr_expect_neq(w2v_idcache_get(&c, seq, ids, 4, &n), 0);
    w2v_idcache_close(&c);
}

Test(idcache, an_unusable_tmpdir_fails_to_open)
{
    cr_assert_eq(setenv("TMPDIR", "/nonexistent/w2v-test", 1), 0);
    w2v_idcache c;
    cr_expect_neq(w2v_idcache_open(&c), 0);
    w2v_idcache_close(&c);
}

/*
 * A block's ids: words outside the vocabulary are left out, and the end
 * of a sentence is marked on the last id before each newline, however many
 * newlines or unknown words come first.
 */
Test(idcache, block_ids_mark_sentence_ends)
{
    w2v_vocab *v;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, "the", 3, 3, NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, "cat", 3, 2, NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, "sat", 3, 1, NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(v, 1, 0, NULL), W2V_OK);
    uint32_t the = (uint32_t)w2v_vocab_find(v, "the", 3);
    uint32_t cat = (uint32_t)w2v_vocab_find(v, "cat", 3);
    uint32_t sat = (uint32_t)w2v_vocab_find(v, "sat", 3);
    static const char text[] = "\n\nthe cat zzz\n\nzzz\nsat\tthe  cat\nzzz the";
    uint32_t ids[sizeof text / 2 + 1];
    size_t n = w2v_block_ids(v, text, sizeof text - 1, ids);
    const uint32_t want[] = {the, cat | W2V_ID_EOL, sat, the,
                             cat | W2V_ID_EOL, the};
    cr_assert_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(ids[i], want[i], "id %zu: %#x, want %#x", i, ids[i],
                     want[i]);
    w2v_vocab_free(v);
}
