/* test_gpu_model.c — the CUDA backend at the level of whole models: ConvLSTM and PredRNN++ with every
 * regularizer, trained for 3 steps on the GPU and on the CPU from the same initial weights, frames,
 * scheduled-sampling choices and (bit-identical) dropout / zoneout masks; then a short training run
 * whose loss must fall, and GPU determinism. Without a CUDA device (or without CUDA compiled in) every
 * case prints one skip line. Runs in `make test-gpu` and, on the CPU emulation of the backend, in
 * `make test-gpu-emu`.
 *
 * A step = model_set_iteration, model_train_step (forward + BPTT; T = 6 frames, 5 steps, scheduled
 * sampling feeding predictions back where the head allows it), the L2 penalty of the config when it has
 * one (reg_l2_apply), then plain SGD on every parameter (ConvLSTM lr 0.05, PredRNN++ lr 2e-5: its
 * official ±0.001 initialisation under tensor layer norm has large gradients, and larger steps make the
 * loss climb) — SGD rather than Adam so a parameter moves by lr × its gradient and the comparison
 * measures gradients, not Adam's sign of near-zero ones.
 *
 * How close is close enough: the GPU sums convolution products in cuBLAS's order, reduces in tree order
 * and has its own expf/tanhf (a few ulp), so it differs from the CPU by float rounding, amplified by
 * whatever amplifies rounding in the model (BPTT, normalisations of small-variance activations, and for
 * PredRNN++ with batch norm a strongly ill-conditioned forward). The test measures that amplification
 * on the CPU itself: a third run, on the CPU with the convolutions' sgemm replaced by a double-precision
 * one ("alt": a different, more exact rounding of the same products), and requires for every quantity
 *     |gpu - cpu|  <=  floor + 10 · |alt - cpu|
 * i.e. the GPU is within ten times the spread of a legitimate rounding change on the CPU. Floors (FP32):
 *   losses of the 3 steps              relative 1e-6
 *   step-1 gradients                   per parameter tensor, max |diff| / max |cpu| <= 1e-5
 *   parameters after 3 SGD steps       1e-6 absolute
 *   BN running statistics              1e-6
 *   evaluation outputs (model_evaluate on the trained weights, 2 frames in, 3 predicted)   1e-5
 *   L2 penalty (double sums)           relative 1e-9
 * TF32 (one config per model): the alt run rounds the products' inputs to TF32 as the tensor cores do
 * (10 mantissa bits, so its spread is TF32's), floors ×100.
 * Determinism: two GPU runs of the same 3 steps give bit-identical losses, gradients and parameters
 * (fixed reduction orders, no atomics, cuBLAS atomics disallowed).
 * Learning: 40 Adam steps of a small ConvLSTM (lr 3e-3) and PredRNN++ (lr 1e-2), with dropout, on one
 * batch of a square moving one pixel per frame: the last loss is below 50% (ConvLSTM) / 90% (PredRNN++)
 * of the first on the GPU and on the CPU, and at every step the GPU's loss is within 1% of the CPU's
 * plus 10 x the alt run's distance (Adam turns rounding noise in near-zero gradients into full-size
 * steps, so long runs drift apart by rounding alone; the alt run measures how far). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model.h"
#include "ops.h"
#include "regularize.h"
#include "rng.h"
#include "tensor.h"
#include "test.h"
#include "gpu_device.h"
#include "blas.h"
#include "ops_internal.h" /* conv_sgemm: the alt run's sgemm */

#define T_FRAMES 6
#define STEPS 3
#define SPREAD 10.0 /* |gpu - cpu| <= floor + SPREAD · |alt - cpu| */

/* What is compared, in the order of the header: loss, grad, param, buffer, output, penalty. */
enum { Q_LOSS, Q_GRAD, Q_PARAM, Q_BUFFER, Q_OUTPUT, Q_PEN, NQ };
static const char *const q_what[NQ] = {"training losses (relative)", "step-1 gradients (of each tensor's max)",
                                       "parameters after 3 SGD steps", "batch-norm running statistics",
                                       "evaluation outputs", "L2 penalty (relative)"};
