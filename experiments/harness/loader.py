"""Load a candidate layer file and call it through the layer contract (DESIGN §3).

Every way a candidate can fail to load or run is turned into a CandidateError with a kind the orchestrator
(and the debugger agent) can act on: syntax, import, missing_class, construct, forward, backward, nonfinite.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Optional, Tuple

import torch
import torch.nn as nn

from .result import CandidateError, traceback_tail

EXPERIMENTS = Path(__file__).resolve().parent.parent
FLA_COMPAT = EXPERIMENTS / "fla_compat"


def prepare_imports(compile_enabled: bool) -> str:
    """Make candidates' imports resolve; returns which fla is in use ('real' or 'compat')."""
    for path in (str(EXPERIMENTS),):
        if path not in sys.path:
            sys.path.insert(0, path)
    if not compile_enabled:
        torch.compile = _no_compile  # candidates' @torch.compile decorators become no-ops
    if importlib.util.find_spec("fla") is not None:
        return "real"
    sys.path.append(str(FLA_COMPAT))
    return "compat"


def _no_compile(model=None, *args, **kwargs):
    """Stands in for torch.compile: works as @torch.compile, @torch.compile(...) and torch.compile(fn)."""
    if model is None:
        return lambda fn: fn
    return model


def load_layer_class(path: str, class_name: str) -> type:
    file = Path(path)
    if not file.is_file():
        raise CandidateError("import", f"no such layer file: {path}")
    if file.suffix != ".py":
        raise CandidateError("import", f"not a Python file: {path} (a layer is a .py file)")
    source = file.read_text(errors="replace")
    try:
        compile(source, str(file), "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes before Python 3.11.4
        where = f"at line {exc.lineno}" if getattr(exc, "lineno", None) else f"in {file.name} (not Python source)"
        raise CandidateError("syntax", f"syntax error {where}: {getattr(exc, 'msg', exc)}", tail=traceback_tail(exc))
    module_name = f"archlab_candidate_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except MemoryError as exc:  # the run's memory cap, hit before the candidate did anything of its own
        raise CandidateError("oom", "out of memory while importing the layer: the run's memory limit (memory_mb) "
                             "leaves too little for the imports", tail=traceback_tail(exc))
    except Exception as exc:  # any failure at import time is the candidate's
        raise CandidateError("import", f"{type(exc).__name__}: {exc}", tail=traceback_tail(exc))
    cls = getattr(module, class_name, None)
    if cls is None and class_name == "DeltaNet":  # the default name: accept the one module class __all__ exports
        exported = [getattr(module, n, None) for n in getattr(module, "__all__", ())]
        modules = [v for v in exported if isinstance(v, type) and issubclass(v, nn.Module)]
        cls = modules[0] if len(modules) == 1 else None
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        found = sorted(n for n, v in vars(module).items()
                       if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module_name)
        raise CandidateError("missing_class", f"no nn.Module class {class_name!r} in {file.name}"
                             + (f" (found: {', '.join(found)})" if found else ""))
    return cls


def build_mixer(cls: type, hidden_size: int, num_heads: int, layer_idx: int, kwargs: dict) -> nn.Module:
    try:
        return cls(hidden_size=hidden_size, num_heads=num_heads, layer_idx=layer_idx, **kwargs)
    except Exception as exc:
        if is_out_of_memory(exc):
            raise CandidateError("oom", f"out of memory in {cls.__name__}(...): {exc}", status="failed",
                                 tail=traceback_tail(exc))
        raise CandidateError("construct", f"{cls.__name__}(hidden_size=, num_heads=, layer_idx=) failed: "
                             f"{type(exc).__name__}: {exc}", tail=traceback_tail(exc))


class Mixer(nn.Module):
    """Wraps a candidate so the LM always gets (out[B,L,D], aux scalar or None) back."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer
        params = inspect.signature(layer.forward).parameters.values()
        self.takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)

    def forward(self, x: torch.Tensor, step: int = 0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        extra = {"global_step": step} if self.takes_kwargs else {}
        try:
            res = self.layer(x, **extra)
        except CandidateError:
            raise
        except (RuntimeError, TypeError, ValueError, IndexError, AttributeError, AssertionError, KeyError,
                NotImplementedError, ZeroDivisionError, NameError) as exc:
            if is_out_of_memory(exc):
                raise CandidateError("oom", f"out of memory in forward: {exc}", status="failed",
                                     tail=traceback_tail(exc))
            raise CandidateError("forward", f"forward failed: {type(exc).__name__}: {exc}", tail=traceback_tail(exc))
        out, aux = (res[0], res[1] if len(res) > 1 else None) if isinstance(res, (tuple, list)) else (res, None)
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise CandidateError("forward", f"forward must return [B,L,D] = {tuple(x.shape)}, got {got}")
        if not (isinstance(aux, torch.Tensor) and aux.numel() == 1 and aux.is_floating_point()):
            aux = None  # only a scalar tensor is an auxiliary loss; other second values are statistics
        return out, aux


def is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def limit_memory(memory_mb: Optional[int]) -> None:
    """Cap this process's address space at its current size plus memory_mb (CPU runs only: CUDA maps huge
    virtual ranges). An allocation past the cap raises instead of taking the machine down."""
    if not memory_mb or os.name != "posix":
        return
    import resource
    with open("/proc/self/status") as f:
        vm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    limit = vm_kb * 1024 + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
