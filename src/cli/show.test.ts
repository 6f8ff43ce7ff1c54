import { describe, expect, it } from "vitest";
import { archlab, useSampleArchive } from "../archive/testing/sampleArchive.ts";

const sample = useSampleArchive("show");

describe("archlab show", () => {
  it("shows texts, stages with probe verdicts, fitness inputs, costs, code, commit and history", async () => {
    const run = await archlab(["show", "e000002", "--archive", sample.archive]);
    expect(run.exitCode).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^e000002  delta-x2/);
    expect(out).toMatch(/parent\s+e000001 seed-delta/);
    expect(out).toMatch(/change\s+scale: 1 → 2/);
    expect(out).toMatch(/fitness\s+[\d.]+\s+\(loss 0\.6 · benchmark 0\.55\)/);
    expect(out).toMatch(/inputs loss=[\d.]+ baselineLoss=2\.5/);
    expect(out).toMatch(/probe causality\s+pass\s+max_leak=0/);
    expect(out).toMatch(/metrics loss [\d.]+ · mqar 0\.81/);
    expect(out).toMatch(/costs\s+cpu 97\.7 s/);
    expect(out).toMatch(new RegExp(`code\\s+${sample.archive}/code/[0-9a-f]{64}\\.py`));
    expect(out).toMatch(/commit\s+[0-9a-f]{40}/);
    expect(out).toContain("[pinned]  look at this one");
    const order = ["── motivation", "Doubling the output", "── analysis", "── experience"].map((s) => out.indexOf(s));
    expect(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
  });

  it("prints the record, texts and notes as JSON, and a missing id is a one-line error", async () => {
    const run = await archlab(["show", "e000002", "--archive", sample.archive, "--json"]);
    const view = JSON.parse(run.stdout);
    expect(view.experiment.id).toBe("e000002");
    expect(view.texts.analysis).toBe("It did not, much.");
    expect(view.children).toEqual(["e000004"]);
    const missing = await archlab(["show", "e000404", "--archive", sample.archive]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`archlab: no experiment e000404 in archive ${sample.archive}`);
  });
});
