// nnc on the benchmark workloads, for the table (bench/throughput.ts) and
// for two builds side by side (bench/compare.ts): a build (one checkout's
// compiler and runtime), its compiled models of bench/workloads/w*.nn, the
// data they run on, and one step of each row as a harness Task.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile } from "../compiler/index.ts";
import { loadData } from "../src/runtime/data.ts";
import { readIdxPair } from "../src/runtime/idx.ts";
import { type Dataset, Model } from "../src/runtime/model.ts";
import type { Row, Task } from "./harness.ts";
import { type BenchData, batchCursor, type ImageData, type SequenceData, W4 } from "./workloads.ts";

export type Workload = "W2" | "W3" | "W4";
/** The rows that run a workload's model. */
export type ModelRow = "W2" | "W3" | "W3i" | "W4";
export const modelRows: ModelRow[] = ["W2", "W3", "W3i", "W4"];
export const workloads: Workload[] = ["W2", "W3", "W4"];
/** The row of `modelRows` named `name` (any case), if there is one. */
export const modelRow = (name: string) => modelRows.find((row) => row.toLowerCase() === name.trim().toLowerCase());
/** Where W2's and W3's images are read from unless --data says: the bundled 10,000-image subset. */
export const bundledImages = fileURLToPath(new URL("../../data/fashion-mnist", import.meta.url));
/** The workload a row runs (W3i: W3's model, forward only), if it runs one. */
export const workloadOf = (row: Row): Workload | undefined => (row === "W3i" ? "W3" : workloads.find((w) => w === row));

/** One checkout's compiler and runtime. */
export interface Build {
  compile: typeof compile;
  Model: typeof Model;
}
export const thisBuild: Build = { compile, Model };

/** The build in another checkout ROOT (after `npm run build` there): its compiler and runtime as they were, on the same data. */
export async function importBuild(root: string): Promise<Build> {
  const module = (path: string) => import(pathToFileURL(resolve(root, "dist", path)).href);
  const [{ compile }, { Model }] = await Promise.all([module("compiler/index.js"), module("src/runtime/model.js")]);
  return { compile, Model };
}

/** `build`'s compiled model of `workload` for `threads` threads, loaded, and its graph. */
export async function workloadModel(build: Build, workload: Workload, threads: number) {
  const name = `${workload.toLowerCase()}.nn`;
  const text = readFileSync(new URL(`../../bench/workloads/${name}`, import.meta.url), "utf8");
  const result = await build.compile(text, { file: `bench/workloads/${name}`, threads });
  if (!result.ok) throw new Error(`${workload} does not compile: ${result.diagnostics[0].message}`);
  return { model: await build.Model.load(result.compiled.wasm), graph: result.compiled.graph };
}

/** W2's and W3's images from the Fashion-MNIST IDX files in `dir`; W4's sequences from `w4`'s own generator. Read when a row first needs them. */
export function benchData(dir: string, w4: () => Model): BenchData {
  let images: ImageData | undefined;
  let sequences: SequenceData | undefined;
  return {
    get images() {
      images ??= readImages(dir);
      return images;
    },
    get sequences() {
      sequences ??= sequencesOf(w4());
      return sequences;
    },
  };
}

function readImages(dir: string): ImageData {
  const file = (name: string) => {
    const path = join(dir, name);
    return { bytes: readFileSync(path), file: path };
  };
  return readIdxPair(file("train-images-idx3-ubyte.gz"), file("train-labels-idx1-ubyte.gz"), [1, 28, 28], 10);
}

/** W4's data: w4.nn's own `reverse(count: 20000, ...)` generator (seeded by its train seed); it reads no files. */
function sequencesOf(model: Model): SequenceData {
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

/** One step of `row` with `model` (its workload's): a training step, or W3i's forward pass. */
export function nncTask(row: ModelRow, model: Model, data: BenchData): Task {
  if (row === "W4") {
    const { src, tgt_in, tgt_out, count } = data.sequences;
    return trainer(model, { count, columns: { src, tgt_in, tgt_out } }, W4.length);
  }
  const { images, labels, count } = data.images;
  return row === "W3i" ? predictor(model, { count, columns: { image: images } }) : trainer(model, { count, columns: { image: images, label: labels } });
}

/** Training `model` on `set`: the whole step inside wasm, the batch copied in by the host. */
function trainer(model: Model, set: Dataset, workPerSample = 1): Task {
  const batch = model.manifest.batch;
  const order = Int32Array.from({ length: set.count }, (_, i) => i);
  const nextStart = batchCursor(set.count, batch);
  return { work: batch * workPerSample, step: () => model.trainBatch(set, order, nextStart()), sync() {} };
}

/**
 * The forward pass of `model` on the next batch of `set`: Model.predict on a
 * view of the batch's rows, which copies them in, runs the `predict` export
 * and copies the outputs out (W3: logits [batch, 10]).
 */
function predictor(model: Model, set: Dataset): Task {
  const batch = model.manifest.batch;
  const nextStart = batchCursor(set.count, batch);
  const rows = (start: number): Dataset => ({
    count: batch,
    columns: Object.fromEntries(
      Object.entries(set.columns).map(([name, column]) => {
        const width = column.length / set.count;
        return [name, column.subarray(start * width, (start + batch) * width)];
      }),
    ),
  });
  return { work: batch, step: () => model.predict(rows(nextStart())), sync() {} };
}
