/* conv_onednn.c — the CPU convolution entries (cpu_conv2d_forward / cpu_conv2d_backward, contract in
 * ops.h) on oneDNN's convolution primitives (oneAPI Deep Neural Network Library, C API dnnl.h,
 * https://github.com/oneapi-src/oneDNN; 2.x "Convolution" developer guide), built with -DRR_USE_ONEDNN
 * (make CONV=onednn). conv.c's im2col path stays the reference (conv2d_forward_im2col).
 *
 * Per call: forward_training (y (+)= conv(x, w) + b), backward_data (dx += convᵀ(dy, w)),
 * backward_weights (dw += Σ_b dy ⋆ x); algorithm "auto" (oneDNN picks direct or its own gemm). db is
 * conv.c's fixed-order double sum (oneDNN's diff_bias is a float reduction split over threads).
 * Precision (device_precision()): RR_FP32, or RR_BF16 = x, w and dy rounded to bf16 (round to nearest
 * even, by a oneDNN reorder), products accumulated in fp32, y / dx / dw written in fp32.
 *
 * A plan per (B, Cin, Cout, H, W, k, direction, precision, bias, accumulate, threads, layout) holds
 * the primitive, the reorders between the caller's plain fp32 tensors and the primitive's memory
 * (bf16 copies, blocked layouts), those buffers, the temporary output of a "+=" and a user-mode
 * scratchpad: made at the first call of its shape, reused after, so a training step allocates
 * nothing. The "+=" outputs are a temporary that a reorder with a sum post-op adds into dx / dw / y
 * (dst = src + 1·dst); the forward with plain layouts uses the convolution's own sum post-op. The
 * plans live in a list that grows only when a new shape comes; ops run on one thread at a time (as
 * everywhere in src/), so no lock.
 *
 * Threads: oneDNN runs on libgomp, the same pool as our OpenMP loops, with omp_get_max_threads()
 * threads; the thread count is part of the plan key, and for a fixed count the results are
 * bit-identical run to run (tests/test_conv_onednn.c). Any oneDNN error is a programming error:
 * rr_die naming the op, the shapes, the precision and dnnl's status. */
#include "ops_internal.h"

#ifdef RR_USE_ONEDNN

#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

const char *conv_cpu_engine(void) { return "onednn"; }

enum { DIR_FORWARD = 0, DIR_BACKWARD_DATA, DIR_BACKWARD_WEIGHTS };
static const char *const dir_names[] = {"conv2d_forward", "conv2d_backward (dx)", "conv2d_backward (dw)"};

typedef struct {
    int B, Cin, Cout, H, W, k, dir, precision, bias, accumulate, threads, layout;
} PlanKey;

/* One operand between the caller's plain fp32 tensor (`user`, its data handle set at every call) and
 * the memory the convolution reads or writes (`prim`: `user` itself when the two descriptions are
 * equal, else `buf`), with the reorder between them (inputs: user → prim; outputs: prim → user,
 * adding when the output is "+="). */
typedef struct {
    dnnl_memory_t user, prim;
    dnnl_primitive_t reorder;
    void *buf;
} Operand;

typedef struct {
    PlanKey key;
    dnnl_primitive_t conv;
    Operand in[2], out;
    int in_arg[2], out_arg;
    dnnl_memory_t bias;       /* forward with bias: the caller's (Cout) fp32, fused in the primitive */
    dnnl_memory_t scratchpad; /* shared by the plan's primitives, which run one after the other */
    void *scratchpad_buf;
    size_t scratchpad_bytes;
    char impl[64];
} Plan;

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
static Plan **g_plans;
static int g_nplans, g_cap;
static ConvLayout g_layout = CONV_LAYOUT_AUTO;
static char g_last_impl[64];

void conv_onednn_set_layout(ConvLayout layout) { g_layout = layout; }
const char *conv_onednn_last_impl(void) { return g_last_impl; }
int conv_onednn_plan_count(void) { return g_nplans; }

