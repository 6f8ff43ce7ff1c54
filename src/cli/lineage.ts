/** `archlab lineage <id>`: the path from the root down to an experiment, and the tree of its descendants. */
import { Command } from "commander";
import { DEFAULT_ARCHIVE_DIR, withArchive, type Archive } from "../archive/archive.ts";
import type { ExperimentSummary } from "../archive/store.ts";
import { fmt, truncate, writeOut } from "./present.ts";
import { nonNegativeInt } from "./flags.ts";

interface LineageOptions {
  archive: string;
  depth?: string;
  json?: boolean;
}

interface Node {
  id: string;
  name: string;
  status: string;
  fitness: number | null;
  children: Node[];
}

export function registerLineage(program: Command): void {
  program
    .command("lineage")
    .description("ancestors of an experiment up to its root, and its descendants as a tree, with fitness")
    .argument("<id>", "experiment id")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--depth <n>", "levels of descendants to show (default: all)")
    .option("--json", "print {ancestors, tree} as JSON")
    .action(async (id: string, opts: LineageOptions) => {
      const depth = opts.depth === undefined ? Infinity : nonNegativeInt(opts.depth, "--depth");
      await withArchive(opts.archive, { mode: "read" }, (archive) => {
        archive.requireExperiment(id);
        const ancestors = archive.lineage(id).reverse().map((e) => archive.summary(e.id)!); // root first
        const tree = descendants(archive, archive.summary(id)!, depth);
        if (opts.json) {
          writeOut(JSON.stringify({ ancestors: ancestors.map((e) => node(e)), tree }, null, 2));
        } else {
          writeOut(render(ancestors, tree));
        }
      });
    });
}

/** Built from summaries: a tree of 100,000 experiments is drawn without reading their records. */
function node(e: ExperimentSummary): Node {
  return { id: e.id, name: e.name, status: e.status, fitness: e.fitness, children: [] };
}

/** The subtree below `root`, `depth` levels deep; iterative, so long chains cannot overflow the stack. */
function descendants(archive: Archive, root: ExperimentSummary, depth: number): Node {
  const top = node(root);
  const stack: [Node, number][] = [[top, 0]];
  while (stack.length) {
    const [parent, level] = stack.pop()!;
    if (level >= depth) continue;
    for (const child of archive.childSummaries(parent.id)) {
      const n = node(child);
      parent.children.push(n);
      stack.push([n, level + 1]);
    }
  }
  return top;
}

function label(n: Node): string {
  return `${n.id}  ${truncate(n.name, 40)}  ${fmt(n.fitness)}  ${n.status}`;
}

function render(ancestors: ExperimentSummary[], tree: Node): string {
  const lines: string[] = [];
  ancestors.forEach((e, i) => lines.push(`${"    ".repeat(Math.max(0, i - 1))}${i === 0 ? "" : "└── "}${label(node(e))}`));
  const indent = "    ".repeat(Math.max(0, ancestors.length - 1));
  lines.push(`${indent}${ancestors.length ? "└── " : ""}${label(tree)}  ◀`);
  const walk = (n: Node, prefix: string) => {
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      lines.push(`${prefix}${last ? "└── " : "├── "}${label(child)}`);
      walk(child, prefix + (last ? "    " : "│   "));
    });
  };
  walk(tree, ancestors.length ? `${indent}    ` : "");
  return lines.join("\n");
}
