// Shared test helpers: compile .nn text to a loaded model, and random data for it.

import { type Compiled, type CompileOptions, compile } from "../compiler/index.ts";
import type { Manifest } from "../src/runtime/manifest.ts";
import { type Dataset, Model } from "../src/runtime/model.ts";
import type { Rng } from "../src/runtime/random.ts";

/** Compiles .nn text and loads it; `{ optimize: 0 }` skips Binaryen's optimisations (much faster to build, the same values). */
export async function compileModel(text: string, name = "test.nn", options: CompileOptions = {}): Promise<{ compiled: Compiled; model: Model }> {
  const result = await compile(text, { file: name, ...options });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message} at ${d.span.start.line}:${d.span.start.column}`).join("\n"));
  return { compiled: result.compiled, model: await Model.load(result.compiled.wasm) };
}

/** Random samples for every input: normal floats, or valid class labels. */
export function randomData(manifest: Manifest, count: number, rng: Rng): Dataset {
  const columns: Dataset["columns"] = {};
  for (const input of manifest.inputs) {
    const w = input.shape.reduce((a, b) => a * b, 1);
    columns[input.name] =
      input.dtype === "i32"
        ? Int32Array.from({ length: count * w }, () => rng.int(0, (input.classes ?? 1) - 1))
        : Float32Array.from({ length: count * w }, () => rng.normal());
  }
  return { count, columns };
}
