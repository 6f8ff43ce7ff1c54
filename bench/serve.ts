// `archlab serve` at scale (issue 16): p50/p95 latency of the leaderboard and lineage endpoints over real HTTP
// at 10,000 synthetic experiments (a random tree) and on ASI-Arch's 1,772-node tree (`archlab import asi-arch`,
// ../shared/asi-arch; skipped visibly when absent), and the time to first render of the leaderboard and the
// lineage pages in headless Chromium. Run alone: `npx tsx bench/serve.ts`, or `npm run bench -- --only serve`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Archive } from "../src/archive/archive.ts";
import { syntheticExperiment } from "../src/archive/fixtures.ts";
import { importAsiArch, mergeNodes, readAsiArchFile } from "../src/archive/importAsiArch.ts";
import { PROJECT_ROOT } from "../src/paths.ts";
import { hasChromium, launchChromium } from "../src/serve/testing/browser.ts";
import { startServer } from "../src/serve/server.ts";

const TARGET_P95_MS = 100;
const REQUESTS = 200;
const ASI_ARCH = path.resolve(PROJECT_ROOT, "..", "shared", "asi-arch");

async function syntheticArchive(dir: string, n: number): Promise<void> {
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  try {
    await archive.insertCampaign({ id: "c000001", name: "bench" });
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const batch = [];
    for (let i = 1; i <= n; i++) {
      // a search-like tree: a few roots, parents drawn from earlier experiments with a bias to good recent ones
      const parent = i <= 5 ? null : `e${String(1 + Math.floor(rand() ** 0.5 * (i - 1))).padStart(6, "0")}`;
      batch.push(syntheticExperiment(i, parent, { id: `e${String(i).padStart(6, "0")}` }));
    }
    await archive.insertExperiments(batch);
  } finally {
    await archive.close();
  }
}

async function asiArchArchive(dir: string): Promise<boolean> {
  const tree = path.join(ASI_ARCH, "tree.json");
  if (!fs.existsSync(tree)) return false;
  const programs = path.join(ASI_ARCH, "programs.json");
  const main = readAsiArchFile(tree);
  const nodes = fs.existsSync(programs) ? mergeNodes(main.nodes, readAsiArchFile(programs).nodes) : main.nodes;
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  try {
    await importAsiArch(archive, nodes, { source: "asi-arch", file: tree });
  } finally {
    await archive.close();
  }
  return true;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function latency(url: string, paths: () => string): Promise<{ p50: number; p95: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(url + paths());
    const body = await res.arrayBuffer();
    if (!res.ok) throw new Error(`${paths()}: ${res.status}`);
    times.push(performance.now() - t);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), bytes };
}

async function measure(label: string, dir: string): Promise<string[]> {
  const opened = performance.now();
  const server = await startServer({ archive: dir, port: 0 });
  const startMs = performance.now() - opened;
  const lines: string[] = [];
  try {
    const ids = [...server.view.rows.rows.keys()];
    const withKids = ids.filter((id) => server.view.rows.children(id).length > 0);
    const biggest = withKids.reduce((a, b) => (server.view.rows.children(a).length >= server.view.rows.children(b).length ? a : b), withKids[0]!);
    let k = 0;
    const pick = (list: string[]) => list[(k++ * 7919) % list.length]!;
    const cases: [string, () => string][] = [
      ["leaderboard (fitness, top 50)", () => "/api/leaderboard?sort=fitness&limit=50"],
      ["leaderboard (metric sort, status filter, page 3)", () => "/api/leaderboard?sort=metric:loss&order=asc&status=done&limit=50&offset=100"],
      ["leaderboard (search name+motivation)", () => `/api/leaderboard?q=${encodeURIComponent(["delta", "gate", "conv", `candidate-${1 + (k % 50)}`][k++ % 4]!)}&limit=50`],
      ["lineage (roots)", () => "/api/lineage"],
      [`lineage (widest node, ${server.view.rows.children(biggest).length} children)`, () => `/api/lineage?parent=${biggest}`],
      ["lineage (a random expanded node)", () => `/api/lineage?parent=${pick(withKids)}`],
      ["lineage (path to a random node)", () => `/api/lineage/path/${pick(ids)}`],
    ];
    lines.push(`### ${label}: ${ids.length} experiments (server start ${startMs.toFixed(0)} ms)`);
    lines.push("| request | p50 ms | p95 ms | response bytes | p95 ≤ 100 ms |", "|---|---|---|---|---|");
    for (const [name, p] of cases) {
      const r = await latency(server.url, p);
      lines.push(`| ${name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.bytes} | ${r.p95 <= TARGET_P95_MS ? "yes" : "NO"} |`);
    }
    if (hasChromium) {
      const browser = await launchChromium();
      try {
        for (const [page, hash] of [["leaderboard", "#/"], ["lineage", "#/lineage"]] as const) {
          const times: number[] = [];
          for (let i = 0; i < 5; i++) {
            const tab = await browser.newPage();
            await tab.goto(`${server.url}/${hash}`);
            await tab.waitForFunction((n) => document.body.dataset.ready === n, page);
            times.push(await tab.evaluate(() => performance.now())); // ms since navigation start
            await tab.close();
          }
          times.sort((a, b) => a - b);
          lines.push(`time to first render of the ${page} page in Chromium: median ${percentile(times, 0.5).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (5 loads, navigation start to data on screen)`);
        }
      } finally {
        await browser.close();
      }
    } else {
      lines.push("time to first render: skipped (no /usr/bin/chromium)");
    }
  } finally {
    await server.close();
  }
  return lines;
}

export async function benchServe(): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bench-serve-"));
  try {
    const lines: string[] = [`${REQUESTS} sequential requests per row over HTTP on 127.0.0.1; target p95 ≤ ${TARGET_P95_MS} ms.`];
    const synthetic = path.join(tmp, "synthetic");
    await syntheticArchive(synthetic, 10_000);
    lines.push("", ...(await measure("synthetic", synthetic)));
    const asi = path.join(tmp, "asi-arch");
    if (await asiArchArchive(asi)) lines.push("", ...(await measure("ASI-Arch tree (archlab import asi-arch)", asi)));
    else lines.push("", `ASI-Arch tree: skipped (${ASI_ARCH} is absent)`);
    return lines.join("\n");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) console.log(await benchServe());
