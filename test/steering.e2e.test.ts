// Steering end to end (issue 16): a real tiny campaign, steered from another process through the archive's
// steering journal with the CLI — no writer lock needed — obeys pause, veto and a structured note.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { Archive } from "../src/archive/archive.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { experimentsIn } from "./support/archive.ts";
import { readSteering } from "../src/steering/journal.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-steer-"));
const archiveDir = path.join(tmp, "archive");
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => execa("node", [CLI, ...args, "--archive", archiveDir], { reject: false, cwd: tmp, env: { USER: "tester" } });

const snapshot = () => experimentsIn(archiveDir);

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe("steering a running campaign", () => {
  it("pauses, stops a vetoed candidate mid-training, and follows a `prefer` note", async () => {
    const campaign = execa("node", [CLI, "run", "--archive", archiveDir, "--preset", "tiny", "--budget", "3", "--parallel", "1"], { reject: false, cwd: tmp });
    await until("the seed to train", async () => (await snapshot()).find((e) => e.id === "e000001" && e.status === "training"));
    // Paused while the seed trains: the seed finishes, nothing new starts.
    expect((await cli(["pause", "--why", "look first"])).exitCode).toBe(0);
    expect((await cli(["note", "--campaign", "default", "prefer update=gated_delta"])).exitCode).toBe(0);
    await until("the seed to finish", async () => (await snapshot()).find((e) => e.id === "e000001" && e.status === "done"));
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await snapshot()).map((e) => e.id)).toEqual(["e000001"]);

    expect((await cli(["resume"])).exitCode).toBe(0);
    const second = await until("the second experiment to train", async () =>
      (await snapshot()).find((e) => e.id === "e000002" && e.status === "training"), 60_000);
    expect(second.parentId).toBe("e000001");
    expect(second.genome?.update).toBe("gated_delta"); // the note's rule (the seed is delta_net: update=delta)
    const vetoAt = Date.now();
    const veto = await cli(["veto", "e000002", "--why", "leaks the future"]);
    expect(veto.exitCode, veto.stderr).toBe(0);
    expect(veto.stdout).toMatch(/^vetoed e000002: .*by tester\)$/m);
    const stopped = await until("the veto to stop e000002", async () =>
      (await snapshot()).find((e) => e.id === "e000002" && e.status !== "training"), 30_000);
    expect(stopped.status).toBe("rejected");
    expect(Date.now() - vetoAt).toBeLessThan(8_000);
    expect(stopped.reason).toMatch(/^vetoed by tester at .*: leaks the future$/);
    expect(stopped.stages.proxy).toBeUndefined(); // its training never completed

    const out = await campaign;
    expect(out.exitCode, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/steering: pause by tester \(look first\): paused/);
    expect(out.stderr).toMatch(/steering: resume by tester: resumed/);
    expect(out.stderr).toMatch(/steering: veto by tester \(leaks the future\): e000002 stopped/);

    const all = await snapshot();
    expect(all).toHaveLength(3);
    expect(all[2]!.parentId).toBe("e000001"); // never the vetoed one
    const archive = await Archive.open(archiveDir, { mode: "read" });
    try {
      expect(await archive.readText("e000002", "steering")).toMatch(/note s\w+ by tester .*: prefer update=gated_delta/);
      expect(await archive.readText("e000002", "motivation")).toMatch(/Steering: a human note \(note s\w+\) says prefer update=gated_delta/);
    } finally {
      await archive.close();
    }
    expect(readSteering(archiveDir).map((r) => [r.action, r.who])).toEqual([
      ["pause", "tester"], ["note", "tester"], ["resume", "tester"], ["veto", "tester"],
    ]);
  }, 300_000);

  it("refuses bad requests with one line: unknown experiment, campaign, gene or value", async () => {
    const seedArchive = await Archive.open(archiveDir, { mode: "write", warn: () => {} });
    await seedArchive.insertCampaign({ id: "c1", name: "night" });
    await seedArchive.close();
    const cases: [string[], RegExp][] = [
      [["veto", "e999999"], /^archlab: no experiment e999999 in archive /],
      [["pause", "nope"], /^archlab: no campaign nope in archive .*\(campaigns: night\)$/],
      [["note", "--campaign", "night", "prefer colour=red"], /^archlab: note: unknown gene colour /],
      [["note", "--campaign", "night", "avoid update=magic"], /^archlab: note: update has no value magic \(values: additive, /],
      [["unpin", "e000001"], /^archlab: no experiment e000001/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    }
    expect((await cli(["pause", "night"])).exitCode).toBe(0);
    const listed = await cli(["steering"]);
    expect(listed.stdout).toMatch(/pause\s+campaign night/);
  });
});
