"""Causal softmax attention with rotary positions through PyTorch's scaled_dot_product_attention: the
quadratic reference every linear-time layer is measured against (fla/layers/attn.py in spirit)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab_ops import apply_rotary

__all__ = ["Attention"]


class Attention(nn.Module):
    """Keyword-only arguments:
        hidden_size, num_heads   model width and heads (head_dim = hidden_size // num_heads, even)
        qkv_bias                 biases on the q, k, v projections (False)
        rope_theta               rotary base (10000)
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 8, layer_idx: Optional[int] = None,
                 qkv_bias: bool = False, rope_theta: float = 10000.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"Attention got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} must be divisible by num_heads {num_heads}")
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.head_dim, self.rope_theta = hidden_size // num_heads, rope_theta
        if self.head_dim % 2:
            raise ValueError(f"rotary embedding needs an even head dimension, not {self.head_dim}")
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.k_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.v_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.o_proj = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """attention_mask [B, L] (1 token, 0 padding) hides padded keys. No incremental decoding: a
        past_key_values or use_cache raises. Returns (out [B, L, D], None, None)."""
        if past_key_values is not None or use_cache:
            raise NotImplementedError("the Attention baseline has no key/value cache")
        B, L, _ = hidden_states.shape
        shape = (B, L, self.num_heads, self.head_dim)
        q = apply_rotary(self.q_proj(hidden_states).view(shape), base=self.rope_theta)
        k = apply_rotary(self.k_proj(hidden_states).view(shape), base=self.rope_theta)
        v = self.v_proj(hidden_states).view(shape)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))                     # [B, H, L, d]
        if attention_mask is None:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
            allowed = causal & attention_mask[:, None, None, :].bool()
            allowed = allowed | torch.eye(L, dtype=torch.bool, device=q.device)   # no all-masked rows
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        o = self.o_proj(o.transpose(1, 2).reshape(B, L, self.hidden_size))
        return o, None, None
