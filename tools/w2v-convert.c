/*
 * w2v-convert - rewrite a model in another format: word2vec text or binary
 * (from any tool) to w2v's native format for instant loading, or back.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "w2v/w2v.h"

#define PROG "w2v-convert"

int main(int argc, char **argv)
{
    const char *format = "native";
    const cli_option opts[] = {
        {"format", NULL, CLI_STRING, &format, 0, 0, "binary|text|native",
         "format of OUTPUT (default native)"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf("Usage: " PROG " [-format binary|text|native] INPUT OUTPUT\n"
               "Reads a model in any format (detected from the content) and "
               "writes it to\nOUTPUT in the given one. The native format "
               "loads without parsing (the\nfile is mapped) and keeps the "
               "words' counts; word2vec text and binary are\nwhat other "
               "tools read.\n\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    if (npos != 2) {
        fprintf(stderr, PROG ": need INPUT and OUTPUT (got %d); see " PROG
                " -help\n", npos);
        return CLI_EXIT_USAGE;
    }
    int out_format = -1;
    const int formats[] = {W2V_FORMAT_BINARY, W2V_FORMAT_TEXT,
                           W2V_FORMAT_NATIVE};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (strcmp(format, w2v_format_name(formats[i])) == 0)
            out_format = formats[i];
    if (out_format < 0) {
        fprintf(stderr, PROG ": -format %s: expected binary, text or "
                "native\n", format);
        return CLI_EXIT_USAGE;
    }
    w2v_error err;
    w2v_error_clear(&err);
    w2v_model *m = NULL;
    int in_format;
    rc = w2v_model_load_format(argv[1], &m, &in_format, &err);
    if (rc != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return rc == W2V_ERR_NOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    rc = w2v_model_save(m, argv[2], out_format, &err);
    if (rc != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        w2v_model_free(m);
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, PROG ": %s (%s) -> %s (%s): %zu words x %zu\n", argv[1],
            w2v_format_name(in_format), argv[2], w2v_format_name(out_format),
            w2v_model_size(m), w2v_model_dim(m));
    w2v_model_free(m);
    return CLI_EXIT_OK;
}
