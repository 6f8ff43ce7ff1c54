"""Padding helpers: pack the real tokens of a padded batch into one sequence and back.

    indices, cu_seqlens, max_seqlen = get_unpad_data(mask)          # mask [B, L], 1 = real token
    packed = index_first_axis(rearrange(x, "b l ... -> (b l) ..."), indices)   # [total, ...]
    x = pad_input(packed, indices, B, L)                            # [B, L, ...], zeros at padding
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F

__all__ = ["get_unpad_data", "index_first_axis", "pad_input"]


def get_unpad_data(attention_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """attention_mask [B, L] (nonzero = keep) -> (indices into the flattened B*L tokens, cu_seqlens int32 [B+1],
    the longest sequence's length)."""
    lens = attention_mask.sum(-1, dtype=torch.int32)
    indices = torch.nonzero(attention_mask.flatten(), as_tuple=False).flatten()
    cu_seqlens = F.pad(torch.cumsum(lens, dim=0, dtype=torch.int32), (1, 0))
    max_seqlen = int(lens.max().item()) if lens.numel() else 0
    return indices, cu_seqlens, max_seqlen


def index_first_axis(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """x[indices] along the first axis (x has at least 2 dimensions); differentiable."""
    if x.ndim < 2:
        raise ValueError(f"index_first_axis needs a tensor with at least 2 dimensions, got shape {tuple(x.shape)}")
    return x[indices]


def pad_input(hidden_states: torch.Tensor, indices: torch.Tensor, batch_size: int, seq_len: int) -> torch.Tensor:
    """Inverse of index_first_axis: scatter the packed rows to `indices` of a zero [batch_size * seq_len, ...]
    tensor and reshape it to [batch_size, seq_len, ...]; differentiable."""
    out = hidden_states.new_zeros(batch_size * seq_len, *hidden_states.shape[1:])
    out = out.index_put((indices,), hidden_states)
    return out.view(batch_size, seq_len, *hidden_states.shape[1:])
