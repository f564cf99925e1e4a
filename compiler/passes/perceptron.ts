// The perceptron learning rule (Rosenblatt 1958), declared rather than derived:
// for y = step(x W + b) and targets t, the update is W += lr x^T (t - y) and
// b += lr sum(t - y). It stores the descent direction x^T (y - t) in
// graph.grads, so the shared update applies W -= lr * direction.
// Afterwards: W and b of the single dense layer have their directions.

import { type Diagnostic, diagnostic } from "../diagnostics.ts";
import { appendChecked } from "../ir/build.ts";
import type { Graph, Node } from "../ir/graph.ts";

export function perceptronRule(graph: Graph): Diagnostic[] {
  const node = (id: number): Node => graph.nodes[id];
  const loss = node(graph.loss);
  const [y, t] = loss.inputs.map(node);
  const z = y.op === "step" ? node(y.inputs[0]) : null;
  const [xw, b] = z?.op === "add" ? z.inputs.map(node) : [];
  const [x, w] = xw?.op === "matmul" && !xw.attrs.ta && !xw.attrs.tb ? xw.inputs.map(node) : [];
  if (x?.op !== "input" || w.op !== "param" || b.op !== "param" || t.dtype !== "f32") {
    return [
      diagnostic("E018", loss.span, {
        detail: "`rule: perceptron` trains one dense layer from an input with `activation: step` against a target; this loss's prediction is not such a layer",
      }),
    ];
  }
  const error = appendChecked(graph, "residual", [y.id, t.id], {}, y);
  graph.grads.set(w.id, appendChecked(graph, "matmul", [x.id, error], { ta: true }, w));
  graph.grads.set(b.id, appendChecked(graph, "sum_leading", [error], { to: b.shape }, b));
  return [];
}
