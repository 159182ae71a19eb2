/* test_gpu_ops.c — the CUDA backend against the CPU backend, op by op (in the manner of ggml's
 * test-backend-ops): every op of ops.h, layernorm.h, causal_lstm_cell.h and regularize.h runs on the
 * same random inputs once with CPU tensors and once with CUDA tensors (through the same op interface:
 * the op's entry, src/ops_dispatch.c, picks the backend by the tensors' device), forward and backward;
 * every output and every accumulated gradient is compared.
 *
 * Tolerances, per op (|gpu - cpu| <= atol + rtol |cpu|), and why:
 *   exact (0, 0): elementwise arithmetic, copies, select, relu / hard_sigmoid / identity, the MSE
 *     gradient, optimizer updates (same float operations in the same order, no FMA contraction:
 *     nvcc -fmad=false and explicit __f*_rn intrinsics), dropout and zoneout masks (same Philox bits),
 *     mask application, zoneout, channel bias, the L2 gradient, the masked Causal LSTM gradients (from
 *     the same saved gates), col2im order;
 *   1e-6 abs + 1e-6 rel: sigmoid / tanh forward (CUDA expf / tanhf are within 2 ulp, not glibc's bits),
 *     the split ConvLSTM cell halves (one activation per value), the channel-bias gradient (a double
 *     sum in tree order, rounded to float);
 *   1e-5 abs + 1e-5 rel: fused cells (LSTM, Causal LSTM, GHU) and their gradients, batch / layer norm
 *     (double reductions in tree order instead of sequential order; transcendental ulps propagate);
 *   conv2d FP32: 2e-5 + 1e-5 rel forward, 1e-4 + 1e-5 rel gradients (cuBLAS sums K products in its own
 *     order); conv2d TF32: 2e-2 + 1e-2 rel (10-bit mantissa inputs);
 *   double sums (MSE, sum of squares): 1e-12 rel.
 * Determinism: repeated GPU runs of the reductions and of conv2d backward give identical bits.
 * Without a CUDA device (or without CUDA compiled in) every case prints one skip line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "causal_lstm_cell.h"
#include "common.h"
#include "layernorm.h"
#include "ops.h"
#include "regularize.h"
#include "rng.h"
#include "tensor.h"
#include "test.h"
#include "gpu_device.h"
#ifdef RR_USE_CUDA
#include "cuda_ops.h" /* rr_cuda_conv_chunk_floats */
#endif

/* ---------------------------------------------------------------------------------------------- */
/* A tensor twice: on the CPU (host buffer) and on the GPU (view of the device arena). */

typedef struct {
    Tensor cpu, gpu;
} Pair;

static Arena dev;               /* device arena, rewound after each case */
static void *host_bufs[512];    /* host buffers, freed after each case */
static int n_host;
static uint64_t draw = 0;       /* RNG stream counter: every pair gets fresh numbers */

static float *host_alloc(int64_t n) {
    if (n_host == (int)(sizeof host_bufs / sizeof host_bufs[0])) rr_die("test_gpu_ops: too many host buffers");
    float *p = rr_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    host_bufs[n_host++] = p;
    return p;
}

static void case_end(void) {
    for (int i = 0; i < n_host; i++) free(host_bufs[i]);
    n_host = 0;
    arena_rewind(&dev);
}

/* Uniform in [lo, hi) on both devices (same values). */
static Pair pair_make(int ndim, const int *shape, float lo, float hi) {
    Pair p;
    p.cpu = tensor_make(NULL, RR_CPU, ndim, shape);
    p.cpu.data = host_alloc(p.cpu.count);
    const uint64_t stream = rr_stream(RR_TAG_TEST, (uint32_t)++draw, 7, 0);
    for (int64_t i = 0; i < p.cpu.count; i++) p.cpu.data[i] = lo + (hi - lo) * rr_rand_uniform(2024, stream, (uint64_t)i);
    p.gpu = arena_tensor(&dev, ndim, shape);
    op_from_host(p.cpu.data, &p.gpu);
    return p;
}
static Pair P4(int n, int c, int h, int w, float lo, float hi) {
    int s[4] = {n, c, h, w};
    return pair_make(4, s, lo, hi);
}
static Pair P1(int n, float lo, float hi) { return pair_make(1, &n, lo, hi); }

/* Compare the GPU tensor of p with its CPU twin. */
static int same(const char *what, const Pair *p, double atol, double rtol) {
    float *got = host_alloc(p->gpu.count);
    op_to_host(&p->gpu, got);
    return check_close_f32(what, got, p->cpu.data, (long)p->cpu.count, atol, rtol);
}

/* Bitwise equality of two GPU tensors (determinism). */
static void same_bits(const char *what, const Tensor *a, const Tensor *b) {
    float *ha = host_alloc(a->count), *hb = host_alloc(b->count);
    op_to_host(a, ha);
    op_to_host(b, hb);
    CHECK(a->count == b->count && memcmp(ha, hb, sizeof(float) * (size_t)a->count) == 0,
          "%s: two GPU runs give identical bits (n=%lld)", what, (long long)a->count);
}

#define C_(p) (&(p).cpu)
#define G_(p) (&(p).gpu)

/* ---------------------------------------------------------------------------------------------- */
/* conv2d */

static void conv_case(int B, int Cin, int Cout, int H, int W, int k, int with_bias, int tf32) {
    char what[160];
    const double fa = tf32 ? 2e-2 : 2e-5, fr = tf32 ? 1e-2 : 1e-5, ga = tf32 ? 5e-2 : 1e-4, gr = tf32 ? 1e-2 : 1e-5;
    set_tf32(tf32);
    Pair x = P4(B, Cin, H, W, -1, 1), w = P4(Cout, Cin, k, k, -1, 1), b = P1(Cout, -1, 1);
    Pair y = P4(B, Cout, H, W, -1, 1), y2 = P4(B, Cout, H, W, -1, 1);
    int shape_s[1] = {(int)conv2d_scratch_floats(G_(x), k) + 1};
    Pair scratch = pair_make(1, shape_s, 0, 0);
    const char *mode = tf32 ? "TF32" : "FP32";
    /* forward, overwrite (with or without bias) */
    conv2d_forward(C_(x), C_(w), with_bias ? C_(b) : NULL, C_(y), 0, scratch.cpu.data);
    conv2d_forward(G_(x), G_(w), with_bias ? G_(b) : NULL, G_(y), 0, scratch.gpu.data);
    snprintf(what, sizeof what, "conv2d_forward k=%d %s%s (%d,%d,%d,%d)->%d", k, mode, with_bias ? " +bias" : "", B,
             Cin, H, W, Cout);
    same(what, &y, fa, fr);
    /* forward, accumulate onto random y2 */
    conv2d_forward(C_(x), C_(w), with_bias ? C_(b) : NULL, C_(y2), 1, scratch.cpu.data);
    conv2d_forward(G_(x), G_(w), with_bias ? G_(b) : NULL, G_(y2), 1, scratch.gpu.data);
    snprintf(what, sizeof what, "conv2d_forward k=%d %s accumulate", k, mode);
    same(what, &y2, fa, fr);
    /* backward: dx, dw, db accumulate onto random values */
    Pair dy = P4(B, Cout, H, W, -1, 1), dx = P4(B, Cin, H, W, -1, 1), dw = P4(Cout, Cin, k, k, -1, 1),
         db = P1(Cout, -1, 1);
    conv2d_backward(C_(x), C_(w), C_(dy), C_(dx), C_(dw), C_(db), scratch.cpu.data);
    conv2d_backward(G_(x), G_(w), G_(dy), G_(dx), G_(dw), G_(db), scratch.gpu.data);
    snprintf(what, sizeof what, "conv2d_backward k=%d %s dx", k, mode);
    same(what, &dx, ga, gr);
    snprintf(what, sizeof what, "conv2d_backward k=%d %s dw", k, mode);
    same(what, &dw, ga * (B * H * W / 64 + 1), gr);
    snprintf(what, sizeof what, "conv2d_backward k=%d db", k);
    same(what, &db, 1e-5, 1e-6);
    set_tf32(0);
}

