/* profile.h — per-op timers for `rnnreg bench --profile`: the calls and wall time of every op of
 * ops_list.h (counted in the op's public entry, ops_dispatch.c), the FLOPs of the convolutions, and a
 * report of where a training step's time goes (each op's self time, the rest as the model's non-op
 * code). One global switch; with it off an op pays one branch. Not thread-safe: ops are called from
 * one thread (the models' loops), their OpenMP regions run inside the timed call. On a GPU each timed
 * op waits for the device before reading the clock, so times are the op's own, not its launch's. */
#ifndef RNNREG_PROFILE_H
#define RNNREG_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "ops_list.h"

/* One id per op of ops_list.h, in list order. */
#define PROFILE_ID_VOID(name, params, args) PROFILE_OP_##name,
#define PROFILE_ID_VALUE(type, name, params, args) PROFILE_OP_##name,
enum { RR_OPS(PROFILE_ID_VOID, PROFILE_ID_VALUE) PROFILE_N_OPS };
#undef PROFILE_ID_VOID
#undef PROFILE_ID_VALUE

/* Nonzero while op timing is on (profile_enable). Read by every op entry. */
extern int profile_on;

/* What was counted for one op since profile_reset. */
typedef struct {
    int64_t calls;
    double self_s;     /* wall time inside the op, less the time of ops it called */
    double self_cpu_s; /* the same in the process's CPU time (all threads): unlike wall time, not
                        * inflated while other processes hold the cores */
    double flops;      /* 2 x multiply-adds (the convolutions; 0 for every other op) */
} ProfileStat;

/* The clocks when an op was entered. */
typedef struct {
    double wall, cpu;
} ProfileMark;

void profile_enable(int on);
/* Zero every counter. */
void profile_reset(void);

/* The entry's timer: profile_enter before the op's call, profile_leave after it with the op's id and
 * FLOPs. Nested op calls are charged to the inner op only. */
ProfileMark profile_enter(void);
void profile_leave(int op, ProfileMark start, double flops);

/* FLOPs of a convolution of x (B, Cin, H, W) with w (Cout, Cin, k, k) (same padding): 2·B·Cout·Cin·k²·H·W
 * per product; conv2d_backward makes one product for dx and one for dw where they are asked for. */
double profile_conv_flops(const Tensor *x, const Tensor *w);

/* The counters of op `name` (NULL if no op has that name); the name of op id i. */
const ProfileStat *profile_stat(const char *name);
const char *profile_op_name(int op);
/* Time spent in ops called outside any other op (the sum of all self times), seconds: wall / CPU. */
double profile_ops_seconds(void);
double profile_ops_cpu_seconds(void);
/* The process's CPU time so far (all threads), seconds. */
double profile_cpu_now(void);

/* The report: one row per op that ran (calls, wall ms, % of the step's wall time, CPU ms, % of the
 * step's CPU time, GFLOP/s for the convolutions from wall time), all per step, sorted by wall time,
 * then the non-op code (step less all ops) and the step. step_seconds / step_cpu_seconds are the
 * wall / process CPU time of the `steps` steps the counters cover. */
void profile_report(FILE *out, double step_seconds, double step_cpu_seconds, int steps);

#endif
