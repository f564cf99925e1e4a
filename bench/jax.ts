// The jax-js peer of the benchmarks (@jax-js/jax, "wasm" device; one thread:
// Node 20 has no global Worker for its thread pool). Each workload of PEERS.md
// is a loss function of a parameter tree; one jit-compiled function computes
// its value and gradient and applies the optimizer, so a training step is one
// call; W3i, W3's forward pass alone, is one jit-compiled call as well. W3's
// convolutions are im2col + matmul, the faster of the two ways
// PEERS.md tried (jax-js's own lax.conv trained at 45 samples/s). Arrays are
// reference-counted: every use of an array but its last takes `.ref`.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defaultDevice, init, type JsTree, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import type { Contender, Task } from "./harness.ts";
import {
  type Attention,
  type BenchData,
  batchCursor,
  causalMask,
  type Ffn,
  GEMM_GFLOP,
  GEMM_SIZE,
  glorot,
  type ImageData,
  type Linear,
  type Norm,
  oneHotRows,
  type SequenceData,
  sinusoids,
  type TransformerParams,
  transformerParams,
  uniformSource,
  W2,
  W3,
  W4,
} from "./workloads.ts";

type Arr = np.Array;

/** Per parameter: its next value and optimizer slots, from its gradient and the 1-based step count (a scalar the rule must not consume). */
interface Optimizer {
  slots: number;
  update(w: Arr, g: Arr, slots: Arr[], count: Arr): [Arr, Arr[]];
}

const sgd = (lr: number): Optimizer => ({ slots: 0, update: (w, g) => [w.sub(g.mul(lr)), []] });

/** TF.js's and nnc's momentum: v = mu v + g, w -= lr v. */
const momentum = (lr: number, mu: number): Optimizer => ({
  slots: 1,
  update(w, g, [v]) {
    const velocity = v.mul(mu).add(g);
    return [w.sub(velocity.ref.mul(lr)), [velocity]];
  },
});

/** Adam with bias correction: w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). */
const adam = (lr: number, b1: number, b2: number, eps: number): Optimizer => ({
  slots: 2,
  update(w, g, [m, v], count) {
    const m1 = m.mul(b1).add(g.ref.mul(1 - b1));
    const v1 = v.mul(b2).add(g.ref.mul(g).mul(1 - b2));
    const correction = (beta: number) =>
      np
        .exp(count.ref.mul(Math.log(beta)))
        .neg()
        .add(1); // 1 - beta^t
    const mHat = m1.ref.div(correction(b1));
    const vHat = v1.ref.div(correction(b2));
    return [w.sub(mHat.div(np.sqrt(vHat).add(eps)).mul(lr)), [m1, v1]];
  },
});

/**
 * A training Task: `params` trained on `loss` by `optimizer`, one jit-compiled
 * call a step. jax-js is lazy: the step reads its loss back, which runs it
 * (left pending, the queued steps slowed W2 down ~20x in a trial).
 */
function trainer<P extends JsTree<Arr>>(spec: {
  params: P;
  optimizer: Optimizer;
  loss: (params: P, ...inputs: Arr[]) => Arr;
  /** The next batch's inputs of `loss`. */
  inputs: () => Arr[];
  work: number;
}): Task {
  const { optimizer } = spec;
  const [leaves, def] = tree.flatten(spec.params);
  const lossOfLeaves = (ws: Arr[], ...inputs: Arr[]) => spec.loss(tree.unflatten(def, ws) as P, ...inputs);
  const update = jit((ws: Arr[], slots: Arr[][], count: Arr, ...inputs: Arr[]) => {
    const [loss, grads] = valueAndGrad(lossOfLeaves)(tree.ref(ws), ...inputs);
    const next = count.add(1);
    const updated = ws.map((w, i) => optimizer.update(w, grads[i], slots[i], next));
    return { params: updated.map(([w]) => w), slots: updated.map(([, s]) => s), count: next, loss };
  });
  let state = {
    params: leaves,
    slots: leaves.map((w) => Array.from({ length: optimizer.slots }, () => np.zeros(w.shape))),
    count: np.zeros([]),
  };
  return {
    work: spec.work,
    step() {
      const { loss, ...next } = update(state.params, state.slots, state.count, ...spec.inputs());
      state = next;
      loss.dataSync();
    },
    sync: () => state.params[state.params.length - 1].ref.dataSync(),
    dispose() {
      tree.dispose(state);
      update.dispose();
    },
  };
}

