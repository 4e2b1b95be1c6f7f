/*
 * pca.c - principal components: the covariance by one BLAS rank-k update,
 * its leading eigenvectors from LAPACK, and a naive reference beside it.
 * See w2v/project.h.
 */
#include "w2v/project.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "project_ref.h"
#include "util.h"

/*
 * LAPACK's symmetric eigensolver as OpenBLAS exports it (no LAPACKE
 * header needed): Fortran calling convention, every argument by
 * reference, and the lengths of the three character arguments appended.
 */
void dsyevr_(const char *jobz, const char *range, const char *uplo,
             const int *n, double *a, const int *lda, const double *vl,
             const double *vu, const int *il, const int *iu,
             const double *abstol, int *m, double *w, double *z,
             const int *ldz, int *isuppz, double *work, const int *lwork,
             int *iwork, const int *liwork, int *info, size_t jobz_len,
             size_t range_len, size_t uplo_len);

/* Rows converted to double and centred per BLAS call. */
#define PCA_CHUNK 2048

static int check_args(size_t n, size_t d, size_t k, w2v_error *err)
{
    if (n < 2)
        return w2v_fail(err, W2V_ERR_ARG, "PCA needs at least 2 points, "
                        "got %zu", n);
    if (k < 1 || k > d)
        return w2v_fail(err, W2V_ERR_ARG, "PCA: %zu components asked of "
                        "%zu dimensions", k, d);
    if (d > 46340)
        return w2v_fail(err, W2V_ERR_ARG, "PCA: %zu dimensions is more than "
                        "LAPACK's int indexing allows", d);
    return W2V_OK;
}

/* Column means of x (n, d) into mean (d). */
static void column_means(const float *x, size_t n, size_t d, double *mean)
{
    memset(mean, 0, d * sizeof *mean);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++)
        mean[j] /= (double)n;
}

/* Flips each column of v (d, k) so its largest-|value| entry is > 0. */
static void fix_signs(double *v, size_t d, size_t k)
{
    for (size_t c = 0; c < k; c++) {
        size_t best = 0;
        for (size_t j = 1; j < d; j++)
            if (fabs(v[j * k + c]) > fabs(v[best * k + c]))
                best = j;
        if (v[best * k + c] < 0)
            for (size_t j = 0; j < d; j++)
                v[j * k + c] = -v[j * k + c];
    }
}

/* out (n, k) = (x - mean) v, with v (d, k). */
static void project_rows(const float *x, size_t n, size_t d, size_t k,
                         const double *mean, const double *v, float *out)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < k; c++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (x[i * d + j] - mean[j]) * v[j * k + c];
            out[i * k + c] = (float)s;
        }
    }
}

/* The upper triangle of the covariance (d, d) of x, BLAS in chunks. */
static void covariance_blas(const float *x, size_t n, size_t d,
                            const double *mean, double *cov, double *chunk)
{
    memset(cov, 0, d * d * sizeof *cov);
    for (size_t i0 = 0; i0 < n; i0 += PCA_CHUNK) {
        size_t rows = n - i0 < PCA_CHUNK ? n - i0 : PCA_CHUNK;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < d; j++)
                chunk[i * d + j] = x[(i0 + i) * d + j] - mean[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)rows,
                    1.0, chunk, (int)d, 1.0, cov, (int)d);
    }
    for (size_t j = 0; j < d * d; j++)
        cov[j] /= (double)(n - 1);
}

/*
 * The k leading eigenvectors of cov (d, d; upper triangle in row-major
 * order, destroyed) into v (d, k), largest first, eigenvalues into var.
 */
static int leading_eigen(double *cov, size_t d, size_t k, double *v,
                         double *var, w2v_error *err)
{
    int n = (int)d, il = (int)(d - k + 1), iu = (int)d, m = 0, info = 0;
    int lwork = 26 * n, liwork = 10 * n;
    double vl = 0, vu = 0, abstol = 0;
    double *w = malloc(d * sizeof *w);
    double *z = malloc(d * k * sizeof *z);
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    int *isuppz = malloc(2 * k * sizeof *isuppz);
    int rc = W2V_OK;
    if (w == NULL || z == NULL || work == NULL || iwork == NULL ||
        isuppz == NULL) {
        rc = w2v_fail_nomem(err, "the PCA eigensolver");
    } else {
        /* Row-major upper is column-major lower. */
        dsyevr_("V", "I", "L", &n, cov, &n, &vl, &vu, &il, &iu, &abstol, &m,
                w, z, &n, isuppz, work, &lwork, iwork, &liwork, &info, 1, 1,
                1);
        if (info != 0 || m != (int)k)
            rc = w2v_fail(err, W2V_ERR_ARG, "PCA: the eigensolver failed "
                          "(info %d, %d of %zu found); non-finite input?",
                          info, m, k);
    }
    /* z is column-major (d, m) in ascending order of eigenvalue. */
    for (size_t c = 0; rc == W2V_OK && c < k; c++) {
        size_t src = k - 1 - c;
        var[c] = w[src];
        for (size_t j = 0; j < d; j++)
            v[j * k + c] = z[src * d + j];
    }
    free(w);
    free(z);
    free(work);
    free(iwork);
    free(isuppz);
    return rc;
}

