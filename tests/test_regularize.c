/* test_regularize.c — the regularizers (src/regularize.h, their use in src/convlstm.c, the L2 option):
 * - Philox dropout masks: values {0, 1/(1-p)}, kept fraction 1-p within a binomial bound, distinct
 *   streams per step / layer / tensor / iteration, a smaller batch reproduces the first samples;
 * - the split ConvLSTM cell without mask equals the fused lstm_cell op (forward and backward);
 * - per model and method, one training step against the PyTorch reference with the SAME masks
 *   (tests/reference/make_reg_fixture.py regenerates rnnreg's Philox masks in numpy): outputs, loss,
 *   every gradient, BN running statistics, then the evaluation rollout (no masks);
 * - evaluation is deterministic: identical output with the regularizer on and off (same weights);
 * - L2: penalty λΣw², its gradient 2λw against central finite differences, the l2_on selection.
 *   (AdamW's decoupled decay against torch.optim.AdamW over 3 steps is covered by tests/test_ops.c.)
 * Tolerances as tests/test_convlstm.c (the fixtures are float64 results of float32 inputs). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "causal_lstm_cell.h"
#include "common.h"
#include "model.h"
#include "ops.h"
#include "regularize.h"
#include "rng.h"
#include "safetensors.h"
#include "test.h"
#include "fixture.h"

/* ------------------------------------------------------------------------------------------------ */
/* Masks */

static void test_masks(void) {
    TEST_BEGIN("masks");
    const int n = 200000;
    float *buf = rr_malloc(sizeof(float) * n * 2);
    Tensor a = tensor1(buf, RR_CPU, n), b = tensor1(buf + n, RR_CPU, n);
    const float ps[3] = {0.1f, 0.3f, 0.5f};
    for (int k = 0; k < 3; k++) {
        const float p = ps[k], scale = 1.0f / (1.0f - p);
        reg_dropout_mask(&a, 11, reg_stream(5, 1, REG_T_DROP_IN, 3), p);
        long kept = 0, bad = 0;
        for (int i = 0; i < n; i++) {
            kept += buf[i] != 0.0f;
            bad += !(buf[i] == 0.0f || buf[i] == scale);
        }
        const double sd = sqrt((double)n * p * (1 - p)), dev = fabs(kept - (double)n * (1 - p));
        CHECK(bad == 0, "p=%.1f: every mask value is 0 or 1/(1-p) = %g", (double)p, (double)scale);
        CHECK(dev < 5 * sd, "p=%.1f: kept %ld of %d, expected %.0f +- %.0f (5 sd)", (double)p, kept, n,
              (double)n * (1 - p), 5 * sd);
    }
    /* the mask is a pure function of (seed, iteration, layer, tensor, step) */
    reg_dropout_mask(&a, 11, reg_stream(5, 1, REG_T_REC_G, 3), 0.3f);
    const uint64_t streams[5] = {reg_stream(5, 1, REG_T_REC_G, 4), reg_stream(5, 2, REG_T_REC_G, 3),
                                 reg_stream(6, 1, REG_T_REC_G, 3), reg_stream(5, 1, REG_T_DROP_IN, 3),
                                 reg_stream(5, 1, REG_T_REC_G, 3)};
    const char *what[5] = {"another step", "another layer", "another iteration", "another tensor", "the same key"};
    for (int k = 0; k < 5; k++) {
        reg_dropout_mask(&b, 11, streams[k], 0.3f);
        long same = 0;
        for (int i = 0; i < n; i++) same += buf[i] == buf[n + i];
        if (k < 4)
            CHECK(same < n * 0.7, "%s draws an independent mask (%ld of %d equal, ~58%% expected)", what[k], same, n);
        else
            CHECK(same == n, "%s draws the identical mask", what[k]);
    }
    reg_dropout_mask(&b, 12, reg_stream(5, 1, REG_T_REC_G, 3), 0.3f);
    long same = 0;
    for (int i = 0; i < n; i++) same += buf[i] == buf[n + i];
    CHECK(same < n * 0.7, "another seed draws an independent mask");
    /* independent check of the key layout: element i is rr_keep(seed, stream, i) */
    const uint64_t st = rr_stream(RR_TAG_DROPOUT, 9, 2 * 16 + REG_T_VAR_H, 1);
    CHECK(st == reg_stream(9, 2, REG_T_VAR_H, 1), "reg_stream = rr_stream(RR_TAG_DROPOUT, it, layer*16+tensor, step)");
    reg_dropout_mask(&a, 5, st, 0.25f);
    long agree = 0;
    for (int i = 0; i < 1000; i++) agree += (buf[i] != 0.0f) == (rr_rand_uniform(5, st, (uint64_t)i) >= 0.25f);
    CHECK(agree == 1000, "mask element i keeps iff rr_rand_uniform(seed, stream, i) >= p");
    free(buf);
}

