/** The LLM layer's public surface (DESIGN §7): config, the model factory, prompts, structured calls, metering. */
export {
  dollarsFor, LlmConfig, modelsInUse, Price, RoleOverride, ROLES, roleSettings, StructuredMethod,
  type Role, type RoleSettings,
} from "./config.ts";
export { apiKeyFrom, baseUrlFrom, httpStatus, isRetryable, makeChatModel, makeEmbeddings, MissingApiKeyError, type Env } from "./model.ts";
export {
  DEFAULT_PROMPTS_DIR, loadPrompt, placeholders, PROMPT_NAMES, PROMPT_PLACEHOLDERS, promptHash, renderPrompt,
  type PromptName, type PromptVars,
} from "./prompts.ts";
export { BudgetExceeded, BudgetGuard, type BudgetLimits } from "./budget.ts";
export { AgentLogLine, appendAgentLog, CallOutcome, ledgerEntryFor, readAgentLog, type LlmUsage } from "./log.ts";
export {
  LlmClient, parseJson, replyJsonSchema,
  type CallContext, type FailureKind, type LlmClientOptions, type StructuredOutcome, type UsageTotals,
} from "./client.ts";
export {
  AnalystReply, DebuggerReply, EngineerReply, findCitations, JUDGE_WEIGHTS, judgeScore, JudgeReply, NoveltyReply,
  ResearcherReply, stripCodeFence, SummariserReply, unresolvedCitations,
} from "./replies.ts";
