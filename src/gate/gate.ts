/**
 * The gate (DESIGN §2 step 3): rejects repeats before they cost compute. One per campaign, made by the campaign
 * and handed to the proposers (before a proposal is recorded) and to the experiment (after its probe):
 * - genome: a design whose genome key is archived (in flight included: proposals are recorded before they run);
 * - text: a plan the LLM judge finds repeats one of the k archived motivations most similar to it (BM25);
 * - behaviour: a probe fingerprint (outputs on a fixed seeded input, hashed after rounding) equal to an
 *   archived experiment's.
 */
import type { Experiment } from "../contracts/experiment.ts";
import type { Archive } from "../archive/archive.ts";
import { MotivationIndex } from "./motivations.ts";
import { judgeNovelty, type NoveltyJudge, type NoveltyNeighbour, type NoveltyRecord, type PlanText } from "./novelty.ts";

export type GateArchive = Pick<Archive, "experiments" | "summaries" | "readText" | "findByGenomeKey" | "findByFingerprint">;

export class Gate {
  readonly #archive: GateArchive;
  /** The text gate's index; null when no judge is configured (offline campaigns). */
  readonly #motivations: MotivationIndex | null;

  private constructor(archive: GateArchive, motivations: MotivationIndex | null) {
    this.#archive = archive;
    this.#motivations = motivations;
  }

  /** The gate over this archive; `text`: load the motivations the text gate searches (LLM campaigns). */
  static async open(archive: GateArchive, opts: { text: boolean }): Promise<Gate> {
    const motivations = opts.text
      ? await MotivationIndex.load(archive.summaries().map((s) => s.id), (id) => archive.readText(id, "motivation"))
      : null;
    return new Gate(archive, motivations);
  }

  /** Genome keys archived or in flight: what a proposer must not propose again. */
  takenKeys(experiments: readonly Pick<Experiment, "genomeKey">[] = this.#archive.summaries()): Set<string> {
    return new Set(experiments.map((e) => e.genomeKey).filter((k): k is string => k !== null));
  }

  /** The archived experiments a genome key repeats (empty: new), `taken` keys (in flight) counted too. */
  genomeRepeats(key: string, taken: ReadonlySet<string> = new Set()): { repeated: boolean; ids: string[] } {
    const ids = this.#archive.findByGenomeKey(key).map((e) => e.id);
    return { repeated: ids.length > 0 || taken.has(key), ids };
  }

  /** The text gate's verdict on a plan; "unchecked" with no index (the plan goes ahead). */
  async text(judge: NoveltyJudge, plan: PlanText, byId: ReadonlyMap<string, NoveltyNeighbour>): Promise<NoveltyRecord> {
    if (!this.#motivations) return { verdict: "unchecked", similar: [], similarTo: [], reason: "no text gate in this campaign" };
    return judgeNovelty(this.#motivations, judge, plan, byId);
  }

  /** A recorded proposal's motivation joins the text gate's index. */
  recorded(id: string, motivation: string): void {
    this.#motivations?.add(id, motivation);
  }

  /** Why a probed experiment is a behavioural repeat (another archived experiment with its fingerprint), or null. */
  behaviour(exp: Pick<Experiment, "id">, fingerprint: string | null): string | null {
    if (!fingerprint) return null;
    const twin = this.#archive.findByFingerprint(fingerprint).find((e) => e.id !== exp.id);
    return twin ? `duplicate: behaves exactly like ${twin.id} (${twin.name}), fingerprint ${fingerprint}` : null;
  }
}
