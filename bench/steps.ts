// Training steps per second of the small chapter models (XOR, Iris), each
// step a whole forward + backward + update inside wasm, batches copied in by
// the host. Steady state: warm up, then time >= --seconds of steps, 3 repeats,
// median. Usage: npm run bench [-- --seconds 3 --json out.json]

import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { compile } from "../compiler/index.ts";
import { filesBeside } from "../src/cli/files.ts";
import { loadData } from "../src/runtime/data.ts";
import { Model } from "../src/runtime/model.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "3" }, json: { type: "string" } } });
const seconds = Number(values.seconds);
const root = new URL("../../", import.meta.url);

interface Result {
  model: string;
  batch: number;
  steps_per_second: number;
  samples_per_second: number;
  microseconds_per_step: number;
}

async function measure(name: string): Promise<Result> {
  const file = new URL(`examples/${name}.nn`, root);
  const result = await compile(readFileSync(file, "utf8"), { file: `examples/${name}.nn` });
  if (!result.ok) throw new Error(`${name}.nn does not compile`);
  const model = await Model.load(result.compiled.wasm);
  const { train } = loadData(model.manifest, filesBeside(file.pathname));
  const batch = model.manifest.batch;
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const starts = Array.from({ length: Math.ceil(train.count / batch) }, (_, i) => i * batch);
  const run = (steps: number) => {
    for (let s = 0; s < steps; s++) model.trainBatch(train, order, starts[s % starts.length]);
  };
  run(10_000);
  const rates: number[] = [];
  for (let repeat = 0; repeat < 3; repeat++) {
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      run(1000);
      steps += 1000;
    }
    rates.push(steps / ((performance.now() - t0) / 1000));
  }
  const rate = rates.sort((a, b) => a - b)[1];
  const perStep = starts.map((s) => Math.min(batch, train.count - s)).reduce((a, b) => a + b, 0) / starts.length;
  return { model: name, batch, steps_per_second: rate, samples_per_second: rate * perStep, microseconds_per_step: 1e6 / rate };
}

const results = [];
for (const name of ["xor", "iris"]) results.push(await measure(name));
console.log("model  batch  steps/s     samples/s    us/step");
for (const r of results) {
  console.log(
    `${r.model.padEnd(6)} ${String(r.batch).padStart(5)}  ${r.steps_per_second.toFixed(0).padStart(9)}  ${r.samples_per_second.toFixed(0).padStart(11)}  ${r.microseconds_per_step.toFixed(3).padStart(8)}`,
  );
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
