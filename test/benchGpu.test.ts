// `npm run bench:gpu` (bench/gpu.ts) adds two generated candidates to the GPU bench's rows; `--smoke --device cpu`
// runs the whole path here without a GPU.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/paths.ts";

describe("npm run bench:gpu", () => {
  it("measures the reference rows and two generated candidates in one run", async () => {
    const run = await execa("npx", ["tsx", "bench/gpu.ts", "--smoke", "--device", "cpu", "--json"], { cwd: PROJECT_ROOT, reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    const names = [...run.stderr.matchAll(/^candidate (\S+): /gm)].map((m) => m[1]!);
    expect(names).toHaveLength(2);
    const rows = (JSON.parse(run.stdout) as { rows: { layer: string; backend: string; tokens_per_s?: number; vs_sdpa?: number }[] }).rows;
    for (const name of names) {
      const row = rows.find((r) => r.layer === name && r.backend === "auto");
      expect(row?.tokens_per_s, `${name}'s row`).toBeGreaterThan(0);
      expect(row?.vs_sdpa).toBeGreaterThan(0);
    }
  });

  it("says what is wrong with a missing archive in one line", async () => {
    const run = await execa("npx", ["tsx", "bench/gpu.ts", "--archive", "no/such/archive"], { cwd: PROJECT_ROOT, reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe("bench:gpu: --archive needs an archive folder; no/such/archive does not exist");
  });
});
