/* optimizer.h — the optimizer over all of a model's parameters (state tensors on the model's device,
 * the per-tensor update ops of ops.h), global gradient-norm clipping, and the learning-rate schedules.
 * Semantics are PyTorch 1.13's (torch.optim.Adam/AdamW/SGD/RMSprop, torch.nn.utils.clip_grad_norm_,
 * torch.optim.lr_scheduler.StepLR/ReduceLROnPlateau); the differences are noted where they occur. */
#ifndef RNNREG_OPTIMIZER_H
#define RNNREG_OPTIMIZER_H

#include <stdint.h>

#include "config.h"
#include "model.h"
#include "tensor.h"

typedef enum { OPTIM_ADAM = 0, OPTIM_ADAMW, OPTIM_SGD, OPTIM_RMSPROP } OptimKind;

#define OPTIM_MAX_SLOTS 2

typedef struct {
    OptimKind kind;
    float beta1, beta2, eps, weight_decay, momentum, rms_alpha;
    int nesterov;
    int64_t step;        /* updates done so far (the next update is step + 1, as torch's state['step']) */
    int n_params;
    int n_slots;         /* state tensors per parameter: adam/adamw 2, sgd 1 with momentum else 0, rmsprop 1 */
    Tensor *state;       /* [n_params * n_slots], slot-major per parameter: state[i * n_slots + s] */
    Arena arena;         /* the state's memory on the model's device (zeroed) */
} Optimizer;

/* State for every parameter of m, zeroed, step 0. -1 + rr_error on an unknown optimizer name. */
int optimizer_create(Optimizer *o, const Config *c, Model *m);
void optimizer_free(Optimizer *o);

/* PyTorch's state key of slot s ("exp_avg", "exp_avg_sq", "momentum_buffer", "square_avg"). */
const char *optimizer_slot_name(const Optimizer *o, int slot);
Tensor *optimizer_state(Optimizer *o, int param, int slot);

/* One update of every parameter with learning rate lr: step += 1, then the per-tensor op. */
void optimizer_step(Optimizer *o, Model *m, double lr);

/* Global L2 norm of all gradients, sqrt(Σ_i Σ g_i²), accumulated in double in parameter order. */
double grad_global_norm(Model *m);
/* clip_grad_norm_: if max_norm > 0 and coef = max_norm / (norm + 1e-6) < 1, every gradient *= coef.
 * norm is the value from grad_global_norm (PyTorch computes it in float32; we in double). Returns 1
 * if the gradients were scaled. */
int grad_clip(Model *m, double norm, double max_norm);

/* Learning-rate schedule, stepped once per epoch (after validation). */
typedef enum { SCHED_CONSTANT = 0, SCHED_STEP, SCHED_PLATEAU } SchedKind;

typedef struct {
    SchedKind kind;
    double lr;                 /* current learning rate */
    /* step */
    int step_epochs;
    double gamma;
    /* plateau (ReduceLROnPlateau, mode 'min') */
    int patience, cooldown, rel;
    double factor, threshold, min_lr;
    double best;               /* best validation loss seen (+inf at the start) */
    int num_bad_epochs, cooldown_counter;
} LrSchedule;

int schedule_init(LrSchedule *s, const Config *c);
/* End of epoch `epochs_done` (1-based count of finished epochs) with validation loss val_loss:
 *   step:    StepLR, lr *= gamma when epochs_done % step_epochs == 0 (chainable form, as torch);
 *   plateau: ReduceLROnPlateau.step(val_loss): better = val < best·(1 - threshold) (rel) or
 *            val < best - threshold (abs); bad epochs counted, reset in cooldown; when
 *            num_bad_epochs > patience: lr = max(lr·factor, min_lr) if that lowers lr by > 1e-8,
 *            cooldown_counter = cooldown, num_bad_epochs = 0.
 * Returns 1 when the learning rate changed. */
int schedule_epoch_end(LrSchedule *s, int epochs_done, double val_loss);

#endif
