/*
 * hotrows.h - a worker's own copy of the most used rows of a shared weight
 * matrix. Not API.
 *
 * Every target of hierarchical softmax passes the inner nodes nearest the
 * root. When several workers write those rows in place, the
 * cache lines that hold them move from core to core on nearly every write,
 * and the workers wait for each other: on a 2-core machine hierarchical
 * softmax ran 1.25x faster with two threads than with one, although two
 * one-thread processes ran side by side at full speed each.
 *
 * A w2v_hotrows holds rows lo .. lo + n - 1 of a matrix as the worker's
 * private working copy (local) and as they were when last loaded (snap).
 * The kernels read and write the local copy; w2v_hotrows_sync adds what the
 * worker changed (local - snap) to the shared rows and reloads both copies
 * from them, so the other workers' changes arrive at each sync. Between
 * syncs a worker does not see the others' steps on these rows, as with any
 * delayed update; the kernels tick once per group of targets, which syncs
 * every `every` targets (W2V_HOTROWS_EVERY unless set), and the trainer
 * syncs at the end of each block, so no step stays unsynced between blocks.
 * n == 0 turns the copy off: every row is the shared one.
 */
#ifndef W2V_HOTROWS_H
#define W2V_HOTROWS_H

#include <stddef.h>

#define W2V_HOTROWS_EVERY 64   /* targets between syncs (the default) */

typedef struct w2v_hotrows {
    size_t lo, n, dim;   /* rows lo .. lo + n - 1, dim floats each */
    float *local;        /* (n, dim) the worker's copy */
    float *snap;         /* (n, dim) the shared rows as last loaded */
    int loaded;          /* local and snap hold the shared rows */
    size_t since;        /* targets since the last sync */
    size_t every;        /* targets between syncs */
} w2v_hotrows;

/* n rows from lo; 0, or -1 when out of memory. n == 0 allocates nothing. */
int w2v_hotrows_init(w2v_hotrows *h, size_t lo, size_t n, size_t dim);
void w2v_hotrows_free(w2v_hotrows *h);

/* Copies the shared rows into local and snap (if not loaded already). */
void w2v_hotrows_load(w2v_hotrows *h, const float *shared);

/*
 * shared += local - snap over the hot rows, then local = snap = shared;
 * a no-op when nothing is loaded.
 */
void w2v_hotrows_sync(w2v_hotrows *h, float *shared);

/* Adds targets to the count since the last sync; syncs past the limit. */
void w2v_hotrows_tick(w2v_hotrows *h, float *shared, size_t targets);

/* Row id of the shared matrix as the worker sees it. */
static inline float *w2v_hotrows_row(const w2v_hotrows *h, float *shared,
                                     size_t id)
{
    size_t k = id - h->lo;   /* wraps for id < lo */
    if (k < h->n && h->loaded)
        return h->local + k * h->dim;
    return shared + id * h->dim;
}

#endif /* W2V_HOTROWS_H */
