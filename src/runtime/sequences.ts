// Data sources for sequence-to-sequence models. Both feed three token inputs
// named by convention: src (the source sentence), tgt_in (the target shifted
// right behind BOS, for teacher forcing) and tgt_out (the target, to predict).
//   reverse(count: 20000, test: 1000)   random sequences of ids 2..vocab-1 and their reversal
//   translation()                       the toy English -> Chinese set of translation.ts

import type { Split } from "./data.ts";
import { DataError } from "./data.ts";
import type { DataSpec, Manifest, TensorInfo } from "./manifest.ts";
import type { Dataset } from "./model.ts";
import { Rng } from "./random.ts";
import { BOS, translationData, translationLength } from "./translation.ts";

const ROLES = ["src", "tgt_in", "tgt_out"] as const;

/** The three token inputs, checked: they exist, are tokens, and the two target ones match. */
function roles(spec: DataSpec, manifest: Manifest): Record<(typeof ROLES)[number], TensorInfo> {
  const found = Object.fromEntries(ROLES.map((role) => [role, manifest.inputs.find((i) => i.name === role)]));
  for (const role of ROLES) {
    const input = found[role];
    if (input?.dtype !== "i32" || input.shape.length !== 1) {
      throw new DataError(
        `\`${spec.kind}\` feeds token inputs named src, tgt_in and tgt_out; \`${role}\` should be \`input ${role}: tokens(length, vocab: N)\``,
        spec.span,
      );
    }
  }
  const typed = found as Record<(typeof ROLES)[number], TensorInfo>;
  if (typed.tgt_in.shape[0] !== typed.tgt_out.shape[0]) throw new DataError("tgt_in and tgt_out must have the same length", spec.span);
  return typed;
}

const count = (spec: DataSpec, name: string, fallback: number): number => {
  const value = spec.args[name]?.value ?? fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new DataError(`\`${name}\` must be a whole number >= 1`, spec.args[name]?.span ?? spec.span);
  return value as number;
};

export function reverse(spec: DataSpec, manifest: Manifest): Split {
  const { src, tgt_out } = roles(spec, manifest);
  const length = src.shape[0];
  const vocab = Math.min(src.classes ?? 0, tgt_out.classes ?? 0);
  if (tgt_out.shape[0] !== length) throw new DataError("for reversal, the source and the target must have the same length", spec.span);
  if (vocab < 3) throw new DataError("reversal needs a vocabulary of 3 or more (0 is padding, 1 is BOS)", spec.span);
  const rng = new Rng(manifest.train.seed + 3);
  const make = (n: number): Dataset => {
    const columns = { src: new Int32Array(n * length), tgt_in: new Int32Array(n * length), tgt_out: new Int32Array(n * length) };
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < length; i++) columns.src[r * length + i] = rng.int(2, vocab - 1);
      for (let i = 0; i < length; i++) columns.tgt_out[r * length + i] = columns.src[r * length + length - 1 - i];
      columns.tgt_in[r * length] = BOS;
      columns.tgt_in.set(columns.tgt_out.subarray(r * length, (r + 1) * length - 1), r * length + 1);
    }
    return { count: n, columns };
  };
  return { train: make(count(spec, "count", 20000)), test: make(count(spec, "test", 1000)) };
}

export function translation(spec: DataSpec, manifest: Manifest): Split {
  const { src, tgt_out } = roles(spec, manifest);
  const length = src.shape[0];
  if (length < translationLength || tgt_out.shape[0] !== length) {
    throw new DataError(`the translation set needs src, tgt_in and tgt_out of one length >= ${translationLength}`, spec.span);
  }
  const data = translationData(length);
  for (const [input, vocab] of [
    [src, data.sourceVocab],
    [tgt_out, data.targetVocab],
  ] as const) {
    if ((input.classes ?? 0) < vocab.tokens.length)
      throw new DataError(`\`${input.name}\` needs a vocabulary of at least ${vocab.tokens.length} tokens`, spec.span);
  }
  return { train: data.train, test: data.test };
}
