"""l2norm: x / sqrt(sum(x^2, -1) + eps), computed in float32 and cast back (not F.normalize, whose eps clamps
the norm instead of adding to the squared sum)."""
from __future__ import annotations

from typing import Optional

import torch

__all__ = ["l2norm"]


def l2norm(x: torch.Tensor, eps: float = 1e-6, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    xf = x.float()
    y = xf * torch.rsqrt(xf.square().sum(-1, keepdim=True) + eps)
    return y.to(output_dtype or x.dtype)
