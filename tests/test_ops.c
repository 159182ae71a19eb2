/* test_ops.c — checks the CPU ops of src/ops.h and the views/arena of src/tensor.h.
 *
 * (1) Gradients by finite differences: for every op with a backward, an independent double-precision
 *     re-implementation of the forward (plain loops written from the formulas, not from our code)
 *     gives L = Σ r ⊙ y for a fixed random r; central differences of L in double (step 1e-5 on O(1)
 *     inputs: truncation ~h² ≈ 1e-10, cancellation ~1e-16·|L|/h ≈ 1e-10) are the reference gradient.
 *     The op's float32 forward is compared with the double forward, its backward with the differences.
 *     Tolerances (atol 2e-5, rtol 1e-4 unless said) cover float32 rounding: each value is a sum of at
 *     most a few hundred O(1) products, whose float error is ≲ 1e-5; an indexing or formula error gives
 *     O(0.1..1) differences. Accumulation ("+=") is checked by prefilling outputs with random values.
 * (2) Forward values and gradients against PyTorch 1.13 (tests/fixtures/ops_torch.safetensors from
 *     tests/reference/make_ops_fixture.py): conv2d k = 1, 3, 5 with bias; batchnorm train/eval and the
 *     running-statistics update; the LSTM cell; 3 steps of Adam, AdamW, SGD momentum (+ nesterov),
 *     RMSprop.
 * (3) conv2d: the OpenBLAS and builtin sgemm give the same result; two runs are bit-identical; with
 *     the builtin sgemm, 1 and 2 threads are bit-identical.
 * Plus closed-form checks of the elementwise ops, activations, tensor views and the arena, and that
 * shape mismatches abort naming the op. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas.h"
#include "common.h"
#include "ops.h"
#include "ops_internal.h"
#include "rng.h"
#include "safetensors.h"
#include "test.h"
#include "device.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FD_STEP 1e-5
#define FIXTURE "tests/fixtures/ops_torch.safetensors"

/* ---------------------------------------------------------------------------------------------- */
/* Small helpers: every buffer comes from one pool freed at the end (LeakSanitizer stays quiet). */

static void *pool[4096];
static int pool_n;

static float *fbuf(int64_t n) {
    float *p = rr_aligned_alloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (pool_n < 4096) pool[pool_n++] = p;
    return p;
}
static double *dbuf(int64_t n) {
    double *p = rr_aligned_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (pool_n < 4096) pool[pool_n++] = p;
    return p;
}
static void pool_free(void) {
    for (int i = 0; i < pool_n; i++) free(pool[i]);
    pool_n = 0;
}

static uint32_t stream_id = 1;
/* n uniform floats in [lo, hi), a fresh Philox stream per call. */
static float *frand(int64_t n, float lo, float hi) {
    float *p = fbuf(n);
    uint64_t st = rr_stream(RR_TAG_TEST, stream_id++, 7, 0);
    for (int64_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * rr_rand_uniform(42, st, (uint64_t)i);
    return p;
}
static float *fcopy(const float *x, int64_t n) {
    float *p = fbuf(n);
    memcpy(p, x, sizeof(float) * (size_t)n);
    return p;
}
static double *to_d(const float *x, int64_t n) {
    double *p = dbuf(n);
    for (int64_t i = 0; i < n; i++) p[i] = x[i];
    return p;
}
static float *to_f(const double *x, int64_t n) {
    float *p = fbuf(n);
    for (int64_t i = 0; i < n; i++) p[i] = (float)x[i];
    return p;
}
static float *fsum(const float *a, const double *b, int64_t n) { /* a + b as float (prefill + gradient) */
    float *p = fbuf(n);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((double)a[i] + b[i]);
    return p;
}
static double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

typedef double (*Objective)(void *ctx);
/* Central differences of obj with respect to v[0..n). */
static double *fd_gradient(Objective obj, void *ctx, double *v, int64_t n) {
    double *g = dbuf(n);
    for (int64_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + FD_STEP;
        double lp = obj(ctx);
        v[i] = keep - FD_STEP;
        double lm = obj(ctx);
        v[i] = keep;
        g[i] = (lp - lm) / (2 * FD_STEP);
    }
    return g;
}

static Tensor T4(float *d, int n, int c, int h, int w) { return tensor4(d, RR_CPU, n, c, h, w); }
static Tensor T1(float *d, int n) { return tensor1(d, RR_CPU, n); }

/* ---------------------------------------------------------------------------------------------- */
/* Double references written from the definitions. */

/* y[b,o,h,w] = bias[o] + Σ_{c,i,j} w[o,c,i,j] x[b,c,h+i-k/2,w+j-k/2] (zero outside) */
static void conv_ref(const double *x, const double *w, const double *bias, double *y, int B, int Cin, int Cout,
                     int H, int W, int k) {
    int pad = k / 2;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < Cout; o++)
            for (int h = 0; h < H; h++)
                for (int q = 0; q < W; q++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < Cin; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int ih = h + i - pad, iw = q + j - pad;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += w[((o * Cin + c) * k + i) * k + j] * x[((b * Cin + c) * H + ih) * W + iw];
                            }
                    y[((b * Cout + o) * H + h) * W + q] = acc;
                }
}

