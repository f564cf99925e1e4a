// THE op table. Each op has, in one entry: its shape rule, its gradient rule
// (as graph nodes built from other ops), its fusion kind, its float64
// reference and its AssemblyScript kernel. Adding an op is adding an entry.
//
// Elementwise ops give `map`: a scalar formula for the reference (f64) and for
// the kernel (f32), applied over inputs that broadcast by suffix (a [4] bias
// against a [B, 4] activation). Loss ops reduce over the first n rows only
// (n = the real row count of a short last batch) and take the mean.

import type { Attrs, DType, Node, Shape } from "./graph.ts";
import { formatShape, size } from "./graph.ts";
import { type SequenceOp, sequenceOps } from "./sequence.ts";
import { type SpatialOp, spatialOps } from "./spatial.ts";

export type OpName =
  | "input"
  | "param"
  | "const"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "neg"
  | "identity"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "step"
  | "exp"
  | "log"
  | "sin"
  | "sigmoid_grad"
  | "tanh_grad"
  | "relu_grad"
  | "softmax"
  | "softmax_grad"
  | "matmul"
  | "sum_leading"
  | "mse"
  | "mse_grad"
  | "softmax_ce"
  | "softmax_ce_grad"
  | "cross_entropy"
  | "cross_entropy_grad"
  | "kl_div"
  | "kl_div_grad"
  | "residual"
  | SpatialOp
  | SequenceOp;

export type FusionKind = "elementwise" | "broadcast" | "injective" | "reduction" | "output-fusable" | "opaque";

export interface Typed {
  shape: Shape;
  dtype: DType;
  batched: boolean;
}

/** Builds gradient nodes; new nodes inherit the span and label of the node being differentiated. */
export interface GradBuilder {
  op(op: OpName, inputs: number[], attrs?: Attrs): number;
  node(id: number): Node;
  /** Sum a gradient of a broadcast result back to the shape of `like`. */
  unbroadcast(grad: number, like: Node): number;
}

/** What a kernel sees: its node, its inputs, and each buffer's byte address. */
export interface KernelContext {
  node: Node;
  ins: Node[];
  at(node: Node): number;
  /** Address of this thread's scratch area (at least `scratch(node)` floats), an expression. */
  scratch: string;
  /**
   * Code applying the fused pointwise nodes that follow to result elements
   * [base, base + count), or "" when none follow: a kernel that makes its
   * result in blocks (a convolution, image by image) calls it after each
   * block; for any other, the emitter runs it over the whole result after.
   */
  epilogue(base: string, count: number): string;
}

export interface RefContext {
  node: Node;
  ins: Node[];
  /** Real rows in this batch. */
  n: number;
  /** A training step (dropout active) rather than evaluation. */
  training: boolean;
  /** The next 24 random bits from the model's xorshift32 stream, as in runtime-wasm/random.ts. */
  random24(): number;
}

/** Where the element of an input that goes with output element i lives. */
export type Index =
  | { kind: "full" }
  | { kind: "scalar" }
  /** i mod size: a trailing part of the shape (a bias on [B, N]) */
  | { kind: "suffix"; size: number }
  /** (i / inner) mod channels: one value per channel of [B, C, ...] (a convolution's bias) */
  | { kind: "channel"; channels: number; inner: number };

interface OpBase {
  fusion: FusionKind;
  arity: number;
  /** The result type, or a sentence saying why the inputs do not fit. */
  shape(ins: Node[], attrs: Attrs): Typed | string;
  /** Floats of scratch memory the kernel needs (shared by all kernels). */
  scratch?(node: Node, ins: Node[]): number;
  /** The result is its first input's buffer viewed with another shape: no kernel, no copy. */
  alias?: boolean;
  /** Floating-point operations per run; the result's size when absent. */
  flops?(node: Node, ins: Node[]): number;
  /** Gradients of the inputs given the gradient gy of the result; null for none. */
  grad?(b: GradBuilder, node: Node, gy: number): (number | null)[];
}
export interface MapOp extends OpBase {
  /** The f64 reference, the f32 AssemblyScript expression, and (where one exists) the same on f32x4 vectors. */
  map: { ref(...xs: number[]): number; as(...xs: string[]): string; simd?(...xs: string[]): string };
  /** Where each input's element for result element i lives; suffix broadcasting when absent. */
  index?(node: Node, ins: Node[]): Index[];
}

