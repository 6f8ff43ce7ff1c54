"""RMSNorm with the optional fused residual add of fla.modules.RMSNorm.

    y = (x + residual) * rsqrt(mean((x + residual)^2, -1) + eps) * weight (+ bias)
computed in float32 and returned in x's dtype; with prenorm=True the sum x + residual comes back too.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

__all__ = ["RMSNorm", "rms_norm"]


def _add_residual(x: torch.Tensor, residual: Optional[torch.Tensor], residual_in_fp32: bool):
    """Returns (the float32 tensor to normalise, the residual stream as upstream returns it)."""
    if residual is None:
        summed = x.float()
        residual_dtype = torch.float32 if residual_in_fp32 else x.dtype
    else:
        if residual.shape != x.shape:
            raise ValueError(f"residual shape {tuple(residual.shape)} != input shape {tuple(x.shape)}")
        summed = x.float() + residual.float()
        residual_dtype = residual.dtype
    return summed, summed.to(residual_dtype)


def _normalise(xf: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor], eps: float):
    y = xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + eps)
    if weight is not None:
        y = y * weight.float()
    if bias is not None:
        y = y + bias.float()
    return y


def rms_norm(x: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor],
             residual: Optional[torch.Tensor] = None, eps: float = 1e-5, prenorm: bool = False,
             residual_in_fp32: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    xf, residual_out = _add_residual(x, residual, residual_in_fp32)
    y = _normalise(xf, weight, bias, eps).to(x.dtype)
    return (y, residual_out) if prenorm else y


class RMSNorm(nn.Module):
    def __init__(self, hidden_size: int, elementwise_affine: bool = True, bias: bool = False, eps: float = 1e-5,
                 device: Optional[torch.device] = None, dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.elementwise_affine = elementwise_affine
        self.eps = eps
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(hidden_size, device=device, dtype=dtype))
            if bias:
                self.bias = nn.Parameter(torch.zeros(hidden_size, device=device, dtype=dtype))

    def extra_repr(self) -> str:
        return f"{self.hidden_size}, eps={self.eps}" + ("" if self.elementwise_affine else ", elementwise_affine=False")

    def forward(self, x: torch.Tensor, residual: Optional[torch.Tensor] = None, prenorm: bool = False,
                residual_in_fp32: bool = False):
        return rms_norm(x, self.weight, self.bias, residual, self.eps, prenorm, residual_in_fp32)
