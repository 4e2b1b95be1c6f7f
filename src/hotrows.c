/*
 * hotrows.c - a worker's own copy of the most used rows. See hotrows.h.
 *
 * The sync races with the other workers' steps on the same shared rows, as
 * every update of the weights does (Hogwild!; see kernel.c): a step that
 * lands between this sync's read and write of a value is lost.
 */
#include "hotrows.h"

#include "util.h"

#include <string.h>

int w2v_hotrows_init(w2v_hotrows *h, size_t lo, size_t n, size_t dim)
{
    memset(h, 0, sizeof *h);
    h->lo = lo;
    h->dim = dim;
    h->every = W2V_HOTROWS_EVERY;
    if (n == 0)
        return 0;
    h->local = w2v_alloc_aligned(n * dim * sizeof *h->local);
    h->snap = w2v_alloc_aligned(n * dim * sizeof *h->snap);
    if (h->local == NULL || h->snap == NULL) {
        w2v_hotrows_free(h);
        return -1;
    }
    h->n = n;
    return 0;
}

void w2v_hotrows_free(w2v_hotrows *h)
{
    w2v_free_aligned(h->local);
    w2v_free_aligned(h->snap);
    memset(h, 0, sizeof *h);
}

void w2v_hotrows_load(w2v_hotrows *h, const float *shared)
{
    if (h->n == 0 || h->loaded)
        return;
    size_t len = h->n * h->dim;
    const float *src = shared + h->lo * h->dim;
    memcpy(h->local, src, len * sizeof *src);
    memcpy(h->snap, src, len * sizeof *src);
    h->loaded = 1;
    h->since = 0;
}

void w2v_hotrows_sync(w2v_hotrows *h, float *shared)
{
    if (h->n == 0 || !h->loaded)
        return;
    size_t len = h->n * h->dim;
    float *dst = shared + h->lo * h->dim;
    float *local = h->local, *snap = h->snap;
    for (size_t i = 0; i < len; i++) {
        float v = dst[i] + (local[i] - snap[i]);
        dst[i] = v;
        local[i] = v;
        snap[i] = v;
    }
    h->since = 0;
}

void w2v_hotrows_tick(w2v_hotrows *h, float *shared, size_t targets)
{
    if (h->n == 0 || !h->loaded)
        return;
    h->since += targets;
    if (h->since >= h->every)
        w2v_hotrows_sync(h, shared);
}
