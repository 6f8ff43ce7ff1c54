/**
 * The LLM agents of a campaign (issue 7), made when the campaign has an `llm:` section: one client (key checked
 * and prices checked before anything else happens), the dollar budget (what earlier runs of the campaign spent
 * counts), the meter that turns every request into a ledger entry and the experiment's costs, and the cognition
 * base. Offline campaigns have none of this.
 */
import path from "node:path";
import type { Costs } from "../contracts/experiment.ts";
import { ZERO_COSTS } from "../contracts/experiment.ts";
import type { Archive } from "../archive/archive.ts";
import { CognitionBase } from "../cognition/base.ts";
import { BudgetGuard } from "../llm/budget.ts";
import { LlmClient } from "../llm/client.ts";
import { ledgerEntryFor, type LlmUsage } from "../llm/log.ts";
import { apiKeyFrom, type Env } from "../llm/model.ts";
import type { AgentsConfig } from "../contracts/agents.ts";
import type { CampaignConfig } from "./config.ts";

export interface Agents {
  client: LlmClient;
  guard: BudgetGuard;
  config: AgentsConfig;
  cognition: CognitionBase;
  meter: Meter;
  /** The experiment's agent log: runs/<id>/agents.jsonl. */
  logFile(id: string): string;
}

/**
 * Every request's usage goes to the archive's ledger (role, experiment) and onto the experiment's costs; usage
 * of an experiment not yet recorded (the researcher plans before its record exists) waits until it is.
 */
export class Meter {
  readonly #archive: Archive;
  readonly #campaign: string;
  readonly #pending = new Map<string, Costs>();

  constructor(archive: Archive, campaign: string) {
    this.#archive = archive;
    this.#campaign = campaign;
  }

  async record(usage: LlmUsage): Promise<void> {
    await this.#archive.appendLedger(ledgerEntryFor(usage, this.#campaign));
    const id = usage.experimentId;
    if (id === null) return;
    const exp = this.#archive.getExperiment(id);
    if (exp) await this.#archive.updateExperiment(id, { costs: addUsage(exp.costs, usage) });
    else this.#pending.set(id, addUsage(this.#pending.get(id) ?? ZERO_COSTS, usage));
  }

  /** The costs metered for `id` before its record existed (zero when none), forgotten here. */
  take(id: string): Costs {
    const costs = this.#pending.get(id) ?? { ...ZERO_COSTS };
    this.#pending.delete(id);
    return costs;
  }
}

function addUsage(c: Costs, u: LlmUsage): Costs {
  return { ...c, llmTokensIn: c.llmTokensIn + u.tokensIn, llmTokensOut: c.llmTokensOut + u.tokensOut, llmDollars: c.llmDollars + u.dollars };
}

/**
 * The client for an LLM campaign, or null offline. Throws UserError now (before the archive is touched) when the
 * key's variable is unset, or a dollar budget is set and a model has no price. `sink` receives every usage.
 */
export function makeClient(config: CampaignConfig, env: Env, sink: (usage: LlmUsage) => Promise<void>): { client: LlmClient; guard: BudgetGuard } | null {
  if (!config.llm) return null;
  apiKeyFrom(config.llm.api_key_env, env);
  const guard = new BudgetGuard({ maxDollars: config.budget.llm_dollars });
  const client = new LlmClient({ config: config.llm, env, budget: guard, onUsage: sink });
  return { client, guard };
}

/** The rest of the agents, once the archive is open and the campaign known. */
export async function startAgents(made: { client: LlmClient; guard: BudgetGuard }, config: CampaignConfig, archive: Archive, campaignId: string): Promise<Agents> {
  // A resumed campaign keeps its budget: what its earlier runs spent counts.
  const spent = archive.ledger({ campaign: campaignId }).filter((l) => l.kind === "llm");
  made.guard.add(spent.reduce((s, l) => s + l.dollars, 0), spent.reduce((s, l) => s + l.tokensIn + l.tokensOut, 0));
  return {
    client: made.client,
    guard: made.guard,
    config: config.agents,
    cognition: CognitionBase.load(archive.dir),
    meter: new Meter(archive, campaignId),
    logFile: (id) => path.join(archive.dir, "runs", id, "agents.jsonl"),
  };
}
