// The one timing harness of the benchmarks. Every contender (nnc, jax-js,
// TF.js) gives, for each row it can run, a Task: one step of work and a way to
// wait for it. The harness warms the task up, then times >= `seconds` of steps
// (each training step puts its batch in place), `repeats` times, and keeps the
// median rate. A step slower than a second (TF.js cpu on W3, ~10 s) is timed
// over a fixed number of steps instead. Also the benchmark scripts' shared
// reading of their command line.

import { type ParseArgsConfig, parseArgs } from "node:util";

/** One row of the benchmark table: a workload of PEERS.md (W3i: W3's forward pass only), or a GEMM kernel / the SIMD peak loop. */
export type Row = "W2" | "W3" | "W3i" | "W4" | "peak" | "gemm_nn" | "gemm_nt" | "gemm_tn";

export interface Task {
  /** The work of one step in the row's unit: samples, target tokens or GFLOP. */
  work: number;
  step(): void;
  /** Waits until every step issued so far has run (a backend may queue them). */
  sync(): void;
  dispose?(): void;
}

export interface Timing {
  seconds: number;
  repeats: number;
}

/** A contender's result on one row: a rate in the row's unit per second, or the first line of its failure. */
export type Outcome = { rate: number } | { error: string };

/** A column of the table. Rows it has no task for stay empty. */
export interface Contender<Data> {
  name: string;
  /** Runs before each of its rows (TF.js's backend is process-global). */
  prepare?(): Promise<void>;
  tasks: Partial<Record<Row, (data: Data) => Task | Promise<Task>>>;
  /** What the JSON report records about it (versions, backend flags). */
  info?(): Promise<Record<string, unknown>>;
}

/** A warm-up step slower than this switches to timing a fixed number of steps. */
const SLOW_STEP_MS = 1000;
const SLOW_TIMED_STEPS = 3;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median work per second of `task` over `repeats` timings of >= `seconds` (and >= 3 steps when one step takes over a second). */
export function timeSteps(task: Task, timing: Timing): number {
  const slow = warmUp(task);
  const rates: number[] = [];
  for (let r = 0; r < timing.repeats; r++) rates.push(timeBurst(task, timing.seconds, slow ? SLOW_TIMED_STEPS : 1));
  return median(rates);
}

/** Runs `task` for >= 1 s and >= 5 steps, or a single step when steps are slow; whether they are. */
export function warmUp(task: Task): boolean {
  let t0 = performance.now();
  task.step();
  task.sync();
  if (performance.now() - t0 > SLOW_STEP_MS) return true;
  t0 = performance.now();
  for (let s = 1; s < 5 || performance.now() - t0 < 1000; s++) task.step();
  task.sync();
  return false;
}

/** Work per second of `task` over >= `seconds` and >= `minSteps` steps, warm already. */
export function timeBurst(task: Task, seconds: number, minSteps = 1): number {
  let steps = 0;
  const start = performance.now();
  while (steps < minSteps || performance.now() - start < seconds * 1000) {
    task.step();
    steps++;
  }
  task.sync();
  return (steps * task.work) / ((performance.now() - start) / 1000);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Runs `contender` on `row`: its rate or the first line of its failure (undefined: it has no task for the row). */
export async function measure<Data>(contender: Contender<Data>, row: Row, data: Data, timing: Timing): Promise<Outcome | undefined> {
  const make = contender.tasks[row];
  if (!make) return undefined;
  let task: Task | undefined;
  try {
    await contender.prepare?.();
    task = await make(data);
    return { rate: timeSteps(task, timing) };
  } catch (e) {
    return { error: firstLine(e) };
  } finally {
    task?.dispose?.();
  }
}

/** The values of the command line's options (`config`, as parseArgs takes it); an option it does not have prints the message and `usage`, and exits 1. */
export function commandLine<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>>["values"] {
  try {
    return parseArgs(config).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(1);
  }
}