static const double floor_fp32[NQ] = {1e-6, 1e-5, 1e-6, 1e-6, 1e-5, 1e-9};

/* The alt run's sgemm: row-major, as rr_sgemm (blas.h), accumulating in double; with tf32_inputs the
 * inputs are first rounded to TF32 (round to nearest even on the 13 low mantissa bits). */
static int alt_tf32 = 0;
static float round_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u += 0x0fffu + ((u >> 13) & 1u);
        u &= ~0x1fffu;
    }
    memcpy(&x, &u, 4);
    return x;
}
static void sgemm_f64(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(int64_t)k * lda + i] : A[(int64_t)i * lda + k];
                float b = tb ? B[(int64_t)j * ldb + k] : B[(int64_t)k * ldb + j];
                if (alt_tf32) a = round_tf32(a), b = round_tf32(b);
                acc += (double)a * b;
            }
            float *c = &C[(int64_t)i * ldc + j];
            *c = beta == 0.0f ? (float)(alpha * acc) : (float)(alpha * acc + (double)beta * *c);
        }
}

/* One side of a comparison: the model and its frames on one device. */
typedef struct {
    Model *m;
    Arena arena;
    Tensor frames;
    int device;
    int alt; /* the CPU run with sgemm_f64 */
} Side;

/* Run a model call of side s with its sgemm. */
#define ON(s, call) ((void)(conv_sgemm = (s)->alt ? sgemm_f64 : rr_sgemm), (call))

static int side_open(Side *s, const ModelConfig *mc, int B_plan, int B, const float *host, int device) {
    memset(s, 0, sizeof *s);
    s->device = device;
    if (model_create(mc, B_plan, T_FRAMES, device, &s->m)) return -1;
    const int C = mc->img_channels * mc->patch * mc->patch, S = mc->image_size / mc->patch;
    int shape[5] = {T_FRAMES, B, C, S, S};
    arena_init_plan(&s->arena, device);
    arena_tensor(&s->arena, 5, shape);
    if (arena_allocate(&s->arena)) return -1;
    arena_rewind(&s->arena);
    s->frames = arena_tensor(&s->arena, 5, shape);
    op_from_host(host, &s->frames);
    model_init(s->m, 3);
    return 0;
}

static void side_close(Side *s) {
    if (s->m) model_free(s->m);
    arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

static float *to_host(const Tensor *t) {
    float *h = rr_malloc(sizeof(float) * (size_t)(t->count ? t->count : 1));
    op_to_host(t, h);
    return h;
}

/* max |a - b| over two device tensors of the same shape, and max |b|. */
static double max_diff(const Tensor *a, const Tensor *b, double *bmax) {
    float *ha = to_host(a), *hb = to_host(b);
    double d = 0, m = 0;
    for (int64_t i = 0; i < a->count; i++) {
        const double e = fabs((double)ha[i] - hb[i]);
        if (e > d || isnan(e)) d = e;
        if (fabs(hb[i]) > m) m = fabs(hb[i]);
    }
    free(ha);
    free(hb);
    if (bmax) *bmax = m;
    return d;
}

static int bits_equal(const Tensor *a, const Tensor *b) {
    float *ha = to_host(a), *hb = to_host(b);
    const int eq = a->count == b->count && !memcmp(ha, hb, sizeof(float) * (size_t)a->count);
    free(ha);
    free(hb);
    return eq;
}

/* Frames: a 3×3 square moving one pixel per frame right and down (sample b starts at (b, 2b)), plus
 * uniform noise of amplitude `noise`, in patch space (C = p², image_size / p). */
static float *make_frames(const ModelConfig *mc, int B, double noise) {
    const int p = mc->patch, S = mc->image_size / p, C = p * p, img = mc->image_size;
    float *f = rr_malloc(sizeof(float) * (size_t)T_FRAMES * B * C * S * S);
    for (int t = 0; t < T_FRAMES; t++)
        for (int b = 0; b < B; b++)
            for (int y = 0; y < img; y++)
                for (int x = 0; x < img; x++) {
                    const int y0 = (b + t) % (img - 3), x0 = (2 * b + t) % (img - 3);
                    float v = (y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3) ? 0.9f : 0.05f;
                    const uint64_t idx = (((uint64_t)t * B + b) * img + y) * img + x;
                    v += (float)(noise * (rr_rand_uniform(17, rr_stream(RR_TAG_TEST, 5, 0, 0), idx) - 0.5));
                    /* PredRNN patch reshape: channel (y % p)·p + x % p of pixel (y / p, x / p) */
                    const int c = (y % p) * p + x % p;
                    f[((((int64_t)t * B + b) * C + c) * S + y / p) * S + x / p] = v;
                }
    return f;
}

static void use_truth_of(const ModelConfig *mc, int B, unsigned char *ut) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T_FRAMES; t++) /* feed predictions back at some steps unless the head forbids */
            ut[b * T_FRAMES + t] = mc->head == HEAD_CONV3D_CENTERED || t < 2 || (b + t) % 3 != 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Configurations */

