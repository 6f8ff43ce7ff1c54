"""The (gated) delta rule in chunked WY/UT form: vectorised within chunks, a Python loop only over chunks.

Within a chunk of C positions starting from state S (cumulative log-decay G_t = g_1 + ... + g_t inside the
chunk, gamma_t = exp(G_t), Gamma_ts = exp(G_t - G_s) for s <= t, all <= 1; without a gate all are 1):

    delta_t  = beta_t (v_t - gamma_t S^T k_t - sum_{s<t} Gamma_ts (k_t . k_s) delta_s)     (the new values)
    (I + M) delta = beta V - diag(beta gamma) K S,     M_ts = beta_t Gamma_ts (k_t . k_s) for s < t
    u = (I + M)^-1 (beta V),  w = (I + M)^-1 (beta gamma K)  ->  delta = u - w S          (UT transform)
    o        = (gamma Q) S + (Q K^T . Gamma . causal) delta
    S_next   = gamma_C S + (K . Gamma_C)^T delta

u, w and the intra-chunk products are computed for all chunks at once; the loop over chunks does two small
matmuls per chunk. Everything runs in float32 (float64 for float64 inputs); the output has q's dtype.
Positions padded at the end (L not a multiple of C) have k = v = beta = g = 0 and leave the state unchanged.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .._common import compute_dtype, fp32_compute, from_chunks, masked_decay, to_chunks


@fp32_compute
def chunk_delta_rule(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: torch.Tensor,
                     g: Optional[torch.Tensor] = None, scale: float, initial_state: Optional[torch.Tensor] = None,
                     output_final_state: bool = False, chunk_size: int = 64,
                     ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    B, L, H, K = q.shape
    V = v.shape[-1]
    C = min(chunk_size, L)
    out_dtype, dt = q.dtype, compute_dtype(q)
    q, k, v, beta = (to_chunks(x, C, dt) for x in (q, k, v, beta))
    q = q * scale
    N = q.shape[2]
    causal = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()

    kk = k @ k.transpose(-1, -2)                                    # [B, H, N, C, C]
    qk = q @ k.transpose(-1, -2)
    if g is None:
        qk = qk.masked_fill(~causal, 0.0)
        k_w, q_in, k_end, chunk_decay = k, q, k, None
    else:
        G = to_chunks(g, C, dt).cumsum(-1)                              # [B, H, N, C]
        Gamma = masked_decay(G, causal)
        kk, qk = kk * Gamma, qk * Gamma
        k_w = k * G.exp()[..., None]
        q_in = q * G.exp()[..., None]
        k_end = k * (G[..., -1:] - G).exp()[..., None]
        chunk_decay = G[..., -1].exp()[..., None, None]             # [B, H, N, 1, 1]
    # strictly lower part only: solve_triangular(unitriangular=True) supplies the identity
    M = (beta[..., None] * kk).tril(-1)
    uw = torch.linalg.solve_triangular(M, torch.cat([v, k_w], -1) * beta[..., None], upper=False,
                                       unitriangular=True)
    u, w = uw.split([V, K], dim=-1)

    S = q.new_zeros(B, H, K, V) if initial_state is None else initial_state.to(dt)
    states, deltas = [], []
    for n in range(N):
        states.append(S)
        delta = u[:, :, n] - w[:, :, n] @ S
        deltas.append(delta)
        update = k_end[:, :, n].transpose(-1, -2) @ delta
        S = S + update if chunk_decay is None else S * chunk_decay[:, :, n] + update
    o = q_in @ torch.stack(states, dim=2) + qk @ torch.stack(deltas, dim=2)
    return from_chunks(o, L).to(out_dtype), (S if output_final_state else None)
