"""CPU benchmark of archlab_ops: chunked form vs naive recurrence, measured side by side in one run.

    python -m bench.ops [--json] [--threads N] [--reps N] [--lengths 512 2048]

Prints each primitive's forward+backward time, naive and chunked, and their ratio at each length, then the
ratio for a whole DeltaNet LM training step (forward, backward, AdamW) at L=512, chunk mode vs naive mode,
for the harness's default model (the issue's >= 5x target is checked there) and a wider d=128 variant.
Each pair is timed in alternating rounds (best of --reps) so that load from other processes hits both alike.
Single-threaded by default: on a shared 2-core machine multi-threaded small matmuls mostly measure contention.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

EXPERIMENTS = Path(__file__).resolve().parent.parent
if str(EXPERIMENTS) not in sys.path:
    sys.path.insert(0, str(EXPERIMENTS))

import archlab_ops  # noqa: E402  (needs the path above)

from harness.data import RandomTokens  # noqa: E402
from harness.loader import load_layer_class  # noqa: E402
from harness.model import LM, LMConfig  # noqa: E402
from harness.train import make_optimizer  # noqa: E402
from harness.spec import ModelSpec, TrainSpec  # noqa: E402

OP_SHAPE = dict(B=2, H=4, K=32, V=32)
# the harness's default model (spec.ModelSpec / TrainSpec batch) at L=512, and a wider proxy-size variant
LM_SHAPES = [dict(num_layers=ModelSpec.num_layers, hidden_size=ModelSpec.hidden_size, num_heads=ModelSpec.num_heads,
                  batch_size=TrainSpec.batch_size, seq_len=512, vocab_size=ModelSpec.vocab_size, target=True),
             dict(num_layers=2, hidden_size=128, num_heads=4, batch_size=4, seq_len=512, vocab_size=256,
                  target=False)]
TARGET = 5.0


def op_inputs(op: str, L: int) -> Dict[str, torch.Tensor]:
    B, H, K, V = OP_SHAPE["B"], OP_SHAPE["H"], OP_SHAPE["K"], OP_SHAPE["V"]
    gen = torch.Generator().manual_seed(0)
    x = {"q": torch.randn(B, L, H, K, generator=gen), "k": F.normalize(torch.randn(B, L, H, K, generator=gen), dim=-1),
         "v": torch.randn(B, L, H, V, generator=gen)}
    if op in ("delta_rule", "gated_delta_rule"):
        x["beta"] = torch.rand(B, L, H, generator=gen)
    if op in ("gated_delta_rule", "decayed (per head)"):
        x["g"] = F.logsigmoid(torch.randn(B, L, H, generator=gen))
    if op == "decayed (per dim, GLA)":
        x["g"] = F.logsigmoid(torch.randn(B, L, H, K, generator=gen)) / 16
    return {n: t.requires_grad_() for n, t in x.items()}


def op_call(op: str, x: Dict[str, torch.Tensor], backend: str):
    if op == "delta_rule":
        return archlab_ops.delta_rule(x["q"], x["k"], x["v"], x["beta"], backend=backend)
    if op == "gated_delta_rule":
        return archlab_ops.gated_delta_rule(x["q"], x["k"], x["v"], x["g"], x["beta"], backend=backend)
    if op == "linear_attention":
        return archlab_ops.linear_attention(x["q"], x["k"], x["v"], backend=backend)
    return archlab_ops.decayed_linear_attention(x["q"], x["k"], x["v"], x["g"], backend=backend)


OPS = ("delta_rule", "gated_delta_rule", "linear_attention", "decayed (per head)", "decayed (per dim, GLA)")


def interleaved_best(fns: Dict[str, Callable[[], None]], reps: int) -> Dict[str, float]:
    """Best wall time of each fn over reps rounds, the fns alternating within a round (so load changes on a
    shared machine hit them alike); one warm-up call each first."""
    for fn in fns.values():
        fn()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: min(t) for name, t in times.items()}


def bench_op(op: str, L: int, reps: int) -> dict:
    x = op_inputs(op, L)

    def step(backend: str) -> Callable[[], None]:
        def run() -> None:
            for t in x.values():
                t.grad = None
            o, _ = op_call(op, x, backend)
            o.sum().backward()
        return run
    t = interleaved_best({"naive": step("naive"), "chunk": step("chunk")}, reps)
    return {"op": op, "L": L, "naive_ms": t["naive"] * 1e3, "chunk_ms": t["chunk"] * 1e3,
            "ratio": t["naive"] / t["chunk"]}


def bench_train_step(shape: dict, reps: int) -> dict:
    """One LM training step (forward, loss, backward, AdamW) with DeltaNet in chunk mode vs naive mode."""
    cls = load_layer_class(str(EXPERIMENTS / "layers" / "delta_net.py"), "DeltaNet")
    s = shape
    x, y = RandomTokens(s["vocab_size"], s["seq_len"], s["batch_size"], seed=0).batch(0)
    steps = {}
    for mode in ("naive", "chunk"):
        torch.manual_seed(0)
        model = LM(LMConfig(vocab_size=s["vocab_size"], hidden_size=s["hidden_size"], num_layers=s["num_layers"],
                            num_heads=s["num_heads"], layer_kwargs={"mode": mode}), cls)
        opt = make_optimizer(model, TrainSpec())

        def step(model: LM = model, opt: torch.optim.Optimizer = opt) -> None:
            _, loss, _ = model(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        steps[mode] = step
    t = interleaved_best(steps, reps)
    ratio = t["naive"] / t["chunk"]
    row = {"layer": "DeltaNet", **{k: v for k, v in s.items() if k != "target"},
           "naive_ms": t["naive"] * 1e3, "chunk_ms": t["chunk"] * 1e3, "ratio": ratio}
    if s["target"]:
        row.update(target=TARGET, meets_target=ratio >= TARGET)
    return row


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ops", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--reps", type=int, default=3, help="timed rounds per measurement (default 3)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rows = [bench_op(op, L, args.reps) for op in OPS for L in args.lengths]
    train_rows = [bench_train_step(shape, args.reps) for shape in LM_SHAPES]
    report = {"device": "cpu", "threads": args.threads, "dtype": "float32", "op_shape": OP_SHAPE,
              "ops": rows, "train_step": train_rows, "wall_s": time.perf_counter() - started}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    B, H, K, V = (OP_SHAPE[n] for n in "BHKV")
    print(f"archlab_ops on CPU ({args.threads} thread{'s' * (args.threads > 1)}, float32): chunked form vs naive "
          f"recurrence, forward + backward, B={B} H={H} K={K} V={V}")
    print(f"{'op':<24} {'L':>5} {'naive ms':>10} {'chunk ms':>10} {'chunk speed-up':>15}")
    for r in rows:
        print(f"{r['op']:<24} {r['L']:>5} {r['naive_ms']:>10.1f} {r['chunk_ms']:>10.1f} {r['ratio']:>14.1f}x")
    print(f"\nDeltaNet LM training step (forward, backward, AdamW), chunk mode vs naive mode, L=512:")
    for t in train_rows:
        verdict = "" if "target" not in t else \
            f"  (target >= {TARGET:g}x: {'met' if t['meets_target'] else 'NOT met'}; harness default model)"
        print(f"  {t['num_layers']} layers, d={t['hidden_size']}, {t['num_heads']} heads, batch {t['batch_size']}: "
              f"naive {t['naive_ms']:.0f} ms, chunk {t['chunk_ms']:.0f} ms -> {t['ratio']:.1f}x{verdict}")
    print(f"({report['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
