"""The proxy stage's data: seeded synthetic tasks and a byte-level LM, alone or as a mix (DESIGN §4).

`make_source(spec)` reads spec.data:
- kind "tasks": data.tasks = [{name, ...settings}], names from TASKS. Besides a task's own settings (see its
  module) every entry takes `id` (metric prefix, default the name; needed when a name repeats), `batch_size`
  (default train.batch_size), `share` (training steps per round, default 1), `weight` (in the score, default 1),
  `eval_batches` (default data.eval_batches) and `primary` (its held-out loss is the source's eval_loss, see
  below; default: the LM stage's "tokens" task is, every other task is not).
- kind "corpus": one byte-level LM task on data.corpus (default: the Python standard library's sources),
  with train.seq_len and train.batch_size.

The mix gives each task a slice of one shared vocab (task i's token t is offset_i + t), and trains on one task
per step, round-robin by share, each at its own length and batch size. Evaluation restricts the logits to the
task's slice (so bits per byte are over the 256 bytes). Metrics: "<id>/acc" (accuracy over labelled positions)
or "<id>/bpb" for the LM, and "<id>/loss" (mean cross-entropy in nats over labelled positions) for every task.

summary() adds:
- "score" = Σ_i w_i·s_i / Σ_i w_i over tasks, with s_i = accuracy for recall/copy/memorisation tasks and
  s_i = clip(1 − bpb/8, 0, 1) for the LM (the fraction of a uniform byte's 8 bits saved). Higher is better, in [0, 1].
- "eval_loss" = the held-out loss of the primary tasks (fitness's `L`), and the score leaves them out (score =
  the benchmarks, `B`): the LM stage's "tokens" task, and the proxy presets' byte-level "lm" task, so that `L` is
  a held-out language-model loss at every rung (measured: the proxy's mean task loss ordered 9 layers the way
  `lm-cpu` does in 17 of 36 pairs, its byte-LM loss in 32; README, Benchmarks, fidelity). A mix without a
  primary task (a custom stage) falls back to the unweighted mean of the tasks' "<id>/loss" (the last training
  step's loss belongs to whichever task trained last). Primary tasks may add metrics ("<id>/ppl").
"""
from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import torch

from ..evaluation import EvalItem, outputs_from, score_items
from ..spec import RunSpec, SpecError
from .base import Batch, Task, build_settings, stream
from .corpus import ByteLM
from .fuzzy_recall import FuzzyRecall
from .memorize import Memorize
from .mqar import MQAR
from .recall import InContextRecall, NoisyRecall
from .selective_copy import SelectiveCopy
from .tokens import TokenLM

TASKS: Dict[str, type] = {cls.name: cls for cls in
                          (MQAR, InContextRecall, NoisyRecall, FuzzyRecall, SelectiveCopy, Memorize, ByteLM, TokenLM)}


@dataclass
class EntrySettings:
    """The settings every task entry takes besides its own."""
    id: str = ""
    batch_size: int = 0
    share: int = 1
    weight: float = 1.0
    eval_batches: int = 0
    primary: bool = False


COMMON = tuple(f.name for f in dataclasses.fields(EntrySettings))


@dataclass
class Entry:
    id: str
    task: Task
    offset: int
    batch_size: int
    share: int
    weight: float
    eval_batches: int
    primary: bool


