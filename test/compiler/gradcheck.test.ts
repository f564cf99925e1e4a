// Every op with a gradient rule: autodiff through the op table agrees with
// central finite differences of the float64 reference interpreter.

import { describe, expect, it } from "vitest";
import { append } from "../../compiler/ir/build.ts";
import { defaultTrain, emptyGraph, type Graph, type Node } from "../../compiler/ir/graph.ts";
import { Interpreter } from "../../compiler/ir/interp.ts";
import { type OpName, ops } from "../../compiler/ir/ops.ts";
import { autodiff } from "../../compiler/passes/autodiff.ts";
import { Rng } from "../../src/runtime/random.ts";

const B = 3;
type Gen = "any" | "positive" | "distribution" | "label";
interface Operand {
  shape: number[];
  gen: Gen;
  batched?: boolean;
}
interface Case {
  op: OpName;
  operands: Operand[];
  attrs?: Record<string, unknown>;
  /** Real rows (losses mask the rest). */
  n?: number;
}

const x = (gen: Gen = "any"): Operand => ({ shape: [B, 4], gen });
const img = (c: number, h: number, w: number): Operand => ({ shape: [B, c, h, w], gen: "any" });
const cases: Case[] = [
  { op: "add", operands: [x(), x()] },
  { op: "add", operands: [x(), { shape: [4], gen: "any", batched: false }] },
  { op: "sub", operands: [x(), { shape: [4], gen: "any", batched: false }] },
  { op: "mul", operands: [x(), x()] },
  { op: "mul", operands: [x(), { shape: [4], gen: "any", batched: false }] },
  { op: "div", operands: [x(), x("positive")] },
  { op: "div", operands: [x(), { shape: [4], gen: "positive", batched: false }] },
  { op: "neg", operands: [x()] },
  { op: "identity", operands: [x()] },
  { op: "sigmoid", operands: [x()] },
  { op: "tanh", operands: [x()] },
  { op: "relu", operands: [x()] },
  { op: "exp", operands: [x()] },
  { op: "log", operands: [x("positive")] },
  { op: "softmax", operands: [x()] },
  {
    op: "matmul",
    operands: [
      { shape: [B, 5], gen: "any" },
      { shape: [5, 3], gen: "any", batched: false },
    ],
  },
  { op: "mse", operands: [x(), x()] },
  { op: "mse", operands: [x(), x()], n: 2 },
  { op: "label_ce", operands: [x(), { shape: [B], gen: "label" }] },
  { op: "label_ce", operands: [x(), { shape: [B], gen: "label" }], n: 2 },
  { op: "softmax_ce", operands: [x(), x("distribution")] },
  { op: "cross_entropy", operands: [x("distribution"), x("distribution")] },
  { op: "kl_div", operands: [x("distribution"), x("distribution")], n: 2 },
  // images [B, C, H, W]
  { op: "conv2d", operands: [img(2, 5, 5), { shape: [3, 2, 3, 3], gen: "any", batched: false }], attrs: { stride: 1, pads: [1, 1, 1, 1] } },
  { op: "conv2d", operands: [img(2, 6, 5), { shape: [3, 2, 2, 3], gen: "any", batched: false }], attrs: { stride: 2, pads: [0, 1, 1, 0] } },
  { op: "conv2d", operands: [img(1, 4, 4), { shape: [2, 1, 3, 3], gen: "any", batched: false }], attrs: { stride: 1, pads: [0, 0, 0, 0] }, n: 2 },
  { op: "bias_add", operands: [img(3, 2, 2), { shape: [3], gen: "any", batched: false }] },
  { op: "maxpool2d", operands: [img(2, 4, 4)], attrs: { window: 2, stride: 2 } },
  { op: "maxpool2d", operands: [img(1, 5, 5)], attrs: { window: 3, stride: 2 } },
  { op: "avgpool2d", operands: [img(2, 4, 4)], attrs: { window: 2, stride: 2 } },
  { op: "avgpool2d", operands: [img(1, 5, 5)], attrs: { window: 3, stride: 2 } },
  { op: "reshape", operands: [img(2, 3, 2)], attrs: { to: [B, 12] } },
  // sequences [B, S, d], tokens [B, S], attention scores [B, heads, S, S]
  {
    op: "matmul",
    operands: [
      { shape: [B, 3, 5], gen: "any" },
      { shape: [5, 2], gen: "any", batched: false },
    ],
  },
  {
    op: "embedding",
    operands: [
      { shape: [B, 3], gen: "label" },
      { shape: [4, 5], gen: "any", batched: false },
    ],
  },
  {
    op: "bmm",
    operands: [
      { shape: [B, 2, 3, 4], gen: "any" },
      { shape: [B, 2, 4, 5], gen: "any" },
    ],
  },
  {
    op: "bmm",
    operands: [
      { shape: [B, 2, 3, 4], gen: "any" },
      { shape: [B, 2, 5, 4], gen: "any" },
    ],
    attrs: { tb: true },
  },
  {
    op: "bmm",
    operands: [
      { shape: [B, 2, 4, 3], gen: "any" },
      { shape: [B, 2, 4, 5], gen: "any" },
    ],
    attrs: { ta: true },
  },
  { op: "transpose", operands: [{ shape: [B, 2, 3, 4], gen: "any" }], attrs: { perm: [0, 2, 1, 3] } },
  {
    op: "layernorm",
    operands: [
      { shape: [B, 2, 5], gen: "any" },
      { shape: [5], gen: "any", batched: false },
      { shape: [5], gen: "any", batched: false },
    ],
  },
  // masks filled with -3 rather than -1e9, which would drown the finite differences
  { op: "mean_axis", operands: [{ shape: [B, 3, 4], gen: "any" }], attrs: { axis: 1 } },
  { op: "mean_axis", operands: [{ shape: [B, 3, 4, 2], gen: "any" }], attrs: { axis: 2 } },
  { op: "causal_mask", operands: [{ shape: [B, 2, 3, 3], gen: "any" }], attrs: { fill: -3 } },
  {
    op: "key_mask",
    operands: [
      { shape: [B, 2, 3, 3], gen: "any" },
      { shape: [B, 3], gen: "label" },
    ],
    attrs: { fill: -3 },
  },
  {
    op: "label_ce",
    operands: [
      { shape: [B, 3, 4], gen: "any" },
      { shape: [B, 3], gen: "label" },
    ],
    attrs: { ignore: 0 },
  },
  {
    op: "label_ce",
    operands: [
      { shape: [B, 3, 4], gen: "any" },
      { shape: [B, 3], gen: "label" },
    ],
    attrs: { ignore: 0, smoothing: 0.1 },
    n: 2,
  },
];

