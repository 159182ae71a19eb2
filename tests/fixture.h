/* fixture.h — PyTorch model fixtures for the model tests (test_convlstm.c, test_regularize.c): a
 * safetensors file written by tests/reference/make_*_fixture.py whose metadata holds the model config
 * (model, layers, kernels, head, ..., batch, seq_len, n_in, and the regularizer keys) and whose tensors
 * are "<prefix><parameter or buffer name>" in PyTorch state_dict layout. Header-only like test.h. */
#ifndef RR_TEST_FIXTURE_H
#define RR_TEST_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model.h"
#include "ops.h"
#include "safetensors.h"
#include "test.h"

typedef struct {
    StFile f;
    ModelConfig cfg;
    int B, T, n_in;      /* batch, sequence length, true input frames of the fixture's forward pass */
    int64_t iteration;   /* the training iteration the regularizer masks are keyed by */
    char tag[32];
} Fixture;

/* "4,8" -> {4, 8}; returns the count (at most max). */
static int parse_list(const char *s, int *v, int max) {
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        v[n++] = (int)strtol(s, &end, 10);
        s = *end == ',' ? end + 1 : NULL;
    }
    return n;
}

/* Metadata value of key; def when absent (def NULL: the key is required, and its absence a failed check). */
static const char *fixture_meta(const Fixture *fx, const char *key, const char *def) {
    const char *v = st_meta(&fx->f, key);
    if (v) return v;
    if (!def) CHECK(0, "%s: metadata key %s present", fx->tag, key);
    return def ? def : "0";
}

/* Load tests/fixtures/<stem><tag>.safetensors and the ModelConfig in its metadata; 0 or -1 (after a
 * failed check). Keys a fixture lacks take the model's defaults (no regularizer, tanh cell, conv2d head). */
static int fixture_load(const char *stem, const char *tag, Fixture *fx) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/%s%s.safetensors", stem, tag);
    memset(fx, 0, sizeof *fx);
    snprintf(fx->tag, sizeof fx->tag, "%s", tag);
    if (st_load(path, &fx->f)) {
        CHECK(0, "load %s: %s", path, rr_last_error());
        return -1;
    }
#define META(key, def) fixture_meta(fx, key, def)
    ModelConfig *c = &fx->cfg;
    snprintf(c->model, sizeof c->model, "%s", META("model", NULL));
    c->num_layers = parse_list(META("layers", NULL), c->hidden, MODEL_MAX_LAYERS);
    int ok = parse_list(META("kernels", NULL), c->kernel, MODEL_MAX_LAYERS) == c->num_layers;
    ok &= activation_parse(META("cell_act", "tanh"), &c->cell_act) == 0;
    ok &= activation_parse(META("gate_act", "sigmoid"), &c->gate_act) == 0;
    ok &= activation_parse(META("head_act", "sigmoid"), &c->head_act) == 0;
    c->batchnorm = atoi(META("batchnorm", "0"));
    c->bn_momentum = (float)atof(META("bn_momentum", "0.01"));
    c->bn_eps = (float)atof(META("bn_eps", "0.001"));
    const char *head = META("head", "conv2d");
    c->head = !strcmp(head, "conv2d") ? HEAD_CONV2D : !strcmp(head, "conv3d_causal") ? HEAD_CONV3D_CAUSAL
              : !strcmp(head, "conv3d_centered") ? HEAD_CONV3D_CENTERED : HEAD_LINEAR;
    ok &= !strcmp(head, "conv2d") || !strcmp(head, "conv3d_causal") || !strcmp(head, "conv3d_centered") ||
          !strcmp(head, "linear");
    c->head_kernel = atoi(META("head_kernel", "1"));
    c->patch = atoi(META("patch", "1"));
    c->image_size = atoi(META("image_size", "0"));
    c->img_channels = atoi(META("img_channels", "1"));
    c->layer_norm = atoi(META("layer_norm", "0"));
    c->ghu = atoi(META("ghu", "0"));
    c->dropout = (float)atof(META("dropout", "0"));
    c->rec_dropout = (float)atof(META("rec_dropout", "0"));
    c->rec_dropout_seq = atoi(META("rec_dropout_seq", "0"));
    c->var_dropout_x = (float)atof(META("var_dropout_x", "0"));
    c->var_dropout_h = (float)atof(META("var_dropout_h", "0"));
    c->zoneout_c = (float)atof(META("zoneout_c", "0"));
    c->zoneout_h = (float)atof(META("zoneout_h", "0"));
    c->zoneout_m = (float)atof(META("zoneout_m", "0"));
    c->weight_drop = (float)atof(META("weight_drop", "0"));
    c->reg_seed = strtoull(META("reg_seed", "0"), NULL, 10);
    fx->iteration = atoll(META("iteration", "0"));
    fx->B = atoi(META("batch", NULL));
    fx->T = atoi(META("seq_len", NULL));
    fx->n_in = atoi(META("n_in", "1"));
#undef META
    CHECK(ok, "%s: fixture config parsed (%d layers, head %s)", tag, c->num_layers, head);
    return ok ? 0 : -1;
}

/* The fixture tensor "<prefix><name>" with the expected element count, or NULL after a failed check. */
static const StTensor *want(const Fixture *fx, const char *prefix, const char *name, int64_t count) {
    char key[160];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    const StTensor *t = st_find(&fx->f, key);
    if (!t || t->count != count) {
        CHECK(0, "%s: fixture tensor %s with %lld elements (%s)", fx->tag, key, (long long)count,
              t ? "count differs" : "missing");
        return NULL;
    }
    return t;
}

static float maxabs(const float *x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

/* Parameters from "<prefix><name>" (checkpoint layout) and buffers from "<bprefix><name>" into the
 * model; 1 when every tensor was found. */
static int set_state(Model *m, const Fixture *fx, const char *prefix, const char *bprefix) {
    int ok = 1;
    for (int i = 0; i < model_num_params(m); i++) {
        Tensor *p = model_param(m, i);
        const StTensor *s = want(fx, prefix, model_param_name(m, i), p->count);
        if (!s) { ok = 0; continue; }
        float *internal = rr_malloc(sizeof(float) * (size_t)p->count);
        model_param_from_ckpt(m, i, s->data, internal);
        op_from_host(internal, p);
        free(internal);
    }
    for (int i = 0; i < model_num_buffers(m); i++) {
        Tensor *b = model_buffer(m, i);
        const StTensor *s = want(fx, bprefix, model_buffer_name(m, i), b->count);
        if (!s) { ok = 0; continue; }
        op_from_host(s->data, b);
    }
    return ok;
}

#endif
