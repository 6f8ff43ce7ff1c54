// Writes the JSON Schemas of the cross-language contracts (result, run spec, token manifest) next to the Python harness, so its tests check
// result files against the very schema the TypeScript side validates with. `npm run schema`; a vitest test
// fails when the committed files are stale.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RunResult } from "../src/contracts/result.ts";
import { RunSpec } from "../src/contracts/runSpec.ts";
import { TokenManifest } from "../src/contracts/tokens.ts";
import { EXPERIMENTS_DIR } from "../src/paths.ts";

export const SCHEMA_FILES = {
  "result.schema.json": RunResult,
  "runspec.schema.json": RunSpec,
  "tokens.schema.json": TokenManifest,
} as const;

export function schemaText(schema: z.ZodType): string {
  return JSON.stringify(z.toJSONSchema(schema, { io: "input" }), null, 2) + "\n";
}

export function schemaPath(name: string): string {
  return path.join(EXPERIMENTS_DIR, "harness", name);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
    fs.writeFileSync(schemaPath(name), schemaText(schema));
    console.log(`wrote ${path.relative(process.cwd(), schemaPath(name))}`);
  }
}
