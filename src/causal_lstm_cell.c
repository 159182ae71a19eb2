/* causal_lstm_cell.c — CPU implementation of the PredRNN++ pointwise ops (causal_lstm_cell.h): the
 * three Causal LSTM stages (stages 1 and 2 with an optional candidate dropout mask), the gradient
 * highway unit and channel concatenation: each op's check (<op>_check) and CPU loop (cpu_<op>); the
 * entry (ops_dispatch.c) picks this or the CUDA twin (kernels/causal_lstm_cell_kernels.cu). The
 * unmasked stages 1 and 2 are the masked ones with NULL. Every loop runs over rows
 * (sample b, channel j) of H·W pixels, in parallel with OpenMP; each output element is written by one
 * thread, so results do not depend on the thread count. The forward loops sum a chunk's gate inputs
 * into stack buffers and apply sigmoid and tanh to the chunk with vector_math.h (the scalar functions'
 * bits, eight at a time). */
#include "causal_lstm_cell.h"

#include <string.h>

#include "ops_internal.h"
#include "vector_math.h"

/* Abort unless t is (B, K·n, H, W) for ref = (B, n, H, W). NULL passes. */
static void require_blocks(const char *op, const char *name, const Tensor *t, const Tensor *ref, int K) {
    if (!t) return;
    require_device(op, t);
    if (t->ndim != 4 || t->shape[0] != ref->shape[0] || t->shape[1] != K * ref->shape[1] ||
        t->shape[2] != ref->shape[2] || t->shape[3] != ref->shape[3]) {
        char st[96], sr[96];
        rr_die("%s: %s must be (B, %d·n, H, W) for a state (B, n, H, W) = %s, got %s", op, name, K,
               tensor_shape_str(ref, sr, sizeof sr), tensor_shape_str(t, st, sizeof st));
    }
}

/* Pointer to block k of sample b (row of n·HW floats) in a (B, K·n, H, W) tensor. */
static inline float *blk(const Tensor *t, int K, int b, int k, int64_t nhw) {
    return t->data + ((int64_t)b * K + k) * nhw;
}

#define PAR_ROWS(B, n, HW) if (ops_use_openmp() && (int64_t)(B) * (n) * (HW) > 16384)

/* ------------------------------------------------------------------------------------------------ */

int causal_lstm_stage1_forward_masked_check(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                            const Tensor *c_prev, const Tensor *gmask, Tensor *gates1, Tensor *c) {
    const char *op = "causal_lstm_stage1_forward";
    require_4d(op, "c", c);
    require_blocks(op, "c", c, c, 1);
    require_blocks(op, "x_cc", x_cc, c, 7);
    require_blocks(op, "h_cc", h_cc, c, 4);
    require_blocks(op, "c_cc", c_cc, c, 3);
    require_blocks(op, "c_prev", c_prev, c, 1);
    require_blocks(op, "gmask", gmask, c, 1);
    require_blocks(op, "gates1", gates1, c, 3);
    return ops_device("causal_lstm_stage1_forward", x_cc, h_cc, c_cc, c_prev, gmask, gates1, c);
}

