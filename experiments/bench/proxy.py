"""Proxy-stage bench: `python -m bench.proxy [--preset quick] [--json] [--layers a,b] [--seed 0]
[--programs programs.json] [--parallel N]`.

Runs every baseline layer in experiments/layers/ (the class named first in each file's __all__) through the
proxy preset, each as a real harness child process (`python -m harness.evaluate`, via harness/launch.py), one after another, and reports per
layer: the proxy stage's wall time as the orchestrator sees it (process start to exit), the harness's own
wall_s, CPU training tokens/s, the summary score and the per-task metrics. Runs are sequential so the numbers are
side by side on one machine; compare them only within one invocation.
`--programs FILE` runs the layers of an ASI-Arch-style records file instead ([{"name", "program"}], class
DeltaNet, dtype auto: e.g. ../shared/asi-arch/programs.json); `--parallel N` runs N at a time (one thread each).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

from harness.launch import Launched, launch_all
from harness.tasks import proxy_preset

from . import LAYERS, baseline_layers


def proxy_layers(folder: Path = LAYERS) -> List[Tuple[str, Path, str]]:
    """(name, file, class) for each layer file, the class being the first name in its __all__."""
    first: dict = {}
    for file, cls in baseline_layers(folder):
        first.setdefault(file, cls)
    return [(file.stem, file, cls) for file, cls in first.items()]


def program_layers(programs: Path, folder: Path) -> List[Tuple[str, Path, str]]:
    """(name, file, "DeltaNet") for each record of an ASI-Arch-style programs file, written into `folder`."""
    found = []
    for record in json.loads(programs.read_text()):
        file = folder / f"{record['name']}.py"
        file.write_text(record["program"])
        found.append((record["name"], file, "DeltaNet"))
    return found


def bench(preset: str, names: Optional[List[str]], seed: int, programs: Optional[Path] = None,
          parallel: int = 1) -> dict:
    base = proxy_preset(preset)
    with tempfile.TemporaryDirectory(prefix="archlab-bench-proxy-") as tmp:
        layers = program_layers(programs, Path(tmp)) if programs else proxy_layers()
        layers = [(name, file, cls) for name, file, cls in layers if not names or name in names]

        specs = {name: {**base, "layer": {"path": str(file), "class_name": cls}, "stage": "proxy", "seed": seed,
                        "dtype": "auto"} for name, file, cls in layers}
        runs = launch_all(specs, Path(tmp) / "runs", timeout=base.get("timeout_s", 600) + 120, parallel=parallel)
        rows = [row(name, cls, runs[name]) for name, _, cls in layers]
    return {"preset": preset, "seed": seed, "threads": base.get("threads") or os.cpu_count(), "parallel": parallel,
            "rows": rows}


def row(name: str, cls: str, launched: Launched) -> dict:
    result = launched.result or {"status": "failed", "error": {"message": launched.log_tail(500)}}
    return {"layer": name, "class": cls, "status": result["status"],
            "error": (result.get("error") or {}).get("message"),
            "proxy_wall_s": round(launched.wall_s, 2), "harness_wall_s": result.get("wall_s"),
            "tokens_per_s": result.get("tokens_per_s") and round(result["tokens_per_s"]),
            "params": (result.get("params") or {}).get("total"),
            "metrics": {k: round(v, 4) for k, v in (result.get("metrics") or {}).items()
                        if isinstance(v, (int, float))}}


def table(report: dict) -> str:
    metric_keys = [k for k in (report["rows"][0]["metrics"] if report["rows"] else {})
                   if not k.endswith("/loss") and k != "eval_loss"]
    head = ["layer", "status", "wall s", "tok/s"] + metric_keys
    lines = [f"proxy preset {report['preset']!r}, seed {report['seed']}, threads {report['threads']}, "
             f"{report['parallel']} at a time",
             "  ".join(f"{h:>14}" for h in head)]
    for r in report["rows"]:
        cells = [r["layer"], r["status"], f"{r['proxy_wall_s']:.1f}", str(r["tokens_per_s"] or "-")]
        cells += [f"{r['metrics'].get(k, float('nan')):.3f}" for k in metric_keys]
        lines.append("  ".join(f"{c:>14}" for c in cells) + (f"  {r['error']}" if r["error"] else ""))
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="proxy preset name in harness/proxy_presets.json")
    parser.add_argument("--layers", default="", help="comma-separated layer file stems (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--programs", type=Path, help="an ASI-Arch-style records file to take the layers from")
    parser.add_argument("--parallel", type=int, default=1, help="runs at a time (default 1: side by side timings)")
    args = parser.parse_args(argv)
    if args.programs and not args.programs.is_file():
        parser.error(f"no such programs file: {args.programs}")
    report = bench(args.preset, [n for n in args.layers.split(",") if n] or None, args.seed, args.programs,
                   max(1, args.parallel))
    print(json.dumps(report, indent=1) if args.json else table(report))
    return 0 if all(r["status"] == "ok" for r in report["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
