// The benchmark table: nnc against its peers (jax-js, TF.js wasm, TF.js cpu)
// on the workloads of PEERS.md, in one run on the same data, with nnc's ratio
// to each: W2 (MLP) and W3 (CNN) train on Fashion-MNIST in samples/s, W3i
// runs W3's forward pass only (inference, logits of batches of 64 images) in
// samples/s, W4 (Transformer) trains on w4.nn's generated sequence reversal in
// target tokens/s; then the GEMM micro-benchmark (bench/gemm.ts) in GFLOP/s:
// gemm_nn at 1024^3 (the peers: one 1024^3 matmul), gemm_nt, gemm_tn and the
// SIMD peak loop. nnc runs on one thread, like every peer, and again on
// --threads (default: every core) in a column of its own, with its ratio to
// one thread.
// Every number is the median of --repeats timings of >= --seconds each after
// a warm-up (bench/harness.ts).
// Usage: npm run bench -- [--data DIR] [--seconds 10] [--repeats 3] [--threads N] [--json FILE] [--no-peers | --peers jax-js,...] [--only W2,gemm_nn,...]
//   DIR: the four Fashion-MNIST IDX files (default data/fashion-mnist, a 10,000-image subset);
//   --peers: some of jax-js, tfjs-wasm, tfjs-cpu (default all); --only: some rows (default all);
//   --threads 1: no column for nnc on threads.

import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MAX_THREADS } from "../compiler/emit/build.ts";
import { stats } from "../compiler/ir/print.ts";
import type { Model } from "../src/runtime/model.ts";
import { gemmTasks } from "./gemm.ts";
import { type Contender, commandLine, measure, type Outcome, type Row } from "./harness.ts";
import { jaxContender } from "./jax.ts";
import { benchData, bundledImages, type ModelRow, nncTask, thisBuild, type Workload, workloadModel, workloadOf, workloads } from "./nnc.ts";
import { tfjsContender } from "./tfjs.ts";
import type { BenchData } from "./workloads.ts";

const ROWS: Record<Row, { label: string; unit: string }> = {
  W2: { label: "W2 MLP", unit: "samples/s" },
  W3: { label: "W3 CNN", unit: "samples/s" },
  W3i: { label: "W3 CNN inference", unit: "samples/s" },
  W4: { label: "W4 Transformer", unit: "tokens/s" },
  // the peak loop right before gemm_nn, the row its ratio is taken with
  peak: { label: "SIMD peak loop", unit: "GFLOP/s" },
  gemm_nn: { label: "GEMM nn 1024^3", unit: "GFLOP/s" },
  gemm_nt: { label: "GEMM nt 1024^3", unit: "GFLOP/s" },
  gemm_tn: { label: "GEMM tn 1024^3", unit: "GFLOP/s" },
};
const allRows = Object.keys(ROWS) as Row[];
/** Issue 5: GEMM 1024^3 at >= 70% of the peak loop, W3 training on one thread at >= 50% of it. */
const GEMM_TARGET = 0.7;
const W3_TARGET = 0.5;

const usage = "usage: npm run bench -- [--data DIR] [--seconds 10] [--repeats 3] [--threads N] [--json FILE] [--no-peers | --peers PEER,...] [--only ROW,...]";
const optionTypes = {
  data: { type: "string", default: bundledImages },
  seconds: { type: "string", default: "10" },
  repeats: { type: "string", default: "3" },
  threads: { type: "string", default: String(Math.min(availableParallelism(), MAX_THREADS)) },
  json: { type: "string" },
  "no-peers": { type: "boolean" },
  peers: { type: "string" },
  only: { type: "string" },
} as const;
/** The command line's options, or the usage and exit 1 for one it does not know. */
const values = commandLine({ options: optionTypes }, usage);
const allPeers = [jaxContender, tfjsContender("wasm"), tfjsContender("cpu")];
/** The entries of `list` (comma-separated, any case) among `names`; undefined where one is not there. */
const pick = <T extends string>(list: string, names: T[]) => list.split(",").map((item) => names.find((n) => n.toLowerCase() === item.trim().toLowerCase()));
const timing = { seconds: Number(values.seconds), repeats: Number(values.repeats) };
const threads = Number(values.threads);
const rows = values.only ? pick(values.only, allRows) : allRows;
const peerNames = allPeers.map((p) => p.name);
const chosenPeers = values["no-peers"] ? [] : values.peers ? pick(values.peers, peerNames) : peerNames;
const threadsOk = Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS;
if (!(timing.seconds > 0 && timing.repeats >= 1 && threadsOk) || rows.includes(undefined) || chosenPeers.includes(undefined)) {
  console.error(`${usage}\n  ROW: ${allRows.join(", ")}\n  PEER: ${peerNames.join(", ")}`);
  process.exit(1);
}
const selected = rows as Row[];
const peers = allPeers.filter((p) => chosenPeers.includes(p.name));

/** FLOPs of one training sample of each compiled workload (forward, backward and update, as `nnc inspect` counts them). */
const flopsPerSample = new Map<Workload, number>();

/** nnc's compiled models of the chosen rows' workloads, built for and run on `threads`. */
async function workloadModels(threads: number): Promise<Map<Workload, Model>> {
  const models = new Map<Workload, Model>();
  for (const workload of workloads.filter((w) => selected.some((row) => workloadOf(row) === w))) {
    const { model, graph } = await workloadModel(thisBuild, workload, threads);
    flopsPerSample.set(workload, stats(graph).flopsPerStep / graph.train.batch);
    models.set(workload, model);
  }
  return models;
}

