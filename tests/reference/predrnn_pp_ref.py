"""predrnn_pp_ref.py — PyTorch reference of rnnreg's PredRNN++ (src/predrnn_pp.c), written from the
official TensorFlow code (Yunbo426/predrnn-pp @ 40764c5: layers/CausalLSTMCell.py,
layers/GradientHighwayUnit.py, layers/TensorLayerNorm.py, nets/predrnn_pp.py; summarised in
docs/models.md §2), not from the C code and not from third-party ports.

Causal LSTM (layer with n hidden channels, incoming memory of n_in channels, input x of C_x channels;
every conv k×k "same", stride 1, with bias; LN = tensor layer norm, applied when layer_norm is on):
  h_cc = LN_h(conv_h(h_{t-1}))  n -> 4n    split i_h, g_h, f_h, o_h
  c_cc = LN_c(conv_c(c_{t-1}))  n -> 3n    split i_c, g_c, f_c
  m_cc = LN_m(conv_m(m))        n_in -> 3n split i_m, f_m, m_m
  x_cc = LN_x(conv_x(x))        C_x -> 7n  split i_x, g_x, f_x, o_x, i_x', g_x', f_x'
  i = σ(i_x + i_h + i_c)   f = σ(f_x + f_h + f_c + 1)   g = tanh(g_x + g_h + g_c)
  c_t = f c_{t-1} + i g
  c2m = LN_c2m(conv_c2m(c_t))   n -> 4n    split i_c', g_c', f_c', o_c
  ii = σ(i_c' + i_x' + i_m)  ff = σ(f_c' + f_x' + f_m + 1)  gg = tanh(g_c' + g_x')
  m_t = ff tanh(m_m) + ii gg
  o_m = LN_om(conv_om(m_t))     n -> n
  o = tanh(o_x + o_h + o_c + o_m)                 (tanh, as the official code)
  h_t = o tanh(memory_reduce([c_t, m_t]))         (1×1 conv 2n -> n, bias, no LN)
Gradient highway unit (n = hidden[0]):
  gates = LN_z(conv_z(z_{t-1})) + LN_x(conv_x(h^0_t))   (n -> 2n each); p, u = split (p first)
  z_t = σ(u) tanh(p) + (1 - σ(u)) z_{t-1}
Stack (nets/predrnn_pp.py): layer 0 reads the frame (C = patch²·img_channels), layer 1 reads z (or h^0
without GHU), layer l ≥ 2 reads h^{l-1}. The memory m zig-zags: layer l passes m_t to layer l+1 at the
same step, the top layer's m_t enters layer 0 at step t+1 (so layer 0's conv_m takes hidden[-1]
channels, layer l > 0 takes hidden[l-1]). All states start at zero. Head: 1×1 conv (bias) on the top
h to C channels, then head_act: "identity" (default; official, no activation), or rnnreg's study
options "sigmoid" (torch.sigmoid) and "relu" (torch.relu). Time-major frames (T, B, C, H, W); step t reads frame t (or
the model's own prediction of it, with gradient, where use_truth[b, t] == 0 and t ≥ 1) and predicts
frame t+1.

Tensor layer norm (layers/TensorLayerNorm.py): per sample, mean and biased variance over (C, H, W)
jointly; y = (x - mean) / sqrt(var + 1e-5) * gain[c] + bias[c].

State-dict names (= rnnreg checkpoint names), registration order = rnnreg parameter order:
  cells.L.conv_x / conv_h / conv_c / conv_m / conv_c2m / conv_om / memory_reduce .weight, .bias
  cells.L.ln_x / ln_h / ln_c / ln_m / ln_c2m / ln_om .weight, .bias   (only with layer_norm)
  ghu.conv_z / conv_x .weight, .bias; ghu.ln_z / ln_x .weight, .bias  (only with ghu; LN only with layer_norm)
  head.weight (C, hidden[-1], 1, 1), head.bias (C)

Regularizers (src/regularize.h, docs/regularizers.md; all off by default; masks only in training
mode, drawn by mask_fn(layer, tensor, step, shape, p) -> inverted dropout mask {0, 1/(1-p)} and
zone_fn(layer, tensor, step, shape, p) -> binary keep-the-old-value mask (1 with probability p); tensor
ids as regularize.h REG_T_*; the fixture script injects rnnreg's Philox masks):
  dropout (Zaremba): cell l's input x ⊙ mask(l, DROP_IN, t) (frame / z / h^{l-1}), the top h ⊙
    mask(L-1, DROP_OUT, t) before the head; the carried h, c, m, z and the GHU's input are not masked
  rec_dropout (Semeniuta): c = f c_prev + i (g ⊙ mask(l, REC_G, s)), m = ff tanh(m_m) + ii (gg ⊙
    mask(l, REC_GG, s)), s = t (per step) or 0 (rec_dropout_seq)
  var_dropout_x / _h (Gal): ONE mask per conv input and sequence: conv_x reads x ⊙ mask(l, VAR_X, 0)
    (all 7 gate blocks i, g, f, o, i', g', f' share it), conv_h reads h_prev ⊙ mask(l, VAR_H, 0) (its 4
    blocks share it); conv_c and conv_m (memories) are never masked
  zoneout_c / _h / _m (Krueger et al.): state = d ⊙ old + (1 - d) ⊙ new, d = zone(l, ZONE_*, t) in
    training, p·old + (1 - p)·new in evaluation; old = c_{t-1}, h_{t-1} (zeros at t = 0) and for m the
    incoming memory; inside the cell (conv_c2m, conv_om, memory_reduce, h) the new values are used
  weight_drop (Merity et al.): conv_h uses weight ⊙ mask(l, WDROP, 0) (one mask per forward call)
batchnorm (as convlstm_ref.py): BatchNorm2d (per-step batch statistics in training, running statistics in
evaluation, PyTorch momentum convention) on h of every layer but the last, on its way to the next layer
(to the GHU for layer 0 with ghu); the carried h and the head's input are not normalised. State-dict
names bns.L.weight, .bias, .running_mean, .running_var (and with stock_bn=True torch.nn.BatchNorm2d's
.num_batches_tracked, as rnnreg checkpoints hold), registered after the GHU and before the head.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

FORGET_BIAS = 1.0   # CausalLSTMCell(forget_bias=1.0), added inside both forget gates
LN_EPS = 1e-5       # TensorLayerNorm.py EPSILON
# regularize.h tensor ids
DROP_IN, DROP_OUT, REC_G, REC_GG, VAR_X, VAR_H, ZONE_C, ZONE_H, ZONE_M, WDROP = range(10)


def torch_mask(layer, tensor, step, shape, p):
    return (torch.rand(shape) >= p).double() / (1.0 - p)


def torch_zone(layer, tensor, step, shape, p):
    return (torch.rand(shape) < p).double()


class TensorLayerNorm(nn.Module):
    """tensor_layer_norm: moments over all non-batch axes, per-channel scale (init 1) and offset (init 0)."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)   # biased, as tf.nn.moments
        xhat = (x - mean) / torch.sqrt(var + LN_EPS)
        return xhat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


