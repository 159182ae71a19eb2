/* main.c — the build/rnnreg command line: dispatches to one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "blas.h"
#include "commands.h"
#include "common.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef RR_USE_CUDA
#include "cuda_backend.h"
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
#ifdef RR_USE_CUDA
    int n = rr_cuda_device_count();
    printf("cuda: compiled in; %d device(s) visible\n", n);
#else
    printf("cuda: not compiled in\n");
#endif
    return 0;
}

int main(int argc, char **argv) {
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
