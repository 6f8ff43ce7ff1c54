"""GPU benchmark: LM training tokens/s at the explore size for softmax attention and the DeltaNet family on
each archlab_ops backend, side by side in one run on one GPU.

    python -m bench.gpu [--json] [--steps 10] [--warmup 3] [--batch 16] [--seq-len 2048] ...

Explore size by default (DESIGN §4): 8 layers, d=256, 8 heads, L=2048, batch 16, vocab 32000, bf16 autocast,
AdamW, the harness's own LM (model.py). Rows: SDPA attention (the reference), then DeltaNet and Gated DeltaNet
with fla's kernels (only where archlab_ops' self-check passes on this GPU; otherwise the row says why), the
chunked PyTorch form under torch.compile, and the chunked form eager. Each row's tokens/s is also given as a
fraction of SDPA's (issue target for the DeltaNet family: >= 0.40). `--candidate FILE[:CLASS]` (repeatable) adds
a row for any layer file, e.g. a campaign's generated candidates, on the backend a campaign's run would pick
(`auto`); `npm run bench:gpu` passes two (bench/gpu.ts). Exits 0 with one line when CUDA is absent.
`--smoke --device cpu` runs the whole script at a tiny size, to check it without a GPU.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import torch

EXPERIMENTS = Path(__file__).resolve().parent.parent
if str(EXPERIMENTS) not in sys.path:
    sys.path.insert(0, str(EXPERIMENTS))

import archlab_ops  # noqa: E402
from archlab_ops.dispatch import ENV_BACKEND, ENV_COMPILE  # noqa: E402

from harness.loader import load_layer_class  # noqa: E402
from harness.model import LM, LMConfig  # noqa: E402
from harness.spec import TrainSpec  # noqa: E402
from harness.train import autocast_for, make_optimizer  # noqa: E402

LAYERS = EXPERIMENTS / "layers"
# (label, file, class, op the layer calls or None, backend rows)
ROWS = [
    ("attention", "attention.py", "Attention", None, ["sdpa"]),
    ("DeltaNet", "delta_net.py", "DeltaNet", "delta_rule", ["fla", "chunk (compiled)", "chunk (eager)"]),
    ("GatedDeltaNet", "gated_delta_net.py", "GatedDeltaNet", "gated_delta_rule",
     ["fla", "chunk (compiled)", "chunk (eager)"]),
]
SMOKE = dict(layers=2, hidden=32, heads=2, seq_len=64, batch=2, vocab=64, steps=2, warmup=1)


def fla_verdict(op: str, device: str, head_dim: int) -> Optional[str]:
    """None when auto would use fla for this op here (self-check passed), else the reason it would not."""
    dtype = torch.bfloat16
    like = {"q": torch.zeros(1, 1, 1, head_dim, device=device, dtype=dtype),
            "v": torch.zeros(1, 1, 1, head_dim, device=device, dtype=dtype),
            "beta": torch.zeros(1, 1, 1, device=device, dtype=dtype),
            "g": torch.zeros(1, 1, 1, device=device) if op == "gated_delta_rule" else None}
    os.environ[ENV_BACKEND] = "auto"
    if archlab_ops.DISPATCH.select(op, like) == "fla":
        return None
    row = next(r for r in archlab_ops.backend_report() if r["op"] == op and r["device"] == str(like["q"].device))
    return row["reason"]


def measure(cls: type, args, device: str) -> dict:
    """tokens/s of full training steps (forward, loss, backward, clip, AdamW) after warm-up steps."""
    torch.manual_seed(0)
    cfg = LMConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_layers=args.layers, num_heads=args.heads)
    model = LM(cfg, cls).to(device)
    opt = make_optimizer(model, TrainSpec())
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, args.vocab, (args.batch, args.seq_len + 1), generator=gen).to(device)
    x, y = tokens[:, :-1], tokens[:, 1:]
    bf16 = True

    def step() -> float:
        with autocast_for(device, bf16):
            _, loss, _ = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(args.warmup):
        step()
    sync()
    warmup_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    sync()
    elapsed = time.perf_counter() - started
    result = {"tokens_per_s": args.steps * args.batch * args.seq_len / elapsed, "step_ms": elapsed / args.steps * 1e3,
              "warmup_s": warmup_s, "loss": float(loss.detach()), "params": sum(p.numel() for p in model.parameters())}
    if device.startswith("cuda"):
        result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    del model, opt
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def run_row(label: str, file: str, class_name: str, op: Optional[str], backend: str, args, device: str) -> dict:
    row = {"layer": label, "backend": backend}
    if backend == "chunk (compiled)" and not device.startswith("cuda"):
        return {**row, "skipped": "archlab_ops compiles the chunked form on CUDA only"}
    if backend == "fla":
        why = fla_verdict(op, device, args.hidden // args.heads)
        if why:
            return {**row, "skipped": why}
    os.environ[ENV_BACKEND] = {"fla": "fla", "sdpa": "auto", "auto": "auto"}.get(backend, "chunk")
    os.environ[ENV_COMPILE] = "0" if backend == "chunk (eager)" else "1"
    try:
        return {**row, **measure(load_layer_class(str(LAYERS / file), class_name), args, device)}
    except Exception as exc:  # one failing row (e.g. out of memory, a compile error) must not hide the others
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        return {**row, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu with --smoke, to check the script")
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (torch.compile happens here)")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes: {SMOKE}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--candidate", action="append", default=[], metavar="FILE[:CLASS]",
                        help="a layer file to add as a row (class DeltaNet unless given), on the auto backend")
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    device = args.device
    if device == "cpu":
        torch.set_num_threads(1)   # a dry run: tiny ops are faster on one thread of a shared machine
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"bench_gpu: CUDA is not available here (torch {torch.__version__}); nothing to measure")
        return 0

    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    try:
        import fla  # noqa: F401
        fla_version = getattr(fla, "__version__", "installed")
    except Exception:
        fla_version = "not installed"
    candidates = []
    for item in args.candidate:
        file, _, cls = item.partition(":")
        if not Path(file).is_file():
            print(f"bench_gpu: --candidate {file}: no such file")
            return 2
        candidates.append((Path(file).stem[:30], str(Path(file).resolve()), cls or "DeltaNet", None, ["auto"]))
    rows = [run_row(label, file, cls, op, backend, args, device)
            for label, file, cls, op, backends in ROWS + candidates for backend in backends]
    sdpa = next((r.get("tokens_per_s") for r in rows if r["backend"] == "sdpa"), None)
    for r in rows:
        if sdpa and r.get("tokens_per_s"):
            r["vs_sdpa"] = r["tokens_per_s"] / sdpa
    report = {"gpu": gpu, "torch": torch.__version__, "fla": fla_version, "dtype": "bf16 autocast",
              "shape": {n: getattr(args, n) for n in ("layers", "hidden", "heads", "seq_len", "batch", "vocab")},
              "steps": args.steps, "warmup": args.warmup, "rows": rows,
              "dispatch": archlab_ops.backend_report()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    s = report["shape"]
    print(f"{gpu} · torch {torch.__version__} · fla {fla_version} · bf16 autocast · {s['layers']} layers, "
          f"d={s['hidden']}, {s['heads']} heads, L={s['seq_len']}, batch {s['batch']}, vocab {s['vocab']} · "
          f"{args.steps} timed steps after {args.warmup} warm-up")
    w = max(14, *(len(r["layer"]) for r in rows))
    print(f"{'layer':<{w}} {'backend':<17} {'tokens/s':>11} {'vs SDPA':>8} {'step ms':>8} {'peak GiB':>9} "
          f"{'warm-up s':>10}")
    for r in rows:
        if "tokens_per_s" not in r:
            print(f"{r['layer']:<{w}} {r['backend']:<17} {'-':>11} {'-':>8}   {r.get('skipped') or r.get('error')}")
            continue
        vs = f"{r['vs_sdpa']:.2f}" if "vs_sdpa" in r else "-"
        peak = f"{r['peak_gib']:.1f}" if "peak_gib" in r else "-"
        print(f"{r['layer']:<{w}} {r['backend']:<17} {r['tokens_per_s']:>11,.0f} {vs:>8} {r['step_ms']:>8.1f} "
              f"{peak:>9} {r['warmup_s']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
