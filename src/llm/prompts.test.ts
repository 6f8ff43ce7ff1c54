import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { DEFAULT_PROMPTS_DIR, loadPrompt, placeholders, PROMPT_NAMES, PROMPT_PLACEHOLDERS, renderPrompt } from "./prompts.ts";

describe("prompt templates", () => {
  it("fills placeholders verbatim, once", () => {
    expect(renderPrompt("A {{x}} and {{ y }} and {{x}}.", { x: "{{y}}", y: 2 }, "t.md")).toBe("A {{y}} and 2 and {{y}}.");
    expect(placeholders("{{a}} {{b}} {{a}} {{> _part}}")).toEqual(["a", "b"]);
  });

  it("names the placeholder and the template when a value is missing", () => {
    const err = (() => {
      try {
        renderPrompt("Parent: {{parent}}\nNotes: {{notes}}", { parent: "e1" }, "researcher.md");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe("prompt template researcher.md: no value for placeholder {{notes}}");
    expect(() => renderPrompt("{{a}}", { a: null }, "t.md")).toThrow("no value for placeholder {{a}}");
  });

  it("loads from a directory, expands includes, and reports a missing file in one line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-prompts-"));
    fs.writeFileSync(path.join(dir, "judge.md"), "Head\n{{> _shared}}\nTail {{x}}\n");
    fs.writeFileSync(path.join(dir, "_shared.md"), "Shared {{x}}\n");
    expect(loadPrompt("judge", dir).text).toBe("Head\nShared {{x}}\nTail {{x}}\n");
    expect(() => loadPrompt("analyst", dir)).toThrow(UserError);
    expect(() => loadPrompt("analyst", dir)).toThrow(/^prompt template analyst: cannot read .*analyst\.md \(no such file\)$/);
    fs.writeFileSync(path.join(dir, "bad.md"), "{{> _nope}}");
    expect(() => loadPrompt("bad", dir)).toThrow(/prompt template bad: cannot read include _nope: .*_nope\.md/);
  });

  it("ships every template with exactly its documented placeholders", () => {
    for (const name of PROMPT_NAMES) {
      const { text } = loadPrompt(name, DEFAULT_PROMPTS_DIR);
      expect(placeholders(text).sort(), name).toEqual([...PROMPT_PLACEHOLDERS[name]].sort());
      const vars = Object.fromEntries(PROMPT_PLACEHOLDERS[name].map((p) => [p, `<${p}>`]));
      expect(renderPrompt(text, vars, `${name}.md`)).not.toMatch(/\{\{/);
    }
  });
});