void cpu_causal_lstm_stage1_forward_masked(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                           const Tensor *c_prev, const Tensor *gmask, Tensor *gates1, Tensor *c) {
    const int B = c->shape[0], n = c->shape[1];
    const int64_t HW = (int64_t)c->shape[2] * c->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *ix = blk(x_cc, 7, b, 0, nhw) + off, *gx = blk(x_cc, 7, b, 1, nhw) + off,
                    *fx = blk(x_cc, 7, b, 2, nhw) + off;
        const float *ih = blk(h_cc, 4, b, 0, nhw) + off, *gh = blk(h_cc, 4, b, 1, nhw) + off,
                    *fh = blk(h_cc, 4, b, 2, nhw) + off;
        const float *ic = blk(c_cc, 3, b, 0, nhw) + off, *gc = blk(c_cc, 3, b, 1, nhw) + off,
                    *fc = blk(c_cc, 3, b, 2, nhw) + off;
        const float *cp = c_prev ? blk(c_prev, 1, b, 0, nhw) + off : NULL;
        const float *mk = gmask ? blk(gmask, 1, b, 0, nhw) + off : NULL;
        float *gi = blk(gates1, 3, b, 0, nhw) + off, *gf = blk(gates1, 3, b, 1, nhw) + off,
              *gg = blk(gates1, 3, b, 2, nhw) + off;
        float *co = blk(c, 1, b, 0, nhw) + off;
        for (int64_t p0 = 0; p0 < HW; p0 += ACT_CHUNK) {
            const int64_t m = HW - p0 < ACT_CHUNK ? HW - p0 : ACT_CHUNK;
            float si[ACT_CHUNK], sf[ACT_CHUNK], sg[ACT_CHUNK];
            for (int64_t p = 0; p < m; p++) {
                const int64_t q = p0 + p;
                si[p] = ix[q] + ih[q] + ic[q];
                sf[p] = fx[q] + fh[q] + fc[q] + CAUSAL_LSTM_FORGET_BIAS;
                sg[p] = gx[q] + gh[q] + gc[q];
            }
            vm_sigmoid(si, gi + p0, m);
            vm_sigmoid(sf, gf + p0, m);
            vm_tanhf(sg, gg + p0, m);
        }
        for (int64_t p = 0; p < HW; p++) co[p] = (cp ? gf[p] * cp[p] : 0.0f) + gi[p] * (mk ? gg[p] * mk[p] : gg[p]);
    }
}

void causal_lstm_stage1_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                const Tensor *c_prev, Tensor *gates1, Tensor *c) {
    causal_lstm_stage1_forward_masked(x_cc, h_cc, c_cc, c_prev, NULL, gates1, c);
}

int causal_lstm_stage1_backward_masked_check(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask,
                                             const Tensor *dc, Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc,
                                             Tensor *dc_prev) {
    const char *op = "causal_lstm_stage1_backward";
    require_4d(op, "dc", dc);
    require_blocks(op, "dc", dc, dc, 1);
    require_blocks(op, "gates1", gates1, dc, 3);
    require_blocks(op, "c_prev", c_prev, dc, 1);
    require_blocks(op, "gmask", gmask, dc, 1);
    require_blocks(op, "dx_cc", dx_cc, dc, 7);
    require_blocks(op, "dh_cc", dh_cc, dc, 4);
    require_blocks(op, "dc_cc", dc_cc, dc, 3);
    require_blocks(op, "dc_prev", dc_prev, dc, 1);
    return ops_device("causal_lstm_stage1_backward", gates1, c_prev, gmask, dc, dx_cc, dh_cc, dc_cc, dc_prev);
}

/* The backward loops compute a row's gradients a chunk of BWD_CHUNK pixels at a time into stack
 * buffers with vector loops (the formulas as written, element by element: the same rounding as a
 * scalar loop), then copy them to each requested output block. Which optional inputs exist (c_prev,
 * the mask) is a constant in each instance of the chunk functions, so their loops have no branches. */
#define BWD_CHUNK 256
#define BWD_INLINE static inline __attribute__((always_inline))

/* Copy n floats to dst if dst is not NULL. */
static inline void put(float *dst, const float *src, int64_t n) {
    if (dst) memcpy(dst, src, sizeof(float) * (size_t)n);
}

BWD_INLINE void stage1_bwd_chunk(const float *gi, const float *gf, const float *gg, const float *cp, const float *mk,
                                 const float *d, int64_t n, float *di_o, float *dg_o, float *df_o, const int has_cp,
                                 const int has_mk) {
#pragma omp simd
    for (int64_t p = 0; p < n; p++) {
        const float i = gi[p], f = gf[p], g = gg[p], cprev = has_cp ? cp[p] : 0.0f;
        /* (dc·g)·mask and (dc·i)·mask: the masked candidate's two factors, in this order */
        const float dcg = has_mk ? d[p] * g * mk[p] : d[p] * g, dci = has_mk ? d[p] * i * mk[p] : d[p] * i;
        di_o[p] = dcg * i * (1.0f - i);
        df_o[p] = d[p] * cprev * f * (1.0f - f);
        dg_o[p] = dci * (1.0f - g * g);
    }
}

