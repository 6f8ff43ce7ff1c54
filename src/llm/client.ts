/**
 * Structured LLM calls (DESIGN §7): render a prompt template, ask the role's model for one JSON object, validate
 * it with zod. A reply that is not JSON or fails the schema is shown its error and asked again, up to the role's
 * max_attempts; then the call returns a typed failure. Model mistakes never throw. What does throw: a missing
 * key or a rejected key (UserError, one line), a missing template or placeholder (UserError), BudgetExceeded
 * before a request when the budget is spent, an abort, and bugs.
 *
 * Every request is metered (tokens from the reply's usage metadata, dollars from the price table), reported
 * through `onUsage`, added to the budget, and logged as one JSON line in the caller's agent log.
 */
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import { z } from "zod";
import { UserError } from "../errors.ts";
import type { BudgetGuard } from "./budget.ts";
import { dollarsFor, modelsInUse, roleSettings, type LlmConfig, type Role, type RoleSettings, type StructuredMethod } from "./config.ts";
import { appendAgentLog, keepPrompt, type CallOutcome, type LlmUsage } from "./log.ts";
import { apiKeyFrom, baseUrlFrom, httpStatus, isRetryable, makeChatModel, type Env } from "./model.ts";
import { DEFAULT_PROMPTS_DIR, loadPrompt, promptHash, renderPrompt, type PromptVars } from "./prompts.ts";

export interface LlmClientOptions {
  config: LlmConfig;
  env?: Env;
  /** Checked before and charged after every request; shared by all calls of a campaign. */
  budget?: BudgetGuard | null;
  /** Called once per request (the campaign appends a ledger entry: see ledgerEntryFor). */
  onUsage?: (usage: LlmUsage) => void | Promise<void>;
  now?: () => Date;
}

export interface CallContext {
  experimentId: string | null;
  /** The experiment's agent log (JSON lines), e.g. runs/<id>/agents.jsonl; null: not logged. */
  logFile: string | null;
  signal?: AbortSignal;
  /** The name of the reply schema as the model sees it (function name / json_schema name). */
  schemaName?: string;
}

export interface UsageTotals {
  tokensIn: number;
  tokensOut: number;
  dollars: number;
  requests: number;
}

/** Why a call gave no value: replies that never passed validation; a request the server refused (4xx, e.g.
 *  context too long); the endpoint unreachable or overloaded after the HTTP retries. */
export type FailureKind = "invalid_reply" | "request_rejected" | "unavailable";

interface OutcomeBase {
  /** Requests made (validation attempts; HTTP retries are inside one). */
  attempts: number;
  usage: UsageTotals;
  promptHash: string;
}
export type StructuredOutcome<T> =
  | (OutcomeBase & { ok: true; value: T })
  | (OutcomeBase & { ok: false; kind: FailureKind; message: string; lastReply: string | null });

const REPLY_ECHO_CHARS = 4000;

export class LlmClient {
  readonly config: LlmConfig;
  readonly #env: Env;
  readonly #budget: BudgetGuard | null;
  readonly #onUsage: ((usage: LlmUsage) => void | Promise<void>) | null;
  readonly #now: () => Date;

