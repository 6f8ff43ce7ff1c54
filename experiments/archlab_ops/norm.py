"""Normalisations the layers share, computed in float32 (float64 for float64 inputs) and cast back to the
input's dtype."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def l2norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """x / sqrt(sum(x^2, -1) + eps) (fla's l2norm: eps inside the root, unlike F.normalize)."""
    xf = x.to(torch.promote_types(x.dtype, torch.float32))
    return (xf * torch.rsqrt(xf.pow(2).sum(-1, keepdim=True) + eps)).to(x.dtype)


def _rms(x: torch.Tensor, eps: float) -> torch.Tensor:
    xf = x.to(torch.promote_types(x.dtype, torch.float32))
    return xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)


class RMSNorm(nn.Module):
    """y = x / rms(x) * weight over the last dimension."""

    def __init__(self, hidden_size: int, eps: float = 1e-5, elementwise_affine: bool = True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden_size)) if elementwise_affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = _rms(x, self.eps)
        return (y if self.weight is None else y * self.weight.to(y.dtype)).to(x.dtype)


class GatedRMSNorm(nn.Module):
    """y = x / rms(x) * weight * act(gate), act = silu (default) or sigmoid: fla's FusedRMSNormGated."""

    def __init__(self, hidden_size: int, eps: float = 1e-5, activation: str = "silu"):
        super().__init__()
        if activation not in ("silu", "swish", "sigmoid"):
            raise ValueError(f"activation must be silu, swish or sigmoid, not {activation!r}")
        self.eps, self.activation = eps, activation
        self.weight = nn.Parameter(torch.ones(hidden_size))

    def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        y = _rms(x, self.eps)
        gf = gate.to(y.dtype)
        gated = torch.sigmoid(gf) if self.activation == "sigmoid" else F.silu(gf)
        return (y * self.weight.to(y.dtype) * gated).to(x.dtype)
