"""Linear attention with an optional log-decay, in chunked form: vectorised within chunks, a Python loop
over chunks that only does one elementwise state update per chunk.

Within a chunk (cumulative log-decay G_t inside the chunk, every factor below is exp(<= 0) so nothing
overflows however strong the decay):

    o      = (Q . exp(G)) S + A V,   A_ts = sum_d q_td k_sd exp(G_td - G_sd)  for s <= t, else 0
    S_next = exp(G_C) S + (K . exp(G_C - G))^T V

With a scalar decay per head (or none) A = (Q K^T) . exp(G_t - G_s) is one matmul. With a decay per key
dimension (GLA) A is built by recursive halving, exactly and without overflow: each pair s < t is counted at
the level where s and t first fall into different halves of a segment, with the last position r of the first
half as reference, A_ts = sum_d [q_td exp(G_td - G_rd)] [k_sd exp(G_rd - G_sd)], both factors <= 1; the
diagonal is q_t . k_t. That is log2(C) levels of small matmuls, so per-dimension chunks are powers of two.
Computed in float32 (float64 for float64 inputs); the output has q's dtype.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .._common import compute_dtype, fp32_compute, from_chunks, masked_decay, to_chunks


@fp32_compute
def chunk_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: None = None,
                           g: Optional[torch.Tensor] = None, scale: float,
                           initial_state: Optional[torch.Tensor] = None, output_final_state: bool = False,
                           chunk_size: int = 64) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    del beta
    B, L, H, K = q.shape
    V = v.shape[-1]
    per_dim = g is not None and g.dim() == 4
    C = min(chunk_size, L)
    if per_dim:   # a power of two: the largest <= chunk_size, but no larger than L needs
        C = min(1 << (chunk_size.bit_length() - 1), 1 << (L - 1).bit_length())
    out_dtype, dt = q.dtype, compute_dtype(q)
    q, k, v = (to_chunks(x, C, dt) for x in (q, k, v))
    q = q * scale
    N = q.shape[2]
    if g is None:
        intra = (q @ k.transpose(-1, -2)).tril() @ v
        q_in, k_end, chunk_decay = q, k, None
    elif not per_dim:
        G = to_chunks(g, C, dt).cumsum(-1)                                       # [B, H, N, C]
        causal = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
        intra = ((q @ k.transpose(-1, -2)) * masked_decay(G, causal)) @ v
        q_in = q * G.exp()[..., None]
        k_end = k * (G[..., -1:] - G).exp()[..., None]
        chunk_decay = G[..., -1].exp()[..., None, None]                      # [B, H, N, 1, 1]
    else:
        G = to_chunks(g, C, dt).cumsum(-2)                                       # [B, H, N, C, K]
        intra = per_dim_intra(q, k, v, G)
        q_in = q * G.exp()
        k_end = k * (G[..., -1:, :] - G).exp()
        chunk_decay = G[..., -1, :].exp()[..., None]                         # [B, H, N, K, 1]

    updates = (k_end.transpose(-1, -2) @ v).unbind(2)                        # N x [B, H, K, V]
    decays = [None] * N if chunk_decay is None else chunk_decay.unbind(2)
    S = q.new_zeros(B, H, K, V) if initial_state is None else initial_state.to(dt)
    states = []
    for n in range(N):   # (unbound above: slicing [:, :, n] here would make backward write full-size grads)
        states.append(S)
        S = S + updates[n] if decays[n] is None else S * decays[n] + updates[n]
    o = q_in @ torch.stack(states, dim=2) + intra
    return from_chunks(o, L).to(out_dtype), (S if output_final_state else None)


def per_dim_intra(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """sum_{s<=t} [sum_d q_td k_sd exp(G_td - G_sd)] v_s within each chunk, by recursive halving (see above).
    q, k, G [..., C, K], v [..., C, V], C a power of two; returns [..., C, V]."""
    C = q.shape[-2]
    out = (q * k).sum(-1, keepdim=True) * v                                     # s = t
    half = C // 2
    while half >= 1:
        split = q.shape[:-2] + (C // (2 * half), 2, half)                        # segments of two halves
        Gs = G.reshape(*split, -1)
        ref = Gs[..., 0, half - 1:, :]                                          # last position of first halves
        rows = q.reshape(*split, -1)[..., 1, :, :] * (Gs[..., 1, :, :] - ref).exp()
        cols = k.reshape(*split, -1)[..., 0, :, :] * (ref - Gs[..., 0, :, :]).exp()
        part = (rows @ cols.transpose(-1, -2)) @ v.reshape(*split, -1)[..., 0, :, :]
        out = out + torch.stack([torch.zeros_like(part), part], dim=-3).reshape(out.shape)
        half //= 2
    return out
