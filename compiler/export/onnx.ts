// ONNX export: the inference graph (what `predict` computes, the ancestors of
// graph.outputs) as a standard ONNX model, opset 17, for ONNX Runtime or
// PyTorch. A table like the op table gives, for every IR op, its emitter: the
// ONNX nodes that compute exactly what the op's float64 reference computes.
// Parameters become initializers under their own names ("h.w"); inputs and
// outputs keep their names. The batch axis is the symbolic "batch" when no
// op mixes rows, else the compiled batch size. Ops that only training uses
// (losses, gradients) are refused with a located diagnostic.

import onnxProto from "onnx-proto";
import { type Diagnostic, DiagnosticError, fail } from "../diagnostics.ts";
import { phases } from "../ir/build.ts";
import { type Graph, type Node, size } from "../ir/graph.ts";
import { isMap, matrix, type OpName, opDef } from "../ir/ops.ts";
import { MASKED, sequenceOps } from "../ir/sequence.ts";

const { onnx } = onnxProto;
type Attribute = onnxProto.onnx.IAttributeProto;

export const OPSET = 17;
/** ONNX IR version 8 is the one that goes with opset 17. */
const IR_VERSION = 8;

export type OnnxExport = { ok: true; bytes: Uint8Array; nodes: number; symbolicBatch: boolean } | { ok: false; diagnostics: Diagnostic[] };

/** Constant data: f32, i32, i64 (shapes and axes), or bool as one byte per value. */
type Values = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** What an emitter sees of the node it exports and of the ONNX graph it adds to. */
interface Emit {
  node: Node;
  /** The IR nodes of its inputs. */
  ins: Node[];
  /** The ONNX values of its inputs, by name. */
  args: string[];
  /** The ONNX value name its result must have. */
  out: string;
  /** Adds an ONNX node; its output is the result (`out`), or a helper value `${out}/${helper}`. Returns the output's name. */
  op(type: string, inputs: string[], attributes?: Record<string, Attribute>, helper?: string): string;
  /** Adds an initializer: the result, or a helper constant `${out}/${helper}`. Returns its name. */
  constant(values: Values, dims: readonly number[], helper?: string): string;
  /** The node's shape as a Reshape target: a symbolic batch axis becomes -1. */
  reshapeTarget(): number[];
  /** This parameter's trained values. */
  weights(): Float32Array;
  /** Declares the node a graph input. */
  graphInput(): void;
  /** Stops the export with a located error: the op cannot be exported, and why. */
  refuse(why: string): never;
}
type Emitter = (e: Emit) => void;

const int = (i: number): Attribute => ({ type: onnx.AttributeProto.AttributeType.INT, i });
const ints = (values: readonly number[]): Attribute => ({ type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] });
const float = (f: number): Attribute => ({ type: onnx.AttributeProto.AttributeType.FLOAT, f });
const int64s = (values: readonly number[]) => BigInt64Array.from(values, BigInt);
const { FLOAT, INT32, INT64, BOOL } = onnx.TensorProto.DataType;

const same =
  (type: string): Emitter =>
  (e) =>
    e.op(type, e.args);
const refused =
  (why: string): Emitter =>
  (e) =>
    e.refuse(why);
const loss = refused("a loss belongs to training, not to the inference graph; make the model's `output` the prediction instead");
const gradient = refused("it computes a gradient, which only the training step has");

/** Sets entries of scores to the mask's fill value (MASKED) where `masked` is true (broadcast). */
const fillWhere = (e: Emit, masked: string) => e.op("Where", [masked, e.constant(Float32Array.of(e.node.attrs.fill ?? MASKED), [], "fill"), e.args[0]]);
/** Axes [0 .. rank) with the last two swapped: a batch of matrices transposed. */
const swapLast = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];

function pool(type: string): Emitter {
  return (e) => {
    const window = e.node.attrs.window ?? 2;
    const stride = e.node.attrs.stride ?? window;
    e.op(type, e.args, { kernel_shape: ints([window, window]), strides: ints([stride, stride]) });
  };
}

