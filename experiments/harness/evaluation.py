"""Held-out evaluation, split so the candidate never computes its own score.

A data source lists its held-out batches as EvalItems (inputs x, labels y, the vocab slice [lo, hi) its
metrics use). The candidate process (run.py) returns `outputs_of(item)`: its logits at the labelled positions,
restricted to the slice, [n_labelled, hi - lo]. The trusted evaluator (evaluate.py), which rebuilt the same
items from the run spec and never imports candidate code, turns them into metrics with `score_items` and
checks causality on sampled positions with `causal_samples` / `causal_leak`.

A later rung (the LM stage) plugs in by giving its data source eval_items() and, optionally, summary(metrics).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

IGNORE = -100
# Prefix-only logits against full-sequence logits, relative to the row's largest |logit|: float32 rounding of
# a different length (chunk padding) is ~1e-6; one bf16 flip is 2^-8.
CAUSAL_TOLERANCE = {"float32": 1e-3, "bfloat16-autocast": 5e-2}
CAUSAL_SAMPLES = 4          # positions per task
# The monitor (a held-out loss while training, computed by the evaluator: early stop reads it): per task, the
# first held-out item cut to at most this many rows and this many floats of outputs (positions x vocab slice).
MONITOR_ROWS = 4
MONITOR_FLOATS = 1 << 21    # 8 MB per task and log step; GPT-2's vocab leaves ~40 positions of one row


@dataclass
class EvalItem:
    key: str        # unique per item: "<task id>/<batch index>"
    group: str      # the task id its metrics are named after
    metric: str     # acc | bpb | loss
    x: torch.Tensor
    y: torch.Tensor
    lo: int
    hi: int

    @property
    def mask(self) -> torch.Tensor:
        return self.y != IGNORE


class OutputError(Exception):
    """The candidate's outputs are missing, mis-shaped or not finite: kind says which."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


def outputs_of(item: EvalItem, logits: torch.Tensor) -> torch.Tensor:
    """What the candidate side returns for one item, from its logits [B, L, V] on item.x."""
    return logits[..., item.lo:item.hi][item.mask].float()