class ProxySource:
    """A data source for train.py/run.py: vocab_size, batch(step), eval_items(), train_tokens(steps), summary(metrics)."""

    def __init__(self, entries: List[Entry], seed: int, eval_seed: int = 0):
        self.entries, self.seed, self.eval_seed = entries, seed, eval_seed
        self.vocab_size = sum(e.task.vocab_size for e in entries)
        self.schedule = [i for i, e in enumerate(entries) for _ in range(e.share)]

    def entry_at(self, step: int) -> Entry:
        return self.entries[self.schedule[step % len(self.schedule)]]

    def batch(self, step: int) -> Batch:
        e = self.entry_at(step)
        x, y = e.task.sample(stream(self.seed, e.id, 0, step), e.batch_size)
        return x + e.offset, torch.where(y >= 0, y + e.offset, y)

    def eval_items(self) -> List[EvalItem]:
        """Each task's held-out batches, drawn from data.eval_seed (the same for every run seed); the logits are
        restricted to the task's slice of the vocab."""
        items = []
        for e in self.entries:
            for index in range(e.eval_batches):
                x, y = e.task.sample_eval(stream(self.eval_seed, e.id, 1, index), e.batch_size)
                items.append(EvalItem(f"{e.id}/{index}", e.id, e.task.metric, x + e.offset, y, e.offset,
                                      e.offset + e.task.vocab_size))
        return items

    def evaluate(self, logits_of) -> dict:
        """Metrics of a model given as logits_of (in-process use: tests and benches; runs go through evaluate.py)."""
        return score_items(self.eval_items(), outputs_from(self.eval_items(), logits_of))

    def train_tokens(self, steps: int) -> int:
        """Tokens the first `steps` training steps consume (each step's task at its own batch size and length)."""
        return sum(self.entry_at(step).batch_size * self.entry_at(step).task.seq_len for step in range(steps))

    def summary(self, metrics: Dict[str, float]) -> Dict[str, float]:
        primary = [e for e in self.entries if e.primary]
        benches = [e for e in self.entries if e not in primary]
        total = sum(e.weight for e in benches)
        score = sum(e.weight * e.task.score(metrics, e.id) for e in benches) / total if total > 0 else 0.0
        losses = [metrics[f"{e.id}/loss"] for e in (primary or self.entries)]
        out = {"score": score, "eval_loss": sum(losses) / len(losses)}
        for e in primary:
            out.update(e.task.extra_metrics(metrics, e.id))
        return out


def make_source(spec: RunSpec) -> ProxySource:
    d, t = spec.data, spec.train
    if d.kind == "corpus":
        raw = [{"name": "lm", "seq_len": t.seq_len}]
    elif d.kind == "tasks":
        raw = d.tasks
        if not isinstance(raw, list) or not raw:
            raise SpecError("data.tasks must be a non-empty list of {name, ...settings} for data.kind 'tasks'")
    else:
        raise SpecError(f"data.kind must be random, tasks or corpus, not {d.kind!r}")
    entries: List[Entry] = []
    offset = 0
    for i, item in enumerate(raw):
        where = f"data.tasks[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SpecError(f"{where} must be an object with a name")
        cls = TASKS.get(item["name"])
        if cls is None:
            raise SpecError(f"{where}.name {item['name']!r} is not a task (tasks: {', '.join(sorted(TASKS))})")
        common = build_settings(EntrySettings, {k: v for k, v in item.items() if k in COMMON}, where)
        own = build_settings(cls.Settings, {k: v for k, v in item.items() if k not in COMMON and k != "name"},
                             where)
        entry_id = common.id or cls.name
        if any(e.id == entry_id for e in entries):
            raise SpecError(f"{where}: a second {entry_id!r} task needs its own id")
        if common.share < 1 or common.weight < 0 or common.batch_size < 0 or common.eval_batches < 0:
            raise SpecError(f"{where}: share must be >= 1; weight, batch_size and eval_batches >= 0")
        task = cls(own, spec.seed, entry_id, d.corpus) if cls is ByteLM else cls(own, spec.seed, entry_id)
        entries.append(Entry(entry_id, task, offset, common.batch_size or t.batch_size, common.share,
                             common.weight, common.eval_batches or d.eval_batches,
                             common.primary or task.primary))
        offset += task.vocab_size
    return ProxySource(entries, spec.seed, d.eval_seed)


PRESETS = Path(__file__).resolve().parent.parent / "proxy_presets.json"


def proxy_preset(name: str) -> dict:
    """The run-spec fragment (model, train, data, timeout_s, ...) of a proxy preset in proxy_presets.json."""
    presets = json.loads(PRESETS.read_text())["presets"]
    if name not in presets:
        raise SpecError(f"no proxy preset {name!r} (presets: {', '.join(sorted(presets))})")
    return copy.deepcopy(presets[name]["spec"])


__all__ = ["TASKS", "ProxySource", "make_source", "proxy_preset"]
