// Greedy decoding for encoder-decoder models (inputs src, tgt_in; the first
// output holds logits [S, V] per sample): start every target with BOS, run the
// model, append each sequence's most likely next token, and repeat until every
// sequence has produced EOS or the length is full. One forward pass per
// position, for a whole batch of sentences at once.

import type { Dataset, Model } from "./model.ts";
import { BOS, decodeTarget, EOS, encodeSource } from "./translation.ts";

/** src: [count * S] token ids. Returns the generated target ids [count * S] (after BOS, EOS included). */
export function greedyDecode(model: Model, src: Int32Array, count: number): Int32Array {
  const steps = model.manifest.inputs.find((i) => i.name === "tgt_in")?.shape[0] ?? 0;
  const vocab = (model.manifest.outputs[0].shape.at(-1) ?? 0) as number;
  const tgt_in = new Int32Array(count * steps);
  const generated = new Int32Array(count * steps);
  const done = new Uint8Array(count);
  for (let r = 0; r < count; r++) tgt_in[r * steps] = BOS;
  const data: Dataset = { count, columns: { src, tgt_in } };
  for (let i = 0; i < steps && done.some((d) => !d); i++) {
    const logits = model.predict(data);
    for (let r = 0; r < count; r++) {
      if (done[r]) continue;
      const row = logits.subarray((r * steps + i) * vocab, (r * steps + i + 1) * vocab);
      let best = 0;
      for (let j = 1; j < vocab; j++) if (row[j] > row[best]) best = j;
      generated[r * steps + i] = best;
      if (best === EOS) done[r] = 1;
      else if (i + 1 < steps) tgt_in[r * steps + i + 1] = best;
    }
  }
  return generated;
}

/** English sentences to Chinese with a model trained on the translation set. */
export function translate(model: Model, sentences: string[]): string[] {
  const length = model.manifest.inputs.find((i) => i.name === "src")?.shape[0] ?? 0;
  const src = new Int32Array(sentences.length * length);
  for (const [r, sentence] of sentences.entries()) src.set(encodeSource(sentence, length), r * length);
  const out = greedyDecode(model, src, sentences.length);
  return sentences.map((_, r) => decodeTarget(out.subarray(r * length, (r + 1) * length)));
}
