/**
 * Prompt templates (DESIGN §7): Markdown files in the project's prompts/ (or a configured directory), read at
 * each call so a user's edits apply to the next call. `{{name}}` is a placeholder; every placeholder needs a
 * value (a missing one is a one-line UserError naming it and the template); values go in verbatim and are not
 * scanned again. Extra values are ignored, so an edited template may drop a placeholder.
 *
 * `{{> _name}}` includes `<dir>/_name.md` (shared text such as the layer contract), up to 3 levels deep.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";

export const DEFAULT_PROMPTS_DIR = path.join(PROJECT_ROOT, "prompts");

export const PROMPT_NAMES = ["researcher", "novelty", "engineer", "debugger", "analyst", "judge", "summariser"] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

/** The values each shipped template reads: the contract between prompts/ and the agents that fill them. */
export const PROMPT_PLACEHOLDERS: Record<PromptName, readonly string[]> = {
  researcher: ["mode", "parent", "references", "cognition", "notes", "genome_space", "avoid"],
  novelty: ["candidate", "similar"],
  engineer: ["name", "motivation", "design", "parent_code"],
  debugger: ["name", "motivation", "error_kind", "error_message", "error_numbers", "log_tail", "code", "previous_attempts"],
  analyst: ["experiment", "parent", "siblings", "baseline", "cognition", "code_diff"],
  judge: ["experiment", "parent", "baseline", "code", "leaderboard"],
  summariser: ["experiment", "analysis"],
};

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The placeholders a template uses, each once, in order of first use. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

export type PromptVars = Readonly<Record<string, string | number | undefined | null>>;

/** Fills `{{name}}` placeholders; a placeholder without a value (undefined or null) is a UserError. */
export function renderPrompt(template: string, vars: PromptVars, templateName: string): string {
  for (const name of placeholders(template)) {
    if (vars[name] === undefined || vars[name] === null) {
      throw new UserError(`prompt template ${templateName}: no value for placeholder {{${name}}}`);
    }
  }
  return template.replace(PLACEHOLDER, (_, name: string) => String(vars[name]));
}

const INCLUDE = /\{\{>\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Reads `<dir>/<name>.md` (now, not cached), with its `{{> _part}}` includes expanded. */
export function loadPrompt(name: string, dir: string = DEFAULT_PROMPTS_DIR): { path: string; text: string } {
  const file = path.join(dir, `${name}.md`);
  return { path: file, text: expand(readTemplate(file, name, name), dir, name, 0) };
}

function readTemplate(file: string, name: string, template: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new UserError(`prompt template ${template}: cannot read ${name === template ? "" : `include ${name}: `}${file} (${why})`);
  }
}

function expand(text: string, dir: string, template: string, depth: number): string {
  return text.replace(INCLUDE, (_, part: string) => {
    if (depth >= 3) throw new UserError(`prompt template ${template}: includes nest deeper than 3 at {{> ${part}}}`);
    const file = path.join(dir, part.endsWith(".md") ? part : `${part}.md`);
    return expand(readTemplate(file, part, template), dir, template, depth + 1).replace(/\n$/, "");
  });
}

/** A short stable hash of the exact text sent, for logs. */
export function promptHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
