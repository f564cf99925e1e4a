// What every nnc command shares: its shape, and reading a .nn file, its data
// and its weights; files are written atomically (temp file, fsync, rename).

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, resolve } from "node:path";
import type { ParseArgsConfig } from "node:util";
import v8 from "node:v8";
import type { Diagnostic } from "../../compiler/diagnostics.ts";
import { MAX_THREADS } from "../../compiler/emit/build.ts";
import { type Compiled, compile, compileGraph } from "../../compiler/index.ts";
import { stats } from "../../compiler/ir/print.ts";
import { loadData, type Split } from "../runtime/data.ts";
import { relaxedSimdSupported } from "../runtime/features.ts";
import { Model } from "../runtime/model.ts";
import { threadsSupported } from "../runtime/threads.ts";
import { decodeWeights } from "../runtime/weights.ts";
import { CompileFailure, UsageError } from "./errors.ts";
import { filesBeside } from "./files.ts";

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(file: string, values: Values): Promise<void>;
}

/**
 * Compiles a .nn file; --batch N replaces the file's batch size (a
 * compile-time constant); --check-numerics compiles without fusion;
 * --relaxed-simd builds with fused multiply-adds; --threads N builds for N
 * threads, else `threads` says how many (by default: as many as pay here).
 */
export async function compileFile(file: string, values: Values, threads: "here" | 1 = "here"): Promise<Compiled> {
  const text = readFileSync(file, "utf8");
  const relaxedSimd = values["relaxed-simd"] === true;
  if (relaxedSimd) enableRelaxedSimd();
  const options = { file, batch: intOption(values, "batch", 1) };
  const fail = (diagnostics: Diagnostic[]) => new CompileFailure(diagnostics, new Map([[file, text]]));
  let count = intOption(values, "threads", 1, MAX_THREADS) ?? threads;
  if (count === "here") {
    const graph = compileGraph(text, options);
    if (!graph.ok) throw fail(graph.diagnostics);
    count = threadsHere(stats(graph.graph).flopsPerStep);
  }
  // checking every value needs every value in memory: no fusion
  const result = await compile(text, { ...options, fuse: values["check-numerics"] !== true, relaxedSimd, threads: count });
  if (!result.ok) throw fail(result.diagnostics);
  return result.compiled;
}

/**
 * Below this many FLOPs a step gains nothing on more threads: the barrier
 * after each kernel costs what sharing the work saves (XOR runs 3.5x slower
 * on two, softmax_regression's 2 MFLOP the same; docs/PERF.md).
 */
const SHARED_FLOPS = 1e7;

/** Every core (up to MAX_THREADS) for a step with the work to share, where this runtime can run threads; else 1. */
function threadsHere(flopsPerStep: number): number {
  return flopsPerStep >= SHARED_FLOPS && threadsSupported() ? Math.min(availableParallelism(), MAX_THREADS) : 1;
}

export async function loadTrained(file: string, values: Values): Promise<Model> {
  if (!values.weights) throw new UsageError("--weights FILE is required (write one with `nnc train FILE.nn --save FILE`)");
  const model = await Model.load((await compileFile(file, values)).wasm);
  const path = values.weights as string;
  model.setWeights(decodeWeights(readFileSync(path), model.manifest, path));
  return model;
}

/** Paths in a .nn file are relative to the file; --data is relative to the working directory. */
export function readData(model: Model, nnFile: string, override: string | undefined): Split {
  return loadData(model.manifest, filesBeside(nnFile), override && resolve(override));
}

export function intOption(values: Values, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} needs a whole number ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}, not \`${raw}\``);
  return n;
}

/** Node 20 compiles relaxed SIMD only behind a V8 flag, which can be set before the first module is compiled. */
function enableRelaxedSimd(): void {
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  if (!relaxedSimdSupported()) throw new UsageError("--relaxed-simd: this runtime does not accept relaxed SIMD");
}

/** The file holds either its old contents or all of the new, even across a crash: temp file, fsync, rename, fsync of the folder. */
export function writeAtomic(path: string, contents: Uint8Array | string): void {
  const temp = `${dirname(path)}/.${basename(path)}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  syncPath(temp, "r+");
  renameSync(temp, path);
  syncPath(dirname(path), "r");
}

function syncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
