import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OpenAIEmbeddings } from "@langchain/openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { startOpenAIServer, type OpenAIServer } from "../../test/support/openaiServer.ts";
import { CognitionBase, embedCognition, formatCognition, importCognition } from "./base.ts";
import { urlFromFileName } from "./format.ts";

/** ASI-Arch's 98 cognition files, beside the project (never copied into it). */
export const ASI_ARCH_COGNITION = path.resolve(PROJECT_ROOT, "..", "shared", "asi-arch", "cognition");
const haveAsiArch = fs.existsSync(ASI_ARCH_COGNITION);

const entry = (title: string, body: string) => ({
  DESIGN_INSIGHT: `### DESIGN_INSIGHT_1: ${title}`,
  EXPERIMENTAL_TRIGGER_PATTERNS: "**Task_Performance_Signatures**: better recall",
  BACKGROUND: `**Title**: Paper about ${title}\n\n**Historical Technical Context**: None`,
  ALGORITHMIC_INNOVATION: body,
  IMPLEMENTATION_GUIDANCE: "Use a short convolution.",
});

let tmp: string;
let src: string;
let archive: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-cognition-"));
  src = path.join(tmp, "src");
  archive = path.join(tmp, "archive");
  fs.mkdirSync(path.join(src, "notes"), { recursive: true });
  fs.writeFileSync(path.join(src, "arxiv.org_abs_2312.00752.json"), JSON.stringify([entry("Selective scan", "input-dependent state space"), entry("Parallel scan", "hardware-aware")]));
  fs.writeFileSync(path.join(src, "notes", "gates.md"), "# Output gates help recall\n\nIn our runs a swish gate added 2 points of MQAR.\n");
  fs.writeFileSync(path.join(src, "ignored.txt"), "not cognition");
});

