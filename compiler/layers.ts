// The functions a .nn file can call: layers (which own parameters),
// activations and losses. Each has a signature, used to bind positional and
// named arguments and to check their kinds, and a builder that appends graph
// nodes through a LayerContext.

import type { Call, Expr } from "./ast.ts";
import { fail } from "./diagnostics.ts";
import type { Init } from "./ir/graph.ts";
import type { OpName } from "./ir/ops.ts";

export type ArgKind = "tensor" | "int" | "number" | "bool" | "string" | "activation" | "init" | "choice";

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  /** Absent: the argument is required. */
  default?: number | boolean | string | null;
  /** For kind "choice": the names allowed. */
  options?: readonly string[];
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

/** The arguments every layer with weights ends with. */
const weightArgs: ArgSpec[] = [
  { name: "activation", kind: "activation", default: "identity" },
  { name: "init", kind: "init", default: "glorot" },
  { name: "bias", kind: "bool", default: true },
  { name: "bias_init", kind: "init", default: "zeros" },
];

/** y + b (b per unit with `add`, per channel with `bias_add`), then the activation. */
function biasAndActivation(ctx: LayerContext, y: TensorRef, args: Record<string, ArgValue>, op: OpName, units: number, fanIn: number): TensorRef {
  const biased = args.bias ? ctx.op(op, [y, ctx.param("b", [units], args.bias_init as Init, fanIn, units)]) : y;
  return args.activation === "identity" ? biased : ctx.op(args.activation as OpName, [biased]);
}

/** TensorFlow's "same": out = ceil(n / stride), the padding split with the extra one after. */
function samePadding(n: number, k: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(n / stride) - 1) * stride + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** maxpool(x, 2) / avgpool(x, 2, stride: 1): windows of size x size, stride defaulting to the size. */
function pooling(op: OpName): Layer {
  return {
    args: [
      { name: "x", kind: "tensor" },
      { name: "size", kind: "int", default: 2 },
      { name: "stride", kind: "int", default: null },
    ],
    build: (ctx, args) => ctx.op(op, [args.x as TensorRef], { window: args.size, stride: args.stride ?? args.size }),
  };
}

export const layers: Record<string, Layer> = {
  ...Object.fromEntries(activations.map((a) => [a, elementwise(a)])),

  // y = activation(x W + b); x: [B, in], W: [in, units], b: [units]
  dense: {
    named: true,
    args: [{ name: "x", kind: "tensor" }, { name: "units", kind: "int" }, ...weightArgs],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const units = args.units as number;
      const shape = ctx.shapeOf(x);
      const fanIn = shape[shape.length - 1];
      const w = ctx.param("w", [fanIn, units], args.init as Init, fanIn, units);
      return biasAndActivation(ctx, ctx.op("matmul", [x, w]), args, "add", units, fanIn);
    },
  },
  matmul: loss("matmul", "a", "b"),

  // y = activation(conv(x, W) + b); x: [B, C, H, W], W: [filters, C, k, k], b: [filters]
  conv2d: {
    named: true,
    args: [
      { name: "x", kind: "tensor" },
      { name: "filters", kind: "int" },
      { name: "kernel", kind: "int", default: 3 },
      { name: "stride", kind: "int", default: 1 },
      { name: "pad", kind: "choice", default: "valid", options: ["valid", "same"] },
      ...weightArgs,
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const [, channels = 1, height, width] = ctx.shapeOf(x);
      const [filters, k, stride] = [args.filters, args.kernel, args.stride] as number[];
      const [top, bottom] = args.pad === "same" ? samePadding(height, k, stride) : [0, 0];
      const [left, right] = args.pad === "same" ? samePadding(width, k, stride) : [0, 0];
      const fanIn = channels * k * k;
      const w = ctx.param("w", [filters, channels, k, k], args.init as Init, fanIn, filters * k * k);
      const y = ctx.op("conv2d", [x, w], { stride, pads: [top, left, bottom, right] });
      return biasAndActivation(ctx, y, args, "bias_add", filters, fanIn);
    },
  },
  maxpool: pooling("maxpool2d"),
  avgpool: pooling("avgpool2d"),
  // [B, d1, d2, ...] -> [B, d1 * d2 * ...]
  flatten: {
    args: [{ name: "x", kind: "tensor" }],
    build(ctx, { x }) {
      const [batch, ...rest] = ctx.shapeOf(x as TensorRef);
      return ctx.op("reshape", [x as TensorRef], { to: [batch, rest.reduce((a, b) => a * b, 1)] });
    },
  },
  // inverted dropout: in training each value is zeroed with probability `rate`, the rest scaled by 1 / (1 - rate)
  dropout: {
    args: [
      { name: "x", kind: "tensor" },
      { name: "rate", kind: "number" },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const rate = args.rate as number;
      if (!(rate >= 0 && rate < 1)) fail("E013", ctx.call.span, { name: "rate", detail: `${rate} is not in [0, 1)` });
      const keep = Math.round((1 - rate) * 2 ** 24);
      return ctx.op("mul", [x, ctx.op("dropout_mask", [], { keep, to: ctx.shapeOf(x) })]);
    },
  },

  mse: loss("mse", "prediction", "target"),
  softmax_cross_entropy: loss("softmax_ce", "logits", "labels"),
  cross_entropy: loss("cross_entropy", "p", "q"),
  kl_div: loss("kl_div", "p", "q"),
};