/** Each input's Index for a map op's result element. */
export function mapIndex(def: MapOp, node: Node, ins: Node[]): Index[] {
  if (def.index) return def.index(node, ins);
  const total = size(node.shape);
  return ins.map((x) => {
    const s = size(x.shape);
    return s === total ? { kind: "full" } : s === 1 ? { kind: "scalar" } : { kind: "suffix", size: s };
  });
}

/** The element index (a float64 reference's) that an Index gives for result element i. */
export function elementAt(index: Index, i: number): number {
  switch (index.kind) {
    case "full":
      return i;
    case "scalar":
      return 0;
    case "suffix":
      return i % index.size;
    case "channel":
      return Math.floor(i / index.inner) % index.channels;
  }
}
export interface KernelOp extends OpBase {
  reference(ins: Float64Array[], out: Float64Array, ctx: RefContext): void;
  /** AssemblyScript statements; `n` (i32) is in scope. */
  kernel(k: KernelContext): string;
  /**
   * The kernel shares its work between the threads of a phase itself: each
   * computes the part `from(total, unit)` to `to(total, unit)` gives it
   * (runtime-wasm/threads.ts), or calls a matrix product with `split`. Any
   * other kernel runs on thread 0 alone.
   */
  parallel?: boolean;
}
export type OpDef = MapOp | KernelOp;

const show = formatShape;
/** A shape seen as a matrix: [rows (all leading axes), columns (the last axis)]. */
export const matrix = (s: Shape): [number, number] => [size(s.slice(0, -1)), s[s.length - 1]];
export const f32 = (shape: Shape, batched: boolean): Typed => ({ shape, dtype: "f32", batched });

/** Suffix broadcasting: the smaller shape must be a suffix of the larger. */
function broadcast(ins: Node[]): Typed | string {
  const big = ins.reduce((a, b) => (b.shape.length > a.shape.length ? b : a));
  for (const x of ins) {
    const tail = big.shape.slice(big.shape.length - x.shape.length);
    if (x.shape.some((d, i) => d !== tail[i])) return `${show(ins[0])} and ${show(ins[1] ?? x)} do not match`;
  }
  return f32(
    big.shape,
    ins.some((x) => x.batched && x.shape.length === big.shape.length),
  );
}
const same = (ins: Node[]): Typed | string =>
  ins.every((x) => x.shape.length === ins[0].shape.length && x.shape.every((d, i) => d === ins[0].shape[i]))
    ? f32(ins[0].shape, ins[0].batched)
    : `${show(ins[0])} and ${show(ins[1])} differ`;

function unary(ref: (x: number) => number, as: (x: string) => string, grad?: MapOp["grad"]): MapOp {
  return { fusion: "elementwise", arity: 1, shape: ([x]) => f32(x.shape, x.batched), map: { ref, as }, grad };
}
function binary(ref: (a: number, b: number) => number, as: (a: string, b: string) => string, grad?: MapOp["grad"]): MapOp {
  return { fusion: "broadcast", arity: 2, shape: broadcast, map: { ref, as }, grad };
}
/** The same map op with a formula on f32x4 vectors, for fused SIMD loops; lane by lane it must round exactly as the scalar one. */
function vector(def: MapOp, simd: (...xs: string[]) => string): MapOp {
  return { ...def, map: { ...def.map, simd } };
}
/** An activation's derivative as a binary map of (saved value, incoming gradient). */
function derivative(ref: (v: number, g: number) => number, as: (v: string, g: string) => string): MapOp {
  return { fusion: "elementwise", arity: 2, shape: same, map: { ref, as } };
}

// ---- losses: mean over the first n rows ------------------------------------

function lossShape(ins: Node[]): Typed | string {
  const [a, b] = ins;
  if (!a.batched) return `the prediction ${show(a)} has no batch dimension`;
  const bothF = b.dtype === "f32" && (b.shape.length !== a.shape.length || b.shape.some((d, i) => d !== a.shape[i]));
  if (bothF) return `prediction ${show(a)} and target ${show(b)} differ`;
  return f32([], false);
}
/** Row-wise loss: per(the row of each input) summed over rows < n, divided by n. */
function rowLoss(ins: Float64Array[], ctx: RefContext, per: (rows: Float64Array[]) => number): number {
  const width = size(ctx.ins[0].shape) / ctx.ins[0].shape[0];
  let total = 0;
  for (let r = 0; r < ctx.n; r++) total += per(ins.map((x) => x.subarray(r * width, (r + 1) * width)));
  return total / ctx.n;
}
const lossGradShape = (ins: Node[]): Typed => f32(ins[0].shape, true);