# batch norm between layers: the ConvLSTM twin's (BatchNorm2d without num_batches_tracked, or the stock one)
from convlstm_ref import make_bn  # noqa: E402


def conv(cin, cout, k):
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=True)


class CausalLSTMCell(nn.Module):
    def __init__(self, c_x, n_in, n, k, layer_norm):
        super().__init__()
        self.n, self.layer_norm = n, layer_norm
        self.conv_x = conv(c_x, 7 * n, k)
        self.conv_h = conv(n, 4 * n, k)
        self.conv_c = conv(n, 3 * n, k)
        self.conv_m = conv(n_in, 3 * n, k)
        self.conv_c2m = conv(n, 4 * n, k)
        self.conv_om = conv(n, n, k)
        self.memory_reduce = conv(2 * n, n, 1)
        if layer_norm:
            self.ln_x = TensorLayerNorm(7 * n)
            self.ln_h = TensorLayerNorm(4 * n)
            self.ln_c = TensorLayerNorm(3 * n)
            self.ln_m = TensorLayerNorm(3 * n)
            self.ln_c2m = TensorLayerNorm(4 * n)
            self.ln_om = TensorLayerNorm(n)

    def norm(self, name, y):
        return getattr(self, "ln_" + name)(y) if self.layer_norm else y

    def forward(self, x, h, c, m, reg=None):
        """reg (training regularizers, rnnreg_ref docstring): dict with optional xmask, hmask, wh, gmask,
        ggmask; zoneout is applied by the caller (PredRNNppRef.step)."""
        n = self.n
        reg = reg or {}
        if reg.get("xmask") is not None:
            x = x * reg["xmask"]
        h_in = h * reg["hmask"] if reg.get("hmask") is not None else h
        wh = reg.get("wh")
        h_cc = self.norm("h", self.conv_h(h_in) if wh is None else
                         F.conv2d(h_in, wh, self.conv_h.bias, padding=self.conv_h.padding))
        c_cc = self.norm("c", self.conv_c(c))
        m_cc = self.norm("m", self.conv_m(m))
        x_cc = self.norm("x", self.conv_x(x))
        i_h, g_h, f_h, o_h = torch.split(h_cc, n, dim=1)
        i_c, g_c, f_c = torch.split(c_cc, n, dim=1)
        i_m, f_m, m_m = torch.split(m_cc, n, dim=1)
        i_x, g_x, f_x, o_x, i_x2, g_x2, f_x2 = torch.split(x_cc, n, dim=1)
        i = torch.sigmoid(i_x + i_h + i_c)
        f = torch.sigmoid(f_x + f_h + f_c + FORGET_BIAS)
        g = torch.tanh(g_x + g_h + g_c)
        if reg.get("gmask") is not None:
            g = g * reg["gmask"]
        c_new = f * c + i * g
        c2m = self.norm("c2m", self.conv_c2m(c_new))
        i_c, g_c, f_c, o_c = torch.split(c2m, n, dim=1)
        ii = torch.sigmoid(i_c + i_x2 + i_m)
        ff = torch.sigmoid(f_c + f_x2 + f_m + FORGET_BIAS)
        gg = torch.tanh(g_c + g_x2)
        if reg.get("ggmask") is not None:
            gg = gg * reg["ggmask"]
        m_new = ff * torch.tanh(m_m) + ii * gg
        o_m = self.norm("om", self.conv_om(m_new))
        o = torch.tanh(o_x + o_h + o_c + o_m)
        cell = self.memory_reduce(torch.cat([c_new, m_new], dim=1))
        h_new = o * torch.tanh(cell)
        return h_new, c_new, m_new