void cpu_causal_lstm_stage1_backward_masked(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask,
                                            const Tensor *dc, Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc,
                                            Tensor *dc_prev) {
    const int B = dc->shape[0], n = dc->shape[1];
    const int64_t HW = (int64_t)dc->shape[2] * dc->shape[3], nhw = n * HW;
    const int any = dx_cc || dh_cc || dc_cc;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *gi = blk(gates1, 3, b, 0, nhw) + off, *gf = blk(gates1, 3, b, 1, nhw) + off,
                    *gg = blk(gates1, 3, b, 2, nhw) + off;
        const float *cp = c_prev ? blk(c_prev, 1, b, 0, nhw) + off : NULL;
        const float *mk = gmask ? blk(gmask, 1, b, 0, nhw) + off : NULL;
        const float *d = blk(dc, 1, b, 0, nhw) + off;
        float *dcp = dc_prev ? blk(dc_prev, 1, b, 0, nhw) + off : NULL;
        /* block order i, g, f in x_cc / h_cc / c_cc */
        float *ox[3], *oh[3], *oc[3];
        for (int k = 0; k < 3; k++) {
            ox[k] = dx_cc ? blk(dx_cc, 7, b, k, nhw) + off : NULL;
            oh[k] = dh_cc ? blk(dh_cc, 4, b, k, nhw) + off : NULL;
            oc[k] = dc_cc ? blk(dc_cc, 3, b, k, nhw) + off : NULL;
        }
        for (int64_t p0 = 0; any && p0 < HW; p0 += BWD_CHUNK) {
            const int64_t m = HW - p0 < BWD_CHUNK ? HW - p0 : BWD_CHUNK;
            float t[3][BWD_CHUNK]; /* di, dg, df */
            const float *cq = cp ? cp + p0 : NULL, *mq = mk ? mk + p0 : NULL;
            if (cp && mk) stage1_bwd_chunk(gi + p0, gf + p0, gg + p0, cq, mq, d + p0, m, t[0], t[1], t[2], 1, 1);
            else if (cp) stage1_bwd_chunk(gi + p0, gf + p0, gg + p0, cq, mq, d + p0, m, t[0], t[1], t[2], 1, 0);
            else if (mk) stage1_bwd_chunk(gi + p0, gf + p0, gg + p0, cq, mq, d + p0, m, t[0], t[1], t[2], 0, 1);
            else stage1_bwd_chunk(gi + p0, gf + p0, gg + p0, cq, mq, d + p0, m, t[0], t[1], t[2], 0, 0);
            for (int k = 0; k < 3; k++) {
                put(ox[k] ? ox[k] + p0 : NULL, t[k], m);
                put(oh[k] ? oh[k] + p0 : NULL, t[k], m);
                put(oc[k] ? oc[k] + p0 : NULL, t[k], m);
            }
        }
        if (dcp) {
#pragma omp simd
            for (int64_t p = 0; p < HW; p++) dcp[p] += gf[p] * d[p];
        }
    }
}

void causal_lstm_stage1_backward(const Tensor *gates1, const Tensor *c_prev, const Tensor *dc,
                                 Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc, Tensor *dc_prev) {
    causal_lstm_stage1_backward_masked(gates1, c_prev, NULL, dc, dx_cc, dh_cc, dc_cc, dc_prev);
}

/* ------------------------------------------------------------------------------------------------ */

int causal_lstm_stage2_forward_masked_check(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc,
                                            const Tensor *ggmask, Tensor *gates2, Tensor *m) {
    const char *op = "causal_lstm_stage2_forward";
    require_4d(op, "m", m);
    require_blocks(op, "m", m, m, 1);
    require_blocks(op, "x_cc", x_cc, m, 7);
    require_blocks(op, "c2m", c2m, m, 4);
    require_blocks(op, "m_cc", m_cc, m, 3);
    require_blocks(op, "ggmask", ggmask, m, 1);
    require_blocks(op, "gates2", gates2, m, 4);
    return ops_device("causal_lstm_stage2_forward", x_cc, c2m, m_cc, ggmask, gates2, m);
}