export const emitters: Record<OpName, Emitter> = {
  input: (e) => e.graphInput(),
  param: (e) => e.constant(e.weights(), e.node.shape),
  const: (e) => e.constant(Float32Array.of(e.node.attrs.value ?? 0), []),

  add: same("Add"),
  sub: same("Sub"),
  mul: same("Mul"),
  div: same("Div"),
  neg: same("Neg"),
  identity: same("Identity"),
  sigmoid: same("Sigmoid"),
  tanh: same("Tanh"),
  relu: same("Relu"),
  exp: same("Exp"),
  log: same("Log"),
  sin: same("Sin"),
  // 1 for x >= 0, else 0 (NaN gives 0, as in the reference)
  step: (e) => e.op("Cast", [e.op("GreaterOrEqual", [e.args[0], e.constant(Float32Array.of(0), [], "zero")], {}, "nonnegative")], { to: int(FLOAT) }),
  softmax: (e) => e.op("Softmax", e.args, { axis: int(-1) }),

  // A [..., k] (leading axes merged) times B seen as a matrix [rows, n]: MatMul broadcasts a 2-D B the same way
  matmul: (e) => {
    if (e.node.attrs.ta || e.node.attrs.tb) e.refuse("a product with a transposed operand appears only in gradients");
    const b = e.ins[1];
    const rhs = b.shape.length === 2 ? e.args[1] : e.op("Reshape", [e.args[1], e.constant(int64s(matrix(b.shape)), [2], "b_shape")], {}, "b_matrix");
    e.op("MatMul", [e.args[0], rhs]);
  },
  // x [B, C, H, W], w [F, C, KH, KW]; pads [top, left, bottom, right] are ONNX's [y begin, x begin, y end, x end]
  conv2d: (e) => {
    const stride = e.node.attrs.stride ?? 1;
    e.op("Conv", e.args, { kernel_shape: ints(e.ins[1].shape.slice(2)), strides: ints([stride, stride]), pads: ints(e.node.attrs.pads ?? [0, 0, 0, 0]) });
  },
  // x [B, C, ...] + b [C] viewed as [C, 1, ...]
  bias_add: (e) => {
    const [x, b] = e.ins;
    const perChannel = [b.shape[0], ...Array(x.shape.length - 2).fill(1)];
    e.op("Add", [e.args[0], e.op("Reshape", [e.args[1], e.constant(int64s(perChannel), [perChannel.length], "bias_shape")], {}, "per_channel")]);
  },
  maxpool2d: pool("MaxPool"),
  avgpool2d: pool("AveragePool"),
  reshape: (e) => {
    const target = e.reshapeTarget();
    e.op("Reshape", [e.args[0], e.constant(int64s(target), [target.length], "shape")]);
  },
  // at inference the mask is all ones: a scalar 1, which the Mul applying it broadcasts
  dropout_mask: (e) => e.constant(Float32Array.of(1), []),

  // tokens [B, S] pick rows of the table [V, d]
  embedding: (e) => e.op("Gather", [e.args[1], e.args[0]], { axis: int(0) }),
  // the positions table is a constant: computed by the op's own reference
  sinusoid: (e) => {
    const table = new Float64Array(size(e.node.shape));
    sequenceOps.sinusoid.reference([], table, { node: e.node, ins: [], n: 0, training: false, random24: () => 0 });
    e.constant(Float32Array.from(table), e.node.shape);
  },
  bmm: (e) => {
    const operand = (k: number, transposed: boolean | undefined, helper: string) =>
      transposed ? e.op("Transpose", [e.args[k]], { perm: ints(swapLast(e.ins[k].shape.length)) }, helper) : e.args[k];
    e.op("MatMul", [operand(0, e.node.attrs.ta, "a_transposed"), operand(1, e.node.attrs.tb, "b_transposed")]);
  },
  transpose: (e) => e.op("Transpose", e.args, { perm: ints(e.node.attrs.perm ?? []) }),
  layernorm: (e) => e.op("LayerNormalization", e.args, { axis: int(-1), epsilon: float(e.node.attrs.eps ?? 1e-5) }),
  // scores [..., S, S]: keys after the query get the fill value
  causal_mask: (e) => {
    const [queries, keys] = e.node.shape.slice(-2);
    const later = Uint8Array.from({ length: queries * keys }, (_, i) => Number(i % keys > Math.floor(i / keys)));
    fillWhere(e, e.constant(later, [queries, keys], "later_keys"));
  },
  // scores [B, heads, Sq, Sk]: keys whose token [B, Sk] is padding get the fill value
  key_mask: (e) => {
    const padding = e.op("Equal", [e.args[1], e.constant(Int32Array.of(e.node.attrs.pad ?? 0), [], "pad")], {}, "padding");
    fillWhere(e, e.op("Unsqueeze", [padding, e.constant(int64s([1, 2]), [2], "axes")], {}, "padding_keys"));
  },
  mean_axis: (e) => e.op("ReduceMean", e.args, { axes: ints([e.node.attrs.axis ?? 1]), keepdims: int(0) }),

  mse: loss,
  softmax_ce: loss,
  cross_entropy: loss,
  kl_div: loss,
  label_ce: loss,
  sigmoid_grad: gradient,
  tanh_grad: gradient,
  relu_grad: gradient,
  softmax_grad: gradient,
  sum_leading: gradient,
  mse_grad: gradient,
  softmax_ce_grad: gradient,
  cross_entropy_grad: gradient,
  kl_div_grad: gradient,
  residual: gradient,
  conv2d_grad_x: gradient,
  conv2d_grad_w: gradient,
  bias_grad: gradient,
  maxpool_grad: gradient,
  avgpool_grad: gradient,
  embedding_grad: gradient,
  layernorm_grad_x: gradient,
  layernorm_grad_gamma: gradient,
  label_ce_grad: gradient,
  mean_axis_grad: gradient,
};

