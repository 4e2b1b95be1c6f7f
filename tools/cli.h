/*
 * cli.h - command-line parsing shared by the w2v tools (not part of the
 * library). Options are spelled as in word2vec.c (-size 100), with --size,
 * --size=100 and -size=100 accepted too. Every value is validated: a
 * missing value, a non-number or an out-of-range number is an error that
 * names the option; an unknown option suggests the closest known one.
 */
#ifndef W2V_CLI_H
#define W2V_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses of every tool. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1    /* the work failed: I/O, bad data */
#define CLI_EXIT_USAGE 2   /* the command line is wrong */

typedef enum cli_kind {
    CLI_STRING,  /* const char * */
    CLI_INT,     /* int, within [min, max] */
    CLI_SIZE,    /* size_t, within [min, max] */
    CLI_U64,     /* uint64_t, within [min, max] */
    CLI_DOUBLE,  /* double, within [min, max] */
    CLI_SWITCH   /* int set to 1, takes no value */
} cli_kind;

typedef struct cli_option {
    const char *name;   /* without dashes: "size" */
    const char *alias;  /* another name or NULL: "train" for "corpus" */
    cli_kind kind;
    void *dest;
    double min, max;    /* numeric range, inclusive */
    const char *arg;    /* value placeholder for help: "N", "FILE" */
    const char *help;   /* one line */
} cli_option;

/*
 * Parses argv[1..argc) against opts (terminated by a zero entry). Non-option
 * arguments are moved to the front of argv[1..] in order and counted in
 * *n_positional. "-h", "-help" and "--help" set *help. Prints a message
 * naming prog and returns CLI_EXIT_USAGE on a bad command line, else 0.
 */
int cli_parse(const char *prog, const cli_option *opts, int argc,
              char **argv, int *n_positional, int *help);

/* Prints "  -name ARG   help" lines for every option to stdout. */
void cli_print_options(const cli_option *opts);

/* Formats n with thousands separators into buf ("17,005,207"). */
const char *cli_thousands(uint64_t n, char *buf, size_t size);

/* Formats a rate or count compactly: 1.23M, 456.7k, 999. */
const char *cli_si(double v, char *buf, size_t size);

/* Formats seconds as m:ss or h:mm:ss. */
const char *cli_duration(double s, char *buf, size_t size);

/*
 * argv[0, n) joined with single spaces, NUL-terminated and malloc'ed (the
 * caller frees it); *len is its length. NULL when memory runs out.
 */
char *cli_join_args(char **argv, int n, size_t *len);

#endif /* W2V_CLI_H */