describe("cognition import", () => {
  it("reads ASI-Arch files and Markdown notes, with stable ids across re-imports", () => {
    const now = () => new Date("2025-01-01T00:00:00Z");
    expect(importCognition(src, archive, { now })).toEqual({ files: 2, added: 3, updated: 0, unchanged: 0, removed: 0, total: 3 });
    const base = CognitionBase.load(archive);
    expect(base.entries.map((e) => [e.id, e.source, e.index, e.title])).toEqual([
      ["cg0001", "arxiv.org_abs_2312.00752.json", 0, "Selective scan"],
      ["cg0002", "arxiv.org_abs_2312.00752.json", 1, "Parallel scan"],
      ["cg0003", "notes/gates.md", 0, "Output gates help recall"],
    ]);
    expect(base.get("cg0001")).toMatchObject({ kind: "asi-arch", url: "https://arxiv.org/abs/2312.00752", paper: "Paper about Selective scan" });
    expect(base.get("cg0003")).toMatchObject({ kind: "markdown", url: null, fields: { NOTE: expect.stringContaining("swish gate") } });

    // Edit one entry, drop another, add a note: ids of surviving entries stay, new ones get fresh ids.
    fs.writeFileSync(path.join(src, "arxiv.org_abs_2312.00752.json"), JSON.stringify([entry("Selective scan", "changed text")]));
    fs.writeFileSync(path.join(src, "notes", "decay.md"), "Decay notes without a heading.\n");
    expect(importCognition(src, archive, { now })).toEqual({ files: 3, added: 1, updated: 1, unchanged: 1, removed: 1, total: 3 });
    const again = CognitionBase.load(archive);
    expect(again.entries.map((e) => [e.id, e.title])).toEqual([["cg0001", "Selective scan"], ["cg0003", "Output gates help recall"], ["cg0004", "decay"]]);
    expect(again.has("cg0002")).toBe(false);
  });

  it("turns bad input into one-line errors and writes nothing", () => {
    const bad = (p: string) => {
      try {
        importCognition(p, archive);
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        expect((err as Error).message).not.toContain("\n");
        return (err as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(bad(path.join(tmp, "nope"))).toBe(`no such directory: ${path.join(tmp, "nope")}`);
    fs.mkdirSync(path.join(tmp, "empty"));
    expect(bad(path.join(tmp, "empty"))).toBe(`no cognition files (*.json, *.md) in ${path.join(tmp, "empty")}`);
    fs.writeFileSync(path.join(src, "broken.json"), "{ not json");
    expect(bad(src)).toMatch(/^cognition file .*broken\.json is not valid JSON: /);
    fs.writeFileSync(path.join(src, "broken.json"), JSON.stringify([{ DESIGN_INSIGHT: "x" }]));
    expect(bad(src)).toMatch(/broken\.json is not ASI-Arch's cognition format: .*\(entry 1, EXPERIMENTAL_TRIGGER_PATTERNS\)/);
    fs.writeFileSync(path.join(src, "broken.json"), JSON.stringify({ DESIGN_INSIGHT: "x" }));
    expect(bad(src)).toMatch(/broken\.json is not ASI-Arch's cognition format/);
    expect(fs.existsSync(path.join(archive, "cognition.json"))).toBe(false);
    expect(() => CognitionBase.require(archive)).toThrow(/no cognition base in .*archlab cognition import/);
  });

  it("maps ASI-Arch file names to URLs", () => {
    expect(urlFromFileName("/x/arxiv.org_pdf_2505.23884_.json")).toBe("https://arxiv.org/pdf/2505.23884/");
    expect(urlFromFileName("sustcsonglin.github.io_blog_2024_deltanet-2_.json")).toBe("https://sustcsonglin.github.io/blog/2024/deltanet-2/");
  });
});

describe.skipIf(!haveAsiArch)("ASI-Arch's 98 cognition files", () => {
  let base: CognitionBase;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-cognition-asi-"));
    const report = importCognition(ASI_ARCH_COGNITION, dir);
    expect(report).toMatchObject({ files: 98, added: report.total, updated: 0, removed: 0 });
    base = CognitionBase.load(dir);
  });

  it("imports every entry with a title, a paper and a URL", () => {
    expect(base.entries.length).toBeGreaterThanOrEqual(98);
    for (const e of base.entries) {
      expect(e.title.length, e.source).toBeGreaterThan(5);
      expect(e.url).toMatch(/^https:\/\//);
      expect(Object.keys(e.fields)).toHaveLength(5);
    }
  });

  it("ranks Mamba first for a selective state-space scan", () => {
    const [first, second] = base.search("state space model selective scan", 5);
    expect(first!.entry.url).toBe("https://arxiv.org/abs/2312.00752");
    expect(first!.entry.paper).toMatch(/^Mamba/);
    expect(second!.entry.url).toBe("https://arxiv.org/abs/2312.00752");
  });

  it("ranks the delta-rule papers first for delta-rule memory, and GLA for forget gates", () => {
    const delta = base.search("delta rule fast weight memory update", 2).map((h) => h.entry.paper ?? "");
    expect(delta.every((p) => /delta|fast weight/i.test(p)), delta.join(" | ")).toBe(true);
    expect(base.search("gated linear attention data-dependent forget gate", 1)[0]!.entry.url).toBe("https://arxiv.org/abs/2312.06635");
  });

  it("formats hits for a prompt with their ids", () => {
    const text = formatCognition(base.search("selective scan", 2));
    expect(text).toMatch(/^### \[cg\d{4}\] /);
    expect(text).toContain("Mamba");
  });
});

describe("embeddings through the OpenAI-compatible endpoint", () => {
  let server: OpenAIServer;
  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("embeds entries once, then ranks by cosine similarity", async () => {
    importCognition(src, archive);
    const embeddings = new OpenAIEmbeddings({ model: "embed-test", apiKey: "k", configuration: { baseURL: server.url } });
    expect(await embedCognition(archive, embeddings, "embed-test")).toEqual({ embedded: 3, total: 3 });
    expect(await embedCognition(archive, embeddings, "embed-test")).toEqual({ embedded: 0, total: 3 });
    expect(server.embeddingRequests()).toHaveLength(1);
    expect(server.embeddingRequests()[0]!.body.input).toHaveLength(3);
    const base = CognitionBase.load(archive);
    const hits = await base.searchByEmbedding("output gates help recall swish gate", embeddings, "embed-test", 2);
    expect(hits[0]!.entry.id).toBe("cg0003");
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    await expect(base.searchByEmbedding("x", embeddings, "other-model")).rejects.toThrow(/no embeddings for model "other-model"/);
  });
});