static double act_ref(Activation a, double x) {
    switch (a) {
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_HARD_SIGMOID: return x * 0.2 + 0.5 < 0 ? 0 : (x * 0.2 + 0.5 > 1 ? 1 : x * 0.2 + 0.5);
    default: return x;
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* Death checks: the op must abort (exit 1) with a message naming it. */

/* LeakSanitizer (SANITIZE=1) in a forked child that exits through rr_die: the parent's OpenMP
 * threads are not in the child, so the 24-byte buffer glibc's dlerror keeps in thread-local storage
 * (after the CUDA runtime's dlopen probe of libcuda on a machine with no GPU) looks leaked and
 * the child exits 23 instead of 1. That buffer is glibc's, not ours: suppress only it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:_dlerror_run\n"; }

typedef void (*DeathFn)(void);
static void check_dies(const char *what, DeathFn fn, const char *expect) {
    int fds[2];
    fflush(stdout);
    if (pipe(fds) != 0) {
        SKIP("%s: pipe failed", what);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn();
        _exit(0); /* not reached if the op aborts */
    }
    close(fds[1]);
    char msg[512] = {0};
    ssize_t got = 0, r;
    while ((r = read(fds[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0) got += r;
    char rest[512]; /* drain what does not fit: a child writing to a closed pipe dies of SIGPIPE */
    while (read(fds[0], rest, sizeof rest) > 0) {
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 1 && strstr(msg, expect);
    CHECK(ok, "%s aborts with a message containing \"%s\"", what, expect);
    if (!ok) printf("    status %d, stderr: %s\n", status, msg);
}

static void die_conv_shape(void) {
    float x[2 * 3 * 4 * 4] = {0}, w[4 * 2 * 3 * 3] = {0}, y[2 * 4 * 4 * 4], s[1000];
    Tensor tx = T4(x, 2, 3, 4, 4), tw = T4(w, 4, 2, 3, 3), ty = T4(y, 2, 4, 4, 4); /* Cin 3 vs 2 */
    conv2d_forward(&tx, &tw, NULL, &ty, 0, s);
}
static void die_add_count(void) {
    float a[6] = {0}, b[5] = {0}, y[6];
    Tensor ta = T1(a, 6), tb = T1(b, 5), ty = T1(y, 6);
    op_add(&ta, &tb, &ty);
}
/* The "no GPU" checks below only make sense where no CUDA device can be used. */
static int gpu_present(void) {
    return device_cuda_count() > 0;
}

static void die_cuda_tensor(void) {
    float a[4] = {0};
    Tensor t = tensor1(a, RR_CUDA, 4);
    op_fill(&t, 1.0f);
}
static void die_arena_overflow(void) {
    Arena a;
    arena_init_plan(&a, RR_CPU);
    arena_take(&a, 10);
    if (arena_allocate(&a)) _exit(3);
    arena_rewind(&a);
    arena_take(&a, 100); /* more than planned */
    arena_free(&a);
}

/* ---------------------------------------------------------------------------------------------- */
/* Tensor views and arena */

static void test_tensor_and_arena(void) {
    float d[2 * 3 * 4 * 5];
    Tensor t = T4(d, 2, 3, 4, 5);
    CHECK(t.count == 120 && t.ndim == 4 && t.shape[3] == 5, "tensor4 count and shape");
    Tensor s = tensor_slice0(&t, 1, 1);
    CHECK(s.data == d + 60 && s.count == 60 && s.shape[0] == 1 && s.shape[1] == 3, "tensor_slice0 offsets by 60");
    int shp[2] = {6, 20};
    Tensor r = tensor_reshape(&t, 2, shp);
    CHECK(r.data == d && r.count == 120 && r.ndim == 2, "tensor_reshape keeps data and count");
    char buf[64];
    CHECK(strcmp(tensor_shape_str(&t, buf, sizeof buf), "(2, 3, 4, 5)") == 0, "tensor_shape_str: %s", buf);
    Tensor u = T4(d, 2, 3, 5, 4);
    CHECK(!tensor_same_shape(&t, &u) && tensor_same_shape(&t, &t), "tensor_same_shape");

    Arena a;
    arena_init_plan(&a, RR_CPU);
    Tensor p1 = arena_tensor4(&a, 2, 3, 4, 5);
    float *p2 = arena_take(&a, 7);
    Tensor p3 = arena_tensor(&a, 2, shp);
    CHECK(p1.data == NULL && p2 == NULL && p3.data == NULL && a.size >= (120 + 7 + 120) * 4,
          "arena planning hands out NULL views and counts %zu bytes", a.size);
    CHECK(arena_allocate(&a) == 0, "arena_allocate");
    arena_rewind(&a);
    Tensor q1 = arena_tensor4(&a, 2, 3, 4, 5);
    float *q2 = arena_take(&a, 7);
    Tensor q3 = arena_tensor(&a, 2, shp);
    int aligned = ((uintptr_t)q1.data % 64 == 0) && ((uintptr_t)q2 % 64 == 0) && ((uintptr_t)q3.data % 64 == 0);
    int zero = 1;
    for (int i = 0; i < 120; i++) zero &= q1.data[i] == 0.0f && q3.data[i] == 0.0f;
    CHECK(aligned && zero && q2 >= q1.data + 120 && q3.data >= q2 + 7 && a.used <= a.size,
          "arena views are 64-byte aligned, zeroed, disjoint and within the plan");
    arena_rewind(&a);
    Tensor again = arena_tensor4(&a, 2, 3, 4, 5);
    CHECK(again.data == q1.data, "arena_rewind hands out the same views again");
    arena_free(&a);
    if (gpu_present()) {
        SKIP("arena_allocate on CUDA without a GPU: a GPU is present (tests/gpu covers CUDA arenas)");
    } else {
        Arena c;
        arena_init_plan(&c, RR_CUDA);
        arena_take(&c, 10);
        CHECK(arena_allocate(&c) == -1, "arena_allocate on CUDA fails cleanly without a GPU: %s", rr_last_error());
    }
    check_dies("arena_take beyond the plan", die_arena_overflow, "arena_take");
}

/* ---------------------------------------------------------------------------------------------- */
/* Elementwise ops, closed forms */

static void test_elementwise(void) {
    const int n = 1000;
    float *a = frand(n, -1, 1), *b = frand(n, -1, 1), *y = fbuf(n), *want = fbuf(n);
    Tensor ta = T1(a, n), tb = T1(b, n), ty = T1(y, n);
    int shp[2] = {10, 100};
    Tensor ta2 = tensor_make(a, RR_CPU, 2, shp); /* other shape, same count: allowed */

    op_fill(&ty, 2.5f);
    for (int i = 0; i < n; i++) want[i] = 2.5f;
    check_close_f32("op_fill", y, want, n, 0, 0);
    op_copy(&ta2, &ty);
    check_close_f32("op_copy (other shape, same count)", y, a, n, 0, 0);
    op_add(&ta, &tb, &ty);
    for (int i = 0; i < n; i++) want[i] = a[i] + b[i];
    check_close_f32("op_add", y, want, n, 0, 0);
    op_copy(&tb, &ty);
    op_axpy(-0.75f, &ta, &ty);
    for (int i = 0; i < n; i++) want[i] = (float)((double)b[i] - 0.75 * a[i]);
    check_close_f32("op_axpy", y, want, n, 1e-7, 1e-6);
    op_scale(&ty, 3.0f);
    for (int i = 0; i < n; i++) want[i] *= 3.0f;
    check_close_f32("op_scale", y, want, n, 1e-6, 1e-6);
    op_mul(&ta, &tb, &ty);
    for (int i = 0; i < n; i++) want[i] = a[i] * b[i];
    check_close_f32("op_mul", y, want, n, 0, 0);
    op_mul(&ty, &ty, &ty); /* aliasing allowed */
    for (int i = 0; i < n; i++) want[i] = want[i] * want[i];
    check_close_f32("op_mul in place", y, want, n, 0, 0);
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)a[i] * a[i];
    CHECK_NEAR(op_sum_squares(&ta), ss, 0, 1e-15, "op_sum_squares equals the double sum");
    float *host = fbuf(n);
    op_to_host(&ta, host);
    check_close_f32("op_to_host", host, a, n, 0, 0);
    op_from_host(b, &ty);
    check_close_f32("op_from_host", y, b, n, 0, 0);
    check_dies("op_add with different counts", die_add_count, "op_add");
    if (gpu_present())
        SKIP("an op on a CUDA tensor without a GPU dies: a GPU is present (tests/gpu covers CUDA ops)");
    else
        check_dies("an op on a CUDA tensor without a GPU", die_cuda_tensor, "op_fill");
}

/* ---------------------------------------------------------------------------------------------- */
/* The device chosen once (device.c) and the op tables (ops_dispatch.c) */

static void die_mixed_devices(void) {
    float a[4] = {0}, b[4] = {0}, y[4] = {0};
    Tensor ta = tensor1(a, RR_CPU, 4), tb = tensor1(b, RR_CUDA, 4), ty = tensor1(y, RR_CPU, 4);
    op_add(&ta, &tb, &ty);
}

static void test_dispatch(void) {
    int in_order = 1, slots = 0;
#define SLOT_IS_CPU(name, params, args) in_order &= ops_cpu.name == cpu_##name, slots++;
#define SLOT_IS_CPU_V(type, name, params, args) SLOT_IS_CPU(name, params, args)
    RR_OPS(SLOT_IS_CPU, SLOT_IS_CPU_V)
#undef SLOT_IS_CPU
#undef SLOT_IS_CPU_V
    CHECK(in_order && slots * sizeof(void (*)(void)) == sizeof(OpsTable),
          "the CPU table holds cpu_<name> in every one of its %d slots", slots);
    CHECK(device_ops(RR_CPU) == &ops_cpu, "device_ops(RR_CPU) is the CPU table");

    int device = -1;
    CHECK(device_select("cpu", 0, 1, &device) == 0 && device == RR_CPU, "device_select: backend cpu → RR_CPU");
    CHECK(device_select("cpu", 1, 0, &device) == 0 && device == RR_CPU,
          "device_select: tf32 with backend cpu passes where not strict (evaluation)");
    CHECK(device_select("cpu", 1, 1, &device) == -1 &&
              !strncmp(rr_last_error(), "tf32: 1 needs backend = cuda", 28),
          "device_select: tf32 with backend cpu is refused when strict (training): %s", rr_last_error());
    CHECK(device_select("gpu", 0, 1, &device) == -1 && !strcmp(rr_last_error(), "backend: 'gpu' is unknown (cpu, cuda)"),
          "device_select: an unknown backend is named: %s", rr_last_error());
    if (gpu_present())
        SKIP("device_select: backend cuda without a GPU is refused: a GPU is present");
    else
        CHECK(device_select("cuda", 0, 1, &device) == -1 && device == RR_CPU &&
                  strstr(rr_last_error(), device_cuda_compiled() ? "no CUDA device is visible here"
                                                                 : "this build has no CUDA backend"),
              "device_select: backend cuda where it cannot run is refused: %s", rr_last_error());
    check_dies("an op on a CPU and a CUDA tensor", die_mixed_devices,
               device_cuda_compiled() ? "op_add: tensors on different devices (CPU and CUDA)"
                                      : "op_add: a tensor is on device 1 (CUDA), but this build has only the CPU");
}

/* op_select_samples forward (closed form) and backward (finite differences) */
typedef struct {
    double *a, *b, *r;
    const unsigned char *use_a;
    int B, m;
} SelCtx;
static double sel_obj(void *p) {
    SelCtx *c = p;
    double L = 0;
    for (int s = 0; s < c->B; s++)
        for (int i = 0; i < c->m; i++) L += c->r[s * c->m + i] * (c->use_a[s] ? c->a : c->b)[s * c->m + i];
    return L;
}

static void test_select(void) {
    const int B = 4, m = 2 * 3 * 5;
    const unsigned char use_a[4] = {1, 0, 0, 1};
    float *a = frand(B * m, -1, 1), *b = frand(B * m, -1, 1), *y = fbuf(B * m), *want = fbuf(B * m);
    Tensor ta = T4(a, B, 2, 3, 5), tb = T4(b, B, 2, 3, 5), ty = T4(y, B, 2, 3, 5);
    op_select_samples(use_a, &ta, &tb, &ty);
    for (int s = 0; s < B; s++) memcpy(want + s * m, (use_a[s] ? a : b) + s * m, sizeof(float) * m);
    check_close_f32("op_select_samples picks a for samples 0, 3 and b for 1, 2", y, want, B * m, 0, 0);

    float *r = frand(B * m, -1, 1), *da0 = frand(B * m, -1, 1), *db0 = frand(B * m, -1, 1);
    float *da = fcopy(da0, B * m), *db = fcopy(db0, B * m);
    Tensor tr = T4(r, B, 2, 3, 5), tda = T4(da, B, 2, 3, 5), tdb = T4(db, B, 2, 3, 5);
    op_select_samples_backward(use_a, &tr, &tda, &tdb);
    SelCtx c = {to_d(a, B * m), to_d(b, B * m), to_d(r, B * m), use_a, B, m};
    double *ga = fd_gradient(sel_obj, &c, c.a, B * m), *gb = fd_gradient(sel_obj, &c, c.b, B * m);
    check_close_f32("op_select_samples_backward da += (finite differences)", da, fsum(da0, ga, B * m), B * m, 2e-5, 1e-4);
    check_close_f32("op_select_samples_backward db += (finite differences)", db, fsum(db0, gb, B * m), B * m, 2e-5, 1e-4);
    float *db2 = fcopy(db0, B * m);
    Tensor tdb2 = T4(db2, B, 2, 3, 5);
    op_select_samples_backward(use_a, &tr, NULL, &tdb2);
    check_close_f32("op_select_samples_backward with da NULL", db2, db, B * m, 0, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* Activations */

typedef struct {
    Activation a;
    double *x, *r;
    int n;
} ActCtx;
static double act_obj(void *p) {
    ActCtx *c = p;
    double L = 0;
    for (int i = 0; i < c->n; i++) L += c->r[i] * act_ref(c->a, c->x[i]);
    return L;
}

static void test_activations(void) {
    Activation parsed;
    CHECK(activation_parse("hard_sigmoid", &parsed) == 0 && parsed == ACT_HARD_SIGMOID &&
              strcmp(activation_name(ACT_HARD_SIGMOID), "hard_sigmoid") == 0,
          "activation_parse / activation_name round trip");
    CHECK(activation_parse("linear", &parsed) == 0 && parsed == ACT_IDENTITY, "\"linear\" parses as identity");
    CHECK(activation_parse("swish", &parsed) == -1 && strstr(rr_last_error(), "swish"), "unknown activation: %s",
          rr_last_error());

    /* tf.keras 2 hard_sigmoid = clip(0.2 x + 0.5, 0, 1): 0 below -2.5, 1 above 2.5 */
    float hx[7] = {-3.0f, -2.5f, -1.0f, 0.0f, 1.0f, 2.5f, 3.0f}, hy[7];
    float hw[7] = {0.0f, 0.0f, 0.3f, 0.5f, 0.7f, 1.0f, 1.0f};
    Tensor thx = T1(hx, 7), thy = T1(hy, 7);
    activation_forward(ACT_HARD_SIGMOID, &thx, &thy);
    check_close_f32("hard_sigmoid at -3, -2.5, -1, 0, 1, 2.5, 3", hy, hw, 7, 1e-7, 0);
    float sx[4] = {-1000.0f, -100.0f, 100.0f, 1000.0f}, sy[4], sw[4] = {0.0f, 0.0f, 1.0f, 1.0f};
    Tensor tsx = T1(sx, 4), tsy = T1(sy, 4);
    activation_forward(ACT_SIGMOID, &tsx, &tsy);
    check_close_f32("sigmoid of ±100, ±1000 is finite, 0 or 1", sy, sw, 4, 1e-30, 0);

    const int n = 600;
    for (int a = ACT_IDENTITY; a <= ACT_HARD_SIGMOID; a++) {
        float *x = frand(n, -4, 4), *y = fbuf(n), *r = frand(n, -1, 1), *dx0 = frand(n, -1, 1);
        float *dx = fcopy(dx0, n);
        Tensor tx = T1(x, n), ty = T1(y, n), tr = T1(r, n), tdx = T1(dx, n);
        activation_forward((Activation)a, &tx, &ty);
        ActCtx c = {(Activation)a, to_d(x, n), to_d(r, n), n};
        double *yd = dbuf(n);
        for (int i = 0; i < n; i++) yd[i] = act_ref((Activation)a, c.x[i]);
        char what[128];
        snprintf(what, sizeof what, "%s forward vs double formula", activation_name((Activation)a));
        check_close_f32(what, y, to_f(yd, n), n, 1e-6, 1e-6);
        activation_backward((Activation)a, &ty, &tr, &tdx);
        snprintf(what, sizeof what, "%s backward dx += (finite differences)", activation_name((Activation)a));
        check_close_f32(what, dx, fsum(dx0, fd_gradient(act_obj, &c, c.x, n), n), n, 2e-5, 1e-4);
        float *z = fcopy(x, n);
        Tensor tz = T1(z, n);
        activation_forward((Activation)a, &tz, &tz);
        snprintf(what, sizeof what, "%s in place", activation_name((Activation)a));
        check_close_f32(what, z, y, n, 0, 0);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* conv2d */

typedef struct {
    double *x, *w, *b, *r, *y;
    int B, Cin, Cout, H, W, k;
} ConvCtx;
static double conv_obj(void *p) {
    ConvCtx *c = p;
    conv_ref(c->x, c->w, c->b, c->y, c->B, c->Cin, c->Cout, c->H, c->W, c->k);
    return dot(c->r, c->y, (int64_t)c->B * c->Cout * c->H * c->W);
}

static void conv_fd_case(int B, int Cin, int Cout, int H, int W, int k, int with_bias, int accumulate) {
    int64_t nx = (int64_t)B * Cin * H * W, nw = (int64_t)Cout * Cin * k * k, ny = (int64_t)B * Cout * H * W;
    float *x = frand(nx, -1, 1), *w = frand(nw, -0.5f, 0.5f), *b = frand(Cout, -1, 1), *r = frand(ny, -1, 1);
    float *y0 = frand(ny, -1, 1), *y = fcopy(y0, ny);
    float *dx0 = frand(nx, -1, 1), *dw0 = frand(nw, -1, 1), *db0 = frand(Cout, -1, 1);
    float *dx = fcopy(dx0, nx), *dw = fcopy(dw0, nw), *db = fcopy(db0, Cout);
    Tensor tx = T4(x, B, Cin, H, W), tw = T4(w, Cout, Cin, k, k), tb = T1(b, Cout), ty = T4(y, B, Cout, H, W);
    Tensor tr = T4(r, B, Cout, H, W), tdx = T4(dx, B, Cin, H, W), tdw = T4(dw, Cout, Cin, k, k), tdb = T1(db, Cout);
    float *scratch = fbuf(conv2d_scratch_floats(&tx, k));
    conv2d_forward(&tx, &tw, with_bias ? &tb : NULL, &ty, accumulate, scratch);

    ConvCtx c = {to_d(x, nx), to_d(w, nw), with_bias ? to_d(b, Cout) : NULL, to_d(r, ny), dbuf(ny), B, Cin, Cout, H, W, k};
    conv_obj(&c);
    char what[160];
    snprintf(what, sizeof what, "conv2d k=%d B=%d Cin=%d Cout=%d %dx%d bias=%d forward%s vs direct double conv", k, B,
             Cin, Cout, H, W, with_bias, accumulate ? " (accumulate: y0 + conv)" : "");
    check_close_f32(what, y, accumulate ? fsum(y0, c.y, ny) : to_f(c.y, ny), ny, 2e-5, 1e-4);

    conv2d_backward(&tx, &tw, &tr, &tdx, &tdw, with_bias ? &tdb : NULL, scratch);
    snprintf(what, sizeof what, "conv2d k=%d dx += (finite differences)", k);
    check_close_f32(what, dx, fsum(dx0, fd_gradient(conv_obj, &c, c.x, nx), nx), nx, 2e-5, 1e-4);
    snprintf(what, sizeof what, "conv2d k=%d dw += (finite differences)", k);
    check_close_f32(what, dw, fsum(dw0, fd_gradient(conv_obj, &c, c.w, nw), nw), nw, 2e-5, 1e-4);
    if (with_bias) {
        snprintf(what, sizeof what, "conv2d k=%d db += (finite differences)", k);
        check_close_f32(what, db, fsum(db0, fd_gradient(conv_obj, &c, c.b, Cout), Cout), Cout, 2e-5, 1e-4);
    }
    /* NULL outputs are skipped: dw alone equals the dw of the full call */
    float *dw_only = fcopy(dw0, nw);
    Tensor tdw_only = T4(dw_only, Cout, Cin, k, k);
    conv2d_backward(&tx, &tw, &tr, NULL, &tdw_only, NULL, scratch);
    snprintf(what, sizeof what, "conv2d k=%d backward with dx, db NULL gives the same dw", k);
    check_close_f32(what, dw_only, dw, nw, 0, 0);
}

static void test_conv_fd(void) {
    conv_fd_case(2, 3, 4, 5, 7, 1, 1, 0);
    conv_fd_case(2, 3, 4, 5, 7, 3, 1, 0);
    conv_fd_case(2, 3, 4, 5, 7, 5, 1, 0);
    conv_fd_case(3, 2, 5, 6, 6, 3, 0, 1); /* no bias, accumulate */
    conv_fd_case(2, 3, 4, 4, 3, 5, 1, 1); /* k larger than W: padding on both sides of every row */
    conv_fd_case(1, 4, 2, 3, 3, 1, 1, 1);
    check_dies("conv2d with Cin of x and w differing", die_conv_shape, "conv2d_forward");
}

/* OpenBLAS vs builtin sgemm, run-to-run and thread-count determinism. */
static void conv_run(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, const Tensor *dy, Tensor *dx,
                     Tensor *dw, Tensor *db, float *scratch) {
    op_fill(dx, 0.0f);
    op_fill(dw, 0.0f);
    op_fill(db, 0.0f);
    conv2d_forward(x, w, b, y, 0, scratch);
    conv2d_backward(x, w, dy, dx, dw, db, scratch);
}

static void test_conv_determinism(void) {
    const int B = 3, Cin = 12, Cout = 32, H = 16, W = 16, k = 5;
    int64_t nx = (int64_t)B * Cin * H * W, nw = (int64_t)Cout * Cin * k * k, ny = (int64_t)B * Cout * H * W;
    float *x = frand(nx, -1, 1), *w = frand(nw, -0.2f, 0.2f), *b = frand(Cout, -1, 1), *dyv = frand(ny, -1, 1);
    Tensor tx = T4(x, B, Cin, H, W), tw = T4(w, Cout, Cin, k, k), tb = T1(b, Cout), tdy = T4(dyv, B, Cout, H, W);
    float *scratch = fbuf(conv2d_scratch_floats(&tx, k));
    float *out[4][4]; /* run × (y, dx, dw, db) */
    int64_t sizes[4] = {ny, nx, nw, Cout};
    for (int run = 0; run < 4; run++) {
        for (int j = 0; j < 4; j++) out[run][j] = fbuf(sizes[j]);
        Tensor ty = T4(out[run][0], B, Cout, H, W), tdx = T4(out[run][1], B, Cin, H, W);
        Tensor tdw = T4(out[run][2], Cout, Cin, k, k), tdb = T1(out[run][3], Cout);
        /* runs 0, 1: the build's sgemm; run 2: builtin with 1 thread; run 3: builtin with 2 threads */
        conv_sgemm = run < 2 ? rr_sgemm : rr_sgemm_builtin;
#ifdef _OPENMP
        if (run >= 2) omp_set_num_threads(run == 2 ? 1 : 2);
#endif
        conv_run(&tx, &tw, &tb, &ty, &tdy, &tdx, &tdw, &tdb, scratch);
    }
    conv_sgemm = rr_sgemm;
    rr_set_threads(2);
    const char *names[4] = {"y", "dx", "dw", "db"};
    for (int j = 0; j < 4; j++) {
        CHECK(memcmp(out[0][j], out[1][j], sizeof(float) * (size_t)sizes[j]) == 0,
              "conv2d %s is bit-identical in two runs (%s sgemm)", names[j], rr_blas_name());
        char what[128];
        snprintf(what, sizeof what, "conv2d %s: %s sgemm vs builtin sgemm", names[j], rr_blas_name());
        check_close_f32(what, out[0][j], out[2][j], sizes[j], 1e-4, 1e-4);
#ifdef _OPENMP
        CHECK(memcmp(out[2][j], out[3][j], sizeof(float) * (size_t)sizes[j]) == 0,
              "conv2d %s with the builtin sgemm is bit-identical with 1 and 2 threads", names[j]);
#endif
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* LSTM cell */

typedef struct {
    double *pre, *c_prev, *r_h, *r_c; /* c_prev, r_c may be NULL */
    double *gates, *c, *h;
    int B, n, HW;
    Activation ga, ca;
} LstmCtx;
static void lstm_ref(LstmCtx *x) {
    for (int s = 0; s < x->B; s++)
        for (int j = 0; j < x->n; j++)
            for (int p = 0; p < x->HW; p++) {
                int64_t gi = ((int64_t)(s * 4 * x->n) + j) * x->HW + p, step = (int64_t)x->n * x->HW;
                int64_t ci = ((int64_t)s * x->n + j) * x->HW + p;
                double i = act_ref(x->ga, x->pre[gi]), f = act_ref(x->ga, x->pre[gi + step]);
                double g = act_ref(x->ca, x->pre[gi + 2 * step]), o = act_ref(x->ga, x->pre[gi + 3 * step]);
                double c = f * (x->c_prev ? x->c_prev[ci] : 0.0) + i * g;
                x->gates[gi] = i, x->gates[gi + step] = f, x->gates[gi + 2 * step] = g, x->gates[gi + 3 * step] = o;
                x->c[ci] = c;
                x->h[ci] = o * act_ref(x->ca, c);
            }
}
static double lstm_obj(void *p) {
    LstmCtx *x = p;
    lstm_ref(x);
    int64_t nc = (int64_t)x->B * x->n * x->HW;
    return dot(x->r_h, x->h, nc) + (x->r_c ? dot(x->r_c, x->c, nc) : 0.0);
}

/* with_cprev: c_prev given; with_dc: dc (= r_c) given; want_dcprev: dc_prev requested */
static void lstm_fd_case(Activation ga, Activation ca, int with_cprev, int with_dc, int want_dcprev) {
    const int B = 2, n = 3, H = 4, W = 5, HW = H * W;
    int64_t ng = (int64_t)B * 4 * n * HW, nc = (int64_t)B * n * HW;
    float *pre = frand(ng, -4, 4), *cp = frand(nc, -1.5f, 1.5f), *rh = frand(nc, -1, 1), *rc = frand(nc, -1, 1);
    float *gates = fbuf(ng), *c = fbuf(nc), *h = fbuf(nc), *dpre = frand(ng, -1, 1), *dcp = frand(nc, -1, 1);
    Tensor tpre = T4(pre, B, 4 * n, H, W), tcp = T4(cp, B, n, H, W), tg = T4(gates, B, 4 * n, H, W);
    Tensor tc = T4(c, B, n, H, W), th = T4(h, B, n, H, W), trh = T4(rh, B, n, H, W), trc = T4(rc, B, n, H, W);
    Tensor tdpre = T4(dpre, B, 4 * n, H, W), tdcp = T4(dcp, B, n, H, W);
    lstm_cell_forward(&tpre, with_cprev ? &tcp : NULL, &tg, &tc, &th, ga, ca);
    lstm_cell_backward(&tg, with_cprev ? &tcp : NULL, &tc, &trh, with_dc ? &trc : NULL, &tdpre,
                       want_dcprev ? &tdcp : NULL, ga, ca);

    LstmCtx x = {to_d(pre, ng), to_d(cp, nc), to_d(rh, nc), with_dc ? to_d(rc, nc) : NULL, dbuf(ng), dbuf(nc),
                 dbuf(nc), B, n, HW, ga, ca};
    double *cprev_d = x.c_prev;
    if (!with_cprev) x.c_prev = NULL;
    lstm_obj(&x);
    char tag[96], what[192];
    snprintf(tag, sizeof tag, "lstm_cell %s/%s%s%s%s", activation_name(ga), activation_name(ca),
             with_cprev ? "" : " c_prev NULL", with_dc ? " dc" : " dc NULL", want_dcprev ? " dc_prev" : "");
    snprintf(what, sizeof what, "%s: gates vs double", tag);
    check_close_f32(what, gates, to_f(x.gates, ng), ng, 1e-6, 1e-5);
    snprintf(what, sizeof what, "%s: c vs double", tag);
    check_close_f32(what, c, to_f(x.c, nc), nc, 1e-6, 1e-5);
    snprintf(what, sizeof what, "%s: h vs double", tag);
    check_close_f32(what, h, to_f(x.h, nc), nc, 1e-6, 1e-5);
    snprintf(what, sizeof what, "%s: dpre = (finite differences)", tag);
    check_close_f32(what, dpre, to_f(fd_gradient(lstm_obj, &x, x.pre, ng), ng), ng, 2e-5, 1e-4);
    if (want_dcprev) {
        /* with c_prev NULL this is the gradient with respect to a zero c_prev */
        if (!with_cprev) {
            for (int64_t i = 0; i < nc; i++) cprev_d[i] = 0.0;
            x.c_prev = cprev_d;
        }
        snprintf(what, sizeof what, "%s: dc_prev = (finite differences)", tag);
        check_close_f32(what, dcp, to_f(fd_gradient(lstm_obj, &x, x.c_prev, nc), nc), nc, 2e-5, 1e-4);
    }
}

static void test_lstm_fd(void) {
    lstm_fd_case(ACT_SIGMOID, ACT_TANH, 1, 1, 1);
    lstm_fd_case(ACT_HARD_SIGMOID, ACT_RELU, 1, 1, 1);
    lstm_fd_case(ACT_HARD_SIGMOID, ACT_TANH, 1, 0, 1);
    lstm_fd_case(ACT_SIGMOID, ACT_RELU, 0, 1, 0);
    lstm_fd_case(ACT_SIGMOID, ACT_TANH, 0, 1, 1);
}

/* ---------------------------------------------------------------------------------------------- */
/* Batch norm */

typedef struct {
    double *x, *gamma, *beta, *r, *y, *mean, *var;
    int B, C, HW;
    double eps;
} BnCtx;
static void bn_ref(BnCtx *b) {
    int64_t N = (int64_t)b->B * b->HW;
    for (int ch = 0; ch < b->C; ch++) {
        double m = 0, v = 0;
        for (int s = 0; s < b->B; s++)
            for (int p = 0; p < b->HW; p++) m += b->x[((int64_t)s * b->C + ch) * b->HW + p];
        m /= N;
        for (int s = 0; s < b->B; s++)
            for (int p = 0; p < b->HW; p++) {
                double d = b->x[((int64_t)s * b->C + ch) * b->HW + p] - m;
                v += d * d;
            }
        v /= N;
        b->mean[ch] = m, b->var[ch] = v;
        for (int s = 0; s < b->B; s++)
            for (int p = 0; p < b->HW; p++) {
                int64_t i = ((int64_t)s * b->C + ch) * b->HW + p;
                b->y[i] = (b->x[i] - m) / sqrt(v + b->eps) * b->gamma[ch] + b->beta[ch];
            }
    }
}
static double bn_obj(void *p) {
    BnCtx *b = p;
    bn_ref(b);
    return dot(b->r, b->y, (int64_t)b->B * b->C * b->HW);
}

static void test_batchnorm_fd(void) {
    const int B = 3, C = 4, H = 5, W = 3, HW = H * W;
    const int64_t n = (int64_t)B * C * HW, N = (int64_t)B * HW;
    const float momentum = 0.1f, eps = 1e-3f;
    float *x = frand(n, -1, 3), *gamma = frand(C, 0.5f, 1.5f), *beta = frand(C, -1, 1), *r = frand(n, -1, 1);
    float *y = fbuf(n), *sm = fbuf(C), *si = fbuf(C), *rm0 = frand(C, -1, 1), *rv0 = frand(C, 0.5f, 2);
    float *rm = fcopy(rm0, C), *rv = fcopy(rv0, C);
    float *dx0 = frand(n, -1, 1), *dg0 = frand(C, -1, 1), *dbt0 = frand(C, -1, 1);
    float *dx = fcopy(dx0, n), *dg = fcopy(dg0, C), *dbt = fcopy(dbt0, C);
    Tensor tx = T4(x, B, C, H, W), tg = T1(gamma, C), tb = T1(beta, C), ty = T4(y, B, C, H, W), tr = T4(r, B, C, H, W);
    Tensor tsm = T1(sm, C), tsi = T1(si, C), trm = T1(rm, C), trv = T1(rv, C);
    Tensor tdx = T4(dx, B, C, H, W), tdg = T1(dg, C), tdb = T1(dbt, C);
    batchnorm_forward_train(&tx, &tg, &tb, &ty, &tsm, &tsi, &trm, &trv, momentum, eps);
    BnCtx c = {to_d(x, n), to_d(gamma, C), to_d(beta, C), to_d(r, n), dbuf(n), dbuf(C), dbuf(C), B, C, HW, (double)eps};
    bn_obj(&c);
    check_close_f32("batchnorm train forward vs double", y, to_f(c.y, n), n, 1e-5, 1e-5);
    double *want_rm = dbuf(C), *want_rv = dbuf(C), *want_is = dbuf(C);
    for (int ch = 0; ch < C; ch++) {
        want_is[ch] = 1.0 / sqrt(c.var[ch] + c.eps);
        want_rm[ch] = (1 - momentum) * rm0[ch] + momentum * c.mean[ch];
        want_rv[ch] = (1 - momentum) * rv0[ch] + momentum * c.var[ch] * N / (N - 1); /* unbiased */
    }
    check_close_f32("batchnorm save_mean", sm, to_f(c.mean, C), C, 1e-6, 1e-6);
    check_close_f32("batchnorm save_invstd", si, to_f(want_is, C), C, 1e-6, 1e-6);
    check_close_f32("batchnorm running_mean update", rm, to_f(want_rm, C), C, 1e-6, 1e-6);
    check_close_f32("batchnorm running_var update (unbiased batch var)", rv, to_f(want_rv, C), C, 1e-6, 1e-6);

    batchnorm_backward(&tx, &tg, &tsm, &tsi, &tr, &tdx, &tdg, &tdb);
    check_close_f32("batchnorm dx += (finite differences)", dx, fsum(dx0, fd_gradient(bn_obj, &c, c.x, n), n), n, 2e-5, 1e-4);
    check_close_f32("batchnorm dgamma += (finite differences)", dg, fsum(dg0, fd_gradient(bn_obj, &c, c.gamma, C), C), C,
                    2e-5, 1e-4);
    check_close_f32("batchnorm dbeta += (finite differences)", dbt, fsum(dbt0, fd_gradient(bn_obj, &c, c.beta, C), C), C,
                    2e-5, 1e-4);

    /* eval: y = (x - running_mean)/sqrt(running_var + eps) γ + β */
    batchnorm_forward_eval(&tx, &tg, &tb, &ty, &trm, &trv, eps);
    double *ye = dbuf(n);
    for (int s = 0; s < B; s++)
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < HW; p++) {
                int64_t i = ((int64_t)s * C + ch) * HW + p;
                ye[i] = ((double)x[i] - rm[ch]) / sqrt((double)rv[ch] + eps) * gamma[ch] + beta[ch];
            }
    check_close_f32("batchnorm eval forward vs double", y, to_f(ye, n), n, 1e-5, 1e-5);
}

/* ---------------------------------------------------------------------------------------------- */
/* MSE */

typedef struct {
    double *p, *t, divisor;
    int n;
} MseCtx;
static double mse_obj(void *v) {
    MseCtx *c = v;
    double s = 0;
    for (int i = 0; i < c->n; i++) s += (c->p[i] - c->t[i]) * (c->p[i] - c->t[i]);
    return s / c->divisor;
}

static void test_mse(void) {
    const int n = 2 * 1 * 8 * 8;
    float *p = frand(n, 0, 1), *t = frand(n, 0, 1), *d0 = frand(n, -1, 1), *d = fcopy(d0, n);
    Tensor tp = T4(p, 2, 1, 8, 8), tt = T4(t, 2, 1, 8, 8), td = T4(d, 2, 1, 8, 8);
    MseCtx c = {to_d(p, n), to_d(t, n), 3.0 * n, n};
    double want = mse_obj(&c) * c.divisor;
    CHECK_NEAR(mse_sum_forward(&tp, &tt), want, 0, 1e-12, "mse_sum_forward equals the double sum of squares");
    mse_sum_backward(&tp, &tt, c.divisor, &td);
    check_close_f32("mse_sum_backward dpred += 2 (p - t) / divisor (finite differences)", d,
                    fsum(d0, fd_gradient(mse_obj, &c, c.p, n), n), n, 1e-6, 1e-5);
}

/* ---------------------------------------------------------------------------------------------- */
/* Against PyTorch */

static float *fx(const StFile *f, const char *name, int64_t count) {
    const StTensor *t = st_find(f, name);
    if (!t || t->count != count) {
        CHECK(0, "fixture tensor %s with %lld elements present", name, (long long)count);
        return NULL;
    }
    return t->data;
}

static void torch_conv(const StFile *f) {
    const int B = 2, Cin = 3, Cout = 4, H = 5, W = 7;
    for (int k = 1; k <= 5; k += 2) {
        char nm[64], what[128];
        int64_t nx = B * Cin * H * W, nw = Cout * Cin * k * k, ny = B * Cout * H * W;
#define FX(field, count) (snprintf(nm, sizeof nm, "conv_k%d_" field, k), fx(f, nm, count))
        float *x = FX("x", nx), *w = FX("w", nw), *b = FX("b", Cout), *r = FX("r", ny), *y_want = FX("y", ny);
        float *dx_want = FX("dx", nx), *dw_want = FX("dw", nw), *db_want = FX("db", Cout);
#undef FX
        if (!x || !w || !b || !r || !y_want || !dx_want || !dw_want || !db_want) continue;
        float *y = fbuf(ny), *dx = fbuf(nx), *dw = fbuf(nw), *db = fbuf(Cout);
        Tensor tx = T4(x, B, Cin, H, W), tw = T4(w, Cout, Cin, k, k), tb = T1(b, Cout), ty = T4(y, B, Cout, H, W);
        Tensor tr = T4(r, B, Cout, H, W), tdx = T4(dx, B, Cin, H, W), tdw = T4(dw, Cout, Cin, k, k), tdb = T1(db, Cout);
        float *scratch = fbuf(conv2d_scratch_floats(&tx, k));
        conv_run(&tx, &tw, &tb, &ty, &tr, &tdx, &tdw, &tdb, scratch);
        /* float32 on both sides, sums of ≤ 75 (y, dx) or 70 (dw, db) terms of O(1) */
        snprintf(what, sizeof what, "conv2d k=%d y vs torch F.conv2d", k);
        check_close_f32(what, y, y_want, ny, 1e-5, 1e-5);
        snprintf(what, sizeof what, "conv2d k=%d dx vs torch autograd", k);
        check_close_f32(what, dx, dx_want, nx, 1e-5, 1e-5);
        snprintf(what, sizeof what, "conv2d k=%d dw vs torch autograd", k);
        check_close_f32(what, dw, dw_want, nw, 1e-5, 1e-5);
        snprintf(what, sizeof what, "conv2d k=%d db vs torch autograd", k);
        check_close_f32(what, db, db_want, Cout, 1e-5, 1e-5);
    }
}

static void torch_batchnorm(const StFile *f) {
    const int B = 3, C = 4, H = 5, W = 6;
    const int64_t n = B * C * H * W, ne = 2 * C * H * W;
    float *x = fx(f, "bn_x", n), *gamma = fx(f, "bn_gamma", C), *beta = fx(f, "bn_beta", C), *r = fx(f, "bn_r", n);
    float *rm0 = fx(f, "bn_rm0", C), *rv0 = fx(f, "bn_rv0", C), *y_want = fx(f, "bn_y", n);
    float *sm_want = fx(f, "bn_save_mean", C), *si_want = fx(f, "bn_save_invstd", C);
    float *rm1 = fx(f, "bn_rm1", C), *rv1 = fx(f, "bn_rv1", C), *dx_want = fx(f, "bn_dx", n);
    float *dg_want = fx(f, "bn_dgamma", C), *db_want = fx(f, "bn_dbeta", C);
    float *xe = fx(f, "bn_x_eval", ne), *ye_want = fx(f, "bn_y_eval", ne);
    if (!x || !gamma || !beta || !r || !rm0 || !rv0 || !y_want || !sm_want || !si_want || !rm1 || !rv1 || !dx_want ||
        !dg_want || !db_want || !xe || !ye_want)
        return;
    float *y = fbuf(n), *sm = fbuf(C), *si = fbuf(C), *rm = fcopy(rm0, C), *rv = fcopy(rv0, C), *ye = fbuf(ne);
    float *dx = fbuf(n), *dg = fbuf(C), *db = fbuf(C);
    Tensor tx = T4(x, B, C, H, W), tg = T1(gamma, C), tb = T1(beta, C), ty = T4(y, B, C, H, W), tr = T4(r, B, C, H, W);
    Tensor tsm = T1(sm, C), tsi = T1(si, C), trm = T1(rm, C), trv = T1(rv, C), tdx = T4(dx, B, C, H, W);
    Tensor tdg = T1(dg, C), tdb = T1(db, C), txe = T4(xe, 2, C, H, W), tye = T4(ye, 2, C, H, W);
    op_fill(&tdx, 0), op_fill(&tdg, 0), op_fill(&tdb, 0);
    batchnorm_forward_train(&tx, &tg, &tb, &ty, &tsm, &tsi, &trm, &trv, 0.1f, 1e-3f);
    batchnorm_backward(&tx, &tg, &tsm, &tsi, &tr, &tdx, &tdg, &tdb);
    batchnorm_forward_eval(&txe, &tg, &tb, &tye, &trm, &trv, 1e-3f);
    check_close_f32("batchnorm train y vs torch.native_batch_norm", y, y_want, n, 1e-5, 1e-5);
    check_close_f32("batchnorm save_mean vs torch", sm, sm_want, C, 1e-6, 1e-6);
    check_close_f32("batchnorm save_invstd vs torch", si, si_want, C, 1e-6, 1e-6);
    check_close_f32("batchnorm running_mean vs torch (momentum 0.1)", rm, rm1, C, 1e-6, 1e-6);
    check_close_f32("batchnorm running_var vs torch (unbiased)", rv, rv1, C, 1e-6, 1e-6);
    check_close_f32("batchnorm dx vs torch autograd", dx, dx_want, n, 1e-5, 1e-5);
    check_close_f32("batchnorm dgamma vs torch autograd", dg, dg_want, C, 1e-5, 1e-5);
    check_close_f32("batchnorm dbeta vs torch autograd", db, db_want, C, 1e-5, 1e-5);
    check_close_f32("batchnorm eval y vs torch F.batch_norm(training=False)", ye, ye_want, ne, 1e-5, 1e-5);
}

static void torch_lstm(const StFile *f) {
    const int B = 2, n = 3, H = 4, W = 5;
    const int64_t ng = B * 4 * n * H * W, nc = B * n * H * W;
    const char *tags[2] = {"sig_tanh", "hsig_relu"};
    const Activation gas[2] = {ACT_SIGMOID, ACT_HARD_SIGMOID}, cas[2] = {ACT_TANH, ACT_RELU};
    for (int v = 0; v < 2; v++) {
        char nm[64], what[128];
#define FX(field, count) (snprintf(nm, sizeof nm, "lstm_%s_" field, tags[v]), fx(f, nm, count))
        float *pre = FX("pre", ng), *cp = FX("c_prev", nc), *rh = FX("r_h", nc), *rc = FX("r_c", nc);
        float *g_want = FX("gates", ng), *c_want = FX("c", nc), *h_want = FX("h", nc);
        float *dpre_want = FX("dpre", ng), *dcp_want = FX("dc_prev", nc);
#undef FX
        if (!pre || !cp || !rh || !rc || !g_want || !c_want || !h_want || !dpre_want || !dcp_want) continue;
        float *g = fbuf(ng), *c = fbuf(nc), *h = fbuf(nc), *dpre = fbuf(ng), *dcp = fbuf(nc);
        Tensor tpre = T4(pre, B, 4 * n, H, W), tcp = T4(cp, B, n, H, W), trh = T4(rh, B, n, H, W);
        Tensor trc = T4(rc, B, n, H, W), tg = T4(g, B, 4 * n, H, W), tc = T4(c, B, n, H, W), th = T4(h, B, n, H, W);
        Tensor tdpre = T4(dpre, B, 4 * n, H, W), tdcp = T4(dcp, B, n, H, W);
        lstm_cell_forward(&tpre, &tcp, &tg, &tc, &th, gas[v], cas[v]);
        lstm_cell_backward(&tg, &tcp, &tc, &trh, &trc, &tdpre, &tdcp, gas[v], cas[v]);
        snprintf(what, sizeof what, "lstm_cell %s gates vs torch", tags[v]);
        check_close_f32(what, g, g_want, ng, 1e-6, 1e-6);
        snprintf(what, sizeof what, "lstm_cell %s c vs torch", tags[v]);
        check_close_f32(what, c, c_want, nc, 1e-6, 1e-6);
        snprintf(what, sizeof what, "lstm_cell %s h vs torch", tags[v]);
        check_close_f32(what, h, h_want, nc, 1e-6, 1e-6);
        snprintf(what, sizeof what, "lstm_cell %s dpre vs torch autograd", tags[v]);
        check_close_f32(what, dpre, dpre_want, ng, 1e-6, 1e-6);
        snprintf(what, sizeof what, "lstm_cell %s dc_prev vs torch autograd", tags[v]);
        check_close_f32(what, dcp, dcp_want, nc, 1e-6, 1e-6);
    }
}

/* Same hyperparameters as tests/reference/make_ops_fixture.py (OPT). */
static void torch_optim(const StFile *f) {
    const int n = 259;
    const char *names[5] = {"adam", "adamw", "sgd", "sgd_nesterov", "rmsprop"};
    float *p0 = fx(f, "opt_p0", n), *g[3] = {fx(f, "opt_g1", n), fx(f, "opt_g2", n), fx(f, "opt_g3", n)};
    if (!p0 || !g[0] || !g[1] || !g[2]) return;
    for (int o = 0; o < 5; o++) {
        float *p = fcopy(p0, n), *s1 = fbuf(n), *s2 = fbuf(n);
        Tensor tp = T1(p, n), ts1 = T1(s1, n), ts2 = T1(s2, n);
        op_fill(&ts1, 0), op_fill(&ts2, 0);
        if (o == 2 || o == 3) op_fill(&ts1, 1e3f); /* SGD's first step must set buf = grad, ignoring its content */
        for (int step = 1; step <= 3; step++) {
            Tensor tg = T1(g[step - 1], n);
            if (o <= 1) {
                AdamHyper h = {1e-3f, 0.9f, 0.999f, 1e-8f, o == 0 ? 1e-2f : 1e-1f, o == 1};
                adam_update(&tp, &tg, &ts1, &ts2, &h, step);
            } else if (o <= 3) {
                sgd_update(&tp, &tg, &ts1, 1e-2f, 0.9f, 1e-3f, o == 3, step);
            } else {
                rmsprop_update(&tp, &tg, &ts1, 1e-3f, 0.99f, 1e-8f, 1e-3f);
            }
            char nm[64], what[160];
            snprintf(nm, sizeof nm, "opt_%s_p%d", names[o], step);
            float *want = fx(f, nm, n);
            if (!want) break;
            int same = 0;
            for (int i = 0; i < n; i++) same += memcmp(&p[i], &want[i], sizeof(float)) == 0;
            snprintf(what, sizeof what, "%s step %d param vs torch.optim", names[o], step);
            check_close_f32(what, p, want, n, 1e-7, 1e-6);
            /* The update follows torch's float operation order, with fused multiply-adds where ATen's
             * vectorised (AVX2/AVX-512) kernels fuse, so it reproduces torch bit for bit. (A fixture
             * regenerated with a torch whose CPU kernels do not use FMA would round differently.) */
            CHECK(same == n, "%s step %d param is bit-identical to torch.optim (%d/%d elements)", names[o], step, same, n);
        }
    }
}

static void test_against_torch(void) {
    StFile f;
    if (st_load(FIXTURE, &f)) {
        CHECK(0, "load %s: %s", FIXTURE, rr_last_error());
        return;
    }
    torch_conv(&f);
    torch_batchnorm(&f);
    torch_lstm(&f);
    torch_optim(&f);
    st_free(&f);
}

/* ---------------------------------------------------------------------------------------------- */

int main(void) {
    TEST_BEGIN("ops");
    rr_set_threads(2);
    test_tensor_and_arena();
    test_elementwise();
    test_dispatch();
    test_select();
    test_activations();
    test_conv_fd();
    test_conv_determinism();
    test_lstm_fd();
    test_batchnorm_fd();
    test_mse();
    test_against_torch();
    pool_free();
    return tests_exit();
}