/* The split cell without a mask, with c itself as the output state, is the fused lstm_cell. */
static void test_split_cell(void) {
    TEST_BEGIN("split_cell");
    const int B = 2, n = 3, H = 4, W = 5, N = B * n * H * W;
    float *mem = rr_calloc((size_t)N * 40, sizeof(float));
    float *p = mem;
#define TAKE(c) (p += (c), p - (c))
    Tensor pre = tensor4(TAKE(4 * N), RR_CPU, B, 4 * n, H, W), cp = tensor4(TAKE(N), RR_CPU, B, n, H, W);
    Tensor dh = tensor4(TAKE(N), RR_CPU, B, n, H, W), dc = tensor4(TAKE(N), RR_CPU, B, n, H, W);
    Tensor g1 = tensor4(TAKE(4 * N), RR_CPU, B, 4 * n, H, W), c1 = tensor4(TAKE(N), RR_CPU, B, n, H, W);
    Tensor h1 = tensor4(TAKE(N), RR_CPU, B, n, H, W), g2 = tensor4(TAKE(4 * N), RR_CPU, B, 4 * n, H, W);
    Tensor c2 = tensor4(TAKE(N), RR_CPU, B, n, H, W), h2 = tensor4(TAKE(N), RR_CPU, B, n, H, W);
    Tensor dp1 = tensor4(TAKE(4 * N), RR_CPU, B, 4 * n, H, W), dp2 = tensor4(TAKE(4 * N), RR_CPU, B, 4 * n, H, W);
    Tensor dcp1 = tensor4(TAKE(N), RR_CPU, B, n, H, W), dcp2 = tensor4(TAKE(N), RR_CPU, B, n, H, W);
    Tensor dct = tensor4(TAKE(N), RR_CPU, B, n, H, W);
#undef TAKE
    for (int i = 0; i < 4 * N; i++) pre.data[i] = 3.0f * rr_rand_uniform(1, 1, (uint64_t)i) - 1.5f;
    for (int i = 0; i < N; i++) {
        cp.data[i] = rr_rand_uniform(1, 2, (uint64_t)i) - 0.5f;
        dh.data[i] = rr_rand_uniform(1, 3, (uint64_t)i) - 0.5f;
        dc.data[i] = rr_rand_uniform(1, 4, (uint64_t)i) - 0.5f;
    }
    const Activation acts[2] = {ACT_TANH, ACT_RELU};
    for (int a = 0; a < 2; a++) {
        lstm_cell_forward(&pre, &cp, &g1, &c1, &h1, ACT_SIGMOID, acts[a]);
        lstm_cell_backward(&g1, &cp, &c1, &dh, &dc, &dp1, &dcp1, ACT_SIGMOID, acts[a]);
        reg_lstm_state_forward(&pre, &cp, NULL, &g2, &c2, ACT_SIGMOID, acts[a]);
        reg_lstm_output_forward(&g2, &c2, &h2, acts[a]);
        op_copy(&dc, &dct);
        reg_lstm_output_backward(&g2, &c2, &dh, &dp2, &dct, ACT_SIGMOID, acts[a]);
        reg_lstm_state_backward(&g2, &cp, NULL, &dct, &dp2, &dcp2, ACT_SIGMOID, acts[a]);
        check_close_f32(acts[a] == ACT_TANH ? "tanh: h" : "relu: h", h2.data, h1.data, N, 1e-7, 1e-6);
        check_close_f32(acts[a] == ACT_TANH ? "tanh: c" : "relu: c", c2.data, c1.data, N, 1e-7, 1e-6);
        check_close_f32(acts[a] == ACT_TANH ? "tanh: dpre" : "relu: dpre", dp2.data, dp1.data, 4 * N, 1e-7, 1e-5);
        check_close_f32(acts[a] == ACT_TANH ? "tanh: dc_prev" : "relu: dc_prev", dcp2.data, dcp1.data, N, 1e-7, 1e-5);
    }
    free(mem);
}

