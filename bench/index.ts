// `npm run bench [-- --only a,b] [--fidelity-parallel N --fidelity-archive DIR --fidelity-out FILE --fidelity-resume FILE] [--campaign-preset tiny|quick|full --campaign-budget N --campaign-seeds 0,1,2] [--yield-preset P --yield-budget N --yield-seeds N]`: every number printed here is measured in this one run on this machine,
// and comparisons are ratios of things measured side by side. Sections: smoke, ops, probes, proxy, asi-arch,
// archive, serve, campaign, yield, fidelity. Nothing here is a pass/fail test; targets are printed next to the measurements.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { EXPERIMENTS_DIR, PROJECT_ROOT } from "../src/paths.ts";
import { findPython } from "../src/runner/python.ts";
import { benchSmoke } from "./smoke.ts";
import { benchCampaign, CAMPAIGN_BENCH_DEFAULTS } from "./campaign.ts";
import { benchYield, YIELD_BENCH_DEFAULTS } from "./yield.ts";
import { benchFidelity, FIDELITY_DEFAULTS } from "./fidelity.ts";
import type { LmPreset, ProxyPreset } from "../src/runner/stages.ts";

const ASI_ARCH_PROGRAMS = path.resolve(PROJECT_ROOT, "..", "shared", "asi-arch", "programs.json");

const SECTIONS: Record<string, () => Promise<string>> = {
  smoke: benchSmoke,
  ops: () => python("bench.ops"),
  probes: () => python("bench.probes"),
  proxy: () => python("bench.proxy", "--preset", "quick"),
  // ASI-Arch's published layers (../shared, absent in a user's clone) through the same quick preset, two at a time.
  "asi-arch": async () => fs.existsSync(ASI_ARCH_PROGRAMS)
    ? python("bench.proxy", "--preset", "quick", "--programs", ASI_ARCH_PROGRAMS, "--parallel", "2")
    : `skipped: ${ASI_ARCH_PROGRAMS} is absent`,
  archive: async () => (await import("./archive.ts")).benchArchive(),
  serve: async () => (await import("./serve.ts")).benchServe(),
  campaign: () => benchCampaign({
    preset: flag("--campaign-preset") ?? CAMPAIGN_BENCH_DEFAULTS.preset,
    budget: Number(flag("--campaign-budget") ?? CAMPAIGN_BENCH_DEFAULTS.budget),
    seeds: flag("--campaign-seeds")?.split(",").map(Number) ?? CAMPAIGN_BENCH_DEFAULTS.seeds,
  }),
  yield: () => benchYield({
    preset: flag("--yield-preset") ?? YIELD_BENCH_DEFAULTS.preset,
    budget: Number(flag("--yield-budget") ?? YIELD_BENCH_DEFAULTS.budget),
    seeds: Number(flag("--yield-seeds") ?? YIELD_BENCH_DEFAULTS.seeds),
    parallel: Number(flag("--yield-parallel") ?? YIELD_BENCH_DEFAULTS.parallel),
    archive: flag("--yield-archive"),
    lmSeeds: Number(flag("--yield-lm-seeds") ?? YIELD_BENCH_DEFAULTS.lmSeeds),
    lmFloorSeeds: Number(flag("--yield-lm-floor-seeds") ?? YIELD_BENCH_DEFAULTS.lmFloorSeeds),
    lmTop: flag("--yield-lm-top") === undefined ? undefined : Number(flag("--yield-lm-top")),
  }),
  fidelity: () => benchFidelity({
    proxyPreset: (flag("--fidelity-proxy-preset") ?? FIDELITY_DEFAULTS.proxyPreset) as ProxyPreset,
    lmPreset: (flag("--fidelity-lm-preset") ?? FIDELITY_DEFAULTS.lmPreset) as LmPreset,
    seed: Number(flag("--fidelity-seed") ?? FIDELITY_DEFAULTS.seed),
    parallel: Number(flag("--fidelity-parallel") ?? FIDELITY_DEFAULTS.parallel),
    generated: Number(flag("--fidelity-generated") ?? FIDELITY_DEFAULTS.generated),
    archive: flag("--fidelity-archive"),
    fromArchive: Number(flag("--fidelity-from-archive") ?? FIDELITY_DEFAULTS.fromArchive),
    out: flag("--fidelity-out") ?? FIDELITY_DEFAULTS.out,
    resume: flag("--fidelity-resume"),
    layers: flag("--fidelity-layers")?.split(","),
    floorSeeds: Number(flag("--fidelity-floor-seeds") ?? FIDELITY_DEFAULTS.floorSeeds),
  }),
};

async function python(module: string, ...args: string[]): Promise<string> {
  const run = await execa(findPython(), ["-m", module, ...args], {
    cwd: EXPERIMENTS_DIR, env: { PYTHONPATH: EXPERIMENTS_DIR }, reject: false, all: true,
  });
  return run.all ?? "";
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const only = flag("--only")?.split(",") ?? Object.keys(SECTIONS);
const unknown = only.filter((s) => !(s in SECTIONS));
if (unknown.length) {
  console.error(`bench: unknown section ${unknown.join(", ")} (sections: ${Object.keys(SECTIONS).join(", ")})`);
  process.exit(2);
}
console.log(`archlab bench · ${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"} · node ${process.version}`);
for (const name of only) {
  const started = performance.now();
  console.log(`\n## ${name}`);
  console.log((await SECTIONS[name]!()).trimEnd());
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
