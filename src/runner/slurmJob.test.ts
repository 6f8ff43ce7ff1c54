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

  it("the job script clears the environment and requeues on USR2 only while requeues are left", () => {
    const script = jobScript({ argv: ["bwrap", "--", "python", "it's"], env: { HOME: "/r", CUDA_VISIBLE_DEVICES: "" }, cwd: "/e", logPath: "/r/h.log", path: "/usr/bin", requeue: 3 });
    expect(script).toMatch(/env -i 'HOME=\/r' "CUDA_VISIBLE_DEVICES=\$\{CUDA_VISIBLE_DEVICES:-\}" 'bwrap' '--' 'python' 'it'\\''s' 2>>'\/r\/h.log' &/);
    expect(script).toMatch(/-lt 3 \]; then/);
    expect(jobScript({ argv: ["x"], env: {}, cwd: "/e", logPath: "/l", path: "/usr/bin", requeue: 0 })).not.toMatch(/trap/);
  });
});
