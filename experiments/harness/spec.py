"""The run spec: what one harness run does.

Defined once, in src/contracts/runSpec.ts, and exported (`npm run schema`) to runspec.schema.json beside this
file. The dataclasses below name its fields for the harness to read; every default comes from that schema, and
tests/test_spec_schema.py fails when the fields or their types differ from it. Unknown keys are rejected.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

SCHEMA_FILE = Path(__file__).with_name("runspec.schema.json")
SCHEMA: dict = json.loads(SCHEMA_FILE.read_text())


def object_schema(node: dict) -> dict:
    """The object inside a nullable one (`anyOf: [{object}, {null}]`), else the node itself."""
    for option in node.get("anyOf", []):
        if option.get("type") == "object":
            return option
    return node


def field_schema(*path: str) -> dict:
    """The schema of one field, e.g. field_schema("train", "steps")."""
    node = SCHEMA
    for key in path:
        node = object_schema(node)["properties"][key]
    return node


def _default(*path: str) -> Any:
    node = field_schema(*path)
    value = node["default"]
    return float(value) if node.get("type") == "number" else value


def _factory(*path: str):
    value = _default(*path)
    return field(default_factory=lambda: json.loads(json.dumps(value)))


SPEC_SCHEMA = field_schema("schema")["const"]
DTYPES = tuple(field_schema("dtype")["enum"])


class SpecError(ValueError):
    """A run spec that does not fit the contract (an orchestrator or user mistake, not the candidate's)."""


@dataclass
class LayerSpec:
    path: str = ""                # required (parse_spec checks it)
    class_name: str = _default("layer", "class_name")
    kwargs: dict = _factory("layer", "kwargs")


@dataclass
class ModelSpec:
    num_layers: int = _default("model", "num_layers")
    hidden_size: int = _default("model", "hidden_size")
    num_heads: int = _default("model", "num_heads")
    vocab_size: int = _default("model", "vocab_size")
    mlp_ratio: float = _default("model", "mlp_ratio")


@dataclass
class TrainSpec:
    steps: int = _default("train", "steps")
    batch_size: int = _default("train", "batch_size")
    seq_len: int = _default("train", "seq_len")
    lr: float = _default("train", "lr")
    min_lr_ratio: float = _default("train", "min_lr_ratio")
    warmup_steps: int = _default("train", "warmup_steps")
    weight_decay: float = _default("train", "weight_decay")
    grad_clip: float = _default("train", "grad_clip")
    log_every: int = _default("train", "log_every")            # progress line every N steps
    grad_accum: int = _default("train", "grad_accum")          # micro-batches per step
    checkpoint_every: Optional[int] = _default("train", "checkpoint_every")  # save every N steps; None: never


@dataclass
class DataSpec:
    kind: str = _default("data", "kind")                        # random | tasks | corpus
    tasks: list = _factory("data", "tasks")                     # [{name, ...task settings}] for kind=tasks
    corpus: Optional[str] = _default("data", "corpus")          # a text file or folder for kind=corpus
    eval_batches: int = _default("data", "eval_batches")
    eval_seed: int = _default("data", "eval_seed")              # held-out batches' seed, the same for every run seed


@dataclass
class ProbeSpec:
    enabled: bool = _default("probe", "enabled")
    max_exponent: float = _default("probe", "max_exponent")    # reject cost growing faster than L^this (probes/complexity.py)
    max_params: Optional[int] = _default("probe", "max_params")  # most parameters ONE mixer layer may have; None: no budget
    lengths: list = _factory("probe", "lengths")                # complexity probe lengths, >= 2
    seeds: int = _default("probe", "seeds")                     # random inputs for the causality probe


@dataclass
class RunSpec:
    layer: LayerSpec = field(default_factory=LayerSpec)
    stage: str = _default("stage")
    result_path: str = _default("result_path")
    checkpoint_path: Optional[str] = _default("checkpoint_path")  # resume from it when present
    model: ModelSpec = field(default_factory=ModelSpec)
    train: Optional[TrainSpec] = field(default_factory=TrainSpec)
    data: DataSpec = field(default_factory=DataSpec)
    probe: ProbeSpec = field(default_factory=ProbeSpec)
    device: str = _default("device")
    dtype: str = _default("dtype")          # float32 | bfloat16 (autocast) | auto (bf16 autocast if the layer needs it)
    seed: int = _default("seed")
    timeout_s: float = _default("timeout_s")
    memory_mb: Optional[int] = _default("memory_mb")
    threads: Optional[int] = _default("threads")
    compile: bool = _default("compile")     # honour the candidate's torch.compile decorators (CUDA only)
    ops_backend: str = _default("ops_backend")  # forwarded to archlab_ops: auto | fla | chunk | naive
    schema: str = SPEC_SCHEMA


def _build(cls, data: Any, where: str):
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SpecError(f"{where or 'spec'} must be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(f"unknown key {where + '.' if where else ''}{unknown[0]}")
    nested = {"layer": LayerSpec, "model": ModelSpec, "train": TrainSpec, "data": DataSpec, "probe": ProbeSpec}
    values = {}
    for name, value in data.items():
        sub = nested.get(name) if cls is RunSpec else None
        values[name] = _build(sub, value, name) if sub else value
    return cls(**values)


def parse_spec(data: dict) -> RunSpec:
    spec = _build(RunSpec, data, "")
    if spec.schema != SPEC_SCHEMA:
        raise SpecError(f"unsupported spec schema {spec.schema!r}")
    if not spec.layer.path:
        raise SpecError("layer.path is required")
    if spec.dtype not in DTYPES:
        raise SpecError(f"dtype must be float32, bfloat16 or auto, not {spec.dtype!r}")
    if spec.train and spec.train.batch_size % spec.train.grad_accum:
        raise SpecError("train.batch_size must be divisible by train.grad_accum")
    if spec.model.hidden_size % spec.model.num_heads:
        raise SpecError("model.hidden_size must be divisible by model.num_heads")
    return spec
