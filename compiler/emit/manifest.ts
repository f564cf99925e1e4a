// The manifest of a compiled graph: names, shapes and arena offsets of its
// inputs, outputs and parameters, and its training configuration.

import type { Manifest, TensorInfo } from "../../src/runtime/manifest.ts";
import { MANIFEST_VERSION } from "../../src/runtime/manifest.ts";
import { computedNodes } from "../ir/build.ts";
import type { Graph, Node } from "../ir/graph.ts";
import { memoryPages } from "./build.ts";
import type { Layout } from "./memory.ts";

/**
 * What makes a checkpoint resumable by this model: its nodes (ops, inputs,
 * shapes, attributes, names) and the training settings that shape a step
 * (optimizer, batch, schedule, clipping, shuffling) and the layout of the
 * training state; not the epoch count or the seed, which a run may set.
 * SHA-256 (Web Crypto: Node, Deno and browsers), hex.
 */
export async function modelHash(graph: Graph, mem: Layout): Promise<string> {
  const { optimizer, batch, schedule, clip, shuffle } = graph.train;
  const nodes = graph.nodes.map((n) => [n.op, n.inputs, n.shape, n.dtype, n.batched, n.attrs, n.label]);
  // where the training state keeps each slot, relative to its start: a checkpoint holds those bytes as they are
  const state = [...mem.slots.values()].map((offsets) => offsets.map((at) => at - mem.stateStart));
  const text = JSON.stringify({ model: graph.model, nodes, train: { optimizer, batch, schedule, clip, shuffle }, state });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function manifestOf(graph: Graph, mem: Layout, threads = 1): Promise<Manifest> {
  const tensor = (node: Node, name = node.label): TensorInfo => ({
    name,
    shape: [...(node.batched ? node.shape.slice(1) : node.shape)],
    dtype: node.dtype,
    offset: mem.offsets[node.id],
    ...(node.attrs.classes ? { classes: node.attrs.classes } : {}),
    ...(node.attrs.pad !== undefined ? { pad: node.attrs.pad } : {}),
  });
  const lossNode = graph.nodes[graph.loss];
  const target = graph.nodes[lossNode.inputs[1]];
  return {
    version: MANIFEST_VERSION,
    model: graph.model,
    hash: await modelHash(graph, mem),
    batch: graph.train.batch,
    inputs: graph.inputs.map((id) => tensor(graph.nodes[id])),
    outputs: graph.outputs.map((id) => tensor(graph.nodes[id])),
    params: graph.params.map((p) => {
      const node = graph.nodes[p.node];
      const grad = graph.grads.get(p.node);
      return {
        name: node.label,
        shape: [...node.shape],
        offset: mem.offsets[p.node],
        grad: grad === undefined ? -1 : mem.offsets[grad],
        init: p.init,
        fanIn: p.fanIn,
        fanOut: p.fanOut,
      };
    }),
    loss: { offset: mem.offsets[graph.loss], kind: lossNode.op, target: target.op === "input" ? target.label : null },
    train: graph.train,
    data: graph.data as Manifest["data"],
    trainingState: { offset: mem.stateStart, bytes: mem.end - mem.stateStart, rng: mem.rngState, learningRate: mem.learningRate },
    nodes: computedNodes(graph)
      .map((id) => graph.nodes[id])
      .map((node) => ({
        label: node.label,
        op: node.op,
        at: `${node.span.source}:${node.span.start.line}:${node.span.start.column}`,
      })),
    memoryBytes: mem.end,
    ...(threads > 1 ? { threads, memoryPages: memoryPages(mem.end) } : {}),
  };
}
