"""MQAR, multi-query associative recall, with Zoology's semantics (Arora et al. 2023, `multiquery_ar`).

Vocab V: keys from [1, V/2), values from [V/2, V). Each example holds K key-value pairs with distinct keys and
distinct values: a context `k1 v1 ... kK vK` (2K tokens), then a query region of L - 2K tokens in which every key
reappears once, at offset 2*gap_i, the gaps drawn without replacement from {0 .. (L-2K)/2 - 1} with
p(i) ∝ (i+1)^(a-1) (a = 0.01). Only the position holding a re-queried key is labelled (with its value). Other
query-region tokens are 0, or random tokens from [0, V) when random_non_queries (Zoology's default).
Metric: accuracy over labelled positions. Constraints as in Zoology: L even, V > L, 4K <= L.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Batch, Task, distinct_per_row, sample_without_replacement, to_batch, unlabelled


@dataclass
class Settings:
    vocab_size: int = 128
    seq_len: int = 64
    num_pairs: int = 4
    power_a: float = 0.01
    random_non_queries: bool = True


class MQAR(Task):
    name = "mqar"
    Settings = Settings

    def rules(self, s: Settings):
        yield s.seq_len % 2 == 0, f"seq_len must be even, not {s.seq_len}"
        yield s.vocab_size > s.seq_len, f"vocab_size ({s.vocab_size}) must exceed seq_len ({s.seq_len})"
        yield (s.num_pairs >= 1 and 4 * s.num_pairs <= s.seq_len,
               f"need 1 <= num_pairs and 4*num_pairs <= seq_len, got num_pairs={s.num_pairs}, seq_len={s.seq_len}")
        yield 0 < s.power_a <= 1, f"power_a must be in (0, 1], not {s.power_a}"

    def __init__(self, settings: Settings, seed: int, key: str):
        super().__init__(settings, seed, key)
        space = (settings.seq_len - 2 * settings.num_pairs) // 2
        self.gap_weights = np.arange(1, space + 1, dtype=np.float64) ** (settings.power_a - 1)

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        s = self.settings
        K, L, half = s.num_pairs, s.seq_len, s.vocab_size // 2
        context = 2 * K
        keys = distinct_per_row(rng, 1, half, n, K)
        values = distinct_per_row(rng, half, s.vocab_size, n, K)
        gaps = sample_without_replacement(rng, self.gap_weights, n, K)
        x = np.zeros((n, L), dtype=np.int64)
        x[:, 0:context:2], x[:, 1:context:2] = keys, values
        query_pos = context + 2 * gaps
        rows = np.arange(n)[:, None]
        x[rows, query_pos] = keys
        y = unlabelled(n, L)
        y[rows, query_pos] = values
        if s.random_non_queries:
            filler = rng.integers(0, s.vocab_size, size=(n, L))
            free = np.zeros((n, L), dtype=bool)
            free[:, context:] = True
            free[rows, query_pos] = False
            x = np.where(free, filler, x)
        return to_batch(x, y)