  /** Checks the key now (MissingApiKeyError names the variable), and that every model has a price when a
   *  dollar budget is set. */
  constructor(opts: LlmClientOptions) {
    this.config = opts.config;
    this.#env = opts.env ?? process.env;
    this.#budget = opts.budget ?? null;
    this.#onUsage = opts.onUsage ?? null;
    this.#now = opts.now ?? (() => new Date());
    apiKeyFrom(this.config.api_key_env, this.#env);
    if (this.#budget?.maxDollars != null) {
      const unpriced = modelsInUse(this.config).filter((m) => !this.config.prices[m]);
      if (unpriced.length > 0) {
        throw new UserError(`an LLM dollar budget is set but llm.prices has no price for model ${unpriced.map((m) => `"${m}"`).join(", ")}`);
      }
    }
  }

  settings(role: Role): RoleSettings {
    return roleSettings(this.config, role);
  }

  get promptsDir(): string {
    return this.config.prompts_dir ?? DEFAULT_PROMPTS_DIR;
  }

  /** Renders prompts/<promptName>.md with `vars` (a UserError now if a placeholder has no value). */
  renderPrompt(promptName: string, vars: PromptVars): string {
    const { text } = loadPrompt(promptName, this.promptsDir);
    return renderPrompt(text, vars, `${promptName}.md`);
  }

  async callStructured<S extends z.ZodType>(
    role: Role, promptName: string, vars: PromptVars, schema: S, ctx: CallContext,
  ): Promise<StructuredOutcome<z.output<S>>> {
    const settings = roleSettings(this.config, role);
    const prompt = this.renderPrompt(promptName, vars);
    const schemaName = ctx.schemaName ?? `${role}_reply`;
    const jsonSchema = replyJsonSchema(schema);
    const system = systemMessage(role, schemaName, jsonSchema, settings.method);
    const hash = promptHash(`${system}\n\n${prompt}`);
    if (ctx.logFile) keepPrompt(ctx.logFile, hash, `<!-- system -->\n${system}\n\n<!-- user -->\n${prompt}\n`);
    const { HumanMessage, SystemMessage } = await import("@langchain/core/messages"); // loaded on the first call
    const messages: BaseMessage[] = [new SystemMessage(system), new HumanMessage(prompt)];
    const usage: UsageTotals = { tokensIn: 0, tokensOut: 0, dollars: 0, requests: 0 };
    const base = (attempts: number) => ({ attempts, usage, promptHash: hash });
    let lastError = "";
    let lastReply: string | null = null;

    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      this.#budget?.check();
      const recorder = recordingFetch();
      const model = await makeChatModel(settings, this.#env, { fetch: recorder.fetch });
      const method = { json_schema: "jsonSchema", function_calling: "functionCalling", json_mode: "jsonMode" } as const;
      const runnable = model.withStructuredOutput(jsonSchema, { method: method[settings.method], includeRaw: true, name: schemaName });
      const started = performance.now();
      let raw: AIMessage | null = null;
      let thrown: unknown = null;
      try {
        raw = (await runnable.invoke(messages, { signal: ctx.signal })).raw as AIMessage;
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        thrown = err;
      }
      const latencyMs = Math.round(performance.now() - started);
      const body = recorder.lastBody();
      const tokens = tokensOf(raw, body);
      const reply = raw ? replyText(raw, settings.method) : contentOf(body);
      const charged = await this.#meter(settings, promptName, attempt, tokens, latencyMs, ctx);
      usage.tokensIn += tokens.in;
      usage.tokensOut += tokens.out;
      usage.dollars += charged;
      usage.requests += 1;
      const log = (outcome: CallOutcome, error: string | null) => {
        if (!ctx.logFile) return;
        appendAgentLog(ctx.logFile, {
          at: this.#now().toISOString(), role, experimentId: ctx.experimentId, prompt: promptName, promptHash: hash,
          model: settings.model, method: settings.method, attempt, maxAttempts: settings.maxAttempts, outcome, error,
          reply, tokensIn: tokens.in, tokensOut: tokens.out, dollars: charged, latencyMs,
        });
      };

      let checked: { ok: true; value: z.output<S> } | { ok: false; error: string };
      if (thrown !== null) {
        const failure = classifyRequestError(thrown, settings, this.#env);
        if (failure.kind === "malformed") {
          checked = { ok: false, error: failure.message };
        } else {
          log(failure.kind === "auth" ? "auth" : failure.kind, failure.message);
          if (failure.kind === "auth") throw new UserError(failure.message);
          return { ...base(attempt), ok: false, kind: failure.kind, message: failure.message, lastReply: reply };
        }
      } else {
        checked = validateReply(raw!, reply, schema);
      }
      if (checked.ok) {
        log("ok", null);
        return { ...base(attempt), ok: true, value: checked.value };
      }
      log("invalid", checked.error);
      lastError = checked.error;
      lastReply = reply;
      if (attempt < settings.maxAttempts) messages.push(new HumanMessage(feedback(reply, checked.error)));
    }
    return {
      ...base(settings.maxAttempts), ok: false, kind: "invalid_reply",
      message: `no valid reply in ${settings.maxAttempts} attempt${settings.maxAttempts === 1 ? "" : "s"}: ${lastError}`, lastReply,
    };
  }

  async #meter(settings: RoleSettings, prompt: string, attempt: number, tokens: { in: number; out: number }, latencyMs: number, ctx: CallContext): Promise<number> {
    const price = dollarsFor(this.config.prices, settings.model, tokens.in, tokens.out);
    const dollars = price ?? 0;
    this.#budget?.add(dollars, tokens.in + tokens.out);
    await this.#onUsage?.({
      role: settings.role, experimentId: ctx.experimentId, model: settings.model, prompt, attempt,
      tokensIn: tokens.in, tokensOut: tokens.out, dollars, priced: price !== null, latencyMs,
    });
    return dollars;
  }
}

/** The reply schema as plain JSON Schema (so LangChain asks for it but leaves parsing and validation to us). */
export function replyJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function systemMessage(role: Role, name: string, jsonSchema: Record<string, unknown>, method: StructuredMethod): string {
  const how = method === "function_calling"
    ? `Answer by calling the function \`${name}\` once; its arguments are one JSON object`
    : "Answer with exactly one JSON object and nothing else (no prose, no code fences around it)";
  return [
    `You are the ${role} of archlab, an autonomous research lab that searches for better linear-attention layers.`,
    `${how}, matching this JSON Schema:`,
    "```json",
    JSON.stringify(jsonSchema, null, 2),
    "```",
    "Strings may be long and may contain code; escape them as JSON requires.",
  ].join("\n");
}