class GHU(nn.Module):
    def __init__(self, n, k, layer_norm):
        super().__init__()
        self.n, self.layer_norm = n, layer_norm
        self.conv_z = conv(n, 2 * n, k)
        self.conv_x = conv(n, 2 * n, k)
        if layer_norm:
            self.ln_z = TensorLayerNorm(2 * n)
            self.ln_x = TensorLayerNorm(2 * n)

    def forward(self, x, z):
        zc, xc = self.conv_z(z), self.conv_x(x)
        if self.layer_norm:
            zc, xc = self.ln_z(zc), self.ln_x(xc)
        p, u = torch.split(zc + xc, self.n, dim=1)
        p, u = torch.tanh(p), torch.sigmoid(u)
        return u * p + (1 - u) * z


class PredRNNppRef(nn.Module):
    """hidden: channels per layer; kernels: filter size per layer (the GHU uses kernels[0])."""

    def __init__(self, hidden, kernels, layer_norm=True, ghu=True, patch=2, image_size=16, img_channels=1,
                 dropout=0.0, rec_dropout=0.0, rec_dropout_seq=False, var_dropout_x=0.0, var_dropout_h=0.0,
                 zoneout_c=0.0, zoneout_h=0.0, zoneout_m=0.0, weight_drop=0.0, mask_fn=torch_mask,
                 zone_fn=torch_zone, batchnorm=False, bn_momentum=0.01, bn_eps=1e-3, stock_bn=False,
                 head_act="identity"):
        super().__init__()
        self.head_act = {"identity": lambda y: y, "sigmoid": torch.sigmoid, "relu": torch.relu}[head_act]
        self.dropout, self.rec_dropout, self.rec_dropout_seq = dropout, rec_dropout, rec_dropout_seq
        self.var_dropout_x, self.var_dropout_h, self.weight_drop = var_dropout_x, var_dropout_h, weight_drop
        self.zoneout = (zoneout_c, zoneout_h, zoneout_m)
        self.mask_fn, self.zone_fn = mask_fn, zone_fn
        L = len(hidden)
        assert len(kernels) == L and (not ghu or L >= 2)
        self.hidden, self.ghu_on = list(hidden), ghu
        self.channels = img_channels * patch * patch
        self.size = image_size // patch
        cells = []
        for l in range(L):
            c_x = self.channels if l == 0 else hidden[l - 1]
            n_in = hidden[-1] if l == 0 else hidden[l - 1]
            cells.append(CausalLSTMCell(c_x, n_in, hidden[l], kernels[l], layer_norm))
        self.cells = nn.ModuleList(cells)
        if ghu:
            self.ghu = GHU(hidden[0], kernels[0], layer_norm)
        if batchnorm:
            self.bns = nn.ModuleList([make_bn(hidden[l], bn_momentum, bn_eps, stock_bn) for l in range(L - 1)])
        self.nbn = L - 1 if batchnorm else 0
        self.head = nn.Conv2d(hidden[-1], self.channels, 1, bias=True)

    def forward(self, frames, use_truth):
        """frames (T, B, C, H, W); use_truth (B, T) bool. Returns predictions (T-1, B, C, H, W)."""
        T, B = frames.shape[0], frames.shape[1]
        zeros = lambda c: frames.new_zeros(B, c, self.size, self.size)  # noqa: E731
        h = [zeros(n) for n in self.hidden]
        c = [zeros(n) for n in self.hidden]
        mem = zeros(self.hidden[-1])
        z = zeros(self.hidden[0])
        ys = []
        S, tr, mk = self.size, self.training, self.mask_fn
        seq = []  # per-sequence masks of each layer
        for l, cell in enumerate(self.cells):
            cx = cell.conv_x.in_channels
            d = {}
            if tr and self.var_dropout_x > 0:
                d["vx"] = mk(l, VAR_X, 0, (B, cx, S, S), self.var_dropout_x)
            if tr and self.var_dropout_h > 0:
                d["hmask"] = mk(l, VAR_H, 0, (B, cell.n, S, S), self.var_dropout_h)
            if tr and self.rec_dropout > 0 and self.rec_dropout_seq:
                d["gmask"] = mk(l, REC_G, 0, (B, cell.n, S, S), self.rec_dropout)
                d["ggmask"] = mk(l, REC_GG, 0, (B, cell.n, S, S), self.rec_dropout)
            if tr and self.weight_drop > 0:
                w = cell.conv_h.weight
                d["wh"] = w * mk(l, WDROP, 0, tuple(w.shape), self.weight_drop)
            seq.append(d)
        for t in range(T - 1):
            x = frames[t]
            if t > 0:
                x = torch.where(use_truth[:, t].view(-1, 1, 1, 1), frames[t], ys[-1])
            for l, cell in enumerate(self.cells):
                if l == 1 and self.ghu_on:
                    z = self.ghu(x, z)   # x = layer 0's h (batch-normalised with batchnorm)
                    x = z
                reg = dict(seq[l])
                xm = reg.pop("vx", None)
                if tr and self.dropout > 0:
                    dm = mk(l, DROP_IN, t, tuple(x.shape), self.dropout)
                    xm = dm if xm is None else dm * xm
                reg["xmask"] = xm
                if t == 0:
                    reg.pop("hmask", None)  # h_{-1} = 0
                if tr and self.rec_dropout > 0 and not self.rec_dropout_seq:
                    reg["gmask"] = mk(l, REC_G, t, (B, cell.n, S, S), self.rec_dropout)
                    reg["ggmask"] = mk(l, REC_GG, t, (B, cell.n, S, S), self.rec_dropout)
                hn, cn, mn = cell(x, h[l], c[l], mem, reg)
                new = []
                for k, (old, upd, tid) in enumerate(((c[l], cn, ZONE_C), (h[l], hn, ZONE_H), (mem, mn, ZONE_M))):
                    p = self.zoneout[k]
                    if p > 0:
                        d = self.zone_fn(l, tid, t, tuple(upd.shape), p) if tr else p
                        upd = d * old + (1 - d) * upd
                    new.append(upd)
                c[l], h[l], mem = new
                x = self.bns[l](h[l]) if l < self.nbn else h[l]
            top = h[-1]
            if tr and self.dropout > 0:
                top = top * mk(len(self.cells) - 1, DROP_OUT, t, tuple(top.shape), self.dropout)
            ys.append(self.head_act(self.head(top)))
        return torch.stack(ys)