/* out (n, k) = x v - mean v, by sgemm, with v (d, k) in double. */
static int project_blas(const float *x, size_t n, size_t d, size_t k,
                        const double *mean, const double *v, float *out,
                        w2v_error *err)
{
    float *vf = malloc(d * k * sizeof *vf);
    if (vf == NULL)
        return w2v_fail_nomem(err, "PCA components");
    for (size_t j = 0; j < d * k; j++)
        vf[j] = (float)v[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k,
                (int)d, 1.0f, x, (int)d, vf, (int)k, 0.0f, out, (int)k);
    for (size_t c = 0; c < k; c++) {
        double off = 0;
        for (size_t j = 0; j < d; j++)
            off += mean[j] * v[j * k + c];
        for (size_t i = 0; i < n; i++)
            out[i * k + c] = (float)(out[i * k + c] - off);
    }
    free(vf);
    return W2V_OK;
}

int w2v_pca(const float *x, size_t n, size_t d, size_t k, float *out,
            double *variance, w2v_error *err)
{
    int rc = check_args(n, d, k, err);
    if (rc != W2V_OK)
        return rc;
    if (n > (size_t)0x7fffffff)
        return w2v_fail(err, W2V_ERR_ARG, "PCA: too many points for BLAS");
    size_t rows = n < PCA_CHUNK ? n : PCA_CHUNK;
    double *mean = malloc(d * sizeof *mean);
    double *cov = malloc(d * d * sizeof *cov);
    double *chunk = malloc(rows * d * sizeof *chunk);
    double *v = malloc(d * k * sizeof *v);
    double *var = malloc(k * sizeof *var);
    if (mean == NULL || cov == NULL || chunk == NULL || v == NULL ||
        var == NULL) {
        rc = w2v_fail_nomem(err, "PCA");
    } else {
        column_means(x, n, d, mean);
        covariance_blas(x, n, d, mean, cov, chunk);
        rc = leading_eigen(cov, d, k, v, var, err);
    }
    if (rc == W2V_OK) {
        fix_signs(v, d, k);
        rc = project_blas(x, n, d, k, mean, v, out, err);
    }
    if (rc == W2V_OK && variance != NULL)
        memcpy(variance, var, k * sizeof *var);
    free(mean);
    free(cov);
    free(chunk);
    free(v);
    free(var);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The naive reference                                                     */

/* Power iteration for the leading eigenvector of a (d, d) into u (d). */
static double power_iterate(const double *a, size_t d, double *u, double *t)
{
    for (size_t j = 0; j < d; j++)
        u[j] = 1.0 / sqrt((double)d) * (1.0 + 0.01 * (double)(j % 7));
    double lambda = 0;
    for (int it = 0; it < 20000; it++) {
        for (size_t r = 0; r < d; r++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += a[r * d + j] * u[j];
            t[r] = s;
        }
        double norm = 0;
        for (size_t j = 0; j < d; j++)
            norm += t[j] * t[j];
        norm = sqrt(norm);
        if (norm == 0)
            return 0;
        double change = 0;
        for (size_t j = 0; j < d; j++) {
            double nu = t[j] / norm;
            change += (nu - u[j]) * (nu - u[j]);
            u[j] = nu;
        }
        lambda = norm;
        if (change < 1e-26)
            break;
    }
    return lambda;
}

int w2v_pca_naive(const float *x, size_t n, size_t d, size_t k, float *out,
                  double *variance, w2v_error *err)
{
    int rc = check_args(n, d, k, err);
    if (rc != W2V_OK)
        return rc;
    double *mean = malloc(d * sizeof *mean);
    double *cov = calloc(d * d, sizeof *cov);
    double *v = malloc(d * k * sizeof *v);
    double *u = malloc(d * sizeof *u);
    double *t = malloc(d * sizeof *t);
    if (mean == NULL || cov == NULL || v == NULL || u == NULL || t == NULL) {
        rc = w2v_fail_nomem(err, "PCA");
        goto done;
    }
    column_means(x, n, d, mean);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
            cov[a * d + b] = s / (double)(n - 1);
        }
    for (size_t c = 0; c < k; c++) {
        double lambda = power_iterate(cov, d, u, t);
        for (size_t j = 0; j < d; j++)
            v[j * k + c] = u[j];
        if (variance != NULL)
            variance[c] = lambda;
        /* Deflate: cov -= lambda u u^T. */
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                cov[a * d + b] -= lambda * u[a] * u[b];
    }
    fix_signs(v, d, k);
    project_rows(x, n, d, k, mean, v, out);
done:
    free(mean);
    free(cov);
    free(v);
    free(u);
    free(t);
    return rc;
}
