// What every nnc command shares: its shape, and reading a .nn file, its data
// and its weights; files are written atomically (temp file, fsync, rename).

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { ParseArgsConfig } from "node:util";
import v8 from "node:v8";
import { type Compiled, compile } from "../../compiler/index.ts";
import { loadData, type Split } from "../runtime/data.ts";
import { relaxedSimdSupported } from "../runtime/features.ts";
import { Model } from "../runtime/model.ts";
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
 * --relaxed-simd builds with fused multiply-adds.
 */
export async function compileFile(file: string, values: Values): Promise<Compiled> {
  const text = readFileSync(file, "utf8");
  const relaxedSimd = values["relaxed-simd"] === true;
  if (relaxedSimd) enableRelaxedSimd();
  // checking every value needs every value in memory: no fusion
  const result = await compile(text, { file, batch: intOption(values, "batch", 1), fuse: values["check-numerics"] !== true, relaxedSimd });
  if (!result.ok) throw new CompileFailure(result.diagnostics, new Map([[file, text]]));
  return result.compiled;
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

export function intOption(values: Values, name: string, min: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs a whole number >= ${min}, not \`${raw}\``);
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