const models = await workloadModels(1);
const data = benchData(values.data as string, () => models.get("W4") as Model);

/** nnc with `models` on the workloads (W3i after W3's training steps when both rows are chosen: the same work either way); and the GEMM rows (one thread). */
function nncContender(name: string, models: Map<Workload, Model>, gemm: boolean): Contender<BenchData> {
  const task = (row: ModelRow) => (d: BenchData) => nncTask(row, models.get(workloadOf(row) as Workload) as Model, d);
  return { name, tasks: { W2: task("W2"), W3: task("W3"), W3i: task("W3i"), W4: task("W4"), ...(gemm ? gemmTasks : {}) } };
}
const nnc = nncContender("nnc", models, true);
const threaded = threads > 1 ? nncContender(`nnc ${threads} threads`, await workloadModels(threads), false) : null;

const contenders = [nnc, ...(threaded ? [threaded] : []), ...peers];

// Row by row, so that the numbers of one row (and the peak loop and gemm_nn) are
// taken close together in time: on a shared machine the load drifts.
const results = new Map<Row, Map<string, Outcome>>(selected.map((row) => [row, new Map()]));
for (const row of selected) {
  for (const contender of contenders) {
    const outcome = await measure(contender, row, data, timing);
    if (!outcome) continue;
    results.get(row)?.set(contender.name, outcome);
    console.error(`${contender.name} ${row}: ${"rate" in outcome ? `${format(outcome.rate)} ${ROWS[row].unit}` : `fails: ${outcome.error}`}`);
  }
}

function format(rate: number): string {
  return rate >= 100 ? Math.round(rate).toLocaleString("en-US") : rate.toFixed(1);
}
const rateOf = (row: Row, name: string) => {
  const outcome = results.get(row)?.get(name);
  return outcome && "rate" in outcome ? outcome.rate : undefined;
};
const ratio = (row: Row, peer: string, mine = "nnc") => {
  const [ours, theirs] = [rateOf(row, mine), rateOf(row, peer)];
  return ours !== undefined && theirs !== undefined ? ours / theirs : undefined;
};
const times = (r: number | undefined) => (r === undefined ? "" : `${r.toFixed(r >= 10 ? 1 : 2)}x`);
const peak = rateOf("peak", "nnc");
const gemm = rateOf("gemm_nn", "nnc");
const gemmOfPeak = peak !== undefined && gemm !== undefined ? gemm / peak : undefined;
const w3 = rateOf("W3", "nnc");
const w3Flops = w3 !== undefined ? (w3 * (flopsPerSample.get("W3") ?? 0)) / 1e9 : undefined;

// The table: a cell is a rate, "fails [n]" with the reason in note n below, or empty.
const notes: string[] = [];
const cell = (row: Row, name: string) => {
  const outcome = results.get(row)?.get(name);
  if (!outcome) return "";
  if ("rate" in outcome) return format(outcome.rate);
  notes.push(`${name} ${row}: ${outcome.error}`);
  return `fails [${notes.length}]`;
};
const header = ["", "unit", ...contenders.map((c) => c.name), ...(threaded ? [`${threads} threads/1`] : []), ...peers.map((p) => `nnc/${p.name}`)];
const lines = selected.map((row) => [
  ROWS[row].label,
  ROWS[row].unit,
  ...contenders.map((c) => cell(row, c.name)),
  ...(threaded ? [times(ratio(row, "nnc", threaded.name))] : []),
  ...peers.map((p) => times(ratio(row, p.name))),
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const print = (fields: string[]) => console.log(fields.map((f, i) => (i < 2 ? f.padEnd(widths[i]) : f.padStart(widths[i]))).join("  "));
console.log(
  `median of ${timing.repeats} x ${timing.seconds} s; W2, W3, W3i: batch 64; W4: batch 32, 16 target tokens a sample; one thread each${threaded ? `, and nnc on ${threads}` : ""}; ratios to the peers from one thread`,
);
print(header);
for (const line of lines) print(line);
if (gemmOfPeak !== undefined) console.log(`GEMM nn 1024^3 / peak loop: ${(100 * gemmOfPeak).toFixed(0)}% (issue 5 asks >= ${100 * GEMM_TARGET}%)`);
if (w3Flops !== undefined && peak !== undefined) {
  console.log(
    `W3 training, one thread: ${w3Flops.toFixed(1)} GFLOP/s = ${(100 * (w3Flops / peak)).toFixed(0)}% of the peak loop (issue 5 asks >= ${100 * W3_TARGET}%)`,
  );
}
for (const [i, note] of notes.entries()) console.log(`[${i + 1}] ${note}`);

if (values.json) {
  const info: Record<string, unknown> = {};
  for (const c of contenders) if (c.info) info[c.name] = await c.info();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    seconds: timing.seconds,
    repeats: timing.repeats,
    threads,
    data: values.data,
    contenders: info,
    rows: selected.map((row) => ({
      row,
      ...ROWS[row],
      results: Object.fromEntries(results.get(row) ?? []),
      nnc_ratio: Object.fromEntries(peers.flatMap((p) => (ratio(row, p.name) === undefined ? [] : [[p.name, ratio(row, p.name)]]))),
      ...(threaded ? { threads_speedup: ratio(row, "nnc", threaded.name) } : {}),
    })),
    gemm_nn_of_peak: gemmOfPeak,
  };
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}
