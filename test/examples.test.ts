// The chapter's models, as written in examples/, train to their bars with
// their fixed seeds: perceptron (exact weights), XOR, sine and Iris. And the
// chapter's cross-entropy example is reproduced by the loss functions.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { filesBeside } from "../src/cli/files.ts";
import { loadData } from "../src/runtime/data.ts";
import { translate } from "../src/runtime/decode.ts";
import type { Dataset } from "../src/runtime/model.ts";
import { translationPairs } from "../src/runtime/translation.ts";
import { compileModel } from "./helpers.ts";

const examples = new URL("../examples/", import.meta.url);

async function train(name: string, epochs?: number) {
  const file = new URL(`${name}.nn`, examples);
  const { model } = await compileModel(readFileSync(file, "utf8"), `examples/${name}.nn`);
  const split = loadData(model.manifest, filesBeside(file.pathname));
  const reports = model.fit(split.train, { test: split.test, epochs });
  return { model, last: reports[reports.length - 1], reports };
}

describe("chapter models", () => {
  it("perceptron: the worked example converges to the hand-computed w, b", async () => {
    const { model, reports } = await train("perceptron");
    // The rule by hand, step(z) = 1 for z >= 0, samples in order:
    //   (-2,-1) t=0: z=0 -> y=1, e=-1: w=(2,1), b=-1;  (-1,-2) t=0: z=-5 -> 0 ok;
    //   (1,1) t=1: z=2 -> 1 ok;  (0,2) t=1: z=1 -> 1 ok;  epoch 2: (-2,-1): z=-6 -> 0 ok.
    const X = [
      [-2, -1],
      [-1, -2],
      [1, 1],
      [0, 2],
    ];
    const T = [0, 0, 1, 1];
    const w = [0, 0];
    let b = 0;
    for (let epoch = 0; epoch < 4; epoch++) {
      X.forEach((x, i) => {
        const e = T[i] - (w[0] * x[0] + w[1] * x[1] + b >= 0 ? 1 : 0);
        w[0] += e * x[0];
        w[1] += e * x[1];
        b += e;
      });
    }
    expect([w, b]).toEqual([[2, 1], -1]);
    const trained = model.getWeights();
    expect(Array.from(trained["y.w"])).toEqual(w);
    expect(Array.from(trained["y.b"])).toEqual([b]);
    expect(reports[0].metrics.accuracy).toBe(1);
    expect(reports[reports.length - 1].loss).toBe(0);
  });

  it("xor: the BP network reaches 100%", async () => {
    const { last } = await train("xor");
    expect(last.metrics.accuracy).toBe(1);
    expect(last.metrics.mse).toBeLessThan(0.01);
  });

  it("sine: MSE <= 1e-3 on a grid of 200 points over [-pi, pi]", async () => {
    const { model, last } = await train("sine");
    expect(last.metrics.mse).toBeLessThanOrEqual(1e-3);
    const x = Float32Array.from({ length: 200 }, (_, i) => -Math.PI + (2 * Math.PI * i) / 199);
    const y = model.predict({ count: 200, columns: { x } });
    const mse = y.reduce((s, v, i) => s + (v - Math.sin(x[i])) ** 2, 0) / 200;
    expect(mse).toBeLessThanOrEqual(1e-3);
  });

  it("cnn: one epoch on 2,000 bundled images clearly beats chance (10%) on 2,000 others", async () => {
    const file = new URL("cnn.nn", examples);
    const { model } = await compileModel(readFileSync(file, "utf8"), "examples/cnn.nn");
    const { train, test } = loadData(model.manifest, filesBeside(file.pathname));
    const first = (count: number): Dataset => ({
      count,
      columns: { image: train.columns.image.subarray(0, count * 784), label: train.columns.label.subarray(0, count) },
    });
    const [report] = model.fit(first(2000), { epochs: 1, test });
    expect(test?.count).toBe(2000);
    expect(report.metrics.accuracy).toBeGreaterThan(0.6);
  });

  it("transformer: 10 epochs translate the chapter's sentence and most held-out ones exactly", async () => {
    const { model, last } = await train("transformer", 10);
    expect(translate(model, ["I am in CQ", "I work in Beijing"])).toEqual(["我在重庆", "我在北京工作"]);
    const { test } = translationPairs();
    const right = translate(
      model,
      test.map((p) => p.en),
    ).filter((zh, r) => zh === test[r].zh).length;
    expect(right / test.length).toBeGreaterThan(0.8);
    expect(last.metrics.accuracy).toBeGreaterThan(0.95);
  });

  it("iris: >= 95% on the held-out 30%", async () => {
    const { last } = await train("iris");
    expect(last.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  });
});

describe("the chapter's cross-entropy example: true (0, 1, 0), predicted (0.2, 0.7, 0.1)", () => {
  const data = { count: 1, columns: { p: Float32Array.of(0, 1, 0), q: Float32Array.of(0.2, 0.7, 0.1) } };
  const model = (loss: string) => `model ce { input p: [3]  input q: [3]  loss ${loss}(p, q)  train { batch: 1 } }`;
  it("cross-entropy is -ln 0.7", async () => {
    const { model: m } = await compileModel(model("cross_entropy"));
    expect(m.evaluate(data).loss).toBeCloseTo(-Math.log(0.7), 6);
  });
  it("KL divergence equals it, since the true distribution has zero entropy", async () => {
    const { model: m } = await compileModel(model("kl_div"));
    expect(m.evaluate(data).loss).toBeCloseTo(0.356675, 6);
  });
  it("softmax cross-entropy of logits ln(0.2, 0.7, 0.1) against class 1 is the same", async () => {
    const { model: m } = await compileModel(`model ce { input z: [3]  input c: class(3)  loss softmax_cross_entropy(z, c)  train { batch: 1 } }`);
    expect(m.evaluate({ count: 1, columns: { z: Float32Array.of(Math.log(0.2), Math.log(0.7), Math.log(0.1)), c: Int32Array.of(1) } }).loss).toBeCloseTo(
      0.356675,
      6,
    );
  });
});
