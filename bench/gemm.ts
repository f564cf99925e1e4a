// GEMM micro-benchmark: nnc's matrix-product kernels (runtime-wasm/gemm.ts,
// compiled with constant shapes as an emitted model compiles them) on
// 1024x1024x1024 f32 matrices, against a SIMD peak loop, in GFLOP/s. The peak
// loop is the shape TOOLCHAIN.md measured: 12 independent f32x4 multiply-add
// chains held in registers, no memory traffic; issue 5 asks gemm_nn at 1024^3
// for >= 70% of it. Each kernel's result is first checked against a float64
// reference on a few entries, so that a broken kernel cannot look fast.

import { buildModule } from "../compiler/emit/build.ts";
import type { Row, Task } from "./harness.ts";
import { GEMM_GFLOP, GEMM_SIZE as N, uniformSource } from "./workloads.ts";

type Kernel = "gemm_nn" | "gemm_nt" | "gemm_tn";

const MATRIX_BYTES = N * N * 4;
// A, B and C at fixed addresses below the module's own data
const [A, B, C] = [0, MATRIX_BYTES, 2 * MATRIX_BYTES];
const CHAINS = 12;
const PEAK_ITERATIONS = 1 << 23; // ~20 ms a call at ~40 GFLOP/s

/** Where op(A)[i, k] and op(B)[k, j] sit in the stored matrices, in elements: i * aRow + k * aCol, k * bRow + j * bCol. */
const layouts: Record<Kernel, { aRow: number; aCol: number; bRow: number; bCol: number }> = {
  gemm_nn: { aRow: N, aCol: 1, bRow: N, bCol: 1 }, // C = A B
  gemm_nt: { aRow: N, aCol: 1, bRow: 1, bCol: N }, // C = A B^T, B stored [N, K]
  gemm_tn: { aRow: 1, aCol: N, bRow: N, bCol: 1 }, // C = A^T B, A stored [K, M]
};

const chainNames = Array.from({ length: CHAINS }, (_, i) => `x${i}`);
const source = `
import { gemm_nn, gemm_nt, gemm_tn } from "./gemm";
${(Object.keys(layouts) as Kernel[]).map((k) => `export function ${k}_${N}(): void { ${k}(${A}, ${B}, ${C}, ${N}, ${N}, ${N}, false); }`).join("\n")}

// ${CHAINS} chains x = x * m + a; each starts elsewhere, so that none can be merged with another.
export function peak(iterations: i32, m: f32, a: f32): f32 {
  const mv = f32x4.splat(m);
  const av = f32x4.splat(a);
  ${chainNames.map((x, i) => `let ${x} = f32x4.splat(${1 + i / 16});`).join("\n  ")}
  for (let i = 0; i < iterations; i++) {
    ${chainNames.map((x) => `${x} = f32x4.add(f32x4.mul(${x}, mv), av);`).join("\n    ")}
  }
  return ${chainNames.map((x) => `f32x4.extract_lane(${x}, 0)`).join(" + ")};
}
`;

interface GemmExports {
  memory: WebAssembly.Memory;
  peak(iterations: number, m: number, a: number): number;
  [kernel: string]: unknown;
}

/** The benchmark module, built as a model is (compiler/emit/build.ts). */
async function compileModule(): Promise<GemmExports> {
  const binary = (await buildModule(source, 3 * MATRIX_BYTES)) as Uint8Array<ArrayBuffer>;
  const { instance } = await WebAssembly.instantiate(binary);
  return instance.exports as unknown as GemmExports;
}

let compiled: Promise<GemmExports> | undefined;

/** The module, with A and B uniform in [-1, 1). */
function gemmModule(): Promise<GemmExports> {
  compiled ??= compileModule().then((exports) => {
    const uniform = uniformSource(1);
    const ab = new Float32Array(exports.memory.buffer, A, 2 * N * N);
    for (let i = 0; i < ab.length; i++) ab[i] = 2 * uniform() - 1;
    return exports;
  });
  return compiled;
}

/** Runs `kernel` once and compares 16 entries of C with float64 sums; throws on a difference beyond f32 rounding. */
function check(exports: GemmExports, kernel: Kernel, run: () => void): void {
  const f32 = (at: number) => new Float32Array(exports.memory.buffer, at, N * N);
  const [a, b, c] = [f32(A), f32(B), f32(C)];
  c.fill(Number.NaN);
  run();
  const { aRow, aCol, bRow, bCol } = layouts[kernel];
  const pick = uniformSource(7);
  for (let probe = 0; probe < 16; probe++) {
    const [i, j] = [Math.floor(pick() * N), Math.floor(pick() * N)];
    let sum = 0;
    let magnitude = 0; // sum of |a b|: f32 accumulation over K terms errs by at most ~K 2^-24 of it
    for (let k = 0; k < N; k++) {
      const product = a[i * aRow + k * aCol] * b[k * bRow + j * bCol];
      sum += product;
      magnitude += Math.abs(product);
    }
    const got = c[i * N + j];
    if (!(Math.abs(got - sum) <= N * 2 ** -24 * magnitude)) {
      throw new Error(`${kernel} is wrong: C[${i}, ${j}] = ${got}, float64 reference ${sum.toPrecision(8)}`);
    }
  }
}

async function kernelTask(kernel: Kernel): Promise<Task> {
  const exports = await gemmModule();
  const run = exports[`${kernel}_${N}`] as () => void;
  check(exports, kernel, run);
  return { work: GEMM_GFLOP, step: run, sync() {} };
}

async function peakTask(): Promise<Task> {
  const { peak } = await gemmModule();
  return {
    work: (PEAK_ITERATIONS * CHAINS * 4 * 2) / 1e9, // 4 lanes, a multiply and an add
    step() {
      // x = 0.999 x + 0.001 converges to 1: the values stay normal (no denormal slow path)
      if (!Number.isFinite(peak(PEAK_ITERATIONS, 0.999, 0.001))) throw new Error("peak loop overflowed");
    },
    sync() {},
  };
}

/** nnc's tasks for the GEMM rows of the table, in GFLOP per step. */
export const gemmTasks: Partial<Record<Row, () => Promise<Task>>> = {
  gemm_nn: () => kernelTask("gemm_nn"),
  gemm_nt: () => kernelTask("gemm_nt"),
  gemm_tn: () => kernelTask("gemm_tn"),
  peak: peakTask,
};
