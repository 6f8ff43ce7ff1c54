/**
 * The catalogue of user and environment mistakes (test/badInputs.e2e.test.ts runs every row; README.md quotes
 * it as a table, checked by the same test): each is one line on stderr naming the problem, with its exit code.
 * In `args`, `T` stands for the row's temp folder (holding `sample/`, a small archive, and the row's own files).
 */
import fs from "node:fs";
import path from "node:path";

export interface BadInput {
  group: "campaign file" | "flags" | "archive" | "environment";
  what: string;
  args: string[];
  /** Files the row needs, relative to T. */
  files?: Record<string, string>;
  setup?: (dir: string) => void;
  env?: Record<string, string | undefined>;
  /** Run as an unprivileged user (root can write anywhere). */
  unprivileged?: boolean;
  /** Hold the sample archive's writer lock while the row runs. */
  locked?: boolean;
  exit: number;
  /** A piece of the one stderr line. */
  says: string;
}

const campaign = (what: string, yaml: string, says: string): BadInput => ({
  group: "campaign file", what, args: ["run", "T/c.yaml", "--archive", "T/a"], files: { "c.yaml": yaml }, exit: 2, says,
});
const flag = (what: string, args: string[], says: string, exit = 2): BadInput => ({ group: "flags", what, args, exit, says });

