/* optimizer.c — optimizer state over all parameters, the update loop, global gradient-norm clipping
 * and the learning-rate schedules (PyTorch 1.13 semantics; see optimizer.h). */
#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ops.h"

int optimizer_create(Optimizer *o, const Config *c, Model *m) {
    memset(o, 0, sizeof *o);
    if (!strcmp(c->optimizer, "adam")) o->kind = OPTIM_ADAM;
    else if (!strcmp(c->optimizer, "adamw")) o->kind = OPTIM_ADAMW;
    else if (!strcmp(c->optimizer, "sgd")) o->kind = OPTIM_SGD;
    else if (!strcmp(c->optimizer, "rmsprop")) o->kind = OPTIM_RMSPROP;
    else return rr_error("optimizer: '%s' is unknown", c->optimizer);
    o->beta1 = (float)c->beta1;
    o->beta2 = (float)c->beta2;
    o->eps = (float)c->eps;
    o->weight_decay = (float)c->weight_decay;
    o->momentum = (float)c->momentum;
    o->rms_alpha = (float)c->rms_alpha;
    o->nesterov = c->nesterov;
    o->n_params = model_num_params(m);
    o->n_slots = o->kind == OPTIM_ADAM || o->kind == OPTIM_ADAMW ? 2
               : o->kind == OPTIM_RMSPROP                       ? 1
                                                                : (o->momentum != 0.0f);
    int n = o->n_params * o->n_slots;
    o->state = rr_calloc((size_t)(n ? n : 1), sizeof *o->state);
    if (n == 0) return 0;
    int device = model_param(m, 0)->device;
    /* plan, allocate (zeroed), hand out the same views */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) arena_init_plan(&o->arena, device);
        for (int i = 0; i < o->n_params; i++) {
            const Tensor *p = model_param(m, i);
            for (int s = 0; s < o->n_slots; s++) o->state[i * o->n_slots + s] = arena_tensor(&o->arena, p->ndim, p->shape);
        }
        if (pass == 0) {
            if (arena_allocate(&o->arena)) {
                free(o->state);
                o->state = NULL;
                return -1;
            }
            arena_rewind(&o->arena);
        }
    }
    return 0;
}

void optimizer_free(Optimizer *o) {
    if (o->n_params * o->n_slots > 0) arena_free(&o->arena);
    free(o->state);
    memset(o, 0, sizeof *o);
}

const char *optimizer_slot_name(const Optimizer *o, int slot) {
    switch (o->kind) {
    case OPTIM_ADAM:
    case OPTIM_ADAMW: return slot == 0 ? "exp_avg" : "exp_avg_sq";
    case OPTIM_SGD: return "momentum_buffer";
    case OPTIM_RMSPROP: return "square_avg";
    }
    return "?";
}

Tensor *optimizer_state(Optimizer *o, int param, int slot) { return &o->state[param * o->n_slots + slot]; }

void optimizer_step(Optimizer *o, Model *m, double lr) {
    o->step++;
    AdamHyper h = {(float)lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->kind == OPTIM_ADAMW};
    for (int i = 0; i < o->n_params; i++) {
        Tensor *p = model_param(m, i), *g = model_grad(m, i);
        switch (o->kind) {
        case OPTIM_ADAM:
        case OPTIM_ADAMW: adam_update(p, g, optimizer_state(o, i, 0), optimizer_state(o, i, 1), &h, o->step); break;
        case OPTIM_SGD:
            sgd_update(p, g, o->n_slots ? optimizer_state(o, i, 0) : NULL, (float)lr, o->momentum, o->weight_decay,
                       o->nesterov, o->step);
            break;
        case OPTIM_RMSPROP:
            rmsprop_update(p, g, optimizer_state(o, i, 0), (float)lr, o->rms_alpha, o->eps, o->weight_decay);
            break;
        }
    }
}

double grad_global_norm(Model *m) {
    const int n = model_num_params(m);
    const Tensor **gs = rr_malloc(sizeof *gs * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) gs[i] = model_grad(m, i);
    const double sum = op_sum_squares_many(gs, n);
    free(gs);
    return sqrt(sum);
}

int grad_clip(Model *m, double norm, double max_norm) {
    if (max_norm <= 0) return 0;
    double coef = max_norm / (norm + 1e-6); /* torch.nn.utils.clip_grad_norm_ (1.13) */
    if (!(coef < 1.0)) return 0;
    for (int i = 0; i < model_num_params(m); i++) op_scale(model_grad(m, i), (float)coef);
    return 1;
}

int schedule_init(LrSchedule *s, const Config *c) {
    memset(s, 0, sizeof *s);
    if (!strcmp(c->lr_schedule, "constant")) s->kind = SCHED_CONSTANT;
    else if (!strcmp(c->lr_schedule, "step")) s->kind = SCHED_STEP;
    else if (!strcmp(c->lr_schedule, "plateau")) s->kind = SCHED_PLATEAU;
    else return rr_error("lr_schedule: '%s' is unknown", c->lr_schedule);
    s->lr = c->lr;
    s->step_epochs = c->lr_step_epochs;
    s->gamma = c->lr_gamma;
    s->patience = c->plateau_patience;
    s->cooldown = c->plateau_cooldown;
    s->rel = !strcmp(c->plateau_threshold_mode, "rel");
    s->factor = c->plateau_factor;
    s->threshold = c->plateau_min_delta;
    s->min_lr = c->min_lr;
    s->best = INFINITY;
    return 0;
}

int schedule_epoch_end(LrSchedule *s, int epochs_done, double val_loss) {
    double old = s->lr;
    if (s->kind == SCHED_STEP) {
        if (epochs_done > 0 && epochs_done % s->step_epochs == 0) s->lr = s->lr * s->gamma;
    } else if (s->kind == SCHED_PLATEAU) {
        /* torch.optim.lr_scheduler.ReduceLROnPlateau.step, mode 'min' */
        int better = s->rel ? val_loss < s->best * (1.0 - s->threshold) : val_loss < s->best - s->threshold;
        if (better) {
            s->best = val_loss;
            s->num_bad_epochs = 0;
        } else {
            s->num_bad_epochs++;
        }
        if (s->cooldown_counter > 0) {
            s->cooldown_counter--;
            s->num_bad_epochs = 0;
        }
        if (s->num_bad_epochs > s->patience) {
            double reduced = fmax(s->lr * s->factor, s->min_lr);
            if (s->lr - reduced > 1e-8) s->lr = reduced;
            s->cooldown_counter = s->cooldown;
            s->num_bad_epochs = 0;
        }
    }
    return s->lr != old;
}