static ModelConfig convlstm_base(void) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    strcpy(c.model, "convlstm");
    c.num_layers = 2;
    c.hidden[0] = 6, c.hidden[1] = 5;
    c.kernel[0] = 3, c.kernel[1] = 3;
    c.cell_act = ACT_TANH;
    c.gate_act = ACT_SIGMOID;
    c.batchnorm = 1;
    c.bn_momentum = 0.1f;
    c.bn_eps = 1e-3f;
    c.head = HEAD_CONV3D_CAUSAL;
    c.head_kernel = 3;
    c.head_act = ACT_SIGMOID;
    c.patch = 2;
    c.image_size = 16;
    c.img_channels = 1;
    c.reg_seed = 11;
    return c;
}

static ModelConfig predrnn_base(void) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    strcpy(c.model, "predrnn_pp");
    c.num_layers = 3;
    c.hidden[0] = c.hidden[1] = c.hidden[2] = 4;
    c.kernel[0] = c.kernel[1] = c.kernel[2] = 3;
    c.layer_norm = 1;
    c.ghu = 1;
    c.head = HEAD_LINEAR;
    c.head_kernel = 1;
    c.head_act = ACT_IDENTITY;
    c.patch = 2;
    c.image_size = 16;
    c.img_channels = 1;
    c.bn_momentum = 0.1f;
    c.bn_eps = 1e-3f;
    c.reg_seed = 11;
    return c;
}

typedef struct {
    const char *name;
    double l2;   /* L2 penalty applied after the step (0: none) */
    int tf32;
    int B_call;  /* sequences per call (< planned batch 3: the smaller-batch views) */
} Variant;

