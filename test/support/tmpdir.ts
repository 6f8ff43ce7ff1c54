/**
 * vitest global set-up: every test file (and every archlab, harness and Slurm child it starts) gets its temp
 * dirs under one private TMPDIR, removed when the run ends, so a run leaves nothing in /tmp however a test ends.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-tests-"));
  // like /tmp itself: the Slurm tests' munged runs as user munge, and a bad-input test runs archlab as nobody (tsx
  // keeps its cache in TMPDIR)
  fs.chmodSync(root, 0o1777);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    fs.rmSync(root, { recursive: true, force: true });
  };
}