/* The masked Causal LSTM stages with an all-ones mask equal the fused ops of causal_lstm_cell.c, and a
 * 0/2 mask scales the candidate's term (forward and backward). */
static void test_causal_masked(void) {
    TEST_BEGIN("causal_masked");
    const int B = 2, n = 3, H = 4, W = 3, N = B * n * H * W;
    float *mem = rr_calloc((size_t)N * 86, sizeof(float)); /* the 86·N floats taken below */
    float *p = mem;
#define TAKE(k) (p += (int64_t)(k) * N, p - (int64_t)(k) * N)
#define T4K(k) tensor4(TAKE(k), RR_CPU, B, (k) * n, H, W)
    Tensor x = T4K(7), hc = T4K(4), cc = T4K(3), c2m = T4K(4), mc = T4K(3), cp = T4K(1), ones = T4K(1);
    Tensor g1a = T4K(3), g1b = T4K(3), ca = T4K(1), cb = T4K(1), g2a = T4K(4), g2b = T4K(4), ma = T4K(1), mb = T4K(1);
    Tensor d = T4K(1), dxa = T4K(7), dxb = T4K(7), dha = T4K(4), dhb = T4K(4), dca = T4K(3), dcb = T4K(3);
    Tensor dpa = T4K(1), dpb = T4K(1), d2a = T4K(4), d2b = T4K(4), dma = T4K(3), dmb = T4K(3);
#undef T4K
#undef TAKE
    Tensor *in[6] = {&x, &hc, &cc, &c2m, &mc, &cp};
    for (int k = 0, s = 0; k < 6; k++)
        for (int64_t i = 0; i < in[k]->count; i++) in[k]->data[i] = 2.0f * rr_rand_uniform(4, (uint64_t)++s, 0) - 1.0f;
    for (int i = 0; i < N; i++) d.data[i] = rr_rand_uniform(4, 99, (uint64_t)i) - 0.5f;
    op_fill(&ones, 1.0f);
    causal_lstm_stage1_forward(&x, &hc, &cc, &cp, &g1a, &ca);
    reg_causal_stage1_forward(&x, &hc, &cc, &cp, &ones, &g1b, &cb);
    causal_lstm_stage2_forward(&x, &c2m, &mc, &g2a, &ma);
    reg_causal_stage2_forward(&x, &c2m, &mc, &ones, &g2b, &mb);
    check_close_f32("stage 1 c, mask of ones = fused", cb.data, ca.data, N, 0, 0);
    check_close_f32("stage 2 m, mask of ones = fused", mb.data, ma.data, N, 0, 0);
    causal_lstm_stage1_backward(&g1a, &cp, &d, &dxa, &dha, &dca, &dpa);
    reg_causal_stage1_backward(&g1b, &cp, &ones, &d, &dxb, &dhb, &dcb, &dpb);
    causal_lstm_stage2_backward(&g2a, &d, &dxa, &d2a, &dma);
    reg_causal_stage2_backward(&g2b, &ones, &d, &dxb, &d2b, &dmb);
    check_close_f32("stage 1+2 dx_cc", dxb.data, dxa.data, 7 * N, 0, 0);
    check_close_f32("stage 1 dh_cc", dhb.data, dha.data, 4 * N, 0, 0);
    check_close_f32("stage 1 dc_cc", dcb.data, dca.data, 3 * N, 0, 0);
    check_close_f32("stage 1 dc_prev", dpb.data, dpa.data, N, 0, 0);
    check_close_f32("stage 2 dc2m", d2b.data, d2a.data, 4 * N, 0, 0);
    check_close_f32("stage 2 dm_cc", dmb.data, dma.data, 3 * N, 0, 0);
    /* mask 0 or 2: c = f c_prev + i g mask (closed form from the saved gates) */
    for (int i = 0; i < N; i++) ones.data[i] = (i % 3) ? 2.0f : 0.0f;
    reg_causal_stage1_forward(&x, &hc, &cc, &cp, &ones, &g1b, &cb);
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < n * H * W; e++) {
            const int64_t r = (int64_t)b * n * H * W + e, g = (int64_t)b * 3 * n * H * W + e, nhw = n * H * W;
            const double want = (double)g1b.data[g + nhw] * cp.data[r] + (double)g1b.data[g] * g1b.data[g + 2 * nhw] * ones.data[r];
            worst = fmax(worst, fabs(cb.data[r] - want));
        }
    CHECK(worst < 1e-6, "stage 1 with a 0/2 mask: c = f c_prev + i (g m) (worst |diff| %.3g)", worst);
    free(mem);
}

