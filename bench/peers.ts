// The TensorFlow.js peer of the throughput benchmark: trains the workloads of
// docs PEERS.md (W2 MLP and W3 CNN on Fashion-MNIST, W4 Transformer on
// generated sequence reversal) with TF.js's wasm backend (XNNPACK, SIMD, one
// thread: Node has no threads for it) and its pure-JS cpu backend, and reports
// training samples/s (and, for W4, target tokens/s). Steady state: warm up,
// then time `seconds` of steps (each including putting its batch in place),
// `repeats` times, median. Run by bench/throughput.ts beside nnc on the same data.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

export type Backend = "wasm" | "cpu";
export type ImageWorkload = "W2" | "W3";
export type Workload = ImageWorkload | "W4";

/** The data of W2 and W3 (Fashion-MNIST). */
export interface PeerData {
  /** NCHW [count, 1, 28, 28], pixels in [0, 1]. */
  images: Float32Array;
  /** [count], classes 0..9. */
  labels: Int32Array;
  count: number;
}

/** The data of W4 (sequence reversal): each [count, 16], token ids 0..63. */
export interface SequenceData {
  src: Int32Array;
  /** BOS then tgt_out without its last token. */
  tgt_in: Int32Array;
  /** src reversed. */
  tgt_out: Int32Array;
  count: number;
}

/** Training throughput; W4 also counts target tokens (samples/s x 16). */
export type PeerResult = { samples_per_second: number; tokens_per_second?: number } | { error: string };

const BATCH = 64;
const PIXELS = 28 * 28;
const CLASSES = 10;
/** A warm-up step slower than this (TF.js cpu on W3, ~10 s) switches to timing a fixed number of steps. */
const SLOW_STEP_MS = 1000;
const SLOW_TIMED_STEPS = 3;

let wasmPathsSet = false;