/* The chunk loops of conv_kernels.cu with chunks of a few samples: k = 3 over 3 chunks (the last one
 * short); k = 1 with Cout = 2·Cin, so dW's transposed dy of a 4-sample chunk holds 2 samples (two
 * sub-chunks) and the last chunk of 1 sample takes the one-product-per-sample path. */
static void test_conv2d_chunks(void) {
#ifdef RR_USE_CUDA
    const int64_t saved = rr_cuda_conv_chunk_floats;
    rr_cuda_conv_chunk_floats = 2 * 4 * 9 * 6 * 5; /* 2 samples of K·HW, K = 4·3·3, HW = 6·5 */
    conv_case(5, 4, 7, 6, 5, 3, 1, 0);
    rr_cuda_conv_chunk_floats = 4 * 3 * 7 * 6; /* 4 samples of K·HW, K = 3, HW = 7·6 */
    conv_case(5, 3, 6, 7, 6, 1, 1, 0);
    rr_cuda_conv_chunk_floats = saved;
#endif
}

static void test_conv2d(void) {
    conv_case(2, 5, 8, 10, 12, 3, 1, 0);
    conv_case(3, 4, 6, 9, 7, 5, 0, 0);
    conv_case(2, 6, 4, 8, 8, 1, 1, 0);
    conv_case(1, 16, 32, 16, 16, 3, 1, 0); /* MMNIST-like: 16×16 maps */
    conv_case(2, 5, 8, 10, 12, 3, 1, 1);   /* TF32 tensor cores */
    /* determinism: two GPU backward runs from the same start */
    Pair x = P4(2, 8, 16, 16, -1, 1), w = P4(12, 8, 3, 3, -1, 1), dy = P4(2, 12, 16, 16, -1, 1);
    int ss[1] = {(int)conv2d_scratch_floats(G_(x), 3)};
    Pair scratch = pair_make(1, ss, 0, 0);
    Pair dx1 = P4(2, 8, 16, 16, 0, 0), dx2 = P4(2, 8, 16, 16, 0, 0), dw1 = P4(12, 8, 3, 3, 0, 0),
         dw2 = P4(12, 8, 3, 3, 0, 0), db1 = P1(12, 0, 0), db2 = P1(12, 0, 0);
    conv2d_backward(G_(x), G_(w), G_(dy), G_(dx1), G_(dw1), G_(db1), scratch.gpu.data);
    conv2d_backward(G_(x), G_(w), G_(dy), G_(dx2), G_(dw2), G_(db2), scratch.gpu.data);
    same_bits("conv2d_backward dx", G_(dx1), G_(dx2));
    same_bits("conv2d_backward dw", G_(dw1), G_(dw2));
    same_bits("conv2d_backward db", G_(db1), G_(db2));
}

/* ---------------------------------------------------------------------------------------------- */
/* activations */

