// The toy English -> Chinese data set: the chapter's pair is in training and
// round-trips, templates reorder and agree, the held-out pairs are new
// combinations of known words, and the columns are deterministic.

import { describe, expect, it } from "vitest";
import {
  BOS,
  characters,
  decodeTarget,
  EOS,
  encodeSource,
  encodeTarget,
  PAD,
  sourceVocab,
  targetVocab,
  translationData,
  translationLength,
  translationPairs,
  UNK,
  words,
} from "../../src/runtime/translation.ts";

const { train, test } = translationPairs();
const zhOf = new Map([...train, ...test].map((p) => [p.en, p.zh]));
const ids = (a: Int32Array) => Array.from(a);

describe(`translation pairs (${train.length} train, ${test.length} test)`, () => {
  it("has 1048 training and 152 test pairs, all distinct, about 13% held out", () => {
    expect(train.length).toBe(1048);
    expect(test.length).toBe(152);
    expect(zhOf.size).toBe(1200);
    expect(new Set([...train, ...test].map((p) => p.zh)).size).toBe(1200);
    expect(test.length / (train.length + test.length)).toBeGreaterThan(0.1);
    expect(test.length / (train.length + test.length)).toBeLessThan(0.15);
  });

  it("the chapter's example is a training pair", () => {
    expect(train).toContainEqual({ en: "I am in CQ", zh: "我在重庆" });
  });

  it("reorders: the place moves before the verb, the time before the place", () => {
    expect(zhOf.get("I work in Beijing")).toBe("我在北京工作");
    expect(zhOf.get("the teacher reads at home every day")).toBe("老师每天在家看书");
    expect(zhOf.get("they do not study at school")).toBe("他们不在学校学习");
    expect(zhOf.get("my friend lives in Shanghai")).toBe("我的朋友住在上海");
  });

  it("English agrees with the subject", () => {
    expect(zhOf.get("he works in Beijing")).toBe("他在北京工作");
    expect(zhOf.get("she studies in the park")).toBe("她在公园学习");
    expect(zhOf.get("they are in CQ")).toBe("他们在重庆");
    expect(zhOf.get("the teacher is at school")).toBe("老师在学校");
    expect(zhOf.get("my friend does not eat at home")).toBe("我的朋友不在家吃饭");
    for (const wrong of ["he work in Beijing", "I works in Beijing", "they is in CQ", "I is in CQ", "he are in CQ", "we does not play in CQ"])
      expect(zhOf.has(wrong)).toBe(false);
  });

  it("no test pair is in training, and every test word and character is", () => {
    const seen = new Set(train.map((p) => p.en));
    expect(test.filter((p) => seen.has(p.en))).toEqual([]);
    const trainWords = new Set(train.flatMap((p) => words(p.en)));
    const trainChars = new Set(train.flatMap((p) => characters(p.zh)));
    expect(test.flatMap((p) => words(p.en)).filter((w) => !trainWords.has(w))).toEqual([]);
    expect(test.flatMap((p) => characters(p.zh)).filter((c) => !trainChars.has(c))).toEqual([]);
    // Held out by (verb, place): e.g. all of "... in the park" with work, but work and the park still train.
    expect(test).toContainEqual({ en: "he works in the park", zh: "他在公园工作" });
    expect(train).toContainEqual({ en: "he works in Beijing", zh: "他在北京工作" });
    expect(train).toContainEqual({ en: "he plays in the park", zh: "他在公园玩" });
  });
});

describe("vocabularies and encoding", () => {
  it("are small, sorted after the four specials, and invert each other", () => {
    for (const v of [sourceVocab, targetVocab]) {
      expect(v.tokens.length).toBeLessThan(64);
      expect(v.tokens.slice(0, 4)).toEqual(["<pad>", "<bos>", "<eos>", "<unk>"]);
      expect(v.tokens.slice(4)).toEqual([...v.tokens.slice(4)].sort());
      v.tokens.forEach((t, i) => {
        expect(v.ids.get(t)).toBe(i);
      });
    }
    expect([PAD, BOS, EOS, UNK]).toEqual([0, 1, 2, 3]);
    expect(sourceVocab.tokens.length).toBe(44);
    expect(targetVocab.tokens.length).toBe(42);
    expect(translationLength).toBe(13);
  });

  it("the chapter's pair encodes and decodes round trip", () => {
    const src = encodeSource("I am in CQ", 8);
    expect(ids(src)).toEqual([...["I", "am", "in", "CQ"].map((w) => sourceVocab.ids.get(w)), EOS, PAD, PAD, PAD]);
    const { input, output } = encodeTarget("我在重庆", 8);
    const zh = ["我", "在", "重", "庆"].map((c) => targetVocab.ids.get(c));
    expect(ids(input)).toEqual([BOS, ...zh, PAD, PAD, PAD]);
    expect(ids(output)).toEqual([...zh, EOS, PAD, PAD, PAD]);
    expect(decodeTarget(output)).toBe("我在重庆");
    expect(decodeTarget(input)).toBe("我在重庆");
    expect(decodeTarget([...zh.slice(0, 2), EOS, ...zh.slice(2)] as number[])).toBe("我在");
  });

  it("unknown words become UNK; too long a sentence is refused", () => {
    expect(ids(encodeSource("I am in Paris.", 6))).toEqual([sourceVocab.ids.get("I"), sourceVocab.ids.get("am"), sourceVocab.ids.get("in"), UNK, EOS, PAD]);
    expect(ids(encodeTarget("我在巴黎", 6).output).slice(2, 4)).toEqual([UNK, UNK]);
    expect(decodeTarget([UNK])).toBe("<unk>");
    expect(() => encodeSource("I am in CQ", 4)).toThrow('"I am in CQ" has 4 tokens; with its BOS/EOS that is 5, more than the length 4');
    expect(() => translationData(translationLength - 1)).toThrow("too short");
  });
});

describe("translationData", () => {
  it("gives row-major columns that decode back to the pairs", () => {
    const L = 16;
    const data = translationData(L);
    expect(data.train.count).toBe(train.length);
    expect(data.test.count).toBe(test.length);
    for (const set of [data.train, data.test]) for (const col of Object.values(set.columns)) expect(col.length).toBe(set.count * L);
    const row = train.findIndex((p) => p.en === "I am in CQ");
    expect(ids(data.train.columns.src.subarray(row * L, (row + 1) * L))).toEqual(ids(encodeSource("I am in CQ", L)));
    test.forEach((p, r) => {
      expect(decodeTarget(data.test.columns.tgt_out.subarray(r * L, (r + 1) * L))).toBe(p.zh);
      expect(decodeTarget(data.test.columns.tgt_in.subarray(r * L, (r + 1) * L))).toBe(p.zh);
      const src = data.test.columns.src.subarray(r * L, (r + 1) * L);
      expect(Array.from(src.subarray(0, src.indexOf(EOS)), (i) => sourceVocab.tokens[i]).join(" ")).toBe(p.en);
    });
  });

  it("is the same on every call", () => {
    const a = translationData(translationLength);
    const b = translationData(translationLength);
    expect(ids(a.train.columns.tgt_out)).toEqual(ids(b.train.columns.tgt_out));
    expect(ids(a.test.columns.src)).toEqual(ids(b.test.columns.src));
    expect(translationPairs()).toEqual(translationPairs());
  });
});
