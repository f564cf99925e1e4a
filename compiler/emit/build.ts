// Build: AssemblyScript source -> .wasm with the AssemblyScript compiler API,
// entirely in memory. Binaryen (inside asc) optimises at -O2 with SIMD on;
// a transform stores the manifest as a custom section before optimisation.
// Built for threads, the module imports its memory (shared, of a fixed size)
// so that every thread's instance can be given the same one.
// buildModule also serves modules that are not models (bench/gemm.ts).

import asc from "assemblyscript/asc";
import { MANIFEST_SECTION, type Manifest } from "../../src/runtime/manifest.ts";
import { kernels } from "../kernels.generated.ts";

export interface BuildOptions {
  /** Build with relaxed SIMD: fused multiply-adds in the matrix products, faster where the CPU has them, and no longer the same bits in every runtime. */
  relaxedSimd?: boolean;
  /** Binaryen optimisation level, 0-3 (default 2: as fast to train as 3 here, and 6x faster to build a Transformer; docs/PERF.md). */
  optimize?: number;
  /** The most threads the module can train with, 1 to MAX_THREADS (default 1: no shared memory, no workers; the same results with any number). */
  threads?: number;
}

/** As many threads as runtime-wasm/gemm.ts keeps panels for. */
export const MAX_THREADS = 16;

/** The pages of linear memory a module whose static data starts at `memoryBase` has: room for the kernels' own (each thread's GEMM panel, 16 KiB, pack of A, 64 KiB, and tile of C, 4 KiB). */
export const memoryPages = (memoryBase: number) => Math.ceil(memoryBase / 65536) + 23;

export async function buildWasm(source: string, manifest: Manifest, options: BuildOptions = {}): Promise<Uint8Array> {
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const section = (module: { addCustomSection(name: string, data: Uint8Array): void }) => module.addCustomSection(MANIFEST_SECTION, manifestBytes);
  return buildModule(source, manifest.memoryBytes, options, section);
}

/**
 * AssemblyScript `source` (with the kernels of runtime-wasm/ beside it) to a
 * .wasm whose static data starts at `memoryBase`, in memory; `afterCompile`
 * may change the module before Binaryen optimises it.
 */
export async function buildModule(source: string, memoryBase: number, options: BuildOptions = {}, afterCompile?: (module: never) => void): Promise<Uint8Array> {
  const files: Record<string, string> = { ...kernels, "model.ts": source };
  const threaded = (options.threads ?? 1) > 1;
  let binary: Uint8Array | null = null;
  const errors: string[] = [];
  const result = await asc.main(
    [
      "model.ts",
      "--outFile",
      "model.wasm",
      "--optimizeLevel",
      String(options.optimize ?? 2),
      "--shrinkLevel",
      "0",
      "--runtime",
      "stub",
      "--noAssert",
      "--enable",
      ["simd", ...(options.relaxedSimd ? ["relaxed-simd"] : []), ...(threaded ? ["threads"] : [])].join(","),
      "--use",
      "abort=",
      "--memoryBase",
      String(memoryBase),
      "--initialMemory",
      String(memoryPages(memoryBase)),
      ...(threaded ? ["--importMemory", "--zeroFilledMemory", "--sharedMemory", "--maximumMemory", String(memoryPages(memoryBase))] : []),
      "--noColors",
    ],
    {
      readFile: (name) => files[name] ?? null,
      writeFile: (name, contents) => {
        if (name === "model.wasm") binary = contents as Uint8Array;
      },
      listFiles: () => [],
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => errors.push(String(s)) > 0 } as never,
      transforms: (afterCompile ? [{ afterCompile }] : []) as never,
    },
  );
  if (result.error || !binary) throw new Error(`internal: AssemblyScript failed on generated code:\n${errors.join("")}\n${result.error?.message ?? ""}`);
  return binary;
}
