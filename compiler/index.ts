/**
 * The compiler: `.nn` source to one WebAssembly module that trains the model
 * (`compile`), with `load` and `Model` from the runtime for convenience.
 * @module nnc
 */

// compile(): .nn text -> training graph -> AssemblyScript -> .wasm. The pass
// list is data: each pass takes the graph, may append to it, and returns
// diagnostics.

import type { Manifest } from "../src/runtime/manifest.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { elaborate, type Overrides } from "./elaborate.ts";
import { emitModule } from "./emit/assemblyscript.ts";
import { type BuildOptions, buildWasm, MAX_THREADS } from "./emit/build.ts";
import { fuse } from "./emit/fusion.ts";
import { manifestOf } from "./emit/manifest.ts";
import { layout } from "./emit/memory.ts";
import type { Graph } from "./ir/graph.ts";
import { verify } from "./ir/verify.ts";
import { parse } from "./parse.ts";
import { autodiff } from "./passes/autodiff.ts";
import { checkLimits } from "./passes/limits.ts";
import { perceptronRule } from "./passes/perceptron.ts";

export { type Dataset, load, Model } from "../src/runtime/index.ts";
export { type Diagnostic, render } from "./diagnostics.ts";

export interface Pass {
  name: string;
  description: string;
  run(graph: Graph): Diagnostic[];
}

export const passes: Pass[] = [
  {
    name: "gradients",
    description: "derive each parameter's update direction: reverse-mode autodiff, or a declared rule",
    run: (g) => (g.train.optimizer.kind === "perceptron" ? perceptronRule(g) : autodiff(g)),
  },
  {
    name: "limits",
    description: "refuse a model whose training step does not fit in WebAssembly memory",
    run: checkLimits,
  },
];

export type CompileResult = { ok: true; graph: Graph } | { ok: false; diagnostics: Diagnostic[] };

export interface CompileOptions extends Overrides, BuildOptions {
  /** The name diagnostics give the source, and that paths in its `data` statement are relative to (default "model.nn"). */
  file?: string;
  /** Fuse pointwise chains into the kernels before them (default true); false gives one kernel per node, with the same results. */
  fuse?: boolean;
}

/** Parses, elaborates and runs the passes; NNC_VERIFY=1 checks the graph after each pass. */
export function compileGraph(text: string, options: CompileOptions = {}): CompileResult {
  const parsed = parse(text, options.file ?? "model.nn");
  if ("error" in parsed) return { ok: false, diagnostics: [parsed.error] };
  const elaborated = elaborate(parsed.ast, options);
  if ("errors" in elaborated) return { ok: false, diagnostics: elaborated.errors };
  const graph = elaborated.graph;
  const check = globalThis.process?.env?.NNC_VERIFY === "1";
  for (const pass of passes) {
    const diagnostics = pass.run(graph);
    if (diagnostics.length) return { ok: false, diagnostics };
    if (check) verify(graph, pass.name);
  }
  return { ok: true, graph };
}

export interface Compiled {
  graph: Graph;
  manifest: Manifest;
  /** The generated AssemblyScript. */
  source: string;
  wasm: Uint8Array;
}

/**
 * Compiles .nn source text to a .wasm that trains the model, with its graph,
 * manifest and generated AssemblyScript; or returns the diagnostics (render
 * them with `render` from compiler/diagnostics.ts).
 *
 * @example
 * const result = await compile(text, { file: "xor.nn" });
 * if (!result.ok) throw new Error(result.diagnostics.map((d) => render(d, new Map([["xor.nn", text]]))).join("\n"));
 * const model = await load(result.compiled.wasm);
 */
export async function compile(
  text: string,
  options: CompileOptions = {},
): Promise<{ ok: true; compiled: Compiled } | { ok: false; diagnostics: Diagnostic[] }> {
  const result = compileGraph(text, options);
  if (!result.ok) return result;
  const graph = result.graph;
  const fusion = fuse(graph, options.fuse ?? true);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
    throw new RangeError(`threads: a whole number from 1 to ${MAX_THREADS}, not ${threads}`);
  const mem = layout(graph, fusion, threads);
  const manifest = await manifestOf(graph, mem, threads);
  const source = emitModule(graph, mem, fusion, threads);
  return { ok: true, compiled: { graph, manifest, source, wasm: await buildWasm(source, manifest, options) } };
}
