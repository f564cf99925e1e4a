// Compiled wasm (f32) agrees with the float64 reference interpreter on fresh
// random inputs and weights: the loss, every gradient, and the weights after
// a few training steps. Widths are chosen to hit every SIMD path and tail.

import { describe, expect, it } from "vitest";
import { Interpreter } from "../../compiler/ir/interp.ts";
import { Rng } from "../../src/runtime/random.ts";
import { compileModel, randomData } from "../helpers.ts";

const models: Record<string, string> = {
  "sigmoid, tanh and mse; widths 37 and 19 (SIMD blocks and tails)": `model m {
    input x: [19]
    input t: [3]
    h = dense(x, 37, activation: sigmoid)
    z = dense(h, 3, activation: tanh)
    loss mse(z, t)
    train { optimizer: sgd(lr: 0.1, momentum: 0.9, weight_decay: 0.01), batch: 8 }
  }`,
  "a CNN: convolutions (same, valid, stride 2), pooling, flatten, dropout; Adam with weight decay": `model m {
    input image: [2, 9, 9]
    input label: class(4)
    a = image |> conv2d(5, kernel: 3, pad: same, activation: relu) |> maxpool(2)
    b = image |> conv2d(3, kernel: 2, stride: 2) |> avgpool(3, stride: 1)
    features = dropout(flatten(a), 0.25)
    logits = dense(features, 4) + dense(flatten(b), 4, name: "side")
    loss softmax_cross_entropy(logits, label)
    train { optimizer: adam(lr: 0.01, weight_decay: 0.1), batch: 6 }
  }`,
  "2x2 max-pooling after a ReLU: rows of fourteen windows (a last group overlapping the one before) and of three (one at a time); image rows 28 wide": `model m {
    input image: [2, 12, 28]
    input label: class(3)
    a = image |> conv2d(3, kernel: 3, pad: same, activation: relu) |> maxpool(2)
    b = image |> conv2d(2, kernel: 3, stride: 4, activation: relu) |> maxpool(2)
    logits = dense(flatten(a), 3) + dense(flatten(b), 3, name: "side")
    loss softmax_cross_entropy(logits, label)
    train { optimizer: sgd(lr: 0.1), batch: 4 }
  }`,
  "convolutions whose windows overhang the image: a kernel wider than it, stride 3, uneven padding": `model m {
    input image: [2, 4, 3]
    input label: class(3)
    a = image |> conv2d(3, kernel: 5, pad: same)
    b = image |> conv2d(2, kernel: 4, stride: 3, pad: same, activation: tanh)
    logits = dense(flatten(a), 3) + dense(flatten(b), 3, name: "side")
    loss softmax_cross_entropy(logits, label)
    train { optimizer: sgd(lr: 0.1), batch: 3 }
  }`,
  "an encoder-decoder Transformer: embedding, positions, masked and cross attention, layer norm, label smoothing": `
  block encoder(x, heads, hidden, mask) {
    x = layernorm(x + attention(x, x, x, heads: heads, mask: mask))
    return layernorm(x + ffn(x, hidden))
  }
  block decoder(y, memory, heads, hidden, mask) {
    y = layernorm(y + attention(y, y, y, heads: heads, causal: true))
    y = layernorm(y + attention(y, memory, memory, heads: heads, mask: mask))
    return layernorm(y + ffn(y, hidden))
  }
  model m {
    input src: tokens(5, vocab: 7)
    input tgt_in: tokens(4, vocab: 6)
    input tgt_out: tokens(4, vocab: 6)
    x = positional(embedding(src, 8))
    repeat 2 { x = encoder(x, 2, 12, src) }
    y = positional(embedding(tgt_in, 8), learned: true)
    y = decoder(y, x, 2, 12, src)
    loss softmax_cross_entropy(dense(y, 6), tgt_out, smoothing: 0.1)
    # not Adam: the key bias's true gradient is 0 (softmax ignores a shift shared by all keys),
    # and Adam would turn the f32 rounding noise of that 0 into whole steps
    train { optimizer: sgd(lr: 0.1, momentum: 0.9), clip: 0.5, batch: 4 }
  }`,
  "a Vision Transformer: patches, learned positions, attention, mean over tokens": `model m {
    input image: [2, 4, 6]
    input label: class(3)
    x = positional(dense(patches(image, 2), 8), learned: true)
    x = layernorm(x + attention(x, x, x, heads: 2))
    loss softmax_cross_entropy(dense(mean(x), 3), label)
    train { optimizer: sgd(lr: 0.1), batch: 5 }
  }`,
  "products past the GEMM's blocks, forward and back: 300 wide (two blocks of k), batch 67 (two blocks of rows, the last odd), 37, 300 and 45 units (whole panels, a last one padded, narrow columns)": `model m {
    input x: [300]
    input label: class(45)
    h = x |> dense(37, activation: relu) |> dense(300, activation: relu)
    loss softmax_cross_entropy(dense(h, 45), label)
    train { optimizer: sgd(lr: 0.05), batch: 67 }
  }`,
  "relu and softmax cross-entropy on class labels": `model m {
    input x: [6]
    input label: class(5)
    h = x |> dense(20) |> relu
    loss softmax_cross_entropy(dense(h, 5), label)
    train { optimizer: sgd(lr: 0.05), batch: 8 }
  }`,
  "softmax cross-entropy on distributions; cross_entropy and kl_div": `model m {
    input x: [4]
    input p: [4]
    q = softmax(dense(x, 4))
    loss cross_entropy(p, q) + kl_div(p, q) + softmax_cross_entropy(dense(x, 4, name: "z"), p)
    train { batch: 8 }
  }`,
  "arithmetic, broadcasting, exp, log, identity": `model m {
    input x: [5]
    input t: [4]
    a = dense(x, 4)
    b = dense(x, 4, activation: sigmoid)
    y = a * b - a / (exp(b) + 2) + -a * 0.5 + log(b + 1) + identity(a)
    loss mse(y, t)
    train { batch: 8 }
  }`,
};

