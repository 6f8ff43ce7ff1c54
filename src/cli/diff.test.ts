import { describe, expect, it } from "vitest";
import { archlab, useSampleArchive } from "../archive/testing/sampleArchive.ts";

const sample = useSampleArchive("diff");

describe("archlab diff", () => {
  it("prints git's unified diff between a parent and its child", async () => {
    const run = await archlab(["diff", "e000001", "e000002", "--archive", sample.archive]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("--- a/layer.py\n+++ b/layer.py");
    expect(run.stdout).toContain("-        return x\n+        return x * 2");
  });

  it("is a one-line error when a candidate has no code", async () => {
    const run = await archlab(["diff", "e000001", "e000003", "--archive", sample.archive]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(`archlab: experiment e000003 has no code in archive ${sample.archive}`);
  });
});