type Dense = Linear<Arr>;

/** [fanIn, fanOut] Glorot-uniform weights and zero biases. */
const denseParams = (fanIn: number, fanOut: number, uniform: () => number): Dense => ({
  w: np.array(glorot(fanIn, fanOut, uniform), { shape: [fanIn, fanOut] }),
  b: np.zeros([fanOut]),
});

const dense = (x: Arr, l: Dense) => np.matmul(x, l.w).add(l.b); // [n, in] -> [n, out]

/** Mean softmax cross-entropy of logits [n, k] against one-hot labels [n, k]. */
const crossEntropy = (logits: Arr, labels: Arr) => {
  const n = logits.shape[0];
  return nn
    .logSoftmax(logits, -1)
    .mul(labels)
    .sum()
    .mul(-1 / n);
};

const { batch: IMAGE_BATCH, pixels: PIXELS, classes: CLASSES } = W2; // W3's are the same

/** The images of samples [start, start + IMAGE_BATCH) as [IMAGE_BATCH, ...shape] (NCHW with one channel is NHWC); a copy (slice), as np.array may hold on to the array it is given. */
const imageRows = (data: ImageData, start: number, shape: number[]) =>
  np.array(data.images.slice(start * PIXELS, (start + IMAGE_BATCH) * PIXELS), { shape: [IMAGE_BATCH, ...shape] });

/** One batch of images [b, ...shape] and one-hot labels [b, 10]. */
function imageBatches(data: ImageData, shape: number[]): () => Arr[] {
  const oneHot = oneHotRows(data.labels, CLASSES);
  const nextStart = batchCursor(data.count, IMAGE_BATCH);
  return () => {
    const start = nextStart();
    return [imageRows(data, start, shape), np.array(oneHot.slice(start * CLASSES, (start + IMAGE_BATCH) * CLASSES), { shape: [IMAGE_BATCH, CLASSES] })];
  };
}

/** W2: [b, 784] -> dense 256 relu -> dense 10, SGD. */
function w2Trainer(data: ImageData): Task {
  const uniform = uniformSource(1);
  type Params = { hidden: Dense; out: Dense };
  return trainer<Params>({
    params: { hidden: denseParams(W2.pixels, W2.hidden, uniform), out: denseParams(W2.hidden, W2.classes, uniform) },
    optimizer: sgd(W2.lr),
    loss: (p, x, labels) => crossEntropy(dense(nn.relu(dense(x, p.hidden)), p.out), labels),
    inputs: imageBatches(data, [W2.pixels]),
    work: W2.batch,
  });
}

/** 3x3 'same' convolution + relu as im2col + one matmul: x [b, h, w, c], kernel [9c, f] with rows ordered (dy, dx, c). */
function convRelu(x: Arr, l: Dense): Arr {
  const [b, h, w, c] = x.shape;
  const padded = np.pad(x, { 1: [1, 1], 2: [1, 1] }); // [b, h+2, w+2, c]
  const taps: Arr[] = [];
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) taps.push(padded.ref.slice([], [dy, dy + h], [dx, dx + w], []));
  padded.dispose();
  const columns = np.concatenate(taps, 3).reshape([b * h * w, 9 * c]); // [b*h*w, 9c]
  return nn.relu(dense(columns, l)).reshape([b, h, w, -1]);
}

/** 2x2 max pooling, stride 2: [b, h, w, c] -> [b, h/2, w/2, c]. */
function maxPool(x: Arr): Arr {
  const [b, h, w, c] = x.shape;
  return x.reshape([b, h / 2, 2, w / 2, 2, c]).max([2, 4]);
}

type W3Params = { conv1: Dense; conv2: Dense; hidden: Dense; out: Dense };
const W3_FLAT = (W3.side / 4) ** 2 * W3.filters[1]; // 1568
const W3_IMAGE = [W3.side, W3.side, 1]; // NHWC

