// Reverse-mode autodiff: appends, for each parameter, the node holding the
// gradient of the loss (graph.grads). Walks the nodes the loss depends on in
// reverse order, applying each op's gradient rule from the op table; several
// contributions to one gradient are summed with `add`.
// Afterwards: every parameter that reaches the loss has an entry in grads.

import { type Diagnostic, diagnostic } from "../diagnostics.ts";
import { ancestors, appendChecked } from "../ir/build.ts";
import type { Graph, Node } from "../ir/graph.ts";
import { type GradBuilder, opDef } from "../ir/ops.ts";

export function autodiff(graph: Graph): Diagnostic[] {
  const onPath = ancestors(graph, [graph.loss]);
  const needsGrad = new Set<number>();
  for (const id of onPath) {
    const node = graph.nodes[id];
    if (node.op === "param" || node.inputs.some((i) => needsGrad.has(i))) needsGrad.add(id);
  }
  const contributions = new Map<number, number[]>();
  const contribute = (id: number, grad: number) => contributions.set(id, [...(contributions.get(id) ?? []), grad]);
  const loss = graph.nodes[graph.loss];
  contribute(loss.id, appendChecked(graph, "const", [], { value: 1 }, loss));

  for (const id of [...onPath].reverse()) {
    const node = graph.nodes[id];
    const parts = contributions.get(id);
    if (!parts || !needsGrad.has(id)) continue;
    let gy = parts[0];
    for (const part of parts.slice(1)) gy = appendChecked(graph, "add", [gy, part], {}, node);
    if (node.op === "param") {
      graph.grads.set(id, gy);
      continue;
    }
    const rule = opDef(node.op).grad;
    if (!rule) return [noDerivative(node)];
    const inputGrads = rule(builder(graph, node), node, gy);
    node.inputs.forEach((input, k) => {
      const g = inputGrads[k];
      if (g !== null && g !== undefined && needsGrad.has(input)) contribute(input, g);
    });
  }
  return [];
}

function builder(graph: Graph, like: Node): GradBuilder {
  const b: GradBuilder = {
    op: (op, inputs, attrs = {}) => appendChecked(graph, op, inputs, attrs, like),
    node: (id) => graph.nodes[id],
    unbroadcast(grad, target) {
      const g = graph.nodes[grad];
      if (g.shape.length === target.shape.length) return grad;
      return b.op("sum_leading", [grad], { to: target.shape });
    },
  };
  return b;
}

function noDerivative(node: Node): Diagnostic {
  return diagnostic("E018", node.span, {
    detail: `\`${node.op}\` has no useful derivative, so gradient descent cannot train through it; use \`rule: perceptron\` in train, or a smooth activation such as sigmoid`,
  });
}
