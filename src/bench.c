/* bench.c — `rnnreg bench`: throughput measurements, never asserted by tests (bench/bench.sh drives
 * them and compares with PyTorch, bench/README.md explains the numbers).
 *
 *   rnnreg bench --sgemm N [--repeats R] [--threads n] [--backend cpu|cuda] [--tf32] [--json]
 *       square sgemm C = A·B (N×N, row-major, rr_sgemm; with --backend cuda cuBLAS on the GPU, FP32 or
 *       with --tf32 TF32 tensor cores): GFLOP/s = 2N³ / t, best of R timed calls after one untimed
 *       call. This is the ceiling our training step is compared with.
 *   rnnreg bench --config FILE [--set k=v]... [--batch B] [--seq-len T] [--steps N] [--warmup W]
 *                [--warmup-frames F] [--max-seconds S] [--threads n] [--backend cpu|cuda] [--tf32]
 *                [--precision fp32|bf16|auto] [--json] [--profile]
 *       one training step = model_train_step (forward + backward, teacher forcing) + Adam update of
 *       every parameter (torch.optim.Adam semantics), on synthetic frames uniform in [0, 1). W
 *       untimed steps (on the first F frames only with --warmup-frames), then up to N timed ones
 *       (fewer once they add up to S seconds; at least one); reports the median step time,
 *       sequences/s = B / median and
 *       GFLOP/s = 3 × forward FLOPs (model_flops_per_sequence, 2 × multiply-adds) × B / median
 *       (the usual "backward ≈ 2 × forward" convention; Adam's elementwise work is not counted).
 *       --json prints one line with the model configuration as the model saw it ("spec"), which
 *       tests/reference/bench_torch.py (CPU) and bench/torch_gpu.py (GPU) read to build the same
 *       PyTorch model, and the backend, TF32 mode and device it ran on. --backend / --tf32 are the
 *       config keys backend / tf32 (applied after --set); on the GPU a step ends when its last
 *       parameter update has reached the host (a device → host copy waits for the queued work).
 *       --precision is the config key precision (CPU convolution operands; bf16 is refused in one line
 *       where it cannot run); --json records the precision used and asked, the CPU convolution engine
 *       and the CPU's bf16 instructions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "blas.h"
#include "commands.h"
#include "common.h"
#include "config.h"
#include "device.h"
#include "json.h"
#include "model.h"
#include "ops.h"
#include "profile.h"
#include "rng.h"
#include "tensor.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define BENCH_MAX_SETS 64
#define BENCH_MAX_STEPS 10000

/* The process's peak resident memory so far, MiB (getrusage: Linux counts ru_maxrss in KiB). */
static double peak_rss_mib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1.0 : ru.ru_maxrss / 1024.0;
}

static void bench_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg bench --sgemm N [--repeats R] [--threads n] [--backend cpu|cuda] [--tf32] [--json]\n"
            "       rnnreg bench --config FILE [--set key=value]... [--batch B] [--seq-len T]\n"
            "                    [--steps N] [--warmup W] [--warmup-frames F] [--max-seconds S]\n"
            "                    [--threads n] [--backend cpu|cuda] [--tf32] [--precision fp32|bf16|auto]\n"
            "                    [--json] [--dry-run] [--profile]\n"
            "  --sgemm N        time rr_sgemm on N x N matrices: GFLOP/s = 2 N^3 / t, best of R (default 3)\n"
            "                   (--backend cuda: cuBLAS sgemm on the GPU)\n"
            "  --config FILE    run config (key = value; rnnreg help train); synonym: --model-config\n"
            "  --set key=value  override one config key (repeatable)\n"
            "  --batch B        sequences per step (default: the config's batch)\n"
            "  --seq-len T      frames per sequence (default: the config's seq_len)\n"
            "  --steps N        timed training steps (default 3); the median is reported\n"
            "  --warmup W       untimed steps first (default 1)\n"
            "  --warmup-frames F  warm-up steps use the first F frames only (default: all)\n"
            "  --max-seconds S  stop timing once the timed steps add up to S seconds (at least one step)\n"
            "  --threads n      CPU threads (default: the config's threads; 0 = all cores)\n"
            "  --backend cpu|cuda  compute backend (the config key backend; cuda needs a CUDA build and a GPU)\n"
            "  --tf32           backend cuda: TF32 tensor-core products (the config key tf32)\n"
            "  --precision P    CPU convolution operands fp32 (default), bf16 or auto (the config key precision)\n"
            "  --json           one JSON line instead of text\n"
            "  --dry-run        build the model, print its size and FLOPs as JSON, time nothing\n"
            "  --profile        time every op over the timed steps and print where a step's time goes\n"
            "                   (src/profile.h; to stderr with --json)\n");
}

