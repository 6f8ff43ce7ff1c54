import { describe, expect, it } from "vitest";
import { detectGpus, parseNvidiaSmi, resolveDevices } from "./devices.ts";

describe("--devices auto", () => {
  it("reads nvidia-smi's csv", () => {
    expect(parseNvidiaSmi("0, NVIDIA H200, 143771, 120000\n1, NVIDIA H200, 143771, 143000\n")).toEqual([
      { index: 0, name: "NVIDIA H200", memoryMb: 143771, freeMb: 120000 }, { index: 1, name: "NVIDIA H200", memoryMb: 143771, freeMb: 143000 },
    ]);
    expect(parseNvidiaSmi("0, NVIDIA H200, 143771\n")[0]!.freeMb).toBe(143771); // no free column: the total
    expect(parseNvidiaSmi("No devices were found\n")).toEqual([]);
  });

  it("without nvidia-smi: CPU, said in one line", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    const lines: string[] = [];
    try {
      expect(await resolveDevices("auto", (l) => lines.push(l))).toBe("cpu");
    } finally {
      process.env.PATH = saved;
    }
    expect(lines).toEqual(["archlab: --devices auto: no nvidia-smi on PATH; running on CPU"]);
    expect(await resolveDevices("cuda:1", () => {})).toBe("cuda:1");
  });

  it("with this machine's nvidia-smi (or its absence): one slot per GPU it lists", async () => {
    const { gpus, why } = await detectGpus();
    const lines: string[] = [];
    const devices = await resolveDevices("auto", (l) => lines.push(l));
    if (gpus.length) expect(devices).toBe(gpus.map((g) => `cuda:${g.index}`).join(","));
    else {
      console.warn(`devices.test.ts: no GPU here (${why}): the CPU path was checked`);
      expect(devices).toBe("cpu");
    }
    expect(lines).toHaveLength(1);
  });
});
