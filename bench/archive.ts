// Archive scale (issue 6): insert / leaderboard query / open at 100, 10,000 and 100,000 synthetic experiments
// (~1.7 kB records: two stages, probes, fitness), side by side with plain lowdb (JSONFile rewriting the whole
// file per insert) at the same sizes. Archives are built with batch inserts; the timed inserts are single,
// fsync'd ones on top. Run alone: `npx tsx bench/archive.ts`, or `npm run bench -- --only archive`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Low } from "lowdb";
import { JSONFile } from "lowdb/node";
import { Archive } from "../src/archive/archive.ts";
import { syntheticExperiment } from "../src/archive/fixtures.ts";

const SIZES = [100, 10_000, 100_000];
const TARGETS = { insert: 50, leaderboard: 100, open: 1000 }; // ms, at 100,000

interface Row {
  size: number;
  insertMedian: number;
  insertMax: number;
  leaderboardCold: number;
  leaderboardMedian: number;
  openRead: number;
  openWrite: number;
  compact: number;
  bytes: number;
  plainInsert: number | null;
}

export async function benchArchive(): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-archive-"));
  const rows: Row[] = [];
  try {
    for (const size of SIZES) rows.push(await measure(path.join(root, String(size)), size));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return render(rows);
}

async function measure(dir: string, size: number): Promise<Row> {
  await build(dir, size);

  // Open: a reader (no lock) and a writer (lock + journal), median of 3.
  const openRead = median(await repeat(3, async () => {
    const t = performance.now();
    const archive = await Archive.open(dir, { mode: "read" });
    const ms = performance.now() - t;
    await archive.close();
    return ms;
  }));
  const openWrite = median(await repeat(3, async () => {
    const t = performance.now();
    const archive = await Archive.open(dir, { mode: "write" });
    const ms = performance.now() - t;
    await archive.close();
    return ms;
  }));

  const archive = await Archive.open(dir, { mode: "write" });
  // Leaderboard: the first query reads the top records' bodies from disk; later ones hit the cache.
  let t = performance.now();
  archive.leaderboard({ limit: 10 });
  const leaderboardCold = performance.now() - t;
  const leaderboardMedian = median(await repeat(20, async () => {
    const start = performance.now();
    archive.leaderboard({ limit: 10 });
    return performance.now() - start;
  }));

  // Inserts: single experiments, each journalled and fdatasync'd before it returns.
  const inserts = await repeat(30, async (i) => {
    const n = size + 1 + i;
    const start = performance.now();
    await archive.insertExperiment(syntheticExperiment(n, "e000001"));
    return performance.now() - start;
  });
  t = performance.now();
  await archive.close(); // compacts the 30 inserts into a new snapshot
  const compact = performance.now() - t;
  const bytes = fs.readdirSync(dir).filter((f) => /^(db\.json|experiments\.\d+\.jsonl)$/.test(f))
    .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);

  return {
    size, insertMedian: median(inserts), insertMax: Math.max(...inserts), leaderboardCold, leaderboardMedian,
    openRead, openWrite, compact, bytes, plainInsert: await plainLowdb(path.join(dir, "plain.json"), size),
  };
}

/**
 * Builds an archive of `size` experiments in batches (one journal write each), parents drawn from earlier ones,
 * compacting once at the end rather than as the journal grows (the build is set-up, not what is measured).
 */
async function build(dir: string, size: number): Promise<void> {
  const archive = await Archive.open(dir, { mode: "write", compactMinBytes: 1e12 });
  try {
    const batch = 2000;
    for (let start = 1; start <= size; start += batch) {
      const inputs = [];
      for (let n = start; n < Math.min(start + batch, size + 1); n++) {
        const parent = n === 1 ? null : `e${String(1 + ((n * 7919) % (n - 1))).padStart(6, "0")}`;
        inputs.push(syntheticExperiment(n, parent, { id: `e${String(n).padStart(6, "0")}` }));
      }
      await archive.insertExperiments(inputs);
    }
  } finally {
    await archive.close();
  }
}

/** Plain lowdb: every insert rewrites the whole JSON file (median of a few inserts at this size). */
async function plainLowdb(file: string, size: number): Promise<number> {
  const records = Array.from({ length: size }, (_, i) => ({ ...syntheticExperiment(i + 1, null), id: `e${i + 1}` }));
  const db = new Low(new JSONFile<{ experiments: unknown[] }>(file), { experiments: records });
  const samples = size >= 100_000 ? 2 : 5;
  const times = await repeat(samples, async (i) => {
    const start = performance.now();
    db.data.experiments.push({ ...syntheticExperiment(size + i + 1, null), id: `x${i}` });
    await db.write();
    return performance.now() - start;
  });
  fs.rmSync(file, { force: true });
  return median(times);
}

async function repeat(n: number, fn: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function render(rows: Row[]): string {
  const ms = (v: number | null) => (v === null ? "-" : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
  const line = (label: string, cells: string[], target = "") =>
    `${label.padEnd(40)}${cells.map((c) => c.padStart(12)).join("")}${target ? `   ${target}` : ""}`;
  const last = rows[rows.length - 1]!;
  const verdict = (value: number, target: number) => `${value <= target ? "ok" : "MISSED"} (target ≤ ${target} ms)`;
  const out = [
    `${os.loadavg()[0]!.toFixed(1)} load average (1 min) at the end; numbers on a busy machine run high`,
    line("experiments", rows.map((r) => r.size.toLocaleString("en-US")), "at 100,000"),
    line("insert, single fsync'd (median)", rows.map((r) => ms(r.insertMedian)), verdict(last.insertMedian, TARGETS.insert)),
    line("insert, single fsync'd (max of 30)", rows.map((r) => ms(r.insertMax))),
    line("leaderboard top-10 (median of 20)", rows.map((r) => ms(r.leaderboardMedian)), verdict(last.leaderboardMedian, TARGETS.leaderboard)),
    line("leaderboard top-10, first query", rows.map((r) => ms(r.leaderboardCold))),
    line("open, read mode (median of 3)", rows.map((r) => ms(r.openRead)), verdict(last.openRead, TARGETS.open)),
    line("open, write mode: lock + journal", rows.map((r) => ms(r.openWrite))),
    line("close: compaction of 30 inserts", rows.map((r) => ms(r.compact))),
    line("snapshot size (db.json + bodies)", rows.map((r) => `${(r.bytes / 1e6).toFixed(1)} MB`)),
    line("plain lowdb insert, JSONFile (median)", rows.map((r) => ms(r.plainInsert))),
    line("  ratio plain / archive insert", rows.map((r) => (r.plainInsert === null ? "-" : `${(r.plainInsert / r.insertMedian).toFixed(1)}x`))),
  ];
  return out.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchArchive());
}
