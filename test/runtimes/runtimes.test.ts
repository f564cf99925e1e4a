// One compiled .wasm, three runtimes, the same weights bit for bit.
// examples/perceptron.nn, xor.nn and cnn.nn (batch 8, on the first bundled
// images) are compiled once, here in Node; then one module, train.ts, trains
// each with its seed on the same data in Node, in Deno and in headless
// Chromium, and the weights files must be byte-identical. Nothing is skipped:
// without Deno or Chromium (`apt-get install chromium`) the test fails.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { filesBeside } from "../../src/cli/files.ts";
import { loadData } from "../../src/runtime/datasets.ts";
import { type Dataset, decodeWeights, type Manifest } from "../../src/runtime/index.ts";
import { launchChromium } from "../chromium.ts";
import { fromJson, type TrainingCase, type TrainingResult, toJson, trainAll } from "./train.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sharedModule = fileURLToPath(new URL("train.ts", import.meta.url));
const denoMain = fileURLToPath(new URL("deno.ts", import.meta.url));

/** An example and how it is cut down to a quick run (by default the file's own batch, data and epochs). */
interface Example {
  name: string;
  batch?: number;
  samples?: number;
  epochs?: number;
}

const examples: Example[] = [
  { name: "perceptron" }, // the perceptron rule, 4 epochs of 4 one-sample steps
  { name: "xor" }, // sigmoid and SGD, 2000 full-batch steps
  { name: "cnn", batch: 8, samples: 48, epochs: 2 }, // convolutions, pooling, He init, Adam, cosine decay, shuffling: 12 steps
];

type Runtime = "node" | "deno" | "chromium";

/** Each runtime's way to run the shared module's trainAll on the cases (JSON in, JSON out). */
const runners: Record<Runtime, (casesJson: string, workDir: string) => Promise<string>> = {
  node: (casesJson) => trainAll(casesJson),
  deno: runInDeno,
  chromium: runInChromium,
};

async function runInDeno(casesJson: string, workDir: string): Promise<string> {
  const [casesFile, resultsFile] = [join(workDir, "cases.json"), join(workDir, "deno-results.json")];
  writeFileSync(casesFile, casesJson);
  const deno = join(root, "node_modules/.bin/deno");
  const permissions = [`--allow-read=${workDir}`, `--allow-write=${workDir}`];
  await promisify(execFile)(deno, ["run", "--no-lock", ...permissions, denoMain, casesFile, resultsFile], {
    cwd: root, // Deno finds package.json here and resolves the runtime's npm imports from node_modules
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
  });
  return readFileSync(resultsFile, "utf8");
}

async function runInChromium(casesJson: string, workDir: string): Promise<string> {
  const bundle = await build({ entryPoints: [sharedModule], bundle: true, format: "iife", globalName: "training", platform: "browser", write: false });
  const context = await launchChromium(join(workDir, "chromium-profile"));
  try {
    const page = await context.newPage();
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    return await page.evaluate((cases) => (globalThis as unknown as { training: { trainAll: typeof trainAll } }).training.trainAll(cases), casesJson);
  } finally {
    await context.close();
  }
}

/** Compiles the example in Node, loads its data and keeps the first `samples` rows. */
async function prepare(example: Example): Promise<{ run: TrainingCase; manifest: Manifest }> {
  const file = join(root, "examples", `${example.name}.nn`);
  const result = await compile(readFileSync(file, "utf8"), { file: `examples/${example.name}.nn`, batch: example.batch });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => d.message).join("\n"));
  const { manifest, wasm } = result.compiled;
  const { train } = loadData(manifest, filesBeside(file));
  const data = example.samples ? firstRows(train, example.samples) : train;
  return { run: { name: example.name, wasm, data, epochs: example.epochs ?? manifest.train.epochs, seed: manifest.train.seed }, manifest };
}

function firstRows(data: Dataset, count: number): Dataset {
  const columns = Object.entries(data.columns).map(([name, column]) => [name, column.slice(0, (column.length / data.count) * count)]);
  return { count, columns: Object.fromEntries(columns) };
}

/** The first weight whose bits differ, as `name[index]: a vs b`; null when the weights files are byte-identical. */
function firstDifference(manifest: Manifest, a: Uint8Array, b: Uint8Array): string | null {
  if (Buffer.from(a).equals(b)) return null;
  const [weightsA, weightsB] = [a, b].map((bytes) => decodeWeights(bytes, manifest, "weights"));
  for (const { name } of manifest.params) {
    const i = weightsA[name].findIndex((v, j) => !Object.is(v, weightsB[name][j]));
    if (i >= 0) return `${name}[${i}]: ${weightsA[name][i]} vs ${weightsB[name][i]}`;
  }
  return "the weights files differ, but not in a value's number (a NaN's bits, or the header)";
}

describe("one compiled .wasm trains to the same weights in Node, Deno and Chromium", () => {
  const workDir = mkdtempSync(join(tmpdir(), "nnc-runtimes-"));
  const manifests: Manifest[] = [];
  let results: Record<Runtime, TrainingResult[]>;

  beforeAll(async () => {
    const prepared = [];
    for (const example of examples) prepared.push(await prepare(example));
    manifests.push(...prepared.map((p) => p.manifest));
    const casesJson = toJson(prepared.map((p) => p.run));
    const runtimes = ["deno", "chromium", "node"] as const; // Deno and Chromium start first, and work while Node trains in this process
    const outputs = await Promise.all(runtimes.map((runtime) => runners[runtime](casesJson, workDir)));
    results = Object.fromEntries(runtimes.map((runtime, i) => [runtime, fromJson(outputs[i])])) as typeof results;
  }, 60_000);

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each(examples.map((example, index) => [example.name, index] as const))("%s", (_name, index) => {
    const node = results.node[index];
    expect(node.losses.at(-1), "the training loss fell").toBeLessThan(node.losses[0]);
    for (const runtime of ["deno", "chromium"] as const) {
      const other = results[runtime][index];
      expect(firstDifference(manifests[index], other.weights, node.weights), `${runtime}'s weights vs Node's`).toBeNull();
      expect(other.losses, `${runtime}'s losses vs Node's`).toEqual(node.losses);
    }
  });
});