function w3Params(): W3Params {
  const uniform = uniformSource(1);
  const [f1, f2] = W3.filters;
  return {
    conv1: denseParams(9, f1, uniform), // kernels as [9c, f] matrices, Glorot over that shape
    conv2: denseParams(9 * f1, f2, uniform),
    hidden: denseParams(W3_FLAT, W3.hidden, uniform),
    out: denseParams(W3.hidden, W3.classes, uniform),
  };
}

/** W3's forward pass: images [b, 28, 28, 1] -> conv 16 -> pool -> conv 32 -> pool -> flatten 1568 -> dense 128 relu -> logits [b, 10]. */
function w3Logits(p: W3Params, x: Arr): Arr {
  const features = maxPool(convRelu(maxPool(convRelu(x, p.conv1)), p.conv2)).reshape([W3.batch, W3_FLAT]);
  return dense(nn.relu(dense(features, p.hidden)), p.out);
}

/** W3: the forward pass, softmax cross-entropy, SGD with momentum. */
function w3Trainer(data: ImageData): Task {
  return trainer<W3Params>({
    params: w3Params(),
    optimizer: momentum(W3.lr, W3.momentum),
    loss: (p, x, labels) => crossEntropy(w3Logits(p, x), labels),
    inputs: imageBatches(data, W3_IMAGE),
    work: W3.batch,
  });
}

/**
 * W3i: W3's forward pass alone, jit-compiled, on the next batch of images.
 * Each step reads the logits back, which runs it (jax-js is lazy), as nnc's
 * predict copies them out. A call consumes its arguments: the parameters go
 * in with one more reference each.
 */
function w3Predictor(data: ImageData): Task {
  const params = w3Params();
  const forward = jit(w3Logits);
  const nextStart = batchCursor(data.count, W3.batch);
  return {
    work: W3.batch,
    step: () => forward(tree.ref(params), imageRows(data, nextStart(), W3_IMAGE)).dataSync(),
    sync() {},
    dispose() {
      tree.dispose(params);
      forward.dispose();
    },
  };
}

const { length: LENGTH, vocab: VOCAB, d: D, heads: HEADS } = W4;
const DH = D / HEADS;
const ROWS = W4.batch * LENGTH; // token rows of one batch

/** Post-LayerNorm over the features of x [n, D]. */
function layerNorm(x: Arr, p: Norm<Arr>): Arr {
  const centered = x.ref.sub(x.mean(-1, { keepdims: true }));
  const variance = np.square(centered.ref).mean(-1, { keepdims: true });
  return centered
    .div(np.sqrt(variance.add(1e-5)))
    .mul(p.gain)
    .add(p.bias);
}

// token rows [B*16, 64] <-> heads [B*4, 16, 16]
const splitHeads = (x: Arr) =>
  x
    .reshape([W4.batch, LENGTH, HEADS, DH])
    .transpose([0, 2, 1, 3])
    .reshape([W4.batch * HEADS, LENGTH, DH]);
const mergeHeads = (x: Arr) => x.reshape([W4.batch, HEADS, LENGTH, DH]).transpose([0, 2, 1, 3]).reshape([ROWS, D]);

/** Multi-head attention of queries q [B*16, D] over kv [B*16, D]; mask [16, 16] is added to the scores. */
function attention(q: Arr, kv: Arr, a: Attention<Arr>, mask?: Arr): Arr {
  const scores = np.matmul(splitHeads(dense(q, a.q)), splitHeads(dense(kv.ref, a.k)).transpose([0, 2, 1])).mul(1 / Math.sqrt(DH)); // [B*4, 16, 16]
  const weights = nn.softmax(mask ? scores.add(mask) : scores, -1);
  return dense(mergeHeads(np.matmul(weights, splitHeads(dense(kv, a.v)))), a.out);
}

const feedForward = (x: Arr, f: Ffn<Arr>) => dense(nn.relu(dense(x, f.up)), f.down);

