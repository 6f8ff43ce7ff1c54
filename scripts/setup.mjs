#!/usr/bin/env node
// Prepares the harness's Python environment: experiments/.venv from experiments/requirements.txt.
// Runs on `npm install` (postinstall) and before `npm test`; `npm run setup` forces a reinstall.
// Idempotent: a stamp in the venv records the requirements it was built from.
// ARCHLAB_SKIP_SETUP=1 skips it; ARCHLAB_PYTHON=/path/to/python uses an existing interpreter instead.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const venv = path.join(root, "experiments", ".venv");
const python = path.join(venv, "bin", "python");
const requirements = path.join(root, "experiments", "requirements.txt");
const stamp = path.join(venv, ".archlab-requirements");
const force = process.argv.includes("--force");

function say(message) {
  process.stderr.write(`archlab setup: ${message}\n`);
}

function run(cmd, args, env = {}) {
  const res = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (res.error) return { ok: false, why: res.error.message };
  return { ok: res.status === 0, why: `${path.basename(cmd)} exited with ${res.status}` };
}

if (process.env.ARCHLAB_SKIP_SETUP === "1") {
  say("skipped (ARCHLAB_SKIP_SETUP=1)");
  process.exit(0);
}
if (process.env.ARCHLAB_PYTHON) {
  say(`using ARCHLAB_PYTHON=${process.env.ARCHLAB_PYTHON}; no venv made`);
  process.exit(0);
}

const wanted = createHash("sha256").update(fs.readFileSync(requirements)).digest("hex");
if (!force && fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === wanted) {
  process.exit(0); // up to date
}

const basePython = process.env.ARCHLAB_BASE_PYTHON ?? "python3";
if (force || !fs.existsSync(python)) {
  fs.rmSync(venv, { recursive: true, force: true });
  say(`creating ${path.relative(root, venv)} with ${basePython}`);
  const made = run(basePython, ["-m", "venv", venv]);
  if (!made.ok) {
    say(`could not create the venv (${made.why}); install python3-venv, or set ARCHLAB_PYTHON`);
    process.exit(1);
  }
}
say(`installing ${path.relative(root, requirements)}`);
// No retries and a short timeout: where the package index is unreachable pip fails in seconds, not minutes.
const installed = run(python, ["-m", "pip", "install", "--retries", "0", "--timeout", "15", "-r", requirements], {
  PIP_RETRIES: "0",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
});
if (!installed.ok) {
  say(`pip could not install the requirements (${installed.why}); see the messages above, or set ARCHLAB_PYTHON to a Python with torch, einops, numpy and pytest`);
  process.exit(1);
}
fs.writeFileSync(stamp, wanted + "\n");
say("Python environment ready");