export const BAD_INPUTS: BadInput[] = [
  { group: "campaign file", what: "campaign file missing", args: ["run", "T/nope.yaml"], exit: 2, says: "no such campaign file: T/nope.yaml" },
  campaign("not YAML", "budget: [1\n", "is not valid YAML"),
  campaign("a YAML list, not a mapping", "- a\n- b\n", "must be a YAML mapping"),
  campaign("unknown key", "bogus: 1\n", 'unknown key "bogus"'),
  campaign("unknown nested key", "budget: {experimentz: 3}\n", 'unknown key "budget.experimentz"'),
  campaign("budget not a number", "budget: {experiments: ten}\n", "budget.experiments"),
  campaign("until not HH:MM", "until: '25:00'\n", "until: HH:MM"),
  campaign("devices malformed", "devices: gpu0\n", "devices: cpu or cuda:N"),
  campaign("unknown seed design", "proposer: {seeds: [nope]}\n", "proposer.seeds"),
  campaign("unknown sampling policy", "proposer: {sampling: {policy: best}}\n", "proposer.sampling.policy"),
  campaign("unknown proxy preset", "stages: {proxy: {preset: huge}}\n", "stages.proxy.preset"),
  campaign("corpus pointing nowhere", "stages: {proxy: {corpus: /nonexistent/corpus}}\n", "no such corpus: /nonexistent/corpus"),
  campaign("baseline layer missing", "baseline: {path: nope/layer.py}\n", "no such baseline layer"),
  campaign("memory limit below the harness's floor", "memory_mb: 1\n", "memory_mb: at least 256 MB"),
  {
    group: "campaign file", what: "llm section without its key", args: ["run", "T/c.yaml", "--archive", "T/a"],
    files: { "c.yaml": "llm: {model: gpt-4.1-mini}\n" }, env: { OPENAI_API_KEY: undefined }, exit: 2, says: "OPENAI_API_KEY",
  },
  flag("--budget 0", ["run", "--budget", "0", "--archive", "T/a"], '--budget must be a positive integer, not "0"'),
  flag("--budget not a number", ["run", "--budget", "ten", "--archive", "T/a"], '--budget must be a positive integer, not "ten"'),
  flag("--max-hours 0", ["run", "--max-hours", "0", "--archive", "T/a"], '--max-hours must be a positive number, not "0"'),
  flag("--parallel 0", ["run", "--parallel", "0", "--archive", "T/a"], '--parallel must be a positive integer, not "0"'),
  flag("--devices malformed", ["run", "--devices", "cuda:x", "--archive", "T/a"], "devices: cpu or cuda:N"),
  flag("--devices naming a GPU that is not there", ["run", "--devices", "cuda:99", "--archive", "T/a"], "cuda:99 requested, but"),
  flag("--preset unknown", ["run", "--preset", "huge"], "argument 'huge' is invalid"),
  flag("--until not HH:MM", ["run", "--until", "7am", "--archive", "T/a"], "until: HH:MM"),
  flag("--max-dollars without an LLM", ["run", "--max-dollars", "5", "--archive", "T/a"], "a dollar budget (--max-dollars, budget.llm_dollars) needs an llm: section"),
  flag("unknown option", ["run", "--bogus"], "unknown option '--bogus'"),
  flag("unknown command", ["frobnicate"], "unknown command 'frobnicate'"),
  flag("ls --limit 0", ["ls", "--archive", "T/sample", "--limit", "0"], "--limit must be a positive integer"),
  flag("ls --sort unknown", ["ls", "--archive", "T/sample", "--sort", "best"], "argument 'best' is invalid"),
  flag("evaluate: no such layer file", ["evaluate", "T/nope.py"], "no such file: T/nope.py"),
  { group: "flags", what: "evaluate: not a .py file", args: ["evaluate", "T/layer.txt"], files: { "layer.txt": "x" }, exit: 2, says: "not a Python file (expected .py)" },
  flag("evaluate --device malformed", ["evaluate", "experiments/layers/delta_net.py", "--device", "gpu"], '--device must be cpu, cuda or cuda:N, not "gpu"'),
  flag("evaluate --device naming a GPU that is not there", ["evaluate", "experiments/layers/delta_net.py", "--device", "cuda:99"], "cuda:99 requested, but"),
  flag("evaluate --memory-mb 1", ["evaluate", "experiments/layers/delta_net.py", "--memory-mb", "1"], "--memory-mb must be at least 256 MB (the harness needs that much to import a layer), not 1"),
  flag("evaluate --seeds 0", ["evaluate", "experiments/layers/delta_net.py", "--seeds", "0"], '--seeds must be a positive integer, not "0"'),
  flag("evaluate --kwargs not JSON", ["evaluate", "experiments/layers/delta_net.py", "--kwargs", "{nope"], "--kwargs"),
  flag("evaluate --corpus pointing nowhere", ["evaluate", "experiments/layers/delta_net.py", "--stage", "proxy", "--corpus", "T/none.txt"], "no such corpus"),
  { group: "flags", what: "evaluate --out naming a file", args: ["evaluate", "experiments/layers/delta_net.py", "--out", "T/f"], files: { f: "x" }, exit: 2, says: "--out T/f is a file" },
  { group: "archive", what: "ls on a missing archive", args: ["ls", "--archive", "T/none"], exit: 2, says: "no archive at T/none" },
  { group: "archive", what: "show an unknown id", args: ["show", "e999999", "--archive", "T/sample"], exit: 2, says: "no experiment e999999" },
  { group: "archive", what: "diff with an unknown id", args: ["diff", "e000001", "e999999", "--archive", "T/sample"], exit: 2, says: "no experiment e999999" },
  { group: "archive", what: "lineage of an unknown id", args: ["lineage", "e999999", "--archive", "T/sample"], exit: 2, says: "no experiment e999999" },
  { group: "archive", what: "run on an archive another run holds", args: ["run", "--archive", "T/sample"], locked: true, exit: 3, says: "is locked by pid" },
  {
    group: "archive", what: "corrupt db.json", args: ["ls", "--archive", "T/bad"], files: { "bad/db.json": "{not json" }, exit: 2, says: "T/bad",
  },
  { group: "archive", what: "run with --archive naming a file", args: ["run", "--archive", "T/f"], files: { f: "x" }, exit: 2, says: "cannot write archive T/f" },
  {
    group: "archive", what: "run on an archive it cannot write", args: ["run", "--archive", "T/ro/a"], unprivileged: true,
    // The venv's interpreter may sit in root's home; the run stops at the archive before any Python starts.
    env: { ARCHLAB_PYTHON: process.execPath },
    setup: (dir) => { fs.mkdirSync(path.join(dir, "ro")); fs.chmodSync(path.join(dir, "ro"), 0o555); }, exit: 2, says: "cannot write archive T/ro/a: permission denied (EACCES)",
  },
  { group: "archive", what: "export --out into a missing folder", args: ["export", "--archive", "T/sample", "--out", "T/no/such/x.json"], exit: 2, says: "no such folder T/no/such" },
  { group: "archive", what: "export --out naming a folder", args: ["export", "--archive", "T/sample", "--out", "T"], exit: 2, says: "is a folder" },
  { group: "environment", what: "ARCHLAB_PYTHON pointing nowhere (evaluate)", args: ["evaluate", "experiments/layers/delta_net.py"], env: { ARCHLAB_PYTHON: "/nonexistent/python" }, exit: 2, says: "ARCHLAB_PYTHON points to /nonexistent/python" },
  { group: "environment", what: "ARCHLAB_PYTHON pointing nowhere (run)", args: ["run", "--archive", "T/a"], env: { ARCHLAB_PYTHON: "/nonexistent/python" }, exit: 2, says: "ARCHLAB_PYTHON points to /nonexistent/python" },
  { group: "environment", what: "import asi-arch: no such tree file", args: ["import", "asi-arch", "T/tree.json", "--archive", "T/a"], exit: 2, says: "T/tree.json" },
  { group: "environment", what: "cognition import: no such folder", args: ["cognition", "import", "T/none", "--archive", "T/a"], exit: 2, says: "T/none" },
];

/** The README's table of the catalogue (the test checks the README holds exactly this). */
export function badInputsTable(rows: readonly BadInput[] = BAD_INPUTS): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  return [
    "| | mistake | command | exit | stderr says |",
    "|---|---|---|---|---|",
    ...rows.map((r, i) => `| ${i + 1} | ${cell(r.what)} | \`archlab ${cell(r.args.join(" "))}\` | ${r.exit} | \`${cell(r.says)}\` |`),
  ].join("\n");
}