void cpu_causal_lstm_stage2_forward_masked(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc,
                                           const Tensor *ggmask, Tensor *gates2, Tensor *m) {
    const int B = m->shape[0], n = m->shape[1];
    const int64_t HW = (int64_t)m->shape[2] * m->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *ix = blk(x_cc, 7, b, 4, nhw) + off, *gx = blk(x_cc, 7, b, 5, nhw) + off,
                    *fx = blk(x_cc, 7, b, 6, nhw) + off;
        const float *ic = blk(c2m, 4, b, 0, nhw) + off, *gc = blk(c2m, 4, b, 1, nhw) + off,
                    *fc = blk(c2m, 4, b, 2, nhw) + off;
        const float *im = blk(m_cc, 3, b, 0, nhw) + off, *fm = blk(m_cc, 3, b, 1, nhw) + off,
                    *mm = blk(m_cc, 3, b, 2, nhw) + off;
        const float *mk = ggmask ? blk(ggmask, 1, b, 0, nhw) + off : NULL;
        float *gii = blk(gates2, 4, b, 0, nhw) + off, *gff = blk(gates2, 4, b, 1, nhw) + off,
              *ggg = blk(gates2, 4, b, 2, nhw) + off, *gtm = blk(gates2, 4, b, 3, nhw) + off;
        float *mo = blk(m, 1, b, 0, nhw) + off;
        for (int64_t p0 = 0; p0 < HW; p0 += ACT_CHUNK) {
            const int64_t m = HW - p0 < ACT_CHUNK ? HW - p0 : ACT_CHUNK;
            float si[ACT_CHUNK], sf[ACT_CHUNK], sg[ACT_CHUNK];
            for (int64_t p = 0; p < m; p++) {
                const int64_t q = p0 + p;
                si[p] = ic[q] + ix[q] + im[q];
                sf[p] = fc[q] + fx[q] + fm[q] + CAUSAL_LSTM_FORGET_BIAS;
                sg[p] = gc[q] + gx[q];
            }
            vm_sigmoid(si, gii + p0, m);
            vm_sigmoid(sf, gff + p0, m);
            vm_tanhf(sg, ggg + p0, m);
        }
        vm_tanhf(mm, gtm, HW);
        for (int64_t p = 0; p < HW; p++) mo[p] = gff[p] * gtm[p] + gii[p] * (mk ? ggg[p] * mk[p] : ggg[p]);
    }
}

void causal_lstm_stage2_forward(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc, Tensor *gates2,
                                Tensor *m) {
    causal_lstm_stage2_forward_masked(x_cc, c2m, m_cc, NULL, gates2, m);
}

int causal_lstm_stage2_backward_masked_check(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm,
                                             Tensor *dx_cc, Tensor *dc2m, Tensor *dm_cc) {
    const char *op = "causal_lstm_stage2_backward";
    require_4d(op, "dm", dm);
    require_blocks(op, "dm", dm, dm, 1);
    require_blocks(op, "gates2", gates2, dm, 4);
    require_blocks(op, "ggmask", ggmask, dm, 1);
    require_blocks(op, "dx_cc", dx_cc, dm, 7);
    require_blocks(op, "dc2m", dc2m, dm, 4);
    require_blocks(op, "dm_cc", dm_cc, dm, 3);
    return ops_device("causal_lstm_stage2_backward", gates2, ggmask, dm, dx_cc, dc2m, dm_cc);
}

BWD_INLINE void stage2_bwd_chunk(const float *gii, const float *gff, const float *ggg, const float *gtm,
                                 const float *mk, const float *d, int64_t n, float *dii_o, float *dgg_o, float *dff_o,
                                 float *dmm_o, const int has_mk) {
#pragma omp simd
    for (int64_t p = 0; p < n; p++) {
        const float ii = gii[p], ff = gff[p], gg = ggg[p], tm = gtm[p];
        const float dmg = has_mk ? d[p] * gg * mk[p] : d[p] * gg, dmi = has_mk ? d[p] * ii * mk[p] : d[p] * ii;
        dii_o[p] = dmg * ii * (1.0f - ii);
        dff_o[p] = d[p] * tm * ff * (1.0f - ff);
        dgg_o[p] = dmi * (1.0f - gg * gg);
        dmm_o[p] = d[p] * ff * (1.0f - tm * tm);
    }
}

