// Initialisers draw from the distributions their papers give, and the same
// seed gives the same weights bit for bit.

import { describe, expect, it } from "vitest";
import { initialValues } from "../../src/runtime/init.ts";
import { Rng } from "../../src/runtime/random.ts";
import { compileModel } from "../helpers.ts";

const stats = (v: Float32Array) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), max: Math.max(...v.map(Math.abs)) };
};

describe("initialisers", () => {
  it("glorot is U(-l, l) with l = sqrt(6 / (fan_in + fan_out))", () => {
    const limit = Math.sqrt(6 / (300 + 100));
    const s = stats(initialValues({ kind: "glorot" }, 30000, 300, 100, new Rng(1)));
    expect(s.max).toBeLessThanOrEqual(limit);
    expect(s.max).toBeGreaterThan(0.99 * limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
  });

  it("he is N(0, 2 / fan_in); uniform and normal take their arguments", () => {
    expect(stats(initialValues({ kind: "he" }, 30000, 50, 10, new Rng(2))).std).toBeCloseTo(Math.sqrt(2 / 50), 2);
    const u = stats(initialValues({ kind: "uniform", low: 2, high: 4 }, 30000, 1, 1, new Rng(3)));
    expect(u.mean).toBeCloseTo(3, 1);
    expect(stats(initialValues({ kind: "normal", std: 0.5 }, 30000, 1, 1, new Rng(4))).std).toBeCloseTo(0.5, 2);
  });

  it("the same seed gives the same weights; another seed others", async () => {
    const { model } = await compileModel("model m { input x: [3]  input t: [2]  loss mse(dense(x, 2, init: he), t)  train { seed: 9 } }");
    const first = model.getWeights();
    model.initialize(10);
    expect(model.getWeights()).not.toEqual(first);
    model.initialize(9);
    expect(model.getWeights()).toEqual(first);
  });
});
