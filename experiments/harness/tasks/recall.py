"""In-context recall and noisy in-context recall, MAD-style (Poli et al. 2024).

Each example is a stream of key-value pairs `k v k v ...` over a small vocab: keys from [0, V/2), values from
[V/2, V). Every example draws its own map key -> value (values with replacement); keys are drawn with replacement,
so they recur. Each value whose key already appeared earlier in the example (as a key, not as noise) is labelled:
recalling it needs the example's map, held in context. First occurrences are unlabelled (not predictable).
Noisy recall replaces each pair slot, with probability noise_frac, by two tokens from a separate noise vocab
[V, V + noise_vocab_size) that are never labelled (MAD: 20% noise). Metric: accuracy over labelled positions.
MAD evaluates one final query per example; labelling every recurring key gives the same skill with denser signal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import IGNORE, Batch, Task, even_vocab, to_batch, unlabelled


@dataclass
class Settings:
    vocab_size: int = 16
    seq_len: int = 128
    noise_frac: float = 0.0
    noise_vocab_size: int = 4


@dataclass
class NoisySettings(Settings):
    noise_frac: float = 0.2


class InContextRecall(Task):
    name = "recall"
    Settings = Settings

    def rules(self, s: Settings):
        yield even_vocab(s)
        yield s.seq_len >= 4 and s.seq_len % 2 == 0, f"seq_len must be even and >= 4, not {s.seq_len}"
        yield 0 <= s.noise_frac < 1, f"noise_frac must be in [0, 1), not {s.noise_frac}"
        yield s.noise_frac == 0 or s.noise_vocab_size >= 1, "noise needs noise_vocab_size >= 1"

    def __init__(self, settings: Settings, seed: int, key: str):
        super().__init__(settings, seed, key)
        self.vocab_size += settings.noise_vocab_size if settings.noise_frac > 0 else 0   # noise tokens above the pairs'

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        s = self.settings
        half, pairs = s.vocab_size // 2, s.seq_len // 2
        rows = np.arange(n)[:, None]
        table = rng.integers(half, s.vocab_size, size=(n, half))        # each example's map key -> value
        keys = rng.integers(0, half, size=(n, pairs))
        values = table[rows, keys]
        noise = rng.random((n, pairs)) < s.noise_frac
        onehot = np.zeros((n, pairs, half), dtype=np.int32)
        onehot[rows, np.arange(pairs)[None, :], keys] = ~noise
        seen_before = (np.cumsum(onehot, axis=1) - onehot)[rows, np.arange(pairs)[None, :], keys] > 0
        labelled = seen_before & ~noise
        x = np.empty((n, s.seq_len), dtype=np.int64)
        x[:, 0::2], x[:, 1::2] = keys, values
        if noise.any():
            noise_tokens = rng.integers(s.vocab_size, s.vocab_size + s.noise_vocab_size, size=(n, s.seq_len))
            x = np.where(np.repeat(noise, 2, axis=1), noise_tokens, x)
        y = unlabelled(n, s.seq_len)
        y[:, 0::2] = np.where(labelled, values, IGNORE)   # label sits on the key: predict the value after it
        return to_batch(x, y)


class NoisyRecall(InContextRecall):
    name = "noisy_recall"
    Settings = NoisySettings
