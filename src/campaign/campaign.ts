/**
 * A campaign (DESIGN §2): the experiment loop with K experiments in flight (p-queue, one per slot), a budget,
 * the archive's writer lock, clean stops on SIGINT/SIGTERM and exact resume after a crash. The only module
 * that wires every stage together.
 */
import PQueue from "p-queue";
import type { Confirmation } from "../contracts/confirmation.ts";
import type { Campaign, Experiment } from "../contracts/experiment.ts";
import { TERMINAL_STATUSES } from "../contracts/experiment.ts";
import type { ProgressEvent } from "../contracts/result.ts";
import type { SteeringAction } from "../contracts/steering.ts";
import type { RunSpec } from "../contracts/runSpec.ts";
import { Archive } from "../archive/archive.ts";
import { Gate } from "../gate/gate.ts";
import { BudgetExceeded } from "../llm/budget.ts";
import type { LlmUsage } from "../llm/log.ts";
import type { Env } from "../llm/model.ts";
import { genomeKey, SEED_GENOMES } from "../contracts/genome.ts";
import { planWithLlm, type ArchiveReader } from "../researcher/llmResearcher.ts";
import type { Proposal } from "../researcher/propose.ts";
import { seededRng, type Rng } from "../researcher/rng.ts";
import { findPython } from "../runner/python.ts";
import { resolveSandbox, sandboxAvailable } from "../runner/sandbox.ts";
import { baselineSpecs, deviceOf } from "./baseline.ts";
import { makeClient, startAgents, type Agents } from "./agents.ts";
import { slotsOf, untilDeadline, type CampaignConfig } from "./config.ts";
import { Interrupted, recordProposal, runExperiment, type ProposalRecord } from "./experiment.ts";
import { failpoint } from "./failpoint.ts";
import { recordJob, stageRunners, type StageRunners } from "./jobs.ts";
import { liveWriter } from "./live.ts";
import { CampaignSteering } from "./steering.ts";
import path from "node:path";
import { checkDevices } from "../runner/devices.ts";
import type { EarlyStopOption } from "../runner/earlyStop.ts";
import { confirmationPlan, confirmExperiment } from "./confirm.ts";
import { rerunWhileTied, type RerunEvent } from "./rerun.ts";
import { proposalStep } from "./proposal.ts";
import { BaselineFailed, climb, climbPending, rungBaselines, type LadderEvent } from "./ladder.ts";
import { firstRung, trainingRungs } from "./rungs.ts";

export type CampaignEvent =
  | { type: "start"; campaign: Campaign; resumed: number }
  | { type: "stage"; id: string; name: string; stage: string; slot: number }
  | { type: "progress"; id: string; event: ProgressEvent }
  | { type: "finished"; experiment: Experiment }
  | LadderEvent
  | ({ type: "rerun" } & RerunEvent)
  | { type: "not confirming"; reason: string; ids: string[] }
  | { type: "stop"; reason: string; interrupted: string[] }
  /** A human's steering record the campaign acted on (pause, resume, veto). */
  | { type: "steering"; action: SteeringAction; effect: string };

export interface CampaignOptions {
  config: CampaignConfig;
  signal: AbortSignal;
  onEvent?: (event: CampaignEvent) => void;
  now?: () => Date;
  /** Where the LLM key (and OPENAI_BASE_URL) are read; process.env by default. */
  env?: Env;
  /** How many CUDA devices there are (tests pass a fake count); asks torch by default. */
  cudaDevices?: () => Promise<number>;
}

