/**
 * The archive's secondary indexes over experiment summaries: by genome key, by fingerprint, and parent -> children.
 * Built on first use (opening stays cheap for commands that never look things up), then kept in step with writes.
 */
import type { ExperimentSummary } from "./store.ts";

export interface Indexes {
  genomeKey: MultiMap;
  fingerprint: MultiMap;
  children: MultiMap;
}
const INDEXED = { genomeKey: "genomeKey", fingerprint: "fingerprint", children: "parentId" } as const;

export class SummaryIndexes {
  #indexes: Indexes | null = null;
  readonly #summaries: () => readonly ExperimentSummary[];

  constructor(summaries: () => readonly ExperimentSummary[]) {
    this.#summaries = summaries;
  }

  /** Keeps the indexes (when built) in step with a written summary. */
  update(summary: ExperimentSummary, previous: ExperimentSummary | undefined): void {
    if (!this.#indexes) return;
    for (const [name, index] of Object.entries(this.#indexes) as [keyof Indexes, MultiMap][]) {
      const before = previous?.[INDEXED[name]] ?? null;
      const after = summary[INDEXED[name]];
      if (before === after) continue;
      if (before !== null) index.remove(before, summary.id);
      if (after !== null) index.add(after, summary.id);
    }
  }

  /** The ids under `key` in one index, in id order. */
  lookup(name: keyof Indexes, key: string): string[] {
    if (!this.#indexes) {
      const indexes: Indexes = { genomeKey: new MultiMap(), fingerprint: new MultiMap(), children: new MultiMap() };
      for (const summary of this.#summaries()) {
        if (summary.genomeKey !== null) indexes.genomeKey.add(summary.genomeKey, summary.id);
        if (summary.fingerprint !== null) indexes.fingerprint.add(summary.fingerprint, summary.id);
        if (summary.parentId !== null) indexes.children.add(summary.parentId, summary.id);
      }
      this.#indexes = indexes;
    }
    return this.#indexes[name].get(key).sort();
  }
}

/** key -> ids; a lone id is stored bare (most genome keys and fingerprints are unique), more in an array. */
class MultiMap {
  readonly #map = new Map<string, string | string[]>();

  add(key: string, id: string): void {
    const current = this.#map.get(key);
    if (current === undefined) this.#map.set(key, id);
    else if (typeof current === "string") {
      if (current !== id) this.#map.set(key, [current, id]);
    } else if (current[current.length - 1] !== id) current.push(id); // callers never add an id twice to a key
  }

  remove(key: string, id: string): void {
    const current = this.#map.get(key);
    if (current === id) this.#map.delete(key);
    else if (Array.isArray(current)) {
      const rest = current.filter((x) => x !== id);
      if (rest.length === 0) this.#map.delete(key);
      else this.#map.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  get(key: string): string[] {
    const current = this.#map.get(key);
    return current === undefined ? [] : typeof current === "string" ? [current] : [...current];
  }
}
