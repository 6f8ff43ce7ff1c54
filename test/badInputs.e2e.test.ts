// Every row of the bad-input catalogue (test/badInputs.ts) through the real CLI: the exit code, and stderr is one
// line naming the problem (no stack, no help dump). The README's table must be the catalogue's.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleArchive } from "../src/archive/testing/sampleArchive.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { BAD_INPUTS, badInputsTable, type BadInput } from "./badInputs.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
let base: string;
let sample: string;
beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bad-"));
  sample = path.join(base, "sample-template");
  await buildSampleArchive(sample);
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const fill = (text: string, dir: string) => (text === "T" ? dir : text.replace(/(^|[\s:=])T\//g, `$1${dir}/`));

async function runRow(row: BadInput, n: number) {
  const dir = path.join(base, `row${n}`);
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o755); // an unprivileged row must reach its files
  fs.cpSync(sample, path.join(dir, "sample"), { recursive: true });
  for (const [rel, text] of Object.entries(row.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  row.setup?.(dir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ARCHLAB_FAILPOINT: undefined, ...row.env })) if (v !== undefined) env[k] = v;
  const holder = row.locked ? execa("node", ["--import", "tsx", path.join(PROJECT_ROOT, "src/archive/testing/holdWriter.ts"), path.join(dir, "sample")], { cwd: PROJECT_ROOT, reject: false }) : null;
  if (holder) await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
  const asUser = row.unprivileged && process.getuid?.() === 0 ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : [];
  const [file, ...args] = [...asUser, "node", CLI, ...row.args.map((a) => fill(a, dir))];
  try {
    return { result: await execa(file!, args, { cwd: PROJECT_ROOT, env, extendEnv: false, reject: false, timeout: 120_000 }), says: fill(row.says, dir) };
  } finally {
    holder?.kill("SIGKILL");
    await holder;
  }
}

describe("bad inputs: one line on stderr naming the problem, and the exit code", () => {
  it("the catalogue has at least 35 rows, and the README's table is the catalogue", () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(35);
    expect(fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8")).toContain(badInputsTable());
  });

  // Rows are independent (own temp folder each): a few at a time, since each is a Node start-up and little else.
  it.concurrent.each(BAD_INPUTS.map((row, i) => [i + 1, row.what, row] as const))("%i. %s", async (n, _what, row) => {
    const { result, says } = await runRow(row, n);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(says);
    expect(lines[0]).toMatch(/^(archlab: |error: )/);
    expect(result.exitCode, result.stderr).toBe(row.exit);
  });
});