static int all_cores(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse_int_arg(const char *opt, const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return rr_error("bench: %s: '%s' is not an integer in [%d, %d]", opt, s, lo, hi);
    *out = (int)v;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* sgemm ceiling */

static int bench_sgemm(int n, int repeats, int threads, int json) {
    const size_t nn = (size_t)n * n;
    float *a = rr_aligned_alloc(nn * sizeof(float)), *b = rr_aligned_alloc(nn * sizeof(float));
    float *c = rr_aligned_alloc(nn * sizeof(float));
    for (size_t i = 0; i < nn; i++) {
        a[i] = rr_rand_uniform(1, RR_TAG_TEST, i) - 0.5f;
        b[i] = rr_rand_uniform(2, RR_TAG_TEST, i) - 0.5f;
    }
    memset(c, 0, nn * sizeof(float));
    rr_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* untimed: page faults, thread start-up */
    double best = INFINITY;
    for (int r = 0; r < repeats; r++) {
        double t0 = rr_now();
        rr_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = rr_now() - t0;
        if (dt < best) best = dt;
    }
    const double gflops = 2.0 * n * (double)n * n / best * 1e-9;
    if (json)
        printf("{\"bench\": \"sgemm\", \"n\": %d, \"repeats\": %d, \"threads\": %d, \"blas\": \"%s\", "
               "\"best_s\": %.6f, \"gflops\": %.2f}\n", n, repeats, threads, rr_blas_name(), best, gflops);
    else
        printf("sgemm %dx%d (%s, %d threads): %.1f GFLOP/s (best of %d: %.4f s)\n", n, n, rr_blas_name(),
               threads, gflops, repeats, best);
    free(a);
    free(b);
    free(c);
    return 0;
}

/* The same on the GPU: cuBLAS sgemm (FP32, or TF32 tensor cores as device_select set it) on device
 * matrices. */
static int bench_sgemm_cuda(int n, int repeats, int tf32, int json) {
    const size_t nn = (size_t)n * n;
    Arena a;
    arena_init_plan(&a, RR_CUDA);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (arena_allocate(&a)) return -1;
            arena_rewind(&a);
        }
        for (int m = 0; m < 3; m++) arena_take(&a, (int64_t)nn);
    }
    arena_rewind(&a);
    float *A = arena_take(&a, (int64_t)nn), *B = arena_take(&a, (int64_t)nn), *C = arena_take(&a, (int64_t)nn);
    float *host = rr_malloc(nn * sizeof(float));
    for (size_t i = 0; i < nn; i++) host[i] = rr_rand_uniform(1, RR_TAG_TEST, i) - 0.5f;
    Tensor ta = tensor1(A, RR_CUDA, (int)nn), tb = tensor1(B, RR_CUDA, (int)nn);
    op_from_host(host, &ta);
    op_from_host(host, &tb);
    free(host);
    device_sgemm(RR_CUDA, 0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n); /* untimed: handle, kernel selection */
    device_synchronize(RR_CUDA);
    double best = INFINITY;
    for (int r = 0; r < repeats; r++) {
        double t0 = rr_now();
        device_sgemm(RR_CUDA, 0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        device_synchronize(RR_CUDA);
        double dt = rr_now() - t0;
        if (dt < best) best = dt;
    }
    arena_free(&a);
    char dev[256];
    device_name(RR_CUDA, dev, sizeof dev);
    const double gflops = 2.0 * n * (double)n * n / best * 1e-9;
    if (json)
        printf("{\"bench\": \"sgemm\", \"n\": %d, \"repeats\": %d, \"backend\": \"cuda\", \"tf32\": %d, "
               "\"device\": \"%s\", \"blas\": \"cublas\", \"best_s\": %.6f, \"gflops\": %.2f}\n", n, repeats, tf32, dev,
               best, gflops);
    else
        printf("sgemm %dx%d (cuBLAS %s on %s): %.1f GFLOP/s (best of %d: %.6f s)\n", n, n, tf32 ? "TF32" : "FP32", dev,
               gflops, repeats, best);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* training step */

static const char *head_name(HeadKind h) {
    switch (h) {
    case HEAD_CONV2D: return "conv2d";
    case HEAD_CONV3D_CAUSAL: return "conv3d_causal";
    case HEAD_CONV3D_CENTERED: return "conv3d_centered";
    case HEAD_LINEAR: return "linear";
    }
    return "unknown";
}

/* The model configuration as the model received it, as a JSON object (bench_torch.py's input). */
static void print_spec(const ModelConfig *mc) {
    printf("{\"model\": \"%s\", \"layers\": [", mc->model);
    for (int l = 0; l < mc->num_layers; l++) printf("%s%d", l ? ", " : "", mc->hidden[l]);
    printf("], \"kernels\": [");
    for (int l = 0; l < mc->num_layers; l++) printf("%s%d", l ? ", " : "", mc->kernel[l]);
    printf("], \"cell_act\": \"%s\", \"gate_act\": \"%s\", \"batchnorm\": %d, \"bn_momentum\": %.9g, "
           "\"bn_eps\": %.9g, \"head\": \"%s\", \"head_kernel\": %d, \"head_act\": \"%s\", \"patch\": %d, "
           "\"image_size\": %d, \"img_channels\": %d, \"layer_norm\": %d, \"ghu\": %d}",
           activation_name(mc->cell_act), activation_name(mc->gate_act), mc->batchnorm, mc->bn_momentum,
           mc->bn_eps, head_name(mc->head), mc->head_kernel, activation_name(mc->head_act), mc->patch,
           mc->image_size, mc->img_channels, mc->layer_norm, mc->ghu);
}

typedef struct {
    const char *config_path;
    const char *sets[BENCH_MAX_SETS];
    int n_sets;
    int batch, seq_len, steps, warmup, warmup_frames, threads, json, dry_run, profile;
    const char *backend; /* --backend (NULL: the config's) */
    int tf32;            /* --tf32 */
    const char *precision; /* --precision (NULL: the config's) */
    double max_seconds;
} TrainBenchArgs;

/* Optimizer state (Adam m, v per parameter) and the frames, in one arena on the model's device. */
typedef struct {
    Arena arena;
    Tensor frames;
    Tensor *m, *v;
} BenchState;

static void bench_take(BenchState *s, Model *model, const int frame_shape[5]) {
    s->frames = arena_tensor(&s->arena, 5, frame_shape);
    for (int i = 0; i < model_num_params(model); i++) {
        const Tensor *p = model_param(model, i);
        s->m[i] = arena_tensor(&s->arena, p->ndim, p->shape);
        s->v[i] = arena_tensor(&s->arena, p->ndim, p->shape);
    }
}

static int bench_train(const TrainBenchArgs *a) {
    Config cfg;
    config_defaults(&cfg);
    if (config_load_file(&cfg, a->config_path)) return -1;
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(&cfg, a->sets[i])) return -1;
    if (a->backend && config_set_value(&cfg, "backend", a->backend, "--backend")) return -1;
    if (a->tf32 && config_set_value(&cfg, "tf32", "1", "--tf32")) return -1;
    if (a->precision && config_set_value(&cfg, "precision", a->precision, "--precision")) return -1;
    if (config_validate(&cfg)) return -1;
    ModelConfig mc;
    if (config_model(&cfg, &mc)) return -1;
    const int batch = a->batch > 0 ? a->batch : cfg.batch;
    const int seq_len = a->seq_len > 0 ? a->seq_len : cfg.seq_len;
    int threads = a->threads >= 0 ? a->threads : cfg.threads;
    if (threads == 0) threads = all_cores();
    rr_set_threads(threads);
    int device;
    if (device_select(cfg.backend, cfg.tf32, 1, &device)) return -1;
    RRPrecision precision;
    if (device_select_precision(cfg.precision, device, &precision)) return -1;
    const char *bf16_isa = device_cpu_bf16_isa();
    char device_label[256];
    device_name(device, device_label, sizeof device_label);

    Model *model;
    if (model_create(&mc, batch, seq_len, device, &model)) return -1;
    char *config_json = json_quote(a->config_path);
    if (!config_json) config_json = rr_strdup("\"(not UTF-8)\"");
    if (a->dry_run) { /* size only: what bench.sh needs to estimate the cost of a run */
        printf("{\"bench\": \"dry_run\", \"config\": %s, \"model\": \"%s\", \"patch\": %d, \"batch\": %d, "
               "\"seq_len\": %d, \"params\": %lld, \"fwd_flops_per_seq\": %.6g, \"precision\": \"%s\", "
               "\"conv_engine\": \"%s\", \"cpu_bf16_isa\": %s%s%s}\n", config_json, mc.model,
               mc.patch, batch, seq_len, (long long)model_param_count(model), model_flops_per_sequence(model),
               precision_name(precision), conv_cpu_engine(), bf16_isa ? "\"" : "", bf16_isa ? bf16_isa : "null",
               bf16_isa ? "\"" : "");
        free(config_json);
        model_free(model);
        return 0;
    }
    model_init(model, cfg.seed);
    const int np = model_num_params(model);

    /* frames (T, B, C, H, W) in patch space */
    const int C = mc.img_channels * mc.patch * mc.patch, S = mc.image_size / mc.patch;
    const int frame_shape[5] = {seq_len, batch, C, S, S};
    BenchState st = {0};
    st.m = rr_calloc((size_t)np + 1, sizeof(Tensor));
    st.v = rr_calloc((size_t)np + 1, sizeof(Tensor));
    arena_init_plan(&st.arena, device);
    bench_take(&st, model, frame_shape);
    if (arena_allocate(&st.arena)) {
        free(config_json);
        model_free(model);
        free(st.m);
        free(st.v);
        return -1;
    }
    arena_rewind(&st.arena);
    bench_take(&st, model, frame_shape); /* m, v start at zero (arena_allocate zeroes) */
    float *host = rr_malloc((size_t)st.frames.count * sizeof(float));
    for (int64_t i = 0; i < st.frames.count; i++)
        host[i] = rr_rand_uniform(cfg.seed, RR_TAG_TEST, (uint64_t)i);
    op_from_host(host, &st.frames);
    free(host);
    unsigned char *use_truth = rr_malloc((size_t)batch * seq_len);
    memset(use_truth, 1, (size_t)batch * seq_len); /* teacher forcing (sampling = teacher) */

    const AdamHyper adam = {(float)cfg.lr, (float)cfg.beta1, (float)cfg.beta2, (float)cfg.eps,
                            (float)cfg.weight_decay, 0};
    /* Warm-up steps may run on the first warmup_frames frames only (a cheaper step through the same
     * code: thread pools, BLAS buffers; the arenas are already touched, arena_allocate zeroes them). */
    const int warmup_frames =
        a->warmup_frames >= 2 && a->warmup_frames < seq_len ? a->warmup_frames : seq_len;
    const Tensor warm_frames = tensor_slice0(&st.frames, 0, warmup_frames);
    double *times = rr_malloc(sizeof(double) * (size_t)a->steps);
    double loss_first = NAN, loss_last = NAN, timed_total = 0.0, timed_cpu = 0.0;
    int rc = 0, timed = 0;
    for (int step = 1; step <= a->warmup + a->steps; step++) {
        const int warm = step <= a->warmup;
        profile_enable(a->profile && !warm); /* --profile: the timed steps only */
        double t0 = rr_now(), c0 = a->profile ? profile_cpu_now() : 0.0;
        double loss = model_train_step(model, warm ? &warm_frames : &st.frames, use_truth, NULL);
        if (loss < 0) { /* -1 + rr_error on invalid input */
            rc = -1;
            break;
        }
        for (int i = 0; i < np; i++)
            adam_update(model_param(model, i), model_grad(model, i), &st.m[i], &st.v[i], &adam, step);
        float last; /* reading one updated value back waits for an asynchronous device */
        const Tensor last_param = tensor_slice0(model_param(model, np - 1), 0, 1);
        op_to_host(&last_param, &last);
        double dt = rr_now() - t0;
        if (warm) continue;
        if (timed == 0) loss_first = loss;
        loss_last = loss;
        times[timed++] = dt;
        timed_total += dt;
        if (a->profile) timed_cpu += profile_cpu_now() - c0;
        if (a->max_seconds > 0 && timed_total >= a->max_seconds) break; /* time budget spent */
    }
    profile_enable(0);
    if (rc == 0 && a->profile) profile_report(a->json ? stderr : stdout, timed_total, timed_cpu, timed);
    if (rc == 0) {
        const double fwd = model_flops_per_sequence(model);
        const double med = median(times, timed); /* sorts times: [0] is the fastest step */
        const double t_min = times[0], t_max = times[timed - 1];
        const double seq_s = batch / med, gflops = 3.0 * fwd * batch / med * 1e-9;
        if (a->json) {
            printf("{\"bench\": \"train_step\", \"config\": %s, \"backend\": \"%s\", \"tf32\": %d, \"device\": \"%s\", "
                   "\"precision\": \"%s\", \"precision_asked\": \"%s\", \"conv_engine\": \"%s\", \"cpu_bf16_isa\": %s%s%s, "
                   "\"threads\": %d, \"blas\": \"%s\", "
                   "\"batch\": %d, \"seq_len\": %d, \"warmup\": %d, \"warmup_frames\": %d, \"steps\": %d, "
                   "\"max_seconds\": %g, \"params\": %lld, "
                   "\"fwd_flops_per_seq\": %.6g, \"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f, "
                   "\"seq_per_s\": %.4f, \"gflops\": %.3f, \"peak_rss_mib\": %.1f, \"loss_first\": %.8g, \"loss_last\": %.8g, "
                   "\"adam\": {\"lr\": %.17g, \"beta1\": %.17g, \"beta2\": %.17g, \"eps\": %.17g, "
                   "\"weight_decay\": %.17g}, \"spec\": ",
                   config_json, cfg.backend, cfg.tf32, device_label, precision_name(precision), cfg.precision,
                   conv_cpu_engine(), bf16_isa ? "\"" : "", bf16_isa ? bf16_isa : "null", bf16_isa ? "\"" : "",
                   threads, rr_blas_name(), batch, seq_len, a->warmup,
                   warmup_frames, timed,
                   a->max_seconds, (long long)model_param_count(model), fwd, med, t_min, t_max, seq_s, gflops,
                   peak_rss_mib(), loss_first, loss_last, cfg.lr, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay);
            print_spec(&mc);
            printf("}\n");
        } else {
            printf("%s (%s, %lld parameters), batch %d, %d frames, %s %s: %.3f s/step (median of %d),"
                   " %.3f seq/s, %.2f GFLOP/s (3 x %.3g forward FLOP/seq), peak RSS %.0f MiB; loss %.5g -> %.5g\n",
                   a->config_path, mc.model, (long long)model_param_count(model), batch, seq_len,
                   device == RR_CPU ? "cpu" : device_label, precision_name(precision), med, timed, seq_s, gflops, fwd, peak_rss_mib(), loss_first,
                   loss_last);
        }
        if (!isfinite(loss_last) || !isfinite(loss_first))
            fprintf(stderr, "rnnreg bench: warning: loss is not finite (%g, %g)\n", loss_first, loss_last);
    }
    free(config_json);
    free(times);
    free(use_truth);
    arena_free(&st.arena);
    free(st.m);
    free(st.v);
    model_free(model);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */

int cmd_bench(int argc, char **argv) {
    TrainBenchArgs a = {.batch = 0, .seq_len = 0, .steps = 3, .warmup = 1, .warmup_frames = 0, .threads = -1};
    int sgemm_n = 0, repeats = 3;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            bench_usage(stdout);
            return 0;
        }
        if (!strcmp(o, "--json")) {
            a.json = 1;
            continue;
        }
        if (!strcmp(o, "--dry-run")) {
            a.dry_run = 1;
            continue;
        }
        if (!strcmp(o, "--tf32")) {
            a.tf32 = 1;
            continue;
        }
        if (!strcmp(o, "--profile")) {
            a.profile = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rnnreg bench: %s: missing value (or unknown option)\n", o);
            bench_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (!strcmp(o, "--config") || !strcmp(o, "--model-config"))
            a.config_path = v;
        else if (!strcmp(o, "--precision"))
            a.precision = v; /* checked as the config key */
        else if (!strcmp(o, "--backend")) {
            if (strcmp(v, "cpu") && strcmp(v, "cuda")) bad = rr_error("bench: --backend: '%s' is not cpu or cuda", v);
            a.backend = v;
        } else if (!strcmp(o, "--set")) {
            if (a.n_sets == BENCH_MAX_SETS)
                bad = rr_error("bench: --set: more than %d overrides", BENCH_MAX_SETS);
            else
                a.sets[a.n_sets++] = v;
        } else if (!strcmp(o, "--sgemm"))
            bad = parse_int_arg(o, v, 1, 16384, &sgemm_n);
        else if (!strcmp(o, "--repeats"))
            bad = parse_int_arg(o, v, 1, 1000, &repeats);
        else if (!strcmp(o, "--batch"))
            bad = parse_int_arg(o, v, 1, 65536, &a.batch);
        else if (!strcmp(o, "--seq-len"))
            bad = parse_int_arg(o, v, 2, 1000, &a.seq_len);
        else if (!strcmp(o, "--steps"))
            bad = parse_int_arg(o, v, 1, BENCH_MAX_STEPS, &a.steps);
        else if (!strcmp(o, "--warmup"))
            bad = parse_int_arg(o, v, 0, BENCH_MAX_STEPS, &a.warmup);
        else if (!strcmp(o, "--warmup-frames"))
            bad = parse_int_arg(o, v, 2, 1000, &a.warmup_frames);
        else if (!strcmp(o, "--max-seconds")) {
            char *end;
            a.max_seconds = strtod(v, &end);
            if (end == v || *end || !(a.max_seconds >= 0))
                bad = rr_error("bench: --max-seconds: '%s' is not a number >= 0", v);
        } else if (!strcmp(o, "--threads"))
            bad = parse_int_arg(o, v, 0, 4096, &a.threads);
        else {
            fprintf(stderr, "rnnreg bench: unknown option '%s'\n", o);
            bench_usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rnnreg: %s\n", rr_last_error());
            return 2;
        }
    }
    if (!sgemm_n == !a.config_path) {
        fprintf(stderr, "rnnreg bench: give exactly one of --sgemm N or --config FILE\n");
        bench_usage(stderr);
        return 2;
    }
    if (sgemm_n) {
        int device;
        if (device_select(a.backend ? a.backend : "cpu", a.tf32, 1, &device)) {
            fprintf(stderr, "rnnreg bench: %s\n", rr_last_error());
            return 1;
        }
        if (device == RR_CUDA) {
            if (bench_sgemm_cuda(sgemm_n, repeats, a.tf32, a.json)) {
                fprintf(stderr, "rnnreg bench: %s\n", rr_last_error());
                return 1;
            }
            return 0;
        }
        int threads = a.threads > 0 ? a.threads : all_cores();
        rr_set_threads(threads);
        return bench_sgemm(sgemm_n, repeats, threads, a.json) ? 1 : 0;
    }
    if (bench_train(&a)) {
        fprintf(stderr, "rnnreg bench: %s\n", rr_last_error());
        return 1;
    }
    return 0;
}
