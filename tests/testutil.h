/*
 * testutil.h - helpers shared by the Criterion tests: a scratch directory
 * per test, files with given bytes, gzip files, whole-file reads, directory
 * listings and standard-input redirection.
 *
 * Every helper that can fail fails the running test (cr_assert) with the
 * cause, so tests need not check results. Returned paths and buffers are
 * malloc'ed and owned by the caller. Nothing here writes into the source
 * tree: scratch files live under $TMPDIR (else /tmp).
 */
#ifndef W2V_TESTUTIL_H
#define W2V_TESTUTIL_H

#include <stddef.h>

/*
 * Creates a fresh, empty directory "w2v-test-XXXXXX" under $TMPDIR (else
 * /tmp) and returns its path. Remove it with tu_remove_tree.
 */
char *tu_make_temp_dir(void);

/*
 * Per-test scratch directory, for a suite's .init and .fini:
 *   TestSuite(corpus, .init = tu_scratch_init, .fini = tu_scratch_fini);
 * tu_scratch_init creates it, tu_scratch() returns its path (owned by the
 * helpers), tu_scratch_fini removes it and everything in it. Criterion runs
 * each test in its own process, so each test gets its own directory.
 */
void tu_scratch_init(void);
void tu_scratch_fini(void);
const char *tu_scratch(void);

/* dir + "/" + name, malloc'ed. */
char *tu_path(const char *dir, const char *name);

/*
 * Writes data[0, len) to a new file dir/name (replacing any file of that
 * name) and returns the path. dir NULL means the scratch directory.
 */
char *tu_write_file(const char *dir, const char *name, const void *data,
                    size_t len);

/* Like tu_write_file, but the file holds data gzip-compressed (zlib). */
char *tu_write_gzip(const char *dir, const char *name, const void *data,
                    size_t len);

/*
 * data[0, len) as a gzip stream in memory; *out_len receives its size. For
 * tests that damage a stream before writing it with tu_write_file.
 */
unsigned char *tu_gzip_bytes(const void *data, size_t len, size_t *out_len);

/*
 * The whole file at path, with a NUL byte appended (not counted in *len,
 * which may be NULL), so text files can be used as strings.
 */
char *tu_read_file(const char *path, size_t *len);

/* Does path exist (any kind of file)? */
int tu_exists(const char *path);

/*
 * Number of entries of directory dir (without "." and "..") whose name
 * contains substring part; part NULL counts all entries.
 */
size_t tu_count_entries(const char *dir, const char *part);

/* Removes path and, for a directory, everything below it. Missing is OK. */
void tu_remove_tree(const char *path);

/*
 * Makes the file at path this process's standard input (file descriptor
 * 0). Tests run in their own process, so nothing needs restoring.
 */
void tu_redirect_stdin(const char *path);

/*
 * Makes a pipe this process's standard input and forks a child that writes
 * data[0, len) into it and exits. Returns the child's pid (wait for it with
 * waitpid if it matters; it is reaped when the test process ends anyway).
 * Unlike a redirected file, a pipe cannot seek, as in `zcat x | w2v-train`.
 */
int tu_stdin_from_pipe(const void *data, size_t len);

/* What a tool did: tu_run_tool's result; free with tu_run_free. */
typedef struct tu_run {
    int status; /* exit status, or -1 when killed by a signal */
    char *out;  /* standard output, NUL-terminated */
    char *err;  /* standard error, NUL-terminated */
} tu_run;

/*
 * Runs W2V_BIN_DIR/<tool> with args (NULL-terminated), standard input from
 * input[0, input_len) (input NULL: /dev/null) and $W2V_MODEL set to
 * env_model (NULL: unset), and collects what it did. Uses the scratch
 * directory (tu_scratch_init).
 */
tu_run tu_run_tool(const char *tool, const char *input, size_t input_len,
                   const char *env_model, const char *const *args);

void tu_run_free(tu_run *r);

#endif /* W2V_TESTUTIL_H */
