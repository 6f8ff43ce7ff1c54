// Signals at every step of the seed and of a normal experiment, then resume: real `archlab run` processes (tiny
// preset) stopped by SIGINT, SIGTERM or SIGKILL (src/campaign/failpoint.ts: ARCHLAB_FAILPOINT=<step>:<signal>),
// one step after the other on the same archive, each run resuming the last. At the end the campaign finishes its
// budget: the seed has a fitness, nothing was lost or duplicated, no process was left behind, the lock is free.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archive } from "../src/archive/archive.ts";
import { TERMINAL_STATUSES } from "../src/contracts/experiment.ts";
import { PROJECT_ROOT } from "../src/paths.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
/** The seed's steps (baseline: the baseline's first training step, inside the seed's "analysing"), then a child's. */
const SEED_STEPS = ["proposed", "implemented", "probing", "training", "baseline", "recording"];
const CHILD_STEPS = ["proposed", "implemented", "probing", "training", "recording"];
const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-signals-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Processes (other than this one) whose command line mentions `dir`: harness children left behind. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmd.includes(dir) && state !== "Z") found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function settled(dir: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const left = processesUnder(dir);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 200));
  }
  return processesUnder(dir);
}

const STEPS = [...SEED_STEPS.map((s) => ["seed", s] as const), ...CHILD_STEPS.map((s) => ["child", s] as const)];

// SIGKILL at every step. SIGINT and SIGTERM go through one handler (src/cli/run.ts), so together they cover every
// step once: SIGINT at the even-numbered steps, SIGTERM at the odd ones (each signal still stops and resumes the
// seed and the child; a third pass of 11 runs bought no coverage for ~a minute of CI).
const PLANS: Array<[string, Array<[string, string, string]>]> = [
  ["SIGKILL at each step", STEPS.map(([who, step]) => [who, step, "SIGKILL"])],
  ["SIGINT and SIGTERM in turn at each step", STEPS.map(([who, step], i) => [who, step, i % 2 === 0 ? "SIGINT" : "SIGTERM"])],
];

describe.each(PLANS)("%s, then resume", (name, plan) => {
  it("loses nothing, duplicates nothing, leaves nothing running, and finishes the budget", async () => {
    const archiveDir = path.join(tmp, name.split(" ")[0]!);
    const run = (failpoint: string) => execa("node", [CLI, "run", "--archive", archiveDir, "--preset", "tiny", "--budget", "2"], {
      reject: false, cwd: tmp, env: { ARCHLAB_FAILPOINT: failpoint },
    });
    for (const [who, step, signal] of plan) {
      const stopped = await run(`${step}:${signal}`);
      const what = `${signal} at the ${who}'s ${step}: ${stopped.stderr}`;
      if (signal === "SIGKILL") expect(stopped.signal, what).toBe("SIGKILL");
      else {
        expect(stopped.exitCode, what).toBe(EXIT[signal]);
        expect(stopped.stderr, what).toContain(`archlab: ${signal}: stopping; unfinished experiments resume on the next run`);
        expect(stopped.stderr, what).not.toMatch(/internal error|\n\s+at /);
      }
      expect(await settled(archiveDir), what).toEqual([]);
    }
    const last = await run("");
    expect(last.exitCode, last.stderr).toBe(0);
    expect(last.stdout).toMatch(/budget of 2 experiments reached/);
    expect(await settled(archiveDir)).toEqual([]);
    expect(fs.existsSync(path.join(archiveDir, "writer.lock"))).toBe(false);

    const archive = await Archive.open(archiveDir, { mode: "read" });
    try {
      const all = archive.experiments();
      expect(all.map((e) => e.id)).toEqual(["e000001", "e000002"]);
      expect(all.every((e) => TERMINAL_STATUSES.includes(e.status))).toBe(true);
      const [seed, child] = all;
      expect(seed!.proposer).toBe("seed");
      expect(seed!.status).toBe("done");
      // Noise-scaled fitness: the seed is the baseline layer, so its fitness sits near 0, either side.
      expect(Number.isFinite(seed!.fitness?.value)).toBe(true);
      expect(seed!.transitions.map((t) => t.status)).toEqual(expect.arrayContaining(["proposed", "implemented", "probing", "training", "analysing", "done"]));
      expect(child!.parentId).toBe("e000001");
      expect(new Set(all.map((e) => e.genomeKey)).size).toBe(2);
      expect(archive.campaigns()).toHaveLength(1);
      expect(archive.campaigns()[0]!.endedAt).not.toBeNull();
      expect(await archive.readText("e000001", "analysis")).toBeTruthy();
    } finally {
      await archive.close();
    }
  }, 900_000);
});
