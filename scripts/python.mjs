#!/usr/bin/env node
// Runs the harness's Python (ARCHLAB_PYTHON or experiments/.venv) in experiments/ with the given arguments,
// e.g. `node scripts/python.mjs -m pytest tests -q`. Exits with Python's exit code.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const experiments = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "experiments");
const python = process.env.ARCHLAB_PYTHON ?? path.join(experiments, ".venv", "bin", "python");
if (!fs.existsSync(python)) {
  process.stderr.write(`archlab: no Python environment at ${python}: run \`npm run setup\`\n`);
  process.exit(2);
}
const res = spawnSync(python, process.argv.slice(2), { cwd: experiments, stdio: "inherit" });
process.exit(res.status ?? 1);
