/**
 * The campaign file's `llm:` section (DESIGN §7): one default model and endpoint, per-role overrides, a price
 * table for metering, and how structured replies are asked for and retried. Snake case like the rest of the
 * campaign file; unknown keys are rejected.
 *
 *   llm:
 *     model: gpt-4.1-mini              # every role's model unless overridden
 *     base_url: null                   # null: $OPENAI_BASE_URL, else OpenAI (vLLM: http://host:8000/v1)
 *     api_key_env: OPENAI_API_KEY      # the variable holding the key; null for endpoints without keys
 *     roles: { researcher: { model: o3 }, analyst: { model: o3 } }
 *     prices: { gpt-4.1-mini: { input_per_mtok: 0.4, output_per_mtok: 1.6 } }
 */
import { z } from "zod";

export const ROLES = ["researcher", "novelty", "engineer", "debugger", "analyst", "judge", "summariser"] as const;
export type Role = (typeof ROLES)[number];

/** How a structured reply is requested: OpenAI `response_format: json_schema`, a forced tool call, or JSON mode. */
export const StructuredMethod = z.enum(["json_schema", "function_calling", "json_mode"]);
export type StructuredMethod = z.infer<typeof StructuredMethod>;

const temperature = z.number().min(0).max(2);

export const RoleOverride = z.strictObject({
  model: z.string().min(1).optional(),
  temperature: temperature.nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  timeout_s: z.number().positive().optional(),
  max_attempts: z.number().int().min(1).max(10).optional(),
  structured_output: StructuredMethod.optional(),
});
export type RoleOverride = z.infer<typeof RoleOverride>;

export const Price = z.strictObject({
  /** Dollars per million input (prompt) tokens. */
  input_per_mtok: z.number().nonnegative(),
  /** Dollars per million output (completion) tokens. */
  output_per_mtok: z.number().nonnegative(),
});
export type Price = z.infer<typeof Price>;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

/** The embedding model when none is named. */
export const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";

export const LlmConfig = z.strictObject({
  /** The model every role uses unless `roles.<role>.model` says otherwise. */
  model: z.string().min(1),
  /** OpenAI-compatible endpoint; null: $OPENAI_BASE_URL when set, else OpenAI's. */
  base_url: z.url().nullable().default(null),
  /** The environment variable that holds the API key; null for endpoints that need none (local vLLM/Ollama). */
  api_key_env: envName.nullable().default("OPENAI_API_KEY"),
  /** null: the model's own default. */
  temperature: temperature.nullable().default(null),
  max_tokens: z.number().int().positive().nullable().default(null),
  /** One HTTP request's timeout. */
  timeout_s: z.number().positive().default(300),
  /** HTTP retries on 429, 5xx, timeouts and dropped connections, with exponential backoff (1-2 s, doubling). */
  max_retries: z.number().int().min(0).max(10).default(4),
  /** Replies per call: a reply that is not valid JSON or fails its schema is retried with the error shown. */
  max_attempts: z.number().int().min(1).max(10).default(3),
  structured_output: StructuredMethod.default("json_schema"),
  roles: z.strictObject(Object.fromEntries(ROLES.map((r) => [r, RoleOverride.optional()])) as Record<Role, z.ZodOptional<typeof RoleOverride>>).default({}),
  /** Model name -> price; a model without a price is metered in tokens and costs $0. */
  prices: z.record(z.string(), Price).default({}),
  /** Where the prompt templates are; null: the project's prompts/. */
  prompts_dir: z.string().nullable().default(null),
  /** Embeddings for cognition and novelty retrieval through the same endpoint; null: BM25 only. */
  embeddings: z.strictObject({
    model: z.string().min(1).default(DEFAULT_EMBEDDING_MODEL),
    dimensions: z.number().int().positive().nullable().default(null),
  }).nullable().default(null),
});
export type LlmConfig = z.infer<typeof LlmConfig>;

/** One role's settings, resolved from the defaults and its override. */
export interface RoleSettings {
  role: Role;
  model: string;
  /** null: $OPENAI_BASE_URL, else OpenAI's. */
  baseURL: string | null;
  apiKeyEnv: string | null;
  temperature: number | null;
  maxTokens: number | null;
  timeoutMs: number;
  maxRetries: number;
  maxAttempts: number;
  method: StructuredMethod;
}

export function roleSettings(config: LlmConfig, role: Role): RoleSettings {
  const o: RoleOverride = config.roles[role] ?? {};
  return {
    role,
    model: o.model ?? config.model,
    baseURL: config.base_url,
    apiKeyEnv: config.api_key_env,
    temperature: o.temperature !== undefined ? o.temperature : config.temperature,
    maxTokens: o.max_tokens !== undefined ? o.max_tokens : config.max_tokens,
    timeoutMs: Math.round((o.timeout_s ?? config.timeout_s) * 1000),
    maxRetries: config.max_retries,
    maxAttempts: o.max_attempts ?? config.max_attempts,
    method: o.structured_output ?? config.structured_output,
  };
}

/** The models the roles use, each once. */
export function modelsInUse(config: LlmConfig): string[] {
  return [...new Set(ROLES.map((r) => roleSettings(config, r).model))];
}

/** Dollars for one call; null when the model has no price. */
export function dollarsFor(prices: LlmConfig["prices"], model: string, tokensIn: number, tokensOut: number): number | null {
  const p = prices[model];
  if (!p) return null;
  return (tokensIn * p.input_per_mtok + tokensOut * p.output_per_mtok) / 1e6;
}
