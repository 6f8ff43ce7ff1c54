"""Fuzzy in-context recall, MAD-style: keys and values are motifs of 1..max_key_len / 1..max_value_len tokens.

Keys' tokens come from [0, V/2) and values' from [V/2, V), so a motif ends where the vocab half changes. Each
example draws num_keys distinct key motifs and maps each to a value motif; the example is a stream of
(key motif, value motif) pairs, keys drawn with replacement. Every value token that follows a key motif seen
earlier in the example is labelled (the first one needs the key -> value recall, later ones the position within
the motif). Sequences are cut at seq_len. Metric: accuracy over labelled positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import IGNORE, Batch, Task, even_vocab, to_batch, unlabelled


@dataclass
class Settings:
    vocab_size: int = 16
    seq_len: int = 128
    max_key_len: int = 3
    max_value_len: int = 3
    num_keys: int = 8


class FuzzyRecall(Task):
    name = "fuzzy_recall"
    Settings = Settings

    def rules(self, s: Settings):
        yield even_vocab(s)
        yield s.max_key_len >= 1 and s.max_value_len >= 1, "motif lengths must be >= 1"
        distinct = sum((s.vocab_size // 2) ** n for n in range(1, s.max_key_len + 1))
        yield 1 <= s.num_keys <= distinct, f"num_keys must be in [1, {distinct}], not {s.num_keys}"
        yield s.seq_len >= 2 * (s.max_key_len + s.max_value_len), f"seq_len {s.seq_len} is too short"

    def _motif(self, rng: np.random.Generator, max_len: int, low: int) -> tuple:
        half = self.settings.vocab_size // 2
        return tuple(int(t) for t in rng.integers(low, low + half, size=int(rng.integers(1, max_len + 1))))

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        s = self.settings
        half, L = s.vocab_size // 2, s.seq_len
        x = np.empty((n, L), dtype=np.int64)
        y = unlabelled(n, L)
        for row in range(n):
            keys: list = []
            while len(keys) < s.num_keys:
                motif = self._motif(rng, s.max_key_len, 0)
                if motif not in keys:
                    keys.append(motif)
            values = [self._motif(rng, s.max_value_len, half) for _ in keys]
            tokens: list = []
            labels: list = []
            seen: set = set()
            while len(tokens) < L + 1:
                i = int(rng.integers(len(keys)))
                tokens += keys[i]
                labels += [IGNORE] * len(keys[i])
                tokens += values[i]
                labels += list(values[i]) if i in seen else [IGNORE] * len(values[i])
                seen.add(i)
            x[row] = tokens[:L]
            y[row] = labels[1:L + 1]   # y[t] is the label of token t + 1
        return to_batch(x, y)
