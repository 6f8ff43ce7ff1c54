"""DeltaNet (Yang et al., 2024: "Parallelizing Linear Transformers with the Delta Rule over Sequence Length"),
laid out like flash-linear-attention's fla/layers/delta_net.py and built on archlab_ops.

    q, k, v = short_conv(proj(x))  (silu)        q, k = l2norm(q), l2norm(k)        beta = sigmoid(b_proj(x))
    S_t = S_{t-1} + k_t [beta_t (v_t - S_{t-1}^T k_t)]^T,   o_t = S_t^T q_t / sqrt(d_k)
    out = o_proj(RMSNorm(o))     (or a gated RMSNorm with g_proj(x) when use_gate)
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab_ops import GatedRMSNorm, RMSNorm, ShortConv, delta_rule, l2norm

__all__ = ["DeltaNet"]


class DeltaNet(nn.Module):
    """Keyword-only arguments (defaults as in fla):
        hidden_size, num_heads   model width and heads; key_dim = hidden_size * expand_k splits over the heads
        expand_k, expand_v       key / value width as a multiple of hidden_size (1.0, 1.0)
        use_beta                 beta = sigmoid(b_proj(x)) per head (True); else beta = 1
        allow_neg_eigval         beta in (0, 2) instead of (0, 1) (False)
        use_short_conv           causal depthwise conv (conv_size, conv_bias) on q, k, v (True, 4, False)
        qk_activation            silu | relu | elu (elu + 1) | identity  ('silu')
        qk_norm                  l2 | sum  ('l2')
        use_gate                 output RMSNorm gated by silu(g_proj(x)) (False)
        norm_eps                 output norm epsilon (1e-5)
        mode                     'chunk' (fast chunked kernels: fla when installed and self-checked, else
                                 archlab_ops' chunked form) or 'naive' (the plain recurrence, for checking)
        chunk_size               chunk length of the chunked form (None: 64 on CUDA, 32 on CPU)
    """

    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 4, layer_idx: Optional[int] = None,
                 expand_k: float = 1.0, expand_v: float = 1.0, use_beta: bool = True, use_gate: bool = False,
                 use_short_conv: bool = True, conv_size: int = 4, conv_bias: bool = False,
                 allow_neg_eigval: bool = False, qk_activation: str = "silu", qk_norm: str = "l2",
                 norm_eps: float = 1e-5, mode: str = "chunk", chunk_size: Optional[int] = None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"DeltaNet got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if mode not in ("chunk", "naive"):
            hint = " (for fla's fused_recurrent use 'naive': the same recurrence)" if mode == "fused_recurrent" else ""
            raise ValueError(f"mode must be 'chunk' or 'naive', not {mode!r}{hint}")
        if qk_activation not in ("silu", "relu", "elu", "identity"):
            raise ValueError(f"qk_activation must be silu, relu, elu or identity, not {qk_activation!r}")
        if qk_norm not in ("l2", "sum"):
            raise ValueError(f"qk_norm must be 'l2' or 'sum', not {qk_norm!r}")
        self.hidden_size, self.num_heads, self.layer_idx = hidden_size, num_heads, layer_idx
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        if self.key_dim % num_heads or self.value_dim % num_heads:
            raise ValueError(f"key_dim {self.key_dim} and value_dim {self.value_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.use_beta, self.allow_neg_eigval, self.use_gate = use_beta, allow_neg_eigval, use_gate
        self.use_short_conv, self.qk_activation, self.qk_norm = use_short_conv, qk_activation, qk_norm
        self.mode, self.chunk_size = mode, chunk_size
        self.backend = None if mode == "chunk" else "naive"

        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        if use_beta:
            self.b_proj = nn.Linear(hidden_size, num_heads, bias=False)
        if use_short_conv:
            qk_conv_act = "silu" if qk_activation == "silu" else None
            self.q_conv1d = ShortConv(self.key_dim, conv_size, bias=conv_bias, activation=qk_conv_act)
            self.k_conv1d = ShortConv(self.key_dim, conv_size, bias=conv_bias, activation=qk_conv_act)
            self.v_conv1d = ShortConv(self.value_dim, conv_size, bias=conv_bias, activation="silu")
        if use_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
            self.o_norm = GatedRMSNorm(self.head_v_dim, eps=norm_eps)
        else:
            self.o_norm = RMSNorm(self.head_v_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                past_key_values: Optional[dict] = None, use_cache: bool = False, **kwargs):
        """hidden_states [B, L, D]; attention_mask [B, L] (1 token, 0 padding) zeroes padded inputs (left
        padding leaves the state untouched); past_key_values: a dict {layer_idx: state} read when it holds
        this layer's state and, with use_cache, updated. Returns (out [B, L, D], None, past_key_values)."""
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
            if self.qk_activation == "silu":
                q, k = F.silu(q), F.silu(k)
            v = F.silu(v)
        q, k = (t.view(B, L, self.num_heads, self.head_k_dim) for t in (q, k))
        v = v.view(B, L, self.num_heads, self.head_v_dim)
        if self.qk_activation == "relu":
            q, k = F.relu(q), F.relu(k)
        elif self.qk_activation == "elu":
            q, k = F.elu(q) + 1.0, F.elu(k) + 1.0
        if self.qk_norm == "l2":
            q, k = l2norm(q), l2norm(k)
        else:
            q, k = q / q.sum(-1, keepdim=True), k / k.sum(-1, keepdim=True)
        beta = torch.sigmoid(self.b_proj(hidden_states)) if self.use_beta else q.new_ones(B, L, self.num_heads)
        if self.allow_neg_eigval:
            beta = beta * 2.0

        o, state = delta_rule(q, k, v, beta, initial_state=last.get("recurrent_state"),
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
