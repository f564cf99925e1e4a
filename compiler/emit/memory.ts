// The memory plan: where every tensor of the training graph lives in linear
// memory. Tensors the host reads or writes, or that outlive a step (inputs,
// parameters, gradients, outputs, the loss), get a place of their own; every
// other tensor lives from the kernel that writes it to the last kernel that
// reads it (forward, then backward), and tensors whose lives do not overlap
// share memory; a value only its own fused kernel reads needs none. A tensor
// never shares with one its own kernel reads, so no kernel works in place. A reshape is its input's buffer seen with another
// shape. After the tensors: the scratch area (im2col columns, one per thread)
// and the training state (random stream, learning rate, update count,
// optimizer slots), whose layout does not depend on the number of threads.

import { type Graph, type Node, size } from "../ir/graph.ts";
import { opDef } from "../ir/ops.ts";
import { optimizerDef } from "../ir/optimizers.ts";
import { type Fusion, fuse } from "./fusion.ts";

/** Where everything lives in linear memory. */
export interface Layout {
  /** Node id -> byte offset of its values (a reshape shares its input's); -1 for a value fused away (only its kernel reads it). */
  offsets: number[];
  /** The scratch areas of kernels that need one (im2col), one per thread, each `scratchBytes` long. */
  scratch: number;
  scratchBytes: number;
  /** Bytes [stateStart, end) hold the random stream, the learning rate, the update count and every optimizer slot. */
  stateStart: number;
  /** u32 state of the random stream (dropout). */
  rngState: number;
  /** f64 count of updates so far (Adam's t). */
  stepCount: number;
  /** f32 learning rate of the next update, written by the host from the schedule. */
  learningRate: number;
  /** Parameter node id -> byte offsets of its optimizer slots. */
  slots: Map<number, number[]>;
  /**
   * The trained parameters, their gradients and each optimizer slot as runs
   * of `bytes` in the same order, for one update loop over all; null when a
   * gradient is shared and they cannot be.
   */
  update: { params: number; grads: number; slots: number[]; bytes: number } | null;
  end: number;
  /** Bytes of tensors as planned, and as they would take with one buffer each. */
  tensorBytes: { planned: number; naive: number };
}

const ARENA_START = 1024;
export const align = (x: number) => Math.ceil(x / 16) * 16;

