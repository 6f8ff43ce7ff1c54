"""Selective copying, MAD-style (Poli et al. 2024; V16, L256, copy 16).

A data region of seq_len - num_copy positions holds num_copy tokens from [0, V-2) at random sorted positions,
the rest blank (V-2). Then the copy token (V-1) and the copied tokens, teacher-forced: the copy token is labelled
with the first data token, each copied token with the next one. The model must find the data tokens among the
blanks and emit them in order. Metric: accuracy over the num_copy labelled positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Batch, Task, distinct_per_row, to_batch, unlabelled


@dataclass
class Settings:
    vocab_size: int = 16
    seq_len: int = 256
    num_copy: int = 16


class SelectiveCopy(Task):
    name = "selective_copy"
    Settings = Settings

    def rules(self, s: Settings):
        yield s.vocab_size >= 3, f"vocab_size must be >= 3, not {s.vocab_size}"
        yield (1 <= s.num_copy and 2 * s.num_copy <= s.seq_len,
               f"need 1 <= num_copy <= seq_len / 2, got num_copy={s.num_copy}, seq_len={s.seq_len}")

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        s = self.settings
        blank, copy = s.vocab_size - 2, s.vocab_size - 1
        region = s.seq_len - s.num_copy
        tokens = rng.integers(0, s.vocab_size - 2, size=(n, s.num_copy))
        where = np.sort(distinct_per_row(rng, 0, region, n, s.num_copy), axis=1)
        rows = np.arange(n)[:, None]
        x = np.full((n, s.seq_len), blank, dtype=np.int64)
        x[rows, where] = tokens
        x[:, region] = copy
        x[:, region + 1:] = tokens[:, :-1]
        y = unlabelled(n, s.seq_len)
        y[:, region:] = tokens
        return to_batch(x, y)