static void test_activations(void) {
    for (int a = ACT_IDENTITY; a <= ACT_HARD_SIGMOID; a++) {
        const int exact = a != ACT_SIGMOID && a != ACT_TANH;
        char what[96];
        Pair x = P4(2, 3, 17, 19, -6, 6), y = P4(2, 3, 17, 19, 0, 0), dy = P4(2, 3, 17, 19, -1, 1),
             dx = P4(2, 3, 17, 19, -1, 1);
        activation_forward((Activation)a, C_(x), C_(y));
        activation_forward((Activation)a, G_(x), G_(y));
        snprintf(what, sizeof what, "activation_forward %s", activation_name((Activation)a));
        same(what, &y, exact ? 0 : 1e-6, exact ? 0 : 1e-6);
        /* backward from the CPU's y on both sides, so only act' is compared */
        op_from_host(y.cpu.data, G_(y));
        activation_backward((Activation)a, C_(y), C_(dy), C_(dx));
        activation_backward((Activation)a, G_(y), G_(dy), G_(dx));
        snprintf(what, sizeof what, "activation_backward %s", activation_name((Activation)a));
        same(what, &dx, 0, 0);
        case_end();
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* ConvLSTM cell */

static void lstm_case(int with_prev, int with_dc, Activation ga, Activation ca) {
    const int B = 2, n = 5, H = 6, W = 7;
    char what[128];
    Pair pre = P4(B, 4 * n, H, W, -3, 3), cp = P4(B, n, H, W, -1, 1);
    Pair gates = P4(B, 4 * n, H, W, 0, 0), c = P4(B, n, H, W, 0, 0), h = P4(B, n, H, W, 0, 0);
    lstm_cell_forward(C_(pre), with_prev ? C_(cp) : NULL, C_(gates), C_(c), C_(h), ga, ca);
    lstm_cell_forward(G_(pre), with_prev ? G_(cp) : NULL, G_(gates), G_(c), G_(h), ga, ca);
    const char *tag = with_prev ? "c_prev" : "no c_prev";
    snprintf(what, sizeof what, "lstm_cell_forward %s/%s %s gates", activation_name(ga), activation_name(ca), tag);
    same(what, &gates, 1e-5, 1e-5);
    snprintf(what, sizeof what, "lstm_cell_forward %s c", tag);
    same(what, &c, 1e-5, 1e-5);
    snprintf(what, sizeof what, "lstm_cell_forward %s h", tag);
    same(what, &h, 1e-5, 1e-5);
    Pair dh = P4(B, n, H, W, -1, 1), dc = P4(B, n, H, W, -1, 1);
    Pair dpre = P4(B, 4 * n, H, W, -1, 1), dcp = P4(B, n, H, W, -1, 1);
    lstm_cell_backward(C_(gates), with_prev ? C_(cp) : NULL, C_(c), C_(dh), with_dc ? C_(dc) : NULL, C_(dpre),
                       C_(dcp), ga, ca);
    lstm_cell_backward(G_(gates), with_prev ? G_(cp) : NULL, G_(c), G_(dh), with_dc ? G_(dc) : NULL, G_(dpre),
                       G_(dcp), ga, ca);
    snprintf(what, sizeof what, "lstm_cell_backward %s%s dpre", tag, with_dc ? " +dc" : "");
    same(what, &dpre, 1e-5, 1e-5);
    snprintf(what, sizeof what, "lstm_cell_backward %s%s dc_prev", tag, with_dc ? " +dc" : "");
    same(what, &dcp, 1e-5, 1e-5);
}

static void test_lstm_cell(void) {
    lstm_case(1, 1, ACT_SIGMOID, ACT_TANH);
    lstm_case(0, 0, ACT_SIGMOID, ACT_TANH);
    lstm_case(1, 1, ACT_HARD_SIGMOID, ACT_TANH);
    lstm_case(1, 0, ACT_SIGMOID, ACT_RELU);
}

/* ---------------------------------------------------------------------------------------------- */
/* batch norm */

static void test_batchnorm(void) {
    const int B = 3, C = 6, H = 9, W = 11;
    Pair x = P4(B, C, H, W, -1, 3), g = P1(C, 0.5f, 1.5f), be = P1(C, -1, 1), y = P4(B, C, H, W, 0, 0);
    Pair sm = P1(C, 0, 0), si = P1(C, 0, 0), rm = P1(C, -1, 1), rv = P1(C, 0.5f, 2);
    batchnorm_forward_train(C_(x), C_(g), C_(be), C_(y), C_(sm), C_(si), C_(rm), C_(rv), 0.1f, 1e-5f);
    batchnorm_forward_train(G_(x), G_(g), G_(be), G_(y), G_(sm), G_(si), G_(rm), G_(rv), 0.1f, 1e-5f);
    same("batchnorm_forward_train y", &y, 1e-5, 1e-5);
    same("batchnorm_forward_train save_mean", &sm, 1e-6, 1e-6);
    same("batchnorm_forward_train save_invstd", &si, 1e-6, 1e-6);
    same("batchnorm_forward_train running_mean", &rm, 1e-6, 1e-6);
    same("batchnorm_forward_train running_var", &rv, 1e-6, 1e-6);
    Pair y2 = P4(B, C, H, W, 0, 0);
    batchnorm_forward_eval(C_(x), C_(g), C_(be), C_(y2), C_(rm), C_(rv), 1e-5f);
    op_from_host(rm.cpu.data, G_(rm)); /* the same running stats on both sides */
    op_from_host(rv.cpu.data, G_(rv));
    batchnorm_forward_eval(G_(x), G_(g), G_(be), G_(y2), G_(rm), G_(rv), 1e-5f);
    same("batchnorm_forward_eval y", &y2, 0, 0);
    batchnorm_forward_eval(C_(x), NULL, NULL, C_(y2), C_(rm), C_(rv), 1e-5f);
    batchnorm_forward_eval(G_(x), NULL, NULL, G_(y2), G_(rm), G_(rv), 1e-5f);
    same("batchnorm_forward_eval y, no affine", &y2, 0, 0);
    op_from_host(sm.cpu.data, G_(sm));
    op_from_host(si.cpu.data, G_(si));
    Pair dy = P4(B, C, H, W, -1, 1), dx = P4(B, C, H, W, -1, 1), dg = P1(C, -1, 1), db = P1(C, -1, 1);
    batchnorm_backward(C_(x), C_(g), C_(sm), C_(si), C_(dy), C_(dx), C_(dg), C_(db));
    batchnorm_backward(G_(x), G_(g), G_(sm), G_(si), G_(dy), G_(dx), G_(dg), G_(db));
    same("batchnorm_backward dx", &dx, 1e-5, 1e-5);
    same("batchnorm_backward dgamma", &dg, 1e-5, 1e-5);
    same("batchnorm_backward dbeta", &db, 1e-5, 1e-5);
    Pair dx2 = P4(B, C, H, W, 0, 0);
    batchnorm_backward(G_(x), G_(g), G_(sm), G_(si), G_(dy), G_(dx2), NULL, NULL);
    Pair dx3 = P4(B, C, H, W, 0, 0);
    batchnorm_backward(G_(x), G_(g), G_(sm), G_(si), G_(dy), G_(dx3), NULL, NULL);
    same_bits("batchnorm_backward dx", G_(dx2), G_(dx3));
}

/* ---------------------------------------------------------------------------------------------- */
/* elementwise, loss */

static void test_elementwise(void) {
    const int n = 3 * 1000 + 7;
    Pair a = P1(n, -2, 2), b = P1(n, -2, 2), y = P1(n, 0, 0);
    op_fill(C_(y), 0.375f);
    op_fill(G_(y), 0.375f);
    same("op_fill", &y, 0, 0);
    op_copy(C_(a), C_(y));
    op_copy(G_(a), G_(y));
    same("op_copy", &y, 0, 0);
    op_add(C_(a), C_(b), C_(y));
    op_add(G_(a), G_(b), G_(y));
    same("op_add", &y, 0, 0);
    op_axpy(-0.3f, C_(b), C_(y));
    op_axpy(-0.3f, G_(b), G_(y));
    same("op_axpy", &y, 0, 0);
    op_scale(C_(y), 1.7f);
    op_scale(G_(y), 1.7f);
    same("op_scale", &y, 0, 0);
    op_mul(C_(a), C_(y), C_(y));
    op_mul(G_(a), G_(y), G_(y));
    same("op_mul (in place)", &y, 0, 0);
    CHECK_NEAR(op_sum_squares(G_(y)), op_sum_squares(C_(y)), 0, 1e-12, "op_sum_squares");
    CHECK(op_sum_squares(G_(y)) == op_sum_squares(G_(y)), "op_sum_squares: two GPU runs give identical bits");
    { /* the global gradient norm's sum over many tensors (optimizer.c), an empty one among them */
        Pair t1 = P4(2, 3, 4, 5, -1, 1), t2 = P1(17, -3, 3), t3 = P1(0, 0, 0), t4 = P1(70000, -1, 1);
        const Tensor *gs[5] = {G_(t1), G_(t2), G_(t3), G_(t4), G_(y)}, *cs[5] = {C_(t1), C_(t2), C_(t3), C_(t4), C_(y)};
        double want = 0;
        want += op_sum_squares(C_(t1)), want += op_sum_squares(C_(t2)), want += op_sum_squares(C_(t3));
        want += op_sum_squares(C_(t4)), want += op_sum_squares(C_(y));
        CHECK(op_sum_squares_many(cs, 5) == want, "op_sum_squares_many on the CPU: the sum of op_sum_squares in order");
        CHECK_NEAR(op_sum_squares_many(gs, 5), want, 0, 1e-12, "op_sum_squares_many over 5 tensors (cpu %.17g)", want);
    }
    { /* 300 tensors: the GPU adds chunks of 128 on the host (their draws are given back after, so the
       * cases below see the numbers they always saw) */
        enum { MANY = 300 };
        const uint64_t draw_before = draw;
        const Tensor *gs[MANY], *cs[MANY];
        Pair ts[MANY];
        double want = 0;
        for (int i = 0; i < MANY; i++) {
            ts[i] = P1(1 + i % 7, -2, 2);
            gs[i] = G_(ts[i]), cs[i] = C_(ts[i]);
            want += op_sum_squares(cs[i]);
        }
        CHECK(op_sum_squares_many(cs, MANY) == want, "op_sum_squares_many over 300 CPU tensors: the sum in order");
        CHECK_NEAR(op_sum_squares_many(gs, MANY), want, 0, 1e-12, "op_sum_squares_many over 300 tensors (cpu %.17g)",
                   want);
        draw = draw_before;
    }
    /* select: 4 samples */
    const unsigned char use_a[4] = {1, 0, 0, 1};
    Pair sa = P4(4, 3, 5, 5, -1, 1), sb = P4(4, 3, 5, 5, -1, 1), sy = P4(4, 3, 5, 5, 0, 0);
    op_select_samples(use_a, C_(sa), C_(sb), C_(sy));
    op_select_samples(use_a, G_(sa), G_(sb), G_(sy));
    same("op_select_samples", &sy, 0, 0);
    Pair sda = P4(4, 3, 5, 5, -1, 1), sdb = P4(4, 3, 5, 5, -1, 1);
    op_select_samples_backward(use_a, C_(sy), C_(sda), C_(sdb));
    op_select_samples_backward(use_a, G_(sy), G_(sda), G_(sdb));
    same("op_select_samples_backward da", &sda, 0, 0);
    same("op_select_samples_backward db", &sdb, 0, 0);
    op_select_samples_backward(use_a, C_(sy), NULL, C_(sdb));
    op_select_samples_backward(use_a, G_(sy), NULL, G_(sdb));
    same("op_select_samples_backward db only", &sdb, 0, 0);
}

/* More elements than one grid covers (65535 blocks × 256 threads): the grid-stride loops. */
static void test_large(void) {
    const int n = 65535 * 256 + 4099;
    Pair x = P1(n, -1, 1), y = P1(n, -1, 1);
    op_axpy(0.5f, C_(x), C_(y));
    op_axpy(0.5f, G_(x), G_(y));
    same("op_axpy over 16.8M elements", &y, 0, 0);
    CHECK_NEAR(mse_sum_forward(G_(x), G_(y)), mse_sum_forward(C_(x), C_(y)), 0, 1e-10,
               "mse_sum_forward over 16.8M elements");
}

static void test_loss(void) {
    Pair p = P4(3, 1, 31, 29, 0, 1), t = P4(3, 1, 31, 29, 0, 1), d = P4(3, 1, 31, 29, -1, 1);
    const double fc = mse_sum_forward(C_(p), C_(t)), fg = mse_sum_forward(G_(p), G_(t));
    CHECK_NEAR(fg, fc, 0, 1e-12, "mse_sum_forward (cpu %.17g)", fc);
    CHECK(mse_sum_forward(G_(p), G_(t)) == fg, "mse_sum_forward: two GPU runs give identical bits");
    mse_sum_backward(C_(p), C_(t), 19.0 * 3 * 31 * 29, C_(d));
    mse_sum_backward(G_(p), G_(t), 19.0 * 3 * 31 * 29, G_(d));
    same("mse_sum_backward", &d, 0, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* optimizers: three steps each, bit-identical */

static void test_optim(void) {
    const int n = 4099;
    for (int dec = 0; dec <= 1; dec++) {
        Pair p = P1(n, -1, 1), m = P1(n, 0, 0), v = P1(n, 0, 0);
        AdamHyper h = {1e-3f, 0.9f, 0.999f, 1e-8f, dec ? 1e-2f : 1e-4f, dec};
        for (int step = 1; step <= 3; step++) {
            Pair g = P1(n, -1, 1);
            adam_update(C_(p), C_(g), C_(m), C_(v), &h, step);
            adam_update(G_(p), G_(g), G_(m), G_(v), &h, step);
        }
        same(dec ? "adamw_update param (3 steps)" : "adam_update param (3 steps)", &p, 0, 0);
        same(dec ? "adamw_update m" : "adam_update m", &m, 0, 0);
        same(dec ? "adamw_update v" : "adam_update v", &v, 0, 0);
    }
    for (int nesterov = 0; nesterov <= 1; nesterov++) {
        Pair p = P1(n, -1, 1), buf = P1(n, 0, 0);
        for (int step = 1; step <= 3; step++) {
            Pair g = P1(n, -1, 1);
            sgd_update(C_(p), C_(g), C_(buf), 0.05f, 0.9f, 1e-4f, nesterov, step);
            sgd_update(G_(p), G_(g), G_(buf), 0.05f, 0.9f, 1e-4f, nesterov, step);
        }
        same(nesterov ? "sgd_update nesterov param (3 steps)" : "sgd_update momentum param (3 steps)", &p, 0, 0);
        same(nesterov ? "sgd_update nesterov buffer" : "sgd_update momentum buffer", &buf, 0, 0);
    }
    {
        Pair p = P1(n, -1, 1);
        Pair g = P1(n, -1, 1);
        sgd_update(C_(p), C_(g), NULL, 0.1f, 0.0f, 0.0f, 0, 1);
        sgd_update(G_(p), G_(g), NULL, 0.1f, 0.0f, 0.0f, 0, 1);
        same("sgd_update plain", &p, 0, 0);
    }
    Pair p = P1(n, -1, 1), sa = P1(n, 0, 0);
    for (int step = 1; step <= 3; step++) {
        Pair g = P1(n, -1, 1);
        rmsprop_update(C_(p), C_(g), C_(sa), 1e-3f, 0.99f, 1e-8f, 1e-4f);
        rmsprop_update(G_(p), G_(g), G_(sa), 1e-3f, 0.99f, 1e-8f, 1e-4f);
    }
    same("rmsprop_update param (3 steps)", &p, 0, 0);
    same("rmsprop_update square_avg", &sa, 0, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* layer norm */

static void test_layernorm(void) {
    const int B = 3, C = 8, H = 7, W = 9;
    Pair x = P4(B, C, H, W, -1, 2), g = P1(C, 0.5f, 1.5f), be = P1(C, -1, 1), y = P4(B, C, H, W, 0, 0);
    Pair sm = P1(B, 0, 0), si = P1(B, 0, 0);
    tensor_layernorm_forward(C_(x), C_(g), C_(be), C_(y), C_(sm), C_(si), TENSOR_LN_EPS);
    tensor_layernorm_forward(G_(x), G_(g), G_(be), G_(y), G_(sm), G_(si), TENSOR_LN_EPS);
    same("tensor_layernorm_forward y", &y, 1e-5, 1e-5);
    same("tensor_layernorm_forward save_mean", &sm, 1e-6, 1e-6);
    same("tensor_layernorm_forward save_invstd", &si, 1e-6, 1e-6);
    op_from_host(sm.cpu.data, G_(sm));
    op_from_host(si.cpu.data, G_(si));
    Pair dy = P4(B, C, H, W, -1, 1), dx = P4(B, C, H, W, -1, 1), dg = P1(C, -1, 1), db = P1(C, -1, 1);
    tensor_layernorm_backward(C_(x), C_(g), C_(sm), C_(si), C_(dy), C_(dx), C_(dg), C_(db));
    tensor_layernorm_backward(G_(x), G_(g), G_(sm), G_(si), G_(dy), G_(dx), G_(dg), G_(db));
    same("tensor_layernorm_backward dx", &dx, 1e-5, 1e-5);
    same("tensor_layernorm_backward dgamma", &dg, 1e-5, 1e-5);
    same("tensor_layernorm_backward dbeta", &db, 1e-5, 1e-5);
    tensor_layernorm_backward(C_(x), C_(g), C_(sm), C_(si), C_(dy), C_(dx), NULL, NULL);
    tensor_layernorm_backward(G_(x), G_(g), G_(sm), G_(si), G_(dy), G_(dx), NULL, NULL);
    same("tensor_layernorm_backward dx only", &dx, 2e-5, 1e-5);
}

/* ---------------------------------------------------------------------------------------------- */
/* PredRNN++ pointwise ops */

static void test_causal_lstm(void) {
    const int B = 2, n = 4, H = 5, W = 6;
    const double at = 1e-5, rt = 1e-5;
    Pair x_cc = P4(B, 7 * n, H, W, -2, 2), h_cc = P4(B, 4 * n, H, W, -2, 2), c_cc = P4(B, 3 * n, H, W, -2, 2);
    Pair m_cc = P4(B, 3 * n, H, W, -2, 2), c2m = P4(B, 4 * n, H, W, -2, 2), o_m = P4(B, n, H, W, -2, 2);
    Pair cell = P4(B, n, H, W, -2, 2), cp = P4(B, n, H, W, -1, 1);
    Pair g1 = P4(B, 3 * n, H, W, 0, 0), c = P4(B, n, H, W, 0, 0), g2 = P4(B, 4 * n, H, W, 0, 0),
         m = P4(B, n, H, W, 0, 0), g3 = P4(B, 2 * n, H, W, 0, 0), h = P4(B, n, H, W, 0, 0);
    for (int with_prev = 1; with_prev >= 0; with_prev--) {
        causal_lstm_stage1_forward(C_(x_cc), C_(h_cc), C_(c_cc), with_prev ? C_(cp) : NULL, C_(g1), C_(c));
        causal_lstm_stage1_forward(G_(x_cc), G_(h_cc), G_(c_cc), with_prev ? G_(cp) : NULL, G_(g1), G_(c));
        same(with_prev ? "causal_lstm_stage1_forward gates1" : "causal_lstm_stage1_forward no c_prev gates1", &g1, at, rt);
        same(with_prev ? "causal_lstm_stage1_forward c" : "causal_lstm_stage1_forward no c_prev c", &c, at, rt);
    }
    causal_lstm_stage2_forward(C_(x_cc), C_(c2m), C_(m_cc), C_(g2), C_(m));
    causal_lstm_stage2_forward(G_(x_cc), G_(c2m), G_(m_cc), G_(g2), G_(m));
    same("causal_lstm_stage2_forward gates2", &g2, at, rt);
    same("causal_lstm_stage2_forward m", &m, at, rt);
    causal_lstm_stage3_forward(C_(x_cc), C_(h_cc), C_(c2m), C_(o_m), C_(cell), C_(g3), C_(h));
    causal_lstm_stage3_forward(G_(x_cc), G_(h_cc), G_(c2m), G_(o_m), G_(cell), G_(g3), G_(h));
    same("causal_lstm_stage3_forward gates3", &g3, at, rt);
    same("causal_lstm_stage3_forward h", &h, at, rt);
    /* backward from the CPU's saved gates on both sides */
    op_from_host(g1.cpu.data, G_(g1));
    op_from_host(g2.cpu.data, G_(g2));
    op_from_host(g3.cpu.data, G_(g3));
    Pair dx_cc = P4(B, 7 * n, H, W, -1, 1), dh_cc = P4(B, 4 * n, H, W, -1, 1), dc_cc = P4(B, 3 * n, H, W, -1, 1);
    Pair dm_cc = P4(B, 3 * n, H, W, -1, 1), dc2m = P4(B, 4 * n, H, W, -1, 1), dom = P4(B, n, H, W, -1, 1);
    Pair dcell = P4(B, n, H, W, -1, 1), dcp = P4(B, n, H, W, -1, 1);
    Pair dc = P4(B, n, H, W, -1, 1), dm = P4(B, n, H, W, -1, 1), dh = P4(B, n, H, W, -1, 1);
    causal_lstm_stage3_backward(C_(g3), C_(dh), C_(dx_cc), C_(dh_cc), C_(dc2m), C_(dom), C_(dcell));
    causal_lstm_stage3_backward(G_(g3), G_(dh), G_(dx_cc), G_(dh_cc), G_(dc2m), G_(dom), G_(dcell));
    causal_lstm_stage2_backward(C_(g2), C_(dm), C_(dx_cc), C_(dc2m), C_(dm_cc));
    causal_lstm_stage2_backward(G_(g2), G_(dm), G_(dx_cc), G_(dc2m), G_(dm_cc));
    causal_lstm_stage1_backward(C_(g1), C_(cp), C_(dc), C_(dx_cc), C_(dh_cc), C_(dc_cc), C_(dcp));
    causal_lstm_stage1_backward(G_(g1), G_(cp), G_(dc), G_(dx_cc), G_(dh_cc), G_(dc_cc), G_(dcp));
    /* the pointwise gradients use only the saved gates: the same float expressions, exact */
    same("causal_lstm backward dx_cc (stages 3, 2, 1)", &dx_cc, 0, 0);
    same("causal_lstm backward dh_cc", &dh_cc, 0, 0);
    same("causal_lstm backward dc_cc", &dc_cc, 0, 0);
    same("causal_lstm backward dm_cc", &dm_cc, 0, 0);
    same("causal_lstm backward dc2m", &dc2m, 0, 0);
    same("causal_lstm_stage3_backward do_m", &dom, 0, 0);
    same("causal_lstm_stage3_backward dcell", &dcell, 0, 0);
    same("causal_lstm_stage1_backward dc_prev", &dcp, 0, 0);
    /* GHU */
    Pair zz = P4(B, 2 * n, H, W, -2, 2), zx = P4(B, 2 * n, H, W, -2, 2), zp = P4(B, n, H, W, -1, 1);
    Pair gg = P4(B, 2 * n, H, W, 0, 0), z = P4(B, n, H, W, 0, 0);
    for (int with_prev = 0; with_prev <= 1; with_prev++) {
        ghu_forward(C_(zz), C_(zx), with_prev ? C_(zp) : NULL, C_(gg), C_(z));
        ghu_forward(G_(zz), G_(zx), with_prev ? G_(zp) : NULL, G_(gg), G_(z));
        same(with_prev ? "ghu_forward gates" : "ghu_forward no z_prev gates", &gg, at, rt);
        same(with_prev ? "ghu_forward z" : "ghu_forward no z_prev z", &z, at, rt);
    }
    op_from_host(gg.cpu.data, G_(gg));
    Pair dz = P4(B, n, H, W, -1, 1), dpre = P4(B, 2 * n, H, W, -1, 1), dzp = P4(B, n, H, W, -1, 1);
    ghu_backward(C_(gg), C_(zp), C_(dz), C_(dpre), C_(dzp));
    ghu_backward(G_(gg), G_(zp), G_(dz), G_(dpre), G_(dzp));
    same("ghu_backward dpre", &dpre, 0, 0);
    same("ghu_backward dz_prev", &dzp, 0, 0);
    /* concat */
    Pair ca = P4(B, 3, H, W, -1, 1), cb = P4(B, 5, H, W, -1, 1), cy = P4(B, 8, H, W, 0, 0);
    concat_channels_forward(C_(ca), C_(cb), C_(cy));
    concat_channels_forward(G_(ca), G_(cb), G_(cy));
    same("concat_channels_forward", &cy, 0, 0);
    concat_channels_backward(C_(cy), C_(ca), C_(cb));
    concat_channels_backward(G_(cy), G_(ca), G_(cb));
    same("concat_channels_backward da", &ca, 0, 0);
    same("concat_channels_backward db", &cb, 0, 0);
    concat_channels_backward(C_(cy), NULL, C_(cb));
    concat_channels_backward(G_(cy), NULL, G_(cb));
    same("concat_channels_backward db only", &cb, 0, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* regularizer ops (regularize.h): masks are the same Philox bits, the rest the CPU's float expressions */

static void test_masks(void) {
    Pair mask = P4(3, 5, 16, 16, 0, 0);
    const uint64_t stream = reg_stream(123, 1, REG_T_DROP_IN, 4);
    reg_dropout_mask(C_(mask), 42, stream, 0.3f);
    reg_dropout_mask(G_(mask), 42, stream, 0.3f);
    same("reg_dropout_mask bit-identical (p = 0.3)", &mask, 0, 0);
    Pair dy = P4(3, 5, 16, 16, -1, 1), dx = P4(3, 5, 16, 16, -1, 1);
    reg_mask_backward(C_(mask), C_(dy), C_(dx));
    reg_mask_backward(G_(mask), G_(dy), G_(dx));
    same("reg_mask_backward", &dx, 0, 0);
    Pair y = P4(3, 5, 16, 16, 0, 0);
    reg_mask_forward(C_(dy), C_(mask), C_(y));
    reg_mask_forward(G_(dy), G_(mask), G_(y));
    same("reg_mask_forward", &y, 0, 0);
    for (int k = 0; k < 3; k++) {
        const float p = k == 0 ? 0.0f : k == 1 ? 0.35f : 1.0f;
        char what[96];
        Pair d = P4(2, 7, 9, 11, 0, 0);
        reg_zoneout_mask(C_(d), 7, reg_stream(4, 1, REG_T_ZONE_C, 2), p);
        reg_zoneout_mask(G_(d), 7, reg_stream(4, 1, REG_T_ZONE_C, 2), p);
        snprintf(what, sizeof what, "reg_zoneout_mask bit-identical (p = %g)", (double)p);
        same(what, &d, 0, 0);
    }
}

static void test_zoneout(void) {
    const int n = 5000;
    Pair d = P1(n, 0, 0), prev = P1(n, -1, 1), upd = P1(n, -1, 1), out = P1(n, 0, 0);
    reg_zoneout_mask(C_(d), 3, reg_stream(9, 0, REG_T_ZONE_H, 1), 0.3f);
    reg_zoneout_mask(G_(d), 3, reg_stream(9, 0, REG_T_ZONE_H, 1), 0.3f);
    reg_zoneout_forward(C_(prev), C_(upd), C_(d), 0.3f, C_(out));
    reg_zoneout_forward(G_(prev), G_(upd), G_(d), 0.3f, G_(out));
    same("reg_zoneout_forward training", &out, 0, 0);
    reg_zoneout_forward(C_(prev), C_(upd), NULL, 0.3f, C_(out));
    reg_zoneout_forward(G_(prev), G_(upd), NULL, 0.3f, G_(out));
    same("reg_zoneout_forward evaluation (expectation)", &out, 0, 0);
    reg_zoneout_forward(NULL, C_(upd), C_(d), 0.3f, C_(out));
    reg_zoneout_forward(NULL, G_(upd), G_(d), 0.3f, G_(out));
    same("reg_zoneout_forward, no previous state", &out, 0, 0);
    Pair dout = P1(n, -1, 1), dprev = P1(n, -1, 1), dupd = P1(n, -1, 1);
    reg_zoneout_backward(C_(d), C_(dout), C_(dprev), C_(dupd));
    reg_zoneout_backward(G_(d), G_(dout), G_(dprev), G_(dupd));
    same("reg_zoneout_backward dprev", &dprev, 0, 0);
    same("reg_zoneout_backward dupd", &dupd, 0, 0);
    reg_zoneout_backward(C_(d), C_(dout), NULL, C_(dout)); /* in place, no dprev: as the models call it */
    reg_zoneout_backward(G_(d), G_(dout), NULL, G_(dout));
    same("reg_zoneout_backward in place, no dprev", &dout, 0, 0);
}

/* The split ConvLSTM cell (state / output halves) with and without c_prev and the candidate mask. */
static void test_reg_lstm(void) {
    const int B = 2, n = 4, H = 5, W = 6;
    const Activation gas[2] = {ACT_SIGMOID, ACT_HARD_SIGMOID}, cas[2] = {ACT_TANH, ACT_RELU};
    for (int v = 0; v < 4; v++) {
        const int with_prev = v != 1, with_mask = v >= 2;
        const Activation ga = gas[v & 1], ca = cas[v == 3];
        char what[160], tag[96];
        snprintf(tag, sizeof tag, "%s/%s%s%s", activation_name(ga), activation_name(ca), with_prev ? "" : " no c_prev",
                 with_mask ? " masked" : "");
        Pair pre = P4(B, 4 * n, H, W, -3, 3), cp = P4(B, n, H, W, -1, 1), mask = P4(B, n, H, W, 0, 0);
        reg_dropout_mask(C_(mask), 5, reg_stream(2, 0, REG_T_REC_G, v), 0.4f);
        reg_dropout_mask(G_(mask), 5, reg_stream(2, 0, REG_T_REC_G, v), 0.4f);
        Pair gates = P4(B, 4 * n, H, W, 0, 0), c = P4(B, n, H, W, 0, 0), h = P4(B, n, H, W, 0, 0);
        reg_lstm_state_forward(C_(pre), with_prev ? C_(cp) : NULL, with_mask ? C_(mask) : NULL, C_(gates), C_(c), ga,
                               ca);
        reg_lstm_state_forward(G_(pre), with_prev ? G_(cp) : NULL, with_mask ? G_(mask) : NULL, G_(gates), G_(c), ga,
                               ca);
        snprintf(what, sizeof what, "reg_lstm_state_forward %s gates", tag);
        same(what, &gates, 1e-6, 1e-6);
        snprintf(what, sizeof what, "reg_lstm_state_forward %s c", tag);
        same(what, &c, 1e-5, 1e-5);
        op_from_host(gates.cpu.data, G_(gates)); /* from here on the same inputs on both sides */
        op_from_host(c.cpu.data, G_(c));
        reg_lstm_output_forward(C_(gates), C_(c), C_(h), ca);
        reg_lstm_output_forward(G_(gates), G_(c), G_(h), ca);
        snprintf(what, sizeof what, "reg_lstm_output_forward %s h", tag);
        same(what, &h, 1e-6, 1e-6);
        Pair dh = P4(B, n, H, W, -1, 1), dpre = P4(B, 4 * n, H, W, -1, 1), dcs = P4(B, n, H, W, -1, 1);
        Pair dcp = P4(B, n, H, W, -1, 1);
        reg_lstm_output_backward(C_(gates), C_(c), C_(dh), C_(dpre), C_(dcs), ga, ca);
        reg_lstm_output_backward(G_(gates), G_(c), G_(dh), G_(dpre), G_(dcs), ga, ca);
        snprintf(what, sizeof what, "reg_lstm_output_backward %s dcs", tag);
        same(what, &dcs, 1e-6, 1e-6);
        op_from_host(dcs.cpu.data, G_(dcs));
        reg_lstm_state_backward(C_(gates), with_prev ? C_(cp) : NULL, with_mask ? C_(mask) : NULL, C_(dcs), C_(dpre),
                                with_prev ? C_(dcp) : NULL, ga, ca);
        reg_lstm_state_backward(G_(gates), with_prev ? G_(cp) : NULL, with_mask ? G_(mask) : NULL, G_(dcs), G_(dpre),
                                with_prev ? G_(dcp) : NULL, ga, ca);
        snprintf(what, sizeof what, "reg_lstm output + state backward %s dpre", tag);
        same(what, &dpre, 1e-6, 1e-6);
        snprintf(what, sizeof what, "reg_lstm_state_backward %s dc_prev", tag);
        same(what, &dcp, 0, 0);
        case_end();
    }
}

/* Per-gate masked convolution (variational dropout), channel bias, L2. */
static void test_reg_conv(void) {
    const int B = 2, Cin = 3, n = 4, K = 4, H = 6, W = 5, k = 3;
    Pair x = P4(B, Cin, H, W, -1, 1), w = P4(K * n, Cin, k, k, -1, 1), b = P1(K * n, -1, 1);
    int mshape[5] = {K, B + 1, Cin, H, W}; /* masks for a larger planned batch: the first B samples are read */
    Pair masks = pair_make(5, mshape, 0, 0);
    for (int j = 0; j < K; j++) {
        const int64_t per = masks.cpu.count / K;
        Tensor mc = tensor1(masks.cpu.data + j * per, RR_CPU, (int)per);
        Tensor mg = tensor1(masks.gpu.data + j * per, RR_CUDA, (int)per);
        reg_dropout_mask(&mc, 8, reg_stream(1, 0, REG_T_VAR_X, j), 0.3f);
        reg_dropout_mask(&mg, 8, reg_stream(1, 0, REG_T_VAR_X, j), 0.3f);
    }
    same("variational masks (4 gates) bit-identical", &masks, 0, 0);
    Tensor mc = tensor_make(masks.cpu.data, RR_CPU, 5, mshape), mg = tensor_make(masks.gpu.data, RR_CUDA, 5, mshape);
    const int64_t ws = conv2d_scratch_floats(G_(x), k) + conv2d_scratch_floats(C_(x), k);
    int wsh[1] = {(int)ws}, xsh[1] = {B * Cin * H * W}, ysh[1] = {B * n * H * W};
    Pair scratch = pair_make(1, wsh, 0, 0), xm = pair_make(1, xsh, 0, 0), dxm = pair_make(1, xsh, 0, 0);
    Pair yb = pair_make(1, ysh, 0, 0);
    for (int acc = 0; acc <= 1; acc++) {
        Pair y = P4(B, K * n, H, W, -1, 1);
        reg_blocked_conv_forward(C_(x), &mc, C_(w), C_(b), C_(y), acc, xm.cpu.data, yb.cpu.data, scratch.cpu.data);
        reg_blocked_conv_forward(G_(x), &mg, G_(w), G_(b), G_(y), acc, xm.gpu.data, yb.gpu.data, scratch.gpu.data);
        same(acc ? "reg_blocked_conv_forward accumulate" : "reg_blocked_conv_forward", &y, 2e-5, 1e-5);
    }
    Pair dy = P4(B, K * n, H, W, -1, 1), dx = P4(B, Cin, H, W, -1, 1), dw = P4(K * n, Cin, k, k, -1, 1),
         db = P1(K * n, -1, 1);
    reg_blocked_conv_backward(C_(x), &mc, C_(w), C_(dy), C_(dx), C_(dw), C_(db), xm.cpu.data, yb.cpu.data,
                              dxm.cpu.data, scratch.cpu.data);
    reg_blocked_conv_backward(G_(x), &mg, G_(w), G_(dy), G_(dx), G_(dw), G_(db), xm.gpu.data, yb.gpu.data,
                              dxm.gpu.data, scratch.gpu.data);
    same("reg_blocked_conv_backward dx", &dx, 1e-4, 1e-5);
    same("reg_blocked_conv_backward dw", &dw, 3e-4, 1e-5);
    same("reg_blocked_conv_backward db", &db, 1e-5, 1e-6);
    Pair y = P4(B, K * n, H, W, -1, 1);
    reg_bias_forward(C_(y), C_(b));
    reg_bias_forward(G_(y), G_(b));
    same("reg_bias_forward", &y, 0, 0);
    Pair db2 = P1(K * n, -1, 1);
    reg_bias_backward(C_(dy), C_(db2));
    reg_bias_backward(G_(dy), G_(db2));
    same("reg_bias_backward", &db2, 1e-6, 1e-6);
    Pair g = P4(K * n, Cin, k, k, -1, 1);
    const double pc = reg_l2_apply(C_(w), C_(g), 1e-3), pg = reg_l2_apply(G_(w), G_(g), 1e-3);
    CHECK_NEAR(pg, pc, 0, 1e-12, "reg_l2_apply penalty (cpu %.17g)", pc);
    same("reg_l2_apply gradient", &g, 0, 0);
}

/* The fused Causal LSTM stages 1 and 2 with Semeniuta masks (causal_lstm_stage*_masked). */
static void test_causal_masked(void) {
    const int B = 2, n = 4, H = 5, W = 6;
    Pair x_cc = P4(B, 7 * n, H, W, -2, 2), h_cc = P4(B, 4 * n, H, W, -2, 2), c_cc = P4(B, 3 * n, H, W, -2, 2);
    Pair m_cc = P4(B, 3 * n, H, W, -2, 2), c2m = P4(B, 4 * n, H, W, -2, 2), cp = P4(B, n, H, W, -1, 1);
    Pair gm = P4(B, n, H, W, 0, 0), ggm = P4(B, n, H, W, 0, 0);
    reg_dropout_mask(C_(gm), 9, reg_stream(3, 1, REG_T_REC_G, 2), 0.25f);
    reg_dropout_mask(G_(gm), 9, reg_stream(3, 1, REG_T_REC_G, 2), 0.25f);
    reg_dropout_mask(C_(ggm), 9, reg_stream(3, 1, REG_T_REC_GG, 2), 0.25f);
    reg_dropout_mask(G_(ggm), 9, reg_stream(3, 1, REG_T_REC_GG, 2), 0.25f);
    Pair g1 = P4(B, 3 * n, H, W, 0, 0), c = P4(B, n, H, W, 0, 0);
    Pair g2 = P4(B, 4 * n, H, W, 0, 0), m = P4(B, n, H, W, 0, 0);
    reg_causal_stage1_forward(C_(x_cc), C_(h_cc), C_(c_cc), C_(cp), C_(gm), C_(g1), C_(c));
    reg_causal_stage1_forward(G_(x_cc), G_(h_cc), G_(c_cc), G_(cp), G_(gm), G_(g1), G_(c));
    same("causal stage 1 masked gates1", &g1, 1e-5, 1e-5);
    same("causal stage 1 masked c", &c, 1e-5, 1e-5);
    causal_lstm_stage2_forward_masked(C_(x_cc), C_(c2m), C_(m_cc), C_(ggm), C_(g2), C_(m));
    causal_lstm_stage2_forward_masked(G_(x_cc), G_(c2m), G_(m_cc), G_(ggm), G_(g2), G_(m));
    same("causal stage 2 masked gates2", &g2, 1e-5, 1e-5);
    same("causal stage 2 masked m", &m, 1e-5, 1e-5);
    op_from_host(g1.cpu.data, G_(g1));
    op_from_host(g2.cpu.data, G_(g2));
    Pair dx_cc = P4(B, 7 * n, H, W, -1, 1), dh_cc = P4(B, 4 * n, H, W, -1, 1), dc_cc = P4(B, 3 * n, H, W, -1, 1);
    Pair dm_cc = P4(B, 3 * n, H, W, -1, 1), dc2m = P4(B, 4 * n, H, W, -1, 1), dcp = P4(B, n, H, W, -1, 1);
    Pair dc = P4(B, n, H, W, -1, 1), dm = P4(B, n, H, W, -1, 1);
    causal_lstm_stage2_backward_masked(C_(g2), C_(ggm), C_(dm), C_(dx_cc), C_(dc2m), C_(dm_cc));
    reg_causal_stage2_backward(G_(g2), G_(ggm), G_(dm), G_(dx_cc), G_(dc2m), G_(dm_cc));
    causal_lstm_stage1_backward_masked(C_(g1), C_(cp), C_(gm), C_(dc), C_(dx_cc), C_(dh_cc), C_(dc_cc), C_(dcp));
    reg_causal_stage1_backward(G_(g1), G_(cp), G_(gm), G_(dc), G_(dx_cc), G_(dh_cc), G_(dc_cc), G_(dcp));
    same("causal masked backward dx_cc (blocks 0-2, 4-6)", &dx_cc, 0, 0);
    same("causal masked backward dh_cc", &dh_cc, 0, 0);
    same("causal masked backward dc_cc", &dc_cc, 0, 0);
    same("causal masked backward dm_cc", &dm_cc, 0, 0);
    same("causal masked backward dc2m", &dc2m, 0, 0);
    same("causal masked backward dc_prev", &dcp, 0, 0);
}

/* ---------------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    void (*fn)(void);
} Case;
#define CASE(f) {#f, f}
static const Case cases[] = {
    CASE(test_conv2d),
    CASE(test_conv2d_chunks),
    CASE(test_activations),
    CASE(test_lstm_cell),
    CASE(test_batchnorm),
    CASE(test_elementwise),
    CASE(test_large),
    CASE(test_loss),
    CASE(test_optim),
    CASE(test_layernorm),
    CASE(test_causal_lstm),
    CASE(test_masks),
    CASE(test_zoneout),
    CASE(test_reg_lstm),
    CASE(test_reg_conv),
    CASE(test_causal_masked),
};

/* ---------------------------------------------------------------------------------------------- */
/* --bench: CPU vs GPU time of the ops of one ConvLSTM step at the report's scale (not a check). */

static double bench_time(void (*fn)(void *), void *ctx, int gpu, int reps) {
    fn(ctx); /* warm-up (cuBLAS handle, kernel loading) */
    device_synchronize(gpu ? RR_CUDA : RR_CPU);
    const double t0 = rr_now();
    for (int r = 0; r < reps; r++) fn(ctx);
    device_synchronize(gpu ? RR_CUDA : RR_CPU);
    return (rr_now() - t0) / reps;
}

typedef struct {
    Tensor *x, *w, *b, *y, *dy, *dx, *dw, *db, *pre, *gates, *c, *h;
    float *scratch;
} BenchCtx;
static void bench_conv_fwd(void *p) {
    BenchCtx *c = p;
    conv2d_forward(c->x, c->w, c->b, c->y, 0, c->scratch);
}
static void bench_conv_bwd(void *p) {
    BenchCtx *c = p;
    conv2d_backward(c->x, c->w, c->dy, c->dx, c->dw, c->db, c->scratch);
}
static void bench_cell(void *p) {
    BenchCtx *c = p;
    lstm_cell_forward(c->pre, NULL, c->gates, c->c, c->h, ACT_SIGMOID, ACT_TANH);
}

static void run_bench(void) {
    /* conv_h of a 64-unit ConvLSTM layer on 16×16 patch maps, 5×5 kernel, batch 16 */
    const int B = 16, Cin = 64, Cout = 256, H = 16, W = 16, k = 5;
    Pair x = P4(B, Cin, H, W, -1, 1), w = P4(Cout, Cin, k, k, -0.1f, 0.1f), b = P1(Cout, -1, 1);
    Pair y = P4(B, Cout, H, W, 0, 0), dy = P4(B, Cout, H, W, -1, 1), dx = P4(B, Cin, H, W, 0, 0);
    Pair dw = P4(Cout, Cin, k, k, 0, 0), db = P1(Cout, 0, 0), c = P4(B, Cout / 4, H, W, 0, 0);
    Pair h = P4(B, Cout / 4, H, W, 0, 0), gates = P4(B, Cout, H, W, 0, 0);
    int ss[1] = {(int)conv2d_scratch_floats(G_(x), k)};
    Pair scratch = pair_make(1, ss, 0, 0);
    BenchCtx cc = {C_(x), C_(w), C_(b), C_(y), C_(dy), C_(dx), C_(dw), C_(db), C_(y), C_(gates), C_(c), C_(h),
                   scratch.cpu.data};
    BenchCtx gc = {G_(x), G_(w), G_(b), G_(y), G_(dy), G_(dx), G_(dw), G_(db), G_(y), G_(gates), G_(c), G_(h),
                   scratch.gpu.data};
    const double flop = 2.0 * B * Cout * H * W * Cin * k * k;
    struct { const char *name; void (*fn)(void *); double flops; } ops[] = {
        {"conv2d_forward (16,64,16,16) k5 -> 256", bench_conv_fwd, flop},
        {"conv2d_backward dx dw db", bench_conv_bwd, 2 * flop},
        {"lstm_cell_forward (16,256,16,16)", bench_cell, 0},
    };
    for (int i = 0; i < 3; i++) {
        const double tc = bench_time(ops[i].fn, &cc, 0, 3);
        double tg[2];
        for (int tf32 = 0; tf32 <= 1; tf32++) {
            set_tf32(tf32);
            tg[tf32] = bench_time(ops[i].fn, &gc, 1, 50);
        }
        set_tf32(0);
        printf("# bench %-40s cpu %9.3f ms   gpu fp32 %8.4f ms   gpu tf32 %8.4f ms", ops[i].name, tc * 1e3,
               tg[0] * 1e3, tg[1] * 1e3);
        if (ops[i].flops > 0) printf("   (gpu fp32 %.0f GFLOP/s)", ops[i].flops / tg[0] / 1e9);
        printf("\n");
    }
}

/* Usage: test_gpu_ops [--bench] [case ...]   (no case: all of them) */
int main(int argc, char **argv) {
    TEST_BEGIN("test_gpu_ops");
    int bench = 0, n_named = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0) bench = 1;
        else n_named++;
    }
    const int n_cases = (int)(sizeof cases / sizeof cases[0]);
    const char *why;
    const int devices = gpu_device_count(&why);
    if (devices == 0) {
        for (int i = 0; i < n_cases; i++) SKIP("%s: %s", cases[i].name, why);
        printf("# test_gpu_ops: %d GPU cases skipped\n", n_cases);
        return 0;
    }
    gpu_print_device("test_gpu_ops", devices);
    arena_init_plan(&dev, RR_CUDA);
    dev.size = (size_t)512 << 20; /* 512 MiB of views, handed out in order and rewound per case */
    if (arena_allocate(&dev)) {
        CHECK(0, "device arena: %s", rr_last_error());
        return tests_exit();
    }
    for (int i = 0; i < n_cases; i++) {
        int wanted = n_named == 0;
        for (int j = 1; j < argc; j++) wanted |= strcmp(argv[j], cases[i].name) == 0;
        if (!wanted || (bench && n_named == 0)) continue;
        printf("# %s\n", cases[i].name);
        cases[i].fn();
        case_end();
    }
    if (bench) {
        run_bench();
        case_end();
    }
    arena_free(&dev);
    return tests_exit();
}