/** The kernel skeleton of a row loss: for r < n, the addresses pa and pb of the rows of both inputs. */
function rowLoop(k: KernelContext, body: string): string {
  const [a, b] = k.ins;
  const width = size(a.shape) / a.shape[0];
  return `{
    for (let r = 0; r < n; r++) {
      const pa = ${k.at(a)} + r * ${width * 4};
      const pb = ${k.at(b)} + r * ${width * 4};
      ${body}
    }
  }`;
}
/** A loss gradient kernel: zero the result, then fill rows < n. */
function rowGradLoop(k: KernelContext, body: string): string {
  const out = k.node;
  const width = size(out.shape) / out.shape[0];
  return `{
    memory.fill(${k.at(out)}, 0, ${size(out.shape) * 4});
    const scale = load<f32>(${k.at(k.ins[2])}) / <f32>n;
    ${rowLoop(k, `const po = ${k.at(out)} + r * ${width * 4};\n${body}`)}
  }`;
}

/**
 * f32 arithmetic for kernels written once for both widths: one value at a
 * time, or four lanes at a time. Lane by lane the vector operations round
 * exactly as the scalar ones, so a loop gives the same bits either way.
 */
export interface Lanes {
  /** Bytes per step of the loop. */
  step: number;
  load(at: string): string;
  store(at: string, value: string): string;
  splat(x: string): string;
  add(a: string, b: string): string;
  sub(a: string, b: string): string;
  mul(a: string, b: string): string;
}
const scalarLanes: Lanes = {
  step: 4,
  load: (at) => `load<f32>(${at})`,
  store: (at, value) => `store<f32>(${at}, ${value});`,
  splat: (x) => x,
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
};
const vectorLanes: Lanes = {
  step: 16,
  load: (at) => `v128.load(${at})`,
  store: (at, value) => `v128.store(${at}, ${value});`,
  splat: (x) => `f32x4.splat(${x})`,
  add: (a, b) => `f32x4.add(${a}, ${b})`,
  sub: (a, b) => `f32x4.sub(${a}, ${b})`,
  mul: (a, b) => `f32x4.mul(${a}, ${b})`,
};
/** Four lanes when a row of `count` floats is whole vectors. */
export const lanesFor = (count: number): Lanes => (count % 4 === 0 ? vectorLanes : scalarLanes);

/** A scalar formula of two values, for the reference (f64) and the kernel (f32). */
interface Term {
  ref(a: number, b: number): number;
  as(a: string, b: string): string;
}

/**
 * A loss summing term(a, b) over every value of rows < n, divided by n (and by
 * the row width when `mean`), with its gradient op: for wrt = k, the gradient
 * of argument k is g * grads[k](a, b) / divisor on rows < n, 0 on padding rows.
 */
function pointwiseLoss<L extends OpName, G extends OpName>(name: L, gradName: G, mean: boolean, term: Term & { grads: [Term, Term] }): Record<L | G, KernelOp> {
  const width = (node: Node) => size(node.shape) / node.shape[0];
  const divisor = (rowWidth: number) => (mean ? `<f32>(n * ${rowWidth})` : "<f32>n");
  const loss: KernelOp = {
    fusion: "reduction",
    arity: 2,
    shape: lossShape,
    grad: (g, node, gy) => [0, 1].map((wrt) => g.op(gradName, [...node.inputs, gy], { wrt })),
    reference(ins, out, { ins: [a], n }) {
      let total = 0;
      for (let i = 0; i < n * width(a); i++) total += term.ref(ins[0][i], ins[1][i]);
      out[0] = total / (mean ? n * width(a) : n);
    },
    kernel({ node, ins: [a, b], at }) {
      return `{
    let total: f32 = 0;
    for (let i = 0; i < n * ${width(a)}; i++) total += ${term.as(`load<f32>(${at(a)} + i * 4)`, `load<f32>(${at(b)} + i * 4)`)};
    store<f32>(${at(node)}, total / ${divisor(width(a))});
  }`;
    },
  };
  const grad: KernelOp = {
    fusion: "reduction",
    arity: 3,
    shape: lossGradShape,
    reference(ins, out, { node, n }) {
      const d = term.grads[node.attrs.wrt ?? 0];
      const scale = ins[2][0] / (mean ? n * width(node) : n);
      out.fill(0);
      for (let i = 0; i < n * width(node); i++) out[i] = scale * d.ref(ins[0][i], ins[1][i]);
    },
    kernel({ node, ins: [a, b, g], at }) {
      const d = term.grads[node.attrs.wrt ?? 0];
      return `{
    memory.fill(${at(node)}, 0, ${size(node.shape) * 4});
    const scale = load<f32>(${at(g)}) / ${divisor(width(node))};
    for (let i = 0; i < n * ${width(node)}; i++) store<f32>(${at(node)} + i * 4, scale * ${d.as(`load<f32>(${at(a)} + i * 4)`, `load<f32>(${at(b)} + i * 4)`)});
  }`;
    },
  };
  return { [name]: loss, [gradName]: grad } as Record<L | G, KernelOp>;
}