/* Apply regularizer variant v to c; returns 0 when the variant does not apply to this model. */
static int apply_variant(ModelConfig *c, const char *v) {
    const int pp = !strcmp(c->model, "predrnn_pp");
    if (!strcmp(v, "plain")) return 1;
    if (!strcmp(v, "dropout")) return c->dropout = 0.3f, 1;
    if (!strcmp(v, "rec_dropout")) return c->rec_dropout = 0.25f, 1;
    if (!strcmp(v, "rec_dropout/seq")) return c->rec_dropout = 0.25f, c->rec_dropout_seq = 1, 1;
    if (!strcmp(v, "var_dropout")) return c->var_dropout_x = 0.2f, c->var_dropout_h = 0.3f, 1;
    if (!strcmp(v, "zoneout")) return c->zoneout_c = 0.3f, c->zoneout_h = 0.2f, c->zoneout_m = pp ? 0.15f : 0.0f, 1;
    if (!strcmp(v, "weight_drop")) return c->weight_drop = 0.3f, 1;
    if (!strcmp(v, "layer_norm")) return c->layer_norm = !c->layer_norm, 1;
    if (!strcmp(v, "batchnorm")) return c->batchnorm = !c->batchnorm, 1;
    if (!strcmp(v, "no_ghu")) return pp ? (c->ghu = 0, 1) : 0;
    if (!strcmp(v, "conv2d_head")) /* hard_sigmoid gates, relu cell, conv2d head */
        return pp ? 0 : (c->head = HEAD_CONV2D, c->gate_act = ACT_HARD_SIGMOID, c->cell_act = ACT_RELU, 1);
    if (!strcmp(v, "centered_head")) return pp ? 0 : (c->head = HEAD_CONV3D_CENTERED, 1);
    if (!strcmp(v, "all")) {
        c->dropout = 0.2f, c->rec_dropout = 0.2f, c->var_dropout_x = 0.1f, c->var_dropout_h = 0.1f;
        c->zoneout_c = 0.1f, c->zoneout_h = 0.1f, c->weight_drop = 0.1f, c->batchnorm = 1;
        return 1;
    }
    return 1; /* l2, tf32, batch variants: the base config */
}

/* ---------------------------------------------------------------------------------------------- */

/* The L2 penalty of every kernel (l2_on = all), as train.c applies it; returns λ Σ w². */
static double l2_step(Model *m, double l2) {
    double pen = 0;
    for (int i = 0; i < model_num_params(m); i++) {
        Tensor *w = model_param(m, i);
        if (reg_l2_selects(model_param_name(m, i), w->ndim, "all")) pen += reg_l2_apply(w, model_grad(m, i), l2);
    }
    return pen;
}

static void sgd_step(Model *m, int64_t step, float lr) {
    for (int i = 0; i < model_num_params(m); i++)
        sgd_update(model_param(m, i), model_grad(m, i), NULL, lr, 0.0f, 0.0f, 0, step);
}

static float lr_of(const ModelConfig *mc) { return strcmp(mc->model, "predrnn_pp") ? 0.05f : 2e-5f; }

