/*
 * kernel.c - the plain per-pair training kernels. See kernel.h.
 *
 * The weight matrices are shared by all training threads and updated
 * without locks (Hogwild!): two threads may update the same row at the same
 * time and one update may be partly lost. This is the one deliberate data
 * race in w2v; with sparse updates it costs no measurable accuracy and
 * saves all synchronisation.
 */
#include "kernel.h"

#include "simd.h"

#include <math.h>
#include <string.h>

float w2v_dot(const float *a, const float *b, size_t n)
{
    size_t i = 0;
    float t = 0;
#ifdef W2V_HAVE_V8
    /* Two vector sums hide the latency of the multiply-adds. */
    w2v_v8 s0 = w2v_v8_set1(0), s1 = s0;
    for (; i + 16 <= n; i += 16) {
        s0 += w2v_v8_load(a + i) * w2v_v8_load(b + i);
        s1 += w2v_v8_load(a + i + 8) * w2v_v8_load(b + i + 8);
    }
    if (i + 8 <= n) {
        s0 += w2v_v8_load(a + i) * w2v_v8_load(b + i);
        i += 8;
    }
    t = w2v_v8_sum(s0 + s1);
#endif
    for (; i < n; i++)
        t += a[i] * b[i];
    return t;
}

void w2v_axpy(float a, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

double w2v_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

float w2v_kernel_ns_step(const float *h, float *out, size_t dim,
                         const uint32_t *ids, size_t n, float alpha,
                         float *grad, int want_loss)
{
    float loss = 0;
    for (size_t d = 0; d < n; d++) {
        float *o = out + (size_t)ids[d] * dim;
        float x = w2v_dot(h, o, dim);
        float label = d == 0 ? 1.0f : 0.0f;
        float g = alpha * (label - sigmoid(x));
        if (want_loss)
            loss += (float)w2v_softplus(d == 0 ? -x : x);
        w2v_axpy(g, o, grad, dim);  /* uses o before its own update */
        w2v_axpy(g, h, o, dim);
    }
    return loss;
}

float w2v_kernel_hs_step(const float *h, float *nodes, size_t dim,
                         const uint32_t *points, const uint8_t *codes,
                         size_t len, float alpha, float *grad, int want_loss)
{
    float loss = 0;
    for (size_t j = 0; j < len; j++) {
        float *o = nodes + (size_t)points[j] * dim;
        float x = w2v_dot(h, o, dim);
        /* Label 1 - code: the probability of taking branch 0. */
        float label = 1.0f - (float)codes[j];
        float g = alpha * (label - sigmoid(x));
        if (want_loss)
            loss += (float)w2v_softplus(codes[j] ? x : -x);
        w2v_axpy(g, o, grad, dim);
        w2v_axpy(g, h, o, dim);
    }
    return loss;
}

/* Target plus noise ids for one prediction; noise never equals target. */
static size_t draw_targets(const w2v_kernel_model *m, w2v_rng *rng,
                           uint32_t target, uint32_t *ids)
{
    size_t n = 0;
    ids[n++] = target;
    for (int d = 0; d < m->negative; d++) {
        uint32_t w = w2v_alias_draw(m->noise, rng);
        if (w != target)
            ids[n++] = w;
    }
    return n;
}

/* All the outputs for predicting target from h; step for h into grad. */
static void predict(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                    w2v_rng *rng, const float *h, uint32_t target,
                    float alpha, w2v_kernel_loss *loss)
{
    int want = loss != NULL;
    float l = 0;
    if (m->tree != NULL) {
        size_t a = m->tree->start[target], b = m->tree->start[target + 1];
        l += w2v_kernel_hs_step(h, m->out_hs, m->dim, m->tree->points + a,
                                m->tree->codes + a, b - a, alpha, s->grad,
                                want);
    }
    if (m->negative > 0) {
        size_t n = draw_targets(m, rng, target, s->ids);
        l += w2v_kernel_ns_step(h, m->out_ns, m->dim, s->ids, n, alpha,
                                s->grad, want);
    }
    if (want) {
        loss->sum += l;
        loss->count++;
    }
}

void w2v_kernel_skipgram(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                         w2v_rng *rng, const uint32_t *sent, size_t len,
                         size_t pos, int win, float alpha,
                         w2v_kernel_loss *loss)
{
    size_t dim = m->dim;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    size_t hi = pos + (size_t)win < len ? pos + (size_t)win : len - 1;
    for (size_t c = lo; c <= hi; c++) {
        if (c == pos)
            continue;
        float *h = m->in + (size_t)sent[c] * dim;
        memset(s->grad, 0, dim * sizeof *s->grad);
        predict(m, s, rng, h, sent[pos], alpha, loss);
        w2v_axpy(1.0f, s->grad, h, dim);
    }
}

void w2v_kernel_cbow(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                     w2v_rng *rng, const uint32_t *sent, size_t len,
                     size_t pos, int win, float alpha, w2v_kernel_loss *loss)
{
    size_t dim = m->dim;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    size_t hi = pos + (size_t)win < len ? pos + (size_t)win : len - 1;
    size_t cw = hi - lo;  /* context words: the window less the target */
    if (cw == 0)
        return;
    memset(s->h, 0, dim * sizeof *s->h);
    for (size_t c = lo; c <= hi; c++)
        if (c != pos)
            w2v_axpy(1.0f, m->in + (size_t)sent[c] * dim, s->h, dim);
    float inv = 1.0f / (float)cw;
    for (size_t i = 0; i < dim; i++)
        s->h[i] *= inv;
    memset(s->grad, 0, dim * sizeof *s->grad);
    predict(m, s, rng, s->h, sent[pos], alpha, loss);
    /*
     * d(mean)/d(context vector) = 1/cw: the gradient of the average is
     * inv * grad. The mean step scales it by cw (kernel.h says why).
     */
    float scale = m->cbow_mean_step ? 1.0f : inv;
    for (size_t c = lo; c <= hi; c++)
        if (c != pos)
            w2v_axpy(scale, s->grad, m->in + (size_t)sent[c] * dim, dim);
}
