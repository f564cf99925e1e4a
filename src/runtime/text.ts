// Character-level language modelling: a text as training windows, and
// sampling from a trained decoder-only model. The model reads tgt_in (a
// window of characters) and predicts tgt_out (the same window one character
// later), the target half of the sequence-to-sequence convention.
//   text("file.txt", stride: 16, test: 0.1)   windows every `stride` characters; the
//                                            last `test` fraction of the text held out

import type { DataIO, Split } from "./data.ts";
import { DataError } from "./data.ts";
import type { DataSpec, Manifest } from "./manifest.ts";
import type { Dataset, Model } from "./model.ts";
import type { Rng } from "./random.ts";

/** Characters (code points) to ids 1..; 0 is padding and never occurs. */
export interface CharVocab {
  chars: string[];
  ids: Map<string, number>;
}

export function charVocab(text: string): CharVocab {
  const chars = ["", ...[...new Set(Array.from(text))].sort()];
  return { chars, ids: new Map(chars.map((c, i) => [c, i])) };
}

/** The text named by the data statement (or --data). */
export function readText(spec: DataSpec, io: DataIO, override?: string): string {
  const file = spec.args._0;
  if (typeof file?.value !== "string") throw new DataError('text needs a file first, such as text("../data/moby-dick.txt")', spec.span);
  const path = override ?? file.value;
  try {
    return io.readText(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as Error).message}`, override ? undefined : file.span);
  }
}

export function textData(spec: DataSpec, manifest: Manifest, io: DataIO, override?: string): Split {
  const [input, target] = ["tgt_in", "tgt_out"].map((name) => manifest.inputs.find((i) => i.name === name));
  if (input?.dtype !== "i32" || target?.dtype !== "i32" || input.shape[0] !== target.shape[0]) {
    throw new DataError("text feeds token inputs tgt_in and tgt_out of one length: `input tgt_in: tokens(length, vocab: N)`", spec.span);
  }
  const text = Array.from(readText(spec, io, override));
  const vocab = charVocab(text.join(""));
  if ((input.classes ?? 0) < vocab.chars.length)
    throw new DataError(`the text has ${vocab.chars.length - 1} distinct characters, so the vocabulary must be at least ${vocab.chars.length}`, spec.span);
  const length = input.shape[0];
  const stride = (spec.args.stride?.value as number | undefined) ?? length;
  const fraction = (spec.args.test?.value as number | undefined) ?? 0.1;
  if (!Number.isInteger(stride) || stride < 1) throw new DataError("`stride` must be a whole number >= 1", spec.args.stride?.span);
  if (!(fraction > 0 && fraction < 1)) throw new DataError("`test` must be a fraction in (0, 1)", spec.args.test?.span);
  const ids = Int32Array.from(text, (c) => vocab.ids.get(c) ?? 0);
  const cut = Math.floor(ids.length * (1 - fraction));
  return { train: windows(ids.subarray(0, cut), length, stride), test: windows(ids.subarray(cut), length, length) };
}

/** Every window of length + 1 characters starting at multiples of stride: tgt_in its first length, tgt_out its last. */
function windows(ids: Int32Array, length: number, stride: number): Dataset {
  const count = Math.max(0, Math.floor((ids.length - length - 1) / stride) + 1);
  const tgt_in = new Int32Array(count * length);
  const tgt_out = new Int32Array(count * length);
  for (let r = 0; r < count; r++) {
    tgt_in.set(ids.subarray(r * stride, r * stride + length), r * length);
    tgt_out.set(ids.subarray(r * stride + 1, r * stride + length + 1), r * length);
  }
  return { count, columns: { tgt_in, tgt_out } };
}

/** The cross-entropy (nats per character) of the held-out text under the training text's character frequencies. */
export function unigramLoss(split: Split): number {
  const counts = new Map<number, number>();
  for (const id of split.train.columns.tgt_out) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = split.train.columns.tgt_out.length;
  const held = split.test?.columns.tgt_out ?? new Int32Array();
  let loss = 0;
  for (const id of held) loss -= Math.log(((counts.get(id) ?? 0) + 1) / (total + counts.size));
  return loss / held.length;
}

/**
 * Continues `prompt` by `count` characters: each step runs the model on the
 * last `length` characters and draws the next from softmax(logits / temperature).
 */
export function generate(model: Model, vocab: CharVocab, prompt: string, count: number, temperature: number, rng: Rng): string {
  const length = model.manifest.inputs.find((i) => i.name === "tgt_in")?.shape[0] ?? 0;
  const classes = model.manifest.outputs[0].shape.at(-1) ?? 0;
  const ids = Array.from(prompt, (c) => vocab.ids.get(c) ?? 0).filter((id) => id > 0);
  if (ids.length === 0) ids.push(vocab.ids.get(" ") ?? 1);
  for (let step = 0; step < count; step++) {
    const window = ids.slice(-length);
    const tgt_in = new Int32Array(length);
    tgt_in.set(window);
    const logits = model.predict({ count: 1, columns: { tgt_in } }).subarray((window.length - 1) * classes, window.length * classes);
    const top = Math.max(...logits);
    const weights = Array.from(logits, (z, j) => (j === 0 || j >= vocab.chars.length ? 0 : Math.exp((z - top) / temperature)));
    // the first id whose running total of weights passes a uniform draw
    let remaining = rng.uniform() * weights.reduce((a, b) => a + b, 0);
    let next = 1;
    for (; next < weights.length - 1; next++) {
      remaining -= weights[next];
      if (remaining <= 0) break;
    }
    ids.push(next);
  }
  return ids.map((id) => vocab.chars[id]).join("");
}
