"""A PyTorch port of the embedded TensorFlow.js transformer (engines/embedded/model.ts, params.ts).

Same architecture, parameter names and shapes, so weights round-trip between the two: token +
learned position embeddings, pre-LayerNorm blocks of causal self-attention (separate q, k, v, o) and
a ReLU MLP (4·d), a final LayerNorm and a linear head. Dense weights are [in, out] (x·w + b) as in
tfjs. Module paths are `h.<l>.…`; the embedded names are `h<l>.…` (see `embedded_name`).
"""

import math
import re

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

EMBEDDED_FORMAT = "nft-embedded-weights/1"
LN_EPS = 1e-5
ARCH_FIELDS = ("layers", "dModel", "heads", "contextLength", "vocabSize")


class Dense(nn.Module):
    def __init__(self, n_in, n_out, std=0.02):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.b = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.w + self.b


class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.g = nn.Parameter(torch.ones(d))
        self.b = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.g, self.b, LN_EPS)


class Attention(nn.Module):
    def __init__(self, d, heads, residual_std):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = Dense(d, d), Dense(d, d), Dense(d, d)
        self.o = Dense(d, d, residual_std)

    def forward(self, x, mask):
        B, T, d = x.shape
        H = self.heads
        split = lambda t: t.reshape(B, T, H, d // H).transpose(1, 2)  # noqa: E731  [B, H, T, hd]
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) * (1 / math.sqrt(d // H)) + mask
        y = torch.softmax(scores, dim=-1) @ v
        return self.o(y.transpose(1, 2).reshape(B, T, d))


class MLP(nn.Module):
    def __init__(self, d, residual_std):
        super().__init__()
        self.fc = Dense(d, 4 * d)
        self.proj = Dense(4 * d, d, residual_std)

    def forward(self, x):
        return self.proj(torch.relu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, residual_std):
        super().__init__()
        self.ln1 = LayerNorm(d)
        self.attn = Attention(d, heads, residual_std)
        self.ln2 = LayerNorm(d)
        self.mlp = MLP(d, residual_std)

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class TinyCausalLM(nn.Module):
    def __init__(self, arch, seed=0):
        super().__init__()
        missing = [f for f in ARCH_FIELDS if not isinstance(arch.get(f), int) or arch[f] <= 0]
        if missing:
            raise ValueError(f"tiny model: arch needs positive integers {', '.join(missing)}, got {arch}")
        if arch["dModel"] % arch["heads"]:
            raise ValueError(f"tiny model: dModel {arch['dModel']} must be divisible by heads {arch['heads']}")
        self.arch = {f: int(arch[f]) for f in ARCH_FIELDS}
        self.gradient_checkpointing = False
        d, V = self.arch["dModel"], self.arch["vocabSize"]
        residual_std = 0.02 / math.sqrt(2 * self.arch["layers"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.tokEmb = nn.Parameter(torch.randn(V, d) * 0.02)
            self.posEmb = nn.Parameter(torch.randn(self.arch["contextLength"], d) * 0.02)
            self.h = nn.ModuleList(Block(d, self.arch["heads"], residual_std) for _ in range(self.arch["layers"]))
            self.lnf = LayerNorm(d)
            self.head = Dense(d, V)

    def forward(self, input_ids, attention_mask=None):
        """Logits [B, T, V]; right padding needs no mask (position t sees only positions ≤ t)."""
        B, T = input_ids.shape
        if T > self.arch["contextLength"]:
            raise ValueError(f"tiny model: sequence length {T} exceeds contextLength {self.arch['contextLength']}")
        x = self.tokEmb[input_ids] + self.posEmb[:T]
        # Additive causal mask, as in the embedded model: 0 where key ≤ query, −1e9 elsewhere.
        mask = torch.triu(torch.full((T, T), -1e9, dtype=x.dtype, device=x.device), diagonal=1)
        for block in self.h:
            if self.gradient_checkpointing and self.training:
                x = checkpoint(block, x, mask, use_reentrant=False)
            else:
                x = block(x, mask)
        return self.head(self.lnf(x))

    def embedded_state(self):
        """{embedded name: tensor}, in the embedded model's parameter order."""
        return {embedded_name(k): v for k, v in self.state_dict().items()}

    def load_embedded_state(self, tensors):
        own = self.state_dict()
        state = {}
        for key, ref in own.items():
            name = embedded_name(key)
            t = tensors.get(name)
            if t is None or tuple(t.shape) != tuple(ref.shape):
                got = "missing" if t is None else f"shape {list(t.shape)}"
                raise ValueError(f"tiny model: parameter {name} is {got}, expected shape {list(ref.shape)}")
            state[key] = t.to(ref.dtype)
        self.load_state_dict(state)


def embedded_name(module_path):
    """`h.3.attn.q.w` → `h3.attn.q.w` (the embedded engine's names); others unchanged."""
    return re.sub(r"^h\.(\d+)\.", r"h\1.", module_path)


def module_path(name):
    return re.sub(r"^h(\d+)\.", r"h.\1.", name)
