"""Causal short (depthwise) convolution over time, with a state for chunked prefill and step-by-step decoding.

    y_t = act(bias + sum_{i=0}^{W-1} weight[:, i] * x_{t-W+1+i})        x_{<0} from the state (zeros if none)

x [B, L, D]; weight [D, W] (or nn.Conv1d's [D, 1, W]); state [B, W-1, D] = the W-1 inputs before x. Feeding
x in pieces, each with the previous piece's final state, gives exactly the output of the whole sequence.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = (None, "silu", "swish")


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, *,
                  activation: Optional[str] = None, initial_state: Optional[torch.Tensor] = None,
                  output_final_state: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, not {activation!r}")
    if x.dim() != 3:
        raise ValueError(f"x must be [B, L, D], got shape {tuple(x.shape)}")
    B, L, D = x.shape
    weight = weight.reshape(weight.shape[0], weight.shape[-1]) if weight.dim() == 3 else weight
    if weight.dim() != 2 or weight.shape[0] != D:
        raise ValueError(f"weight must be [D, W] with D = {D}, got shape {tuple(weight.shape)}")
    W = weight.shape[1]
    weight = weight.to(x.dtype).unsqueeze(1)
    bias = None if bias is None else bias.to(x.dtype)
    final = None
    if initial_state is None:   # let conv1d pad (cheaper than padding the input), keep the first L outputs
        y = F.conv1d(x.transpose(1, 2), weight, bias, padding=W - 1, groups=D)[..., :L]
        if output_final_state:
            final = F.pad(x[:, max(0, L - (W - 1)):], (0, 0, max(0, W - 1 - L), 0))
    else:
        if initial_state.shape != (B, W - 1, D):
            raise ValueError(f"initial_state must be [B, W-1, D] = {(B, W - 1, D)}, "
                             f"got {tuple(initial_state.shape)}")
        padded = torch.cat([initial_state.to(x.dtype), x], dim=1)
        y = F.conv1d(padded.transpose(1, 2), weight, bias, groups=D)
        if output_final_state:
            final = padded[:, padded.shape[1] - (W - 1):]
    y = y.transpose(1, 2)
    if activation is not None:
        y = F.silu(y)
    return y, final


class ShortConv(nn.Conv1d):
    """A depthwise causal Conv1d(D, D, W, groups=D) as a module (default Conv1d init): fla's
    ShortConvolution in spirit. forward(x [B, L, D], cache=None, output_final_state=False) -> (y, cache)
    where cache is the state of causal_conv1d ([B, W-1, D])."""

    def __init__(self, hidden_size: int, kernel_size: int = 4, bias: bool = False,
                 activation: Optional[str] = "silu"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, not {activation!r}")
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be >= 1, not {kernel_size}")
        super().__init__(hidden_size, hidden_size, kernel_size, groups=hidden_size, bias=bias)
        self.activation = activation

    def forward(self, x: torch.Tensor, cache: Optional[torch.Tensor] = None,
                output_final_state: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return causal_conv1d(x, self.weight, self.bias, activation=self.activation, initial_state=cache,
                             output_final_state=output_final_state)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation!r}"
