// The functions a .nn file can call: layers (which own parameters),
// activations and losses. Each has a signature, used to bind positional and
// named arguments and to check their kinds, and a builder that appends graph
// nodes through a LayerContext.

import type { Call, Expr } from "./ast.ts";
import { fail } from "./diagnostics.ts";
import type { Init, Node } from "./ir/graph.ts";
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
  node(t: TensorRef): Node;
  /** A scalar constant. */
  constant(value: number): TensorRef;
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
const twoTensors = (op: OpName, a: string, b: string): Layer => ({
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

const glorot: Init = { kind: "glorot" };
const zeros: Init = { kind: "zeros" };

/** x W (+ b) over the last axis of x; parameters `${prefix}w` [in, units] and `${prefix}b` [units]. */
function linear(ctx: LayerContext, x: TensorRef, units: number, prefix: string, init: Init = glorot, biasInit: Init | null = zeros): TensorRef {
  const fanIn = ctx.shapeOf(x).at(-1) ?? 1;
  const y = ctx.op("matmul", [x, ctx.param(`${prefix}w`, [fanIn, units], init, fanIn, units)]);
  return biasInit ? ctx.op("add", [y, ctx.param(`${prefix}b`, [units], biasInit, fanIn, units)]) : y;
}

function activate(ctx: LayerContext, y: TensorRef, activation: string): TensorRef {
  return activation === "identity" ? y : ctx.op(activation as OpName, [y]);
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
      const y = linear(ctx, args.x as TensorRef, args.units as number, "", args.init as Init, args.bias ? (args.bias_init as Init) : null);
      return activate(ctx, y, args.activation as string);
    },
  },
  matmul: twoTensors("matmul", "a", "b"),

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
      const biased = args.bias ? ctx.op("bias_add", [y, ctx.param("b", [filters], args.bias_init as Init, fanIn, filters)]) : y;
      return activate(ctx, biased, args.activation as string);
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
  // images [B, C, H, W] -> [B, (H / size) * (W / size), C * size * size]: non-overlapping
  // square patches, row by row, each flattened (the tokens of a Vision Transformer)
  patches: {
    args: [
      { name: "x", kind: "tensor" },
      { name: "size", kind: "int" },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const p = args.size as number;
      const [batch, channels, height, width] = ctx.shapeOf(x);
      if (ctx.shapeOf(x).length !== 4 || height % p || width % p)
        fail("E013", ctx.call.span, { name: "size", detail: `${p}x${p} patches do not tile ${ctx.shapeOf(x).slice(1).join("x")} images` });
      const grid = ctx.op("reshape", [x], { to: [batch, channels, height / p, p, width / p, p] });
      const rows = ctx.op("transpose", [grid], { perm: [0, 2, 4, 1, 3, 5] });
      return ctx.op("reshape", [rows], { to: [batch, (height / p) * (width / p), channels * p * p] });
    },
  },
  // the mean over an axis (axis 1 of [B, S, d]: one vector per sequence)
  mean: {
    args: [
      { name: "x", kind: "tensor" },
      { name: "axis", kind: "int", default: 1 },
    ],
    build: (ctx, args) => ctx.op("mean_axis", [args.x as TensorRef], { axis: args.axis }),
  },
  // tokens [B, S] -> [B, S, dim]: a learned vector per vocabulary entry
  embedding: {
    named: true,
    args: [
      { name: "tokens", kind: "tensor" },
      { name: "dim", kind: "int" },
      { name: "init", kind: "init", default: "glorot" },
    ],
    build(ctx, args) {
      const tokens = args.tokens as TensorRef;
      const vocab = ctx.node(tokens).attrs.classes ?? 0;
      if (ctx.node(tokens).dtype !== "i32") fail("E009", ctx.call.span, { expected: "token ids (an input of type tokens(...))", found: "a float tensor" });
      const dim = args.dim as number;
      return ctx.op("embedding", [tokens, ctx.param("table", [vocab, dim], args.init as Init, vocab, dim)]);
    },
  },
  // x [B, S, d] + positions: sinusoids (Vaswani et al.) or, learned, a parameter [S, d]
  positional: {
    named: true,
    args: [
      { name: "x", kind: "tensor" },
      { name: "learned", kind: "bool", default: false },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const table = ctx.shapeOf(x).slice(1);
      const positions = args.learned ? ctx.param("table", table, { kind: "normal", std: 0.02 }, table[1], table[1]) : ctx.op("sinusoid", [], { to: table });
      return ctx.op("add", [x, positions]);
    },
  },
  // normalised over the last axis, then scaled and shifted by learned gain and bias
  layernorm: {
    named: true,
    args: [
      { name: "x", kind: "tensor" },
      { name: "eps", kind: "number", default: 1e-5 },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const d = ctx.shapeOf(x).at(-1) ?? 1;
      const gain = ctx.param("gain", [d], { kind: "ones" }, d, d);
      const bias = ctx.param("bias", [d], { kind: "zeros" }, d, d);
      return ctx.op("layernorm", [x, gain, bias], { eps: args.eps });
    },
  },
  // multi-head scaled dot-product attention (Vaswani et al. 2017): queries from q [B, Sq, d],
  // keys and values from k, v [B, Sk, d]; heads of d / heads features; causal hides later
  // keys; mask (the key tokens [B, Sk]) hides padding keys; then the output projection
  attention: {
    named: true,
    args: [
      { name: "q", kind: "tensor" },
      { name: "k", kind: "tensor" },
      { name: "v", kind: "tensor" },
      { name: "heads", kind: "int", default: 1 },
      { name: "causal", kind: "bool", default: false },
      { name: "mask", kind: "tensor", default: null },
    ],
    build(ctx, args) {
      const [q, k, v] = [args.q, args.k, args.v] as TensorRef[];
      const heads = args.heads as number;
      const d = ctx.shapeOf(q).at(-1) ?? 1;
      if (d % heads) fail("E013", ctx.call.span, { name: "heads", detail: `${d} features do not split into ${heads} heads` });
      const project = (x: TensorRef, name: string) => linear(ctx, x, d, `${name}.`);
      // [B, S, d] -> [B, heads, S, d / heads]
      const split = (x: TensorRef) => {
        const [batch, steps] = ctx.shapeOf(x);
        return ctx.op("transpose", [ctx.op("reshape", [x], { to: [batch, steps, heads, d / heads] })], { perm: [0, 2, 1, 3] });
      };
      const [qh, kh, vh] = [split(project(q, "q")), split(project(k, "k")), split(project(v, "v"))];
      let scores = ctx.op("mul", [ctx.op("bmm", [qh, kh], { tb: true }), ctx.constant(1 / Math.sqrt(d / heads))]);
      if (args.causal) scores = ctx.op("causal_mask", [scores]);
      if (args.mask) scores = ctx.op("key_mask", [scores, args.mask as TensorRef], { pad: ctx.node(args.mask as TensorRef).attrs.pad ?? 0 });
      const heads_out = ctx.op("bmm", [ctx.op("softmax", [scores]), vh]);
      const [batch, steps] = ctx.shapeOf(q);
      const merged = ctx.op("reshape", [ctx.op("transpose", [heads_out], { perm: [0, 2, 1, 3] })], { to: [batch, steps, d] });
      return project(merged, "out");
    },
  },
  // the position-wise feed-forward block: dense(hidden, activation) then back to the input's width
  ffn: {
    named: true,
    args: [
      { name: "x", kind: "tensor" },
      { name: "hidden", kind: "int" },
      { name: "activation", kind: "activation", default: "relu" },
    ],
    build(ctx, args) {
      const x = args.x as TensorRef;
      const hidden = activate(ctx, linear(ctx, x, args.hidden as number, "in."), args.activation as string);
      return linear(ctx, hidden, ctx.shapeOf(x).at(-1) ?? 1, "out.");
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

  mse: twoTensors("mse", "prediction", "target"),
  // against integer labels (class(N) or tokens(...), whose padding does not count) or distributions
  softmax_cross_entropy: {
    args: [
      { name: "logits", kind: "tensor" },
      { name: "labels", kind: "tensor" },
      { name: "smoothing", kind: "number", default: 0 },
    ],
    build(ctx, args) {
      const [logits, labels] = [args.logits, args.labels] as TensorRef[];
      const target = ctx.node(labels);
      if (target.dtype === "f32") return ctx.op("softmax_ce", [logits, labels]);
      return ctx.op("label_ce", [logits, labels], { ignore: target.attrs.pad ?? -1, smoothing: args.smoothing });
    },
  },
  cross_entropy: twoTensors("cross_entropy", "p", "q"),
  kl_div: twoTensors("kl_div", "p", "q"),
};
