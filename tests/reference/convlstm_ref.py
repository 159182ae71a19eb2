"""convlstm_ref.py — PyTorch reference of rnnreg's ConvLSTM model (src/convlstm.c), written from the
equations, not from the C code, so tests/test_convlstm.c can compare tensor by tensor.

Model (Shi et al., "Convolutional LSTM Network", NeurIPS 2015, without peepholes = Keras ConvLSTM2D,
keras-team/keras keras/src/layers/rnn/conv_lstm.py; stacked as in keras-io examples/vision/conv_lstm.py):
  per layer l and step t, gate order i, f, g, o (Keras' i, f, c, o):
    pre = conv_x(x_t) + b + conv_h(h_{t-1})        (conv_h has no bias; "same" zero padding)
    i, f, o = gate_act(.), g = cell_act(.), c = f c_{t-1} + i g, h = o cell_act(c)
  layer 0 reads the (patched) frame, layer l > 0 reads BN(h of layer l-1) (BN after every layer but the
  last when batchnorm is on; statistics per time step, PyTorch BatchNorm2d semantics).
  head on the top layer's h: conv2d | conv3d_causal (taps t-2, t-1, t; zeros before step 0) |
  conv3d_centered (taps t-1, t, t+1, Keras Conv3D padding="same" over the sequence).
Sequences are time-major: frames (T, B, C, H, W); step t reads input frame t and predicts frame t+1.

State-dict names (= rnnreg checkpoint names): cells.L.conv_x.weight (4n, Cin, k, k), cells.L.conv_x.bias
(4n), cells.L.conv_h.weight (4n, n, k, k), bns.L.weight / bias / running_mean / running_var (n),
head.weight ((C, n, k, k) for conv2d, (C, n, 3, k, k) for the Conv3d heads), head.bias (C).
BN: by default the module below, without PyTorch's int64 num_batches_tracked buffer (the committed
fixtures were made with it and hold no such tensor); stock_bn=True uses torch.nn.BatchNorm2d itself,
whose state_dict has exactly the tensors of an rnnreg checkpoint (which holds bns.L.num_batches_tracked),
so load_state_dict(strict=True) takes a checkpoint as it is.

Regularizers (src/regularize.h, docs/regularizers.md; all off by default, training mode only,
inverted masks m ∈ {0, 1/(1-p)} drawn by mask_fn(layer, tensor, step, shape, p), tensor ids as
regularize.h REG_T_*; the fixture script injects rnnreg's Philox masks):
  dropout (Zaremba): x of every layer ⊙ mask(l, DROP_IN, t); the top h ⊙ mask(L-1, DROP_OUT, t) before
    the head (the carried h, c are never masked)
  rec_dropout (Semeniuta): c = f c_prev + i (g ⊙ mask(l, REC_G, t or 0 per sequence))
  var_dropout_x / _h (Gal, Keras ConvLSTM2D dropout / recurrent_dropout): gate j's conv reads
    x ⊙ mask(l, VAR_X, j), h_prev ⊙ mask(l, VAR_H, j), masks fixed over the sequence
  layer_norm (Ba et al.): pre = LN_x(conv_x(x)) + LN_h(conv_h(h_prev)) + b (conv_x without its bias,
    h_{-1} = 0 so LN_h = its offset at t = 0), h = o act(LN_c(c)); c itself is carried unnormalised;
    LN = tensor layer norm (per sample over C, H, W, per-channel gain 1 / offset 0, eps 1e-5);
    state-dict names cells.L.ln_x / ln_h / ln_c .weight, .bias
  zoneout_c / _h (Krueger et al.): c = d ⊙ c_prev + (1 - d) ⊙ c_hat, h = d' ⊙ h_prev + (1 - d') ⊙ h_hat with
    h_hat = o act(c_hat) from the un-zoned c_hat; d = zone_fn(l, ZONE_C, t), d' = zone_fn(l, ZONE_H, t)
    binary keep masks (1 with probability p) in training, d = p (the expectation) in evaluation;
    states before step 0 are zeros
  weight_drop (Merity et al. WeightDrop): conv_h uses weight ⊙ mask(l, WDROP, 0), one mask per forward
    call (all steps and samples), the raw weight in evaluation
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# regularize.h tensor ids
DROP_IN, DROP_OUT, REC_G, REC_GG, VAR_X, VAR_H, ZONE_C, ZONE_H, ZONE_M, WDROP = range(10)
LN_EPS = 1e-5


def torch_mask(layer, tensor, step, shape, p):
    """Default mask source (independent Bernoulli, inverted scaling)."""
    return (torch.rand(shape) >= p).float() / (1.0 - p)


def torch_zone(layer, tensor, step, shape, p):
    """Default zoneout mask source: 1 (keep the old value) with probability p."""
    return (torch.rand(shape) < p).float()


class TensorLayerNorm(nn.Module):
    """Per sample over (C, H, W), biased variance, per-channel gain/offset (src/layernorm.h)."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(var + LN_EPS) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def gate_conv(x, masks, weight, bias, pad):
    """Convolution whose gate block j reads x ⊙ masks[j] (masks None: plain conv)."""
    if masks is None:
        return F.conv2d(x, weight, bias, padding=pad)
    n = weight.shape[0] // len(masks)
    return torch.cat([F.conv2d(x * m, weight[j * n:(j + 1) * n], None if bias is None else bias[j * n:(j + 1) * n],
                               padding=pad) for j, m in enumerate(masks)], dim=1)


