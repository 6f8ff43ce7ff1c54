/**
 * The archive's content beside its records: candidate code by hash, long texts, run directories, and the git
 * provenance of each candidate (archive.ts extends this with the records).
 */
import fs from "node:fs";
import path from "node:path";
import type { Experiment } from "../contracts/experiment.ts";
import { NoArchiveError } from "./errors.ts";
import type { ContentFiles } from "./files.ts";
import { diffFiles, type ArchiveGit } from "./git.ts";
import type { ExperimentPatch } from "./records.ts";
import type { ExperimentSummary } from "./store.ts";

export type ArchiveMode = "read" | "write";

export abstract class ArchiveContent {
  readonly dir: string;
  readonly mode: ArchiveMode;
  protected readonly files: ContentFiles;
  protected readonly git: ArchiveGit | null;

  protected constructor(dir: string, mode: ArchiveMode, files: ContentFiles, git: ArchiveGit | null) {
    this.dir = dir;
    this.mode = mode;
    this.files = files;
    this.git = git;
  }

  /** Throws unless this archive may be written now (opened for writing, open, lock held). */
  protected abstract checkWritable(): void;
  abstract summary(id: string): ExperimentSummary | undefined;
  abstract requireExperiment(id: string): Experiment;
  abstract updateExperiment(id: string, patch: ExperimentPatch, opts?: { note?: string }): Promise<Experiment>;

  /** Stores candidate code under its sha256; returns the hash. */
  putCode(text: string): Promise<string> {
    this.checkWritable();
    return this.files.putCode(text);
  }

  readCode(hash: string): Promise<string> {
    return this.files.readCode(hash);
  }

  codePath(hash: string): string {
    return this.files.codePath(hash);
  }

  /** Long text out of line: texts/<id>/<kind>.md (kinds: motivation, analysis, experience, log, ...). */
  writeText(id: string, kind: string, text: string): Promise<string> {
    this.checkWritable();
    return this.files.writeText(id, kind, text);
  }

  /** The text, or null when none was written. */
  readText(id: string, kind: string): Promise<string | null> {
    return this.files.readText(id, kind);
  }

  textKinds(id: string): string[] {
    return this.files.textKinds(id);
  }

  textPath(id: string, kind: string): string {
    return this.files.textPath(id, kind);
  }

  /** runs/<id>/<stage>/, created; the runner writes its log and result file there. */
  runDir(id: string, stage: string): string {
    const dir = this.files.runDir(id, stage);
    if (this.mode === "write") fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Stores `code` and commits it as layer.py on top of `parentCommit` (the archive's root commit when null).
   * When the experiment is in the archive its codeHash and commit are recorded. Returns the commit sha.
   */
  async commitCandidate(id: string, code: string, message: string, parentCommit: string | null): Promise<string> {
    this.checkWritable();
    const hash = await this.files.putCode(code);
    const commit = await this.git!.commit(id, this.files.codePath(hash), `${message.trim()}\n\nArchlab-Experiment: ${id}\n`, parentCommit);
    if (this.summary(id)) await this.updateExperiment(id, { codeHash: hash, commit });
    return commit;
  }

  /** Tags the experiment's commit (e.g. "promoted/explore/e000042"). */
  async tagPromoted(id: string, tag: string): Promise<void> {
    this.checkWritable();
    const experiment = this.requireExperiment(id);
    if (!experiment.commit) throw new NoArchiveError(`experiment ${id} has no commit to tag`);
    await this.git!.tag(tag, experiment.commit);
  }

  /** Tags on the experiment's commit. */
  async tags(id: string): Promise<string[]> {
    const experiment = this.requireExperiment(id);
    return experiment.commit && this.git ? this.git.tags(experiment.commit) : [];
  }

  /** Unified diff of two candidates' code: git's diff of their commits, else of their code files. */
  async diff(a: string, b: string): Promise<string> {
    const from = this.requireExperiment(a);
    const to = this.requireExperiment(b);
    if (from.commit && to.commit && this.git) return this.git.diff(from.commit, to.commit);
    for (const e of [from, to]) {
      if (!e.codeHash) throw new NoArchiveError(`experiment ${e.id} has no code in archive ${this.dir}`);
    }
    return diffFiles(this.dir, path.relative(this.dir, this.codePath(from.codeHash!)), path.relative(this.dir, this.codePath(to.codeHash!)));
  }
}