/* Zoneout op: keep-mask statistics, training mix, evaluation = expectation (closed form), p = 1
 * freezes the state, backward against the closed-form derivatives. */
static void test_zoneout_op(void) {
    TEST_BEGIN("zoneout_op");
    const int n = 100000;
    float *buf = rr_malloc(sizeof(float) * n * 6);
    Tensor d = tensor1(buf, RR_CPU, n), prev = tensor1(buf + n, RR_CPU, n), upd = tensor1(buf + 2 * n, RR_CPU, n);
    Tensor out = tensor1(buf + 3 * n, RR_CPU, n), dprev = tensor1(buf + 4 * n, RR_CPU, n), dupd = tensor1(buf + 5 * n, RR_CPU, n);
    for (int i = 0; i < n; i++) {
        prev.data[i] = rr_rand_uniform(2, 1, (uint64_t)i) - 0.5f;
        upd.data[i] = rr_rand_uniform(2, 2, (uint64_t)i) + 1.0f; /* never equal to prev */
    }
    const float ps[3] = {0.05f, 0.3f, 0.5f};
    for (int k = 0; k < 3; k++) {
        const float p = ps[k];
        reg_zoneout_mask(&d, 7, reg_stream(4, 1, REG_T_ZONE_C, 2), p);
        long kept = 0, bad = 0, mix_bad = 0;
        reg_zoneout_forward(&prev, &upd, &d, p, &out);
        for (int i = 0; i < n; i++) {
            kept += d.data[i] == 1.0f;
            bad += !(d.data[i] == 0.0f || d.data[i] == 1.0f);
            mix_bad += out.data[i] != (d.data[i] == 1.0f ? prev.data[i] : upd.data[i]);
        }
        const double sd = sqrt((double)n * p * (1 - p)), dev = fabs(kept - (double)n * p);
        CHECK(bad == 0, "p=%.2f: keep mask is binary", (double)p);
        CHECK(dev < 5 * sd, "p=%.2f: kept the old value %ld of %d times, expected %.0f +- %.0f (5 sd)", (double)p, kept,
              n, (double)n * p, 5 * sd);
        CHECK(mix_bad == 0, "p=%.2f: training output is the old value where d = 1, the new one elsewhere", (double)p);
        reg_zoneout_forward(&prev, &upd, NULL, p, &out);
        double worst = 0;
        for (int i = 0; i < n; i++)
            worst = fmax(worst, fabs(out.data[i] - ((double)p * prev.data[i] + (1.0 - p) * upd.data[i])));
        CHECK(worst < 1e-6, "p=%.2f: evaluation = p*old + (1-p)*new (worst |diff| %.3g)", (double)p, worst);
        /* backward: dprev += d*g, dupd = (1-d)*g, here with g = upd as the incoming gradient */
        op_fill(&dprev, 0.5f);
        reg_zoneout_backward(&d, &upd, &dprev, &dupd);
        long grad_bad = 0;
        for (int i = 0; i < n; i++)
            grad_bad += dprev.data[i] != 0.5f + d.data[i] * upd.data[i] || dupd.data[i] != (1.0f - d.data[i]) * upd.data[i];
        CHECK(grad_bad == 0, "p=%.2f: backward dprev += d*g, dupd = (1-d)*g", (double)p);
    }
    reg_zoneout_mask(&d, 7, reg_stream(4, 1, REG_T_ZONE_H, 2), 1.0f);
    reg_zoneout_forward(&prev, &upd, &d, 1.0f, &out);
    CHECK(memcmp(out.data, prev.data, sizeof(float) * n) == 0, "p=1 (training) never changes the state");
    reg_zoneout_forward(&prev, &upd, NULL, 1.0f, &out);
    CHECK(memcmp(out.data, prev.data, sizeof(float) * n) == 0, "p=1 (evaluation) never changes the state");
    reg_zoneout_mask(&d, 7, reg_stream(4, 1, REG_T_ZONE_H, 2), 0.0f);
    reg_zoneout_forward(&prev, &upd, &d, 0.0f, &out);
    CHECK(memcmp(out.data, upd.data, sizeof(float) * n) == 0, "p=0 always takes the new value");
    reg_zoneout_forward(NULL, &upd, NULL, 0.25f, &out);
    long zb = 0;
    for (int i = 0; i < n; i++) zb += fabsf(out.data[i] - 0.75f * upd.data[i]) > 1e-6f;
    CHECK(zb == 0, "no previous state (step 0): evaluation = (1-p)*new");
    /* per-step masks: another step, another mask */
    Tensor d2 = tensor1(buf + n, RR_CPU, n);
    reg_zoneout_mask(&d, 7, reg_stream(4, 1, REG_T_ZONE_C, 2), 0.5f);
    reg_zoneout_mask(&d2, 7, reg_stream(4, 1, REG_T_ZONE_C, 3), 0.5f);
    long same = 0;
    for (int i = 0; i < n; i++) same += d.data[i] == d2.data[i];
    CHECK(same < n * 0.55, "the next step draws an independent zoneout mask (%ld of %d equal, ~50%% expected)", same, n);
    free(buf);
}

