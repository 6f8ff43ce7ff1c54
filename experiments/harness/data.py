"""Training data sources. Each is seeded and deterministic: batch(step) is the same on every run.

A source gives training batches (x, y) with y = -100 where nothing is labelled, eval_items() (the held-out
inputs and their labels, evaluation.py) and train_tokens(steps). The proxy stage's tasks (tasks/) follow the same
interface; the trusted evaluator scores the candidate's outputs on eval_items() (evaluate.py).
"""
from __future__ import annotations

from typing import List, Tuple

import torch

from .evaluation import EvalItem, outputs_from, score_items

Batch = Tuple[torch.Tensor, torch.Tensor]


class RandomTokens:
    """Uniform random tokens: nothing to learn beyond the unigram, enough to exercise every code path."""

    name = "random"

    def __init__(self, vocab_size: int, seq_len: int, batch_size: int, seed: int, eval_batches: int = 2, eval_seed: int = 0):
        self.vocab_size, self.seq_len, self.batch_size = vocab_size, seq_len, batch_size
        self.seed, self.eval_batches, self.eval_seed = seed, eval_batches, eval_seed

    def _sample(self, stream: int, index: int) -> Batch:
        seed = self.eval_seed if stream == 1 else self.seed
        g = torch.Generator().manual_seed(seed * 1_000_003 + stream * 7919 + index)
        tokens = torch.randint(0, self.vocab_size, (self.batch_size, self.seq_len + 1), generator=g)
        return tokens[:, :-1], tokens[:, 1:]

    def batch(self, step: int) -> Batch:
        return self._sample(0, step)

    def eval_items(self) -> List[EvalItem]:
        return [EvalItem(f"random/{i}", "random", "loss", *self._sample(1, i), 0, self.vocab_size)
                for i in range(self.eval_batches)]

    def evaluate(self, logits_of) -> dict:
        """Metrics of a model given as logits_of (in-process use: tests and benches; runs go through evaluate.py)."""
        return score_items(self.eval_items(), outputs_from(self.eval_items(), logits_of))

    def train_tokens(self, steps: int) -> int:
        return steps * self.batch_size * self.seq_len


def make_data(spec) -> "RandomTokens":
    """The run spec's data source (a ProxySource for the proxy stage's tasks and corpus, tasks/)."""
    t, d = spec.train, spec.data
    if d.kind == "random":
        return RandomTokens(spec.model.vocab_size, t.seq_len, t.batch_size, spec.seed, d.eval_batches, d.eval_seed)
    from .tasks import make_source
    return make_source(spec)
