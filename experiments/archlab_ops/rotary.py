"""Rotary position embedding (RoFormer; the half-split layout of GPT-NeoX and fla's RotaryEmbedding)."""
from __future__ import annotations

import torch


def apply_rotary(x: torch.Tensor, *, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotate x [B, L, H, D] (D even): the pair (x_i, x_{i + D/2}) at position offset + t turns by the angle
    (offset + t) * base^(-2i / D). Computed in float32 (float64 for float64 x), returned in x's dtype."""
    B, L, H, D = x.shape
    if D % 2:
        raise ValueError(f"rotary embedding needs an even head dimension, not {D}")
    half = D // 2
    dt = torch.promote_types(x.dtype, torch.float32)
    inv_freq = base ** (-torch.arange(half, device=x.device, dtype=dt) / half)
    angle = torch.arange(offset, offset + L, device=x.device, dtype=dt)[:, None] * inv_freq
    cos, sin = angle.cos()[:, None, :], angle.sin()[:, None, :]            # [L, 1, half]
    x1, x2 = x.to(dt).split(half, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)