/**
 * Whether the batch axis can be symbolic: every value computed from an input
 * keeps the batch as its first axis, and no op mixes rows (a matrix product
 * with a batched right operand, a reshape that moves the batch, a broadcast
 * of a batched tensor along another axis). Otherwise the model is exported
 * for exactly the compiled batch size.
 */
function rowsIndependent(graph: Graph, ids: number[]): boolean {
  const fromInputs = new Set<number>();
  for (const id of ids) {
    const node = graph.nodes[id];
    const ins = node.inputs.map((i) => graph.nodes[i]);
    if (node.op !== "input" && !ins.some((x) => fromInputs.has(x.id))) continue;
    fromInputs.add(id);
    const mixesRows =
      (node.op === "matmul" && ins[1].batched) ||
      (node.op === "reshape" && node.shape[0] !== ins[0].shape[0]) ||
      (isMap(opDef(node.op)) && ins.some((x) => x.batched && x.shape.length < node.shape.length));
    if (!node.batched || mixesRows) return false;
  }
  return true;
}

/** The ONNX model computing the graph's outputs from its inputs with these weights, or why it cannot be exported. */
export function exportOnnx(graph: Graph, weights: Record<string, Float32Array>): OnnxExport {
  const ids = phases(graph).predict;
  const symbolicBatch = rowsIndependent(graph, ids);
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const inputs: onnxProto.onnx.IValueInfoProto[] = [];
  const diagnostics: Diagnostic[] = [];
  const dims = (node: Node) => node.shape.map((d, axis) => (axis === 0 && node.batched && symbolicBatch ? "batch" : d));
  const valueInfo = (name: string, node: Node): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: node.dtype === "i32" ? INT32 : FLOAT,
        shape: { dim: dims(node).map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });

  const names = valueNames(graph, ids);
  for (const id of ids) {
    const node = graph.nodes[id];
    const out = names.get(id) as string;
    const where = `${node.span.source}:${node.span.start.line}:${node.span.start.column}`;
    const helper = (name?: string) => (name ? `${out}/${name}` : out);
    const e: Emit = {
      node,
      ins: node.inputs.map((i) => graph.nodes[i]),
      args: node.inputs.map((i) => names.get(i) as string),
      out,
      op(type, args, attributes = {}, name) {
        const output = helper(name);
        const attribute = Object.entries(attributes).map(([key, a]) => ({ name: key, ...a }));
        nodes.push({ name: output, opType: type, input: args, output: [output], attribute, docString: `${node.op} of \`${node.label}\` at ${where}` });
        return output;
      },
      constant(values, shape, name) {
        const dataType = values instanceof Float32Array ? FLOAT : values instanceof Int32Array ? INT32 : values instanceof BigInt64Array ? INT64 : BOOL;
        const rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
        const output = helper(name);
        initializers.push({ name: output, dims: [...shape], dataType, rawData });
        return output;
      },
      reshapeTarget: () => dims(node).map((d) => (typeof d === "string" ? -1 : d)),
      weights() {
        const values = weights[node.label];
        if (!values) e.refuse(`the weights have no values for \`${node.label}\``);
        if (values.length !== size(node.shape))
          e.refuse(`\`${node.label}\` has ${size(node.shape)} values in this model, but the weights have ${values.length}`);
        return values;
      },
      graphInput: () => inputs.push(valueInfo(out, node)),
      refuse: (why) => fail("E023", node.span, { op: node.op, label: node.label, detail: why }),
    };
    try {
      emitters[node.op](e);
    } catch (error) {
      if (!(error instanceof DiagnosticError)) throw error;
      diagnostics.push(error.diagnostic);
    }
  }
  if (diagnostics.length) return { ok: false, diagnostics };

  const outputs = [...new Set(graph.outputs)].map((id) => valueInfo(names.get(id) as string, graph.nodes[id]));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "nnc",
    graph: { name: graph.model, node: nodes, initializer: initializers, input: inputs, output: outputs },
  });
  return { ok: true, bytes: onnx.ModelProto.encode(model).finish(), nodes: nodes.length, symbolicBatch };
}

/** ONNX value names: inputs, parameters and outputs by their labels; everything else `${label}/${op}_${id}`. */
function valueNames(graph: Graph, ids: number[]): Map<number, string> {
  const outputs = new Set(graph.outputs);
  const names = new Map<number, string>();
  const taken = new Set<string>();
  for (const id of ids) {
    const node = graph.nodes[id];
    const named = node.op === "input" || node.op === "param" || outputs.has(id);
    const name = named && !taken.has(node.label) ? node.label : `${node.label}/${node.op}_${id}`;
    names.set(id, name);
    taken.add(name);
  }
  return names;
}
