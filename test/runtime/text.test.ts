// Character-level language modelling: windows of the bundled text shifted by
// one character, a small decoder-only model that learns well below the
// unigram baseline, and seeded sampling that continues a prompt.

import { describe, expect, it } from "vitest";
import { filesBeside } from "../../src/cli/files.ts";
import { loadData } from "../../src/runtime/data.ts";
import type { Manifest } from "../../src/runtime/manifest.ts";
import { Rng } from "../../src/runtime/random.ts";
import { charVocab, generate, readText, unigramLoss } from "../../src/runtime/text.ts";
import { compileModel } from "../helpers.ts";

const nnFile = new URL("../../examples/gpt.nn", import.meta.url).pathname;
const small = `block gpt_block(x) {
  h = layernorm(x)
  x = x + attention(h, h, h, heads: 2, causal: true)
  return x + ffn(layernorm(x), 64)
}
model tiny_gpt {
  input tgt_in: tokens(32, vocab: 80)
  input tgt_out: tokens(32, vocab: 80)
  x = positional(embedding(tgt_in, 32), learned: true)
  x = gpt_block(x)
  loss softmax_cross_entropy(dense(layernorm(x), 80), tgt_out)
  data text("../data/moby-dick.txt", stride: 16, test: 0.1)
  train { optimizer: adam(lr: 0.003), batch: 32, epochs: 1, seed: 2 }
}`;

const vocabOf = (manifest: Manifest) => {
  if (!manifest.data) throw new Error("the model has no data statement");
  return charVocab(readText(manifest.data, filesBeside(nnFile)));
};

describe("text", () => {
  it("makes windows whose target is the input one character later", async () => {
    const { model } = await compileModel(small);
    const split = loadData(model.manifest, filesBeside(nnFile));
    const { tgt_in, tgt_out } = split.train.columns;
    expect(Array.from(tgt_out.subarray(0, 31))).toEqual(Array.from(tgt_in.subarray(1, 32)));
    const vocab = vocabOf(model.manifest);
    expect(Array.from(tgt_in.subarray(0, 15), (id) => vocab.chars[id]).join("")).toBe("CHAPTER 1. Loom");
    expect(split.test?.count).toBeGreaterThan(0);
  });

  it("a small model learns well below the unigram baseline and continues a prompt", async () => {
    const { model } = await compileModel(small);
    const split = loadData(model.manifest, filesBeside(nnFile));
    model.fit(split.train, { test: split.test });
    const held = model.evaluate(split.test ?? split.train).loss;
    expect(held).toBeLessThan(0.85 * unigramLoss(split));
    const vocab = vocabOf(model.manifest);
    const text = generate(model, vocab, "Call me", 40, 0.8, new Rng(3));
    expect(text.startsWith("Call me")).toBe(true);
    expect(text).toHaveLength(47);
    expect(generate(model, vocab, "Call me", 40, 0.8, new Rng(3))).toBe(text);
  });
});
