// Weight files round-trip exactly; files from another model, truncated or
// corrupt files (any changed byte) are refused with a reason, never half-loaded. Weights load
// into any model with the same parameters; a checkpoint only into the model
// that wrote it (the same hash).

import { describe, expect, it } from "vitest";
import { decodeCheckpoint, decodeWeights, encodeCheckpoint, encodeWeights } from "../../src/runtime/weights.ts";
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
      "w: its contents do not match their checksum (the file is truncated or corrupt)",
    );
    expect(() => decodeWeights(new TextEncoder().encode("PK\x03\x04 a zip file"), model.manifest, "w")).toThrow("not an nnc weights file");
    const other = await compileModel(source(5));
    expect(() => decodeWeights(bytes, other.model.manifest, "w")).toThrow("the parameters differ from the model's: the file has dense.w[3,4]");
  });

  it("refuse a changed byte anywhere, a damaged header and another format version", () => {
    // every byte of the file, the values and the checksum itself included
    for (let at = 0; at < bytes.length; at++) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x10;
      expect(() => decodeWeights(damaged, model.manifest, "w"), `byte ${at}`).toThrow(/^w: /);
    }
    const flipped = bytes.slice();
    flipped[bytes.length - 8] ^= 1; // the lowest bit of the last value
    expect(() => decodeWeights(flipped, model.manifest, "w")).toThrow("w: its contents do not match their checksum (the file is truncated or corrupt)");
    const version = bytes.slice();
    version[4] = 2;
    expect(() => decodeWeights(version, model.manifest, "w")).toThrow("w: format version 2; this nnc reads version 3");
  });

  it("load into a model whose training settings changed; a checkpoint does not resume there", async () => {
    const retuned = await compileModel(`${source(4).slice(0, -1)} train { optimizer: sgd(lr: 0.5) } }`);
    expect(retuned.model.manifest.hash).not.toBe(model.manifest.hash);
    expect(decodeWeights(bytes, retuned.model.manifest, "w")).toEqual(model.getWeights());
    const checkpoint = encodeCheckpoint(model.manifest, {
      weights: model.getWeights(),
      state: model.trainingState,
      position: { epoch: 1, batch: 0 },
      steps: 0,
      seed: 1,
    });
    expect(decodeCheckpoint(checkpoint, model.manifest, "c").position).toEqual({ epoch: 1, batch: 0 });
    expect(() => decodeCheckpoint(checkpoint, retuned.model.manifest, "c")).toThrow(
      /^c: it was written by another version of model `m` \(model hash [0-9a-f]{12}, now [0-9a-f]{12}\): its layers or training settings have changed since/,
    );
  });
});
