"""A small pre-norm language model whose sequence mixer is any candidate layer.

embedding -> N x [RMSNorm -> mixer -> residual, RMSNorm -> SwiGLU -> residual] -> RMSNorm -> head
No I/O here: the mixer class comes in already loaded (loader.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .loader import Mixer, build_mixer
from .spec import ModelSpec


@dataclass
class LMConfig(ModelSpec):
    """The run spec's model section (spec.ModelSpec, its defaults) plus the mixer's keyword arguments."""
    layer_kwargs: dict = field(default_factory=dict)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, dim: int, ratio: float):
        super().__init__()
        hidden = int(dim * ratio * 2 / 3 + 7) // 8 * 8  # same parameter count as a ratio-wide GELU MLP
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: LMConfig, mixer_cls: type, layer_idx: int):
        super().__init__()
        self.mixer_norm = RMSNorm(cfg.hidden_size)
        self.mixer = Mixer(build_mixer(mixer_cls, cfg.hidden_size, cfg.num_heads, layer_idx, cfg.layer_kwargs))
        self.mlp_norm = RMSNorm(cfg.hidden_size)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.mlp_ratio)

    def forward(self, x: torch.Tensor, step: int) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        mixed, aux = self.mixer(self.mixer_norm(x), step)
        x = x + mixed.to(x.dtype)
        x = x + self.mlp(self.mlp_norm(x))
        return x, aux


class LM(nn.Module):
    def __init__(self, cfg: LMConfig, mixer_cls: type):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.blocks = nn.ModuleList(Block(cfg, mixer_cls, i) for i in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.head.weight, std=0.02)

    def forward(self, idx: torch.Tensor, targets: Optional[torch.Tensor] = None, step: int = 0):
        """Returns (logits, loss or None, aux loss or None); targets use -100 for unlabelled positions."""
        x = self.embed(idx)
        aux_total = None
        for block in self.blocks:
            x, aux = block(x, step)
            if aux is not None:
                aux_total = aux if aux_total is None else aux_total + aux
        logits = self.head(self.norm(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().flatten(0, 1), targets.reshape(-1), ignore_index=-100)
        return logits, loss, aux_total

    def mixer_params(self) -> int:
        return sum(p.numel() for b in self.blocks for p in b.mixer.parameters())
