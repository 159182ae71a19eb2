/* main.c — the build/rnnreg command line: dispatches to one subcommand per job. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "blas.h"
#include "commands.h"
#include "common.h"
#include "device.h"

#ifdef _OPENMP
#include <omp.h>
#endif

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
    {"predict", cmd_predict, "predicted future frames of a checkpoint as (10, N, 64, 64) float32 .npy"},
    {"info", cmd_info, "print build facts: BLAS, threads, CUDA"},
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
#ifdef _OPENMP
    printf("openmp threads: %d\n", omp_get_max_threads());
#endif
    if (device_cuda_compiled())
        printf("cuda: compiled in; %d device(s) visible\n", device_cuda_count());
    else
        printf("cuda: not compiled in\n");
    return 0;
}

/* libgomp reads OMP_WAIT_POLICY when it loads, before main(). Its default lets idle OpenMP threads
 * spin after every parallel region, and on a 2-core machine they then fight OpenBLAS's own threads
 * for the cores (measured: training 8x slower). So unless the user chose a policy, re-run ourselves
 * once with the passive policy. */
static void ensure_passive_openmp(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the default policy */
}

int main(int argc, char **argv) {
    ensure_passive_openmp(argv);
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