/* ------------------------------------------------------------------------------------------------ */
/* Fixtures */

static void test_fixture(const char *tag) {
    TEST_BEGIN(tag);
    Fixture fx;
    if (fixture_load("reg_", tag, &fx)) return;
    const ModelConfig *cfg = &fx.cfg;
    const int B = fx.B, T = fx.T, C = cfg->img_channels * cfg->patch * cfg->patch, S = cfg->image_size / cfg->patch;
    const int64_t frame_elems = (int64_t)B * C * S * S, out_elems = (T - 1) * frame_elems;
    Model *m = NULL;
    if (model_create(cfg, B, T, RR_CPU, &m)) {
        CHECK(0, "%s: model_create: %s", tag, rr_last_error());
        st_free(&fx.f);
        return;
    }
    int n_init = 0;
    for (int i = 0; i < fx.f.n; i++) n_init += strncmp(fx.f.tensors[i].name, "init.", 5) == 0;
    CHECK(n_init == model_num_params(m) + model_num_buffers(m), "%s: %d params + %d buffers = %d state_dict tensors",
          tag, model_num_params(m), model_num_buffers(m), n_init);
    const StTensor *fr = want(&fx, "", "frames", T * frame_elems), *ut = want(&fx, "", "use_truth", (int64_t)B * T);
    const StTensor *out = want(&fx, "", "out", out_elems), *loss = want(&fx, "", "loss", 1);
    const StTensor *eout = want(&fx, "", "eval.out", out_elems), *eloss = want(&fx, "", "eval.loss", 1);
    if (!fr || !ut || !out || !loss || !eout || !eloss || !set_state(m, &fx, "init.", "init.")) {
        model_free(m);
        st_free(&fx.f);
        return;
    }
    int shape[5] = {T, B, C, S, S};
    Tensor frames = tensor_make(fr->data, RR_CPU, 5, shape);
    unsigned char *use_truth = rr_malloc((size_t)B * T);
    for (int i = 0; i < B * T; i++) use_truth[i] = ut->data[i] != 0.0f;
    float *pred = rr_malloc(sizeof(float) * (size_t)out_elems), *pred2 = rr_malloc(sizeof(float) * (size_t)out_elems);

    model_set_iteration(m, fx.iteration);
    double l1 = model_train_step(m, &frames, use_truth, pred);
    check_close_f32("training step outputs (masks on)", pred, out->data, (long)out_elems, 1e-5, 1e-4);
    CHECK_NEAR(l1, loss->data[0], 0, 1e-5, "%s: loss %.8f vs PyTorch %.8f", tag, l1, (double)loss->data[0]);
    for (int i = 0; i < model_num_params(m); i++) {
        Tensor *g = model_grad(m, i);
        const StTensor *s = want(&fx, "grad.", model_param_name(m, i), g->count);
        if (!s) continue;
        float *internal = rr_malloc(sizeof(float) * (size_t)g->count), *ckpt = rr_malloc(sizeof(float) * (size_t)g->count);
        op_to_host(g, internal);
        model_param_to_ckpt(m, i, internal, ckpt);
        char what[160];
        snprintf(what, sizeof what, "grad.%s", model_param_name(m, i));
        /* 10x the float32-vs-float64 deviation of a gradient tensor (relative to its largest element):
         * <= 1e-6 for the ConvLSTM (tests/test_convlstm.c), <= 4.7e-6 for PredRNN++ with its layer norms
         * (tests/test_predrnn_pp.c); 1e-5 for both used 0.97 of the bound on pp_zone with another BLAS
         * kernel (OPENBLAS_CORETYPE=Prescott) */
        const double grad_atol = strcmp(cfg->model, "predrnn_pp") ? 1e-5 : 5e-5;
        check_close_f32(what, ckpt, s->data, (long)g->count, grad_atol * maxabs(s->data, g->count), 1e-3);
        free(internal);
        free(ckpt);
    }
    for (int i = 0; i < model_num_buffers(m); i++) {
        Tensor *b = model_buffer(m, i);
        const StTensor *s = want(&fx, "step1.", model_buffer_name(m, i), b->count);
        if (!s) continue;
        float *got = rr_malloc(sizeof(float) * (size_t)b->count);
        op_to_host(b, got);
        check_close_f32(model_buffer_name(m, i), got, s->data, (long)b->count, 1e-5, 1e-4);
        free(got);
    }
    /* another iteration draws other masks: the outputs change (unless only layer norm is on) */
    const int stochastic = cfg->dropout > 0 || cfg->rec_dropout > 0 || cfg->var_dropout_x > 0 || cfg->var_dropout_h > 0 ||
                           cfg->zoneout_c > 0 || cfg->zoneout_h > 0 || cfg->zoneout_m > 0 || cfg->weight_drop > 0;
    if (stochastic) {
        set_state(m, &fx, "init.", "init.");
        model_set_iteration(m, fx.iteration + 1);
        model_train_step(m, &frames, use_truth, pred2);
        double diff = 0;
        for (int64_t i = 0; i < out_elems; i++) diff = fmax(diff, fabs(pred2[i] - pred[i]));
        CHECK(diff > 1e-4, "%s: iteration %lld draws other masks (outputs differ by up to %.3g)", tag,
              (long long)fx.iteration + 1, diff);
        if (cfg->weight_drop > 0 && cfg->dropout == 0 && cfg->rec_dropout == 0 && cfg->var_dropout_x == 0 &&
            cfg->var_dropout_h == 0 && cfg->zoneout_c == 0 && cfg->zoneout_h == 0 && cfg->zoneout_m == 0) {
            /* AWD-LSTM's WeightDrop self-test: step 0 (h_{-1} = 0, conv_h unused) is the same under any
             * mask, later steps are not */
            double d0 = 0;
            for (int64_t i = 0; i < frame_elems; i++) d0 = fmax(d0, fabs(pred2[i] - pred[i]));
            CHECK(d0 == 0.0 && diff > 1e-4, "%s: weight drop leaves step 0 unchanged (%.3g) and changes later steps "
                  "(%.3g)", tag, d0, diff);
        }
        set_state(m, &fx, "init.", "step1."); /* the BN statistics of the fixture's single step */
    }

    double le = model_evaluate(m, &frames, fx.n_in, pred);
    check_close_f32("evaluation rollout (no masks)", pred, eout->data, (long)out_elems, 1e-5, 1e-4);
    CHECK_NEAR(le, eloss->data[0], 0, 1e-5, "%s: eval loss %.8f vs PyTorch %.8f", tag, le, (double)eloss->data[0]);

    /* evaluation is deterministic: the same weights without the stochastic regularizers give the same
     * output bit for bit (layer norm changes the model, so it stays on in both; so does zoneout, whose
     * evaluation is its expectation p·old + (1-p)·new, and that is compared with PyTorch above) */
    if (stochastic) {
        ModelConfig plain = *cfg;
        plain.dropout = plain.rec_dropout = plain.var_dropout_x = plain.var_dropout_h = plain.weight_drop = 0.0f;
        Model *m2 = NULL;
        if (model_create(&plain, B, T, RR_CPU, &m2) == 0) {
            set_state(m2, &fx, "init.", "step1.");
            model_evaluate(m2, &frames, fx.n_in, pred2);
            CHECK(memcmp(pred, pred2, sizeof(float) * (size_t)out_elems) == 0,
                  "%s: evaluation output identical with and without the regularizer's randomness", tag);
            model_free(m2);
        } else {
            CHECK(0, "%s: model without regularizers: %s", tag, rr_last_error());
        }
    }
    free(pred);
    free(pred2);
    free(use_truth);
    model_free(m);
    st_free(&fx.f);
}

