// main.ts registers only the commands in COMMANDS: a command module left out of the table would be silently
// missing from `archlab`. Each row's names must be exactly what its module registers, and every module in
// src/cli that exports a register function must have a row.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "./commands.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("the command table", () => {
  it("lists exactly the names each module registers", async () => {
    for (const [names, load] of COMMANDS) {
      const program = new Command("archlab");
      (await load())(program);
      expect(program.commands.map((c) => c.name()), names.join(",")).toEqual(names);
    }
  });

  it("has a row for every command module", async () => {
    const modules = fs.readdirSync(here).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .filter((f) => /export function register\w+\(program: Command\)/.test(fs.readFileSync(path.join(here, f), "utf8")));
    const registered = await Promise.all(COMMANDS.map(async ([, load]) => (await load()).name));
    const exported = modules.flatMap((f) => [...fs.readFileSync(path.join(here, f), "utf8").matchAll(/export function (register\w+)\(program: Command\)/g)].map((m) => m[1]!));
    expect(modules.length).toBeGreaterThan(10);
    expect(registered.sort()).toEqual(exported.sort());
  });
});