export interface CampaignOutcome {
  campaign: Campaign;
  finished: Experiment[];
  stopReason: string;
  interrupted: string[];
  /** Nothing more could run for a reason the user must look at (a failed seed or baseline): the run exits 1. */
  blocked: boolean;
  /** The winners confirmed on fresh seeds at the end of this run, with their verdicts. */
  confirmed: { id: string; verdict: Confirmation["verdict"] }[];
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignOutcome> {
  const { config, signal } = opts;
  const emit = opts.onEvent ?? (() => {});
  const now = opts.now ?? (() => new Date());
  // LLM campaigns: a missing key or an unpriced model under a dollar budget is a one-line error before anything runs.
  let sink: ((usage: LlmUsage) => Promise<void>) | null = null;
  const llm = makeClient(config, opts.env ?? process.env, (usage) => sink!(usage));
  const slots = slotsOf(config);
  // Checked before the archive is touched: a missing corpus, token directory or baseline, a device that is not there.
  for (const rung of trainingRungs(config)) baselineSpecs(path.resolve(config.archive), config, undefined, deviceOf(slots[0]), rung);
  findPython();
  await checkDevices(slots, opts.cudaDevices);
  // sandbox: auto refuses LLM-written code without a working bubblewrap, before anything runs
  resolveSandbox(config.sandbox, config.sandbox === "none" ? false : sandboxAvailable(), config.llm !== null);
  const archive = await Archive.open(config.archive, { mode: "write" });
  let closeSteering = () => {};
  let stopClock = () => {};
  try {
    const campaign = await openCampaign(archive, config, now());
    const steering = new CampaignSteering(archive.dir, campaign);
    closeSteering = () => steering.close();
    const agents = llm ? await startAgents(llm, config, archive, campaign.id) : null;
    if (agents) sink = (usage) => agents.meter.record(usage);
    const gate = await Gate.open(archive, { text: agents !== null });
    let llmStop: string | null = null;
    /** Why nothing more can run although the budget is not spent (the baseline failed, a seed failed twice). */
    let blocked: string | null = null;
    const mine = () => archive.experiments({ campaign: campaign.id });
    // Unfinished experiments resume, and so do finished ones with a climb left (a decision, a rung to train).
    const unfinished = mine().filter((e) => !TERMINAL_STATUSES.includes(e.status) || climbPending(config, e));
    emit({ type: "start", campaign, resumed: unfinished.length });

    const started = now().getTime();
    const deadline = config.until ? untilDeadline(config.until, now()).getTime() : Infinity;
    const hoursEnd = config.budget.hours ? started + config.budget.hours * 3_600_000 : Infinity;
    const budgetStop = (): string | null => {
      if (signal.aborted) return "stopped by signal";
      if (blocked) return blocked;
      if (llmStop) return llmStop;
      if (agents?.guard.exhausted()) return `LLM budget reached: $${agents.guard.spentDollars.toFixed(4)} of $${config.budget.llm_dollars} spent`;
      if (config.budget.experiments !== null && archive.summaries().filter((e) => e.campaign === campaign.id).length >= config.budget.experiments) {
        return `budget of ${config.budget.experiments} experiments reached`;
      }
      if (now().getTime() >= deadline) return `reached --until ${config.until}`;
      if (now().getTime() >= hoursEnd) return `reached ${config.budget.hours} h`;
      if (config.budget.gpu_hours !== null && gpuHours(mine()) >= config.budget.gpu_hours) return `GPU budget of ${config.budget.gpu_hours} h reached`;
      return null;
    };

    // A time budget (budget.hours, --until) also stops the runs in flight (Slurm jobs scancelled); their
    // experiments stay unfinished and resume next run. Other budgets let in-flight experiments finish.
    const timeUp = new AbortController();
    const clock = setInterval(() => {
      if (now().getTime() >= Math.min(deadline, hoursEnd)) timeUp.abort(budgetStop() ?? "time budget reached");
    }, 1000);
    clock.unref();
    stopClock = () => clearInterval(clock);
    const runsSignal = AbortSignal.any([signal, timeUp.signal]);

    const rng = seededRng(config.seed + archive.count());
    const free = slots.map((_, i) => i);
    const finished: Experiment[] = [];
    const interrupted: string[] = [];
    const runners = stageRunners(config);
    const baselines = rungBaselines(archive, config, runners, slots[0], signal, emit);
    const baseline = () => baselines(firstRung(config));
    /** Seeds proposed in this run: a seed that did not finish with a fitness is retried once per run. */
    const seedsTried = new Set<string>();

    const evaluateIn = (slot: number, id: string, runSignal: AbortSignal) => (spec: RunSpec, runDir: string, rung: string = spec.stage, earlyStop?: EarlyStopOption) => {
      const live = liveWriter(archive, id, rung);
      return runners(rung).run(spec, {
        runDir, signal: runSignal, ...(earlyStop && { earlyStop }), gpu: slots[slot], sandbox: config.sandbox, llmWritten: config.llm !== null,
        onProgress: (event) => {
          if (spec.stage !== "probe" && event.event === "step") void failpoint("training");
          live(event);
          emit({ type: "progress", id, event });
        },
        onJob: (job) => recordJob(archive, id, job),
      });
    };

    /** A vetoed experiment: recorded rejected with who, when and why (its runs were aborted). */
    const vetoed = async (exp: Experiment, veto: SteeringAction & { action: "veto" }) => {
      const reason = `vetoed by ${veto.who} at ${veto.at}${veto.why ? `: ${veto.why}` : ""}`;
      const fresh = archive.getExperiment(exp.id) ?? exp;
      const out = TERMINAL_STATUSES.includes(fresh.status) ? fresh : await archive.updateExperiment(exp.id, { status: "rejected", reason }, { note: `veto ${veto.id}` });
      emit({ type: "steering", action: veto, effect: `${exp.id} stopped and recorded rejected` });
      return out;
    };

    const work = async (exp: Experiment) => {
      const slot = free.shift()!;
      const run = steering.forExperiment(exp.id, runsSignal);
      try {
        const veto = run.veto();
        if (veto?.action === "veto") {
          finished.push(await vetoed(exp, veto));
          return;
        }
        const done = await runExperiment({
          archive, gate, config, campaignId: campaign.id, signal: run.signal,
          evaluate: evaluateIn(slot, exp.id, run.signal), device: deviceOf(slots[slot]),
          baselineMetrics: baseline, agents,
          onStage: (id, stage) => emit({ type: "stage", id, name: exp.name, stage, slot }),
        }, exp);
        const ranked = await rerunWhileTied(archive, config, done, await baseline(), evaluateIn(slot, exp.id, run.signal),
          (event) => emit({ type: "rerun", ...event }), () => !signal.aborted && now().getTime() < Math.min(deadline, hoursEnd), deviceOf(slots[slot]));
        const climbed = await climb({
          archive, config, campaignId: campaign.id, signal: run.signal, device: deviceOf(slots[slot]), gpu: slots[slot],
          evaluate: evaluateIn(slot, exp.id, run.signal), baselines, emit,
          onStage: (id, stage) => emit({ type: "stage", id, name: exp.name, stage, slot }),
        }, ranked);
        finished.push(climbed);
        emit({ type: "finished", experiment: climbed });
      } catch (err) {
        const veto = run.veto();
        if (veto?.action === "veto" && !signal.aborted) {
          const out = await vetoed(exp, veto);
          finished.push(out);
          emit({ type: "finished", experiment: out });
        } else if (err instanceof Interrupted || err instanceof BudgetExceeded || err instanceof BaselineFailed || runsSignal.aborted) {
          // Stopping (a signal, the LLM budget spent mid-experiment, the baseline failed): it stays unfinished
          // and resumes next run.
          if (err instanceof BudgetExceeded) llmStop ??= err.message;
          if (err instanceof BaselineFailed) blocked ??= err.message;
          interrupted.push(exp.id);
        } else {
          // A bug in one experiment must not wedge the loop: record it as failed, with the stack in the log.
          process.stderr.write(`archlab: internal error in ${exp.id}: ${(err as Error).stack ?? String(err)}\n`);
          const failed = await archive.updateExperiment(exp.id, { status: "failed", reason: `internal error: ${(err as Error).message.trim().split("\n")[0]}` });
          finished.push(failed);
          emit({ type: "finished", experiment: failed });
        }
      } finally {
        run.dispose();
        free.push(slot);
      }
    };

    /** The next experiment to start: an unfinished one first (resume), else a new proposal, else null. */
    const next = async (): Promise<Experiment | null> => {
      if (llmStop || blocked || agents?.guard.exhausted()) return null; // nothing more runs once the LLM budget is spent
      const resume = unfinished.shift();
      if (resume) return resume;
      if (budgetStop()) return null;
      const { taken, offline, whyNothing } = proposalStep(archive, gate, steering, config, seedsTried, rng); // summaries, no bodies
      const seedsLeft = config.proposer.seeds.some((s) => !taken.has(genomeKey(SEED_GENOMES[s]!)));
      const steered = steering.contextText();
      if (!agents || seedsLeft) {
        const proposal = offline();
        if (!proposal) {
          blocked = whyNothing(queue.pending + queue.size > 0);
          return null;
        }
        if (proposal.proposer === "seed") seedsTried.add(proposal.genomeKey);
        return recordProposal(archive, campaign.id, { ...proposal, ...(steered && { texts: { steering: steered } }) });
      }
      try {
        const record = await proposeWithLlm(agents, archive, steering.reader(archive), gate, config, rng, taken, offline, signal);
        if (typeof record !== "string" && steered) record.texts = { ...record.texts, steering: steered };
        if (typeof record === "string") {
          llmStop = record;
          return null;
        }
        const exp = await recordProposal(archive, campaign.id, record);
        gate.recorded(exp.id, record.motivation);
        return exp;
      } catch (err) {
        if (err instanceof BudgetExceeded) llmStop = err.message;
        else if (!signal.aborted) throw err;
        return null;
      }
    };

    // One coordinator fills free slots; a finished experiment ('next') frees a slot or opens new parents.
    const queue = new PQueue({ concurrency: slots.length });
    const taskDone = () => new Promise<void>((resolve) => queue.once("next", () => resolve()));
    let holding: SteeringAction | null = null;
    for (;;) {
      if (queue.pending + queue.size >= slots.length) {
        await taskDone();
        continue;
      }
      // Paused by a human: in-flight experiments finish; nothing new starts until resumed (or a stop).
      const pause = signal.aborted || budgetStop() ? null : steering.paused();
      if (pause) {
        if (holding?.id !== pause.id) emit({ type: "steering", action: pause, effect: "paused: no new experiment starts until resumed" });
        holding = pause;
        await steering.changed(signal, 1000);
        continue;
      }
      if (holding) {
        const resumed = [...steering.state.log].reverse().find((r) => r.action === "resume") ?? holding;
        emit({ type: "steering", action: resumed, effect: "resumed" });
        holding = null;
      }
      const exp = await next();
      if (exp) {
        void queue.add(() => work(exp));
        continue;
      }
      if (queue.pending + queue.size === 0) break;
      await taskDone();
    }
    await queue.onIdle();

    const stopReason = budgetStop() ?? "design space around the archive exhausted";
    const stuck = blocked !== null && !signal.aborted;
    const confirmed = signal.aborted || stuck ? [] : await confirmWinners(archive, config, mine(), stopReason, signal, emit);
    // Left open (endedAt null) while any of its experiments is unfinished, so the next run resumes them.
    const open = signal.aborted || mine().some((e) => !TERMINAL_STATUSES.includes(e.status) || climbPending(config, e));
    await archive.updateCampaign(campaign.id, { endedAt: open ? null : now().toISOString(), stopReason });
    emit({ type: "stop", reason: stopReason, interrupted });
    return { campaign, finished, stopReason, interrupted, blocked: stuck, confirmed };
  } finally {
    stopClock();
    closeSteering();
    await archive.close();
  }
}

/**
 * The LLM researcher's next proposal as a record: a plan (genome or code mode), a plan rejected at the novelty
 * gate, or, when the researcher gave no usable plan, the offline proposer's (the failure recorded on it).
 * A string: why nothing can be proposed.
 */
async function proposeWithLlm(
  agents: Agents, archive: Archive, reader: ArchiveReader, gate: Gate, config: CampaignConfig, rng: Rng, taken: ReadonlySet<string>,
  offline: () => Proposal | null, signal: AbortSignal,
): Promise<ProposalRecord | string> {
  const id = await archive.newId();
  const outcome = await planWithLlm({
    client: agents.client, archive: reader, cognition: agents.cognition, gate, agents: agents.config,
    sampling: config.proposer.sampling, rng, experimentId: id, logFile: agents.logFile(id), taken, signal,
  });
  const costs = agents.meter.take(id);
  if (outcome.kind === "none") return "no finished experiment to build on";
  if (outcome.kind === "failed") {
    const failure = outcome.failures[outcome.failures.length - 1]!;
    const fallback = offline();
    if (!fallback) return `LLM researcher failed (${failure.kind}: ${failure.message}) and the offline proposer has nothing left`;
    return { ...fallback, id, costs, agentFailures: outcome.failures, note: `LLM researcher failed (${failure.kind}); offline ${fallback.proposer} proposal instead` };
  }
  const { plan } = outcome;
  const novelty = [
    `verdict: ${plan.novelty.verdict}${plan.novelty.similarTo.length ? ` (repeats ${plan.novelty.similarTo.map((i) => `[${i}]`).join(", ")})` : ""}`,
    `plans: ${plan.plans}`,
    plan.novelty.reason && `reason: ${plan.novelty.reason}`,
    plan.novelty.similar.length && `most similar (BM25): ${plan.novelty.similar.map((s) => `[${s.id}] ${s.score.toFixed(2)}`).join(", ")}`,
  ].filter(Boolean).join("\n");
  return {
    id, name: plan.name, parentId: plan.parentId, referenceIds: plan.referenceIds, proposer: "llm", mode: plan.mode,
    genome: plan.genome, genomeKey: plan.genomeKey, change: plan.change, motivation: plan.motivation,
    texts: { design: plan.design, novelty }, costs, agentFailures: outcome.failures,
    ...(outcome.kind === "repeated" && {
      rejected: `novelty: repeats ${plan.novelty.similarTo.map((i) => `[${i}]`).join(", ")} after ${plan.plans} plan${plan.plans === 1 ? "" : "s"}: ${plan.novelty.reason}`,
    }),
  };
}

/** Continue this name's unfinished campaign (after a crash or a signal), else start a new one. */
async function openCampaign(archive: Archive, config: CampaignConfig, at: Date): Promise<Campaign> {
  const open = archive.campaigns().filter((c) => c.name === config.name && c.endedAt === null).at(-1);
  if (open) return open;
  const campaign: Campaign = {
    id: `${config.name}-${at.toISOString().replace(/[-:]/g, "").slice(0, 15)}`,
    name: config.name, startedAt: at.toISOString(), endedAt: null,
    config: config as unknown as Record<string, unknown>, stopReason: null,
  };
  await archive.insertCampaign(campaign);
  return campaign;
}

/**
 * Before the campaign calls anything a discovery: its best `confirm.top` candidates that beat the baseline
 * beyond their noise band are re-trained on fresh seeds against the baseline on the same seeds. The cost is
 * announced first (runs x the mean proxy run time); a time budget (--until, hours) that stopped the campaign
 * skips it, naming the `archlab confirm` command that would do it.
 */
async function confirmWinners(archive: Archive, config: CampaignConfig, experiments: readonly Experiment[], stopReason: string, signal: AbortSignal, emit: (e: CampaignEvent) => void): Promise<CampaignOutcome["confirmed"]> {
  const plan = confirmationPlan(archive, config, experiments);
  const done: CampaignOutcome["confirmed"] = [];
  if (plan.ids.length === 0) return done;
  if (/^reached /.test(stopReason)) {
    emit({ type: "not confirming", reason: `${stopReason}: run \`archlab confirm ${plan.ids.join(" ")} --archive ${config.archive}\``, ids: plan.ids });
    return done;
  }
  emit({ type: "confirming", ids: plan.ids, seeds: config.confirm.seeds, runs: plan.runs, estimateS: plan.estimateS });
  for (const id of plan.ids) {
    if (signal.aborted) break;
    const confirmation = await confirmExperiment(archive, id, { seeds: config.confirm.seeds, signal });
    emit({ type: "confirmed", id, confirmation });
    done.push({ id, verdict: confirmation.verdict });
  }
  return done;
}

function gpuHours(experiments: readonly Experiment[]): number {
  return experiments.reduce((s, e) => s + e.costs.gpuSeconds, 0) / 3600;
}

