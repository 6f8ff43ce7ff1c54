"""What every proxy task shares: strict settings, seeded random streams, and the two metrics.

A task is a seeded generator over its own local vocabulary [0, vocab_size): `sample(rng, n) -> (x, y)` with
x[n, L] token ids and y[n, L] the id to predict after x[:, t], or -100 where nothing is labelled. Training and
evaluation use the same labels. The mix (tasks/__init__.py) shifts each task into a slice of one shared vocab.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Dict, Iterable, Tuple

import numpy as np
import torch

from ..evaluation import IGNORE, Tally  # noqa: F401  (Tally: re-exported for the tasks' tests)
from ..spec import SpecError

Batch = Tuple[torch.Tensor, torch.Tensor]


def build_settings(cls: type, raw: Dict[str, Any], where: str):
    """A settings dataclass from a dict: unknown keys and wrong types are a SpecError naming the key."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise SpecError(f"unknown key {where}.{unknown[0]} (known: {', '.join(sorted(fields))})")
    values = {}
    for name, value in raw.items():
        default = fields[name].default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif isinstance(default, str) or default is None:  # None: an optional string (a path)
            ok = isinstance(value, str) or (default is None and value is None)
        else:
            ok = True
        if not ok:
            raise SpecError(f"{where}.{name} must be {type(default).__name__}, not {value!r}")
        values[name] = value
    return cls(**values)


def require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise SpecError(f"{where}: {message}")


def stream(seed: int, task_key: str, kind: int, index: int) -> np.random.Generator:
    """An independent random stream per (seed, task, kind, index): kind 0 trains, 1 evaluates, 2 fixes per-run
    task state (e.g. memorisation's map). Different run seeds give different training data for every task; the
    held-out stream is seeded by data.eval_seed, the same for every run seed (ProxySource.eval_items)."""
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF, zlib.crc32(task_key.encode()), kind, index]
    return np.random.default_rng(np.random.SeedSequence(words))


def to_batch(x: np.ndarray, y: np.ndarray) -> Batch:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64)), torch.from_numpy(
        np.ascontiguousarray(y, dtype=np.int64))


def sample_without_replacement(rng: np.random.Generator, weights: np.ndarray, rows: int, k: int) -> np.ndarray:
    """[rows, k] indices, each row k distinct draws with p ∝ weights (Gumbel top-k == sequential draws)."""
    keys = np.log(weights)[None, :] + rng.gumbel(size=(rows, len(weights)))
    return np.argsort(-keys, axis=1)[:, :k]


def unlabelled(n: int, seq_len: int) -> np.ndarray:
    """Labels [n, seq_len] with nothing to predict yet (IGNORE everywhere); a task fills in what it labels."""
    return np.full((n, seq_len), IGNORE, dtype=np.int64)


def even_vocab(s) -> Tuple[bool, str]:
    """The rule of tasks that split their vocab into a key half and a value half."""
    return s.vocab_size >= 4 and s.vocab_size % 2 == 0, f"vocab_size must be even and >= 4, not {s.vocab_size}"


def distinct_per_row(rng: np.random.Generator, low: int, high: int, rows: int, k: int) -> np.ndarray:
    """[rows, k] distinct integers from [low, high) per row, uniformly."""
    return np.argsort(rng.random((rows, high - low)), axis=1)[:, :k] + low


class Task:
    """Base class: subclasses set name, metric ('acc' or 'bpb'), Settings, rules() and sample(). vocab_size and
    seq_len come from the settings; a task whose vocab differs sets its own after super().__init__."""

    name = "task"
    metric = "acc"
    primary = False   # a task whose held-out loss is the source's eval_loss by default (the LM stage's tokens)
    Settings: type = object

    def __init__(self, settings, seed: int, key: str):
        self.settings, self.seed, self.key = settings, seed, key
        self.vocab_size: int = getattr(settings, "vocab_size", 0)
        self.seq_len: int = getattr(settings, "seq_len", 0)
        for ok, message in self.rules(settings):   # lazily: a rule may rely on the ones before it
            require(ok, f"task {key}", message)

    def rules(self, s) -> Iterable[Tuple[bool, str]]:
        """(condition, message) pairs the settings must satisfy, in order; the first false one is a SpecError."""
        return ()

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        raise NotImplementedError

    def sample_eval(self, rng: np.random.Generator, n: int) -> Batch:
        """Evaluation examples: the same distribution on independent streams (the LM overrides: held-out split)."""
        return self.sample(rng, n)

    def score(self, metrics: Dict[str, float], prefix: str) -> float:
        """This task's term of the summary score, in [0, 1]."""
        return metrics[f"{prefix}/acc"]

    @staticmethod
    def extra_metrics(metrics: Dict[str, float], prefix: str) -> Dict[str, float]:
        """Metrics a primary task adds to the summary (the LM's perplexity)."""
        return {}


class WindowedLM(Task):
    """Next-token prediction over a train and a held-out array of token ids: windows at seeded random offsets
    (nanoGPT's get_batch). Subclasses set train_data and eval_data (a memmap is never read whole)."""

    train_data: np.ndarray
    eval_data: np.ndarray

    def windows(self, data: np.ndarray, rng: np.random.Generator, n: int) -> Batch:
        L = self.seq_len
        starts = rng.integers(0, len(data) - L - 1, size=n)
        chunk = torch.from_numpy(np.stack([data[s:s + L + 1] for s in starts]).astype(np.int64))
        return chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        return self.windows(self.train_data, rng, n)

    def sample_eval(self, rng: np.random.Generator, n: int) -> Batch:
        return self.windows(self.eval_data, rng, n)
