"""Helpers shared by the op implementations (not public)."""
from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.nn.functional as F


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """float32 for float32/bf16/fp16 inputs, float64 for float64 inputs."""
    return torch.promote_types(x.dtype, torch.float32)


def fp32_compute(fn: Callable) -> Callable:
    """Run an op implementation with autocast off: it casts its inputs to compute_dtype (float32, or float64
    for float64 inputs) itself and casts the output back, so a bf16 autocast region around the caller cannot
    push the recurrence into bf16."""
    @functools.wraps(fn)
    def wrapper(q: torch.Tensor, *args, **kwargs):
        with torch.autocast(device_type=q.device.type, enabled=False):
            return fn(q, *args, **kwargs)
    return wrapper


class ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the incoming gradient contiguous: an output handed back as a transposed
    view would otherwise send a strided gradient into batched matmul backwards, which on CPU then copy
    every small matrix separately."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def to_chunks(x: torch.Tensor, chunk: int, dtype: torch.dtype) -> torch.Tensor:
    """[B, L, H, ...] -> [B, H, N, chunk, ...] in dtype, zero-padded at the end to N * chunk positions."""
    B, L = x.shape[:2]
    n = -(-L // chunk)
    pad = n * chunk - L
    x = x.to(dtype)
    if pad:
        x = F.pad(x, (0, 0) * (x.dim() - 2) + (0, pad))
    return x.reshape(B, n, chunk, *x.shape[2:]).movedim(3, 1)


def from_chunks(x: torch.Tensor, length: int) -> torch.Tensor:
    """[B, H, N, C, D] -> [B, length, H, D] (drops the padding)."""
    B, H, N, C, D = x.shape
    return x.movedim(1, 3).reshape(B, N * C, H, D)[:, :length]


def masked_decay(G: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
    """exp(G_t - G_s) where causal[t, s], else 0, for cumulative log-decays G[..., C] (one per position).
    Masking happens before exp, so entries above the diagonal (where G_t - G_s >= 0 can be large) never
    overflow and get an exactly zero gradient."""
    diff = G[..., :, None] - G[..., None, :]
    return torch.where(causal, diff, float("-inf")).exp()
