// Data sources: inline rows, function grids and CSV files load into the
// model's inputs; wrong data is refused with a message naming where.

import { describe, expect, it } from "vitest";
import { DataError, loadData } from "../../src/runtime/data.ts";
import { compileModel } from "../helpers.ts";

const iris = (extra = "") => `model m {
  input x: [2]
  input kind: class(2)
  loss softmax_cross_entropy(dense(x, 2), kind)
  data csv("flowers.csv", x: [a, b], kind: kind${extra})
}`;
const csvText = "a,b,kind\n1,2,rose\n3,4,lily\n5,6,rose\n7,8,lily\n";
const io = (text: string) => ({
  readText: () => text,
  readBytes: () => {
    throw new Error("no binary files here");
  },
});

async function load(model: string, text = csvText) {
  const { model: m } = await compileModel(model);
  return () => loadData(m.manifest, io(text));
}

describe("csv", () => {
  it("reads columns by name and numbers class names in sorted order", async () => {
    const split = (await load(iris()))();
    expect(Array.from(split.train.columns.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(split.train.columns.kind)).toEqual([1, 0, 1, 0]);
    expect(split.classNames).toEqual(["lily", "rose"]);
    expect(split.test).toBeUndefined();
  });

  it("holds out a stratified test split and normalises with training statistics", async () => {
    const split = (await load(iris(", test: 0.5, normalize: true")))();
    expect(split.train.count).toBe(2);
    expect(split.test?.count).toBe(2);
    expect(Array.from(split.test?.columns.kind ?? []).sort()).toEqual([0, 1]);
    const x = split.train.columns.x;
    expect(x[0] + x[2]).toBeCloseTo(0, 6);
  });

  it("refuses a missing column, a non-number, and too many classes", async () => {
    await expect(load(iris().replace("[a, b]", "[a, c]"))).resolves.toThrow("flowers.csv has no column `c`; its columns are a, b, kind");
    const nan = await load(iris(), csvText.replace("3,4", "3,x"));
    expect(nan).toThrow(DataError);
    expect(nan).toThrow("`x` in column `b` is not a number");
    try {
      nan();
    } catch (e) {
      expect((e as DataError).line).toBe(3);
    }
    await expect(load(iris(), `${csvText}9,9,tulip\n`)).resolves.toThrow("label `tulip` is class 2, but the model has 2 classes");
  });

  it("refuses a truncated file, a ragged line and an empty cell, naming the line (blank lines counted)", async () => {
    const lineOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as DataError).line, (e as DataError).message];
      }
    };
    const truncated = await load(iris(), csvText.slice(0, csvText.lastIndexOf(",")));
    expect(lineOf(truncated)).toEqual([5, "this line has 2 fields but the header has 3 (is the file truncated, or a quote missing?)"]);
    const ragged = await load(iris(), csvText.replace("3,4,lily", "\n3,4,lily,extra"));
    expect(lineOf(ragged)).toEqual([4, "this line has 4 fields but the header has 3 (is the file truncated, or a quote missing?)"]);
    const empty = await load(iris(), csvText.replace("5,6,rose", "\n\n5,,rose"));
    expect(lineOf(empty)).toEqual([6, "column `b` is empty"]);
  });
});

describe("inline and function", () => {
  it("inline rows must match the input's shape", async () => {
    const model = (x: string) => `model m { input x: [2]  input t: [1]  loss mse(dense(x, 1), t)  data inline(x: ${x}, t: [0, 1]) }`;
    expect((await load(model("[[1, 2], [3, 4]]")))().train.count).toBe(2);
    await expect(load(model("[[1, 2], [3]]"))).resolves.toThrow("sample 2 of `x` should be 2 number(s) (shape [2])");
    await expect(load(model("[[1, 2]]"))).resolves.toThrow("`t` has 2 samples but `x` has 1");
  });

  it("function sources sample t = f(x) on an even grid", async () => {
    const m = "model m { input x: [1]  input t: [1]  loss mse(dense(x, 1), t)  data function(x: [0, 1], t: square, n: 5) }";
    const split = (await load(m))();
    expect(Array.from(split.train.columns.t)).toEqual([0, 0.0625, 0.25, 0.5625, 1]);
    await expect(load(m.replace("square", "cube"))).resolves.toThrow("`cube` is not a known function");
  });
});
