/** `archlab data prepare`: text → memory-mappable token files + manifest (src/data/prepare.ts). */
import path from "node:path";
import { Command, Option } from "commander";
import { TOKENIZERS, type Tokenizer } from "../contracts/tokens.ts";
import { UserError } from "../errors.ts";
import { writeOut } from "./present.ts";
import { BROWN, DEFAULT_VAL_SPLIT, prepareData } from "../data/prepare.ts";

interface PrepareCli {
  out: string;
  tokenizer: Tokenizer;
  valSplit: string;
  json?: boolean;
}

export function registerData(program: Command): void {
  const data = program.command("data").description("token data for the LM stage");
  data
    .command("prepare")
    .description(`tokenise a text file or folder (default: the embedded Brown corpus, "${BROWN}") into train/val token files`)
    .argument("[input]", `a text file, a folder of text files, or ${BROWN}`, BROWN)
    .requiredOption("--out <dir>", "where train.bin, val.bin and manifest.json go")
    .addOption(new Option("--tokenizer <name>", "byte or gpt2 (GPT-2 BPE, js-tiktoken's bundled ranks)").choices(TOKENIZERS).default("gpt2"))
    .option("--val-split <fraction>", "share held out for validation (whole genres / whole files / the tail of one file)", String(DEFAULT_VAL_SPLIT))
    .option("--json", "print the manifest as JSON")
    .action((input: string, opts: PrepareCli) => {
      const valSplit = Number(opts.valSplit);
      if (opts.valSplit.trim() === "" || Number.isNaN(valSplit)) throw new UserError(`--val-split must be a number, not "${opts.valSplit}"`);
      const { manifest, manifestSha256, skipped } = prepareData({ input, out: opts.out, tokenizer: opts.tokenizer, valSplit });
      if (opts.json) {
        writeOut(JSON.stringify({ ...manifest, manifest_sha256: manifestSha256 }, null, 2));
        return;
      }
      const dir = path.resolve(opts.out);
      writeOut([
        `prepared ${manifest.corpus} with ${manifest.tokenizer} (vocab ${manifest.vocab_size}, ${manifest.dtype}) in ${dir}`,
        `  train: ${manifest.train.tokens.toLocaleString("en-US")} tokens from ${manifest.train.documents} documents`,
        `  val:   ${manifest.val.tokens.toLocaleString("en-US")} tokens from ${manifest.val.documents} documents (split by ${manifest.split_by})`,
        ...(skipped ? [`  skipped ${skipped} files that are not UTF-8 text`] : []),
        `  manifest sha256 ${manifestSha256}`,
      ].join("\n"));
    });
}
