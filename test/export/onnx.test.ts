// ONNX export: a trained model exported to ONNX and run in ONNX Runtime gives
// what the compiled wasm's predict gives, on fresh random inputs and on more
// rows than the compiled batch (the batch axis is symbolic). Prints the max
// relative difference per model. An op that cannot be exported is refused
// with a located message, and `nnc export` writes a model ONNX Runtime loads.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { render } from "../../compiler/diagnostics.ts";
import { exportOnnx } from "../../compiler/export/onnx.ts";
import { compileGraph } from "../../compiler/index.ts";
import { size } from "../../compiler/ir/graph.ts";
import { exportCommand } from "../../src/cli/export.ts";
import type { Manifest } from "../../src/runtime/manifest.ts";
import type { Dataset } from "../../src/runtime/model.ts";
import { Rng } from "../../src/runtime/random.ts";
import { encodeWeights } from "../../src/runtime/weights.ts";
import { compileModel, randomData } from "../helpers.ts";

const models: Record<string, string> = {
  "an MLP: dense, relu, dropout, softmax": `model mlp {
    input x: [12]
    input label: class(5)
    logits = x |> dense(16, activation: relu) |> dropout(0.2) |> dense(5)
    loss softmax_cross_entropy(logits, label)
    output softmax(logits)
    train { optimizer: sgd(lr: 0.1), batch: 8 }
  }`,
  "a CNN: conv2d (same, odd padding after, stride 2), max and average pooling, flatten, dense": `model cnn {
    input image: [2, 9, 9]
    input label: class(4)
    logits = image
      |> conv2d(4, kernel: 3, pad: same, activation: relu) |> maxpool(2)
      |> conv2d(3, kernel: 3, stride: 2, pad: same, activation: sigmoid) |> avgpool(2, stride: 1)
      |> flatten |> dense(4)
    loss softmax_cross_entropy(logits, label)
    output softmax(logits)
    train { optimizer: adam(lr: 0.01), batch: 6 }
  }`,
  "a Transformer encoder classifier: embedding, sinusoids, attention (2 heads, padding mask), layernorm, ffn, mean": `
  block encoder(x, mask) {
    x = layernorm(x + attention(x, x, x, heads: 2, mask: mask))
    return layernorm(x + ffn(x, 16))
  }
  model classifier {
    input tokens: tokens(7, vocab: 11)
    input label: class(3)
    x = positional(embedding(tokens, 8))
    repeat 2 { x = encoder(x, tokens) }
    loss softmax_cross_entropy(dense(mean(x), 3), label)
    train { optimizer: adam(lr: 0.01), batch: 4 }
  }`,
  "a Vision Transformer with causal attention and the other elementwise ops (exp, log, neg, sub, div; sin and step on the output only, as they have no gradient)": `model vit {
    input image: [1, 4, 6]
    input t: [3]
    x = positional(dense(patches(image, 2), 8), learned: true)
    x = layernorm(x + attention(x, x, x, heads: 2, causal: true))
    y = dense(mean(x), 3, activation: tanh)
    z = y - exp(y) / (log(sigmoid(y) + 1) + 2) * -y
    loss mse(z, t)
    output sin(z) + step(y)
    train { optimizer: sgd(lr: 0.05), batch: 5 }
  }`,
};

/** The largest |a - b| / max(|b|, 0.01): relative, with a floor for values near zero. */
function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 0.01));
  return worst;
}

/** Runs an exported model in ONNX Runtime on every row of the data at once; returns its first output. */
async function runOnnx(bytes: Uint8Array, manifest: Manifest, data: Dataset): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const input = manifest.inputs.find((i) => i.name === name);
    if (!input) throw new Error(`the ONNX model has an input \`${name}\` the manifest does not`);
    const values = data.columns[name];
    const dims = [data.count, ...input.shape];
    feeds[name] = values instanceof Int32Array ? new ort.Tensor("int32", values, dims) : new ort.Tensor("float32", values as Float32Array, dims);
  }
  const results = await session.run(feeds);
  return results[session.outputNames[0]].data as Float32Array;
}

