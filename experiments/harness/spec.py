"""The run spec: what one harness run does. Mirrors src/contracts/runSpec.ts; unknown keys are rejected."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional


class SpecError(ValueError):
    """A run spec that does not fit the contract (an orchestrator or user mistake, not the candidate's)."""


@dataclass
class LayerSpec:
    path: str = ""
    class_name: str = "DeltaNet"
    kwargs: dict = field(default_factory=dict)


@dataclass
class ModelSpec:
    num_layers: int = 2
    hidden_size: int = 64
    num_heads: int = 4
    vocab_size: int = 256
    mlp_ratio: float = 4.0


@dataclass
class TrainSpec:
    steps: int = 20
    batch_size: int = 4
    seq_len: int = 64
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 2
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 0           # 0: evaluate only at the end
    log_every: int = 1            # progress line every N steps


@dataclass
class DataSpec:
    kind: str = "random"          # random | tasks | corpus
    tasks: list = field(default_factory=list)   # [{name, ...task settings}] for kind=tasks
    corpus: Optional[str] = None  # path to a text file or folder for kind=corpus
    eval_batches: int = 4


@dataclass
class ProbeSpec:
    enabled: bool = False
    max_exponent: float = 1.3     # reject when cost grows faster than L^max_exponent (harness/probes/complexity.py)
    max_params: Optional[int] = None  # most parameters ONE mixer layer may have at model.* size; None: no budget
    lengths: list = field(default_factory=lambda: [256, 512, 1024, 2048, 4096])  # complexity lengths, >= 2
    seeds: int = 2                # random inputs for the causality probe


@dataclass
class RunSpec:
    layer: LayerSpec = field(default_factory=LayerSpec)
    stage: str = "smoke"
    result_path: str = "result.json"
    model: ModelSpec = field(default_factory=ModelSpec)
    train: Optional[TrainSpec] = field(default_factory=TrainSpec)
    data: DataSpec = field(default_factory=DataSpec)
    probe: ProbeSpec = field(default_factory=ProbeSpec)
    device: str = "cpu"
    dtype: str = "float32"        # float32 | bfloat16 (autocast) | auto (float32, bf16 autocast if the layer needs it)
    seed: int = 0
    timeout_s: float = 600.0
    memory_mb: Optional[int] = None
    threads: Optional[int] = None
    compile: bool = False         # honour the candidate's torch.compile decorators (CUDA only)
    ops_backend: str = "auto"     # forwarded to archlab_ops: auto | fla | chunk | naive
    schema: str = "archlab.runspec/1"


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
    if spec.schema != "archlab.runspec/1":
        raise SpecError(f"unsupported spec schema {spec.schema!r}")
    if not spec.layer.path:
        raise SpecError("layer.path is required")
    if spec.dtype not in ("float32", "bfloat16", "auto"):
        raise SpecError(f"dtype must be float32, bfloat16 or auto, not {spec.dtype!r}")
    if spec.model.hidden_size % spec.model.num_heads:
        raise SpecError("model.hidden_size must be divisible by model.num_heads")
    return spec
