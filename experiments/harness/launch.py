"""Runs harness specs in child processes (`python -m harness.evaluate spec.json`, the trusted evaluator, which
starts the candidate process unsandboxed), as the orchestrator does, for the
benches and the slow tests. Each run gets its own folder holding spec.json, result.json and log.txt (stderr).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

EXPERIMENTS = Path(__file__).resolve().parent.parent


@dataclass
class Launched:
    result: Optional[dict]   # the result file, None when the run exited non-zero or wrote none
    wall_s: float            # process start to exit, as the orchestrator sees it
    log: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:]


def launch(spec: dict, folder: Path, timeout: float) -> Launched:
    """Runs one spec in `folder` (created); raises subprocess.TimeoutExpired after `timeout` seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_path, result_path, log_path = folder / "spec.json", folder / "result.json", folder / "log.txt"
    spec_path.write_text(json.dumps({**spec, "result_path": str(result_path)}))
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.run([sys.executable, "-m", "harness.evaluate", str(spec_path)], cwd=EXPERIMENTS,
                              stdout=subprocess.DEVNULL, stderr=log, timeout=timeout)
    wall = time.perf_counter() - started
    result = json.loads(result_path.read_text()) if proc.returncode == 0 and result_path.is_file() else None
    return Launched(result, wall, log_path)


def launch_all(specs: Dict[str, dict], folder: Path, timeout: float, parallel: int = 1) -> Dict[str, Launched]:
    """Runs {name: spec}, `parallel` at a time, each in folder/name; returns {name: Launched} in spec order."""
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        runs = pool.map(lambda name: launch(specs[name], folder / name, timeout), list(specs))
        return dict(zip(specs, runs))