/* 3 steps of a model on the CPU, the alt CPU run and the GPU; every comparison of the header. */
static void compare(const char *model_name, const ModelConfig *mc, const Variant *v) {
    const int B_plan = 3, B = v->B_call;
    const float lr = lr_of(mc);
    char label[128];
    snprintf(label, sizeof label, "%s %s%s", model_name, v->name, v->tf32 ? " (TF32)" : "");
    float *host = make_frames(mc, B, 0.2);
    unsigned char ut[3 * T_FRAMES];
    use_truth_of(mc, B, ut);
    Side sd[3]; /* cpu, alt, gpu */
    memset(sd, 0, sizeof sd);
    int ok = 1;
    for (int k = 0; k < 3 && ok; k++) {
        ok = !side_open(&sd[k], mc, B_plan, B, host, k == 2 ? RR_CUDA : RR_CPU);
        sd[k].alt = k == 1;
    }
    if (!ok) {
        CHECK(0, "%s: create: %s", label, rr_last_error());
        for (int k = 0; k < 3; k++) side_close(&sd[k]);
        free(host);
        return;
    }
    set_tf32(v->tf32);
    alt_tf32 = v->tf32;
    const int np = model_num_params(sd[0].m);
    int init_same = np == model_num_params(sd[2].m);
    for (int i = 0; init_same && i < np; i++) init_same = bits_equal(model_param(sd[2].m, i), model_param(sd[0].m, i));
    CHECK(init_same, "%s: %d parameters initialised bit-identically on both devices", label, np);
    double q[2][NQ]; /* [alt, gpu] vs cpu */
    const char *where[2][NQ];
    memset(q, 0, sizeof q);
    for (int a = 0; a < 2; a++)
        for (int j = 0; j < NQ; j++) where[a][j] = "";
#define WORSE(a, j, value, name) \
    do { const double v_ = (value); if (!(v_ <= q[a][j])) q[a][j] = v_, where[a][j] = (name); } while (0)
    for (int step = 1; step <= STEPS; step++) {
        double loss[3], pen[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            model_set_iteration(sd[k].m, step);
            loss[k] = ON(&sd[k], model_train_step(sd[k].m, &sd[k].frames, ut, NULL));
        }
        for (int a = 0; a < 2; a++) {
            WORSE(a, Q_LOSS, fabs(loss[a + 1] - loss[0]) / fabs(loss[0]), "");
            for (int i = 0; step == 1 && i < np; i++) {
                double gmax, d = max_diff(model_grad(sd[a + 1].m, i), model_grad(sd[0].m, i), &gmax);
                WORSE(a, Q_GRAD, d / (gmax + 1e-30), model_param_name(sd[0].m, i));
            }
        }
        if (v->l2 > 0) {
            for (int k = 0; k < 3; k++) pen[k] = l2_step(sd[k].m, v->l2);
            for (int a = 0; a < 2; a++) WORSE(a, Q_PEN, fabs(pen[a + 1] - pen[0]) / pen[0], "");
        }
        for (int k = 0; k < 3; k++) sgd_step(sd[k].m, step, lr);
    }
    for (int a = 0; a < 2; a++) {
        for (int i = 0; i < np; i++)
            WORSE(a, Q_PARAM, max_diff(model_param(sd[a + 1].m, i), model_param(sd[0].m, i), NULL),
                  model_param_name(sd[0].m, i));
        for (int i = 0; i < model_num_buffers(sd[0].m); i++)
            WORSE(a, Q_BUFFER, max_diff(model_buffer(sd[a + 1].m, i), model_buffer(sd[0].m, i), NULL),
                  model_buffer_name(sd[0].m, i));
    }
    const int C = mc->img_channels * mc->patch * mc->patch, S = mc->image_size / mc->patch;
    const int64_t out_n = (int64_t)(T_FRAMES - 1) * B * C * S * S;
    float *out[3];
    for (int k = 0; k < 3; k++) {
        out[k] = rr_malloc(sizeof(float) * (size_t)out_n);
        ON(&sd[k], model_evaluate(sd[k].m, &sd[k].frames, 2, out[k]));
    }
    for (int a = 0; a < 2; a++)
        for (int64_t i = 0; i < out_n; i++) WORSE(a, Q_OUTPUT, fabs((double)out[a + 1][i] - out[0][i]), "");
    conv_sgemm = rr_sgemm;
#undef WORSE
    for (int j = 0; j < NQ; j++) {
        if (j == Q_BUFFER && model_num_buffers(sd[0].m) == 0) continue;
        if (j == Q_PEN && !(v->l2 > 0)) continue;
        const double fl = floor_fp32[j] * (v->tf32 ? 100 : 1), lim = fl + SPREAD * q[0][j];
        char at[96] = "";
        if (*where[1][j]) snprintf(at, sizeof at, " (at %s)", where[1][j]);
        CHECK(q[1][j] <= lim, "%s: %s: gpu %.2e <= %.0e + %.0f x alt %.2e%s", label, q_what[j], q[1][j], fl, SPREAD,
              q[0][j], at);
    }
    set_tf32(0);
    alt_tf32 = 0;
    for (int k = 0; k < 3; k++) {
        free(out[k]);
        side_close(&sd[k]);
    }
    free(host);
}