/* ------------------------------------------------------------------------------------------------ */
/* L2 */

static void test_l2(void) {
    TEST_BEGIN("l2");
    const int n = 37;
    float w[37], g[37], g0[37];
    for (int i = 0; i < n; i++) {
        w[i] = 2.0f * rr_rand_uniform(3, 1, (uint64_t)i) - 1.0f;
        g[i] = g0[i] = rr_rand_uniform(3, 2, (uint64_t)i);
    }
    Tensor wt = tensor1(w, RR_CPU, n), gt = tensor1(g, RR_CPU, n);
    const double lambda = 0.03;
    double pen = reg_l2_apply(&wt, &gt, lambda), want = 0;
    for (int i = 0; i < n; i++) want += (double)w[i] * w[i];
    want *= lambda;
    CHECK_NEAR(pen, want, 1e-12, 1e-9, "penalty %.10g = lambda * sum w^2 = %.10g", pen, want);
    /* gradient against central differences of the penalty (double) */
    double worst = 0;
    for (int i = 0; i < n; i++) {
        const double h = 1e-3;
        double sp = 0, sm = 0;
        for (int j = 0; j < n; j++) {
            double v = w[j] + (j == i ? h : 0), u = w[j] - (j == i ? h : 0);
            sp += v * v;
            sm += u * u;
        }
        const double fd = lambda * (sp - sm) / (2 * h);
        worst = fmax(worst, fabs((g[i] - g0[i]) - fd));
    }
    CHECK(worst < 1e-6, "added gradient = finite differences of the penalty (2 lambda w), worst |diff| %.3g", worst);
    CHECK(reg_l2_selects("cells.0.conv_x.weight", 4, "input") && !reg_l2_selects("cells.0.conv_h.weight", 4, "input") &&
              !reg_l2_selects("cells.0.conv_x.bias", 1, "input"),
          "l2_on = input selects cells.L.conv_x.weight only");
    CHECK(reg_l2_selects("cells.2.conv_h.weight", 4, "recurrent") && !reg_l2_selects("cells.2.conv_x.weight", 4, "recurrent") &&
              !reg_l2_selects("ghu.conv_x.weight", 4, "recurrent"),
          "l2_on = recurrent selects cells.L.conv_h.weight only");
    CHECK(reg_l2_selects("head.weight", 5, "all") && reg_l2_selects("cells.0.conv_m.weight", 4, "all") &&
              !reg_l2_selects("head.bias", 1, "all") && !reg_l2_selects("cells.0.ln_x.weight", 1, "all"),
          "l2_on = all selects every kernel and no bias / norm parameter");
}