/* Abort on any status but success, naming the op, the call, the shapes and dnnl's status name. */
static void dnnl_try(dnnl_status_t st, const char *call, const PlanKey *k) {
    if (st == dnnl_success) return;
    rr_die("%s: oneDNN %s failed (%s) for x (%d, %d, %d, %d), w (%d, %d, %d, %d), %s, layout %s, %d threads",
           dir_names[k->dir], call, dnnl_status2str(st), k->B, k->Cin, k->H, k->W, k->Cout, k->Cin, k->k, k->k,
           precision_name((RRPrecision)k->precision), k->layout == CONV_LAYOUT_ANY ? "any" : "plain", k->threads);
}
#define TRY(call) dnnl_try((call), #call, key)

static void md_init(dnnl_memory_desc_t *md, int n0, int n1, int n2, int n3, dnnl_data_type_t dt,
                    dnnl_format_tag_t tag, const PlanKey *key) {
    dnnl_dims_t dims = {n0, n1, n2, n3};
    TRY(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, tag));
}

/* Grow the plan's scratchpad to what `pd` asks (user scratchpad mode: nothing allocated per call). */
static void scratchpad_need(Plan *p, const_dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = md ? dnnl_memory_desc_get_size(md) : 0;
    if (bytes > p->scratchpad_bytes) p->scratchpad_bytes = bytes;
}

static dnnl_primitive_attr_t attr_new(int add, const PlanKey *key) {
    dnnl_primitive_attr_t attr;
    TRY(dnnl_primitive_attr_create(&attr));
    TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (add) { /* dst = op(...) + 1 · dst */
        dnnl_post_ops_t po;
        TRY(dnnl_post_ops_create(&po));
        TRY(dnnl_post_ops_append_sum(po, 1.0f));
        TRY(dnnl_primitive_attr_set_post_ops(attr, po));
        TRY(dnnl_post_ops_destroy(po));
    }
    return attr;
}

/* The operand for a user description and the primitive's; `output` selects the reorder's direction;
 * `add` (outputs): the reorder adds into the user's memory; `force_copy`: a separate buffer even when
 * the descriptions are equal (a "+=" output the primitive cannot add by itself). */
static void operand_make(Plan *p, Operand *o, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *prim_md,
                         int output, int add, int force_copy) {
    const PlanKey *key = &p->key;
    TRY(dnnl_memory_create(&o->user, user_md, g_engine, DNNL_MEMORY_NONE));
    if (!force_copy && dnnl_memory_desc_equal(user_md, prim_md)) {
        o->prim = o->user;
        return;
    }
    o->buf = rr_aligned_alloc(dnnl_memory_desc_get_size(prim_md));
    TRY(dnnl_memory_create(&o->prim, prim_md, g_engine, o->buf));
    dnnl_primitive_attr_t attr = attr_new(output && add, key);
    dnnl_primitive_desc_t pd;
    if (output)
        TRY(dnnl_reorder_primitive_desc_create(&pd, prim_md, g_engine, user_md, g_engine, attr));
    else
        TRY(dnnl_reorder_primitive_desc_create(&pd, user_md, g_engine, prim_md, g_engine, attr));
    scratchpad_need(p, pd);
    TRY(dnnl_primitive_create(&o->reorder, pd));
    TRY(dnnl_primitive_desc_destroy(pd));
    TRY(dnnl_primitive_attr_destroy(attr));
}

static void operand_run_reorder(Plan *p, Operand *o, int output) {
    const PlanKey *key = &p->key;
    if (!o->reorder) return;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, output ? o->prim : o->user},
                               {DNNL_ARG_TO, output ? o->user : o->prim},
                               {DNNL_ARG_SCRATCHPAD, p->scratchpad}};
    TRY(dnnl_primitive_execute(o->reorder, g_stream, p->scratchpad ? 3 : 2, args));
}

/* The layout a shape runs with when none is forced (conv_onednn_set_layout), from
 * tests/bench_conv_onednn.c at 1 thread, batch 8 (docs/architecture.md has the numbers): k = 1 and
 * few input channels (the first layer's 1-channel frames) run faster on the plain layouts, where
 * oneDNN takes its gemm (x64:gemm:jit) straight on nchw: 1.3-2.5× for k = 1, 4× for the backward of
 * Cin = 1, k = 5; the other model shapes mostly run faster on oneDNN's blocked layouts
 * (jit:avx512_core, jit/brgconv:avx512_core_amx_bf16) including the reorders: 0.9-1.6× in fp32,
 * 1.1-4× in bf16. */
