/* main.c — the build/rnnreg command line: dispatches to one subcommand per job. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "blas.h"
#include "commands.h"
#include "common.h"
#include "device.h"
#include "ops.h"
#include "portable_math.h"
#include "vector_math.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#include <xmmintrin.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    {"mmnist", cmd_mmnist, "generate Moving MNIST sequences (bouncing digits) as .npy"},
    {"metrics", cmd_metrics, "per-frame MSE, MAE, PSNR, SSIM of predictions against truth (JSON)"},
    {"strip", cmd_strip, "draw frames of (T, N, 64, 64) arrays as a PNG picture strip"},
    {"bench", cmd_bench, "time training steps and sgemm (throughput; see bench/README.md)"},
    {"train", cmd_train, "train a model from a config file: checkpoints, log, test metrics, predictions"},
    {"eval", cmd_eval, "evaluate a checkpoint: per-frame test metrics (JSON)"},
    {"predict", cmd_predict, "predicted future frames of a checkpoint as (seq_len - input_frames, N, 64, 64) float32 .npy"},
    {"info", cmd_info, "print build facts: BLAS, conv engine, threads, CUDA"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *out) {
    fprintf(out, "usage: rnnreg <command> [options]   (rnnreg help <command> for its options)\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int cmd_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("blas: %s\n", rr_blas_name());
    const char *fallback = getenv("RNNREG_BLAS_FALLBACK");
    if (fallback)
        printf("blas core: %s (OpenBLAS picked %s; OPENBLAS_CORETYPE=%s set by rnnreg)\n", rr_blas_core(), fallback,
               getenv("OPENBLAS_CORETYPE"));
    else
        printf("blas core: %s\n", rr_blas_core());
    const char *bf16 = device_cpu_bf16_isa();
    printf("conv engine: %s (bf16: %s)\n", conv_cpu_engine(),
           strcmp(conv_cpu_engine(), "onednn") ? "needs onednn" : bf16 ? bf16 : "no bf16 instructions");
#ifdef _OPENMP
    printf("openmp threads: %d\n", omp_get_max_threads());
#endif
    const unsigned csr = _mm_getcsr();
    printf("denormals: %s\n", (csr & 0x8040) == 0x8040 ? "flushed to zero (FTZ + DAZ)" : "kept (IEEE)");
    printf("math: %s\n", portable_math_enabled() ? "portable (own exp, tanh, log10, pow, sin, cos: the same bits on every x86-64 CPU)"
                                                 : "glibc libm (its FMA or SSE2 versions, by this CPU)");
    printf("vector math: %s\n", vm_path());
    if (device_cuda_compiled())
        printf("cuda: compiled in; %d device(s) visible\n", device_cuda_count());
    else
        printf("cuda: not compiled in\n");
    return 0;
}

/* The CPU's feature flags: the first "flags" line of /proc/cpuinfo ("" when there is none). */
static void cpu_flags(char *buf, size_t n) {
    buf[0] = '\0';
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, fp) > 0)
        if (!strncmp(line, "flags", 5)) {
            const char *colon = strchr(line, ':');
            snprintf(buf, n, "%s", colon ? colon + 1 : "");
            break;
        }
    free(line);
    fclose(fp);
}

/* Two libraries read their settings from the environment when they load, before main(), so a wrong
 * choice can only be undone by running ourselves again with the setting made:
 * - libgomp's OMP_WAIT_POLICY: its default lets idle OpenMP threads spin after every parallel region,
 *   and on a 2-core machine they then fight OpenBLAS's own threads for the cores (measured: training
 *   8x slower). Unless the user chose a policy: passive.
 * - OpenBLAS's OPENBLAS_CORETYPE: a DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU's model number
 *   and falls back to generic SSE3 ones on a CPU newer than its tables (blas.h rr_blas_core_advice).
 *   Unless the user chose a core: the one the CPU's flags call for; RNNREG_BLAS_FALLBACK keeps the
 *   core OpenBLAS had picked, for the note below. (RNNREG_TEST_BLAS_CORE stands in for OpenBLAS's pick
 *   in tests/test_blas_core.sh: on a CPU that OpenBLAS knows, the fallback cannot happen by itself.)
 * One exec for both; when exec fails (no /proc) we carry on as we are. */
static void reexec_with_library_settings(char **argv) {
    int again = 0;
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        again = 1;
    }
    if (!getenv("OPENBLAS_CORETYPE")) {
        const char *staged = getenv("RNNREG_TEST_BLAS_CORE"), *picked = staged ? staged : rr_blas_core();
        char flags[8192];
        cpu_flags(flags, sizeof flags);
        const char *better = rr_blas_core_advice(picked, flags);
        if (better) {
            setenv("RNNREG_BLAS_FALLBACK", picked, 1);
            setenv("OPENBLAS_CORETYPE", better, 1);
            again = 1;
        }
    }
    if (!again) return;
    execv("/proc/self/exe", argv);
    unsetenv("RNNREG_BLAS_FALLBACK"); /* exec failed: the library runs the core it picked */
}

/* Denormal floats flushed to zero (MXCSR FTZ, bit 15) and read as zero (DAZ, bit 6), as
 * torch.set_flush_denormal(True) does. A model that has collapsed to the all-zero prediction (the Keras
 * ConvLSTM's relu cells and batch norm) feeds tiny activations through every product, and on the Intel
 * Xeon each denormal operand costs a microcode assist: `perf` put 87 % of such a run in the sgemm
 * kernel, and flushing made its steps 4-6x faster with the same loss to 10 digits
 * (experiments/scales/study/PROBES.md). Set before any thread of ours exists, so OpenMP's (and
 * oneDNN's, which runs on it) inherit it (pthread_create copies the floating-point environment);
 * OpenBLAS's own pthreads pool, made when the library loads, keeps the default, so with the im2col
 * engine on more than one thread part of each product still sees denormals (the results stay
 * deterministic for a thread count). The portable build (make PORTABLE=1, docs/portable.md) keeps IEEE
 * gradual underflow instead: which results FTZ flushes is not IEEE arithmetic, and a study-size
 * PredRNN++ run under qemu's emulated CPU flushed one gradient term that the host kept. */
static void flush_denormals(void) {
    if (!portable_math_enabled()) _mm_setcsr(_mm_getcsr() | 0x8040);
}

int main(int argc, char **argv) {
    reexec_with_library_settings(argv);
    flush_denormals();
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *name = argv[1];
    int help = 0;
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        name = argv[2];
        help = 1;
    }
    for (int i = 0; i < n_commands; i++) {
        if (strcmp(name, commands[i].name)) continue;
        if (help) {
            char *hargv[] = {argv[2], (char *)"--help", NULL};
            return commands[i].run(2, hargv);
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "rnnreg: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
