/**
 * The campaign's side of human steering (src/steering/): it follows the archive's steering journal (fs.watch,
 * no polling of the archive) and obeys it — no new experiment starts while paused; a veto aborts that
 * experiment's runs (the campaign records it rejected, with who and why) and keeps it out of parent and
 * reference sampling; pins and notes reach the proposers. It only reads the journal; the archive's records of
 * what it did are written by the campaign, the archive's one writer.
 */
import type { Experiment, Note } from "../contracts/experiment.ts";
import type { SteeringAction } from "../contracts/steering.ts";
import type { Archive } from "../archive/archive.ts";
import { GENES } from "../contracts/genome.ts";
import type { ArchiveReader } from "../researcher/llmResearcher.ts";
import type { ProposalSteering } from "../researcher/propose.ts";
import { parseSteeringLines, steeringPath } from "../steering/journal.ts";
import { foldSteering, notesFor, pausedBy, rulesOf, type CampaignRef, type SteeringState } from "../steering/state.ts";
import { LineTail } from "../steering/tail.ts";

export class CampaignSteering {
  readonly #dir: string;
  readonly #campaign: CampaignRef;
  readonly #tail: LineTail;
  readonly #records: SteeringAction[] = [];
  #state: SteeringState = foldSteering([]);
  readonly #listeners = new Set<(added: readonly SteeringAction[]) => void>();
  readonly #stopWatch: () => void;

  constructor(archiveDir: string, campaign: CampaignRef) {
    this.#dir = archiveDir;
    this.#campaign = campaign;
    this.#tail = new LineTail(steeringPath(archiveDir));
    this.refresh();
    this.#stopWatch = this.#tail.watch(() => this.refresh(), { backstopMs: 250 });
  }

  /** Reads what was appended since the last look; tells the listeners. */
  refresh(): SteeringState {
    const { lines } = this.#tail.read();
    if (lines.length) {
      const added = parseSteeringLines(this.#dir, lines);
      this.#records.push(...added);
      this.#state = foldSteering(this.#records);
      for (const listen of this.#listeners) listen(added);
    }
    return this.#state;
  }

  get state(): SteeringState {
    return this.#state;
  }

  paused(): SteeringAction | null {
    return pausedBy(this.refresh(), this.#campaign);
  }

  vetoOf(id: string): Extract<SteeringAction, { action: "veto" }> | undefined {
    return this.refresh().vetoed.get(id);
  }

  /** Calls `fn` with each batch of new records; returns the unsubscribe function. */
  onChange(fn: (added: readonly SteeringAction[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Resolves when the journal changes, the signal aborts, or after `ms`. */
  changed(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.onChange(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** A signal for one experiment's runs: aborts with the campaign's, or when a human vetoes the experiment. */
  forExperiment(id: string, parent: AbortSignal): { signal: AbortSignal; veto: () => SteeringAction | undefined; dispose: () => void } {
    const controller = new AbortController();
    // The reason travels to the runner (a Slurm job is recorded cancelled with it).
    const abort = () => controller.abort(parent.reason);
    parent.addEventListener("abort", abort, { once: true });
    if (parent.aborted) abort();
    else if (this.vetoOf(id)) controller.abort(`${id} vetoed`);
    const off = this.onChange(() => {
      if (this.#state.vetoed.has(id)) controller.abort(`${id} vetoed`);
    });
    return {
      signal: controller.signal,
      veto: () => this.#state.vetoed.get(id),
      dispose: () => {
        off();
        parent.removeEventListener("abort", abort);
      },
    };
  }

  /** Vetoed experiments never become parents or references. */
  sampleable<T extends Pick<Experiment, "id">>(experiments: readonly T[]): T[] {
    const { vetoed } = this.refresh();
    return vetoed.size ? experiments.filter((e) => !vetoed.has(e.id)) : [...experiments];
  }

  /** Pins and the gene rules of this campaign's notes, for the offline proposer (unknown genes are left out). */
  proposer(): ProposalSteering {
    const state = this.refresh();
    const rules = rulesOf(notesFor(state, this.#campaign)).filter((r) =>
      (GENES as Record<string, readonly unknown[]>)[r.gene]?.some((v) => String(v) === r.value));
    const ref = (r: (typeof rules)[number]) => ({ gene: r.gene, value: r.value, source: `note ${r.noteId}` });
    return {
      pinned: [...state.pinned.keys()],
      prefer: rules.filter((r) => r.kind === "prefer").map(ref),
      avoid: rules.filter((r) => r.kind === "avoid").map(ref),
    };
  }

  /** The humans' notes and pins in words, as the next proposal's context (null when there are none). */
  contextText(): string | null {
    const state = this.refresh();
    const lines = [
      ...[...state.pinned.values()].map((p) => `- [pinned] [${p.experimentId}] by ${p.who} at ${p.at}${p.why ? `: ${p.why}` : ""}`),
      ...notesFor(state, this.#campaign).map((n) => `- note ${n.id} by ${n.who} at ${n.at}${n.experimentId ? ` on [${n.experimentId}]` : ""}: ${n.text.trim()}`),
      ...[...state.vetoed.values()].map((v) => `- [vetoed] [${v.experimentId}] by ${v.who}${v.why ? `: ${v.why}` : ""}`),
    ];
    return lines.length ? lines.join("\n") : null;
  }

  /**
   * What the LLM researcher reads: the archive without vetoed experiments, its notes plus the steering notes
   * and pins (as pinned notes, so they are always shown).
   */
  reader(archive: Archive): ArchiveReader {
    const extra = (): Note[] => {
      const state = this.refresh();
      return [
        ...[...state.pinned.values()].map((p) => ({ id: p.id, experimentId: p.experimentId, at: p.at, pinned: true, text: `pinned by ${p.who}${p.why ? `: ${p.why}` : ""}` })),
        ...notesFor(state, this.#campaign).map((n) => ({
          id: n.id, experimentId: n.experimentId ?? "campaign", at: n.at, pinned: n.experimentId === null, text: `${n.text} (${n.who})`,
        })),
      ];
    };
    return {
      summaries: () => this.sampleable(archive.summaries()),
      childSummaries: (id) => this.sampleable(archive.childSummaries(id)),
      getExperiment: (id) => archive.getExperiment(id),
      readText: (id, kind) => archive.readText(id, kind),
      readCode: (hash) => archive.readCode(hash),
      notes: (experimentId) => [...archive.notes(experimentId), ...extra().filter((n) => experimentId === undefined || n.experimentId === experimentId)],
    };
  }

  close(): void {
    this.#stopWatch();
    this.#listeners.clear();
  }
}
