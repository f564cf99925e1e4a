// The training run that test/runtimes/runtimes.test.ts compares across
// runtimes. This one module, importing only the runtime's public entry, runs
// in Node (in-process), in Deno (from source, by deno.ts) and in Chromium
// (bundled by esbuild). Cases and results cross between runtimes as JSON, with
// typed arrays as base64 of their little-endian bytes.

import { type Dataset, encodeWeights, Model } from "../../src/runtime/index.ts";

/** One model to train: its compiled .wasm, its data, and the run's length and seed. */
export interface TrainingCase {
  name: string;
  wasm: Uint8Array;
  data: Dataset;
  epochs: number;
  seed: number;
}

/** What a run ends with: the bytes of its weights file, and each epoch's mean training loss. */
export interface TrainingResult {
  name: string;
  weights: Uint8Array;
  losses: number[];
}

export async function train(run: TrainingCase): Promise<TrainingResult> {
  const model = await Model.load(run.wasm);
  model.initialize(run.seed);
  const reports = model.fit(run.data, { epochs: run.epochs, seed: run.seed });
  return { name: run.name, weights: encodeWeights(model.manifest, model.getWeights()), losses: reports.map((r) => r.loss) };
}

/** Trains every case in `casesJson` (from toJson), one after the other; returns the results as JSON. */
export async function trainAll(casesJson: string): Promise<string> {
  const results: TrainingResult[] = [];
  for (const run of fromJson(casesJson) as TrainingCase[]) results.push(await train(run));
  return toJson(results);
}

const typedArrays = { Uint8Array, Int32Array, Float32Array };
type TypedArrayName = keyof typeof typedArrays;

/** Encoded typed arrays look like this in the JSON. */
interface EncodedArray {
  typedArray: TypedArrayName;
  base64: string;
}

/** JSON in which every Uint8Array, Int32Array and Float32Array is an EncodedArray. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    const name = (Object.keys(typedArrays) as TypedArrayName[]).find((n) => v instanceof typedArrays[n]);
    if (!name) return v;
    const array = v as InstanceType<(typeof typedArrays)[TypedArrayName]>;
    return { typedArray: name, base64: base64Encode(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)) } satisfies EncodedArray;
  });
}

/** The inverse of toJson: EncodedArrays become typed arrays again. */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v !== "object" || v === null || !("typedArray" in v)) return v;
    const { typedArray, base64 } = v as EncodedArray;
    return new typedArrays[typedArray](base64Decode(base64).buffer);
  });
}

// btoa and atob exist in all three runtimes; they work on "binary strings", one char per byte.
function base64Encode(bytes: Uint8Array): string {
  const chunk = 0x8000; // String.fromCharCode takes its bytes as arguments: keep under the engine's argument limit
  let binary = "";
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

function base64Decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