describe("compiled wasm matches the reference interpreter", () => {
  for (const [name, text] of Object.entries(models)) {
    it(name, async () => {
      const { compiled, model } = await compileModel(text);
      const rng = new Rng(7);
      const batch = compiled.manifest.batch;
      for (const n of [batch, batch - 3]) {
        const data = randomData(compiled.manifest, n, rng);
        if (data.columns.p) toDistributions(data.columns.p as Float32Array, 4);
        const seed = rng.int(0, 1000);
        model.initialize(seed);
        const weights = model.getWeights();
        const wasm = model.gradients(data);

        const interp = new Interpreter(compiled.graph, seed);
        for (const p of compiled.graph.params) interp.values[p.node].set(weights[compiled.graph.nodes[p.node].label]);
        for (const id of compiled.graph.inputs) {
          const node = compiled.graph.nodes[id];
          interp.values[id].fill(0).set(data.columns[node.label]);
        }
        const loss = interp.gradients(n);
        // with a clip in the train section, make sure it bites (the norm is above it)
        const clip = compiled.graph.train.clip;
        if (clip) expect(Math.hypot(...Object.values(wasm.grads).flatMap((g) => Array.from(g)))).toBeGreaterThan(clip);
        expect(relError(Float64Array.of(wasm.loss), Float64Array.of(loss))).toBeLessThan(1e-4);
        for (const [param, grad] of compiled.graph.grads) {
          const label = compiled.graph.nodes[param].label;
          expect(relError(wasm.grads[label], interp.values[grad]), label).toBeLessThan(1e-4);
        }

        // three training steps: the same weights after each
        for (let step = 0; step < 3; step++) {
          model.trainBatch(
            data,
            Int32Array.from({ length: n }, (_, i) => i),
            0,
          );
          interp.trainStep(n);
        }
        const trained = model.getWeights();
        for (const p of compiled.graph.params) {
          const label = compiled.graph.nodes[p.node].label;
          expect(relError(trained[label], interp.values[p.node]), label).toBeLessThan(1e-4);
        }
      }
    });
  }
});

describe("checking numerics", () => {
  it("changes no value: the same weights, bit for bit, after training steps", async () => {
    for (const name of Object.keys(models).slice(1, 3)) {
      const { compiled, model } = await compileModel(models[name]);
      const data = randomData(compiled.manifest, compiled.manifest.batch * 3, new Rng(3));
      const weights = [false, true].map((checkNumerics) => {
        model.initialize(5);
        model.checkNumerics = checkNumerics;
        model.fit(data, { epochs: 2, seed: 5 });
        return model.getWeights();
      });
      expect(weights[1], name).toEqual(weights[0]);
    }
  });
});

/** Rows of exp(v) / sum(exp(v)): the true distributions that cross-entropy and KL take. */
function toDistributions(values: Float32Array, width: number): void {
  for (let r = 0; r < values.length / width; r++) {
    const row = values.subarray(r * width, (r + 1) * width).map(Math.exp);
    const sum = row.reduce((a, b) => a + b, 0);
    values.set(
      row.map((v) => v / sum),
      r * width,
    );
  }
}

/**
 * max |a - b| relative to max |b|: the norm-wise error of a whole tensor. A
 * tensor whose values are all below 1e-3 is measured against 1e-3 (an absolute
 * error under 1e-7): such a gradient is f32 rounding noise around a true 0, as
 * attention's key bias has (softmax ignores a shift shared by all keys).
 */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