static ConvLayout layout_for(const PlanKey *k) {
    return k->k == 1 || k->Cin < 16 ? CONV_LAYOUT_PLAIN : CONV_LAYOUT_ANY;
}

static Plan *plan_create(const PlanKey *keyv) {
    Plan *p = rr_calloc(1, sizeof *p);
    p->key = *keyv;
    const PlanKey *key = &p->key;
    if (!g_engine) {
        TRY(dnnl_engine_create(&g_engine, dnnl_cpu, 0));
        TRY(dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags));
    }
    const int B = key->B, Cin = key->Cin, Cout = key->Cout, H = key->H, W = key->W, k = key->k;
    const dnnl_data_type_t op_dt = key->precision == RR_BF16 ? dnnl_bf16 : dnnl_f32;
    const int any = key->layout == CONV_LAYOUT_ANY;
    const dnnl_format_tag_t act_tag = any ? dnnl_format_tag_any : dnnl_nchw;
    const dnnl_format_tag_t w_tag = any ? dnnl_format_tag_any : dnnl_oihw;
    /* the caller's tensors: plain fp32 */
    dnnl_memory_desc_t x_user, w_user, y_user, b_user;
    md_init(&x_user, B, Cin, H, W, dnnl_f32, dnnl_nchw, key);
    md_init(&w_user, Cout, Cin, k, k, dnnl_f32, dnnl_oihw, key);
    md_init(&y_user, B, Cout, H, W, dnnl_f32, dnnl_nchw, key);
    dnnl_dims_t bdims = {Cout};
    TRY(dnnl_memory_desc_init_by_tag(&b_user, 1, bdims, dnnl_f32, dnnl_x));
    /* the primitive's operands: bf16 or fp32 in, fp32 out */
    dnnl_memory_desc_t x_op, w_op, y_op, x_res, w_res, y_res;
    md_init(&x_op, B, Cin, H, W, op_dt, act_tag, key);
    md_init(&w_op, Cout, Cin, k, k, op_dt, w_tag, key);
    md_init(&y_op, B, Cout, H, W, op_dt, act_tag, key);
    md_init(&x_res, B, Cin, H, W, dnnl_f32, act_tag, key);
    md_init(&w_res, Cout, Cin, k, k, dnnl_f32, w_tag, key);
    md_init(&y_res, B, Cout, H, W, dnnl_f32, act_tag, key);
    const dnnl_dims_t strides = {1, 1}, pad = {k / 2, k / 2};

    /* the forward description: the forward itself, and the hint of the backward ones */
    dnnl_convolution_desc_t fwd_d;
    TRY(dnnl_convolution_forward_desc_init(&fwd_d, dnnl_forward_training, dnnl_convolution_auto, &x_op, &w_op,
                                           key->bias ? &b_user : NULL, key->dir == DIR_FORWARD ? &y_res : &y_op,
                                           strides, pad, pad));
    /* the forward adds in the primitive (sum post-op) when y needs no reorder */
    const int fwd_sum_in_conv = key->dir == DIR_FORWARD && key->accumulate && !any;
    dnnl_primitive_attr_t fwd_attr = attr_new(fwd_sum_in_conv, key);
    dnnl_primitive_desc_t fwd_pd;
    TRY(dnnl_primitive_desc_create(&fwd_pd, &fwd_d, fwd_attr, g_engine, NULL));
    TRY(dnnl_primitive_attr_destroy(fwd_attr));

    dnnl_primitive_desc_t pd = fwd_pd;
    if (key->dir == DIR_BACKWARD_DATA) {
        dnnl_convolution_desc_t d;
        TRY(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_auto, &x_res, &w_op, &y_op, strides, pad,
                                                     pad));
        dnnl_primitive_attr_t attr = attr_new(0, key);
        TRY(dnnl_primitive_desc_create(&pd, &d, attr, g_engine, fwd_pd));
        TRY(dnnl_primitive_attr_destroy(attr));
    } else if (key->dir == DIR_BACKWARD_WEIGHTS) {
        dnnl_convolution_desc_t d;
        TRY(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_auto, &x_op, &w_res, NULL, &y_op,
                                                        strides, pad, pad));
        dnnl_primitive_attr_t attr = attr_new(0, key);
        TRY(dnnl_primitive_desc_create(&pd, &d, attr, g_engine, fwd_pd));
        TRY(dnnl_primitive_attr_destroy(attr));
    }
    scratchpad_need(p, pd);
    const char *impl = NULL;
    TRY(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(p->impl, sizeof p->impl, "%s", impl ? impl : "?");

#define PD_MD(what) dnnl_primitive_desc_query_md(pd, what, 0)
    if (key->dir == DIR_FORWARD) {
        operand_make(p, &p->in[0], &x_user, PD_MD(dnnl_query_src_md), 0, 0, 0);
        operand_make(p, &p->in[1], &w_user, PD_MD(dnnl_query_weights_md), 0, 0, 0);
        p->in_arg[0] = DNNL_ARG_SRC;
        p->in_arg[1] = DNNL_ARG_WEIGHTS;
        /* y (+)= : written in place (plain, the sum post-op adds), or through the temporary (its reorder
         * adds), also when oneDNN's layout happens to equal the plain one (C = 1 nhwc = nchw) */
        operand_make(p, &p->out, &y_user, PD_MD(dnnl_query_dst_md), 1, key->accumulate,
                     key->accumulate && !fwd_sum_in_conv);
        p->out_arg = DNNL_ARG_DST;
        if (fwd_sum_in_conv && p->out.prim != p->out.user)
            rr_die("conv2d_forward: oneDNN chose another layout for y than the plain one it was given");
        if (key->bias) TRY(dnnl_memory_create(&p->bias, &b_user, g_engine, DNNL_MEMORY_NONE));
    } else if (key->dir == DIR_BACKWARD_DATA) {
        operand_make(p, &p->in[0], &w_user, PD_MD(dnnl_query_weights_md), 0, 0, 0);
        operand_make(p, &p->in[1], &y_user, PD_MD(dnnl_query_diff_dst_md), 0, 0, 0);
        p->in_arg[0] = DNNL_ARG_WEIGHTS;
        p->in_arg[1] = DNNL_ARG_DIFF_DST;
        operand_make(p, &p->out, &x_user, PD_MD(dnnl_query_diff_src_md), 1, 1, 1);
        p->out_arg = DNNL_ARG_DIFF_SRC;
    } else {
        operand_make(p, &p->in[0], &x_user, PD_MD(dnnl_query_src_md), 0, 0, 0);
        operand_make(p, &p->in[1], &y_user, PD_MD(dnnl_query_diff_dst_md), 0, 0, 0);
        p->in_arg[0] = DNNL_ARG_SRC;
        p->in_arg[1] = DNNL_ARG_DIFF_DST;
        operand_make(p, &p->out, &w_user, PD_MD(dnnl_query_diff_weights_md), 1, 1, 1);
        p->out_arg = DNNL_ARG_DIFF_WEIGHTS;
    }
#undef PD_MD
    TRY(dnnl_primitive_create(&p->conv, pd));
    if (pd != fwd_pd) TRY(dnnl_primitive_desc_destroy(pd));
    TRY(dnnl_primitive_desc_destroy(fwd_pd));
    if (p->scratchpad_bytes) {
        dnnl_memory_desc_t smd;
        dnnl_dims_t sdims = {(dnnl_dim_t)p->scratchpad_bytes};
        TRY(dnnl_memory_desc_init_by_tag(&smd, 1, sdims, dnnl_u8, dnnl_x));
        p->scratchpad_buf = rr_aligned_alloc(p->scratchpad_bytes);
        TRY(dnnl_memory_create(&p->scratchpad, &smd, g_engine, p->scratchpad_buf));
    }
    return p;
}

