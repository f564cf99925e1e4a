// Elaboration: blocks expand with their arguments and defaults, repeat
// stacks them, residual additions work, parameters get stable dotted names,
// and every node keeps the span of the text it came from.

import { describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/index.ts";
import { Rng } from "../../src/runtime/random.ts";
import { compileModel, randomData } from "../helpers.ts";

const residual = `
block layer(x, width, act: tanh) {
  h = dense(x, width, activation: act)
  return x + dense(h, 4)          # a residual connection
}
model deep {
  input x: [4]
  input t: [4]
  y = x
  repeat 3 { y = layer(y, 8) }
  y = layer(y, 2, act: relu)
  loss mse(y, t)
  train { optimizer: sgd(lr: 0.05), batch: 8, epochs: 200, seed: 3 }
}`;

describe("blocks and repeat", () => {
  it("expand with arguments, defaults and unique parameter names", () => {
    const result = compileGraph(residual, { file: "deep.nn" });
    if (!result.ok) throw new Error(result.diagnostics[0].message);
    const g = result.graph;
    const params = g.params.map((p) => `${g.nodes[p.node].label}[${g.nodes[p.node].shape}]`);
    expect(params).toEqual([
      ...["layer", "layer_1", "layer_2"].flatMap((b) => [`${b}.h.w[4,8]`, `${b}.h.b[8]`, `${b}.dense.w[8,4]`, `${b}.dense.b[4]`]),
      "layer_3.h.w[4,2]",
      "layer_3.h.b[2]",
      "layer_3.dense.w[2,4]",
      "layer_3.dense.b[4]",
    ]);
    expect(g.nodes.filter((n) => n.op === "tanh")).toHaveLength(3);
    expect(g.nodes.filter((n) => n.op === "relu")).toHaveLength(1);
  });

  it("train: a residual stack learns a fixed random linear map", async () => {
    const { model } = await compileModel(residual);
    const rng = new Rng(11);
    const data = randomData(model.manifest, 64, rng);
    const x = data.columns.x as Float32Array;
    const t = data.columns.t as Float32Array;
    const m = Array.from({ length: 16 }, () => rng.normal() / 2);
    for (let r = 0; r < 64; r++) for (let j = 0; j < 4; j++) t[r * 4 + j] = [0, 1, 2, 3].reduce((s, k) => s + x[r * 4 + k] * m[k * 4 + j], 0);
    const reports = model.fit(data);
    expect(reports[reports.length - 1].loss).toBeLessThan(reports[0].loss / 20);
  });
});

describe("spans", () => {
  it("every node points at the text it came from", () => {
    const text = "model m {\n  input x: [2]\n  input t: [1]\n  y = x |> dense(1) |> sigmoid\n  loss mse(y, t)\n}";
    const result = compileGraph(text, { file: "m.nn" });
    if (!result.ok) throw new Error(result.diagnostics[0].message);
    const at = (op: string) => {
      const node = result.graph.nodes.find((n) => n.op === op);
      const { start, end } = node?.span ?? { start: { offset: 0 }, end: { offset: 0 } };
      return text.slice(start.offset, end.offset);
    };
    expect(at("input")).toBe("input x: [2]");
    expect(at("matmul")).toBe("x |> dense(1)");
    expect(at("sigmoid")).toBe("x |> dense(1) |> sigmoid");
    expect(at("mse")).toBe("mse(y, t)");
    // gradient nodes inherit the span of the node they differentiate
    expect(at("sigmoid_grad")).toBe("x |> dense(1) |> sigmoid");
  });
});

describe("nested blocks", () => {
  it("name their layers by the path of block calls, once each", () => {
    const text = `block inner(v) { return dense(v, 1) }
block mid(v) { return inner(v) + inner(v) }
block outer(v) { return mid(v) }
model m { input x: [2]  input t: [1]  loss mse(outer(x), t) }`;
    const result = compileGraph(text, { file: "m.nn" });
    if (!result.ok) throw new Error(result.diagnostics[0].message);
    const g = result.graph;
    expect(g.params.map((p) => g.nodes[p.node].label)).toEqual([
      "outer.mid.inner.dense.w",
      "outer.mid.inner.dense.b",
      "outer.mid.inner_1.dense.w",
      "outer.mid.inner_1.dense.b",
    ]);
  });
});
