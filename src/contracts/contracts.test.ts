import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILES, schemaPath, schemaText } from "../../scripts/export-schema.ts";
import { RunResult } from "./result.ts";

describe("contracts", () => {
  it.each(Object.entries(SCHEMA_FILES))("the committed %s matches the zod schema (run `npm run schema`)", (name, schema) => {
    expect(fs.readFileSync(schemaPath(name), "utf8")).toBe(schemaText(schema));
  });

  it("rejects a result with an unknown status or error kind", () => {
    const base = {
      schema: "archlab.result/1", stage: "smoke", status: "ok", error: null, probes: null, fingerprint: null,
      curve: [], metrics: {}, params: null, tokens_per_s: null, wall_s: 1, device_s: null,
      env: { torch: "2", python: "3", device: "cpu", dtype: "float32", seed: 0 },
    };
    expect(RunResult.safeParse(base).success).toBe(true);
    expect(RunResult.safeParse({ ...base, status: "great" }).success).toBe(false);
    expect(RunResult.safeParse({ ...base, status: "failed", error: { kind: "gremlins", message: "", tail: "" } }).success).toBe(false);
  });
});
