import { describe, expect, it } from "vitest";
import { archlab, useSampleArchive } from "../archive/testing/sampleArchive.ts";

const sample = useSampleArchive("lineage");

describe("archlab lineage", () => {
  it("draws the ancestors down to the experiment and its descendants below", async () => {
    const run = await archlab(["lineage", "e000002", "--archive", sample.archive]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^e000001  seed-delta  [\d.]+  done$/);
    expect(lines[1]).toMatch(/^└── e000002  delta-x2  [\d.]+  done  ◀$/);
    expect(lines[2]).toMatch(/^    └── e000004  delta-x2-leaky  -  rejected$/);
  });

  it("gives {ancestors, tree} as JSON, limited by --depth", async () => {
    const run = await archlab(["lineage", "e000001", "--archive", sample.archive, "--json", "--depth", "1"]);
    const view = JSON.parse(run.stdout);
    expect(view.ancestors).toEqual([]);
    expect(view.tree.children.map((c: { id: string }) => c.id)).toEqual(["e000002", "e000003"]);
    expect(view.tree.children[0].children).toEqual([]);
  });
});
