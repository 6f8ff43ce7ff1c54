import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { RunnerConfig } from "./runner.ts";
import { durationS, endedWithoutResult, jobScript, parseSacct, parseScontrol, phaseOf, sbatchArgs } from "./slurmJob.ts";
import { stageSpec } from "./stages.ts";

const LINE = "JobId=42 JobName=archlab-x UserId=root(0) JobState=CANCELLED Reason=None Dependency=(null) Requeue=0 Restarts=2 BatchFlag=1 ExitCode=0:15 RunTime=01:02:03 TimeLimit=00:05:00";

describe("slurm job text", () => {
  it("parses scontrol's one-line form and sacct's", () => {
    expect(parseScontrol(LINE)).toEqual({ state: "CANCELLED", reason: null, exitCode: "0:15", restarts: 2, runTimeS: 3723 });
    expect(parseScontrol("JobId=1 JobState=PENDING Reason=BeginTime RunTime=00:00:00")).toMatchObject({ state: "PENDING", reason: "BeginTime", runTimeS: 0 });
    expect(parseScontrol("")).toBeNull();
    expect(parseSacct("CANCELLED by 0|0:15\n")).toMatchObject({ state: "CANCELLED", reason: "CANCELLED by 0", exitCode: "0:15" });
    expect(parseSacct("\n")).toBeNull();
    expect([durationS("1-00:00:01"), durationS("05:07"), durationS("UNLIMITED")]).toEqual([86401, 307, null]);
  });

  it.each([
    ["PENDING", "waiting"], ["RUNNING", "waiting"], ["REQUEUED", "waiting"], ["COMPLETING", "waiting"],
    ["COMPLETED", "finished"], ["TIMEOUT", "finished"], ["PREEMPTED", "finished"], ["NODE_FAIL", "finished"],
    ["SOMETHING_NEW", "unknown"],
  ])("%s is %s", (state, phase) => {
    expect(phaseOf({ state, reason: null, exitCode: null, restarts: 0, runTimeS: null })).toBe(phase);
  });
  it("a vanished job is unknown, never running", () => expect(phaseOf(null)).toBe("unknown"));

  it.each([
    ["CANCELLED", "failed", "cancelled", /cancelled outside archlab/],
    ["TIMEOUT", "timeout", "timeout", /time limit/],
    ["OUT_OF_MEMORY", "failed", "oom", /out of memory/],
    ["PREEMPTED", "failed", "cancelled", /preempted and not requeued/],
    ["COMPLETED", "failed", "crash", /without a result file/],
  ])("a job that ended %s without a result is %s/%s", (state, status, kind, message) => {
    const out = endedWithoutResult("7", { state, reason: null, exitCode: "1:0", restarts: 0, runTimeS: 1 });
    expect(out).toMatchObject({ status, kind });
    expect(out.message).toMatch(message);
  });

  it("sbatch resources default from the stage; the user's extra args come last", () => {
    const spec = stageSpec({ stage: "probe", layerPath: "/x/l.py", className: "DeltaNet", runDir: "/r", timeoutS: 150, memoryMb: 4096 });
    const paths = { runDir: "/r", scriptPath: "/r/job.sh", outPattern: "/r/slurm-%j.out" };
    const args = sbatchArgs(RunnerConfig.parse({ kind: "slurm", partition: "gpu", extra_args: ["--constraint=a100"] }), spec, "n", paths);
    expect(args).toEqual(expect.arrayContaining(["--parsable", "--cpus-per-task=1", "--time=4", "--mem=4096M", "--partition=gpu", "--no-requeue"]));
    expect(args.slice(-2)).toEqual(["--constraint=a100", "/r/job.sh"]);
    const requeue = sbatchArgs(RunnerConfig.parse({ kind: "slurm", requeue: 2, signal_s: 90, gpus: 1, time: "2:00:00", mem: "8G" }), spec, "n", paths);
    expect(requeue).toEqual(expect.arrayContaining(["--requeue", "--signal=B:USR2@90", "--gpus=1", "--time=2:00:00", "--mem=8G"]));
    expect(() => RunnerConfig.parse({ kind: "slurm", mem: "lots" })).toThrow(/8G/);
  });

  it("the job script clears the environment and quotes the harness command", () => {
    const script = jobScript({ argv: ["bwrap", "--", "python", "it's"], env: { HOME: "/r", CUDA_VISIBLE_DEVICES: "" }, cwd: "/e", logPath: "/r/h.log", path: "/usr/bin", requeue: 3, checkpointExit: 75 });
    expect(script).toMatch(/env -i 'HOME=\/r' "CUDA_VISIBLE_DEVICES=\$\{CUDA_VISIBLE_DEVICES:-\}" 'bwrap' '--' 'python' 'it'\\''s' 2>>'\/r\/h.log' &/);
    expect(jobScript({ argv: ["x"], env: {}, cwd: "/e", logPath: "/l", path: "/usr/bin", requeue: 0, checkpointExit: 75 })).not.toMatch(/trap/);
  });

  // The script run by bash, as slurmd would: a stand-in harness that exits 75 on USR2 (as the evaluator does
  // once checkpointed) or 0 after ~1.5 s; a stand-in scontrol that logs its arguments.
  const runScript = async (restartCount: number, requeue: number) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-jobscript-"));
    fs.writeFileSync(path.join(dir, "scontrol"), `#!/bin/sh\necho "$*" >> '${dir}/scontrol.log'\n`, { mode: 0o755 });
    const harness = `trap 'echo usr2 >> ${dir}/seen; exit 75' USR2; touch ${dir}/started; for i in $(seq 15); do sleep 0.1; done`;
    const file = path.join(dir, "job.sh");
    fs.writeFileSync(file, jobScript({ argv: ["/bin/bash", "-c", harness], env: {}, cwd: dir, logPath: path.join(dir, "h.log"), path: `${dir}:/usr/bin:/bin`, requeue, checkpointExit: 75 }));
    const job = execa("bash", [file], { reject: false, env: { SLURM_JOB_ID: "42", SLURM_RESTART_COUNT: String(restartCount) } });
    while (!fs.existsSync(path.join(dir, "started"))) await new Promise((r) => setTimeout(r, 20));
    job.kill("SIGUSR2");
    const out = await job;
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
    return { exitCode: out.exitCode, stderr: out.stderr, scontrol: read("scontrol.log"), seen: read("seen") };
  };

  it("on USR2 with requeues left, the harness is told, and its checkpoint exit becomes a requeue", async () => {
    const out = await runScript(0, 2);
    expect(out.seen).toBe("usr2\n");
    expect(out.scontrol).toBe("requeue 42\n");
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toMatch(/USR2: checkpoint requested \(requeue 1 of 2\)[\s\S]*checkpointed: requeue 1 of 2/);
  });

  it("with no requeues left, USR2 is not passed on and the run goes on to its own end", async () => {
    const out = await runScript(2, 2);
    expect(out).toMatchObject({ seen: "", scontrol: "", exitCode: 0 });
  });
});
