// The TensorFlow.js peer of the throughput benchmark: trains the workloads of
// docs PEERS.md (W2 MLP, W3 CNN) on Fashion-MNIST with TF.js's wasm backend
// (XNNPACK, SIMD, one thread: Node has no threads for it) and its pure-JS cpu
// backend, and reports training samples/s. Steady state: warm up, then time
// `seconds` of steps (each including putting its batch in place), `repeats`
// times, median. Run by bench/throughput.ts beside nnc on the same data.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

export type Backend = "wasm" | "cpu";
export type Workload = "W2" | "W3";

export interface PeerData {
  /** NCHW [count, 1, 28, 28], pixels in [0, 1]. */
  images: Float32Array;
  /** [count], classes 0..9. */
  labels: Int32Array;
  count: number;
}

export type PeerResult = { samples_per_second: number } | { error: string };

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

/** The model of a workload; its output is logits [batch, 10] (softmax is in the loss). */
function buildModel(workload: Workload): { model: tfl.Sequential; optimizer: tf.Optimizer; inputShape: number[] } {
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/**
 * Trains `workload` with TF.js on `backend` in steady state and returns the
 * median training samples/s over `repeats` timings of >= `seconds` each (or,
 * when one step takes over a second, of 3 steps each after 1 warm-up step).
 * A backend that cannot train the workload gives `{ error }` (first line).
 */
export async function measurePeer(backend: Backend, workload: Workload, data: PeerData, options: { seconds: number; repeats: number }): Promise<PeerResult> {
  if (data.count < BATCH) return { error: `need at least ${BATCH} samples, got ${data.count}` };
  await useBackend(backend);
  // One-hot labels [count, 10], made once, like the layout change below.
  const oneHot = new Float32Array(data.count * CLASSES);
  for (let i = 0; i < data.count; i++) oneHot[i * CLASSES + data.labels[i]] = 1;
  const { model, optimizer, inputShape } = buildModel(workload);
  try {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const batches = Math.floor(data.count / BATCH);
    let next = 0;
    // One SGD step on the next batch. With one channel, NCHW [b, 1, 28, 28] and
    // NHWC [b, 28, 28, 1] are the same bytes, so the images go in unchanged.
    const step = () => {
      const start = (next++ % batches) * BATCH;
      tf.tidy(() => {
        const x = tf.tensor(data.images.subarray(start * PIXELS, (start + BATCH) * PIXELS), [BATCH, ...inputShape]);
        const y = tf.tensor2d(oneHot.subarray(start * CLASSES, (start + BATCH) * CLASSES), [BATCH, CLASSES]);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, false, vars);
      });
    };
    // Both backends run synchronously; reading a weight back is a cheap barrier all the same.
    const sync = () => vars[vars.length - 1].dataSync();

    // Warm-up: >= 1 s and >= 5 steps, or a single step when steps are slow.
    let t0 = performance.now();
    step();
    sync();
    const slow = performance.now() - t0 > SLOW_STEP_MS;
    if (!slow) {
      t0 = performance.now();
      for (let s = 1; s < 5 || performance.now() - t0 < 1000; s++) step();
      sync();
    }

    const rates: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      let steps = 0;
      const start = performance.now();
      if (slow) {
        for (; steps < SLOW_TIMED_STEPS; steps++) step();
        sync();
      } else {
        while (performance.now() - start < options.seconds * 1000) {
          step();
          steps++;
        }
        sync();
      }
      rates.push((steps * BATCH) / ((performance.now() - start) / 1000));
    }
    return { samples_per_second: median(rates) };
  } catch (e) {
    return { error: firstLine(e) };
  } finally {
    model.dispose();
    optimizer.dispose();
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
