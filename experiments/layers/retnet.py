"""Multi-scale retention (Sun et al., 2023: "Retentive Network"), laid out like flash-linear-attention's
fla/layers/multiscale_retention.py and built on archlab_ops: linear attention with a fixed decay per head.

    q, k = rotary(q_proj(x)), rotary(k_proj(x))      gamma_h = 1 - 2^(-5-h)  (head h: long to short memory)
    S_t = gamma_h S_{t-1} + k_t v_t^T,   o_t = S_t^T q_t / sqrt(d_k)
    out = o_proj(RMSNorm(o) * silu(g_proj(x)))        (RetNet's per-head GroupNorm + swish gate)
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn

from archlab_ops import GatedRMSNorm, RMSNorm, apply_rotary, decayed_linear_attention

__all__ = ["MultiScaleRetention"]


class MultiScaleRetention(nn.Module):
    """Keyword-only arguments:
        hidden_size, num_heads   model width and heads
        expand_k, expand_v       key / value width as a multiple of hidden_size (1.0, 1.0; RetNet uses 2 for v)
        use_output_gate          swish output gate g_proj(x) (True)
        rope_theta               rotary base for q, k (10000; RetNet's xPos without the scaling)
        norm_eps                 output norm epsilon (1e-5)
        mode                     'chunk' (fast chunked kernels) or 'naive' (the plain recurrence)
        chunk_size               chunk length of the chunked form (None: 64 on CUDA, 32 on CPU)
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 8, layer_idx: Optional[int] = None,
                 expand_k: float = 1.0, expand_v: float = 1.0, use_output_gate: bool = True,
                 rope_theta: float = 10000.0, norm_eps: float = 1e-5, mode: str = "chunk",
                 chunk_size: Optional[int] = None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"MultiScaleRetention got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if mode not in ("chunk", "naive"):
            raise ValueError(f"mode must be 'chunk' or 'naive', not {mode!r}")
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        if self.key_dim % num_heads or self.value_dim % num_heads:
            raise ValueError(f"key_dim {self.key_dim} and value_dim {self.value_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        if self.head_k_dim % 2:
            raise ValueError(f"rotary embedding needs an even key dimension per head, not {self.head_k_dim}")
        self.use_output_gate, self.rope_theta = use_output_gate, rope_theta
        self.mode, self.chunk_size = mode, chunk_size
        self.backend = None if mode == "chunk" else "naive"
        self.register_buffer("log_decay", torch.log(1 - 2.0 ** (-5.0 - torch.arange(num_heads, dtype=torch.float32))),
                             persistent=False)
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        if use_output_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
            self.g_norm = GatedRMSNorm(self.head_v_dim, eps=norm_eps)
        else:
            self.g_norm = RMSNorm(self.head_v_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """attention_mask [B, L] zeroes padded inputs; past_key_values is a dict {layer_idx: state} (with the
        rotary offset). Returns (out [B, L, D], None, past_key_values)."""
        if attention_mask is not None:
            hidden_states = hidden_states * attention_mask[..., None].to(hidden_states.dtype)
        B, L, _ = hidden_states.shape
        last = (past_key_values or {}).get(self.layer_idx) or {}
        offset = last.get("offset", 0)
        q = apply_rotary(self.q_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim),
                         offset=offset, base=self.rope_theta)
        k = apply_rotary(self.k_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim),
                         offset=offset, base=self.rope_theta)
        v = self.v_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim)
        o, state = decayed_linear_attention(q, k, v, self.log_decay, initial_state=last.get("recurrent_state"),
                                            output_final_state=use_cache, chunk_size=self.chunk_size,
                                            backend=self.backend)
        if self.use_output_gate:
            o = self.g_norm(o, self.g_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim))
        else:
            o = self.g_norm(o)
        o = self.o_proj(o.reshape(B, L, self.value_dim))
        if use_cache:
            past_key_values = {} if past_key_values is None else past_key_values
            past_key_values[self.layer_idx] = {"recurrent_state": state, "offset": offset + L}
        return o, None, past_key_values
