/**
 * The text gate's index (DESIGN §2.3, issue 7): the archived motivations most similar to a new proposal, by
 * BM25, so a judge (the LLM novelty check, novelty.ts) can reject repeats before any compute. The index lives
 * for a campaign and grows as proposals are recorded.
 */
import { Bm25Index } from "../cognition/bm25.ts";

export interface SimilarMotivation {
  id: string;
  score: number;
}

export class MotivationIndex {
  readonly #ids: string[] = [];
  readonly #texts: string[] = [];
  readonly #at = new Map<string, number>();
  #bm25: Bm25Index | null = null;

  /** An index over these experiments' motivations (ids in archive order). */
  static async load(ids: readonly string[], read: (id: string) => Promise<string | null>): Promise<MotivationIndex> {
    const index = new MotivationIndex();
    const batch = 64;
    for (let i = 0; i < ids.length; i += batch) {
      const slice = ids.slice(i, i + batch);
      const texts = await Promise.all(slice.map(read));
      slice.forEach((id, j) => index.add(id, texts[j] ?? ""));
    }
    return index;
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Adds (or replaces) one experiment's motivation. */
  add(id: string, text: string): void {
    const at = this.#at.get(id);
    if (at !== undefined) this.#texts[at] = text;
    else {
      this.#at.set(id, this.#ids.length);
      this.#ids.push(id);
      this.#texts.push(text);
    }
    this.#bm25 = null;
  }

  text(id: string): string | undefined {
    const at = this.#at.get(id);
    return at === undefined ? undefined : this.#texts[at];
  }

  /** The k most similar motivations with a positive score, best first; `exclude` ids are skipped. */
  search(query: string, k: number, exclude: ReadonlySet<string> = new Set()): SimilarMotivation[] {
    this.#bm25 ??= new Bm25Index(this.#texts);
    return this.#bm25.search(query, k + exclude.size)
      .map((h) => ({ id: this.#ids[h.doc]!, score: h.score }))
      .filter((h) => !exclude.has(h.id))
      .slice(0, k);
  }
}
