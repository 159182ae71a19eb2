/* causal_lstm_cell_kernels.cu — CUDA twin of src/causal_lstm_cell.c (PredRNN++ Causal LSTM stages, stages
 * 1 and 2 with the optional Semeniuta candidate mask (NULL: none), gradient highway unit, channel
 * concatenation; equations and block layouts in causal_lstm_cell.h).
 * One thread per element e of the state (B, n, H, W): sample b = e / (n·HW), r = e % (n·HW); block k
 * of a (B, K·n, H, W) tensor holds that element at (b·K + k)·n·HW + r. Same float expressions as the
 * CPU loops (only expf/tanhf differ, by a few ulp). */
#include "cuda_common.cuh"

#define FORGET_BIAS CAUSAL_LSTM_FORGET_BIAS

/* Element e's index in block k of a tensor with K blocks of nhw floats per sample. */
__device__ __forceinline__ int64_t bk(int64_t e, int K, int k, int64_t nhw) {
    return (e / nhw * K + k) * nhw + e % nhw;
}

__global__ void stage1_forward_kernel(const float *x_cc, const float *h_cc, const float *c_cc, const float *c_prev,
                                      const float *gmask, float *gates1, float *c, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float i = dev_sigmoid(x_cc[bk(e, 7, 0, nhw)] + h_cc[bk(e, 4, 0, nhw)] + c_cc[bk(e, 3, 0, nhw)]);
        const float f =
            dev_sigmoid(x_cc[bk(e, 7, 2, nhw)] + h_cc[bk(e, 4, 2, nhw)] + c_cc[bk(e, 3, 2, nhw)] + FORGET_BIAS);
        const float g = tanhf(x_cc[bk(e, 7, 1, nhw)] + h_cc[bk(e, 4, 1, nhw)] + c_cc[bk(e, 3, 1, nhw)]);
        gates1[bk(e, 3, 0, nhw)] = i;
        gates1[bk(e, 3, 1, nhw)] = f;
        gates1[bk(e, 3, 2, nhw)] = g;
        c[e] = (c_prev ? f * c_prev[e] : 0.0f) + i * (gmask ? g * gmask[e] : g);
    }
}

__global__ void stage1_backward_kernel(const float *gates1, const float *c_prev, const float *gmask, const float *dc,
                                       float *dx_cc, float *dh_cc, float *dc_cc, float *dc_prev, int64_t nhw,
                                       int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float i = gates1[bk(e, 3, 0, nhw)], f = gates1[bk(e, 3, 1, nhw)], g = gates1[bk(e, 3, 2, nhw)];
        const float cprev = c_prev ? c_prev[e] : 0.0f, d = dc[e];
        const float dcg = gmask ? d * g * gmask[e] : d * g, dci = gmask ? d * i * gmask[e] : d * i;
        const float di = dcg * i * (1.0f - i);
        const float df = d * cprev * f * (1.0f - f);
        const float dg = dci * (1.0f - g * g);
        if (dx_cc) { /* block order i, g, f */
            dx_cc[bk(e, 7, 0, nhw)] = di;
            dx_cc[bk(e, 7, 1, nhw)] = dg;
            dx_cc[bk(e, 7, 2, nhw)] = df;
        }
        if (dh_cc) {
            dh_cc[bk(e, 4, 0, nhw)] = di;
            dh_cc[bk(e, 4, 1, nhw)] = dg;
            dh_cc[bk(e, 4, 2, nhw)] = df;
        }
        if (dc_cc) {
            dc_cc[bk(e, 3, 0, nhw)] = di;
            dc_cc[bk(e, 3, 1, nhw)] = dg;
            dc_cc[bk(e, 3, 2, nhw)] = df;
        }
        if (dc_prev) dc_prev[e] += f * d;
    }
}

__global__ void stage2_forward_kernel(const float *x_cc, const float *c2m, const float *m_cc, const float *ggmask,
                                      float *gates2, float *m, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float ii = dev_sigmoid(c2m[bk(e, 4, 0, nhw)] + x_cc[bk(e, 7, 4, nhw)] + m_cc[bk(e, 3, 0, nhw)]);
        const float ff =
            dev_sigmoid(c2m[bk(e, 4, 2, nhw)] + x_cc[bk(e, 7, 6, nhw)] + m_cc[bk(e, 3, 1, nhw)] + FORGET_BIAS);
        const float gg = tanhf(c2m[bk(e, 4, 1, nhw)] + x_cc[bk(e, 7, 5, nhw)]);
        const float tm = tanhf(m_cc[bk(e, 3, 2, nhw)]);
        gates2[bk(e, 4, 0, nhw)] = ii;
        gates2[bk(e, 4, 1, nhw)] = ff;
        gates2[bk(e, 4, 2, nhw)] = gg;
        gates2[bk(e, 4, 3, nhw)] = tm;
        m[e] = ff * tm + ii * (ggmask ? gg * ggmask[e] : gg);
    }
}