def outputs_from(items: List[EvalItem], logits_of: Callable[[torch.Tensor], torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {item.key: outputs_of(item, logits_of(item.x)) for item in items}


class Tally:
    """Accumulates a task's metrics over evaluation batches from logits restricted to its vocab slice."""

    def __init__(self) -> None:
        self.correct = 0
        self.labelled = 0
        self.nll = 0.0

    def add(self, logits: torch.Tensor, y: torch.Tensor) -> None:
        mask = y != IGNORE
        self.add_labelled(logits[mask], y[mask])

    def add_labelled(self, picked: torch.Tensor, target: torch.Tensor) -> None:
        picked = picked.float()
        self.labelled += int(target.numel())
        self.correct += int((picked.argmax(-1) == target).sum()) if len(target) else 0
        self.nll += float(F.cross_entropy(picked, target, reduction="sum")) if len(target) else 0.0

    def metrics(self, prefix: str, metric: str) -> Dict[str, float]:
        n = max(1, self.labelled)
        loss = self.nll / n
        out = {f"{prefix}/loss": loss}
        if metric == "bpb":
            out[f"{prefix}/bpb"] = loss / math.log(2)
        elif metric == "acc":
            out[f"{prefix}/acc"] = self.correct / n
        return out


def check_outputs(item: EvalItem, out: "torch.Tensor | None") -> torch.Tensor:
    expected = (int(item.mask.sum()), item.hi - item.lo)
    if out is None:
        raise OutputError("crash", f"the candidate process returned no outputs for {item.key}")
    if tuple(out.shape) != expected or not out.is_floating_point():
        raise OutputError("crash", f"outputs for {item.key} have shape {tuple(out.shape)}, expected {expected}")
    if not torch.isfinite(out).all():
        bad = int((~torch.isfinite(out)).sum())
        raise OutputError("nonfinite", f"{bad} of {out.numel()} held-out logits are not finite ({item.key})")
    return out


def score_items(items: List[EvalItem], outputs: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Per-task metrics from the candidate's outputs, in the items' order; raises OutputError."""
    tallies: Dict[str, Tuple[str, Tally]] = {}
    for item in items:
        out = check_outputs(item, outputs.get(item.key))
        metric, tally = tallies.setdefault(item.group, (item.metric, Tally()))
        tally.add_labelled(out, item.y[item.mask])
    metrics: Dict[str, float] = {}
    for group, (metric, tally) in tallies.items():
        metrics.update(tally.metrics(group, metric))
    return metrics


def monitor_items(items: List[EvalItem]) -> List[EvalItem]:
    """The fixed monitor slice of the held-out items, the same on every run of a spec (baseline and candidate
    alike): per task its first item, at most MONITOR_ROWS rows, rows cut to a prefix (causal logits are the
    same for a prefix) so that the outputs stay within MONITOR_FLOATS."""
    first: Dict[str, EvalItem] = {}
    for item in items:
        first.setdefault(item.group, item)
    picked = []
    for group, item in first.items():
        x, y = item.x[:MONITOR_ROWS], item.y[:MONITOR_ROWS]
        width = max(1, item.hi - item.lo)
        while int((y != IGNORE).sum()) * width > MONITOR_FLOATS and x.shape[0] > 1:
            x, y = x[:-1], y[:-1]
        if int((y != IGNORE).sum()) * width > MONITOR_FLOATS:
            keep = max(1, MONITOR_FLOATS // width)
            labelled = torch.cumsum((y[0] != IGNORE).int(), 0)
            cut = int(torch.searchsorted(labelled, torch.tensor(keep), right=True)) or 1
            x, y = x[:, :cut], y[:, :cut]
        picked.append(EvalItem(f"monitor/{item.key}", group, "loss", x, y, item.lo, item.hi))
    return picked


def monitor_loss(items: List[EvalItem], outputs: Dict[str, torch.Tensor]) -> float:
    """The mean over tasks of each task's cross-entropy on its monitor slice; raises OutputError."""
    losses = []
    for item in items:
        out = check_outputs(item, outputs.get(item.key))
        tally = Tally()
        tally.add_labelled(out, item.y[item.mask])
        losses.append(tally.nll / max(1, tally.labelled))
    return sum(losses) / max(1, len(losses))


def causal_samples(items: List[EvalItem], rng: random.Random, per_group: int = CAUSAL_SAMPLES) -> List[dict]:
    """Random labelled positions, per_group per task: [{key, row, t, index}] where index is the position's row
    in that item's outputs (the mask's row-major order)."""
    by_group: Dict[str, List[Tuple[EvalItem, int, int]]] = {}
    for item in items:
        rows, ts = torch.nonzero(item.mask, as_tuple=True)
        by_group.setdefault(item.group, []).extend((item, int(r), int(t)) for r, t in zip(rows, ts))
    samples = []
    for group, positions in by_group.items():
        for item, row, t in rng.sample(positions, min(per_group, len(positions))):
            index = int(item.mask[:row].sum()) + int(item.mask[row, :t + 1].sum()) - 1
            samples.append({"key": item.key, "row": row, "t": t, "index": index})
    return samples


def prefix_logits(item: EvalItem, sample: dict, logits_of: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Candidate side: the logits at position t from the prefix x[row, :t+1] alone, restricted to the slice."""
    row, t = sample["row"], sample["t"]
    return logits_of(item.x[row:row + 1, :t + 1])[0, t, item.lo:item.hi].float()


def causal_leak(full: torch.Tensor, prefix: torch.Tensor) -> float:
    """How far the prefix-only logits are from the full-sequence ones, relative to the largest |logit|."""
    if prefix.shape != full.shape or not torch.isfinite(prefix).all():
        return math.inf
    return float((prefix - full).abs().max() / full.abs().max().clamp_min(1e-30))
