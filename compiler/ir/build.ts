// Appending nodes to a graph: the op table's shape rule decides each result.

import type { Span } from "../ast.ts";
import type { Attrs, Graph, Node } from "./graph.ts";
import { type OpName, opDef } from "./ops.ts";

/** Appends op(inputs) and returns its id, or the shape rule's complaint. */
export function append(graph: Graph, op: OpName, inputs: number[], attrs: Attrs, span: Span, label: string): number | string {
  const ins = inputs.map((i) => graph.nodes[i]);
  const typed = opDef(op).shape(ins, attrs);
  if (typeof typed === "string") return typed;
  const node: Node = { id: graph.nodes.length, op, inputs, attrs, span, label, ...typed };
  graph.nodes.push(node);
  return node.id;
}

/** As append, for passes whose inputs are right by construction. */
export function appendChecked(graph: Graph, op: OpName, inputs: number[], attrs: Attrs, like: Node): number {
  const id = append(graph, op, inputs, attrs, like.span, like.label);
  if (typeof id === "string") throw new Error(`internal: ${op} from ${like.op} #${like.id}: ${id}`);
  return id;
}

/** Ids of every node the roots depend on, themselves included, in ascending order. */
export function ancestors(graph: Graph, roots: Iterable<number>): number[] {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...graph.nodes[id].inputs);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The nodes of each phase of a training step, in execution order. */
export function phases(graph: Graph): { predict: number[]; forward: number[]; backward: number[] } {
  const forward = ancestors(graph, [graph.loss, ...graph.outputs]);
  const done = new Set(forward);
  return {
    predict: ancestors(graph, graph.outputs),
    forward,
    backward: ancestors(graph, graph.grads.values()).filter((id) => !done.has(id)),
  };
}

/** The nodes a training step computes (neither inputs nor parameters), forward then backward: the order the manifest lists them in. */
export function computedNodes(graph: Graph): number[] {
  const order = phases(graph);
  return [...order.forward, ...order.backward].filter((id) => graph.nodes[id].op !== "input" && graph.nodes[id].op !== "param");
}