__global__ void stage2_backward_kernel(const float *gates2, const float *ggmask, const float *dm, float *dx_cc,
                                       float *dc2m, float *dm_cc, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float ii = gates2[bk(e, 4, 0, nhw)], ff = gates2[bk(e, 4, 1, nhw)], gg = gates2[bk(e, 4, 2, nhw)],
                    tm = gates2[bk(e, 4, 3, nhw)], d = dm[e];
        const float dmg = ggmask ? d * gg * ggmask[e] : d * gg, dmi = ggmask ? d * ii * ggmask[e] : d * ii;
        const float dii = dmg * ii * (1.0f - ii);
        const float dff = d * tm * ff * (1.0f - ff);
        const float dgg = dmi * (1.0f - gg * gg);
        const float dmm = d * ff * (1.0f - tm * tm);
        if (dx_cc) { /* x_cc blocks 4, 5, 6 = i', g', f' */
            dx_cc[bk(e, 7, 4, nhw)] = dii;
            dx_cc[bk(e, 7, 5, nhw)] = dgg;
            dx_cc[bk(e, 7, 6, nhw)] = dff;
        }
        if (dc2m) { /* c2m blocks 0, 1, 2 = i, g, f */
            dc2m[bk(e, 4, 0, nhw)] = dii;
            dc2m[bk(e, 4, 1, nhw)] = dgg;
            dc2m[bk(e, 4, 2, nhw)] = dff;
        }
        if (dm_cc) { /* m_cc blocks 0, 1, 2 = i, f, m */
            dm_cc[bk(e, 3, 0, nhw)] = dii;
            dm_cc[bk(e, 3, 1, nhw)] = dff;
            dm_cc[bk(e, 3, 2, nhw)] = dmm;
        }
    }
}

__global__ void stage3_forward_kernel(const float *x_cc, const float *h_cc, const float *c2m, const float *o_m,
                                      const float *cell, float *gates3, float *h, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float o = tanhf(x_cc[bk(e, 7, 3, nhw)] + h_cc[bk(e, 4, 3, nhw)] + c2m[bk(e, 4, 3, nhw)] + o_m[e]);
        const float tc = tanhf(cell[e]);
        gates3[bk(e, 2, 0, nhw)] = o;
        gates3[bk(e, 2, 1, nhw)] = tc;
        h[e] = o * tc;
    }
}

__global__ void stage3_backward_kernel(const float *gates3, const float *dh, float *dx_cc, float *dh_cc, float *dc2m,
                                       float *do_m, float *dcell, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float o = gates3[bk(e, 2, 0, nhw)], tc = gates3[bk(e, 2, 1, nhw)], d = dh[e];
        const float dpre = d * tc * (1.0f - o * o);
        if (dx_cc) dx_cc[bk(e, 7, 3, nhw)] = dpre;
        if (dh_cc) dh_cc[bk(e, 4, 3, nhw)] = dpre;
        if (dc2m) dc2m[bk(e, 4, 3, nhw)] = dpre;
        if (do_m) do_m[e] = dpre;
        if (dcell) dcell[e] = d * o * (1.0f - tc * tc);
    }
}

__global__ void ghu_forward_kernel(const float *zz, const float *zx, const float *z_prev, float *gates, float *z,
                                   int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float pv = tanhf(zz[bk(e, 2, 0, nhw)] + zx[bk(e, 2, 0, nhw)]);
        const float u = dev_sigmoid(zz[bk(e, 2, 1, nhw)] + zx[bk(e, 2, 1, nhw)]);
        gates[bk(e, 2, 0, nhw)] = pv;
        gates[bk(e, 2, 1, nhw)] = u;
        z[e] = u * pv + (1.0f - u) * (z_prev ? z_prev[e] : 0.0f);
    }
}

__global__ void ghu_backward_kernel(const float *gates, const float *z_prev, const float *dz, float *dpre,
                                    float *dz_prev, int64_t nhw, int64_t count) {
    RR_GRID_LOOP(e, count) {
        const float pv = gates[bk(e, 2, 0, nhw)], u = gates[bk(e, 2, 1, nhw)], d = dz[e];
        const float zprev = z_prev ? z_prev[e] : 0.0f;
        if (dpre) {
            dpre[bk(e, 2, 0, nhw)] = d * u * (1.0f - pv * pv);
            dpre[bk(e, 2, 1, nhw)] = d * (pv - zprev) * u * (1.0f - u);
        }
        if (dz_prev) dz_prev[e] += (1.0f - u) * d;
    }
}

