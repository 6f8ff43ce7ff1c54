/**
 * Provenance in git (simple-git): a bare repository at `<archive>/git`. Every candidate is a commit of one file,
 * `layer.py`, whose parent is its parent experiment's commit (seeds sit on a shared root commit, "archive
 * root", with an empty tree), so `git log` walks the lineage and `git diff <parent> <child>` is the change.
 * Each commit is kept by a ref `refs/archlab/<id>`; promoted candidates get tags. Commits are built with
 * plumbing (hash-object, commit-tree, update-ref): nothing is checked out and no index is shared, so writing
 * never disturbs a reader. Browse with `git -C <archive>/git log --graph --all --oneline`.
 */
import fs from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { UserError } from "../errors.ts";

export const GIT_DIR = "git";
export const LAYER_FILE = "layer.py";
const ROOT_REF = "refs/archlab/root";
const IDENTITY = ["user.name=archlab", "user.email=archlab@localhost"];

export class ArchiveGit {
  readonly dir: string;
  readonly #git: SimpleGit;
  #root: string | null = null;
  #temps = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = path.resolve(dir); // git runs with this as its cwd: every path handed to it must be absolute
    this.#git = simpleGit({ baseDir: dir, config: IDENTITY });
  }

  /** Opens the archive's repository, creating it (and its root commit) for a writer. Null when absent. */
  static async open(archiveDir: string, create: boolean): Promise<ArchiveGit | null> {
    const dir = path.resolve(archiveDir, GIT_DIR);
    if (!fs.existsSync(path.join(dir, "HEAD"))) {
      if (!create) return null;
      fs.mkdirSync(dir, { recursive: true });
      await simpleGit({ baseDir: dir }).init(true, ["--quiet", "--initial-branch=main"]);
    }
    return new ArchiveGit(dir);
  }

  /** The shared root commit (empty tree) that seeds descend from. */
  async root(): Promise<string> {
    if (this.#root) return this.#root;
    const existing = await this.#resolve(ROOT_REF);
    if (existing) return (this.#root = existing);
    const emptyTree = await this.#writeObject("tree", Buffer.alloc(0));
    const commit = (await this.#git.raw(["commit-tree", emptyTree, "-m", "archive root"])).trim();
    await this.#git.raw(["update-ref", ROOT_REF, commit]);
    await this.#git.raw(["symbolic-ref", "HEAD", ROOT_REF]);
    return (this.#root = commit);
  }

  /**
   * Commits `codeFile` as layer.py on top of `parent` (the root when null) and points refs/archlab/<id> at it.
   * Returns the commit sha.
   */
  commit(id: string, codeFile: string, message: string, parent: string | null): Promise<string> {
    return this.#serial(() => this.#commit(id, codeFile, message, parent));
  }

  async #commit(id: string, codeFile: string, message: string, parent: string | null): Promise<string> {
    const parentCommit = parent ?? (await this.root());
    if (!(await this.#resolve(`${parentCommit}^{commit}`))) {
      throw new UserError(`parent commit ${parentCommit} is not in the archive's git repository`);
    }
    const blob = (await this.#git.raw(["hash-object", "-w", "--no-filters", "--", path.resolve(codeFile)])).trim();
    // A tree of one entry, in git's binary format: "<mode> <name>\0<20-byte sha>".
    const tree = await this.#writeObject("tree", Buffer.concat([Buffer.from(`100644 ${LAYER_FILE}\0`), Buffer.from(blob, "hex")]));
    const commit = (await this.#git.raw(["commit-tree", tree, "-p", parentCommit, "-m", message])).trim();
    await this.#git.raw(["update-ref", `refs/archlab/${id}`, commit]);
    return commit;
  }

  tag(tag: string, commit: string): Promise<void> {
    return this.#serial(() => this.#tag(tag, commit));
  }

  async #tag(tag: string, commit: string): Promise<void> {
    // check-ref-format exits 1 silently on a bad name, which simple-git does not treat as an error.
    const normalized = await this.#git.raw(["check-ref-format", "--normalize", `refs/tags/${tag}`]).catch(() => "");
    if (normalized.trim() !== `refs/tags/${tag}`) throw new UserError(`not a valid git tag name: "${tag}"`);
    await this.#git.raw(["tag", "-f", tag, commit]);
  }

  async tags(commit: string): Promise<string[]> {
    const out = await this.#git.raw(["tag", "--points-at", commit]);
    return out.split("\n").filter(Boolean);
  }

  /** Unified diff of layer.py between two commits. */
  async diff(from: string, to: string): Promise<string> {
    return this.#git.raw(["diff", "--no-color", from, to, "--", LAYER_FILE]);
  }

  /** Writes an object from bytes (simple-git has no stdin, so via a temp file; git validates the format). */
  async #writeObject(type: "tree", content: Buffer): Promise<string> {
    const file = path.join(this.dir, `object-${process.pid}-${++this.#temps}.tmp`);
    fs.writeFileSync(file, content);
    try {
      return (await this.#git.raw(["hash-object", "-t", type, "-w", "--", file])).trim();
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Git writes run one at a time (the root commit is made once; temp files never collide). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #resolve(rev: string): Promise<string | null> {
    try {
      return (await this.#git.raw(["rev-parse", "--verify", "--quiet", rev])).trim() || null;
    } catch {
      return null;
    }
  }
}

/** Unified diff of two files outside any repository (for candidates without commits). */
export async function diffFiles(cwd: string, a: string, b: string): Promise<string> {
  return simpleGit({ baseDir: cwd }).raw(["diff", "--no-color", "--no-index", "--", a, b]);
}
