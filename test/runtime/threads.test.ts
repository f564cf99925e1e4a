// Threads share each kernel's output, never a sum: every example built for two
// threads trains to the same weights and optimizer state, bit for bit, on two
// threads, on one, and as the plain one-thread build, with a last batch of one
// row (fewer rows than threads); its predictions are the same too.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { type Dataset, Model } from "../../src/runtime/model.ts";
import { Rng } from "../../src/runtime/random.ts";
import { threadsSupported } from "../../src/runtime/threads.ts";
import { randomData } from "../helpers.ts";

const examples = readdirSync("examples").filter((f) => f.endsWith(".nn"));

async function build(file: string, threads: number): Promise<WebAssembly.Module> {
  const result = await compile(readFileSync(`examples/${file}`, "utf8"), { file, threads, optimize: 0 });
  if (!result.ok) throw new Error(result.diagnostics[0].message);
  return new WebAssembly.Module(result.compiled.wasm as Uint8Array<ArrayBuffer>);
}

/** Trains one epoch from seed 3 and returns every byte the run leaves: weights, optimizer state, loss, predictions. */
async function train(module: WebAssembly.Module, threads: number, data: (model: Model) => Dataset) {
  const model = await Model.load(module, { threads });
  try {
    const samples = data(model);
    model.initialize(3);
    const [report] = model.fit(samples, { epochs: 1, seed: 3 });
    const hex = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
    const weights = Object.values(model.getWeights()).map(hex);
    return { threads: model.threads, loss: report.loss, weights, state: hex(model.trainingState), predictions: hex(model.predict(samples)) };
  } finally {
    await model.close();
  }
}

describe("threads", () => {
  it("Node can share memory between threads", () => {
    expect(threadsSupported()).toBe(true);
  });

  for (const file of examples) {
    it(`${file}: two threads, one, and the plain build give the same bits`, async () => {
      const [plain, threaded] = await Promise.all([build(file, 1), build(file, 2)]);
      const data = (model: Model) => randomData(model.manifest, model.manifest.batch * 2 + 1, new Rng(11));
      const one = await train(plain, 1, data);
      const runs = [await train(threaded, 2, data), await train(threaded, 1, data)];
      expect(runs.map((r) => r.threads)).toEqual([2, 1]);
      expect(one.threads).toBe(1);
      for (const run of runs) expect({ ...run, threads: 1 }).toEqual(one);
    });
  }

  it("a model runs on at most the threads it was built for", async () => {
    const model = await Model.load(await build("xor.nn", 2), { threads: 8 });
    expect(model.threads).toBe(2);
    await model.close();
  });
});
