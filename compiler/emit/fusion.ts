// Fusion: groups the nodes of a training step into kernels, driven by the op
// table. A pointwise node (an elementwise or broadcast op with a scalar
// formula) joins the kernel that computes one of its full-size inputs, so a
// chain such as bias, activation, and the derivative products of the backward
// pass runs as one loop, each value kept in a register; after an op that is
// not pointwise (a product, a convolution, a reduction) the chain becomes its
// epilogue, run over each block of the result while it is still in cache.
// A value only the kernel itself reads is never stored.
//
// A kernel runs where its first node ran, so a node joins only if everything
// else it reads is computed before that; and only within one phase (forward,
// backward). The result is the same, bit for bit: every value is computed by
// the same f32 operations, only no longer through memory.

import { phases } from "../ir/build.ts";
import { type Graph, type Node, size } from "../ir/graph.ts";
import { type Index, isMap, type MapOp, mapIndex, opDef } from "../ir/ops.ts";

/** A root node and the pointwise nodes computed with it, in order. */
export interface Kernel {
  root: number;
  members: number[];
}

export interface Fusion {
  forward: Kernel[];
  backward: Kernel[];
  /** Nodes read only inside their own kernel: they need no memory. */
  internal: Set<number>;
}

/** A pointwise node's formula and the index of each input; null for other nodes. */
export function pointwise(graph: Graph, node: Node): { def: MapOp; index: Index[] } | null {
  const def = opDef(node.op);
  if (!isMap(def)) return null;
  return {
    def,
    index: mapIndex(
      def,
      node,
      node.inputs.map((i) => graph.nodes[i]),
    ),
  };
}

/** The inner loop length an index needs (the elements that share a broadcast value, or a suffix's period), if any. */
export function innerOf(index: Index): number | undefined {
  return index.kind === "channel" ? index.inner : index.kind === "suffix" ? index.size : undefined;
}

/** Groups the nodes of each phase into kernels; `enabled: false` gives one kernel per node (the unfused graph). */
export function fuse(graph: Graph, enabled = true): Fusion {
  const order = phases(graph);
  const consumers = new Map<number, number[]>();
  for (const id of [...order.forward, ...order.backward]) {
    for (const input of graph.nodes[id].inputs) {
      const readers = consumers.get(input);
      if (readers) readers.push(id);
      else consumers.set(input, [id]);
    }
  }
  const kernelOf = new Map<number, Kernel>();
  const position = new Map<number, number>();
  const group = (ids: number[]): Kernel[] => {
    const kernels: Kernel[] = [];
    const phase = new Set<Kernel>();
    for (const id of ids) {
      const node = graph.nodes[id];
      position.set(id, position.size);
      if (node.op === "input" || node.op === "param" || opDef(node.op).alias) continue;
      const host = enabled ? hostKernel(graph, node, kernelOf, position, phase) : undefined;
      if (host) {
        host.members.push(id);
        kernelOf.set(id, host);
        continue;
      }
      const kernel = { root: id, members: [] };
      kernels.push(kernel);
      phase.add(kernel);
      kernelOf.set(id, kernel);
    }
    return kernels;
  };
  const forward = group(order.forward);
  const backward = group(order.backward);
  const pinned = new Set([...graph.inputs, ...graph.grads.values(), ...graph.outputs, graph.loss]);
  const internal = new Set<number>();
  for (const [id, kernel] of kernelOf) {
    if (id === kernel.root && !pointwise(graph, graph.nodes[id])) continue; // its kernel writes it to memory
    const readers = consumers.get(id) ?? [];
    if (!pinned.has(id) && readers.length > 0 && readers.every((r) => kernelOf.get(r) === kernel)) internal.add(id);
  }
  return { forward, backward, internal };
}

/**
 * The kernel a pointwise node can join: one of this phase computing an input
 * of the same size, whose loop can also reach the node's other inputs (in the
 * same kernel, or ready before it runs), with a compatible inner loop; the
 * latest such kernel.
 */
function hostKernel(graph: Graph, node: Node, kernelOf: Map<number, Kernel>, position: Map<number, number>, phase: Set<Kernel>): Kernel | undefined {
  const view = pointwise(graph, node);
  if (!view) return undefined;
  const total = size(node.shape);
  // where a value is first readable: inputs and parameters always, a reshape with its input, the rest when their kernel has run
  const readyAt = (id: number): number => {
    const x = graph.nodes[id];
    if (x.op === "input" || x.op === "param") return -1;
    if (opDef(x.op).alias) return readyAt(x.inputs[0]);
    return position.get((kernelOf.get(id) as Kernel).root) as number;
  };
  const mine = view.index.map(innerOf).find((s) => s !== undefined);
  const fits = (host: Kernel) => {
    const start = position.get(host.root) as number;
    if (node.inputs.some((i) => kernelOf.get(i) !== host && readyAt(i) >= start)) return false;
    const inner = kernelInner(graph, host);
    return inner === undefined || mine === undefined || inner === mine;
  };
  const candidates = node.inputs
    .map((i, at) => (view.index[at].kind === "full" ? kernelOf.get(i) : undefined))
    .filter((k): k is Kernel => k !== undefined && phase.has(k) && size(graph.nodes[k.root].shape) === total && fits(k));
  return candidates.sort((a, b) => (position.get(b.root) as number) - (position.get(a.root) as number))[0];
}

/** The inner loop length a kernel's pointwise nodes agree on, if any needs one. */
export function kernelInner(graph: Graph, kernel: Kernel): number | undefined {
  for (const id of [kernel.root, ...kernel.members]) {
    const view = pointwise(graph, graph.nodes[id]);
    const inner = view?.index.map(innerOf).find((s) => s !== undefined);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** What a step's kernels cost in memory traffic: each reads its inputs from outside it and writes the values it stores; the update reads and writes each parameter with its gradient and optimizer slots. */
export function traffic(graph: Graph, fusion: Fusion, slotsPerParam: number): { kernels: number; bytes: number } {
  const bytes = (id: number) => size(graph.nodes[id].shape) * 4;
  let moved = 0;
  const kernels = [...fusion.forward, ...fusion.backward];
  for (const k of kernels) {
    const mine = new Set([k.root, ...k.members]);
    const read = new Set([...mine].flatMap((id) => graph.nodes[id].inputs).filter((id) => !mine.has(id)));
    moved += [...read].reduce((sum, id) => sum + bytes(id), 0);
    moved += [...mine].filter((id) => !fusion.internal.has(id)).reduce((sum, id) => sum + bytes(id), 0);
  }
  for (const param of graph.grads.keys()) moved += (3 + 2 * slotsPerParam) * bytes(param);
  return { kernels: kernels.length + graph.grads.size, bytes: moved };
}
