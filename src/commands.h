/* commands.h — the subcommands of build/rnnreg. Each returns the process exit status. */
#ifndef RNNREG_COMMANDS_H
#define RNNREG_COMMANDS_H

int cmd_mmnist(int argc, char **argv);   /* generate Moving MNIST sequences (mmnist.c) */
int cmd_metrics(int argc, char **argv);  /* per-frame MSE/MAE/PSNR/SSIM of two arrays (metrics.c) */
int cmd_strip(int argc, char **argv);    /* draw frames of .npy arrays as a PNG strip (image.c) */
int cmd_bench(int argc, char **argv);    /* training-step and sgemm throughput (bench.c) */
int cmd_info(int argc, char **argv);     /* build facts: BLAS, threads, CUDA (main.c) */
int cmd_train(int argc, char **argv);    /* train a model from a config (train.c) */
int cmd_eval(int argc, char **argv);     /* test metrics of a checkpoint (train.c) */
int cmd_predict(int argc, char **argv);  /* predicted frames of a checkpoint as .npy (train.c) */

#endif
