"""Linear attention with an optional log-decay, as a plain loop over time: the reference.

    S_t = exp(g_t) S_{t-1} + k_t v_t^T        g_t a scalar per head ([B, L, H]) or per key dimension
                                              ([B, L, H, K], decaying the rows of S); g None: no decay
    o_t = S_t^T (scale q_t)

Shapes as in archlab_ops/README.md: q, k [B, L, H, K], v [B, L, H, V], state [B, H, K, V].
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .._common import compute_dtype, fp32_compute


@fp32_compute
def naive_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: None = None,
                           g: Optional[torch.Tensor] = None, scale: float,
                           initial_state: Optional[torch.Tensor] = None, output_final_state: bool = False,
                           chunk_size: int = 64) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    del beta, chunk_size  # accepted so every backend shares one signature
    B, L, H, K = q.shape
    V = v.shape[-1]
    out_dtype = q.dtype
    dt = compute_dtype(q)
    q, k, v = q.to(dt), k.to(dt), v.to(dt)
    q = q * scale
    S = q.new_zeros(B, H, K, V) if initial_state is None else initial_state.to(dt)
    # unbind once: indexing x[:, t] in the loop would make backward allocate a full-size gradient per step
    qs, ks, vs = q.unbind(1), k.unbind(1), v.unbind(1)
    decays = [None] * L if g is None else g.to(dt).exp().unbind(1)
    outputs = []
    for t in range(L):
        if decays[t] is not None:
            S = S * (decays[t][..., None] if g.dim() == 4 else decays[t][..., None, None])
        S = S + ks[t][..., :, None] * vs[t][..., None, :]
        outputs.append(torch.einsum("bhk,bhkv->bhv", qs[t], S))
    o = torch.stack(outputs, dim=1).to(out_dtype)
    return o, (S if output_final_state else None)
