/**
 * The one place `ChatOpenAI` and `OpenAIEmbeddings` are made (DESIGN §7): model, endpoint, key from the
 * environment, temperature, timeout, and HTTP retries with exponential backoff on 429/5xx/timeouts/dropped
 * connections (LangChain's AsyncCaller does the waiting, honouring Retry-After; our policy decides what is
 * retryable). Everything else — bad keys, unknown models, a malformed reply — fails at once.
 * `@langchain/openai` is imported when the first model is made: loading it takes about a second, which every CLI
 * command (`archlab ls`, ...) paid before, LLM or not.
 */
import type { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { UserError } from "../errors.ts";
import type { LlmConfig, RoleSettings } from "./config.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** Sent to endpoints that need no key (api_key_env: null); the OpenAI client insists on one. */
const NO_KEY = "not-needed";

/** A missing key: one line naming the variable. */
export class MissingApiKeyError extends UserError {}

/** The API key for `apiKeyEnv` from `env`, or MissingApiKeyError naming the variable. */
export function apiKeyFrom(apiKeyEnv: string | null, env: Env): string {
  if (apiKeyEnv === null) return NO_KEY;
  const key = env[apiKeyEnv];
  if (!key) {
    throw new MissingApiKeyError(
      `${apiKeyEnv} is not set: the LLM endpoint needs an API key (export ${apiKeyEnv}=<key>, or set llm.api_key_env to another variable, or to null for a local endpoint without keys)`,
    );
  }
  return key;
}

/** The endpoint: the configured one, else $OPENAI_BASE_URL, else OpenAI's (undefined). */
export function baseUrlFrom(baseURL: string | null, env: Env): string | undefined {
  return baseURL ?? (env.OPENAI_BASE_URL || undefined);
}

/** The HTTP status an error from the OpenAI client carries (LangChain may wrap it as the cause), if any. */
export function httpStatus(err: unknown): number | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const s = (e as { status?: unknown }).status;
    if (typeof s === "number") return s;
  }
  return undefined;
}

/** Whether a failed request is worth repeating: rate limits (not exhausted quota), server errors, timeouts,
 *  dropped connections. */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const status = httpStatus(err);
  if (status !== undefined) {
    const code = (err as { code?: unknown; error?: { code?: unknown } }).code ?? (err as { error?: { code?: unknown } }).error?.code;
    if (status === 429) return code !== "insufficient_quota";
    return status === 408 || status >= 500;
  }
  const name = (err as { name?: unknown }).name;
  const ctor = (err as object).constructor?.name;
  return name === "TimeoutError" || ctor === "APIConnectionError" || ctor === "APIConnectionTimeoutError";
}

/** LangChain's AsyncCaller hook: return to retry (after its backoff), throw to stop. */
function retryPolicy(err: unknown): void {
  if (!isRetryable(err)) throw err;
}

export interface ModelOptions {
  /** The fetch the OpenAI client uses (to record raw replies); global fetch by default. */
  fetch?: typeof fetch;
}

/** A ChatOpenAI for one role. Throws MissingApiKeyError when the key's variable is unset. */
export async function makeChatModel(settings: RoleSettings, env: Env = process.env, opts: ModelOptions = {}): Promise<ChatOpenAI> {
  const apiKey = apiKeyFrom(settings.apiKeyEnv, env);
  const baseURL = baseUrlFrom(settings.baseURL, env);
  const { ChatOpenAI } = await import("@langchain/openai");
  return new ChatOpenAI({
    model: settings.model,
    apiKey,
    ...(settings.temperature !== null && { temperature: settings.temperature }),
    ...(settings.maxTokens !== null && { maxTokens: settings.maxTokens }),
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    onFailedAttempt: retryPolicy,
    useResponsesApi: false,
    streaming: false,
    configuration: { ...(baseURL !== undefined && { baseURL }), ...(opts.fetch && { fetch: opts.fetch }) },
  });
}

/** Embeddings through the same endpoint and key as the chat models. */
export async function makeEmbeddings(config: Pick<LlmConfig, "base_url" | "api_key_env" | "timeout_s" | "max_retries"> & {
  embeddings: NonNullable<LlmConfig["embeddings"]>;
}, env: Env = process.env): Promise<OpenAIEmbeddings> {
  const baseURL = baseUrlFrom(config.base_url, env);
  const apiKey = apiKeyFrom(config.api_key_env, env);
  const { OpenAIEmbeddings } = await import("@langchain/openai");
  return new OpenAIEmbeddings({
    model: config.embeddings.model,
    apiKey,
    ...(config.embeddings.dimensions !== null && { dimensions: config.embeddings.dimensions }),
    timeout: config.timeout_s * 1000,
    maxRetries: config.max_retries,
    onFailedAttempt: retryPolicy,
    configuration: { ...(baseURL !== undefined && { baseURL }) },
  });
}
