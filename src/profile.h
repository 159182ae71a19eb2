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
    double self_s;  /* wall time inside the op, less the time of ops it called */
    double flops;   /* 2 x multiply-adds (the convolutions; 0 for every other op) */
} ProfileStat;

void profile_enable(int on);
/* Zero every counter. */
void profile_reset(void);

/* The entry's timer: profile_enter before the op's call, profile_leave after it with the op's id and
 * FLOPs. Nested op calls are charged to the inner op only. */
double profile_enter(void);
void profile_leave(int op, double t0, double flops);

/* FLOPs of a convolution of x (B, Cin, H, W) with w (Cout, Cin, k, k) (same padding): 2·B·Cout·Cin·k²·H·W
 * per product; conv2d_backward makes one product for dx and one for dw where they are asked for. */
double profile_conv_flops(const Tensor *x, const Tensor *w);

/* The counters of op `name` (NULL if no op has that name); the name of op id i. */
const ProfileStat *profile_stat(const char *name);
const char *profile_op_name(int op);
/* Time spent in ops called outside any other op (the sum of all self times), seconds. */
double profile_ops_seconds(void);

/* The report: one row per op that ran (calls, total ms, % of the step time, GFLOP/s for the
 * convolutions), sorted by time, then the non-op code (step time less all op time) and the total.
 * step_seconds is the wall time of the `steps` steps the counters cover. */
void profile_report(FILE *out, double step_seconds, int steps);

#endif
