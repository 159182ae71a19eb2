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
The BN module here has no num_batches_tracked buffer (rnnreg checkpoints are F32 only), so
load_state_dict(strict=True) takes exactly the tensors of an rnnreg checkpoint.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


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


class Cell(nn.Module):
    def __init__(self, cin, n, k):
        super().__init__()
        self.n = n
        self.conv_x = nn.Conv2d(cin, 4 * n, k, padding=k // 2, bias=True)
        self.conv_h = nn.Conv2d(n, 4 * n, k, padding=k // 2, bias=False)


class ConvLSTMRef(nn.Module):
    """Config keys as rnnreg's run config (src/config.h): layers (hidden channels per layer, e.g.
    [64, 64, 64]), kernels, cell_act, gate_act, batchnorm, bn_momentum, bn_eps, head, head_kernel,
    head_act, patch; plus image_size and img_channels (set from the data)."""

    def __init__(self, layers, kernels, cell_act="tanh", gate_act="sigmoid", batchnorm=False,
                 bn_momentum=0.01, bn_eps=1e-3, head="conv2d", head_kernel=3, head_act="sigmoid",
                 patch=1, image_size=64, img_channels=1):
        super().__init__()
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
            cells.append(Cell(cin, n, k))
            cin = n
        self.cells = nn.ModuleList(cells)
        nbn = len(hidden) - 1 if batchnorm else 0
        self.bns = nn.ModuleList([BatchNorm(hidden[l], bn_momentum, bn_eps) for l in range(nbn)])
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
    def layers_step(self, x, state):
        """One time step through all layers; state: list of (h, c) or None. Returns top h, new state."""
        new = []
        for l, cell in enumerate(self.cells):
            pre = cell.conv_x(x)
            if state[l] is not None:
                h_prev, c_prev = state[l]
                pre = pre + cell.conv_h(h_prev)
            pi, pf, pg, po = torch.split(pre, cell.n, dim=1)
            i, f, g, o = self.gate_act(pi), self.gate_act(pf), self.cell_act(pg), self.gate_act(po)
            c = i * g if state[l] is None else f * c_prev + i * g
            h = o * self.cell_act(c)
            new.append((h, c))
            x = self.bns[l](h) if l < len(self.bns) else h
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
        for x in xs:
            top, state = self.layers_step(x, state)
            hs.append(state[-1][0])
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
            top, state = self.layers_step(x, state)
            hs.append(state[-1][0])
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