static void test_models(void) {
    static const char *const regs[] = {"plain",  "dropout",    "rec_dropout", "rec_dropout/seq", "var_dropout",
                                       "zoneout", "weight_drop", "layer_norm", "batchnorm",       "no_ghu",
                                       "conv2d_head", "centered_head", "all"};
    for (int k = 0; k < 2; k++) {
        const ModelConfig base = k ? predrnn_base() : convlstm_base();
        const char *name = k ? "predrnn_pp" : "convlstm";
        for (size_t r = 0; r < sizeof regs / sizeof *regs; r++) {
            ModelConfig c = base;
            if (!apply_variant(&c, regs[r])) continue;
            Variant v = {regs[r], 0.0, 0, 3};
            compare(name, &c, &v);
        }
        ModelConfig c = base;
        Variant l2 = {"l2", 1e-3, 0, 3}, tf32 = {"plain", 0.0, 1, 3}, small = {"batch 2 of 3", 0.0, 0, 2};
        compare(name, &c, &l2);
        compare(name, &c, &tf32);
        c.dropout = 0.2f;
        compare(name, &c, &small);
    }
}

/* Two GPU runs of 3 steps with every regularizer: identical bits. */
static void test_determinism(void) {
    for (int k = 0; k < 2; k++) {
        ModelConfig c = k ? predrnn_base() : convlstm_base();
        apply_variant(&c, "all");
        const char *name = k ? "predrnn_pp" : "convlstm";
        float *host = make_frames(&c, 3, 0.2);
        unsigned char ut[3 * T_FRAMES];
        use_truth_of(&c, 3, ut);
        Side a, b;
        if (side_open(&a, &c, 3, 3, host, RR_CUDA) || side_open(&b, &c, 3, 3, host, RR_CUDA)) {
            CHECK(0, "%s determinism: create: %s", name, rr_last_error());
            side_close(&a);
            side_close(&b);
            free(host);
            continue;
        }
        int same_loss = 1, same_grad = 1;
        for (int step = 1; step <= STEPS; step++) {
            model_set_iteration(a.m, step);
            model_set_iteration(b.m, step);
            const double la = model_train_step(a.m, &a.frames, ut, NULL);
            const double lb = model_train_step(b.m, &b.frames, ut, NULL);
            same_loss &= memcmp(&la, &lb, sizeof la) == 0;
            for (int i = 0; i < model_num_params(a.m); i++)
                same_grad &= bits_equal(model_grad(a.m, i), model_grad(b.m, i));
            sgd_step(a.m, step, lr_of(&c));
            sgd_step(b.m, step, lr_of(&c));
        }
        int same_param = 1;
        for (int i = 0; i < model_num_params(a.m); i++)
            same_param &= bits_equal(model_param(a.m, i), model_param(b.m, i));
        CHECK(same_loss && same_grad && same_param,
              "%s (every regularizer): two GPU runs of %d steps give bit-identical losses (%d), gradients (%d) and "
              "parameters (%d)", name, STEPS, same_loss, same_grad, same_param);
        free(host);
        side_close(&a);
        side_close(&b);
    }
}

/* 40 Adam steps on one batch: the loss falls on both devices, and the GPU's curve follows the CPU's
 * (within 1% of the CPU's loss plus 10 x the alt run's distance from it, step by step). */
