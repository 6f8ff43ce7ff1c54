"""Deterministic cost of one forward: FLOPs (torch.utils.flop_counter's formulas, plus the CPU attention kernel
and FFTs it leaves out), elements written by every non-view op, and peak bytes of tensors the forward allocated and
still holds (activations, including those autograd saves for backward)."""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry, sdpa_flop_count, shape_wrapper

aten = torch.ops.aten


def _cpu_sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    # torch counts the CUDA attention kernels only; on CPU scaled_dot_product_attention runs this one.
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_sdpa_backward_flop(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,
                            **kwargs) -> int:
    return 2 * sdpa_flop_count(query_shape, key_shape, value_shape)


def _fft_flop(input_shape, dim, *args, out_shape=None, **kwargs) -> int:
    # ~5 N log2 N real flops per complex transform of N points (radix-2 count), for each of the other rows
    n = math.prod(input_shape[d] for d in dim) or 1
    rows = math.prod(input_shape) // n
    return int(5 * n * max(1.0, math.log2(n)) * rows)


EXTRA_FLOPS = {
    aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flop,
    aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward_flop,
    aten._fft_r2c: _fft_flop,
    aten._fft_c2r: _fft_flop,
    aten._fft_c2c: _fft_flop,
}


FLOP_FORMULAS = {**flop_registry, **{op: shape_wrapper(fn) for op, fn in EXTRA_FLOPS.items()}}


class measure_cost(TorchDispatchMode):
    """with measure_cost() as m: forward ...; then m.cost. One dispatch mode (FlopCounterMode's module tracking
    and decomposition attempts cost more than the forward itself at 4096 tokens): FLOPs by torch's formulas,
    elements written by every non-view op, and live bytes of storages ops freshly allocate."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # candidates never compile on CPU: skip importing torch._dynamo (seconds) and its per-op wrapper

    def __init__(self):
        super().__init__()
        self.flops = self.elements = self.live = self.peak = 0

    def _freed(self, nbytes: int) -> None:
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = FLOP_FORMULAS.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        if getattr(func, "is_view", False):
            return out
        returns = func._schema.returns
        for i, t in enumerate(tree_flatten(out)[0]):
            if not isinstance(t, torch.Tensor):
                continue
            self.elements += t.numel()
            if i >= len(returns) or returns[i].alias_info is None:  # freshly allocated, not in place
                storage = t.untyped_storage()
                nbytes = storage.nbytes()
                self.live += nbytes
                self.peak = max(self.peak, self.live)
                weakref.finalize(storage, self._freed, nbytes)
        return out

    @property
    def cost(self) -> "Cost":
        return Cost(self.flops, self.elements, self.peak)


@dataclass
class Cost:
    flops: int
    elements: int
    peak_bytes: int