static Plan *plan_get(const Tensor *x, const Tensor *w, int dir, int bias, int accumulate) {
    PlanKey key;
    memset(&key, 0, sizeof key);
    key.B = x->shape[0];
    key.Cin = x->shape[1];
    key.H = x->shape[2];
    key.W = x->shape[3];
    key.Cout = w->shape[0];
    key.k = w->shape[2];
    key.dir = dir;
    key.precision = device_precision();
    key.bias = bias;
    key.accumulate = accumulate;
    key.threads = omp_get_max_threads();
    key.layout = g_layout;
    if (key.layout == CONV_LAYOUT_AUTO) key.layout = layout_for(&key);
    for (int i = g_nplans - 1; i >= 0; i--)
        if (!memcmp(&g_plans[i]->key, &key, sizeof key)) return g_plans[i];
    if (g_nplans == g_cap) {
        g_cap = g_cap ? 2 * g_cap : 32;
        g_plans = rr_realloc(g_plans, sizeof *g_plans * (size_t)g_cap);
    }
    return g_plans[g_nplans++] = plan_create(&key);
}

/* Run a plan on the caller's tensors: inputs in the primitive's precision and layout, the
 * convolution, the output back (added where "+="). `in1_ready`: the second input as the primitive
 * reads it, already made by another plan from the same tensor (the backward's dy), or NULL. */
