#!/usr/bin/env node
// `npm test`: the Python environment (scripts/setup.mjs) and the type check, then the TypeScript tests (vitest)
// and the harness tests (pytest, without the `slow` multi-seed study) side by side. The two suites share nothing
// but the venv (each works in its own temp dirs), and vitest's end-to-end tests mostly wait on their child
// processes (about 0.75 of 2 cores busy, measured on a fresh clone), so pytest runs beside them at a lower CPU
// priority (`nice`), to leave vitest's timing-sensitive tests (steering windows, signals) the CPU first.
// pytest's output is kept and printed after vitest's, so neither report is interleaved; the exit code is
// vitest's when it failed, else pytest's. Extra arguments go to vitest (`npm test -- src/cli`): then pytest
// is skipped, as it is with ARCHLAB_TEST_ONLY=vitest (and vitest with ARCHLAB_TEST_ONLY=pytest).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const only = process.env.ARCHLAB_TEST_ONLY ?? (args.length > 0 ? "vitest" : "");
const run = (file, argv, opts = {}) => execa(file, argv, { cwd: root, reject: false, ...opts });

const setup = await run("node", ["scripts/setup.mjs"], { stdio: "inherit" });
if (setup.exitCode !== 0) process.exit(setup.exitCode ?? 1);
const tsc = await run("npx", ["tsc", "--noEmit"], { stdio: "inherit" });
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1);

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
let pytest = null;
let pytestLog = null;
if (only !== "vitest") {
  pytestLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "archlab-pytest-")), "pytest.log");
  const out = fs.openSync(pytestLog, "w");
  const niceAt = ["/usr/bin/nice", "/bin/nice"].find((f) => fs.existsSync(f));
  const argv = ["scripts/python.mjs", "-m", "pytest", "tests", "-q", "-m", "not slow"];
  pytest = (niceAt ? run(niceAt, ["-n", "10", "node", ...argv], { stdout: out, stderr: out }) : run("node", argv, { stdout: out, stderr: out }))
    .then((r) => ({ code: r.exitCode ?? 1, at: seconds() }));
  process.stderr.write(`archlab test: pytest runs beside vitest; its report follows vitest's (${pytestLog})\n`);
}
let vitestCode = 0;
if (only !== "pytest") {
  const vitest = await run("npx", ["vitest", "run", ...args], { stdio: "inherit" });
  vitestCode = vitest.exitCode ?? 1;
}
if (pytest) {
  const { code, at } = await pytest;
  process.stdout.write(`\n---- pytest (harness tests, finished after ${at}) ----\n`);
  process.stdout.write(fs.readFileSync(pytestLog, "utf8"));
  fs.rmSync(path.dirname(pytestLog), { recursive: true, force: true });
  process.exit(vitestCode !== 0 ? vitestCode : code);
}
process.exit(vitestCode);