/** The plan for the kernels of `fusion` (by default one kernel per node: the unfused graph). */
export function layout(graph: Graph, fusion: Fusion = fuse(graph, false), threads = 1): Layout {
  const owner = graph.nodes.map((node) => node.id);
  for (const node of graph.nodes) if (opDef(node.op).alias) owner[node.id] = owner[node.inputs[0]];
  const bytes = (id: number) => align(size(graph.nodes[id].shape) * 4);
  const owners = graph.nodes.filter((node) => owner[node.id] === node.id && !fusion.internal.has(node.id)).map((node) => node.id);

  // each kernel is one step: it writes all of its nodes and reads their inputs
  const kernels = [...fusion.forward, ...fusion.backward].map((k) => [k.root, ...k.members]);
  const stepOf = new Map(kernels.flatMap((ids, step) => ids.map((id) => [id, step] as const)));
  const pinned = new Set([...graph.inputs, ...graph.params.map((p) => p.node), ...graph.grads.values(), ...graph.outputs, graph.loss].map((id) => owner[id]));
  for (const id of owners) if (!stepOf.has(id)) pinned.add(id);

  // the last step that reads each shared buffer (through any reshape of it)
  const lastRead = new Map(owners.filter((id) => !pinned.has(id)).map((id) => [id, stepOf.get(id) as number]));
  kernels.forEach((ids, step) => {
    for (const id of ids) for (const input of graph.nodes[id].inputs) if (lastRead.has(owner[input])) lastRead.set(owner[input], step);
  });

  // parameters, then their gradients in the same order, so that one loop updates them all (when no gradient is shared)
  const params = [...graph.grads.keys()];
  const grads = params.map((p) => owner[graph.grads.get(p) as number]);
  const together = new Set([...params, ...grads]).size === 2 * params.length && grads.every((g, k) => bytes(g) === bytes(params[k]));
  const first = new Set(together ? [...params, ...grads] : []);
  const offsets: number[] = new Array(graph.nodes.length).fill(-1);
  let at = ARENA_START;
  for (const id of [...first, ...owners.filter((id) => pinned.has(id) && !first.has(id))]) {
    offsets[id] = at;
    at += bytes(id);
  }
  const shared = new Arena(at);
  const freedAfter = new Map<number, number[]>();
  kernels.forEach((ids, step) => {
    for (const id of ids.filter((id) => lastRead.has(id))) {
      offsets[id] = shared.take(bytes(id));
      const last = lastRead.get(id) as number;
      const freed = freedAfter.get(last);
      if (freed) freed.push(id);
      else freedAfter.set(last, [id]);
    }
    for (const done of freedAfter.get(step) ?? []) shared.give(offsets[done], bytes(done));
  });
  for (const node of graph.nodes) offsets[node.id] = offsets[owner[node.id]];
  at = shared.end;

  const take = (n: number) => {
    const offset = at;
    at = align(at + n);
    return offset;
  };
  const scratchFloats = (node: Node) =>
    opDef(node.op).scratch?.(
      node,
      node.inputs.map((i) => graph.nodes[i]),
    ) ?? 0;
  const scratchBytes = align(graph.nodes.reduce((most, node) => Math.max(most, scratchFloats(node)), 0) * 4);
  const scratch = take(scratchBytes * threads);
  const stateStart = take(16);
  // slot k of every parameter in one run, in the parameters' order
  const count = optimizerDef(graph.train.optimizer).slots(graph.train.optimizer);
  const slotRuns = Array.from({ length: count }, () => params.map((param) => take(bytes(param))));
  const slots = new Map(params.map((param, k) => [param, slotRuns.map((run) => run[k])]));
  const update =
    together && params.length
      ? { params: offsets[params[0]], grads: offsets[grads[0]], slots: slotRuns.map((run) => run[0]), bytes: params.reduce((sum, p) => sum + bytes(p), 0) }
      : null;
  const everyTensor = graph.nodes.filter((node) => owner[node.id] === node.id).reduce((sum, node) => sum + bytes(node.id), 0);
  const tensorBytes = { planned: shared.end - ARENA_START, naive: everyTensor };
  return {
    offsets,
    scratch,
    scratchBytes,
    stateStart,
    rngState: stateStart,
    learningRate: stateStart + 4,
    stepCount: stateStart + 8,
    slots,
    update,
    end: at,
    tensorBytes,
  };
}

/**
 * First-fit allocation above `start`: free ranges kept sorted by offset and
 * merged with their neighbours when given back; the arena grows at its end
 * when no free range is large enough.
 */
class Arena {
  private free: { offset: number; bytes: number }[] = [];
  end: number;

  constructor(start: number) {
    this.end = start;
  }

  take(bytes: number): number {
    const fit = this.free.findIndex((range) => range.bytes >= bytes);
    if (fit < 0) {
      // a free range at the end grows into the new buffer
      const last = this.free.at(-1);
      if (last && last.offset + last.bytes === this.end) {
        this.free.pop();
        this.end = last.offset + bytes;
        return last.offset;
      }
      this.end += bytes;
      return this.end - bytes;
    }
    const range = this.free[fit];
    const offset = range.offset;
    if (range.bytes === bytes) this.free.splice(fit, 1);
    else this.free[fit] = { offset: offset + bytes, bytes: range.bytes - bytes };
    return offset;
  }

  give(offset: number, bytes: number): void {
    let i = this.free.findIndex((range) => range.offset > offset);
    if (i < 0) i = this.free.length;
    this.free.splice(i, 0, { offset, bytes });
    const next = this.free[i + 1];
    if (next && offset + bytes === next.offset) this.free.splice(i, 2, { offset, bytes: bytes + next.bytes });
    const prev = this.free[i - 1];
    const merged = this.free[i];
    if (prev && prev.offset + prev.bytes === merged.offset) this.free.splice(i - 1, 2, { offset: prev.offset, bytes: prev.bytes + merged.bytes });
  }
}
