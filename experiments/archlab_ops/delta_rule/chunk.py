"""The (gated) delta rule in chunked WY/UT form: vectorised within chunks, a Python loop only over chunks.

Within a chunk of C positions starting from state S (cumulative log-decay G_t = g_1 + ... + g_t inside the
chunk, gamma_t = exp(G_t), Gamma_ts = exp(G_t - G_s) for s <= t, all <= 1; without a gate all are 1):

    delta_t  = beta_t (v_t - gamma_t S^T k_t - sum_{s<t} Gamma_ts (k_t . k_s) delta_s)     (the new values)
    (I + M) delta = beta V - diag(beta gamma) K S,     M_ts = beta_t Gamma_ts (k_t . k_s) for s < t
    u = (I + M)^-1 (beta V),  w = (I + M)^-1 (beta gamma K)  ->  delta = u - w S          (UT transform)
    o        = (gamma Q) S + (Q K^T . Gamma . causal) delta
    S_next   = gamma_C S + (K . Gamma_C)^T delta

u, w and the intra-chunk products are computed for all chunks at once by ordinary autograd ops. The
sequential part (delta_n = u_n - w_n S_n, S_{n+1} = gamma_C S_n + K_n^T delta_n) is one autograd Function with
a hand-written backward, two small matmuls per chunk each way. Everything runs in float32 (float64 for
float64 inputs); the output has q's dtype. Positions padded at the end (L not a multiple of C) have
k = v = beta = g = 0 and leave the state unchanged.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .._common import ContiguousGrad, compute_dtype, fp32_compute, masked_decay


class ChunkScan(torch.autograd.Function):
    """The recurrence across chunks, batch and heads flattened into one leading dimension Z:

        delta_n = u_n - w_n S_n            u [Z, N, C, V], w [Z, N, C, K], S [Z, K, V]
        S_n+1   = d_n S_n + kt_n delta_n   kt [Z, N, K, C], d [Z, N, 1, 1] (None: 1)

    Returns (states [Z, N, K, V]: S before each chunk, deltas [Z, N, C, V], final state [Z, K, V])."""

    @staticmethod
    def forward(ctx, u, w, kt, decay, initial):
        Z, N = u.shape[:2]
        states = u.new_empty(Z, N, *initial.shape[1:])
        deltas = torch.empty_like(u)
        S = initial
        for n in range(N):
            states[:, n] = S
            delta = torch.baddbmm(u[:, n], w[:, n], S, alpha=-1)
            deltas[:, n] = delta
            S = torch.baddbmm(S if decay is None else S * decay[:, n], kt[:, n], delta)
        ctx.save_for_backward(w, kt, decay, states, deltas)
        return states, deltas, S

    @staticmethod
    def backward(ctx, d_states, d_deltas, d_final):
        w, kt, decay, states, deltas = ctx.saved_tensors
        Z, N = deltas.shape[:2]
        d_states = torch.zeros_like(states) if d_states is None else d_states
        d_deltas = torch.zeros_like(deltas) if d_deltas is None else d_deltas
        dS = torch.zeros_like(states[:, 0]) if d_final is None else d_final
        d_u = torch.empty_like(deltas)
        d_next = torch.empty_like(states)          # gradient reaching S_{n+1}, kept for the batched grads
        for n in reversed(range(N)):
            d_next[:, n] = dS
            d_delta = torch.baddbmm(d_deltas[:, n], kt[:, n].transpose(-1, -2), dS)
            d_u[:, n] = d_delta
            carried = dS if decay is None else dS * decay[:, n]
            dS = torch.baddbmm(d_states[:, n] + carried, w[:, n].transpose(-1, -2), d_delta, alpha=-1)
        d_w = -(d_u @ states.transpose(-1, -2))
        d_kt = d_next @ deltas.transpose(-1, -2)
        d_decay = None if decay is None else (states * d_next).sum((-1, -2), keepdim=True)
        return d_u, d_w, d_kt, d_decay, dS


@fp32_compute
def chunk_delta_rule(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: torch.Tensor,
                     g: Optional[torch.Tensor] = None, scale: float, initial_state: Optional[torch.Tensor] = None,
                     output_final_state: bool = False, chunk_size: int = 64,
                     ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    B, L, H, K = q.shape
    V = v.shape[-1]
    C = min(chunk_size, L)
    N = -(-L // C)
    out_dtype, dt = q.dtype, compute_dtype(q)

    def chunks(x: torch.Tensor) -> torch.Tensor:   # [B, L, H, ...] -> [B*H, N, C, ...], zero-padded at the end
        x = x.to(dt)
        if N * C != L:
            x = torch.nn.functional.pad(x, (0, 0) * (x.dim() - 2) + (0, N * C - L))
        x = x.reshape(B, N, C, H, *x.shape[3:]).movedim(3, 1)
        return x.reshape(B * H, N, C, *x.shape[4:])

    q, k, v, beta = chunks(q) * scale, chunks(k), chunks(v), chunks(beta)[..., None]
    causal = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
    kk = (k * beta) @ k.transpose(-1, -2)                           # beta_t k_t . k_s   [Z, N, C, C]
    qk = q @ k.transpose(-1, -2)
    if g is None:
        qk = qk.tril()
        k_w, q_in, k_end, decay = k, q, k, None
    else:
        G = chunks(g).cumsum(-1)                                    # [Z, N, C]
        Gamma = masked_decay(G, causal)
        kk, qk = kk * Gamma, qk * Gamma
        k_w = k * G.exp()[..., None]
        q_in = q * G.exp()[..., None]
        k_end = k * (G[..., -1:] - G).exp()[..., None]
        decay = G[..., -1].exp()[..., None, None]                   # [Z, N, 1, 1]
    # strictly lower part only: solve_triangular(unitriangular=True) supplies the identity
    uw = torch.linalg.solve_triangular(kk.tril(-1), torch.cat([v, k_w], -1) * beta, upper=False,
                                       unitriangular=True)
    u, w = uw.split([V, K], dim=-1)

    S0 = q.new_zeros(B * H, K, V) if initial_state is None else initial_state.to(dt).reshape(B * H, K, V)
    states, deltas, S = ChunkScan.apply(u, w, k_end.transpose(-1, -2), decay, S0)
    o = ContiguousGrad.apply(q_in @ states + qk @ deltas)           # [Z, N, C, V]
    o = o.reshape(B, H, N * C, V).transpose(1, 2)[:, :L]
    return o.to(out_dtype), (S.reshape(B, H, K, V) if output_final_state else None)