function softmaxRow(z: Float64Array): Float64Array {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// AssemblyScript fragments for the row losses: max and log-sum-exp over pa[0..w).
const lseAS = (w: number): string => `
      let mx = load<f32>(pa);
      for (let j = 1; j < ${w}; j++) mx = max(mx, load<f32>(pa + j * 4));
      let se: f32 = 0;
      for (let j = 0; j < ${w}; j++) se += Mathf.exp(load<f32>(pa + j * 4) - mx);
      const lse = mx + Mathf.log(se);`;

export const ops: Record<OpName, OpDef> = {
  // ---- sources: values the host writes (inputs, parameters) or the compiler fixes
  input: { fusion: "opaque", arity: 0, shape: () => "inputs are made by the elaborator", reference() {}, kernel: () => "" },
  param: { fusion: "opaque", arity: 0, shape: () => "parameters are made by the elaborator", reference() {}, kernel: () => "" },
  const: {
    fusion: "elementwise",
    arity: 0,
    shape: () => f32([], false),
    reference: (_, out, { node }) => out.fill(node.attrs.value ?? 0),
    kernel: (k) => `store<f32>(${k.at(k.node)}, <f32>${k.node.attrs.value});`,
  },

  // ---- elementwise arithmetic, broadcasting by suffix
  add: vector(
    binary(
      (a, b) => a + b,
      (a, b) => `${a} + ${b}`,
      (g, node, gy) => node.inputs.map((x) => g.unbroadcast(gy, g.node(x))),
    ),
    (a, b) => `f32x4.add(${a}, ${b})`,
  ),
  sub: vector(
    binary(
      (a, b) => a - b,
      (a, b) => `${a} - ${b}`,
      (g, node, gy) => [g.unbroadcast(gy, g.node(node.inputs[0])), g.unbroadcast(g.op("neg", [gy]), g.node(node.inputs[1]))],
    ),
    (a, b) => `f32x4.sub(${a}, ${b})`,
  ),
  mul: vector(
    binary(
      (a, b) => a * b,
      (a, b) => `${a} * ${b}`,
      (g, node, gy) => {
        const [a, b] = node.inputs;
        return [g.unbroadcast(g.op("mul", [gy, b]), g.node(a)), g.unbroadcast(g.op("mul", [gy, a]), g.node(b))];
      },
    ),
    (a, b) => `f32x4.mul(${a}, ${b})`,
  ),
  div: vector(
    binary(
      (a, b) => a / b,
      (a, b) => `${a} / ${b}`,
      (g, node, gy) => {
        const [a, b] = node.inputs;
        // y = a / b: da = gy / b, db = -gy a / b^2 = -(gy / b) y
        const ga = g.op("div", [gy, b]);
        const gb = g.op("neg", [g.op("mul", [ga, node.id])]);
        return [g.unbroadcast(ga, g.node(a)), g.unbroadcast(gb, g.node(b))];
      },
    ),
    (a, b) => `f32x4.div(${a}, ${b})`,
  ),
  neg: vector(
    unary(
      (x) => -x,
      (x) => `-${x}`,
      (g, _node, gy) => [g.op("neg", [gy])],
    ),
    (x) => `f32x4.neg(${x})`,
  ),

  // ---- activations (y = f(x)); each derivative is its own elementwise op
  identity: vector(
    unary(
      (x) => x,
      (x) => x,
      (_g, _node, gy) => [gy],
    ),
    (x) => x,
  ),
  sigmoid: unary(
    (x) => 1 / (1 + Math.exp(-x)),
    (x) => `<f32>1 / (<f32>1 + Mathf.exp(-${x}))`,
    (g, node, gy) => [g.op("sigmoid_grad", [node.id, gy])],
  ),
  tanh: unary(
    Math.tanh,
    (x) => `Mathf.tanh(${x})`,
    (g, node, gy) => [g.op("tanh_grad", [node.id, gy])],
  ),
  relu: vector(
    unary(
      (x) => Math.max(x, 0),
      (x) => `max(${x}, <f32>0)`,
      (g, node, gy) => [g.op("relu_grad", [node.id, gy])],
    ),
    (x) => `f32x4.max(${x}, f32x4.splat(0))`,
  ),
  // hardlim: 1 for x >= 0, so step(0) = 1 (the chapter's worked example needs a value at 0).
  // It has no useful derivative; autodiff refuses it and points at `rule: perceptron`.
  step: unary(
    (x) => (x >= 0 ? 1 : 0),
    (x) => `(${x} >= <f32>0 ? <f32>1 : <f32>0)`,
  ),
  exp: unary(
    Math.exp,
    (x) => `Mathf.exp(${x})`,
    (g, node, gy) => [g.op("mul", [gy, node.id])],
  ),
  log: unary(
    Math.log,
    (x) => `Mathf.log(${x})`,
    (g, node, gy) => [g.op("div", [gy, node.inputs[0]])],
  ),
  sin: unary(Math.sin, (x) => `Mathf.sin(${x})`),
  sigmoid_grad: derivative(
    (y, g) => g * y * (1 - y),
    (y, g) => `${g} * ${y} * (<f32>1 - ${y})`,
  ),
  tanh_grad: derivative(
    (y, g) => g * (1 - y * y),
    (y, g) => `${g} * (<f32>1 - ${y} * ${y})`,
  ),
  // from ReLU's output, which is positive exactly where its input is: the input need not be kept
  relu_grad: vector(
    derivative(
      (y, g) => (y > 0 ? g : 0),
      (y, g) => `(${y} > <f32>0 ? ${g} : <f32>0)`,
    ),
    (y, g) => `v128.bitselect(${g}, f32x4.splat(0), f32x4.gt(${y}, f32x4.splat(0)))`,
  ),

  // ---- softmax over the last axis; y = softmax(x), dx = y * (gy - sum(gy * y))
  softmax: {
    fusion: "reduction",
    arity: 1,
    shape: ([x]) => f32(x.shape, x.batched),
    grad: (g, node, gy) => [g.op("softmax_grad", [node.id, gy])],
    reference(ins, out, { node }) {
      const w = node.shape[node.shape.length - 1];
      for (let r = 0; r < out.length / w; r++) out.set(softmaxRow(ins[0].subarray(r * w, (r + 1) * w)), r * w);
    },
    kernel(k) {
      const w = k.node.shape[k.node.shape.length - 1];
      return `for (let r = 0; r < ${size(k.node.shape) / w}; r++) {
      const pa = ${k.at(k.ins[0])} + r * ${w * 4};
      const po = ${k.at(k.node)} + r * ${w * 4};
      ${lseAS(w)}
      for (let j = 0; j < ${w}; j++) store<f32>(po + j * 4, Mathf.exp(load<f32>(pa + j * 4) - lse));
    }`;
    },
  },
  softmax_grad: {
    fusion: "reduction",
    arity: 2,
    shape: same,
    reference(ins, out, { node }) {
      const w = node.shape[node.shape.length - 1];
      const [y, gy] = ins;
      for (let r = 0; r < out.length / w; r++) {
        let dot = 0;
        for (let j = 0; j < w; j++) dot += y[r * w + j] * gy[r * w + j];
        for (let j = 0; j < w; j++) out[r * w + j] = y[r * w + j] * (gy[r * w + j] - dot);
      }
    },
    kernel(k) {
      const w = k.node.shape[k.node.shape.length - 1];
      const [y, gy] = k.ins.map((x) => k.at(x));
      return `for (let r = 0; r < ${size(k.node.shape) / w}; r++) {
      const o = r * ${w * 4};
      let dot: f32 = 0;
      for (let j = 0; j < ${w * 4}; j += 4) dot += load<f32>(${y} + o + j) * load<f32>(${gy} + o + j);
      for (let j = 0; j < ${w * 4}; j += 4) store<f32>(${k.at(k.node)} + o + j, load<f32>(${y} + o + j) * (load<f32>(${gy} + o + j) - dot));
    }`;
    },
  },

  // ---- C = op(A) op(B), each operand seen as 2-D with its leading axes merged
  // (so a dense layer applies to the last axis of [B, S, d]); ta/tb read A or
  // B transposed (for the backward pass)
  matmul: {
    fusion: "output-fusable",
    arity: 2,
    shape([a, b], attrs) {
      if (a.shape.length < 2 || b.shape.length < 2) return `matmul takes operands of 2 or more axes, got ${show(a)} and ${show(b)}`;
      const [m, ka] = attrs.ta ? [...matrix(a.shape)].reverse() : matrix(a.shape);
      const [kb, n] = attrs.tb ? [...matrix(b.shape)].reverse() : matrix(b.shape);
      if (ka !== kb) return `${show(a)} times ${show(b)}: inner sizes ${ka} and ${kb} differ`;
      return attrs.ta ? f32([m, n], false) : f32([...a.shape.slice(0, -1), n], a.batched);
    },
    flops: (node, [a]) => 2 * size(node.shape) * matrix(a.shape)[node.attrs.ta ? 0 : 1],
    grad(g, node, gy) {
      const [a, b] = node.inputs;
      return [g.op("matmul", [gy, b], { tb: true }), g.op("matmul", [a, gy], { ta: true })];
    },
    reference(ins, out, { node, ins: [a] }) {
      const n = node.shape[node.shape.length - 1];
      const m = size(node.shape) / n;
      const k = matrix(a.shape)[node.attrs.ta ? 0 : 1];
      const [A, B] = ins;
      const ai = (i: number, p: number) => (node.attrs.ta ? p * m + i : i * k + p);
      const bi = (p: number, j: number) => (node.attrs.tb ? j * k + p : p * n + j);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += A[ai(i, p)] * B[bi(p, j)];
          out[i * n + j] = s;
        }
      }
    },
    kernel({ node, ins: [a, b], at }) {
      const n = node.shape[node.shape.length - 1];
      const m = size(node.shape) / n;
      const k = matrix(a.shape)[node.attrs.ta ? 0 : 1];
      const variant = node.attrs.ta ? "gemm_tn" : node.attrs.tb ? "gemm_nt" : "gemm_nn";
      return `${variant}(${at(a)}, ${at(b)}, ${at(node)}, ${m}, ${n}, ${k}, false, true);`;
    },
    parallel: true,
  },

  // ---- sum over leading axes down to the node's own (suffix) shape: the gradient of broadcasting
  sum_leading: {
    fusion: "reduction",
    arity: 1,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    reference(ins, out) {
      out.fill(0);
      for (let i = 0; i < ins[0].length; i++) out[i % out.length] += ins[0][i];
    },
    // threads share the columns
    parallel: true,
    kernel({ node, ins: [x], at }) {
      const inner = size(node.shape);
      const v = lanesFor(inner);
      return `const j0 = from(${inner}, ${v.step / 4}) * 4;
    const j1 = to(${inner}, ${v.step / 4}) * 4;
    memory.fill(${at(node)} + j0, 0, j1 - j0);
    for (let r = 0; r < ${size(x.shape) / inner}; r++) {
      for (let j = j0; j < j1; j += ${v.step}) {
        ${v.store(`${at(node)} + j`, v.add(v.load(`${at(node)} + j`), v.load(`${at(x)} + r * ${inner * 4} + j`)))}
      }
    }`;
    },
  },

  // ---- losses, mean over rows; and their gradients (inputs: a, b, upstream scalar g)
  // mean squared error over rows < n and their features
  ...pointwiseLoss("mse", "mse_grad", true, {
    ref: (y, t) => (y - t) ** 2,
    as: (y, t) => `(${y} - ${t}) * (${y} - ${t})`,
    grads: [
      { ref: (y, t) => 2 * (y - t), as: (y, t) => `<f32>2 * (${y} - ${t})` },
      { ref: (y, t) => 2 * (t - y), as: (y, t) => `<f32>2 * (${t} - ${y})` },
    ],
  }),
  // logits [B, C] against target distributions [B, C] (integer labels: label_ce in sequence.ts)
  softmax_ce: {
    fusion: "reduction",
    arity: 2,
    shape([z, t]) {
      if (!z.batched || z.shape.length !== 2) return `logits must be [B, classes], got ${show(z)}`;
      return lossShape([z, t]);
    },
    grad: (g, node, gy) => [g.op("softmax_ce_grad", [...node.inputs, gy]), null],
    reference: (ins, out, ctx) => {
      out[0] = rowLoss(ins, ctx, ([z, t]) => {
        const p = softmaxRow(z);
        return t.reduce((s, tj, j) => s - (tj ? tj * Math.log(p[j]) : 0), 0);
      });
    },
    kernel: (k) => {
      const w = k.ins[0].shape[1];
      return `{
    let total: f32 = 0;
    ${rowLoop(
      k,
      `${lseAS(w)}
      for (let j = 0; j < ${w}; j++) total += load<f32>(pb + j * 4) * (lse - load<f32>(pa + j * 4));`,
    )}
    store<f32>(${k.at(k.node)}, total / <f32>n);
  }`;
    },
  },
  softmax_ce_grad: {
    fusion: "reduction",
    arity: 3,
    shape: lossGradShape,
    reference(ins, out, ctx) {
      const w = ctx.node.shape[1];
      out.fill(0);
      for (let r = 0; r < ctx.n; r++) {
        const p = softmaxRow(ins[0].subarray(r * w, (r + 1) * w));
        for (let j = 0; j < w; j++) out[r * w + j] = (ins[2][0] * (p[j] - ins[1][r * w + j])) / ctx.n;
      }
    },
    kernel(k) {
      const w = k.node.shape[1];
      return rowGradLoop(
        k,
        `${lseAS(w)}
      for (let j = 0; j < ${w}; j++) store<f32>(po + j * 4, scale * (Mathf.exp(load<f32>(pa + j * 4) - lse) - load<f32>(pb + j * 4)));`,
      );
    },
  },
  // H(p, q) = -sum p log q, on given distributions p (true) and q (predicted)
  ...pointwiseLoss("cross_entropy", "cross_entropy_grad", false, {
    ref: (p, q) => (p ? -p * Math.log(q) : 0),
    as: (p, q) => `(${p} != 0 ? -${p} * Mathf.log(${q}) : <f32>0)`,
    grads: [
      { ref: (_p, q) => -Math.log(q), as: (_p, q) => `-Mathf.log(${q})` },
      { ref: (p, q) => -p / q, as: (p, q) => `-${p} / ${q}` },
    ],
  }),
  // D_KL(p || q) = sum p log(p / q), with 0 log 0 = 0
  ...pointwiseLoss("kl_div", "kl_div_grad", false, {
    ref: (p, q) => (p ? p * Math.log(p / q) : 0),
    as: (p, q) => `(${p} != 0 ? ${p} * Mathf.log(${p} / ${q}) : <f32>0)`,
    grads: [
      { ref: (p, q) => (p ? Math.log(p / q) + 1 : 0), as: (p, q) => `(${p} != 0 ? Mathf.log(${p} / ${q}) + <f32>1 : <f32>0)` },
      { ref: (p, q) => -p / q, as: (p, q) => `-${p} / ${q}` },
    ],
  }),

  // ---- the perceptron rule's error signal: y - t on rows < n, zero on padding rows
  residual: {
    fusion: "reduction",
    arity: 2,
    shape: same,
    reference(ins, out, ctx) {
      const w = out.length / ctx.node.shape[0];
      out.fill(0);
      for (let i = 0; i < ctx.n * w; i++) out[i] = ins[0][i] - ins[1][i];
    },
    kernel(k) {
      const w = size(k.node.shape) / k.node.shape[0];
      return `memory.fill(${k.at(k.node)}, 0, ${size(k.node.shape) * 4});
    for (let i = 0; i < n * ${w * 4}; i += 4) store<f32>(${k.at(k.node)} + i, load<f32>(${k.at(k.ins[0])} + i) - load<f32>(${k.at(k.ins[1])} + i));`;
    },
  },

  // ---- convolution, pooling, reshape, dropout: compiler/ir/spatial.ts
  ...spatialOps,
  // ---- embedding, positions, attention, layer norm, sequence loss: compiler/ir/sequence.ts
  ...sequenceOps,
};

export const opDef = (name: OpName): OpDef => ops[name];
export const isMap = (def: OpDef): def is MapOp => "map" in def;
