// The graph IR: a list of nodes in topological order (every input id is
// smaller than the node's own), each with a static shape. A batched node's
// first dimension is the batch size B, a compile-time maximum; the real row
// count n of a short last batch reaches only the ops that reduce over rows.

import type { Span } from "../ast.ts";
import type { OpName } from "./ops.ts";

export type Shape = readonly number[];
export type DType = "f32" | "i32";

export interface Attrs {
  value?: number; // const
  ta?: boolean; // matmul: use A transposed
  tb?: boolean; // matmul: use B transposed
  wrt?: number; // loss gradients: which argument
  classes?: number; // class-label inputs
  to?: Shape; // sum_leading, reshape, gradients: the result's shape
  stride?: number; // conv2d, pooling
  pads?: readonly number[]; // conv2d: zero padding [top, left, bottom, right]
  window?: number; // pooling: the window's side
  keep?: number; // dropout: 24-bit threshold, an element is kept when its random24() < keep
  perm?: readonly number[]; // transpose: result axis k is input axis perm[k]
  eps?: number; // layernorm
  fill?: number; // masks: the value masked entries get
  pad?: number; // key_mask: the token id of padding
  ignore?: number; // label_ce: the label that does not count
  smoothing?: number; // label_ce: label smoothing
  axis?: number; // mean_axis: the axis averaged away
}

export interface Node {
  id: number;
  op: OpName;
  inputs: number[];
  shape: Shape;
  dtype: DType;
  batched: boolean;
  attrs: Attrs;
  span: Span;
  /** Layer path for parameters and inputs ("h.w", "x"), else the op's layer ("h"). */
  label: string;
}

export type Init =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "uniform"; low: number; high: number }
  | { kind: "normal"; std: number }
  | { kind: "glorot" }
  | { kind: "he" };

export interface ParamInfo {
  node: number;
  init: Init;
  fanIn: number;
  fanOut: number;
}

export type Optimizer =
  | { kind: "sgd"; lr: number; momentum: number; weightDecay: number }
  | { kind: "adam"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
  | { kind: "perceptron"; lr: number };

export type Metric = "accuracy" | "mse";

/** How the learning rate moves over a training run (src/runtime/schedule.ts). */
export type Schedule = { kind: "constant" } | { kind: "cosine"; warmup: number } | { kind: "rsqrt"; warmup: number };

export interface TrainConfig {
  optimizer: Optimizer;
  batch: number;
  epochs: number;
  seed: number;
  shuffle: boolean;
  metrics: Metric[];
  schedule: Schedule;
  /** Gradients are scaled down when their global L2 norm exceeds this (0: never). */
  clip: number;
}

/** Where the training data comes from, as written in the .nn file (resolved by src/). */
export interface DataSource {
  kind: string;
  args: Record<string, unknown>;
  span: Span;
}

export interface Graph {
  model: string;
  nodes: Node[];
  inputs: number[];
  params: ParamInfo[];
  outputs: number[];
  loss: number;
  /** Filled by autodiff: the node holding each parameter's update direction. */
  grads: Map<number, number>;
  train: TrainConfig;
  data: DataSource | null;
}

/** The settings a model has when its train section does not say otherwise. */
export const defaultTrain: TrainConfig = {
  optimizer: { kind: "sgd", lr: 0.01, momentum: 0, weightDecay: 0 },
  batch: 32,
  epochs: 1,
  seed: 0,
  shuffle: true,
  metrics: [],
  schedule: { kind: "constant" },
  clip: 0,
};

export function emptyGraph(model: string, train: TrainConfig = defaultTrain): Graph {
  return { model, nodes: [], inputs: [], params: [], outputs: [], loss: -1, grads: new Map(), train, data: null };
}

export const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export function formatShape(node: Pick<Node, "shape" | "batched">): string {
  const dims = node.shape.map((d, i) => (i === 0 && node.batched ? "B" : String(d)));
  return `[${dims.join(", ")}]`;
}
