/*
 * fuzz_checkpoint.c - the checkpoint reader; a checkpoint that loads is
 * also turned into a trainer with its own settings.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "fuzz_file.h"
#include "w2v/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_checkpoint *c;
    if (w2v_checkpoint_load(path, &c, &err) != W2V_OK)
        return 0;
    w2v_checkpoint_info info;
    w2v_checkpoint_get_info(c, &info);
    w2v_trainer *t;
    if (w2v_trainer_resume(c, &info.opt, &t, &err) == W2V_OK)
        w2v_trainer_free(t);
    w2v_checkpoint_free(c);
    return 0;
}
