"""Causal linear attention (Katharopoulos et al., 2020: "Transformers are RNNs") with the elu + 1 feature map,
built on archlab_ops.

    phi(x) = elu(x) + 1         o_t = phi(q_t)^T S_t / (phi(q_t) . z_t),   S_t = sum_{s<=t} phi(k_s) v_s^T,
                                                                           z_t = sum_{s<=t} phi(k_s)
    out = o_proj(o)
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab_ops import linear_attention

__all__ = ["LinearAttention"]


class LinearAttention(nn.Module):
    """Keyword-only arguments:
        hidden_size, num_heads   model width and heads
        expand_k, expand_v       key / value width as a multiple of hidden_size (1.0, 1.0)
        normalize                divide by phi(q_t) . sum_{s<=t} phi(k_s) (True); False leaves the raw sum
        norm_eps                 added to that denominator (1e-6)
        mode                     'chunk' (fast chunked kernels) or 'naive' (the plain recurrence)
        chunk_size               chunk length of the chunked form (None: 64 on CUDA, 32 on CPU)
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 4, layer_idx: Optional[int] = None,
                 expand_k: float = 1.0, expand_v: float = 1.0, normalize: bool = True, norm_eps: float = 1e-6,
                 mode: str = "chunk", chunk_size: Optional[int] = None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"LinearAttention got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if mode not in ("chunk", "naive"):
            raise ValueError(f"mode must be 'chunk' or 'naive', not {mode!r}")
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        if self.key_dim % num_heads or self.value_dim % num_heads:
            raise ValueError(f"key_dim {self.key_dim} and value_dim {self.value_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.normalize, self.norm_eps = normalize, norm_eps
        self.mode, self.chunk_size = mode, chunk_size
        self.backend = None if mode == "chunk" else "naive"
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """attention_mask [B, L] zeroes padded inputs; past_key_values is a dict {layer_idx: state}.
        Returns (out [B, L, D], None, past_key_values)."""
        if attention_mask is not None:
            hidden_states = hidden_states * attention_mask[..., None].to(hidden_states.dtype)
        B, L, _ = hidden_states.shape
        last = (past_key_values or {}).get(self.layer_idx) or {}
        q = F.elu(self.q_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim)) + 1.0
        k = F.elu(self.k_proj(hidden_states).view(B, L, self.num_heads, self.head_k_dim)) + 1.0
        v = self.v_proj(hidden_states).view(B, L, self.num_heads, self.head_v_dim)
        if attention_mask is not None:   # phi(0) = 1: padded keys must not count in the normaliser
            k = k * attention_mask[:, :, None, None].to(k.dtype)

        o, state = linear_attention(q, k, v, scale=1.0, initial_state=last.get("recurrent_state"),
                                    output_final_state=use_cache, chunk_size=self.chunk_size, backend=self.backend)
        z = None
        if self.normalize or use_cache:
            z = k.float().cumsum(1)
            if last.get("normalizer") is not None:
                z = z + last["normalizer"][:, None]
        if self.normalize:
            o = (o.float() / ((q.float() * z).sum(-1, keepdim=True) + self.norm_eps)).to(o.dtype)
        o = self.o_proj(o.reshape(B, L, self.value_dim))
        if use_cache:
            past_key_values = {} if past_key_values is None else past_key_values
            past_key_values[self.layer_idx] = {"recurrent_state": state, "normalizer": z[:, -1]}
        return o, None, past_key_values
