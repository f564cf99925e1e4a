// The graph verifier: invariants every pass must keep. Throws naming the
// pass that broke one (a compiler bug, never a user mistake).

import type { Graph } from "./graph.ts";
import { opDef } from "./ops.ts";

export function verify(graph: Graph, after: string): void {
  const broken = (msg: string): never => {
    throw new Error(`internal: graph invalid after pass "${after}": ${msg}`);
  };
  for (const [i, node] of graph.nodes.entries()) {
    if (node.id !== i) broken(`node #${i} has id ${node.id}`);
    if (node.inputs.some((x) => x >= i || x < 0)) broken(`node #${i} (${node.op}) uses a later node`);
    if (node.op === "input" || node.op === "param") continue;
    const def = opDef(node.op);
    if (node.inputs.length !== def.arity) broken(`node #${i} (${node.op}) has ${node.inputs.length} inputs, not ${def.arity}`);
    const typed = def.shape(
      node.inputs.map((x) => graph.nodes[x]),
      node.attrs,
    );
    if (typeof typed === "string") broken(`node #${i} (${node.op}): ${typed}`);
    else if (typed.shape.join() !== node.shape.join()) broken(`node #${i} (${node.op}) has shape [${node.shape}] but its rule gives [${typed.shape}]`);
  }
  for (const [param, grad] of graph.grads) {
    if (graph.nodes[param].shape.join() !== graph.nodes[grad].shape.join()) broken(`the gradient of ${graph.nodes[param].label} has the wrong shape`);
  }
}
