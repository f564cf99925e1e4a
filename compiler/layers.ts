// The functions a .nn file can call: layers (which own parameters),
// activations and losses. Each has a signature, used to bind positional and
// named arguments and to check their kinds, and a builder that appends graph
// nodes through a LayerContext.

import type { Call, Expr } from "./ast.ts";
import type { Init } from "./ir/graph.ts";
import type { OpName } from "./ir/ops.ts";

export type ArgKind = "tensor" | "int" | "number" | "bool" | "string" | "activation" | "init";

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  /** Absent: the argument is required. */
  default?: number | boolean | string | null;
}

/** A tensor value during elaboration: the id of its graph node. */
export interface TensorRef {
  id: number;
  /** The expression that produced it, for notes in shape errors. */
  origin: Expr;
}

export type ArgValue = TensorRef | number | boolean | string | Init | null;

export interface LayerContext {
  call: Call;
  /** The layer's unique name ("h", "dense_1"), used for its parameters and nodes. */
  name: string;
  op(op: OpName, inputs: TensorRef[], attrs?: Record<string, unknown>): TensorRef;
  param(suffix: string, shape: number[], init: Init, fanIn: number, fanOut: number): TensorRef;
  shapeOf(t: TensorRef): readonly number[];
}

export interface Layer {
  args: ArgSpec[];
  /** Layers that own parameters get a unique name. */
  named?: boolean;
  build(ctx: LayerContext, args: Record<string, ArgValue>): TensorRef;
}

export const activations = ["identity", "sigmoid", "tanh", "relu", "step", "softmax", "exp", "log", "sin"] as const;
export type Activation = (typeof activations)[number];

export const initializers = ["zeros", "ones", "uniform", "normal", "glorot", "he"] as const;

const elementwise = (op: OpName): Layer => ({
  args: [{ name: "x", kind: "tensor" }],
  build: (ctx, { x }) => ctx.op(op, [x as TensorRef]),
});
const loss = (op: OpName, a: string, b: string): Layer => ({
  args: [
    { name: a, kind: "tensor" },
    { name: b, kind: "tensor" },
  ],
  build: (ctx, args) => ctx.op(op, [args[a] as TensorRef, args[b] as TensorRef]),
});

export const layers: Record<string, Layer> = {
  ...Object.fromEntries(activations.map((a) => [a, elementwise(a)])),

  // y = activation(x W + b); x: [B, in], W: [in, units], b: [units]
  dense: {
    named: true,
    args: [
      { name: "x", kind: "tensor" },
      { name: "units", kind: "int" },
      { name: "activation", kind: "activation", default: "identity" },
      { name: "init", kind: "init", default: "glorot" },
      { name: "bias", kind: "bool", default: true },
      { name: "bias_init", kind: "init", default: "zeros" },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const units = args.units as number;
      const shape = ctx.shapeOf(x);
      const fanIn = shape[shape.length - 1];
      const w = ctx.param("w", [fanIn, units], args.init as Init, fanIn, units);
      let y = ctx.op("matmul", [x, w]);
      if (args.bias) y = ctx.op("add", [y, ctx.param("b", [units], args.bias_init as Init, fanIn, units)]);
      return args.activation === "identity" ? y : ctx.op(args.activation as OpName, [y]);
    },
  },
  matmul: loss("matmul", "a", "b"),

  mse: loss("mse", "prediction", "target"),
  softmax_cross_entropy: loss("softmax_ce", "logits", "labels"),
  cross_entropy: loss("cross_entropy", "p", "q"),
  kl_div: loss("kl_div", "p", "q"),
};
