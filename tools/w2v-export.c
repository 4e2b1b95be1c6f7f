/*
 * w2v-export - a model as the embedding layer of a language model: the
 * matrix W_E as .npy and safetensors, and the id -> token list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

#define PROG "w2v-export"

typedef struct export_args {
    const char *model_path;
    const char *npy;
    const char *safetensors;
    const char *vocab;
} export_args;

/* The metadata written into the safetensors header. */
static int write_safetensors(const export_args *a, const float *e,
                             size_t rows, size_t cols, w2v_error *err)
{
    char unk[32], eot[32], vsize[32];
    snprintf(unk, sizeof unk, "%zu", rows - 2);
    snprintf(eot, sizeof eot, "%zu", rows - 1);
    snprintf(vsize, sizeof vsize, "%zu", rows);
    const char *const meta[] = {
        "format", "pt",
        "source", "w2v-export",
        "vocab_size", vsize,
        "unk_token", W2V_TOKEN_UNK,
        "unk_id", unk,
        "unk_row", "mean of the word vectors",
        "eot_token", W2V_TOKEN_EOT,
        "eot_id", eot,
        "eot_row", "zeros",
    };
    return w2v_export_safetensors_write(a->safetensors, W2V_EXPORT_TENSOR, e,
                                        rows, cols, meta,
                                        sizeof meta / sizeof meta[0] / 2, err);
}

static int run(const export_args *a)
{
    w2v_model *m = NULL;
    const char *path = query_model_path(a->model_path);
    int rc = query_load(PROG, path, &m);
    if (rc != 0)
        return rc;
    float *e = NULL;
    size_t rows = 0, cols = 0;
    w2v_error err;
    w2v_error_clear(&err);
    int st = w2v_export_embedding(m, &e, &rows, &cols, &err);
    if (st == W2V_OK && a->npy)
        st = w2v_export_npy_write(a->npy, e, rows, cols, &err);
    if (st == W2V_OK && a->safetensors)
        st = write_safetensors(a, e, rows, cols, &err);
    if (st == W2V_OK && a->vocab)
        st = w2v_export_vocab_write(m, a->vocab, &err);
    if (st != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        rc = CLI_EXIT_FAIL;
    } else {
        char b1[32], b2[32];
        printf("%s: %s words x %zu dimensions\n", path,
               cli_thousands(rows - 2, b1, sizeof b1), cols);
        printf("W_E: (%s, %zu) float32; row i = token id i; row %zu = "
               W2V_TOKEN_UNK " (mean vector), row %zu = " W2V_TOKEN_EOT
               " (zeros)\n", cli_thousands(rows, b2, sizeof b2), cols,
               rows - 2, rows - 1);
        if (a->npy)
            printf("wrote %s (NumPy .npy 1.0)\n", a->npy);
        if (a->safetensors)
            printf("wrote %s (safetensors, tensor \"" W2V_EXPORT_TENSOR
                   "\")\n", a->safetensors);
        if (a->vocab)
            printf("wrote %s (%zu lines: token of id 0, 1, ...)\n", a->vocab,
                   rows);
    }
    free(e);
    w2v_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    export_args a = {0};
    cli_option opts[] = {
        {"model", NULL, CLI_STRING, &a.model_path, 0, 0, "FILE",
         "the model (default $W2V_MODEL, else ./vectors.bin)"},
        {"npy", NULL, CLI_STRING, &a.npy, 0, 0, "FILE",
         "write W_E as a NumPy .npy file"},
        {"safetensors", NULL, CLI_STRING, &a.safetensors, 0, 0, "FILE",
         "write W_E as safetensors (tensor \"" W2V_EXPORT_TENSOR "\")"},
        {"vocab", NULL, CLI_STRING, &a.vocab, 0, 0, "FILE",
         "write the id -> token list, one token a line"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf(
            "Usage: " PROG " [options]\n"
            "Writes the model as the embedding matrix W_E of a language\n"
            "model: V + 2 rows of D float32 for V words, row i = token id i\n"
            "(as w2v-tokenize numbers them); row V is " W2V_TOKEN_UNK ", the\n"
            "mean of the word vectors, row V + 1 " W2V_TOKEN_EOT ", zeros.\n"
            "In Python:\n"
            "  numpy.load(\"W_E.npy\")                        # (V+2, D)\n"
            "  safetensors.torch.load_file(\"W_E.safetensors\")"
            "[\"" W2V_EXPORT_TENSOR "\"]\n"
            "  torch.nn.Embedding.from_pretrained(that tensor)\n"
            "Every file is written under a temporary name and renamed when\n"
            "complete. Exit status: 0 done, 1 a file could not be written,\n"
            "2 a bad command line or a model that cannot be read.\n"
            "\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    if (npos > 0) {
        fprintf(stderr, PROG ": unexpected argument \"%s\" (see -help)\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (!a.npy && !a.safetensors && !a.vocab) {
        fprintf(stderr, PROG ": nothing to write: give -npy, -safetensors "
                "or -vocab (see -help)\n");
        return CLI_EXIT_USAGE;
    }
    return run(&a);
}
