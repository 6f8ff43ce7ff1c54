"""Training data sources. Each is seeded and deterministic: batch(step) is the same on every run.

A source gives training batches (x, y) with y = -100 where nothing is labelled, and evaluate(model) returns
its metrics. The proxy stage's tasks (tasks/) follow the same interface.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import torch
import torch.nn.functional as F

Batch = Tuple[torch.Tensor, torch.Tensor]


class RandomTokens:
    """Uniform random tokens: nothing to learn beyond the unigram, enough to exercise every code path."""

    name = "random"

    def __init__(self, vocab_size: int, seq_len: int, batch_size: int, seed: int, eval_batches: int = 2):
        self.vocab_size, self.seq_len, self.batch_size = vocab_size, seq_len, batch_size
        self.seed, self.eval_batches = seed, eval_batches

    def _sample(self, stream: int, index: int) -> Batch:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + stream * 7919 + index)
        tokens = torch.randint(0, self.vocab_size, (self.batch_size, self.seq_len + 1), generator=g)
        return tokens[:, :-1], tokens[:, 1:]

    def batch(self, step: int) -> Batch:
        return self._sample(0, step)

    def evaluate(self, logits_of: Callable[[torch.Tensor], torch.Tensor]) -> Dict[str, float]:
        losses = []
        for i in range(self.eval_batches):
            x, y = self._sample(1, i)
            losses.append(F.cross_entropy(logits_of(x).flatten(0, 1), y.flatten()).item())
        return {"random/loss": sum(losses) / len(losses)}
