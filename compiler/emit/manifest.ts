// The manifest of a compiled graph: names, shapes and arena offsets of its
// inputs, outputs and parameters, and its training configuration.

import type { Manifest, TensorInfo } from "../../src/runtime/manifest.ts";
import { MANIFEST_VERSION } from "../../src/runtime/manifest.ts";
import { phases } from "../ir/build.ts";
import { type Graph, type Node, size } from "../ir/graph.ts";
import type { Layout } from "./assemblyscript.ts";

export function manifestOf(graph: Graph, mem: Layout): Manifest {
  const tensor = (node: Node, name = node.label): TensorInfo => ({
    name,
    shape: [...(node.batched ? node.shape.slice(1) : node.shape)],
    dtype: node.dtype,
    offset: mem.offsets[node.id],
    ...(node.attrs.classes ? { classes: node.attrs.classes } : {}),
    ...(node.attrs.pad !== undefined ? { pad: node.attrs.pad } : {}),
  });
  const lossNode = graph.nodes[graph.loss];
  const order = phases(graph);
  const target = graph.nodes[lossNode.inputs[1]];
  return {
    version: MANIFEST_VERSION,
    model: graph.model,
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
    nodes: [...order.forward, ...order.backward]
      .map((id) => graph.nodes[id])
      .filter((node) => node.op !== "input" && node.op !== "param")
      .map((node) => ({
        label: node.label,
        op: node.op,
        offset: mem.offsets[node.id],
        count: size(node.shape),
        at: `${node.span.source}:${node.span.start.line}:${node.span.start.column}`,
      })),
    memoryBytes: mem.end,
  };
}
