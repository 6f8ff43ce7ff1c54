"""ShortConvolution: a depthwise causal 1-D convolution over [B, T, D] inputs, with a cache for decoding.

    y[t] = act(bias + sum_{i<W} weight[:, W-1-i] * x[t-i]) (+ residual[t])        x[s] = 0 (or the cache) for s < 0

- `mask` [B, T] multiplies x first (padding positions contribute nothing).
- `cache` [N, D, W] holds the last W raw inputs of each of N sequences, oldest first. A multi-token call uses its
  last W-1 entries as left context; with `output_final_state` the call returns the updated [N, D, W] window.
- A call with one token per sequence (B*T == N) is a decode step: the window rolls left by one, the new input
  enters on the right (the given cache is updated in place) and one output per sequence is computed from it.
- `cu_seqlens` [N+1] (with B == 1): x packs N sequences end to end; no output sees across a boundary.
Arithmetic is float32 (as fla's kernels accumulate), the output is cast back to x's dtype.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["ShortConvolution"]

ACTIVATIONS = (None, "silu", "swish")


class ShortConvolution(nn.Conv1d):
    """nn.Conv1d(D, D, W, groups=D, padding=W-1) (weight [D, 1, W], default Conv1d init) used causally."""

    def __init__(self, hidden_size: int, kernel_size: int, bias: bool = False, activation: Optional[str] = "silu",
                 backend: Optional[str] = "triton", device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None, **kwargs) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"ShortConvolution activation must be None, 'silu' or 'swish', not {activation!r}")
        if kernel_size < 1:
            raise ValueError(f"ShortConvolution kernel_size must be >= 1, not {kernel_size}")
        super().__init__(in_channels=hidden_size, out_channels=hidden_size, kernel_size=kernel_size,
                         groups=hidden_size, bias=bias, padding=kernel_size - 1, device=device, dtype=dtype)
        self.hidden_size = hidden_size
        self.activation = activation
        self.backend = backend  # accepted for API compatibility: this implementation is always plain PyTorch

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", activation={self.activation}" if self.activation else "")

    @property
    def state_size(self) -> int:
        return self.hidden_size * self.kernel_size[0]

    def forward(self, x: torch.Tensor, residual: Optional[torch.Tensor] = None, mask: Optional[torch.Tensor] = None,
                cache: Optional[torch.Tensor] = None, output_final_state: bool = False,
                cu_seqlens: Optional[torch.Tensor] = None, **kwargs) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if x.ndim != 3 or x.shape[-1] != self.hidden_size:
            raise ValueError(f"ShortConvolution({self.hidden_size}) expects x of shape [B, T, {self.hidden_size}], "
                             f"got {tuple(x.shape)}")
        B, T, D = x.shape
        W = self.kernel_size[0]
        if cu_seqlens is not None:
            if B != 1:
                raise ValueError(f"with cu_seqlens, x must pack its sequences into batch 1, got batch {B}")
            if mask is not None:
                raise ValueError("`mask` and `cu_seqlens` cannot be provided at the same time")
        N = B if cu_seqlens is None else len(cu_seqlens) - 1
        if cache is not None and tuple(cache.shape) != (N, D, W):
            raise ValueError(f"cache must have shape [N, D, W] = {(N, D, W)}, got {tuple(cache.shape)}")
        if mask is not None:
            x = x * mask.unsqueeze(-1).to(x.dtype)
        if B * T == N:
            return self.step(x, residual, cache, output_final_state, cu_seqlens)
        with torch.autocast(device_type=x.device.type, enabled=False):
            if cu_seqlens is None:
                y, final = self._conv_batch(x, cache)
            else:
                y, final = self._conv_packed(x, cache, cu_seqlens)
            y = self._finish(y, residual).to(x.dtype)
        return y, (final.to(x.dtype) if output_final_state else None)

    def step(self, x: torch.Tensor, residual: Optional[torch.Tensor], cache: Optional[torch.Tensor],
             output_final_state: bool = False, cu_seqlens: Optional[torch.Tensor] = None):
        """One token per sequence: x [B, 1, D] (or [1, N, D] packed). Rolls the window left, appends x, and
        computes one output from it. A given cache is updated in place and returned."""
        shape, D, W = x.shape, self.hidden_size, self.kernel_size[0]
        x_t = x.reshape(-1, D)
        history = cache if cache is not None else x_t.new_zeros(x_t.shape[0], D, W)
        window = torch.cat([history[..., 1:].to(x_t.dtype), x_t.unsqueeze(-1)], dim=-1)  # [N, D, W]
        with torch.autocast(device_type=x.device.type, enabled=False):
            y = (window.float() * self.weight[:, 0, :].float()).sum(-1)
            if self.bias is not None:
                y = y + self.bias.float()
            y = self._finish(y.view(shape), residual).to(x.dtype)
        if cache is not None:
            with torch.no_grad():
                cache.copy_(window)
            return y, cache
        return y, (window if output_final_state else None)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _finish(self, y: torch.Tensor, residual: Optional[torch.Tensor]) -> torch.Tensor:
        """float32 y -> activation -> + residual (still float32)."""
        if self.activation is not None:
            y = F.silu(y)
        if residual is not None:
            y = y + residual.float()
        return y

    def _params(self):
        return self.weight.float(), (self.bias.float() if self.bias is not None else None)

    def _conv_batch(self, x: torch.Tensor, cache: Optional[torch.Tensor]):
        """B independent sequences of length T. Returns (y [B, T, D] float32, last W inputs [B, D, W])."""
        B, T, D = x.shape
        W = self.kernel_size[0]
        xt = x.float().transpose(1, 2)                                           # [B, D, T]
        history = cache.float() if cache is not None else xt.new_zeros(B, D, W)  # [B, D, W]
        stream = torch.cat([history, xt], dim=-1)                               # [B, D, W + T]
        weight, bias = self._params()
        y = F.conv1d(stream[..., 1:], weight, bias, groups=D)                   # [B, D, T]: window ends at t
        return y.transpose(1, 2), stream[..., -W:]

    def _conv_packed(self, x: torch.Tensor, cache: Optional[torch.Tensor], cu_seqlens: torch.Tensor):
        """x [1, total, D] holding N sequences; each gets its own W-slot history (the cache or zeros) placed right
        before it in one stream, so one valid convolution never mixes two sequences."""
        _, total, D = x.shape
        W = self.kernel_size[0]
        cu = cu_seqlens.to(device=x.device, dtype=torch.long)
        N = cu.numel() - 1
        if int(cu[0]) != 0 or int(cu[-1]) != total or bool((cu[1:] < cu[:-1]).any()):
            raise ValueError(f"cu_seqlens must rise from 0 to the packed length {total}, got {cu.tolist()}")
        seq = torch.repeat_interleave(torch.arange(N, device=x.device), cu[1:] - cu[:-1])   # [total]
        where = torch.arange(total, device=x.device) + (seq + 1) * W              # each token's slot
        history_slots = (cu[:-1] + torch.arange(N, device=x.device) * W)[:, None] + torch.arange(W, device=x.device)
        stream = x.new_zeros(D, total + N * W, dtype=torch.float32)
        stream = stream.index_copy(1, where, x[0].float().t())
        if cache is not None:
            stream = stream.index_copy(1, history_slots.flatten(), cache.float().permute(1, 0, 2).reshape(D, N * W))
        weight, bias = self._params()
        y_all = F.conv1d(stream[None], weight, bias, groups=D)[0]                # output o ends at slot o + W - 1
        y = y_all[:, where - (W - 1)].t().unsqueeze(0)                           # [1, total, D]
        last = cu[1:] - 1 + (torch.arange(N, device=x.device) + 1) * W           # slot of each sequence's end
        final = stream[:, last[:, None] - (W - 1) + torch.arange(W, device=x.device)].permute(1, 0, 2)  # [N, D, W]
        return y, final