/**
 * W4, activations as token rows [B*16, 64] (B = 32). The embedding is a
 * one-hot [B*16, 64] x table [64, 64] product: with np.take, jit fails on its
 * gradient ("routine primitive scatter input is not imm"). One-hot rows of
 * the sequences and labels are made on the host.
 */
function w4Trainer(data: SequenceData): Task {
  const positionTable = sinusoids(LENGTH, D);
  const mask = causalMask(LENGTH);
  const embed = (tokens: Arr, table: Arr) =>
    np
      .matmul(tokens, table)
      .reshape([W4.batch, LENGTH, D])
      .add(np.array(positionTable, { shape: [LENGTH, D] }))
      .reshape([ROWS, D]);
  const nextStart = batchCursor(data.count, W4.batch);
  return trainer<TransformerParams<Arr>>({
    params: transformerParams((values, shape) => np.array(values, { shape })),
    optimizer: adam(W4.lr, W4.beta1, W4.beta2, W4.eps),
    loss: (p, src, tgtIn, labels) => {
      let memory = embed(src, p.srcTable);
      for (const l of p.encoder) {
        memory = layerNorm(memory.ref.add(attention(memory.ref, memory, l.self)), l.norm1);
        memory = layerNorm(memory.ref.add(feedForward(memory, l.ffn)), l.norm2);
      }
      let y = embed(tgtIn, p.tgtTable);
      for (const l of p.decoder) {
        y = layerNorm(y.ref.add(attention(y.ref, y, l.self, np.array(mask, { shape: [LENGTH, LENGTH] }))), l.norm1);
        y = layerNorm(y.ref.add(attention(y, memory.ref, l.cross)), l.norm2);
        y = layerNorm(y.ref.add(feedForward(y, l.ffn)), l.norm3);
      }
      memory.dispose();
      return crossEntropy(dense(y, p.head), labels);
    },
    inputs: () => {
      const start = nextStart() * LENGTH;
      const oneHot = (column: Int32Array) => np.array(oneHotRows(column.subarray(start, start + ROWS), VOCAB), { shape: [ROWS, VOCAB] });
      return [oneHot(data.src), oneHot(data.tgt_in), oneHot(data.tgt_out)];
    },
    work: ROWS, // target tokens
  });
}

/** C = A B at 1024^3 with np.matmul; reading C back (4 MB, ~1% of the time) runs the lazy product in full. */
function gemmTask(): Task {
  const uniform = uniformSource(1);
  const matrix = () =>
    np.array(
      Float32Array.from({ length: GEMM_SIZE * GEMM_SIZE }, () => 2 * uniform() - 1),
      { shape: [GEMM_SIZE, GEMM_SIZE] },
    );
  const [a, b] = [matrix(), matrix()];
  return {
    work: GEMM_GFLOP,
    step: () => np.matmul(a.ref, b.ref).dataSync(),
    sync() {},
    dispose: () => tree.dispose([a, b]),
  };
}

/** The installed version (its package.json is not in the package's exports). */
function jaxVersion(): string {
  const main = createRequire(import.meta.url).resolve("@jax-js/jax"); // .../dist/index.cjs
  return JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")).version;
}

let initialized: Promise<void> | undefined;

/** Starts jax-js's wasm device only (init() without it fails on Node 20, PEERS.md) and makes it the default. */
function useWasm(): Promise<void> {
  initialized ??= init("wasm").then((devices) => {
    if (!devices.includes("wasm")) throw new Error("jax-js: the wasm device did not start");
    defaultDevice("wasm");
  });
  return initialized;
}

export const jaxContender: Contender<BenchData> = {
  name: "jax-js",
  prepare: useWasm,
  tasks: {
    W2: (data) => w2Trainer(data.images),
    W3: (data) => w3Trainer(data.images),
    W3i: (data) => w3Predictor(data.images),
    W4: (data) => w4Trainer(data.sequences),
    gemm_nn: gemmTask,
  },
  // jax-js runs wasm kernels on a worker pool only where a global Worker exists (not in Node 20).
  info: async () => ({ version: jaxVersion(), device: "wasm", threads: typeof Worker === "undefined" ? 1 : "worker pool" }),
};