void cpu_causal_lstm_stage2_backward_masked(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm,
                                            Tensor *dx_cc, Tensor *dc2m, Tensor *dm_cc) {
    const int B = dm->shape[0], n = dm->shape[1];
    const int64_t HW = (int64_t)dm->shape[2] * dm->shape[3], nhw = n * HW;
    if (!dx_cc && !dc2m && !dm_cc) return;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *gii = blk(gates2, 4, b, 0, nhw) + off, *gff = blk(gates2, 4, b, 1, nhw) + off,
                    *ggg = blk(gates2, 4, b, 2, nhw) + off, *gtm = blk(gates2, 4, b, 3, nhw) + off;
        const float *mk = ggmask ? blk(ggmask, 1, b, 0, nhw) + off : NULL;
        const float *d = blk(dm, 1, b, 0, nhw) + off;
        /* x_cc blocks 4, 5, 6 = i', g', f'; c2m blocks 0, 1, 2 = i, g, f; m_cc blocks 0, 1, 2 = i, f, m */
        enum { DII, DGG, DFF, DMM };
        float *ox[3], *oc[3], *om[3];
        for (int k = 0; k < 3; k++) {
            ox[k] = dx_cc ? blk(dx_cc, 7, b, 4 + k, nhw) + off : NULL;
            oc[k] = dc2m ? blk(dc2m, 4, b, k, nhw) + off : NULL;
            om[k] = dm_cc ? blk(dm_cc, 3, b, k, nhw) + off : NULL;
        }
        for (int64_t p0 = 0; p0 < HW; p0 += BWD_CHUNK) {
            const int64_t m = HW - p0 < BWD_CHUNK ? HW - p0 : BWD_CHUNK;
            float t[4][BWD_CHUNK];
            if (mk) stage2_bwd_chunk(gii + p0, gff + p0, ggg + p0, gtm + p0, mk + p0, d + p0, m, t[DII], t[DGG], t[DFF], t[DMM], 1);
            else stage2_bwd_chunk(gii + p0, gff + p0, ggg + p0, gtm + p0, NULL, d + p0, m, t[DII], t[DGG], t[DFF], t[DMM], 0);
            const int x_of[3] = {DII, DGG, DFF}, m_of[3] = {DII, DFF, DMM};
            for (int k = 0; k < 3; k++) {
                put(ox[k] ? ox[k] + p0 : NULL, t[x_of[k]], m);
                put(oc[k] ? oc[k] + p0 : NULL, t[x_of[k]], m);
                put(om[k] ? om[k] + p0 : NULL, t[m_of[k]], m);
            }
        }
    }
}

void causal_lstm_stage2_backward(const Tensor *gates2, const Tensor *dm, Tensor *dx_cc, Tensor *dc2m,
                                 Tensor *dm_cc) {
    causal_lstm_stage2_backward_masked(gates2, NULL, dm, dx_cc, dc2m, dm_cc);
}

/* ------------------------------------------------------------------------------------------------ */

int causal_lstm_stage3_forward_check(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m, const Tensor *o_m,
                                     const Tensor *cell, Tensor *gates3, Tensor *h) {
    const char *op = "causal_lstm_stage3_forward";
    require_4d(op, "h", h);
    require_blocks(op, "h", h, h, 1);
    require_blocks(op, "x_cc", x_cc, h, 7);
    require_blocks(op, "h_cc", h_cc, h, 4);
    require_blocks(op, "c2m", c2m, h, 4);
    require_blocks(op, "o_m", o_m, h, 1);
    require_blocks(op, "cell", cell, h, 1);
    require_blocks(op, "gates3", gates3, h, 2);
    return ops_device("causal_lstm_stage3_forward", x_cc, h_cc, c2m, o_m, cell, gates3, h);
}

