// The README's first run, the way a newcomer does it: in a copy of the working tree, cwd at its root, no
// --archive, the commands read from README.md itself (so the two cannot drift). The only change: the campaign gets
// `--preset tiny --budget 2` appended (later flags win), so CI trains for seconds instead of minutes; the README
// says so. Then ls/show/diff/lineage with their defaults, and again with a relative --archive from a subfolder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/paths.ts";

/** What the test appends to the README's campaign command (documented in the README's first-run section). */
export const CI_OVERRIDE = "--preset tiny --budget 2";

/** The README's first-run command (`npx archlab run ...`) and the look-around commands after it. */
export function readmeFirstRun(readme: string): { run: string; look: string[] } {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Set up and first run"));
  if (!section) throw new Error("README.md has no '## Set up and first run' section");
  const blocks = [...section.matchAll(/^```\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  const run = blocks[0]?.split("\n").flatMap((l) => l.split("&&")).map((c) => c.trim()).find((c) => c.startsWith("npx archlab run"));
  const look = (blocks[1] ?? "").split("\n").map((l) => l.replace(/#.*/, "").trim()).filter((l) => l.startsWith("npx archlab "));
  if (!run || look.length === 0) throw new Error("README.md's first-run section lost its `npx archlab run` or its ls/show/diff/lineage block");
  return { run, look };
}

/** The working tree (tracked and untracked-but-not-ignored files) copied to `dest`, node_modules and the venv linked. */
async function copyWorkingTree(dest: string): Promise<void> {
  const { stdout } = await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: PROJECT_ROOT });
  for (const rel of stdout.split("\0").filter(Boolean)) {
    const from = path.join(PROJECT_ROOT, rel);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue; // deleted, or a submodule
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, rel));
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dest, "node_modules"));
  fs.symlinkSync(path.join(PROJECT_ROOT, "experiments", ".venv"), path.join(dest, "experiments", ".venv"));
}

let root: string;
const readme = readmeFirstRun(fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8"));
const sh = (command: string, cwd: string) => execa("bash", ["-c", command], { cwd, reject: false, env: { ARCHLAB_FAILPOINT: "" } });

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-readme-"));
  await copyWorkingTree(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function expectFirstRun(run: { exitCode?: number; stdout: string; stderr: string }) {
  expect(run.stderr).not.toMatch(/internal error|exhausted|Error:|\n\s+at /);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^2 experiments finished; budget of 2 experiments reached/);
  expect(run.stderr).toMatch(/e000001 delta_net: done fitness -?\d+\.\d+/);
}

function expectLookAround(outputs: { line: string; exitCode?: number; stdout: string; stderr: string }[]) {
  for (const out of outputs) {
    expect(out.exitCode, `${out.line}: ${out.stderr}`).toBe(0);
    expect(out.stdout.trim().length, out.line).toBeGreaterThan(0);
  }
  const [ls, show, diff, lineage] = outputs.map((o) => o.stdout);
  expect(ls).toMatch(/^id\s+name\s+parent\s+status\s+fitness/);
  expect(ls).toMatch(/e000001\s+delta_net\s+-\s+done\s+≈?-?\d+\.\d+/); // ≈: within noise of the row above
  expect(ls).toMatch(/e000002\s+\S+\s+e000001\s+/);
  expect(show).toMatch(/e000002/);
  expect(show).toMatch(/motivation/i);
  expect(diff).toMatch(/^[-+]/m);
  expect(lineage).toMatch(/e000001/);
}

describe("the README's first run on a copy of the working tree", () => {
  it("the README still has the commands this test runs", () => {
    expect(readme.run).toBe("npx archlab run --budget 6");
    expect(readme.look.map((c) => c.split(" ")[2])).toEqual(["ls", "show", "diff", "lineage"]);
  });

  it("runs the campaign from the repository root with no --archive, then ls/show/diff/lineage with their defaults", async () => {
    const run = await sh(`${readme.run} ${CI_OVERRIDE}`, root);
    expectFirstRun(run);
    expect(fs.existsSync(path.join(root, "archive", "default", "db.json"))).toBe(true);
    const outputs = [];
    for (const command of readme.look) outputs.push({ ...(await sh(command, root)), line: command });
    expectLookAround(outputs);
  }, 600_000);

  it("does the same with a relative --archive from a subfolder", async () => {
    const sub = path.join(root, "work", "here");
    fs.mkdirSync(sub, { recursive: true });
    const flag = "--archive ../lab";
    const run = await sh(`${readme.run} ${CI_OVERRIDE} ${flag}`, sub);
    expectFirstRun(run);
    expect(run.stdout).toContain("archlab ls --archive ../lab");
    expect(fs.existsSync(path.join(root, "work", "lab", "db.json"))).toBe(true);
    const outputs = [];
    for (const command of readme.look) outputs.push({ ...(await sh(`${command} ${flag}`, sub)), line: command });
    expectLookAround(outputs);
  }, 600_000);
});
