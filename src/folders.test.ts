/**
 * The floor plan holds: no cycle between src/ folders (a folder per loop stage, contracts/ at the bottom,
 * campaign/ and cli/ at the top). Reads every import of every non-test source file; a cycle fails with the
 * imports that close it.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./paths.ts";

const SRC = path.join(PROJECT_ROOT, "src");

/** A file's unit: its first folder under src/, or the file itself for files at src/'s top level. */
const unitOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith(".ts") && !d.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** Edges between units, each with one import that makes it: unit -> unit -> "file imports spec". */
export function importGraph(files: readonly string[], read: (f: string) => string = (f) => fs.readFileSync(f, "utf8")) {
  const edges = new Map<string, Map<string, string>>();
  const spec = /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const file of files) {
    for (const m of read(file).matchAll(spec)) {
      const target = m[1] ?? m[2]!;
      if (!target.startsWith(".")) continue;
      const resolved = path.resolve(path.dirname(file), target);
      if (!resolved.startsWith(SRC + path.sep)) continue;
      const [from, to] = [unitOf(file), unitOf(resolved)];
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, `${path.relative(PROJECT_ROOT, file)} imports ${target}`);
    }
  }
  return edges;
}

/** Every cycle's units in order (one per strongly connected component of more than one unit), via Tarjan. */
export function folderCycles(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe("src/ folders", () => {
  it("import each other without a cycle", () => {
    const edges = importGraph(sourceFiles(SRC));
    expect(edges.get("campaign")?.size ?? 0).toBeGreaterThan(3); // the graph was read at all
    const explain = folderCycles(edges).map((scc) =>
      scc.flatMap((a) => scc.filter((b) => edges.get(a)?.has(b)).map((b) => `${a} -> ${b} (${edges.get(a)!.get(b)})`)).join("; "));
    expect(explain).toEqual([]);
  });

  it("the check finds a cycle when there is one", () => {
    const files = { [path.join(SRC, "a/x.ts")]: 'import { y } from "../b/y.ts";', [path.join(SRC, "b/y.ts")]: 'import type { X } from "../a/x.ts";\nexport const y = 1;' };
    const edges = importGraph(Object.keys(files), (f) => files[f]!);
    expect(folderCycles(edges)).toEqual([["a", "b"]]);
  });
});