void cpu_causal_lstm_stage3_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m, const Tensor *o_m,
                                    const Tensor *cell, Tensor *gates3, Tensor *h) {
    const int B = h->shape[0], n = h->shape[1];
    const int64_t HW = (int64_t)h->shape[2] * h->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *ox = blk(x_cc, 7, b, 3, nhw) + off, *oh = blk(h_cc, 4, b, 3, nhw) + off,
                    *oc = blk(c2m, 4, b, 3, nhw) + off, *om = blk(o_m, 1, b, 0, nhw) + off,
                    *ce = blk(cell, 1, b, 0, nhw) + off;
        float *go = blk(gates3, 2, b, 0, nhw) + off, *gt = blk(gates3, 2, b, 1, nhw) + off;
        float *ho = blk(h, 1, b, 0, nhw) + off;
        for (int64_t p0 = 0; p0 < HW; p0 += ACT_CHUNK) {
            const int64_t m = HW - p0 < ACT_CHUNK ? HW - p0 : ACT_CHUNK;
            float so[ACT_CHUNK];
            for (int64_t p = 0; p < m; p++) so[p] = ox[p0 + p] + oh[p0 + p] + oc[p0 + p] + om[p0 + p];
            vm_tanhf(so, go + p0, m);
        }
        vm_tanhf(ce, gt, HW);
        for (int64_t p = 0; p < HW; p++) ho[p] = go[p] * gt[p];
    }
}

int causal_lstm_stage3_backward_check(const Tensor *gates3, const Tensor *dh, Tensor *dx_cc, Tensor *dh_cc,
                                      Tensor *dc2m, Tensor *do_m, Tensor *dcell) {
    const char *op = "causal_lstm_stage3_backward";
    require_4d(op, "dh", dh);
    require_blocks(op, "dh", dh, dh, 1);
    require_blocks(op, "gates3", gates3, dh, 2);
    require_blocks(op, "dx_cc", dx_cc, dh, 7);
    require_blocks(op, "dh_cc", dh_cc, dh, 4);
    require_blocks(op, "dc2m", dc2m, dh, 4);
    require_blocks(op, "do_m", do_m, dh, 1);
    require_blocks(op, "dcell", dcell, dh, 1);
    return ops_device("causal_lstm_stage3_backward", gates3, dh, dx_cc, dh_cc, dc2m, do_m, dcell);
}

