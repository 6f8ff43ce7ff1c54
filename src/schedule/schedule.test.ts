// `archlab schedule` against the real `crontab` (Debian's cron), on a throwaway user's crontab so nobody's own
// table is touched; the installed line is then run the way cron runs it (sh, `\%` -> `%`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../paths.ts";
import { entryLine, nextRuns, parseEntries, withEntry, withoutEntry } from "./crontab.ts";

const CLI = path.join(PROJECT_ROOT, "bin", "archlab.js");
const USER = "archlab-crontest";
const hasCrontab = execaOk("crontab");
const unavailable = !hasCrontab ? "no `crontab` binary (apt-get install cron)" : process.getuid?.() !== 0 ? "needs root (crontab -u for a test user)" : null;
if (unavailable) console.warn(`SKIPPED src/schedule/schedule.test.ts (real crontab part): ${unavailable}`);

function execaOk(bin: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => fs.existsSync(path.join(d, bin)));
}

const OTHERS = 'MAILTO=""\n# the user\'s own jobs: left alone\n*/5 * * * * /usr/bin/true  # keep me\n30 3 * * 0 echo "100%" > /dev/null\n';

describe("crontab text", () => {
  it("validates cron expressions and shows the next runs", () => {
    const from = new Date(2026, 0, 1, 12, 0);
    expect(nextRuns("0 22 * * *", 2, from).map((d) => [d.getDate(), d.getHours()])).toEqual([[1, 22], [2, 22]]);
    expect(() => nextRuns("0 22 * *", 1)).toThrow(/five fields/);
    expect(() => nextRuns("0 25 * * *", 1)).toThrow(/--cron "0 25 \* \* \*"/);
    expect(() => nextRuns("0 22 L * *", 1)).toThrow(/not understood by cron/);
  });

  it("adds and removes only its own line", () => {
    const line = entryLine({ id: "s1", cron: "0 22 * * *", cwd: "/lab", node: "/usr/bin/node", cli: "/x/bin/archlab.js", campaign: "/lab/my campaign.yaml", archive: "/lab/archive", until: "07:00" });
    expect(line).toMatch(/^0 22 \* \* \* cd \/lab && .* run '\/lab\/my campaign.yaml' --until 07:00 >> \/lab\/archive\/logs\/"\$\(date \+\\%F\)".log 2>&1 # archlab-schedule id=s1 /);
    const table = withEntry(OTHERS.trimEnd(), line);
    expect(parseEntries(table)).toEqual([{ id: "s1", cron: "0 22 * * *", campaign: "/lab/my campaign.yaml", until: "07:00", line }]);
    expect(withoutEntry(table, "s1")).toBe(`${OTHERS}`);
    expect(() => withoutEntry(table, "s9")).toThrow(/no archlab schedule "s9"/);
  });
});

describe.skipIf(unavailable !== null)("archlab schedule with the real crontab", () => {
  let tmp: string;
  const cli = (args: string[]) => execa("node", [CLI, ...args], { reject: false, cwd: tmp });
  const table = async () => (await execa("crontab", ["-u", USER, "-l"], { stripFinalNewline: false })).stdout;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-schedule-"));
    await execa("useradd", ["--system", "--no-create-home", USER], { reject: false }); // exists already: fine
    await execa("crontab", ["-u", USER, "-"], { input: OTHERS });
    fs.writeFileSync(path.join(tmp, "nightly.yaml"), "archive: archive\nbudget: {experiments: 1}\nstages: {proxy: {preset: tiny}}\n");
  });
  afterAll(async () => {
    await execa("crontab", ["-u", USER, "-r"], { reject: false });
  });

  it("add, ls and rm edit only archlab's lines; the installed line runs, logs per date, and an overlapping start exits 3", async () => {
    const bad = await cli(["schedule", "add", "nightly.yaml", "--cron", "0 22 * *", "--user", USER]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('archlab: --cron "0 22 * *": crontab takes five fields (minute hour day month weekday), got 4');
    const missing = await cli(["schedule", "add", "nope.yaml", "--cron", "0 22 * * *", "--user", USER]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no such campaign file/);

    const added = await cli(["schedule", "add", "nightly.yaml", "--cron", "0 22 * * *", "--until", "07:00", "--user", USER]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^added s1: 0 22 \* \* \* .*nightly.yaml until 07:00\nnext runs: \d{4}-\d\d-\d\d 22:00, .* 22:00, .* 22:00$/);
    const second = await cli(["schedule", "add", "nightly.yaml", "--cron", "*/30 1-5 * * 1-5", "--user", USER]);
    expect(second.stdout).toMatch(/^added s2/);
    expect((await table()).startsWith(OTHERS)).toBe(true);

    const ls = await cli(["schedule", "ls", "--user", USER, "--json"]);
    const rows = JSON.parse(ls.stdout) as { id: string; cron: string; next: string[] }[];
    expect(rows.map((r) => [r.id, r.cron])).toEqual([["s1", "0 22 * * *"], ["s2", "*/30 1-5 * * 1-5"]]);
    expect(rows[0]!.next).toHaveLength(3);

    // Run s2's line as cron would: /bin/sh, with crontab's `\%` turned into `%`.
    const command = parseEntries(await table()).find((e) => e.id === "s2")!.line.replace(/^(\S+\s+){5}/, "").replace(/\\%/g, "%");
    const day = (await execa("date", ["+%F"])).stdout;
    const log = path.join(tmp, "archive", "logs", `${day}.log`);
    // The line runs archlab from where `add` was run, logging to <archive>/logs/<date>.log. Here another writer
    // holds the archive (last night's run still going), so this start exits 3 and the log says why.
    const holder = execa("node", ["--import", "tsx", path.join(PROJECT_ROOT, "src/archive/testing/holdWriter.ts"), path.join(tmp, "archive")], { cwd: PROJECT_ROOT });
    await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
    const overlap = await execa("sh", ["-c", command], { reject: false, cwd: "/" });
    holder.kill("SIGTERM");
    await holder.catch(() => {});
    expect(overlap.exitCode).toBe(3);
    expect(fs.readFileSync(log, "utf8")).toMatch(/^archlab: archive .*archive is locked by pid \d+ since /m);

    expect((await cli(["schedule", "rm", "s1", "--user", USER])).stdout).toBe("removed s1");
    const rest = await table();
    expect(rest.startsWith(OTHERS)).toBe(true);
    expect(parseEntries(rest).map((e) => e.id)).toEqual(["s2"]);
    expect((await cli(["schedule", "rm", "s1", "--user", USER])).stderr.trim()).toBe('archlab: no archlab schedule "s1" in the crontab (see `archlab schedule ls`)');
    await cli(["schedule", "rm", "s2", "--user", USER]);
    expect(await table()).toBe(OTHERS);
  }, 300_000);
});