describe("ONNX export agrees with the compiled model", () => {
  for (const [name, text] of Object.entries(models)) {
    it(name, async () => {
      const { compiled, model } = await compileModel(text, "test.nn", { optimize: 0 });
      const rng = new Rng(11);
      const batch = compiled.manifest.batch;
      model.fit(randomData(compiled.manifest, 3 * batch, rng), { epochs: 1 });

      const exported = exportOnnx(compiled.graph, model.getWeights());
      if (!exported.ok) throw new Error(exported.diagnostics.map((d) => d.message).join("\n"));
      expect(exported.symbolicBatch).toBe(true);
      const fresh = randomData(compiled.manifest, 2 * batch + 3, rng);
      const difference = maxRelativeDifference(await runOnnx(exported.bytes, compiled.manifest, fresh), model.predict(fresh));
      console.log(`${compiled.manifest.model}: ${exported.nodes} ONNX nodes, max relative difference ${difference.toExponential(2)}`);
      expect(difference).toBeLessThan(1e-5);
    });
  }

  it("fixes the batch size when an op mixes rows (a product with a batched right operand)", async () => {
    const { compiled, model } = await compileModel(
      `model rows {
      input x: [4]
      input t: [4]
      y = matmul(x, x)
      loss mse(y, t)
      train { batch: 4 }
    }`,
      "rows.nn",
      { optimize: 0 },
    );
    const exported = exportOnnx(compiled.graph, model.getWeights());
    if (!exported.ok) throw new Error(exported.diagnostics.map((d) => d.message).join("\n"));
    expect(exported.symbolicBatch).toBe(false);
    const fresh = randomData(compiled.manifest, 4, new Rng(5));
    const difference = maxRelativeDifference(await runOnnx(exported.bytes, compiled.manifest, fresh), model.predict(fresh));
    expect(difference).toBeLessThan(1e-5);
  });
});

describe("ops that cannot be exported", () => {
  it("refuses a loss as the output, naming the op and its line", () => {
    const text = `model m {
  input x: [3]
  input t: [2]
  y = dense(x, 2)
  loss mse(y, t)
  output mse(y, t)
}`;
    const result = compileGraph(text, { file: "m.nn" });
    if (!result.ok) throw new Error(result.diagnostics[0].message);
    const graph = result.graph;
    const weights = Object.fromEntries(graph.params.map((p) => [graph.nodes[p.node].label, new Float32Array(size(graph.nodes[p.node].shape))]));
    const exported = exportOnnx(graph, weights);
    expect(exported.ok).toBe(false);
    if (exported.ok) return;
    expect(exported.diagnostics).toHaveLength(1);
    const [refusal] = exported.diagnostics;
    expect(refusal.message).toMatch(/^cannot export `mse` \(in `mse`\) to ONNX: a loss belongs to training/);
    const rendered = render(refusal, new Map([["m.nn", text]]));
    console.log(rendered);
    expect(rendered).toContain("--> m.nn:6:10");
  });
});

describe("nnc export", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnc-export-"));
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("asks for the file to write", async () => {
    await expect(exportCommand.run("model.nn", { weights: "model.weights" })).rejects.toThrow(/--onnx OUT\.onnx is required/);
  });

  it("writes the ONNX model of a .nn file and its weights", async () => {
    const text = "model tiny {\n  input x: [2]\n  input t: [1]\n  loss mse(dense(x, 1, activation: sigmoid), t)\n}\n";
    const file = join(dir, "tiny.nn");
    writeFileSync(file, text);
    const { compiled, model } = await compileModel(text, file, { optimize: 0 });
    writeFileSync(join(dir, "tiny.weights"), encodeWeights(compiled.manifest, model.getWeights()));
    const printed = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await exportCommand.run(file, { weights: join(dir, "tiny.weights"), onnx: join(dir, "tiny.onnx") });
    expect(String(printed.mock.calls[0][0])).toMatch(/tiny\.onnx: \d+ bytes, \d+ ONNX nodes \(opset 17\), symbolic batch/);

    const fresh = randomData(compiled.manifest, 3, new Rng(2));
    const onnx = new Uint8Array(readFileSync(join(dir, "tiny.onnx")));
    expect(maxRelativeDifference(await runOnnx(onnx, compiled.manifest, fresh), model.predict(fresh))).toBeLessThan(1e-5);
  });
});
