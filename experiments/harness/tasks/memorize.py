"""Memorisation, MAD-style (Poli et al. 2024; V256, L32): a fixed key -> value map learned in the weights.

One map per run (drawn from the run seed): keys [0, V/2) -> values [V/2, V), with replacement. Examples are
`k1 v1 k2 v2 ...` with keys drawn uniformly; every key is labelled with its value. Nothing in the context helps:
the facts must be stored in parameters, which is where mixers of equal width differ. Training and evaluation
draw from the same map (that is the task). Metric: accuracy over labelled positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Batch, Task, even_vocab, stream, to_batch, unlabelled


@dataclass
class Settings:
    vocab_size: int = 256
    seq_len: int = 32


class Memorize(Task):
    name = "memorize"
    Settings = Settings

    def rules(self, s: Settings):
        yield even_vocab(s)
        yield s.seq_len >= 2 and s.seq_len % 2 == 0, f"seq_len must be even and >= 2, not {s.seq_len}"

    def __init__(self, settings: Settings, seed: int, key: str):
        super().__init__(settings, seed, key)
        half = settings.vocab_size // 2
        self.table = stream(seed, key, 2, 0).integers(half, settings.vocab_size, size=half)

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        s = self.settings
        keys = rng.integers(0, s.vocab_size // 2, size=(n, s.seq_len // 2))
        x = np.empty((n, s.seq_len), dtype=np.int64)
        x[:, 0::2], x[:, 1::2] = keys, self.table[keys]
        y = unlabelled(n, s.seq_len)
        y[:, 0::2] = self.table[keys]
        return to_batch(x, y)