static void plan_run(Plan *p, float *in0, float *in1, float *out, float *bias, dnnl_memory_t in1_ready) {
    const PlanKey *key = &p->key;
    TRY(dnnl_memory_set_data_handle(p->in[0].user, in0));
    TRY(dnnl_memory_set_data_handle(p->in[1].user, in1));
    TRY(dnnl_memory_set_data_handle(p->out.user, out));
    operand_run_reorder(p, &p->in[0], 0);
    if (!in1_ready) operand_run_reorder(p, &p->in[1], 0);
    dnnl_exec_arg_t args[5];
    int n = 0;
    args[n++] = (dnnl_exec_arg_t){p->in_arg[0], p->in[0].prim};
    args[n++] = (dnnl_exec_arg_t){p->in_arg[1], in1_ready ? in1_ready : p->in[1].prim};
    args[n++] = (dnnl_exec_arg_t){p->out_arg, p->out.prim};
    if (p->bias) {
        TRY(dnnl_memory_set_data_handle(p->bias, bias));
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, p->bias};
    }
    if (p->scratchpad) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratchpad};
    TRY(dnnl_primitive_execute(p->conv, g_stream, n, args));
    operand_run_reorder(p, &p->out, 1);
    TRY(dnnl_stream_wait(g_stream));
    memcpy(g_last_impl, p->impl, sizeof g_last_impl);
}

void cpu_conv2d_forward(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                        float *scratch) {
    (void)scratch;
    Plan *p = plan_get(x, w, DIR_FORWARD, b != NULL, accumulate != 0);
    plan_run(p, x->data, w->data, y->data, b ? b->data : NULL, NULL);
}

void cpu_conv2d_backward(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw, Tensor *db,
                         float *scratch) {
    if (db) conv2d_backward_im2col(x, w, dy, NULL, NULL, db, scratch); /* db only: the fixed-order double sum */
    Plan *pdx = dx ? plan_get(x, w, DIR_BACKWARD_DATA, 0, 1) : NULL;
    Plan *pdw = dw ? plan_get(x, w, DIR_BACKWARD_WEIGHTS, 0, 1) : NULL;
    if (pdx) plan_run(pdx, w->data, dy->data, dx->data, NULL, NULL);
    if (pdw) {
        /* dy converted once: where both products read it in the same precision and layout (the bf16
         * nhwc copy), the weight gradient takes the data gradient's copy instead of converting again */
        dnnl_memory_t dy_ready = NULL;
        if (pdx && pdx->in[1].reorder && pdw->in[1].reorder) {
            const dnnl_memory_desc_t *a = NULL, *b = NULL;
            const PlanKey *key = &pdw->key;
            TRY(dnnl_memory_get_memory_desc(pdx->in[1].prim, &a));
            TRY(dnnl_memory_get_memory_desc(pdw->in[1].prim, &b));
            if (dnnl_memory_desc_equal(a, b)) dy_ready = pdx->in[1].prim;
        }
        plan_run(pdw, x->data, dy->data, dw->data, NULL, dy_ready);
    }
}

#else
/* Built without oneDNN: conv.c's im2col path is the engine (conv_cpu_engine() == "im2col"). */
typedef int conv_onednn_not_built;
#endif
