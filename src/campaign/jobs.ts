/** The campaign's side of the runners: one runner per stage from the config, and Slurm jobs kept on the experiment. */
import type { Archive } from "../archive/archive.ts";
import type { JobRecord } from "../contracts/experiment.ts";
import { makeRunner, type Runner } from "../runner/runner.ts";
import type { CampaignConfig } from "./config.ts";
import { firstRung } from "./rungs.ts";

/** The runner of a rung, by the rung's name (a stage name finds the first rung of that stage). */
export type StageRunners = (rung: string) => Runner;

export function stageRunners(config: CampaignConfig): StageRunners {
  const runners = new Map(config.stages.map((r) => [r.name, makeRunner(r.runner)]));
  return (rung) => runners.get(rung) ?? runners.get(config.stages.find((r) => r.stage === rung)?.name ?? "") ?? runners.get(firstRung(config).name)!;
}

/** Adds or updates the experiment's record of a job (same id and run dir), counting re-attachments. */
export async function recordJob(archive: Archive, experimentId: string, job: JobRecord): Promise<void> {
  const jobs = archive.getExperiment(experimentId)?.jobs ?? [];
  const i = jobs.findIndex((j) => j.jobId === job.jobId && j.runDir === job.runDir);
  if (i < 0) {
    await archive.updateExperiment(experimentId, { jobs: [...jobs, job] });
    return;
  }
  const old = jobs[i]!;
  const reattached = job.state === "REATTACHED" ? old.reattached + 1 : Math.max(old.reattached, job.reattached);
  const merged = { ...job, submittedAt: old.submittedAt, reattached, state: job.state === "REATTACHED" ? old.state : job.state };
  await archive.updateExperiment(experimentId, { jobs: jobs.map((j, k) => (k === i ? merged : j)) });
}
