/**
 * Embeddings without a campaign file (`archlab cognition --embed / --embeddings`): the `llm:` section's defaults
 * with the environment's endpoint ($OPENAI_BASE_URL, key in $OPENAI_API_KEY), and a failed request as one line,
 * classified as the LLM client classifies chat requests.
 */
import { UserError } from "../errors.ts";
import { classifyRequestError } from "./client.ts";
import { LlmConfig } from "./config.ts";
import { makeEmbeddings, type Env } from "./model.ts";

/** The llm section an embeddings-only command uses; one request waits at most 120 s. */
export function embeddingsConfig(model: string): LlmConfig & { embeddings: NonNullable<LlmConfig["embeddings"]> } {
  const config = LlmConfig.parse({ model, timeout_s: 120, embeddings: { model } });
  return { ...config, embeddings: config.embeddings! };
}

export function embeddingsClient(model: string, env: Env = process.env): ReturnType<typeof makeEmbeddings> {
  return makeEmbeddings(embeddingsConfig(model), env);
}

/** The request's value, or a UserError naming the endpoint's failure (after its retries); bugs are rethrown. */
export async function embeddingRequest<T>(work: Promise<T>, model: string, env: Env = process.env): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const config = embeddingsConfig(model);
    const failure = classifyRequestError(err, { model, baseURL: config.base_url, apiKeyEnv: config.api_key_env, maxRetries: config.max_retries }, env);
    if (failure.kind === "malformed") throw err;
    throw new UserError(`embeddings request failed: ${failure.message}`);
  }
}
