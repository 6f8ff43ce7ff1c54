/** The two tokenizers of `archlab data prepare`: raw UTF-8 bytes, or GPT-2 BPE from js-tiktoken's bundled ranks. */
import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import type { Tokenizer } from "../contracts/tokens.ts";

export interface TokenCodec {
  name: Tokenizer;
  vocabSize: number;
  /** Token appended after each document, or null. */
  eot: number | null;
  /** Appended after each document when eot is null. */
  separator: string;
  encode(text: string): number[];
  decode(tokens: ArrayLike<number>): string;
}

const GPT2_EOT = 50256;

export function byteCodec(): TokenCodec {
  return {
    name: "byte",
    vocabSize: 256,
    eot: null,
    separator: "\n\n",
    encode: (text) => Array.from(Buffer.from(text, "utf8")),
    decode: (tokens) => Buffer.from(Uint8Array.from(tokens)).toString("utf8"),
  };
}

let gpt2: Tiktoken | undefined;

export function gpt2Codec(): TokenCodec {
  gpt2 ??= new Tiktoken(gpt2Ranks);
  const enc = gpt2;
  return {
    name: "gpt2",
    vocabSize: 50257,
    eot: GPT2_EOT,
    separator: "",
    // Text that happens to contain "<|endoftext|>" is encoded as ordinary text, never as the special token.
    encode: (text) => enc.encode(text, [], []),
    decode: (tokens) => enc.decode(Array.from(tokens)),
  };
}

export function codecFor(name: Tokenizer): TokenCodec {
  return name === "gpt2" ? gpt2Codec() : byteCodec();
}
