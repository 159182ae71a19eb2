/* bench_ops.c — micro-benchmark of conv2d forward + backward (im2col + sgemm, src/conv.c) on the
 * model's two heavy shapes, against the machine's sgemm rate (one 2048³ rr_sgemm) and against the
 * same sgemm calls without im2col/col2im. Not part of `make test`. Times are the best of several
 * repetitions (the machine may be shared). Build from the repository root (add BLAS=builtin's
 * equivalent by dropping -DRR_USE_CBLAS ... -lopenblas):
 *   cc -std=c11 -O2 -fopenmp -D_GNU_SOURCE -Isrc -DRR_USE_CBLAS
 *      -I/usr/include/x86_64-linux-gnu/openblas-pthread tests/bench_ops.c src/tensor.c src/conv.c
 *      src/activation.c src/lstm_cell.c src/batchnorm.c src/elementwise.c src/loss.c
 *      src/optim_update.c src/blas.c src/common.c src/rng.c -lopenblas -lm -o build/bench_ops
 *   build/bench_ops [threads=2] [reps=5]
 */
#include <stdio.h>
#include <stdlib.h>

#include "blas.h"
#include "common.h"
#include "ops.h"
#include "rng.h"

static float *rand_buf(int64_t n, uint32_t id) {
    float *p = rr_aligned_alloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) p[i] = rr_rand_uniform(1, rr_stream(RR_TAG_TEST, id, 0, 0), (uint64_t)i) - 0.5f;
    return p;
}

static double best_of(double best, double t) { return t < best ? t : best; }

static void bench_conv(int B, int Cin, int Cout, int H, int k, int reps, double sgemm_rate) {
    const int64_t K = (int64_t)Cin * k * k, HW = (int64_t)H * H;
    float *xd = rand_buf(B * Cin * HW, 1), *wd = rand_buf(Cout * K, 2), *bd = rand_buf(Cout, 3);
    float *yd = rand_buf(B * Cout * HW, 4), *dyd = rand_buf(B * Cout * HW, 5), *dxd = rand_buf(B * Cin * HW, 6);
    float *dwd = rand_buf(Cout * K, 7), *dbd = rand_buf(Cout, 8);
    Tensor x = tensor4(xd, RR_CPU, B, Cin, H, H), w = tensor4(wd, RR_CPU, Cout, Cin, k, k), b = tensor1(bd, RR_CPU, Cout);
    Tensor y = tensor4(yd, RR_CPU, B, Cout, H, H), dy = tensor4(dyd, RR_CPU, B, Cout, H, H);
    Tensor dx = tensor4(dxd, RR_CPU, B, Cin, H, H), dw = tensor4(dwd, RR_CPU, Cout, Cin, k, k);
    Tensor db = tensor1(dbd, RR_CPU, Cout);
    int64_t ns = conv2d_scratch_floats(&x, k);
    float *scratch = rr_aligned_alloc(sizeof(float) * (size_t)(ns ? ns : 1));
    const double flops = 2.0 * B * Cout * HW * K; /* one product; the backward does two */
    double tf = 1e30, tb = 1e30, tg = 1e30;
    for (int r = -1; r < reps; r++) { /* r = -1 warms up */
        double t0 = rr_now();
        conv2d_forward(&x, &w, &b, &y, 0, scratch);
        double t1 = rr_now();
        conv2d_backward(&x, &w, &dy, &dx, &dw, &db, scratch);
        double t2 = rr_now();
        if (r >= 0) tf = best_of(tf, t1 - t0), tb = best_of(tb, t2 - t1);
    }
    /* the same sgemm calls alone (per sample: y = W·col, dW += dy·colᵀ, dcol = Wᵀ·dy) */
    float *col = rand_buf(K * HW, 20), *out = rand_buf(Cout * HW, 21);
    for (int r = 0; r < reps; r++) {
        double t0 = rr_now();
        for (int s = 0; s < B; s++) {
            rr_sgemm(0, 0, Cout, (int)HW, (int)K, 1.0f, wd, (int)K, col, (int)HW, 0.0f, out, (int)HW);
            rr_sgemm(0, 1, Cout, (int)K, (int)HW, 1.0f, out, (int)HW, col, (int)HW, 1.0f, dwd, (int)K);
            rr_sgemm(1, 0, (int)K, (int)HW, Cout, 1.0f, wd, (int)K, out, (int)HW, 0.0f, col, (int)HW);
        }
        tg = best_of(tg, rr_now() - t0);
    }
    double rate = 3 * flops / (tf + tb) * 1e-9;
    printf("conv2d B=%d Cin=%d Cout=%d %dx%d k=%d (%.2f GFLOP fwd+bwd): fwd %.1f ms (%.1f GFLOP/s), bwd %.1f ms "
           "(%.1f GFLOP/s), fwd+bwd %.1f GFLOP/s = %.0f%% of the 2048^3 sgemm rate; its sgemm calls alone %.1f "
           "GFLOP/s\n", B, Cin, Cout, H, H, k, 3 * flops * 1e-9, tf * 1e3, flops / tf * 1e-9, tb * 1e3,
           2 * flops / tb * 1e-9, rate, 100 * rate / sgemm_rate, 3 * flops / tg * 1e-9);
    free(xd), free(wd), free(bd), free(yd), free(dyd), free(dxd), free(dwd), free(dbd), free(scratch);
    free(col), free(out);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 5;
    if (threads < 1) threads = 1;
    if (reps < 1) reps = 1;
    rr_set_threads(threads);
    printf("blas %s, %d threads, best of %d\n", rr_blas_name(), threads, reps);
    const int n = 2048;
    float *A = rand_buf((int64_t)n * n, 10), *Bm = rand_buf((int64_t)n * n, 11), *C = rand_buf((int64_t)n * n, 12);
    rr_sgemm(0, 0, n, n, n, 1.0f, A, n, Bm, n, 0.0f, C, n);
    double ts = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = rr_now();
        rr_sgemm(0, 0, n, n, n, 1.0f, A, n, Bm, n, 0.0f, C, n);
        ts = best_of(ts, rr_now() - t0);
    }
    double sgemm_rate = 2.0 * n * n * n / ts * 1e-9;
    printf("sgemm %d^3: %.1f ms, %.1f GFLOP/s\n", n, ts * 1e3, sgemm_rate);
    free(A), free(Bm), free(C);
    bench_conv(8, 64 + 16, 256, 16, 5, reps, sgemm_rate); /* patch-4 ConvLSTM layer: x (16) ++ h (64) */
    bench_conv(5, 65, 256, 64, 5, reps, sgemm_rate);      /* full-frame layer 1: x (1) ++ h (64) */
    return 0;
}
