// Learning-rate schedules: their shapes at the points that define them.

import { describe, expect, it } from "vitest";
import { learningRate } from "../../src/runtime/schedule.ts";

describe("learning-rate schedules", () => {
  it("constant", () => {
    expect(learningRate(0.1, { kind: "constant" }, 500, 1000)).toBe(0.1);
  });

  it("cosine: linear warm-up, then half a cosine down to 0 at the last step", () => {
    const cosine = { kind: "cosine", warmup: 10 } as const;
    expect(learningRate(1, cosine, 0, 110)).toBeCloseTo(0.1);
    expect(learningRate(1, cosine, 9, 110)).toBeCloseTo(1);
    expect(learningRate(1, cosine, 60, 110)).toBeCloseTo(0.5);
    expect(learningRate(1, cosine, 110, 110)).toBeCloseTo(0);
  });

  it("rsqrt: the original Transformer's, peaking at lr at the end of warm-up, then 1 / sqrt(step)", () => {
    const rsqrt = { kind: "rsqrt", warmup: 4 } as const;
    expect(learningRate(1, rsqrt, 0, 100)).toBeCloseTo(0.25);
    expect(learningRate(1, rsqrt, 3, 100)).toBeCloseTo(1);
    expect(learningRate(1, rsqrt, 15, 100)).toBeCloseTo(0.5);
  });
});
