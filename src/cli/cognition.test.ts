// `archlab cognition import/search` end to end: the real CLI in a child process, on temp archives.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../paths.ts";
import { startOpenAIServer, type OpenAIServer } from "../../test/support/openaiServer.ts";
import { sharedData } from "../../test/support/shared.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const { dir: ASI_ARCH_COGNITION, have: haveCognition } = sharedData("asi-arch/cognition", [""], "ASI-Arch's cognition files");

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-cognition-cli-"));
});

function archlab(args: string[], env: Record<string, string> = {}) {
  return execa("node", [CLI, ...args], { reject: false, cwd: tmp, env: { OPENAI_API_KEY: "", OPENAI_BASE_URL: "", ...env } });
}

describe.skipIf(!haveCognition)("archlab cognition on ASI-Arch's files", () => {
  it("imports the 98 files, then finds Mamba for a selective state-space scan", async () => {
    const archive = path.join(tmp, "archive");
    const imported = await archlab(["cognition", "import", ASI_ARCH_COGNITION, "--archive", archive]);
    expect(imported.stderr).toBe("");
    expect(imported.exitCode).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`^imported 98 files into ${archive}: (\\d+) added, 0 updated, 0 unchanged, 0 removed; \\1 entries$`));

    const search = await archlab(["cognition", "search", "state space model selective scan", "--k", "3", "--archive", archive]);
    expect(search.exitCode).toBe(0);
    const lines = search.stdout.split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^cg\d{4} +\d+\.\d{3}  \S/);
    expect(lines[1]).toContain("Mamba: Linear-Time Sequence Modeling with Selective State Spaces · https://arxiv.org/abs/2312.00752");

    const json = await archlab(["cognition", "search", "selective scan", "--k", "2", "--json", "--archive", archive]);
    const hits = JSON.parse(json.stdout) as { id: string; url: string; score: number; fields: Record<string, string> }[];
    expect(hits).toHaveLength(2);
    expect(hits[0]!.url).toBe("https://arxiv.org/abs/2312.00752");
    expect(hits[0]!.fields.DESIGN_INSIGHT).toBeTypeOf("string");
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
  });
});

describe("archlab cognition", () => {
  let server: OpenAIServer;
  beforeAll(async () => {
    server = await startOpenAIServer({ apiKey: "sk-cli" });
  });
  afterAll(async () => {
    await server.close();
  });

  it("imports notes with --embed and searches them with --embeddings through the endpoint", async () => {
    const notes = path.join(tmp, "notes");
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, "gates.md"), "# Output gates\n\nA swish output gate helped recall.\n");
    fs.writeFileSync(path.join(notes, "decay.md"), "# Decay\n\nFixed per-head decay hurt long-range copying.\n");
    const env = { OPENAI_API_KEY: "sk-cli", OPENAI_BASE_URL: server.url };
    const imported = await archlab(["cognition", "import", notes, "--embed", "--embedding-model", "emb"], env);
    expect(imported.stderr).toBe("");
    expect(imported.stdout).toBe("imported 2 files into archive/default: 2 added, 0 updated, 0 unchanged, 0 removed; 2 entries; embedded 2 with emb");
    const search = await archlab(["cognition", "search", "swish output gate", "--embeddings", "--embedding-model", "emb", "--k", "1", "--json"], env);
    expect(search.exitCode).toBe(0);
    expect(JSON.parse(search.stdout)[0].title).toBe("Output gates");
    expect(server.embeddingRequests().length).toBeGreaterThanOrEqual(2);
  });

  it("answers bad input with one line and exit code 2", async () => {
    const cases: [string[], RegExp][] = [
      [["cognition", "import", path.join(tmp, "missing")], /^archlab: no such directory: .*missing$/],
      [["cognition", "search", "scan", "--archive", path.join(tmp, "none")], /^archlab: no cognition base in .*none \(run `archlab cognition import/],
      [["cognition", "search", "scan", "--k", "0"], /^archlab: --k must be a positive integer, not "0"$/],
    ];
    fs.writeFileSync(path.join(tmp, "bad.json"), JSON.stringify([{ title: "not cognition" }]));
    cases.push([["cognition", "import", path.join(tmp, "bad.json")], /^archlab: cognition file .*bad\.json is not ASI-Arch's cognition format: .*$/]);
    fs.mkdirSync(path.join(tmp, "n"));
    fs.writeFileSync(path.join(tmp, "n", "a.md"), "# A\n");
    cases.push([["cognition", "import", path.join(tmp, "n"), "--embed"], /^archlab: OPENAI_API_KEY is not set: /]);
    for (const [args, stderr] of cases) {
      const run = await archlab(args);
      expect(run.stderr, args.join(" ")).toMatch(stderr);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(run.exitCode, args.join(" ")).toBe(2);
    }
  });
});
