/*
 * test_hotrows.c - a worker's copy of the hottest rows: which rows it
 * stands for, and that syncing adds every worker's steps to the shared
 * matrix.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "hotrows.h"

#define ROWS 10
#define DIM 4

static void fill(float *m, float base)
{
    for (size_t i = 0; i < ROWS * DIM; i++)
        m[i] = base + (float)i * 0.25f;
}

Test(hotrows, rows_in_range_are_the_workers_copy_once_loaded)
{
    float shared[ROWS * DIM];
    fill(shared, 1.0f);
    w2v_hotrows h;
    cr_assert_eq(w2v_hotrows_init(&h, 6, 3, DIM), 0);
    /* Before the first load every row is the shared one. */
    for (size_t id = 0; id < ROWS; id++)
        cr_assert_eq(w2v_hotrows_row(&h, shared, id), shared + id * DIM);
    w2v_hotrows_load(&h, shared);
    for (size_t id = 0; id < ROWS; id++) {
        float *row = w2v_hotrows_row(&h, shared, id);
        if (id >= 6 && id < 9) {
            cr_assert_eq(row, h.local + (id - 6) * DIM);
            cr_assert_eq(memcmp(row, shared + id * DIM, DIM * sizeof *row), 0);
        } else {
            cr_assert_eq(row, shared + id * DIM, "row %zu", id);
        }
    }
    w2v_hotrows_free(&h);
}

Test(hotrows, no_rows_is_the_shared_matrix)
{
    float shared[ROWS * DIM];
    fill(shared, 0.0f);
    w2v_hotrows h;
    cr_assert_eq(w2v_hotrows_init(&h, 0, 0, DIM), 0);
    cr_assert_null(h.local);
    w2v_hotrows_load(&h, shared);
    w2v_hotrows_tick(&h, shared, 1000);
    w2v_hotrows_sync(&h, shared);
    for (size_t id = 0; id < ROWS; id++)
        cr_assert_eq(w2v_hotrows_row(&h, shared, id), shared + id * DIM);
    w2v_hotrows_free(&h);
}

Test(hotrows, sync_adds_every_workers_steps)
{
    /* Two workers copy rows 2..6, step on them and on a row outside, and
     * sync one after the other: the shared rows take both workers' steps,
     * and the later worker's copy holds them all afterwards. */
    float shared[ROWS * DIM], want[ROWS * DIM];
    fill(shared, -1.0f);
    memcpy(want, shared, sizeof shared);
    w2v_hotrows a, b;
    cr_assert_eq(w2v_hotrows_init(&a, 2, 5, DIM), 0);
    cr_assert_eq(w2v_hotrows_init(&b, 2, 5, DIM), 0);
    w2v_hotrows_load(&a, shared);
    w2v_hotrows_load(&b, shared);
    for (size_t id = 0; id < ROWS; id++)
        for (size_t k = 0; k < DIM; k++) {
            float da = 0.125f * (float)(id + k), db = -0.0625f * (float)k;
            w2v_hotrows_row(&a, shared, id)[k] += da;
            w2v_hotrows_row(&b, shared, id)[k] += db;
            want[id * DIM + k] += da + db;
        }
    w2v_hotrows_sync(&a, shared);
    w2v_hotrows_sync(&b, shared);
    for (size_t i = 0; i < ROWS * DIM; i++)
        cr_assert_float_eq(shared[i], want[i], 1e-6f, "value %zu", i);
    cr_assert_eq(memcmp(b.local, shared + 2 * DIM, 5 * DIM * sizeof *b.local),
                 0);
    cr_assert_eq(memcmp(b.snap, b.local, 5 * DIM * sizeof *b.local), 0);
    /* A sync with no steps since changes nothing. */
    float again[ROWS * DIM];
    memcpy(again, shared, sizeof shared);
    w2v_hotrows_sync(&b, shared);
    cr_assert_eq(memcmp(again, shared, sizeof shared), 0);
    w2v_hotrows_free(&a);
    w2v_hotrows_free(&b);
}

Test(hotrows, tick_syncs_every_so_many_targets)
{
    float shared[ROWS * DIM];
    fill(shared, 0.0f);
    w2v_hotrows h;
    cr_assert_eq(w2v_hotrows_init(&h, 0, 2, DIM), 0);
    h.every = 3;
    w2v_hotrows_load(&h, shared);
    w2v_hotrows_row(&h, shared, 1)[0] = 42.0f;
    w2v_hotrows_tick(&h, shared, 2);
    cr_assert_eq(shared[DIM], 0.25f * DIM, "not synced before 3 targets");
    w2v_hotrows_tick(&h, shared, 1);
    cr_assert_eq(shared[DIM], 42.0f);
    cr_assert_eq(h.since, 0);
    w2v_hotrows_free(&h);
}