/** A graph whose loss is the op itself (for losses) or mse(op(...), random target). */
function caseGraph(c: Case, rng: Rng): { graph: Graph; values: Map<number, Float64Array> } {
  const graph = emptyGraph(c.op, { ...defaultTrain, batch: B });
  const span = { source: "gradcheck", start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
  const values = new Map<number, Float64Array>();
  const leaf = (operand: Operand): number => {
    const label = operand.gen === "label";
    const node: Node = {
      id: graph.nodes.length,
      op: label ? "input" : "param",
      inputs: [],
      shape: operand.shape,
      dtype: label ? "i32" : "f32",
      batched: operand.batched ?? true,
      attrs: label ? { classes: 4 } : {},
      span,
      label: `x${graph.nodes.length}`,
    };
    graph.nodes.push(node);
    if (!label) graph.params.push({ node: node.id, init: { kind: "zeros" }, fanIn: 1, fanOut: 1 });
    values.set(node.id, sample(operand, rng));
    return node.id;
  };
  const add = (op: OpName, inputs: number[], attrs: Record<string, unknown> = {}) => {
    const id = append(graph, op, inputs, attrs, span, op);
    if (typeof id === "string") throw new Error(id);
    return id;
  };
  const out = add(c.op, c.operands.map(leaf), c.attrs);
  graph.loss = graph.nodes[out].shape.length === 0 ? out : add("mse", [out, leaf({ shape: [...graph.nodes[out].shape], gen: "any" })]);
  graph.inputs = graph.nodes.filter((n) => n.op === "input").map((n) => n.id);
  return { graph, values };
}

function sample(operand: Operand, rng: Rng): Float64Array {
  const count = operand.shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(count);
  if (operand.gen === "label") return v.map(() => rng.int(0, 3));
  for (let i = 0; i < count; i++) v[i] = operand.gen === "any" ? 2 * rng.normal() : 0.2 + rng.uniform();
  if (operand.gen === "distribution") {
    const w = operand.shape[operand.shape.length - 1];
    for (let r = 0; r < count / w; r++) {
      const row = v.subarray(r * w, (r + 1) * w);
      const s = row.reduce((a, b) => a + b, 0);
      row.forEach((_, j) => {
        row[j] /= s;
      });
    }
  }
  return v;
}

describe("gradients match central finite differences (float64)", () => {
  const rng = new Rng(123);
  it("covers every op that has a gradient rule", () => {
    const checked = new Set(cases.map((c) => c.op));
    const withGrad = (Object.keys(ops) as OpName[]).filter((op) => ops[op].grad && op !== "const");
    expect(withGrad.filter((op) => !checked.has(op))).toEqual([]);
  });
  for (const c of cases) {
    const label = `${c.op}(${c.operands.map((o) => `[${o.shape}]${o.gen === "any" ? "" : ` ${o.gen}`}`).join(", ")})${c.n ? ` on ${c.n} of ${B} rows` : ""}`;
    it(label, () => {
      const { graph, values } = caseGraph(c, rng);
      expect(autodiff(graph)).toEqual([]);
      const interp = new Interpreter(graph);
      for (const [id, v] of values) interp.values[id].set(v);
      const n = c.n ?? B;
      interp.gradients(n);
      let worst = 0;
      for (const [param, grad] of graph.grads) {
        const w = interp.values[param];
        const analytic = interp.values[grad].slice();
        for (let i = 0; i < w.length; i++) {
          const h = 1e-6 * Math.max(1, Math.abs(w[i]));
          const keep = w[i];
          w[i] = keep + h;
          const up = interp.forward(n);
          w[i] = keep - h;
          const down = interp.forward(n);
          w[i] = keep;
          const numeric = (up - down) / (2 * h);
          worst = Math.max(worst, Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric)));
        }
      }
      expect(graph.grads.size).toBeGreaterThan(0);
      expect(worst).toBeLessThan(1e-6);
    });
  }
});
