/*
 * idcache.c - the corpus as word ids in a temporary file. See idcache.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "idcache.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"
#include "w2v/corpus.h"

size_t w2v_block_ids(const w2v_vocab *v, const char *text, size_t len,
                     uint32_t *ids)
{
    size_t n = 0;
    w2v_tokens tok;
    w2v_tokens_init(&tok, text, len);
    const char *word;
    size_t wlen;
    int kind;
    while ((kind = w2v_tokens_next(&tok, &word, &wlen)) != W2V_TOKEN_END) {
        if (kind == W2V_TOKEN_EOL) {
            if (n > 0)
                ids[n - 1] |= W2V_ID_EOL;
            continue;
        }
        int64_t id = w2v_vocab_find(v, word, wlen);
        if (id >= 0)
            ids[n++] = (uint32_t)id;
    }
    return n;
}

int w2v_idcache_open(w2v_idcache *c)
{
    c->blocks = NULL;
    c->n_blocks = c->cap = c->pending = 0;
    c->broken = 0;
    atomic_store(&c->end, 0);
    c->fd = w2v_temp_fd("w2v-ids");
    return c->fd >= 0 ? 0 : -1;
}

void w2v_idcache_close(w2v_idcache *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->blocks);
    c->blocks = NULL;
    c->n_blocks = c->cap = c->pending = 0;
}

int w2v_idcache_add(w2v_idcache *c, size_t text_bytes, size_t *seq)
{
    if (c->n_blocks == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        w2v_idcache_block *b = realloc(c->blocks, cap * sizeof *b);
        if (b == NULL) {
            c->broken = 1;
            return -1;
        }
        c->blocks = b;
        c->cap = cap;
    }
    w2v_idcache_block *b = &c->blocks[c->n_blocks];
    b->offset = 0;
    b->n = 0;
    b->text_bytes = (uint32_t)text_bytes;
    b->state = 0;
    *seq = c->n_blocks++;
    c->pending++;
    return 0;
}

/*
 * Writes (write 1) or reads len bytes of buf at offset, through short
 * transfers and interrupts; -1 with errno on failure or an early end.
 */
static int transfer_all(int fd, void *buf, size_t len, uint64_t offset,
                        int write)
{
    char *p = buf;
    while (len > 0) {
        ssize_t k = write ? pwrite(fd, p, len, (off_t)offset)
                          : pread(fd, p, len, (off_t)offset);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        len -= (size_t)k;
        offset += (uint64_t)k;
    }
    return 0;
}

uint64_t w2v_idcache_put(w2v_idcache *c, const uint32_t *ids, size_t n)
{
    uint64_t bytes = (uint64_t)n * sizeof *ids;
    uint64_t at = atomic_fetch_add(&c->end, bytes);
    /* transfer_all only reads buf when it writes. */
    void *buf = (void *)(uintptr_t)ids;
    if (transfer_all(c->fd, buf, (size_t)bytes, at, 1) != 0)
        return UINT64_MAX;
    return at;
}

void w2v_idcache_finish(w2v_idcache *c, size_t seq, uint64_t offset,
                        size_t n)
{
    w2v_idcache_block *b = &c->blocks[seq];
    b->offset = offset;
    b->n = (uint32_t)n;
    b->state = offset == UINT64_MAX ? -1 : 1;
    if (b->state < 0)
        c->broken = 1;
    c->pending--;
}

int w2v_idcache_get(const w2v_idcache *c, size_t seq, uint32_t *ids,
                    size_t cap, size_t *n)
{
    const w2v_idcache_block *b = &c->blocks[seq];
    if (b->state != 1 || b->n > cap)
        return -1;
    size_t len = (size_t)b->n * sizeof *ids;
    if (transfer_all(c->fd, ids, len, b->offset, 0) != 0)
        return -1;
    *n = b->n;
    return 0;
}