/* y (B, ny) = [a (B, na), b (B, ny - na)] per sample; one thread per y element. */
__global__ void concat_forward_kernel(const float *a, const float *b, float *y, int64_t na, int64_t ny, int64_t n) {
    RR_GRID_LOOP(i, n) {
        const int64_t s = i / ny, q = i % ny;
        y[i] = q < na ? a[s * na + q] : b[s * (ny - na) + (q - na)];
    }
}

/* da += dy[:, :na], db += dy[:, na:]; one thread per dy element. */
__global__ void concat_backward_kernel(const float *dy, float *da, float *db, int64_t na, int64_t ny, int64_t n) {
    RR_GRID_LOOP(i, n) {
        const int64_t s = i / ny, q = i % ny;
        if (q < na) {
            if (da) da[s * na + q] += dy[i];
        } else if (db) {
            db[s * (ny - na) + (q - na)] += dy[i];
        }
    }
}

#define NHW(t) ((int64_t)(t)->shape[1] * (t)->shape[2] * (t)->shape[3])

extern "C" void causal_lstm_stage1_forward_masked_cuda(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                                const Tensor *c_prev, const Tensor *gmask, Tensor *gates1, Tensor *c) {
    LAUNCH(stage1_forward_kernel, c->count, x_cc->data, h_cc->data, c_cc->data, D(c_prev), D(gmask), gates1->data,
           c->data, NHW(c), c->count);
}

extern "C" void causal_lstm_stage1_backward_masked_cuda(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask,
                                                 const Tensor *dc, Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc,
                                                 Tensor *dc_prev) {
    LAUNCH(stage1_backward_kernel, dc->count, gates1->data, D(c_prev), D(gmask), dc->data, D(dx_cc), D(dh_cc),
           D(dc_cc), D(dc_prev), NHW(dc), dc->count);
}

extern "C" void causal_lstm_stage2_forward_masked_cuda(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc,
                                                const Tensor *ggmask, Tensor *gates2, Tensor *m) {
    LAUNCH(stage2_forward_kernel, m->count, x_cc->data, c2m->data, m_cc->data, D(ggmask), gates2->data, m->data,
           NHW(m), m->count);
}

extern "C" void causal_lstm_stage2_backward_masked_cuda(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm,
                                                 Tensor *dx_cc, Tensor *dc2m, Tensor *dm_cc) {
    LAUNCH(stage2_backward_kernel, dm->count, gates2->data, D(ggmask), dm->data, D(dx_cc), D(dc2m), D(dm_cc),
           NHW(dm), dm->count);
}

extern "C" void causal_lstm_stage3_forward_cuda(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m,
                                                const Tensor *o_m, const Tensor *cell, Tensor *gates3, Tensor *h) {
    LAUNCH(stage3_forward_kernel, h->count, x_cc->data, h_cc->data, c2m->data, o_m->data, cell->data, gates3->data,
           h->data, NHW(h), h->count);
}

extern "C" void causal_lstm_stage3_backward_cuda(const Tensor *gates3, const Tensor *dh, Tensor *dx_cc, Tensor *dh_cc,
                                                 Tensor *dc2m, Tensor *do_m, Tensor *dcell) {
    LAUNCH(stage3_backward_kernel, dh->count, gates3->data, dh->data, D(dx_cc), D(dh_cc), D(dc2m), D(do_m), D(dcell),
           NHW(dh), dh->count);
}

extern "C" void ghu_forward_cuda(const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates, Tensor *z) {
    LAUNCH(ghu_forward_kernel, z->count, zz->data, zx->data, D(z_prev), gates->data, z->data, NHW(z), z->count);
}

extern "C" void ghu_backward_cuda(const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,
                                  Tensor *dz_prev) {
    LAUNCH(ghu_backward_kernel, dz->count, gates->data, D(z_prev), dz->data, D(dpre), D(dz_prev), NHW(dz), dz->count);
}

extern "C" void concat_channels_forward_cuda(const Tensor *a, const Tensor *b, Tensor *y) {
    const int B = y->shape[0];
    if (B == 0) return;
    LAUNCH(concat_forward_kernel, y->count, a->data, b->data, y->data, a->count / B, y->count / B, y->count);
}

extern "C" void concat_channels_backward_cuda(const Tensor *dy, Tensor *da, Tensor *db) {
    const int B = dy->shape[0];
    if (B == 0 || (!da && !db)) return;
    const int64_t ny = dy->count / B, na = da ? da->count / B : ny - db->count / B;
    LAUNCH(concat_backward_kernel, dy->count, dy->data, D(da), D(db), na, ny, dy->count);
}
