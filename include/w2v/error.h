/*
 * w2v/error.h - status codes and error reports shared by every w2v module.
 *
 * Every fallible public function returns an int status (W2V_OK on success)
 * and, when given a non-NULL w2v_error, fills it with a message that names
 * the file, the line or byte offset and the cause. The library never prints,
 * exits or aborts on bad input or I/O failure: what to do with the message is
 * the caller's choice.
 */
#ifndef W2V_ERROR_H
#define W2V_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Values are stable: tools may map them to exit statuses. */
enum w2v_status {
    W2V_OK = 0,
    W2V_ERR_ARG = 1,      /* an argument or setting is out of range */
    W2V_ERR_NOMEM = 2,    /* an allocation failed or a size overflowed */
    W2V_ERR_IO = 3,       /* open, read, write, rename or close failed */
    W2V_ERR_FORMAT = 4,   /* the input is malformed (offset in message) */
    W2V_ERR_EMPTY = 5,    /* no usable data: empty corpus or vocabulary */
    W2V_ERR_NOTFOUND = 6, /* a word is not in the vocabulary */
    W2V_ERR_THREAD = 7,   /* a thread could not be started */
    W2V_ERR_STOPPED = 8   /* the caller asked the operation to stop */
};

/* Room for one message; longer messages are cut with "..." at the end. */
#define W2V_ERROR_MAX 512

/*
 * An error report. Zero-initialise it (or call w2v_error_clear) before use;
 * a successful call leaves it untouched.
 */
typedef struct w2v_error {
    int code;                     /* one of enum w2v_status */
    char message[W2V_ERROR_MAX];  /* NUL-terminated, no trailing newline */
} w2v_error;

/* Resets err to W2V_OK and an empty message. err may be NULL. */
void w2v_error_clear(w2v_error *err);

/* A short constant description of a status code ("out of memory", ...). */
const char *w2v_status_string(int code);

/* The library version as "MAJOR.MINOR.PATCH". */
const char *w2v_version(void);

#ifdef __cplusplus
}
#endif

#endif /* W2V_ERROR_H */