/* Invalid regularizer settings are rejected with an error naming the key. */
static void test_config_errors(void) {
    TEST_BEGIN("config_errors");
    ModelConfig pp;
    memset(&pp, 0, sizeof pp);
    snprintf(pp.model, sizeof pp.model, "predrnn_pp");
    pp.num_layers = 2, pp.hidden[0] = 4, pp.hidden[1] = 3, pp.kernel[0] = pp.kernel[1] = 3;
    pp.patch = 2, pp.image_size = 8, pp.img_channels = 1, pp.head = HEAD_LINEAR, pp.head_kernel = 1;
    pp.head_act = ACT_IDENTITY, pp.ghu = 1;
    ModelConfig cl = pp;
    snprintf(cl.model, sizeof cl.model, "convlstm");
    cl.head = HEAD_CONV2D, cl.cell_act = ACT_TANH, cl.gate_act = ACT_SIGMOID, cl.head_act = ACT_SIGMOID;
    struct { ModelConfig c; const char *key, *what; } cases[6];
    int k = 0;
    cases[k].c = pp, cases[k].c.zoneout_m = 0.2f, cases[k].key = "zoneout_m", cases[k++].what = "predrnn_pp zoneout_m with unequal widths";
    cases[k].c = pp, cases[k].c.weight_drop = 1.0f, cases[k].key = "weight_drop", cases[k++].what = "predrnn_pp weight_drop 1";
    cases[k].c = pp, cases[k].c.zoneout_h = 1.5f, cases[k].key = "zoneout_h", cases[k++].what = "predrnn_pp zoneout_h 1.5";
    cases[k].c = cl, cases[k].c.zoneout_m = 0.2f, cases[k].key = "zoneout_m", cases[k++].what = "convlstm zoneout_m";
    cases[k].c = cl, cases[k].c.zoneout_c = -0.1f, cases[k].key = "zoneout_c", cases[k++].what = "convlstm zoneout_c < 0";
    cases[k].c = cl, cases[k].c.weight_drop = -0.5f, cases[k].key = "weight_drop", cases[k++].what = "convlstm weight_drop < 0";
    for (int i = 0; i < k; i++) {
        Model *m = NULL;
        int rc = model_create(&cases[i].c, 2, 4, RR_CPU, &m);
        CHECK(rc == -1 && m == NULL, "rejects %s", cases[i].what);
        if (m) model_free(m);
        CHECK_ERR_CONTAINS(rr_last_error(), cases[i].key, "error for %s names '%s'", cases[i].what, cases[i].key);
    }
    Model *m = NULL;
    ModelConfig ok = pp;
    ok.hidden[1] = 4, ok.zoneout_m = 0.2f, ok.weight_drop = 0.3f, ok.zoneout_c = 1.0f;
    CHECK(model_create(&ok, 2, 4, RR_CPU, &m) == 0, "predrnn_pp with equal widths takes zoneout_m, weight_drop, zoneout_c = 1: %s",
          m ? "ok" : rr_last_error());
    if (m) model_free(m);
}

int main(void) {
    test_masks();
    test_split_cell();
    test_zoneout_op();
    test_causal_masked();
    static const char *const fixtures[] = {"cl_drop", "cl_rec", "cl_recseq", "cl_var", "cl_ln", "cl_all", "cl_zone", "cl_wdrop", "cl_zwd",
                                           "pp_drop", "pp_rec", "pp_recseq", "pp_var", "pp_zone", "pp_wdrop", "pp_bn", "pp_bn_noghu",
                                           "pp_all"};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) test_fixture(fixtures[i]);
    test_l2();
    test_config_errors();
    return tests_exit();
}
