"""Gated linear attention (Yang et al., 2024: "Gated Linear Attention Transformers with Hardware-Efficient
Training"), laid out like flash-linear-attention's fla/layers/gla.py and built on archlab_ops: linear attention
with a data-dependent decay per key dimension.

    gk = logsigmoid(W2 W1 x) / gate_logit_normalizer            (low-rank, [B, L, H, d_k], <= 0)
    S_t = diag(exp(gk_t)) S_{t-1} + k_t v_t^T,   o_t = S_t^T q_t / sqrt(d_k)
    out = o_proj(RMSNorm(o) * silu(g_proj(x)))
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab_ops import GatedRMSNorm, RMSNorm, decayed_linear_attention

__all__ = ["GatedLinearAttention"]


class GatedLinearAttention(nn.Module):
    """Keyword-only arguments (defaults as in fla):
        hidden_size, num_heads   model width and heads
        expand_k, expand_v       key / value width as a multiple of hidden_size (0.5, 1.0)
        gate_low_rank_dim        rank of the decay projection (16)
        gate_logit_normalizer    divides logsigmoid(.), keeping the decay gentle (16)
        use_output_gate          swish output gate g_proj(x) (True)
        norm_eps                 output norm epsilon (1e-5)
        mode                     'chunk' (fast chunked kernels) or 'naive' (the plain recurrence)
        chunk_size               chunk length of the chunked form (None: 64 on CUDA, 32 on CPU)
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 4, layer_idx: Optional[int] = None,
                 expand_k: float = 0.5, expand_v: float = 1.0, gate_low_rank_dim: int = 16,
                 gate_logit_normalizer: float = 16.0, use_output_gate: bool = True, norm_eps: float = 1e-5,
                 mode: str = "chunk", chunk_size: Optional[int] = None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"GatedLinearAttention got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if mode not in ("chunk", "naive"):
            hint = " (for fla's fused_recurrent use 'naive': the same recurrence)" if mode == "fused_recurrent" else ""
            raise ValueError(f"mode must be 'chunk' or 'naive', not {mode!r}{hint}")
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        if self.key_dim % num_heads or self.value_dim % num_heads:
            raise ValueError(f"key_dim {self.key_dim} and value_dim {self.value_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.gate_logit_normalizer, self.use_output_gate = gate_logit_normalizer, use_output_gate
        self.mode, self.chunk_size = mode, chunk_size
        self.backend = None if mode == "chunk" else "naive"
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.gk_proj = nn.Sequential(nn.Linear(hidden_size, gate_low_rank_dim, bias=False),
                                     nn.Linear(gate_low_rank_dim, self.key_dim, bias=True))
        if use_output_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
            self.g_norm = GatedRMSNorm(self.head_v_dim, eps=norm_eps)
        else:
            self.g_norm = RMSNorm(self.head_v_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """attention_mask [B, L] zeroes padded inputs; past_key_values is a dict {layer_idx: state}.
        Returns (out [B, L, D], None, past_key_values)."""
        if attention_mask is not None:
            hidden_states = hidden_states * attention_mask[..., None].to(hidden_states.dtype)
        B, L, _ = hidden_states.shape
        last = (past_key_values or {}).get(self.layer_idx) or {}
        q = self.q_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim)
        k = self.k_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim)
        v = self.v_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim)
        gk = F.logsigmoid(self.gk_proj(hidden_states).float()) / self.gate_logit_normalizer
        o, state = decayed_linear_attention(q, k, v, gk.view(B, L, self.num_heads, self.head_k_dim),
                                            initial_state=last.get("recurrent_state"), output_final_state=use_cache,
                                            chunk_size=self.chunk_size, backend=self.backend)
        if self.use_output_gate:
            o = self.g_norm(o, self.g_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim))
        else:
            o = self.g_norm(o)
        o = self.o_proj(o.reshape(B, L, self.value_dim))
        if use_cache:
            past_key_values = {} if past_key_values is None else past_key_values
            past_key_values[self.layer_idx] = {"recurrent_state": state}
        return o, None, past_key_values
