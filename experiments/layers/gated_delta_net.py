"""Gated DeltaNet (Yang, Kautz & Hatamizadeh, 2025: "Gated Delta Networks: Improving Mamba2 with Delta Rule"),
laid out like flash-linear-attention's fla/layers/gated_deltanet.py and built on archlab_ops.

    q, k, v = short_conv(proj(x))  (silu)        q, k = l2norm(q), l2norm(k)        beta = sigmoid(b_proj(x))
    g = -exp(A_log) * softplus(a_proj(x) + dt_bias)                      (a log-decay per head and step)
    S_t = exp(g_t) (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T,   o_t = S_t^T q_t / sqrt(d_k)
    out = o_proj(RMSNorm(o) * silu(g_proj(x)))     (use_gate; plain RMSNorm otherwise)
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab_ops import GatedRMSNorm, RMSNorm, ShortConv, gated_delta_rule, l2norm

__all__ = ["GatedDeltaNet"]


class GatedDeltaNet(nn.Module):
    """Keyword-only arguments:
        hidden_size, num_heads   model width and heads
        head_dim                 key width per head (None: hidden_size // num_heads; fla fixes 256)
        expand_v                 value width per head as a multiple of head_dim (1.0; fla uses 2.0)
        use_gate                 output RMSNorm gated by silu(g_proj(x)) (True)
        use_short_conv           causal depthwise conv (conv_size, conv_bias) on q, k, v (True, 4, False)
        allow_neg_eigval         beta in (0, 2) instead of (0, 1) (False)
        norm_eps                 output norm epsilon (1e-5)
        mode                     'chunk' (fla when installed and self-checked, else archlab_ops' chunked form)
                                 or 'naive' (the plain recurrence, for checking)
        chunk_size               chunk length of the chunked form (None: 64 on CUDA, 32 on CPU)
    The decay follows Mamba2's initialisation: A ~ U[1, 16], dt ~ logU[1e-3, 1e-1] (dt_bias = softplus^-1(dt)).
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 4, layer_idx: Optional[int] = None,
                 head_dim: Optional[int] = None, expand_v: float = 1.0, use_gate: bool = True,
                 use_short_conv: bool = True, conv_size: int = 4, conv_bias: bool = False,
                 allow_neg_eigval: bool = False, norm_eps: float = 1e-5, mode: str = "chunk",
                 chunk_size: Optional[int] = None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"GatedDeltaNet got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if mode not in ("chunk", "naive"):
            hint = " (for fla's fused_recurrent use 'naive': the same recurrence)" if mode == "fused_recurrent" else ""
            raise ValueError(f"mode must be 'chunk' or 'naive', not {mode!r}{hint}")
        if head_dim is None:
            if hidden_size % num_heads:
                raise ValueError(f"hidden_size {hidden_size} must be divisible by num_heads {num_heads} "
                                 f"(or pass head_dim)")
            head_dim = hidden_size // num_heads
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.head_k_dim, self.head_v_dim = head_dim, int(head_dim * expand_v)
        if self.head_v_dim < 1:
            raise ValueError(f"expand_v {expand_v} leaves no value dimensions")
        self.key_dim, self.value_dim = num_heads * self.head_k_dim, num_heads * self.head_v_dim
        self.use_gate, self.use_short_conv, self.allow_neg_eigval = use_gate, use_short_conv, allow_neg_eigval
        self.mode, self.chunk_size = mode, chunk_size
        self.backend = None if mode == "chunk" else "naive"

        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.a_proj = nn.Linear(hidden_size, num_heads, bias=False)
        self.b_proj = nn.Linear(hidden_size, num_heads, bias=False)
        self.A_log = nn.Parameter(torch.empty(num_heads).uniform_(1, 16).log())
        dt = torch.exp(torch.rand(num_heads) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)).clamp_min(1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))   # softplus(dt_bias) = dt
        self.A_log._no_weight_decay = self.dt_bias._no_weight_decay = True
        if use_short_conv:
            self.q_conv1d = ShortConv(self.key_dim, conv_size, bias=conv_bias, activation="silu")
            self.k_conv1d = ShortConv(self.key_dim, conv_size, bias=conv_bias, activation="silu")
            self.v_conv1d = ShortConv(self.value_dim, conv_size, bias=conv_bias, activation="silu")
        if use_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
            self.o_norm = GatedRMSNorm(self.head_v_dim, eps=norm_eps)
        else:
            self.o_norm = RMSNorm(self.head_v_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """As DeltaNet.forward: attention_mask [B, L] zeroes padded inputs; past_key_values is a dict
        {layer_idx: state}. Returns (out [B, L, D], None, past_key_values)."""
        if attention_mask is not None:
            hidden_states = hidden_states * attention_mask[..., None].to(hidden_states.dtype)
        B, L, _ = hidden_states.shape
        last = (past_key_values or {}).get(self.layer_idx) or {}
        conv_q, conv_k, conv_v = last.get("conv_state", (None, None, None))

        q, k, v = self.q_proj(hidden_states), self.k_proj(hidden_states), self.v_proj(hidden_states)
        if self.use_short_conv:
            q, conv_q = self.q_conv1d(q, cache=conv_q, output_final_state=use_cache)
            k, conv_k = self.k_conv1d(k, cache=conv_k, output_final_state=use_cache)
            v, conv_v = self.v_conv1d(v, cache=conv_v, output_final_state=use_cache)
        else:
            q, k, v = F.silu(q), F.silu(k), F.silu(v)
        q = l2norm(q.view(B, L, self.num_heads, self.head_k_dim))
        k = l2norm(k.view(B, L, self.num_heads, self.head_k_dim))
        v = v.view(B, L, self.num_heads, self.head_v_dim)
        beta = torch.sigmoid(self.b_proj(hidden_states))
        if self.allow_neg_eigval:
            beta = beta * 2.0
        g = -self.A_log.float().exp() * F.softplus(self.a_proj(hidden_states).float() + self.dt_bias)

        o, state = gated_delta_rule(q, k, v, g, beta, initial_state=last.get("recurrent_state"),
                                    output_final_state=use_cache, chunk_size=self.chunk_size, backend=self.backend)
        if self.use_gate:
            o = self.o_norm(o, self.g_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim))
        else:
            o = self.o_norm(o)
        o = self.o_proj(o.reshape(B, L, self.value_dim))
        if use_cache:
            past_key_values = {} if past_key_values is None else past_key_values
            past_key_values[self.layer_idx] = {"recurrent_state": state, "conv_state": (conv_q, conv_k, conv_v)}
        return o, None, past_key_values