function feedback(reply: string | null, error: string): string {
  const shown = reply === null ? "(no reply text)" : reply.length > REPLY_ECHO_CHARS ? `${reply.slice(0, REPLY_ECHO_CHARS)}\n... (${reply.length - REPLY_ECHO_CHARS} more characters)` : reply;
  return [
    "Your previous reply could not be used.",
    `Validation error: ${error}`,
    "Your previous reply was:",
    "```",
    shown,
    "```",
    "Reply again with one complete JSON object that matches the schema, correcting what the error names.",
  ].join("\n");
}

export type RequestFailure = { kind: "malformed" | "auth" | "request_rejected" | "unavailable"; message: string };

/** Sorts an exception from a request into a model mistake (retry with feedback), a user's mistake, or an
 *  outcome to report; anything unrecognised is a bug and is rethrown. */
export function classifyRequestError(err: unknown, settings: Pick<RoleSettings, "model" | "baseURL" | "apiKeyEnv" | "maxRetries">, env: Env): RequestFailure {
  const name = (err as { constructor?: { name?: string } })?.constructor?.name ?? "";
  const message = (err as Error)?.message?.split("\n")[0] ?? String(err);
  // The OpenAI client parses json_schema replies itself and throws these for a bad one.
  if (err instanceof SyntaxError) return { kind: "malformed", message: `the reply is not valid JSON (${message})` };
  if (name === "LengthFinishReasonError") return { kind: "malformed", message: "the reply was cut off at the token limit; answer more concisely" };
  if (name === "ContentFilterFinishReasonError") return { kind: "malformed", message: "the reply was stopped by the content filter" };
  const status = httpStatus(err);
  const where = baseUrlFrom(settings.baseURL, env) ?? "https://api.openai.com/v1";
  if (status === 401 || status === 403) {
    return { kind: "auth", message: `${where} rejected the API key${settings.apiKeyEnv ? ` in ${settings.apiKeyEnv}` : ""} (HTTP ${status}: ${message})` };
  }
  if (status === 404) {
    return { kind: "auth", message: `${where} has no model "${settings.model}" (HTTP 404: ${message}); check llm.model and llm.base_url` };
  }
  if (isRetryable(err)) return { kind: "unavailable", message: `${where}: ${status ? `HTTP ${status}: ` : ""}${message} (after ${settings.maxRetries} retries)` };
  if (status !== undefined && status >= 400 && status < 500) return { kind: "request_rejected", message: `HTTP ${status}: ${message}` };
  throw err;
}

function validateReply<S extends z.ZodType>(raw: AIMessage, reply: string | null, schema: S): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  const refusal = raw.additional_kwargs?.refusal;
  if (typeof refusal === "string" && refusal) return { ok: false, error: `the model refused: ${refusal}` };
  if (reply === null || reply.trim() === "") return { ok: false, error: "the reply is empty; expected one JSON object" };
  const json = parseJson(reply);
  if (!json.ok) return { ok: false, error: `the reply is not valid JSON (${json.error})` };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error).replace(/\n+/g, "; ") };
  return { ok: true, value: parsed.data };
}

/** Strict JSON, allowing only one surrounding ``` fence (which local models add in JSON mode). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const fenced = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  try {
    return { ok: true, value: JSON.parse(fenced ? fenced[1]! : text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** The reply as sent: tool-call arguments (function calling) or message content. */
function replyText(raw: AIMessage, method: StructuredMethod): string | null {
  if (method === "function_calling") {
    const args = (raw.additional_kwargs?.tool_calls as { function?: { arguments?: unknown } }[] | undefined)?.[0]?.function?.arguments;
    if (typeof args === "string") return args;
  }
  if (typeof raw.content === "string") return raw.content;
  return raw.content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("");
}

function tokensOf(raw: AIMessage | null, body: string | null): { in: number; out: number } {
  if (raw?.usage_metadata) return { in: raw.usage_metadata.input_tokens ?? 0, out: raw.usage_metadata.output_tokens ?? 0 };
  try {
    const usage = body ? JSON.parse(body)?.usage : null;
    return { in: Number(usage?.prompt_tokens ?? 0) || 0, out: Number(usage?.completion_tokens ?? 0) || 0 };
  } catch {
    return { in: 0, out: 0 };
  }
}

/** Message content from a raw chat.completion body (when the client threw before giving us a message). */
function contentOf(body: string | null): string | null {
  if (!body) return null;
  try {
    const message = JSON.parse(body)?.choices?.[0]?.message;
    const args = message?.tool_calls?.[0]?.function?.arguments;
    if (typeof args === "string") return args;
    return typeof message?.content === "string" ? message.content : null;
  } catch {
    return null;
  }
}

/** A fetch that keeps the last response body, so a reply the OpenAI client could not parse is still logged
 *  and metered. */
function recordingFetch(): { fetch: typeof fetch; lastBody: () => string | null } {
  let last: string | null = null;
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    last = null;
    if (res.ok) last = await res.clone().text().catch(() => null);
    return res;
  };
  return { fetch: recording, lastBody: () => last };
}
