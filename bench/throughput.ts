// Training throughput of nnc against TensorFlow.js (wasm and cpu backends) on
// workloads W2 (MLP) and W3 (CNN) of PEERS.md, in one run on the same data,
// with the ratios. Steady state: warm up, then time >= --seconds of training
// steps (each putting its batch in place), --repeats times, median.
// Usage: npm run bench -- --data DIR [--seconds 10] [--repeats 3] [--json FILE] [--no-peers]
//   DIR: the four Fashion-MNIST IDX files (e.g. the full set; data/fashion-mnist is a subset).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compile } from "../compiler/index.ts";
import { readIdxPair } from "../src/runtime/idx.ts";
import { type Dataset, Model } from "../src/runtime/model.ts";
import { type Backend, measurePeer, type PeerData, peerInfo, type Workload } from "./peers.ts";

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
const data: PeerData = readIdxPair(file("train-images-idx3-ubyte.gz"), file("train-labels-idx1-ubyte.gz"), [1, 28, 28], 10);

/** nnc's samples/s on a workload: the whole step inside wasm, batches copied in by the host. */
async function measureNnc(workload: Workload): Promise<number> {
  const path = new URL(`../../bench/workloads/${workload.toLowerCase()}.nn`, import.meta.url);
  const result = await compile(readFileSync(path, "utf8"), `bench/workloads/${workload.toLowerCase()}.nn`);
  if (!result.ok) throw new Error(`${workload} does not compile: ${result.diagnostics[0].message}`);
  const model = await Model.load(result.compiled.wasm);
  const set: Dataset = { count: data.count, columns: { image: data.images, label: data.labels } };
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const batch = model.manifest.batch;
  let start = 0;
  const step = () => {
    model.trainBatch(set, order, start);
    start = start + 2 * batch > data.count ? 0 : start + batch;
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

interface Row {
  workload: Workload;
  nnc: number;
  peers: Partial<Record<Backend, number | string>>;
}

const rows: Row[] = [];
for (const workload of ["W2", "W3"] as const) {
  const nnc = await measureNnc(workload);
  console.error(`nnc ${workload}: ${nnc.toFixed(0)} samples/s`);
  rows.push({ workload, nnc, peers: {} });
}
const backends: Backend[] = values["no-peers"] ? [] : ["wasm", "cpu"];
for (const backend of backends) {
  for (const row of rows) {
    const result = await measurePeer(backend, row.workload, data, { seconds, repeats });
    row.peers[backend] = "error" in result ? result.error : result.samples_per_second;
    console.error(`tfjs-${backend} ${row.workload}: ${"error" in result ? `fails: ${result.error}` : `${result.samples_per_second.toFixed(1)} samples/s`}`);
  }
}

console.log(`training samples/s, batch 64, median of ${repeats} x ${seconds} s`);
console.log(
  `workload  ${"nnc".padStart(9)}  ${backends.map((b) => `tfjs-${b}`.padStart(12)).join("  ")}  ${backends.map((b) => `nnc/${b}`.padStart(10)).join("  ")}`,
);
for (const row of rows) {
  const peers = backends.map((b) => (typeof row.peers[b] === "number" ? (row.peers[b] as number).toFixed(1) : "fails").padStart(12));
  const ratios = backends.map((b) => (typeof row.peers[b] === "number" ? `${(row.nnc / (row.peers[b] as number)).toFixed(1)}x` : "-").padStart(10));
  console.log(`${row.workload.padEnd(8)}  ${row.nnc.toFixed(0).padStart(9)}  ${peers.join("  ")}  ${ratios.join("  ")}`);
}
if (values.json) {
  const info = backends.length ? await peerInfo() : {};
  writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...info, seconds, repeats, rows }, null, 2)}\n`);
}
