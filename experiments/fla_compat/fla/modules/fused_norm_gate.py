"""FusedRMSNormGated: RMSNorm (as in layernorm.py) followed by an output gate, all in float32:
    swish / silu:  y * g * sigmoid(g)
    sigmoid:       y * sigmoid(g)
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn

from .layernorm import _add_residual, _normalise

__all__ = ["FusedRMSNormGated", "rms_norm_gated"]

ACTIVATIONS = ("swish", "silu", "sigmoid")


def rms_norm_gated(x: torch.Tensor, g: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor],
                   activation: str = "swish", residual: Optional[torch.Tensor] = None, prenorm: bool = False,
                   residual_in_fp32: bool = False, eps: float = 1e-5):
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unsupported activation: {activation!r} (expected one of {', '.join(ACTIVATIONS)})")
    if g.shape != x.shape:
        raise ValueError(f"gate shape {tuple(g.shape)} != input shape {tuple(x.shape)}")
    xf, residual_out = _add_residual(x, residual, residual_in_fp32)
    y = _normalise(xf, weight, bias, eps)
    gf = g.float()
    y = y * gf * torch.sigmoid(gf) if activation in ("swish", "silu") else y * torch.sigmoid(gf)
    y = y.to(x.dtype)
    return (y, residual_out) if prenorm else y


class FusedRMSNormGated(nn.Module):
    def __init__(self, hidden_size: int, elementwise_affine: bool = True, eps: float = 1e-5,
                 activation: str = "swish", device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unsupported activation: {activation!r} (expected one of {', '.join(ACTIVATIONS)})")
        self.hidden_size = hidden_size
        self.elementwise_affine = elementwise_affine
        self.eps = eps
        self.activation = activation
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(hidden_size, device=device, dtype=dtype))

    def extra_repr(self) -> str:
        return f"{self.hidden_size}, eps={self.eps}, activation={self.activation}"

    def forward(self, x: torch.Tensor, g: torch.Tensor, residual: Optional[torch.Tensor] = None,
                prenorm: bool = False, residual_in_fp32: bool = False):
        return rms_norm_gated(x, g, self.weight, self.bias, self.activation, residual, prenorm,
                              residual_in_fp32, self.eps)
