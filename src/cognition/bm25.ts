/**
 * Okapi BM25 over small collections (hundreds to tens of thousands of documents), in memory. Pure: no I/O.
 *   score(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),  idf(t) = ln(1 + (N − n_t + 0.5)/(n_t + 0.5))
 */

const STOPWORDS = new Set((
  "a an and are as at be been but by can could do does for from had has have how if in into is it its may more most " +
  "no not of on or our over such than that the their them then there these they this those through to under up via " +
  "was we were what when where which while who why will with within without would you your also each other only both " +
  "using use used between across all any per"
).split(" "));

/** Lower-case alphanumeric words, stop words dropped, plural "s" stripped. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (raw.length < 2 || STOPWORDS.has(raw)) continue;
    out.push(stem(raw));
  }
  return out;
}

function stem(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

export interface Bm25Options {
  k1?: number;
  b?: number;
}

export interface Bm25Hit {
  /** The document's position in the collection. */
  doc: number;
  score: number;
}

export class Bm25Index {
  readonly #k1: number;
  readonly #b: number;
  readonly #tf: Map<string, number>[] = [];
  readonly #len: number[] = [];
  readonly #df = new Map<string, number>();
  #avgdl = 0;

  constructor(docs: readonly string[], opts: Bm25Options = {}) {
    this.#k1 = opts.k1 ?? 1.2;
    this.#b = opts.b ?? 0.75;
    let total = 0;
    for (const doc of docs) {
      const tokens = tokenize(doc);
      const tf = new Map<string, number>();
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) this.#df.set(t, (this.#df.get(t) ?? 0) + 1);
      this.#tf.push(tf);
      this.#len.push(tokens.length);
      total += tokens.length;
    }
    this.#avgdl = docs.length ? total / docs.length : 0;
  }

  get size(): number {
    return this.#tf.length;
  }

  idf(term: string): number {
    const n = this.#df.get(term) ?? 0;
    return Math.log(1 + (this.size - n + 0.5) / (n + 0.5));
  }

  score(query: string, doc: number): number {
    const tf = this.#tf[doc]!;
    const norm = this.#k1 * (1 - this.#b + (this.#b * this.#len[doc]!) / (this.#avgdl || 1));
    let s = 0;
    for (const term of new Set(tokenize(query))) {
      const f = tf.get(term);
      if (f) s += (this.idf(term) * f * (this.#k1 + 1)) / (f + norm);
    }
    return s;
  }

  /** The k best documents with a positive score, best first (ties by position). */
  search(query: string, k: number): Bm25Hit[] {
    const hits: Bm25Hit[] = [];
    for (let doc = 0; doc < this.size; doc++) {
      const score = this.score(query, doc);
      if (score > 0) hits.push({ doc, score });
    }
    return hits.sort((a, b) => b.score - a.score || a.doc - b.doc).slice(0, k);
  }
}
