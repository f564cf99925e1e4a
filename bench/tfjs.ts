// The TensorFlow.js peers of the benchmarks: its wasm backend (XNNPACK, SIMD,
// one thread: Node has no threads for it) and its pure-JS cpu backend, on the
// workloads of PEERS.md (W2 MLP and W3 CNN with tfjs-layers, training and,
// for W3, inference; W4 Transformer with tfjs-core ops) and on one 1024^3
// matMul. Timed by bench/harness.ts
// beside nnc on the same data.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Contender, Task } from "./harness.ts";
import {
  type Attention,
  type BenchData,
  batchCursor,
  causalMask,
  type Ffn,
  GEMM_GFLOP,
  GEMM_SIZE,
  type ImageData,
  type Linear,
  type Norm,
  oneHotRows,
  type SequenceData,
  sinusoids,
  transformerParams,
  W2,
  W3,
  W4,
} from "./workloads.ts";

type Backend = "wasm" | "cpu";

let wasmPathsSet = false;

/** Makes `backend` the (process-global) TF.js backend; the wasm binaries are read from the installed package. */
async function useBackend(backend: Backend): Promise<void> {
  if (backend === "wasm" && !wasmPathsSet) {
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    setWasmPaths(`${join(dirname(pkg), "dist")}/`);
    wasmPathsSet = true;
  }
  tf.enableProdMode(); // only silences TF.js's console banner suggesting tfjs-node; no maths change
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend '${backend}' failed to initialize`);
  await tf.ready();
}

/** W2 or W3 as a tfjs-layers model; its output is logits [batch, 10] (softmax is in the loss). */
function buildModel(workload: "W2" | "W3"): { model: tfl.Sequential; inputShape: number[] } {
  if (workload === "W2") {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [W2.pixels], units: W2.hidden, activation: "relu" }), tfl.layers.dense({ units: W2.classes })],
    });
    return { model, inputShape: [W2.pixels] };
  }
  // NHWC [b, 28, 28, 1] -> [b, 28, 28, 16] -> [b, 14, 14, 16] -> [b, 14, 14, 32] -> [b, 7, 7, 32] -> [b, 1568] -> 128 -> 10
  const conv = (filters: number, first: boolean) =>
    tfl.layers.conv2d({ ...(first ? { inputShape: [W3.side, W3.side, 1] } : {}), filters, kernelSize: W3.kernel, padding: "same", activation: "relu" });
  const model = tfl.sequential({
    layers: [
      conv(W3.filters[0], true),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      conv(W3.filters[1], false),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: W3.hidden, activation: "relu" }),
      tfl.layers.dense({ units: W3.classes }),
    ],
  });
  return { model, inputShape: [W3.side, W3.side, 1] };
}

const IMAGE_BATCH = W2.batch; // = W3.batch

/** Images [start, start + IMAGE_BATCH) as [IMAGE_BATCH, ...inputShape]: NCHW [b, 1, 28, 28] and NHWC [b, 28, 28, 1] are the same bytes, so they go in unchanged. */
const imageBatch = (data: ImageData, start: number, inputShape: number[]) =>
  tf.tensor(data.images.subarray(start * W2.pixels, (start + IMAGE_BATCH) * W2.pixels), [IMAGE_BATCH, ...inputShape]);

/** W2 / W3: one SGD step per batch of images. */
function imageTrainer(workload: "W2" | "W3", data: ImageData): Task {
  const classes = W2.classes;
  const oneHot = oneHotRows(data.labels, classes); // [count, 10], made once
  const { model, inputShape } = buildModel(workload);
  const optimizer = workload === "W2" ? tf.train.sgd(W2.lr) : tf.train.momentum(W3.lr, W3.momentum);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const nextStart = batchCursor(data.count, IMAGE_BATCH);
  return {
    work: IMAGE_BATCH,
    step() {
      const start = nextStart();
      tf.tidy(() => {
        const x = imageBatch(data, start, inputShape);
        const y = tf.tensor2d(oneHot.subarray(start * classes, (start + IMAGE_BATCH) * classes), [IMAGE_BATCH, classes]);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, false, vars);
      });
    },
    // Both backends run synchronously; reading a weight back is a cheap barrier all the same.
    sync: () => vars[vars.length - 1].dataSync(),
    dispose() {
      model.dispose();
      optimizer.dispose();
    },
  };
}

/**
 * W3i: W3's forward pass on a batch of images, its logits read back each step
 * (nnc's predict copies them out too). model.apply, as the training step calls
 * it: model.predict would split the batch into batches of 32 unless told otherwise.
 */
function imagePredictor(data: ImageData): Task {
  const { model, inputShape } = buildModel("W3");
  const nextStart = batchCursor(data.count, IMAGE_BATCH);
  return {
    work: IMAGE_BATCH,
    step: () => tf.tidy(() => (model.apply(imageBatch(data, nextStart(), inputShape)) as tf.Tensor).dataSync()),
    sync() {},
    dispose: () => model.dispose(),
  };
}

const { length: LENGTH, vocab: VOCAB, d: D, heads: HEADS } = W4;
const DH = D / HEADS;
const ROWS = W4.batch * LENGTH; // token rows of one batch

/**
 * W4. Activations are kept as token rows [B*16, 64] (B = 32); attention
 * reshapes them to heads [B*4, 16, 16]. The embedding is tf.gather where its
 * gradient (UnsortedSegmentSum) exists (cpu), else a one-hot [B*16, 64] x
 * table [64, 64] product (wasm), as PEERS.md measured it. One-hot rows are
 * made on the host: the wasm OneHot kernel ignores its dtype and writes int32
 * bits into a float32 tensor.
 */
function transformerTrainer(backend: Backend, data: SequenceData): Task {
  const vars: tf.Variable[] = [];
  const params = transformerParams((values, shape) => {
    const v = tf.variable(tf.tensor(values, shape));
    vars.push(v);
    return v;
  });
  const optimizer = tf.train.adam(W4.lr, W4.beta1, W4.beta2, W4.eps);
  // Constants: positions tiled over the batch [B*16, 64]; the causal mask [16, 16].
  const positions = tf.tidy(() => tf.tile(tf.tensor2d(sinusoids(LENGTH, D), [LENGTH, D]), [W4.batch, 1]));
  const causal = tf.tensor2d(causalMask(LENGTH), [LENGTH, LENGTH]);
  const gather = tf.getKernel("UnsortedSegmentSum", backend) !== undefined;

  const linear = (x: tf.Tensor2D, l: Linear<tf.Variable>) => tf.add(tf.matMul(x, l.w), l.b) as tf.Tensor2D; // [n, in] -> [n, out]
  const norm = (x: tf.Tensor2D, p: Norm<tf.Variable>) => {
    const { mean, variance } = tf.moments(x, -1, true); // [n, 1] each
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normalized, p.gain), p.bias) as tf.Tensor2D;
  };
  // [B*16, 64] -> [B*4, 16, 16] and back
  const split = (x: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(x, [W4.batch, LENGTH, HEADS, DH]), [0, 2, 1, 3]), [W4.batch * HEADS, LENGTH, DH]);
  const merge = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [W4.batch, HEADS, LENGTH, DH]), [0, 2, 1, 3]), [ROWS, D]) as tf.Tensor2D;
  const attention = (q: tf.Tensor2D, kv: tf.Tensor2D, a: Attention<tf.Variable>, masked: boolean) => {
    const scores = tf.mul(tf.matMul(split(linear(q, a.q)), split(linear(kv, a.k)), false, true), 1 / Math.sqrt(DH)); // [B*4, 16, 16]
    const weights = tf.softmax(masked ? tf.add(scores, causal) : scores);
    return linear(merge(tf.matMul(weights, split(linear(kv, a.v)))), a.out); // [B*16, 64]
  };
  const ffn = (x: tf.Tensor2D, f: Ffn<tf.Variable>) => linear(tf.relu(linear(x, f.up)), f.down); // [B*16, 64] -> 256 -> 64
  // tokens, as ids [B*16] or one-hot rows [B*16, 64] -> [B*16, 64], plus positions
  const embed = (tokens: tf.Tensor, table: tf.Variable) =>
    tf.add(gather ? tf.gather(table, tokens) : tf.matMul(tokens as tf.Tensor2D, table), positions) as tf.Tensor2D;

  const loss = (src: tf.Tensor, tgtIn: tf.Tensor, labels: tf.Tensor2D) => {
    let memory = embed(src, params.srcTable);
    for (const l of params.encoder) {
      memory = norm(tf.add(memory, attention(memory, memory, l.self, false)), l.norm1);
      memory = norm(tf.add(memory, ffn(memory, l.ffn)), l.norm2);
    }
    let y = embed(tgtIn, params.tgtTable);
    for (const l of params.decoder) {
      y = norm(tf.add(y, attention(y, y, l.self, true)), l.norm1);
      y = norm(tf.add(y, attention(y, memory, l.cross, false)), l.norm2);
      y = norm(tf.add(y, ffn(y, l.ffn)), l.norm3);
    }
    return tf.losses.softmaxCrossEntropy(labels, linear(y, params.head)) as tf.Scalar; // mean over the B*16 tokens
  };

  const nextStart = batchCursor(data.count, W4.batch);
  return {
    work: ROWS, // target tokens
    step() {
      const start = nextStart() * LENGTH;
      const ids = (column: Int32Array) => column.subarray(start, start + ROWS); // [B*16]
      // fresh arrays: the cpu backend may keep them
      const oneHot = (column: Int32Array) => tf.tensor2d(oneHotRows(ids(column), VOCAB), [ROWS, VOCAB]);
      tf.tidy(() => {
        const tokens = (column: Int32Array) => (gather ? tf.tensor1d(ids(column), "int32") : oneHot(column));
        const [src, tgtIn, labels] = [tokens(data.src), tokens(data.tgt_in), oneHot(data.tgt_out)];
        optimizer.minimize(() => loss(src, tgtIn, labels), false, vars);
      });
    },
    sync: () => vars[vars.length - 1].dataSync(),
    dispose() {
      tf.dispose([...vars, positions, causal]);
      optimizer.dispose();
    },
  };
}

/** C = A B at 1024^3 with tf.matMul; A and B uniform in [-1, 1). */
function gemmTask(): Task {
  const [a, b] = [1, 2].map((seed) => tf.randomUniform([GEMM_SIZE, GEMM_SIZE], -1, 1, "float32", seed));
  return {
    work: GEMM_GFLOP,
    step: () => tf.dispose(tf.matMul(a, b)), // both backends compute it before returning
    sync() {},
    dispose: () => tf.dispose([a, b]),
  };
}

/** TF.js on `backend` as a column of the table. */
export function tfjsContender(backend: Backend): Contender<BenchData> {
  return {
    name: `tfjs-${backend}`,
    prepare: () => useBackend(backend),
    tasks: {
      W2: (data) => imageTrainer("W2", data.images),
      W3: (data) => imageTrainer("W3", data.images),
      W3i: (data) => imagePredictor(data.images),
      W4: (data) => transformerTrainer(backend, data.sequences),
      gemm_nn: gemmTask,
    },
    async info() {
      await useBackend(backend);
      return backend === "wasm"
        ? {
            version: tf.version_core,
            simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
            threads: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
          }
        : { version: tf.version_core };
    },
  };
}
