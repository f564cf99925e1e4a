// Weight files round-trip exactly; files from another model, truncated or
// corrupt files are refused with a reason, never half-loaded.

import { describe, expect, it } from "vitest";
import { decodeWeights, encodeWeights } from "../../src/runtime/weights.ts";
import { compileModel } from "../helpers.ts";

const source = (units: number) => `model m { input x: [3]  input t: [1]  loss mse(dense(dense(x, ${units}), 1), t) }`;

describe("weights files", async () => {
  const { model } = await compileModel(source(4));
  const bytes = encodeWeights(model.manifest, model.getWeights());

  it("round-trip bit for bit", () => {
    const back = decodeWeights(bytes, model.manifest, "w");
    expect(back).toEqual(model.getWeights());
  });

  it("refuse a truncated file, a bad magic and another model's weights", async () => {
    expect(() => decodeWeights(bytes.subarray(0, bytes.length - 4), model.manifest, "w")).toThrow(
      /^w: expected \d+ bytes, found \d+ \(truncated or corrupt\)$/,
    );
    expect(() => decodeWeights(new TextEncoder().encode("PK\x03\x04 a zip file"), model.manifest, "w")).toThrow("not an nnc weights file");
    const other = await compileModel(source(5));
    expect(() => decodeWeights(bytes, other.model.manifest, "w")).toThrow("the parameters differ from the model's: the file has dense.w[3,4]");
  });
});
