// Fusion changes how values move, never what they are: every example, fused
// and unfused, trains from the same weights on the same random data to the
// same weights, bit for bit. And fusion does fuse: fewer kernels, values that
// never touch memory.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fuse } from "../../compiler/emit/fusion.ts";
import { compileGraph } from "../../compiler/index.ts";
import { Rng } from "../../src/runtime/random.ts";
import { compileModel, randomData } from "../helpers.ts";

const examples = readdirSync("examples").filter((f) => f.endsWith(".nn"));

describe("fused and unfused graphs agree", () => {
  for (const file of examples) {
    it(file, async () => {
      const text = readFileSync(`examples/${file}`, "utf8");
      const weights = [];
      for (const fused of [false, true]) {
        const { compiled, model } = await compileModel(text, file, { fuse: fused, optimize: 0 });
        const data = randomData(compiled.manifest, compiled.manifest.batch * 2 + 1, new Rng(11));
        model.initialize(3);
        const [report] = model.fit(data, { epochs: 1, seed: 3 });
        weights.push({ loss: report.loss, ...model.getWeights() });
      }
      expect(weights[1]).toEqual(weights[0]);
    });
  }

  it("fuses: the CNN's bias and ReLU run in the convolution's epilogue, and fewer kernels run", () => {
    const result = compileGraph(readFileSync("examples/cnn.nn", "utf8"), { file: "cnn.nn" });
    if (!result.ok) throw new Error(result.diagnostics[0].message);
    const graph = result.graph;
    const [fused, unfused] = [fuse(graph), fuse(graph, false)];
    const count = (f: typeof fused) => f.forward.length + f.backward.length;
    expect(count(fused)).toBeLessThan(0.8 * count(unfused));
    const conv = fused.forward.find((k) => graph.nodes[k.root].op === "conv2d");
    expect(conv?.members.map((id) => graph.nodes[id].op)).toEqual(["bias_add", "relu"]);
    // ReLU's derivative reads its output, so the biased value before it never reaches memory
    const biased = conv?.members[0] as number;
    expect(fused.internal.has(biased)).toBe(true);
  });
});
