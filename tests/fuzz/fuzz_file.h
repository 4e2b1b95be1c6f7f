/*
 * fuzz_file.h - for the libFuzzer targets whose readers take a path: the
 * input bytes written to one scratch file per process (in $TMPDIR, else
 * /tmp), replaced on every call and removed at exit. Aborts if the file cannot be written, so a
 * broken environment is not mistaken for a passing run.
 */
#ifndef W2V_FUZZ_FILE_H
#define W2V_FUZZ_FILE_H

/* The including file defines _POSIX_C_SOURCE 200809L first. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_file_path[4096];

static void fuzz_file_remove(void)
{
    unlink(fuzz_file_path);
}

static const char *fuzz_file(const uint8_t *data, size_t size)
{
    char *path = fuzz_file_path;
    if (path[0] == '\0') {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof fuzz_file_path, "%s/w2v-fuzz-%ld",
                 dir && dir[0] ? dir : "/tmp", (long)getpid());
        atexit(fuzz_file_remove);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    close(fd);
    return path;
}

#endif /* W2V_FUZZ_FILE_H */
