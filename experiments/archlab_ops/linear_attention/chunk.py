"""Linear attention with an optional log-decay, in chunked form: vectorised within chunks, a Python loop
over chunks that only does one elementwise state update per chunk.

Within a chunk (cumulative log-decay G_t inside the chunk, every factor below is exp(<= 0) so nothing
overflows however strong the decay):

    o      = (Q . exp(G)) S + A V,   A_ts = sum_d q_td k_sd exp(G_td - G_sd)  for s <= t, else 0
    S_next = exp(G_C) S + (K . exp(G_C - G))^T V

With a scalar decay per head (or none) A = (Q K^T) . exp(G_t - G_s) is a matmul and the chunk is chunk_size
(default 64). With a decay per key dimension (GLA) A needs the exact [C, C, K] decay tensor, so those chunks
are at most PER_DIM_CHUNK = 16 positions (the same work as a 64-chunk with exact 16-wide sub-blocks).
Computed in float32 (float64 for float64 inputs); the output has q's dtype.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .._common import compute_dtype, fp32_compute, from_chunks, masked_decay, to_chunks

PER_DIM_CHUNK = 16


@fp32_compute
def chunk_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: None = None,
                           g: Optional[torch.Tensor] = None, scale: float,
                           initial_state: Optional[torch.Tensor] = None, output_final_state: bool = False,
                           chunk_size: int = 64) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    del beta
    B, L, H, K = q.shape
    V = v.shape[-1]
    per_dim = g is not None and g.dim() == 4
    C = min(chunk_size, PER_DIM_CHUNK if per_dim else chunk_size, L)
    out_dtype, dt = q.dtype, compute_dtype(q)
    q, k, v = (to_chunks(x, C, dt) for x in (q, k, v))
    q = q * scale
    N = q.shape[2]
    causal = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()

    if g is None:
        A = (q @ k.transpose(-1, -2)).masked_fill(~causal, 0.0)
        q_in, k_end, chunk_decay = q, k, None
    elif not per_dim:
        G = to_chunks(g, C, dt).cumsum(-1)                                       # [B, H, N, C]
        A = (q @ k.transpose(-1, -2)) * masked_decay(G, causal)
        q_in = q * G.exp()[..., None]
        k_end = k * (G[..., -1:] - G).exp()[..., None]
        chunk_decay = G[..., -1].exp()[..., None, None]                      # [B, H, N, 1, 1]
    else:
        G = to_chunks(g, C, dt).cumsum(-2)                                       # [B, H, N, C, K]
        A = (q[..., :, None, :] * k[..., None, :, :] * masked_decay(G, causal, per_dim=True)).sum(-1)
        q_in = q * G.exp()
        k_end = k * (G[..., -1:, :] - G).exp()
        chunk_decay = G[..., -1, :].exp()[..., None]                         # [B, H, N, K, 1]

    updates = k_end.transpose(-1, -2) @ v                                    # [B, H, N, K, V]
    S = q.new_zeros(B, H, K, V) if initial_state is None else initial_state.to(dt)
    states = []
    for n in range(N):
        states.append(S)
        S = S + updates[:, :, n] if chunk_decay is None else S * chunk_decay[:, :, n] + updates[:, :, n]
    o = q_in @ torch.stack(states, dim=2) + A @ v
    return from_chunks(o, L).to(out_dtype), (S if output_final_state else None)
