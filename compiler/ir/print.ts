// A stable, readable listing of a graph for `nnc inspect` and golden tests:
// one line per executed node with its shape and FLOPs, then totals.

import { phases } from "./build.ts";
import { formatShape, type Graph, size } from "./graph.ts";
import { opDef } from "./ops.ts";

export interface GraphStats {
  params: number;
  flopsPerStep: number;
}

export function stats(graph: Graph): GraphStats {
  const order = phases(graph);
  const run = [...order.forward, ...order.backward].map((id) => graph.nodes[id]).filter((n) => n.op !== "input" && n.op !== "param");
  return {
    params: graph.params.reduce((s, p) => s + size(graph.nodes[p.node].shape), 0),
    flopsPerStep: run.reduce((s, n) => s + flops(graph, n.id), 0) + 2 * [...graph.grads.keys()].reduce((s, p) => s + size(graph.nodes[p].shape), 0),
  };
}

export function flops(graph: Graph, id: number): number {
  const node = graph.nodes[id];
  const def = opDef(node.op);
  return def.flops
    ? def.flops(
        node,
        node.inputs.map((i) => graph.nodes[i]),
      )
    : size(node.shape);
}

export function printGraph(graph: Graph): string {
  const order = phases(graph);
  const line = (id: number) => {
    const n = graph.nodes[id];
    const args = n.inputs.map((i) => `%${i}`).join(", ");
    const attrs = Object.entries(n.attrs)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(" ");
    return `  %${id} = ${n.op}(${args})${attrs ? ` {${attrs}}` : ""} : ${n.dtype}${formatShape(n)}  # ${n.label}`;
  };
  const s = stats(graph);
  return [
    `model ${graph.model}  (batch ${graph.train.batch})`,
    "forward:",
    ...order.forward.map(line),
    "backward:",
    ...order.backward.map(line),
    "update:",
    ...[...graph.grads].map(([p, g]) => `  ${graph.nodes[p].label} -= ${graph.train.optimizer.kind}(%${g})`),
    `parameters: ${s.params}   FLOPs per step: ${s.flopsPerStep}`,
  ].join("\n");
}
