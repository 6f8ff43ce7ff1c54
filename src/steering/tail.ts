/**
 * Reads an append-only JSON-lines file incrementally: each read returns the complete lines written since the
 * last one (a last line without its newline is an append still in progress, left for the next read). When
 * the file is replaced or shrinks (a compaction rewrote it) the next read starts again from its beginning and
 * says so. `watch` calls back on changes (fs.watch on the folder, with a slow stat as a backstop), so a
 * follower costs nothing while nothing is written.
 */
import fs from "node:fs";
import path from "node:path";

export interface TailRead {
  lines: string[];
  /** The file was replaced or truncated since the last read: `lines` are from its start. */
  reset: boolean;
}

export class LineTail {
  readonly file: string;
  #offset = 0;
  #ino: number | null = null;
  #partial = Buffer.alloc(0);

  constructor(file: string, opts: { fromEnd?: boolean } = {}) {
    this.file = file;
    if (opts.fromEnd) {
      const st = statOrNull(file);
      if (st) {
        this.#ino = st.ino;
        this.#offset = st.size;
      }
    }
  }

  read(): TailRead {
    const st = statOrNull(this.file);
    let reset = false;
    if (!st) {
      if (this.#ino !== null) reset = true;
      this.#ino = null;
      this.#offset = 0;
      this.#partial = Buffer.alloc(0);
      return { lines: [], reset };
    }
    if (this.#ino !== null && (st.ino !== this.#ino || st.size < this.#offset)) {
      reset = true;
      this.#offset = 0;
      this.#partial = Buffer.alloc(0);
    }
    this.#ino = st.ino;
    if (st.size === this.#offset) return { lines: [], reset };
    const fd = fs.openSync(this.file, "r");
    let chunk: Buffer;
    try {
      chunk = Buffer.alloc(st.size - this.#offset);
      const n = fs.readSync(fd, chunk, 0, chunk.length, this.#offset);
      chunk = chunk.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
    this.#offset += chunk.length;
    const data = Buffer.concat([this.#partial, chunk]);
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      this.#partial = data;
      return { lines: [], reset };
    }
    this.#partial = Buffer.from(data.subarray(end + 1));
    const lines = data.subarray(0, end).toString("utf8").split("\n").filter((l) => l.trim() !== "");
    return { lines, reset };
  }

  /** Calls `onChange` (debounced by `debounceMs`) whenever the file may have changed; returns a stop function. */
  watch(onChange: () => void, opts: { debounceMs?: number; backstopMs?: number } = {}): () => void {
    const debounce = opts.debounceMs ?? 20;
    let timer: NodeJS.Timeout | null = null;
    const fire = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        onChange();
      }, debounce);
    };
    const base = path.basename(this.file);
    let watcher: fs.FSWatcher | null = null;
    try {
      watcher = fs.watch(path.dirname(this.file), (_event, name) => {
        if (name === null || name === base) fire();
      });
      watcher.on("error", () => {});
    } catch {
      watcher = null; // the folder is not there (yet): the backstop covers it
    }
    // fs.watch can miss events (network filesystems, some containers): a stat every few hundred ms covers that.
    let last = statOrNull(this.file);
    const backstop = setInterval(() => {
      const st = statOrNull(this.file);
      if (st?.size !== last?.size || st?.ino !== last?.ino || st?.mtimeMs !== last?.mtimeMs) fire();
      last = st;
    }, opts.backstopMs ?? 500);
    backstop.unref();
    return () => {
      watcher?.close();
      clearInterval(backstop);
      if (timer) clearTimeout(timer);
    };
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}
