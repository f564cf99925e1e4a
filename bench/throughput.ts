// Training throughput of nnc against TensorFlow.js (wasm and cpu backends) on
// workloads W2 (MLP), W3 (CNN) and W4 (Transformer) of PEERS.md, in one run on
// the same data, with the ratios. W2 and W3 train on Fashion-MNIST and count
// samples/s; W4 trains on generated sequence reversal (w4.nn's `reverse` data)
// and counts target tokens/s. Steady state: warm up, then time >= --seconds of
// training steps (each putting its batch in place), --repeats times, median.
// Usage: npm run bench -- --data DIR [--seconds 10] [--repeats 3] [--json FILE] [--no-peers]
//   DIR: the four Fashion-MNIST IDX files (e.g. the full set; data/fashion-mnist is a subset).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compile } from "../compiler/index.ts";
import { loadData } from "../src/runtime/data.ts";
import { readIdxPair } from "../src/runtime/idx.ts";
import { type Dataset, Model } from "../src/runtime/model.ts";
import { type Backend, measurePeer, type PeerData, type PeerResult, peerInfo, type SequenceData, type Workload } from "./peers.ts";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    seconds: { type: "string", default: "10" },
    repeats: { type: "string", default: "3" },
    json: { type: "string" },
    "no-peers": { type: "boolean" },
  },
});
if (!values.data) {
  console.error("usage: npm run bench -- --data DIR [--seconds 10] [--repeats 3] [--json FILE] [--no-peers]");
  process.exit(1);
}
const seconds = Number(values.seconds);
const repeats = Number(values.repeats);
const file = (name: string) => {
  const path = join(values.data as string, name);
  return { bytes: readFileSync(path), file: path };
};
const images: PeerData = readIdxPair(file("train-images-idx3-ubyte.gz"), file("train-labels-idx1-ubyte.gz"), [1, 28, 28], 10);

/** A compiled workload of bench/workloads/. */
async function loadWorkload(workload: Workload): Promise<Model> {
  const name = `${workload.toLowerCase()}.nn`;
  const result = await compile(readFileSync(new URL(`../../bench/workloads/${name}`, import.meta.url), "utf8"), { file: `bench/workloads/${name}` });
  if (!result.ok) throw new Error(`${workload} does not compile: ${result.diagnostics[0].message}`);
  return Model.load(result.compiled.wasm);
}

/** nnc's training samples/s on `set`: the whole step inside wasm, batches copied in by the host. */
function measureNnc(model: Model, set: Dataset): number {
  const order = Int32Array.from({ length: set.count }, (_, i) => i);
  const batch = model.manifest.batch;
  let start = 0;
  const step = () => {
    model.trainBatch(set, order, start);
    start = start + 2 * batch > set.count ? 0 : start + batch;
  };
  const warm = performance.now();
  while (performance.now() - warm < 1000) step();
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      step();
      steps++;
    }
    rates.push((steps * batch) / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(repeats / 2)];
}

/** W4's data: w4.nn's own `reverse(count: 20000, ...)` generator (seeded by its train seed); it reads no files. */
function sequences(model: Model): SequenceData {
  const noFiles = () => {
    throw new Error("W4's data source reads no files");
  };
  const { train } = loadData(model.manifest, { readText: noFiles, readBytes: noFiles });
  const column = (name: string) => {
    const c = train.columns[name];
    if (!(c instanceof Int32Array)) throw new Error(`W4's data has no token column ${name}`);
    return c; // [count, 16]
  };
  return { src: column("src"), tgt_in: column("tgt_in"), tgt_out: column("tgt_out"), count: train.count };
}

const TARGET_LENGTH = 16; // W4's target tokens per sample

interface Row {
  workload: Workload;
  unit: "samples/s" | "tokens/s";
  nnc: number;
  /** The rate in `unit`, or the error. */
  peers: Partial<Record<Backend, number | string>>;
}

const rows: Row[] = [];
for (const workload of ["W2", "W3"] as const) {
  const model = await loadWorkload(workload);
  const nnc = measureNnc(model, { count: images.count, columns: { image: images.images, label: images.labels } });
  console.error(`nnc ${workload}: ${nnc.toFixed(0)} samples/s`);
  rows.push({ workload, unit: "samples/s", nnc, peers: {} });
}
const w4 = await loadWorkload("W4");
const w4Data = sequences(w4);
{
  const { src, tgt_in, tgt_out, count } = w4Data;
  const nnc = measureNnc(w4, { count, columns: { src, tgt_in, tgt_out } }) * TARGET_LENGTH;
  console.error(`nnc W4: ${nnc.toFixed(0)} tokens/s`);
  rows.push({ workload: "W4", unit: "tokens/s", nnc, peers: {} });
}

const backends: Backend[] = values["no-peers"] ? [] : ["wasm", "cpu"];
for (const backend of backends) {
  for (const row of rows) {
    const options = { seconds, repeats };
    const result: PeerResult =
      row.workload === "W4" ? await measurePeer(backend, "W4", w4Data, options) : await measurePeer(backend, row.workload, images, options);
    const rate = "error" in result ? undefined : row.unit === "tokens/s" ? result.tokens_per_second : result.samples_per_second;
    row.peers[backend] = "error" in result ? result.error : (rate ?? "no rate");
    console.error(`tfjs-${backend} ${row.workload}: ${"error" in result ? `fails: ${result.error}` : `${rate?.toFixed(1)} ${row.unit}`}`);
  }
}

console.log(`training throughput, median of ${repeats} x ${seconds} s; W2, W3: samples/s, batch 64; W4: target tokens/s (16 a sample), batch 32`);
console.log(
  `workload  unit       ${"nnc".padStart(9)}  ${backends.map((b) => `tfjs-${b}`.padStart(12)).join("  ")}  ${backends.map((b) => `nnc/${b}`.padStart(10)).join("  ")}`,
);
for (const row of rows) {
  const peers = backends.map((b) => (typeof row.peers[b] === "number" ? (row.peers[b] as number).toFixed(1) : "fails").padStart(12));
  const ratios = backends.map((b) => (typeof row.peers[b] === "number" ? `${(row.nnc / (row.peers[b] as number)).toFixed(1)}x` : "-").padStart(10));
  console.log(`${row.workload.padEnd(8)}  ${row.unit.padEnd(9)}  ${row.nnc.toFixed(0).padStart(9)}  ${peers.join("  ")}  ${ratios.join("  ")}`);
}
if (values.json) {
  const info = backends.length ? await peerInfo() : {};
  writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...info, seconds, repeats, rows }, null, 2)}\n`);
}