/** Makes `backend` the (process-global) TF.js backend; the wasm binaries are read from the installed package. */
export async function useBackend(backend: Backend): Promise<void> {
  if (backend === "wasm" && !wasmPathsSet) {
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    setWasmPaths(`${join(dirname(pkg), "dist")}/`);
    wasmPathsSet = true;
  }
  tf.enableProdMode(); // only silences TF.js's console banner suggesting tfjs-node; no maths change
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend '${backend}' failed to initialize`);
  await tf.ready();
}

/** One workload ready to train: `step` trains on the next batch, `sync` waits for the backend. */
interface Trainer {
  batch: number;
  step(): void;
  sync(): void;
  dispose(): void;
}

/** The model of W2 or W3; its output is logits [batch, 10] (softmax is in the loss). */
function buildModel(workload: ImageWorkload): { model: tfl.Sequential; optimizer: tf.Optimizer; inputShape: number[] } {
  if (workload === "W2") {
    // [b, 784] -> dense 256 relu -> dense 10
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [PIXELS], units: 256, activation: "relu" }), tfl.layers.dense({ units: CLASSES })],
    });
    return { model, optimizer: tf.train.sgd(0.1), inputShape: [PIXELS] };
  }
  // NHWC [b, 28, 28, 1] -> conv 16 -> [b, 28, 28, 16] -> pool -> [b, 14, 14, 16] -> conv 32 -> [b, 14, 14, 32]
  // -> pool -> [b, 7, 7, 32] -> flatten [b, 1568] -> dense 128 relu -> dense 10
  const conv = (filters: number, first: boolean) =>
    tfl.layers.conv2d({ ...(first ? { inputShape: [28, 28, 1] } : {}), filters, kernelSize: 3, padding: "same", activation: "relu" });
  const model = tfl.sequential({
    layers: [
      conv(16, true),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      conv(32, false),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: "relu" }),
      tfl.layers.dense({ units: CLASSES }),
    ],
  });
  return { model, optimizer: tf.train.momentum(0.01, 0.9), inputShape: [28, 28, 1] };
}

/** W2 / W3 with tfjs-layers. */
function imageTrainer(workload: ImageWorkload, data: PeerData): Trainer {
  // One-hot labels [count, 10], made once, like the layout change below.
  const oneHot = new Float32Array(data.count * CLASSES);
  for (let i = 0; i < data.count; i++) oneHot[i * CLASSES + data.labels[i]] = 1;
  const { model, optimizer, inputShape } = buildModel(workload);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const batches = Math.floor(data.count / BATCH);
  let next = 0;
  return {
    batch: BATCH,
    // One SGD step on the next batch. With one channel, NCHW [b, 1, 28, 28] and
    // NHWC [b, 28, 28, 1] are the same bytes, so the images go in unchanged.
    step() {
      const start = (next++ % batches) * BATCH;
      tf.tidy(() => {
        const x = tf.tensor(data.images.subarray(start * PIXELS, (start + BATCH) * PIXELS), [BATCH, ...inputShape]);
        const y = tf.tensor2d(oneHot.subarray(start * CLASSES, (start + BATCH) * CLASSES), [BATCH, CLASSES]);
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

// W4: the encoder-decoder Transformer of examples/reverse.nn, with tfjs-core ops and variables.
const T_BATCH = 32;
const LENGTH = 16; // source and target
const VOCAB = 64;
const D = 64;
const HEADS = 4;
const DH = D / HEADS;
const FF = 256;
const LAYERS = 2;

type Linear = { w: tf.Variable; b: tf.Variable }; // w [in, out], b [out]
type Norm = { gain: tf.Variable; bias: tf.Variable }; // [D] each
type Attention = { q: Linear; k: Linear; v: Linear; out: Linear };
type Ffn = { up: Linear; down: Linear };
type EncoderLayer = { self: Attention; norm1: Norm; ffn: Ffn; norm2: Norm };
type DecoderLayer = { self: Attention; norm1: Norm; cross: Attention; norm2: Norm; ffn: Ffn; norm3: Norm };

/** The variables, initialised like nnc's: Glorot-uniform weights and embeddings, zero biases, unit gains; seeded. */
function transformerParams() {
  const vars: tf.Variable[] = [];
  let seed = 1;
  const variable = (t: tf.Tensor) => {
    const v = tf.variable(t);
    vars.push(v);
    return v;
  };
  const glorot = (fanIn: number, fanOut: number) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return variable(tf.randomUniform([fanIn, fanOut], -limit, limit, "float32", seed++));
  };
  const linear = (fanIn: number, fanOut: number): Linear => ({ w: glorot(fanIn, fanOut), b: variable(tf.zeros([fanOut])) });
  const norm = (): Norm => ({ gain: variable(tf.ones([D])), bias: variable(tf.zeros([D])) });
  const attention = (): Attention => ({ q: linear(D, D), k: linear(D, D), v: linear(D, D), out: linear(D, D) });
  const ffn = (): Ffn => ({ up: linear(D, FF), down: linear(FF, D) });
  const params = {
    srcTable: glorot(VOCAB, D), // [64, 64]
    tgtTable: glorot(VOCAB, D),
    encoder: Array.from({ length: LAYERS }, (): EncoderLayer => ({ self: attention(), norm1: norm(), ffn: ffn(), norm2: norm() })),
    decoder: Array.from(
      { length: LAYERS },
      (): DecoderLayer => ({ self: attention(), norm1: norm(), cross: attention(), norm2: norm(), ffn: ffn(), norm3: norm() }),
    ),
    head: linear(D, VOCAB), // to the vocabulary
  };
  return { params, vars };
}

/** [LENGTH, D]: sin(s / 10000^(2i/D)) at even features 2i, cos at odd ones, as nnc's `positional`. */
function sinusoids(): Float32Array {
  const table = new Float32Array(LENGTH * D);
  for (let s = 0; s < LENGTH; s++) {
    for (let i = 0; i < D; i++) {
      const angle = s * Math.exp((-(i - (i % 2)) / D) * Math.log(10000));
      table[s * D + i] = i % 2 ? Math.cos(angle) : Math.sin(angle);
    }
  }
  return table;
}

/**
 * W4. Activations are kept as token rows [B*16, 64] (B = 32); attention
 * reshapes them to heads [B*4, 16, 16]. The embedding is tf.gather where its
 * gradient (UnsortedSegmentSum) exists (cpu), else a one-hot [B*16, 64] x
 * table [64, 64] product (wasm), as PEERS.md measured it. One-hot rows are
 * made on the host: the wasm OneHot kernel ignores its dtype and writes int32
 * bits into a float32 tensor.
 */
function transformerTrainer(backend: Backend, data: SequenceData): Trainer {
  const { params, vars } = transformerParams();
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8); // nnc's Adam defaults
  const rows = T_BATCH * LENGTH;
  // Constants: positions tiled over the batch [B*16, 64]; causal mask [16, 16], 0 on and below the diagonal, -1e9 above.
  const positions = tf.tidy(() => tf.tile(tf.tensor2d(sinusoids(), [LENGTH, D]), [T_BATCH, 1]));
  const causal = tf.tidy(() => tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([LENGTH, LENGTH]), -1, 0), 1), 1e9));
  const gather = tf.getKernel("UnsortedSegmentSum", backend) !== undefined;

  const linear = (x: tf.Tensor2D, l: Linear) => tf.add(tf.matMul(x, l.w), l.b) as tf.Tensor2D; // [n, in] -> [n, out]
  const norm = (x: tf.Tensor2D, p: Norm) => {
    const { mean, variance } = tf.moments(x, -1, true); // [n, 1] each
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normalized, p.gain), p.bias) as tf.Tensor2D;
  };
  // [B*16, 64] -> [B*4, 16, 16] and back
  const split = (x: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(x, [T_BATCH, LENGTH, HEADS, DH]), [0, 2, 1, 3]), [T_BATCH * HEADS, LENGTH, DH]);
  const merge = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [T_BATCH, HEADS, LENGTH, DH]), [0, 2, 1, 3]), [rows, D]) as tf.Tensor2D;
  const attention = (q: tf.Tensor2D, kv: tf.Tensor2D, a: Attention, masked: boolean) => {
    const scores = tf.mul(tf.matMul(split(linear(q, a.q)), split(linear(kv, a.k)), false, true), 1 / Math.sqrt(DH)); // [B*4, 16, 16]
    const weights = tf.softmax(masked ? tf.add(scores, causal) : scores);
    return linear(merge(tf.matMul(weights, split(linear(kv, a.v)))), a.out); // [B*16, 64]
  };
  const ffn = (x: tf.Tensor2D, f: Ffn) => linear(tf.relu(linear(x, f.up)), f.down); // [B*16, 64] -> 256 -> 64
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

  const batches = Math.floor(data.count / T_BATCH);
  let next = 0;
  return {
    batch: T_BATCH,
    step() {
      const start = (next++ % batches) * rows;
      const ids = (column: Int32Array) => column.subarray(start, start + rows); // [B*16]
      const oneHot = (column: Int32Array) => {
        const rowsOut = new Float32Array(rows * VOCAB); // [B*16, 64]; fresh: the cpu backend may keep the array
        ids(column).forEach((id, r) => {
          rowsOut[r * VOCAB + id] = 1;
        });
        return tf.tensor2d(rowsOut, [rows, VOCAB]);
      };
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Median training samples/s of `trainer` over `repeats` timings of >= `seconds` (and >= 3 steps when one step takes over a second). */
function timeSteps(trainer: Trainer, options: { seconds: number; repeats: number }): number {
  // Warm-up: >= 1 s and >= 5 steps, or a single step when steps are slow.
  let t0 = performance.now();
  trainer.step();
  trainer.sync();
  const slow = performance.now() - t0 > SLOW_STEP_MS;
  if (!slow) {
    t0 = performance.now();
    for (let s = 1; s < 5 || performance.now() - t0 < 1000; s++) trainer.step();
    trainer.sync();
  }

  const rates: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    let steps = 0;
    const start = performance.now();
    while (steps < (slow ? SLOW_TIMED_STEPS : 1) || performance.now() - start < options.seconds * 1000) {
      trainer.step();
      steps++;
    }
    trainer.sync();
    rates.push((steps * trainer.batch) / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

/**
 * Trains `workload` with TF.js on `backend` in steady state and returns the
 * median training samples/s (W4: and target tokens/s) over `repeats` timings
 * of >= `seconds` each (and, when one step takes over a second, of >= 3 steps
 * each after 1 warm-up step). A backend that cannot train the workload gives
 * `{ error }` (first line).
 */
export async function measurePeer(
  backend: Backend,
  workload: ImageWorkload,
  data: PeerData,
  options: { seconds: number; repeats: number },
): Promise<PeerResult>;
export async function measurePeer(backend: Backend, workload: "W4", data: SequenceData, options: { seconds: number; repeats: number }): Promise<PeerResult>;
export async function measurePeer(
  backend: Backend,
  workload: Workload,
  data: PeerData | SequenceData,
  options: { seconds: number; repeats: number },
): Promise<PeerResult> {
  const batch = workload === "W4" ? T_BATCH : BATCH;
  if (data.count < batch) return { error: `need at least ${batch} samples, got ${data.count}` };
  await useBackend(backend);
  let trainer: Trainer | undefined;
  try {
    trainer = workload === "W4" ? transformerTrainer(backend, data as SequenceData) : imageTrainer(workload, data as PeerData);
    const samples = timeSteps(trainer, options);
    return workload === "W4" ? { samples_per_second: samples, tokens_per_second: samples * LENGTH } : { samples_per_second: samples };
  } catch (e) {
    return { error: firstLine(e) };
  } finally {
    trainer?.dispose();
  }
}

/** What the JSON report records about the peer. */
export async function peerInfo(): Promise<Record<string, unknown>> {
  await useBackend("wasm");
  return {
    tfjs: tf.version_core,
    wasm_simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    wasm_threads: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
  };
}