void cpu_causal_lstm_stage3_backward(const Tensor *gates3, const Tensor *dh, Tensor *dx_cc, Tensor *dh_cc,
                                     Tensor *dc2m, Tensor *do_m, Tensor *dcell) {
    const int B = dh->shape[0], n = dh->shape[1];
    const int64_t HW = (int64_t)dh->shape[2] * dh->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *go = blk(gates3, 2, b, 0, nhw) + off, *gt = blk(gates3, 2, b, 1, nhw) + off;
        const float *d = blk(dh, 1, b, 0, nhw) + off;
        float *out[4] = {dx_cc ? blk(dx_cc, 7, b, 3, nhw) + off : NULL, dh_cc ? blk(dh_cc, 4, b, 3, nhw) + off : NULL,
                         dc2m ? blk(dc2m, 4, b, 3, nhw) + off : NULL, do_m ? blk(do_m, 1, b, 0, nhw) + off : NULL};
        float *dce = dcell ? blk(dcell, 1, b, 0, nhw) + off : NULL;
        for (int64_t p0 = 0; p0 < HW; p0 += BWD_CHUNK) {
            const int64_t m = HW - p0 < BWD_CHUNK ? HW - p0 : BWD_CHUNK;
            float t[BWD_CHUNK];
            const float *o = go + p0, *tc = gt + p0, *dq = d + p0;
#pragma omp simd
            for (int64_t p = 0; p < m; p++) t[p] = dq[p] * tc[p] * (1.0f - o[p] * o[p]);
            for (int k = 0; k < 4; k++) put(out[k] ? out[k] + p0 : NULL, t, m);
        }
        if (dce) {
#pragma omp simd
            for (int64_t p = 0; p < HW; p++) dce[p] = d[p] * go[p] * (1.0f - gt[p] * gt[p]);
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */

int ghu_forward_check(const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates, Tensor *z) {
    const char *op = "ghu_forward";
    require_4d(op, "z", z);
    require_blocks(op, "z", z, z, 1);
    require_blocks(op, "zz", zz, z, 2);
    require_blocks(op, "zx", zx, z, 2);
    require_blocks(op, "z_prev", z_prev, z, 1);
    require_blocks(op, "gates", gates, z, 2);
    return ops_device("ghu_forward", zz, zx, z_prev, gates, z);
}

void cpu_ghu_forward(const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates, Tensor *z) {
    const int B = z->shape[0], n = z->shape[1];
    const int64_t HW = (int64_t)z->shape[2] * z->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *pz = blk(zz, 2, b, 0, nhw) + off, *uz = blk(zz, 2, b, 1, nhw) + off;
        const float *px = blk(zx, 2, b, 0, nhw) + off, *ux = blk(zx, 2, b, 1, nhw) + off;
        const float *zp = z_prev ? blk(z_prev, 1, b, 0, nhw) + off : NULL;
        float *gp = blk(gates, 2, b, 0, nhw) + off, *gu = blk(gates, 2, b, 1, nhw) + off;
        float *zo = blk(z, 1, b, 0, nhw) + off;
        for (int64_t p0 = 0; p0 < HW; p0 += ACT_CHUNK) {
            const int64_t m = HW - p0 < ACT_CHUNK ? HW - p0 : ACT_CHUNK;
            float sp[ACT_CHUNK], su[ACT_CHUNK];
            for (int64_t p = 0; p < m; p++) {
                sp[p] = pz[p0 + p] + px[p0 + p];
                su[p] = uz[p0 + p] + ux[p0 + p];
            }
            vm_tanhf(sp, gp + p0, m);
            vm_sigmoid(su, gu + p0, m);
        }
        for (int64_t p = 0; p < HW; p++) zo[p] = gu[p] * gp[p] + (1.0f - gu[p]) * (zp ? zp[p] : 0.0f);
    }
}

int ghu_backward_check(const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,
                       Tensor *dz_prev) {
    const char *op = "ghu_backward";
    require_4d(op, "dz", dz);
    require_blocks(op, "dz", dz, dz, 1);
    require_blocks(op, "gates", gates, dz, 2);
    require_blocks(op, "z_prev", z_prev, dz, 1);
    require_blocks(op, "dpre", dpre, dz, 2);
    require_blocks(op, "dz_prev", dz_prev, dz, 1);
    return ops_device("ghu_backward", gates, z_prev, dz, dpre, dz_prev);
}

BWD_INLINE void ghu_bwd_row(const float *gp, const float *gu, const float *zp, const float *d, int64_t n,
                            float *dp, float *du, const int has_zp) {
#pragma omp simd
    for (int64_t p = 0; p < n; p++) {
        const float pv = gp[p], u = gu[p], zprev = has_zp ? zp[p] : 0.0f;
        dp[p] = d[p] * u * (1.0f - pv * pv);
        du[p] = d[p] * (pv - zprev) * u * (1.0f - u);
    }
}

void cpu_ghu_backward(const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,
                      Tensor *dz_prev) {
    const int B = dz->shape[0], n = dz->shape[1];
    const int64_t HW = (int64_t)dz->shape[2] * dz->shape[3], nhw = n * HW;
#pragma omp parallel for schedule(static) PAR_ROWS(B, n, HW)
    for (int r = 0; r < B * n; r++) {
        const int b = r / n;
        const int64_t off = (int64_t)(r % n) * HW;
        const float *gp = blk(gates, 2, b, 0, nhw) + off, *gu = blk(gates, 2, b, 1, nhw) + off;
        const float *zp = z_prev ? blk(z_prev, 1, b, 0, nhw) + off : NULL;
        const float *d = blk(dz, 1, b, 0, nhw) + off;
        float *dp = dpre ? blk(dpre, 2, b, 0, nhw) + off : NULL, *du = dpre ? blk(dpre, 2, b, 1, nhw) + off : NULL;
        float *dzp = dz_prev ? blk(dz_prev, 1, b, 0, nhw) + off : NULL;
        if (dpre) {
            if (zp) ghu_bwd_row(gp, gu, zp, d, HW, dp, du, 1);
            else ghu_bwd_row(gp, gu, NULL, d, HW, dp, du, 0);
        }
        if (dzp) {
#pragma omp simd
            for (int64_t p = 0; p < HW; p++) dzp[p] += (1.0f - gu[p]) * d[p];
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */

static void concat_check(const char *op, const Tensor *a, const Tensor *b, const Tensor *y) {
    require_4d(op, "y", y);
    require_device(op, y);
    require_device(op, a);
    require_device(op, b);
    int ok = a && b && a->ndim == 4 && b->ndim == 4;
    for (int i = 0; ok && i < 4; i++)
        if (i != 1 && (a->shape[i] != y->shape[i] || b->shape[i] != y->shape[i])) ok = 0;
    if (ok && a->shape[1] + b->shape[1] != y->shape[1]) ok = 0;
    if (!ok) {
        char sa[96], sb[96], sy[96];
        rr_die("%s: shapes do not fit a (B, Ca, H, W), b (B, Cb, H, W), y (B, Ca + Cb, H, W): a %s, b %s, "
               "y %s", op, a ? tensor_shape_str(a, sa, sizeof sa) : "?", b ? tensor_shape_str(b, sb, sizeof sb) : "?",
               tensor_shape_str(y, sy, sizeof sy));
    }
}

int concat_channels_forward_check(const Tensor *a, const Tensor *b, Tensor *y) {
    concat_check("concat_channels_forward", a, b, y);
    return ops_device("concat_channels_forward", a, b, y);
}

void cpu_concat_channels_forward(const Tensor *a, const Tensor *b, Tensor *y) {
    const int B = y->shape[0];
    const int64_t na = a->count / B, nb = b->count / B;
    for (int s = 0; s < B; s++) {
        memcpy(y->data + s * (na + nb), a->data + s * na, sizeof(float) * (size_t)na);
        memcpy(y->data + s * (na + nb) + na, b->data + s * nb, sizeof(float) * (size_t)nb);
    }
}

int concat_channels_backward_check(const Tensor *dy, Tensor *da, Tensor *db) {
    const char *op = "concat_channels_backward";
    if (!da || !db) {
        /* shapes of the missing side follow from dy and the present side */
        const Tensor *t = da ? da : db;
        if (!t) return RR_CPU; /* nothing to compute: the CPU entry returns at once */
        require_4d(op, "dy", dy);
        require_4d(op, da ? "da" : "db", t);
        if (t->shape[0] != dy->shape[0] || t->shape[1] > dy->shape[1] || t->shape[2] != dy->shape[2] ||
            t->shape[3] != dy->shape[3]) {
            char st[96], sy[96];
            rr_die("%s: %s %s does not fit dy %s", op, da ? "da" : "db", tensor_shape_str(t, st, sizeof st),
                   tensor_shape_str(dy, sy, sizeof sy));
        }
        require_device(op, t);
        require_device(op, dy);
    } else {
        concat_check(op, da, db, dy);
    }
    return ops_device("concat_channels_backward", dy, da, db);
}

void cpu_concat_channels_backward(const Tensor *dy, Tensor *da, Tensor *db) {
    if (!da && !db) return;
    const int B = dy->shape[0];
    const int64_t ny = dy->count / B, na = da ? da->count / B : ny - db->count / B, nb = ny - na;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && dy->count > 65536)
    for (int s = 0; s < B; s++) {
        const float *src = dy->data + s * ny;
        if (da) {
            float *d = da->data + s * na;
            for (int64_t i = 0; i < na; i++) d[i] += src[i];
        }
        if (db) {
            float *d = db->data + s * nb;
            for (int64_t i = 0; i < nb; i++) d[i] += src[na + i];
        }
    }
}
