/* profile.c — the counters and the report of the per-op timers (profile.h): a self-time stack so an
 * op that calls another op is charged only for its own work, and the sorted table that
 * `rnnreg bench --profile` prints. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

int profile_on;

#define PROFILE_NAME_VOID(name, params, args) #name,
#define PROFILE_NAME_VALUE(type, name, params, args) #name,
static const char *const op_names[PROFILE_N_OPS] = {RR_OPS(PROFILE_NAME_VOID, PROFILE_NAME_VALUE)};

static ProfileStat stats[PROFILE_N_OPS];

/* Time of the ops called inside the op at each nesting depth (depth 0: outside any op). */
#define PROFILE_MAX_DEPTH 16
static double child_s[PROFILE_MAX_DEPTH + 1], child_cpu_s[PROFILE_MAX_DEPTH + 1];
static int depth;

void profile_enable(int on) { profile_on = on != 0; }

void profile_reset(void) {
    memset(stats, 0, sizeof stats);
    memset(child_s, 0, sizeof child_s);
    memset(child_cpu_s, 0, sizeof child_cpu_s);
    depth = 0;
}

double profile_cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ProfileMark profile_enter(void) {
    if (depth < PROFILE_MAX_DEPTH) {
        depth++;
        child_s[depth] = child_cpu_s[depth] = 0.0;
    } else {
        depth++; /* deeper than we track: charged as self time of the op at the limit */
    }
    return (ProfileMark){rr_now(), profile_cpu_now()};
}

void profile_leave(int op, ProfileMark start, double flops) {
    const double dt = rr_now() - start.wall, dc = profile_cpu_now() - start.cpu;
    const int tracked = depth <= PROFILE_MAX_DEPTH;
    const double inner = tracked ? child_s[depth] : 0.0, inner_cpu = tracked ? child_cpu_s[depth] : 0.0;
    depth--;
    if (depth >= 0 && depth <= PROFILE_MAX_DEPTH) {
        child_s[depth] += dt;
        child_cpu_s[depth] += dc;
    }
    if (op < 0 || op >= PROFILE_N_OPS) return;
    stats[op].calls++;
    stats[op].self_s += dt - inner;
    stats[op].self_cpu_s += dc - inner_cpu;
    stats[op].flops += flops;
}

double profile_conv_flops(const Tensor *x, const Tensor *w) {
    return 2.0 * x->shape[0] * (double)w->shape[0] * w->shape[1] * w->shape[2] * w->shape[3] * x->shape[2] *
           x->shape[3];
}

const char *profile_op_name(int op) { return op >= 0 && op < PROFILE_N_OPS ? op_names[op] : NULL; }

const ProfileStat *profile_stat(const char *name) {
    for (int i = 0; i < PROFILE_N_OPS; i++)
        if (!strcmp(op_names[i], name)) return &stats[i];
    return NULL;
}

double profile_ops_seconds(void) {
    double s = 0.0;
    for (int i = 0; i < PROFILE_N_OPS; i++) s += stats[i].self_s;
    return s;
}

double profile_ops_cpu_seconds(void) {
    double s = 0.0;
    for (int i = 0; i < PROFILE_N_OPS; i++) s += stats[i].self_cpu_s;
    return s;
}

static int by_time_desc(const void *a, const void *b) {
    const double x = stats[*(const int *)a].self_s, y = stats[*(const int *)b].self_s;
    if (x != y) return x < y ? 1 : -1;
    return *(const int *)a - *(const int *)b;
}

void profile_report(FILE *out, double step_seconds, double step_cpu_seconds, int steps) {
    int order[PROFILE_N_OPS], n = 0;
    for (int i = 0; i < PROFILE_N_OPS; i++)
        if (stats[i].calls) order[n++] = i;
    qsort(order, (size_t)n, sizeof *order, by_time_desc);
    const double per = steps > 0 ? 1.0 / steps : 0.0, pct = step_seconds > 0 ? 100.0 / step_seconds : 0.0;
    const double cpct = step_cpu_seconds > 0 ? 100.0 / step_cpu_seconds : 0.0;
    fprintf(out, "profile: %d timed step%s, %.3f ms wall and %.3f ms CPU per step; per step:\n", steps,
            steps == 1 ? "" : "s", 1e3 * step_seconds * per, 1e3 * step_cpu_seconds * per);
    fprintf(out, "  %-36s %8s %10s %6s %10s %6s %8s\n", "op", "calls", "ms", "%step", "cpu_ms", "%cpu", "GFLOP/s");
    for (int k = 0; k < n; k++) {
        const ProfileStat *s = &stats[order[k]];
        fprintf(out, "  %-36s %8.1f %10.3f %5.1f%% %10.3f %5.1f%%", op_names[order[k]], (double)s->calls * per,
                1e3 * s->self_s * per, s->self_s * pct, 1e3 * s->self_cpu_s * per, s->self_cpu_s * cpct);
        if (s->flops > 0 && s->self_s > 0) fprintf(out, " %8.2f", s->flops / s->self_s * 1e-9);
        fputc('\n', out);
    }
    const double rest = step_seconds - profile_ops_seconds(), rest_cpu = step_cpu_seconds - profile_ops_cpu_seconds();
    fprintf(out, "  %-36s %8s %10.3f %5.1f%% %10.3f %5.1f%%\n", "(non-op code)", "", 1e3 * rest * per, rest * pct,
            1e3 * rest_cpu * per, rest_cpu * cpct);
    fprintf(out, "  %-36s %8s %10.3f %5.1f%% %10.3f %5.1f%%\n", "(step)", "", 1e3 * step_seconds * per, 100.0,
            1e3 * step_cpu_seconds * per, 100.0);
}
