/**
 * The LLM budget (DESIGN §7): a running total of dollars and tokens, checked before every request. A request
 * that would start after the budget is spent throws BudgetExceeded, which the campaign turns into a clean stop.
 * Requests already in flight finish and are counted, so the total may end a little above the limit.
 */

export class BudgetExceeded extends Error {
  readonly spentDollars: number;
  readonly maxDollars: number | null;
  readonly spentTokens: number;
  readonly maxTokens: number | null;
  constructor(state: { spentDollars: number; maxDollars: number | null; spentTokens: number; maxTokens: number | null }) {
    const what = state.maxDollars !== null && state.spentDollars >= state.maxDollars
      ? `$${state.spentDollars.toFixed(4)} of $${state.maxDollars} spent`
      : `${state.spentTokens} of ${state.maxTokens} tokens spent`;
    super(`LLM budget reached: ${what}`);
    this.name = "BudgetExceeded";
    this.spentDollars = state.spentDollars;
    this.maxDollars = state.maxDollars;
    this.spentTokens = state.spentTokens;
    this.maxTokens = state.maxTokens;
  }
}

export interface BudgetLimits {
  /** null: no dollar limit. */
  maxDollars: number | null;
  /** null: no token limit (tokens in + out). */
  maxTokens?: number | null;
  /** What earlier runs of the campaign already spent (from its ledger), so a resumed campaign keeps its budget. */
  spentDollars?: number;
  spentTokens?: number;
}

export class BudgetGuard {
  readonly maxDollars: number | null;
  readonly maxTokens: number | null;
  #dollars: number;
  #tokens: number;

  constructor(limits: BudgetLimits) {
    this.maxDollars = limits.maxDollars;
    this.maxTokens = limits.maxTokens ?? null;
    this.#dollars = limits.spentDollars ?? 0;
    this.#tokens = limits.spentTokens ?? 0;
  }

  get spentDollars(): number {
    return this.#dollars;
  }

  get spentTokens(): number {
    return this.#tokens;
  }

  exhausted(): boolean {
    return (this.maxDollars !== null && this.#dollars >= this.maxDollars) || (this.maxTokens !== null && this.#tokens >= this.maxTokens);
  }

  /** Throws BudgetExceeded when the budget is spent; call before starting a request. */
  check(): void {
    if (this.exhausted()) {
      throw new BudgetExceeded({ spentDollars: this.#dollars, maxDollars: this.maxDollars, spentTokens: this.#tokens, maxTokens: this.maxTokens });
    }
  }

  add(dollars: number, tokens: number): void {
    this.#dollars += dollars;
    this.#tokens += tokens;
  }
}
