/*
 * test_fuzz_seeds.c - every input kept in tests/fuzz/<target>/ (the seeds,
 * and any input a fuzzer once crashed on) replayed through the same code
 * as the libFuzzer target, in the ordinary test build, so that under
 * make test SAN=1 a fixed crash stays fixed. To turn a crash into a
 * regression test, copy build-fuzz/crashes/<target>-crash-* into
 * tests/fuzz/<target>/.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The targets, their entry points renamed. */
#define LLVMFuzzerTestOneInput fuzz_corpus_one
#include "fuzz/fuzz_corpus.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_model_one
#include "fuzz/fuzz_model.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_vocab_one
#include "fuzz/fuzz_vocab.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_eval_one
#include "fuzz/fuzz_eval.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_checkpoint_one
#include "fuzz/fuzz_checkpoint.c"
#undef LLVMFuzzerTestOneInput

TestSuite(fuzz_seeds, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* Runs fn on every file of tests/fuzz/<target>; returns how many. */
static size_t replay(const char *target,
                     int (*fn)(const uint8_t *, size_t))
{
    /* The targets' scratch file then lands in the test's directory. */
    setenv("TMPDIR", tu_scratch(), 1);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s", W2V_SOURCE_DIR, target);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: cannot list", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = tu_path(dir, e->d_name);
        size_t len;
        char *data = tu_read_file(path, &len);
        cr_expect_eq(fn((const uint8_t *)data, len), 0, "%s", path);
        free(data);
        free(path);
        n++;
    }
    closedir(d);
    return n;
}

Test(fuzz_seeds, corpus)
{
    cr_expect_gt(replay("corpus", fuzz_corpus_one), 0);
}

Test(fuzz_seeds, model)
{
    cr_expect_gt(replay("model", fuzz_model_one), 0);
}

Test(fuzz_seeds, vocab)
{
    cr_expect_gt(replay("vocab", fuzz_vocab_one), 0);
}

Test(fuzz_seeds, eval)
{
    cr_expect_gt(replay("eval", fuzz_eval_one), 0);
}

Test(fuzz_seeds, checkpoint)
{
    cr_expect_gt(replay("checkpoint", fuzz_checkpoint_one), 0);
}
