/* bench_conv_onednn.c — micro-benchmark of one conv2d forward + backward (dx, dw, db) on rnnreg's
 * shapes: im2col + sgemm (src/conv.c) vs oneDNN (src/conv_onednn.c) with plain and "any" layouts, fp32
 * and bf16. Not part of `make test`; the numbers are ratios within one run (the machine may be shared:
 * best of `reps`, the variants of a shape measured in turn, round robin). Run it as rnnreg runs:
 * OPENBLAS_CORETYPE set to the core rnnreg picks (`build/rnnreg info`: "blas core"), since without it
 * Debian's OpenBLAS may take a slower kernel on this CPU. Build from the repository root after
 * `make` (default CONV=onednn, CUDA=0 or with the CUDA objects' libraries added):
 *   cc -std=c11 -O2 -fopenmp -D_GNU_SOURCE -Isrc -DRR_USE_ONEDNN tests/bench_conv_onednn.c \
 *      $(ls build/obj/*.o | grep -v main.o) -ljansson -lpng16 -lnettle -ldnnl -lopenblas -lm -o build/bench_conv
 *   OPENBLAS_CORETYPE=SkylakeX OMP_NUM_THREADS=1 build/bench_conv [reps=3]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"
#include "device.h"
#include "ops.h"
#include "ops_internal.h"
#include "rng.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rand_buf(int64_t n, uint32_t id) {
    float *p = rr_aligned_alloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) p[i] = rr_rand_uniform(1, rr_stream(RR_TAG_TEST, id, 0, 0), (uint64_t)i) - 0.5f;
    return p;
}

enum { V_IM2COL, V_F32_PLAIN, V_F32_ANY, V_BF16_PLAIN, V_BF16_ANY, NV };
static const char *vnames[NV] = {"im2col", "f32 plain", "f32 any", "bf16 plain", "bf16 any"};

static void bench(int B, int Cin, int Cout, int H, int k, int reps) {
    const int64_t HW = (int64_t)H * H, nx = B * Cin * HW, nw = (int64_t)Cout * Cin * k * k, ny = B * Cout * HW;
    float *xd = rand_buf(nx, 1), *wd = rand_buf(nw, 2), *bd = rand_buf(Cout, 3), *yd = rand_buf(ny, 4);
    float *dyd = rand_buf(ny, 5), *dxd = rand_buf(nx, 6), *dwd = rand_buf(nw, 7), *dbd = rand_buf(Cout, 8);
    Tensor x = tensor4(xd, RR_CPU, B, Cin, H, H), w = tensor4(wd, RR_CPU, Cout, Cin, k, k), b = tensor1(bd, RR_CPU, Cout);
    Tensor y = tensor4(yd, RR_CPU, B, Cout, H, H), dy = tensor4(dyd, RR_CPU, B, Cout, H, H);
    Tensor dx = tensor4(dxd, RR_CPU, B, Cin, H, H), dw = tensor4(dwd, RR_CPU, Cout, Cin, k, k), db = tensor1(dbd, RR_CPU, Cout);
    int64_t ns = conv2d_scratch_floats(&x, k);
    float *scratch = rr_aligned_alloc(sizeof(float) * (size_t)(ns ? ns : 1));
    double tf[NV], tb[NV];
    char impl[NV][64] = {{0}};
    for (int v = 0; v < NV; v++) tf[v] = tb[v] = 1e30;
    /* round robin over the variants, so a busy spell of the machine hits them alike; r = 0 warms up
     * (primitive creation) */
    for (int r = 0; r <= reps; r++)
        for (int v = 0; v < NV; v++) {
            if (v >= V_BF16_PLAIN && !device_cpu_bf16_isa()) continue;
            device_set_precision(v >= V_BF16_PLAIN ? RR_BF16 : RR_FP32);
            conv_onednn_set_layout(v == V_F32_PLAIN || v == V_BF16_PLAIN ? CONV_LAYOUT_PLAIN : CONV_LAYOUT_ANY);
            double t0 = now();
            if (v == V_IM2COL) conv2d_forward_im2col(&x, &w, &b, &y, 1, scratch);
            else conv2d_forward(&x, &w, &b, &y, 1, scratch);
            double t1 = now();
            if (v == V_IM2COL) conv2d_backward_im2col(&x, &w, &dy, &dx, &dw, &db, scratch);
            else conv2d_backward(&x, &w, &dy, &dx, &dw, &db, scratch);
            double t2 = now();
            if (r > 0 && t1 - t0 < tf[v]) tf[v] = t1 - t0;
            if (r > 0 && t2 - t1 < tb[v]) tb[v] = t2 - t1;
            if (v != V_IM2COL) snprintf(impl[v], sizeof impl[v], "%s", conv_onednn_last_impl());
        }
    device_set_precision(RR_FP32);
    conv_onednn_set_layout(CONV_LAYOUT_AUTO);
    const double gf = 2.0 * B * Cout * HW * Cin * k * k * 1e-9;
    printf("B=%d Cin=%3d Cout=%3d %2dx%-2d k=%d  im2col fwd %7.2f ms (%5.1f GFLOP/s) bwd %7.2f ms\n", B, Cin, Cout, H,
           H, k, 1e3 * tf[0], gf / tf[0], 1e3 * tb[0]);
    for (int v = 1; v < NV; v++)
        if (tf[v] < 1e29)
            printf("    %-10s fwd %7.2f ms  bwd %7.2f ms  speed-up vs im2col fwd %5.2fx bwd %5.2fx  (%s)\n", vnames[v],
                   1e3 * tf[v], 1e3 * tb[v], tf[0] / tf[v], tb[0] / tb[v], impl[v]);
    fflush(stdout);
    free(xd), free(wd), free(bd), free(yd), free(dyd), free(dxd), free(dwd), free(dbd), free(scratch);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    if (reps < 1) reps = 1;
    printf("conv engine %s, bf16: %s, best of %d\n", conv_cpu_engine(),
           device_cpu_bf16_isa() ? device_cpu_bf16_isa() : "none", reps);
    /* 16x16 maps (PredRNN++ / ConvLSTM after the 4x4 patch reshape), batch 8 */
    bench(8, 16, 512, 16, 5, reps);
    bench(8, 128, 512, 16, 5, reps);
    bench(8, 64, 256, 16, 5, reps);
    bench(8, 64, 256, 16, 3, reps);
    bench(8, 32, 128, 16, 3, reps);
    bench(8, 64, 64, 16, 1, reps);
    bench(8, 128, 16, 16, 1, reps);
    /* the Keras example's 64x64 maps (ConvLSTM2D, 64 filters; 4 gates) */
    bench(8, 1, 256, 64, 5, reps);
    bench(8, 64, 256, 64, 5, reps);
    bench(8, 64, 256, 64, 3, reps);
    bench(8, 64, 256, 64, 1, reps);
    return 0;
}
