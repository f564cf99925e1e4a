// Sequence data sources: reversal pairs are exact reversals behind BOS, the
// translation set fills src / tgt_in / tgt_out, and a model without those
// inputs is told what is missing.

import { describe, expect, it } from "vitest";
import { DataError, loadData } from "../../src/runtime/data.ts";
import { BOS, decodeTarget, EOS } from "../../src/runtime/translation.ts";
import { compileModel } from "../helpers.ts";

const noFiles = {
  readText: (): string => {
    throw new Error("no files");
  },
  readBytes: (): Uint8Array => {
    throw new Error("no files");
  },
};
const seq2seq = (source: string, length = 6, vocab = 10) => `model m {
  input src: tokens(${length}, vocab: ${vocab})
  input tgt_in: tokens(${length}, vocab: ${vocab})
  input tgt_out: tokens(${length}, vocab: ${vocab})
  loss softmax_cross_entropy(dense(embedding(tgt_in, 4) + embedding(src, 4), ${vocab}), tgt_out)
  data ${source}
}`;

describe("reverse", () => {
  it("targets are the sources reversed, shifted behind BOS for the decoder input", async () => {
    const { model } = await compileModel(seq2seq("reverse(count: 50, test: 5)"));
    const { train, test } = loadData(model.manifest, noFiles);
    expect([train.count, test?.count]).toEqual([50, 5]);
    const { src, tgt_in, tgt_out } = train.columns;
    for (let r = 0; r < 50; r++) {
      const s = Array.from(src.subarray(r * 6, r * 6 + 6));
      expect(Array.from(tgt_out.subarray(r * 6, r * 6 + 6))).toEqual([...s].reverse());
      expect(Array.from(tgt_in.subarray(r * 6, r * 6 + 6))).toEqual([BOS, ...[...s].reverse().slice(0, 5)]);
      expect(Math.min(...s)).toBeGreaterThanOrEqual(2);
    }
  });

  it("needs inputs named src, tgt_in and tgt_out", async () => {
    const { model } = await compileModel(seq2seq("reverse()").replaceAll("tgt_in", "dec"));
    expect(() => loadData(model.manifest, noFiles)).toThrow(DataError);
    expect(() => loadData(model.manifest, noFiles)).toThrow("`tgt_in` should be `input tgt_in: tokens(length, vocab: N)`");
  });
});

describe("translation", () => {
  it("fills the three inputs, the chapter's sentence among the training rows", async () => {
    const { model } = await compileModel(seq2seq("translation()", 16, 48));
    const { train, test } = loadData(model.manifest, noFiles);
    expect(train.count).toBeGreaterThan(test?.count ?? 0);
    const rows = Array.from({ length: train.count }, (_, r) => decodeTarget(train.columns.tgt_out.subarray(r * 16, (r + 1) * 16)));
    expect(rows).toContain("我在重庆");
    expect(train.columns.tgt_out.subarray(0, 16)).toContain(EOS);
  });

  it("refuses a vocabulary too small for the set", async () => {
    const { model } = await compileModel(seq2seq("translation()", 16, 20));
    expect(() => loadData(model.manifest, noFiles)).toThrow(/needs a vocabulary of at least \d+ tokens/);
  });
});