def activation(name):
    if name == "sigmoid":
        return torch.sigmoid
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return torch.relu
    if name == "identity":
        return lambda x: x
    if name == "hard_sigmoid":
        # tf.keras 2 backend.hard_sigmoid: clip(0.2 x + 0.5, 0, 1)
        return lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0)
    raise ValueError("unknown activation " + name)


class BatchNorm(nn.Module):
    """BatchNorm2d over (B, H, W) per channel, without the int64 num_batches_tracked buffer."""

    def __init__(self, n, momentum, eps):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        # F.batch_norm: training normalises with the biased batch variance and updates the running
        # variance with the unbiased one, running = (1 - momentum) running + momentum stat.
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)


def make_bn(n, momentum, eps, stock=False):
    """The BN of one layer: torch.nn.BatchNorm2d itself (stock, with num_batches_tracked), or the same
    computation without that buffer."""
    return nn.BatchNorm2d(n, eps=eps, momentum=momentum) if stock else BatchNorm(n, momentum, eps)


class Cell(nn.Module):
    def __init__(self, cin, n, k, layer_norm=False):
        super().__init__()
        self.n, self.k, self.cin = n, k, cin
        self.conv_x = nn.Conv2d(cin, 4 * n, k, padding=k // 2, bias=True)
        self.conv_h = nn.Conv2d(n, 4 * n, k, padding=k // 2, bias=False)
        self.layer_norm = layer_norm
        if layer_norm:
            self.ln_x = TensorLayerNorm(4 * n)
            self.ln_h = TensorLayerNorm(4 * n)
            self.ln_c = TensorLayerNorm(n)


class ConvLSTMRef(nn.Module):
    """Config keys as rnnreg's run config (src/config.h): layers (hidden channels per layer, e.g.
    [64, 64, 64]), kernels, cell_act, gate_act, batchnorm, bn_momentum, bn_eps, head, head_kernel,
    head_act, patch; plus image_size and img_channels (set from the data)."""

    def __init__(self, layers, kernels, cell_act="tanh", gate_act="sigmoid", batchnorm=False,
                 bn_momentum=0.01, bn_eps=1e-3, head="conv2d", head_kernel=3, head_act="sigmoid",
                 patch=1, image_size=64, img_channels=1, layer_norm=False, dropout=0.0, rec_dropout=0.0,
                 rec_dropout_seq=False, var_dropout_x=0.0, var_dropout_h=0.0, zoneout_c=0.0, zoneout_h=0.0,
                 weight_drop=0.0, mask_fn=torch_mask, zone_fn=torch_zone, stock_bn=False):
        super().__init__()
        self.zoneout_c, self.zoneout_h, self.weight_drop, self.zone_fn = zoneout_c, zoneout_h, weight_drop, zone_fn
        self.dropout, self.rec_dropout, self.rec_dropout_seq = dropout, rec_dropout, rec_dropout_seq
        self.var_dropout_x, self.var_dropout_h, self.mask_fn = var_dropout_x, var_dropout_h, mask_fn
        self.seq_masks = None
        hidden = list(layers)
        assert len(kernels) == len(hidden)
        self.channels = img_channels * patch * patch
        self.size = image_size // patch
        self.cell_act, self.gate_act = activation(cell_act), activation(gate_act)
        self.head_act = activation(head_act)
        self.head_kind = head
        self.detach_feedback = False  # True only to show that the fixture depends on that gradient
        cells, cin = [], self.channels
        for n, k in zip(hidden, kernels):
            cells.append(Cell(cin, n, k, layer_norm))
            cin = n
        self.cells = nn.ModuleList(cells)
        nbn = len(hidden) - 1 if batchnorm else 0
        self.bns = nn.ModuleList([make_bn(hidden[l], bn_momentum, bn_eps, stock_bn) for l in range(nbn)])
        top, hk = hidden[-1], head_kernel
        if head == "conv2d":
            self.head = nn.Conv2d(top, self.channels, hk, padding=hk // 2)
        elif head in ("conv3d_causal", "conv3d_centered"):
            # time padding is applied by hand (causal: 2 zero steps before, centered: 1 each side)
            self.head = nn.Conv3d(top, self.channels, (3, hk, hk), padding=(0, hk // 2, hk // 2))
        else:
            raise ValueError("unknown head " + head)

    def init_keras(self, generator=None):
        """Keras-like init: glorot uniform kernels (conv fan = channels x receptive field), zero biases,
        forget-gate bias 1 (unit_forget_bias). Not bit-equal to rnnreg's Philox init."""
        def glorot(w):
            rf = w[0, 0].numel()
            lim = (6.0 / (w.shape[1] * rf + w.shape[0] * rf)) ** 0.5
            with torch.no_grad():
                w.uniform_(-lim, lim, generator=generator)
        for cell in self.cells:
            glorot(cell.conv_x.weight)
            glorot(cell.conv_h.weight)
            with torch.no_grad():
                cell.conv_x.bias.zero_()
                cell.conv_x.bias[cell.n:2 * cell.n] = 1.0
        glorot(self.head.weight)
        with torch.no_grad():
            self.head.bias.zero_()

    # -- pieces --------------------------------------------------------------------------------
    def regularizing(self):
        return self.training and (self.dropout > 0 or self.rec_dropout > 0 or self.var_dropout_x > 0 or
                                  self.var_dropout_h > 0 or self.weight_drop > 0 or self.zoneout_c > 0 or
                                  self.zoneout_h > 0)

    def draw_sequence_masks(self, B, H, W):
        """Per-sequence masks of one training forward: variational (4 per layer for x and h) and
        per-sequence rec_dropout."""
        self.seq_masks = []
        for l, cell in enumerate(self.cells):
            d = {}
            if self.var_dropout_x > 0 or self.var_dropout_h > 0:
                d["vx"] = [self.mask_fn(l, VAR_X, j, (B, cell.cin, H, W), self.var_dropout_x) for j in range(4)]
                d["vh"] = [self.mask_fn(l, VAR_H, j, (B, cell.n, H, W), self.var_dropout_h) for j in range(4)]
            if self.rec_dropout > 0 and self.rec_dropout_seq:
                d["g"] = self.mask_fn(l, REC_G, 0, (B, cell.n, H, W), self.rec_dropout)
            if self.weight_drop > 0:
                w = cell.conv_h.weight
                d["wh"] = w * self.mask_fn(l, WDROP, 0, tuple(w.shape), self.weight_drop)
            self.seq_masks.append(d)

    def layers_step(self, x, state, t=0):
        """One time step through all layers; state: list of (h, c) or None. Returns what the head reads
        (the top h, dropout-masked when training with dropout) and the new state."""
        new = []
        reg = self.regularizing()
        if reg and t == 0:
            self.draw_sequence_masks(x.shape[0], x.shape[2], x.shape[3])
        for l, cell in enumerate(self.cells):
            B, _, H, W = x.shape
            sm = self.seq_masks[l] if reg else {}
            if reg and self.dropout > 0:
                x = x * self.mask_fn(l, DROP_IN, t, tuple(x.shape), self.dropout)
            vx, vh = sm.get("vx"), sm.get("vh")
            wh = sm.get("wh", cell.conv_h.weight)
            pad = cell.k // 2
            if cell.layer_norm:
                h_prev = state[l][0] if state[l] is not None else x.new_zeros(B, cell.n, H, W)
                pre = (cell.ln_x(gate_conv(x, vx, cell.conv_x.weight, None, pad)) +
                       cell.ln_h(gate_conv(h_prev, vh, wh, None, pad)) +
                       cell.conv_x.bias.view(1, -1, 1, 1))
            else:
                pre = gate_conv(x, vx, cell.conv_x.weight, cell.conv_x.bias, pad)
                if state[l] is not None:
                    pre = pre + gate_conv(state[l][0], vh, wh, None, pad)
            pi, pf, pg, po = torch.split(pre, cell.n, dim=1)
            i, f, g, o = self.gate_act(pi), self.gate_act(pf), self.cell_act(pg), self.gate_act(po)
            if reg and self.rec_dropout > 0:
                g = g * (sm["g"] if self.rec_dropout_seq else
                         self.mask_fn(l, REC_G, t, (B, cell.n, H, W), self.rec_dropout))
            c = i * g if state[l] is None else f * state[l][1] + i * g
            h = o * self.cell_act(cell.ln_c(c) if cell.layer_norm else c)
            for k, (p, tid) in enumerate(((self.zoneout_h, ZONE_H), (self.zoneout_c, ZONE_C))):
                if p > 0:  # zoneout: keep the previous value (zeros before step 0)
                    upd = (h, c)[k]
                    old = state[l][k] if state[l] is not None else torch.zeros_like(upd)
                    d = self.zone_fn(l, tid, t, tuple(upd.shape), p) if self.training else p
                    if k == 0:
                        h = d * old + (1 - d) * upd
                    else:
                        c = d * old + (1 - d) * upd
            new.append((h, c))
            x = self.bns[l](h) if l < len(self.bns) else h
        if reg and self.dropout > 0:
            x = x * self.mask_fn(len(self.cells) - 1, DROP_OUT, t, tuple(x.shape), self.dropout)
        return x, new

    def head_step(self, hs):
        """Head output for the LAST step of hs (list of top-layer h, (B, n, H, W)), causal taps only."""
        if self.head_kind == "conv2d":
            return self.head_act(self.head(hs[-1]))
        taps = hs[-3:] if self.head_kind == "conv3d_causal" else hs[-2:] + [torch.zeros_like(hs[-1])]
        while len(taps) < 3:
            taps = [torch.zeros_like(hs[-1])] + taps
        return self.head_act(self.head(torch.stack(taps, dim=2))[:, :, 0])

    def head_sequence(self, hs):
        """Head over a whole sequence of top h (teacher forcing): Conv3d with time padding."""
        if self.head_kind == "conv2d":
            return torch.stack([self.head_act(self.head(h)) for h in hs])
        seq = torch.stack(hs, dim=2)                                 # (B, n, S, H, W)
        pad = (2, 0) if self.head_kind == "conv3d_causal" else (1, 1)
        seq = F.pad(seq, (0, 0, 0, 0) + pad)
        return self.head_act(self.head(seq)).permute(2, 0, 1, 3, 4)   # (S, B, C, H, W)

    # -- the model ---------------------------------------------------------------------------------
    def forward_inputs(self, xs):
        """Teacher-forced run on given inputs xs (S, B, C, H, W): outputs (S, B, C, H, W)."""
        state, hs = [None] * len(self.cells), []
        for t, x in enumerate(xs):
            top, state = self.layers_step(x, state, t)
            hs.append(top)
        return self.head_sequence(hs)

    def forward(self, frames, use_truth):
        """frames (T, B, C, H, W); use_truth (B, T) bool: at step t >= 1 feed frame t where true, the
        model's own prediction of frame t (with gradient) where false. Returns (T-1, B, C, H, W)."""
        T = frames.shape[0]
        if self.head_kind == "conv3d_centered":
            assert bool(use_truth[:, 1:].all()), "centered head needs teacher forcing"
            return self.forward_inputs(frames[:T - 1])
        state, hs, ys = [None] * len(self.cells), [], []
        for t in range(T - 1):
            x = frames[t]
            if t > 0:
                keep = use_truth[:, t].view(-1, 1, 1, 1)
                fed = ys[-1].detach() if self.detach_feedback else ys[-1]
                x = torch.where(keep, frames[t], fed)
            top, state = self.layers_step(x, state, t)
            hs.append(top)
            ys.append(self.head_step(hs))
        return torch.stack(ys)

    @torch.no_grad()
    def rollout(self, frames, n_in):
        """Keras example's autoregressive rollout (keras-io examples/vision/conv_lstm.py): for each
        output, rerun the model on the whole prefix of inputs (ground truth for steps < n_in, own
        predictions after) and keep the last output. Returns (T-1, B, C, H, W)."""
        T = frames.shape[0]
        xs, ys = [], []
        for t in range(T - 1):
            xs.append(frames[t] if t < n_in else ys[-1])
            ys.append(self.forward_inputs(torch.stack(xs))[-1])
        return torch.stack(ys)
