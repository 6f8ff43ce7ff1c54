import { describe, expect, it } from "vitest";
import { z } from "zod";
import { replyJsonSchema } from "./client.ts";
import { loadPrompt, type PromptName } from "./prompts.ts";
import {
  AnalystReply, DebuggerReply, EngineerReply, findCitations, judgeScore, JudgeReply, NoveltyReply, ResearcherReply,
  stripCodeFence, SummariserReply, unresolvedCitations,
} from "./replies.ts";

const REPLIES: Record<PromptName, z.ZodObject> = {
  researcher: ResearcherReply, novelty: NoveltyReply, engineer: EngineerReply, debugger: DebuggerReply,
  analyst: AnalystReply, judge: JudgeReply, summariser: SummariserReply,
};

describe("reply schemas", () => {
  it("are all named in the shipped template that asks for them", () => {
    for (const [name, schema] of Object.entries(REPLIES)) {
      const { text } = loadPrompt(name);
      for (const field of Object.keys(schema.shape)) expect(text, `${name}.md mentions ${field}`).toContain(`\`${field}\``);
      expect(replyJsonSchema(schema)).not.toHaveProperty("$schema");
    }
  });

  it("score the judge with ASI-Arch's weights", () => {
    expect(judgeScore({ performance: 1, innovation: 0, complexity: 0, rationale: "r" })).toBeCloseTo(0.3, 12);
    expect(judgeScore({ performance: 0.5, innovation: 0.5, complexity: 0.5, rationale: "r" })).toBeCloseTo(0.5, 12);
    expect(JudgeReply.safeParse({ performance: 1.2, innovation: 0, complexity: 0, rationale: "r" }).success).toBe(false);
  });

  it("find citations and flag those that do not resolve", () => {
    expect(findCitations("as in [e000042] and [cg0012], again [e000042]; not [x1] or e000001")).toEqual(["e000042", "cg0012"]);
    const reply = AnalystReply.parse({
      design_evaluation: "d [e000001]", results_analysis: "r [e999999]", expectation_vs_reality: "x",
      theoretical_explanation: "t [cg0003]", synthesis: "s", citations: ["e000001", "cg0404"],
    });
    const known = new Set(["e000001", "cg0003"]);
    expect(unresolvedCitations(reply, (id) => known.has(id))).toEqual(["e999999", "cg0404"]);
  });

  it("strip a Markdown fence around code", () => {
    expect(stripCodeFence("```python\nimport torch\n```")).toBe("import torch\n");
    expect(stripCodeFence("import torch\n\n")).toBe("import torch\n");
  });
});