static void test_learning(void) {
    const int steps = 40, B = 2;
    for (int k = 0; k < 2; k++) {
        ModelConfig c = k ? predrnn_base() : convlstm_base();
        c.dropout = 0.1f; /* a regularizer in the loop: masks drawn every step */
        const char *name = k ? "predrnn_pp" : "convlstm";
        const float lr = k ? 1e-2f : 3e-3f;
        const double falls_to = k ? 0.9 : 0.5;
        float *host = make_frames(&c, B, 0.0);
        unsigned char ut[2 * T_FRAMES];
        use_truth_of(&c, B, ut);
        double first[3] = {0, 0, 0}, last[3] = {0, 0, 0}, worst_gap = 0, alt_gap = 0;
        Side sd[3]; /* cpu, alt, gpu */
        memset(sd, 0, sizeof sd);
        int ok = 1;
        for (int d = 0; d < 3 && ok; d++) {
            ok = !side_open(&sd[d], &c, B, B, host, d == 2 ? RR_CUDA : RR_CPU);
            sd[d].alt = d == 1;
        }
        if (!ok) {
            CHECK(0, "%s learning: create: %s", name, rr_last_error());
        } else {
            const int np = model_num_params(sd[0].m);
            Arena st[3];
            Tensor *mom[3], *vel[3];
            for (int d = 0; d < 3; d++) { /* Adam state on each side's device */
                mom[d] = rr_calloc((size_t)np, sizeof(Tensor));
                vel[d] = rr_calloc((size_t)np, sizeof(Tensor));
                arena_init_plan(&st[d], sd[d].device);
                for (int pass = 0; pass < 2; pass++) {
                    if (pass) {
                        if (arena_allocate(&st[d])) rr_die("test_gpu_model: %s", rr_last_error());
                        arena_rewind(&st[d]);
                    }
                    for (int i = 0; i < np; i++) {
                        const Tensor *p = model_param(sd[d].m, i);
                        mom[d][i] = arena_tensor(&st[d], p->ndim, p->shape);
                        vel[d][i] = arena_tensor(&st[d], p->ndim, p->shape);
                    }
                }
            }
            const AdamHyper h = {lr, 0.9f, 0.999f, 1e-8f, 0.0f, 0};
            for (int step = 1; step <= steps; step++) {
                double loss[3];
                for (int d = 0; d < 3; d++) {
                    model_set_iteration(sd[d].m, step);
                    loss[d] = ON(&sd[d], model_train_step(sd[d].m, &sd[d].frames, ut, NULL));
                    for (int i = 0; i < np; i++)
                        adam_update(model_param(sd[d].m, i), model_grad(sd[d].m, i), &mom[d][i], &vel[d][i], &h, step);
                    if (step == 1) first[d] = loss[d];
                    last[d] = loss[d];
                }
                const double gap = fabs(loss[2] - loss[0]) / loss[0], agap = fabs(loss[1] - loss[0]) / loss[0];
                if (!(gap - 10 * agap <= worst_gap - 10 * alt_gap)) worst_gap = gap, alt_gap = agap;
            }
            conv_sgemm = rr_sgemm;
            for (int d = 0; d < 3; d++) {
                arena_free(&st[d]);
                free(mom[d]);
                free(vel[d]);
            }
        }
        CHECK(ok && last[2] < falls_to * first[2] && last[0] < falls_to * first[0],
              "%s: %d Adam steps (lr %g) on a moving square: GPU loss %.5f -> %.5f, CPU %.5f -> %.5f (below %.0f%%)",
              name, steps, (double)lr, first[2], last[2], first[0], last[0], 100 * falls_to);
        CHECK(ok && worst_gap <= 1e-2 + 10 * alt_gap,
              "%s: GPU loss curve follows the CPU's: worst step %.2e <= 1e-2 + 10 x alt %.2e", name, worst_gap,
              alt_gap);
        free(host);
        for (int d = 0; d < 3; d++) side_close(&sd[d]);
    }
}

typedef struct {
    const char *name;
    void (*fn)(void);
} Case;
static const Case cases[] = {
    {"test_models", test_models},
    {"test_determinism", test_determinism},
    {"test_learning", test_learning},
};

/* Usage: test_gpu_model [case ...]   (no case: all of them) */
int main(int argc, char **argv) {
    TEST_BEGIN("test_gpu_model");
    const int n_cases = (int)(sizeof cases / sizeof cases[0]);
    const char *why;
    const int devices = gpu_device_count(&why);
    if (devices == 0) {
        for (int i = 0; i < n_cases; i++) SKIP("%s: %s", cases[i].name, why);
        return 0;
    }
    gpu_print_device("test_gpu_model", devices);
    for (int i = 0; i < n_cases; i++) {
        int wanted = argc < 2;
        for (int j = 1; j < argc; j++) wanted |= !strcmp(argv[j], cases[i].name);
        if (!wanted) continue;
        printf("# %s\n", cases[i].name);
        cases[i].fn();
    }
    return tests_exit();
}
