// Two builds of nnc side by side in one process: the measurement behind the
// before/after ratios of docs/PERF.md. B is this checkout's build, A another
// checkout's (--base ROOT, built there with `npm run build`; `git worktree
// add /tmp/base HEAD` before a change gives the commit it starts from). Each
// compiles bench/workloads/w*.nn with its own compiler and runs it with its
// own runtime on the same data; bursts of --seconds alternate A, B, A, B, ...
// so that a drift in the machine's load falls on both alike. Prints each
// pair's ratio B/A and, per row, the median rates and the median ratio.
// --threads 1,2 compares thread counts instead: A on the first, B on the
// second (--base defaults to this checkout).
// Usage: node dist/bench/compare.js [--base ROOT] [--data DIR] [--only W2,W3,W3i,W4] [--threads N | N,M] [--bursts 8] [--seconds 2]

import { MAX_THREADS } from "../compiler/emit/build.ts";
import { commandLine, median, timeBurst, warmUp } from "./harness.ts";
import {
  benchData,
  bundledImages,
  importBuild,
  type ModelRow,
  modelRow,
  modelRows,
  nncTask,
  thisBuild,
  type Workload,
  workloadModel,
  workloadOf,
} from "./nnc.ts";

const usage = "usage: node dist/bench/compare.js [--base ROOT] [--data DIR] [--only W2,W3,W3i,W4] [--threads N | N,M] [--bursts 8] [--seconds 2]";
const values = commandLine(
  {
    options: {
      base: { type: "string" },
      data: { type: "string", default: bundledImages },
      only: { type: "string", default: modelRows.join(",") },
      threads: { type: "string", default: "1" },
      bursts: { type: "string", default: "8" },
      seconds: { type: "string", default: "2" },
    },
  },
  usage,
);
const rows = values.only.split(",").map(modelRow);
const threads = values.threads.split(",").map(Number);
const [bursts, seconds] = [Number(values.bursts), Number(values.seconds)];
const threadsOk = threads.length <= 2 && threads.every((t) => Number.isInteger(t) && t >= 1 && t <= MAX_THREADS);
if (rows.includes(undefined) || !threadsOk || !(Number.isInteger(bursts) && bursts >= 1 && seconds > 0) || (threads.length === 1 && !values.base)) {
  console.error(`${usage}\n  one of --base and --threads N,M is needed; ROW: ${modelRows.join(", ")}; N: 1 to ${MAX_THREADS}`);
  process.exit(1);
}

const [threadsA, threadsB] = [threads[0], threads.at(-1) as number];
const builds = { A: values.base ? await importBuild(values.base) : thisBuild, B: thisBuild };
console.log(`A: ${values.base ?? "this checkout"}, ${threadsA} thread(s); B: this checkout, ${threadsB} thread(s); ${bursts} bursts of ${seconds} s each`);
for (const row of rows as ModelRow[]) {
  const workload = workloadOf(row) as Workload;
  const [a, b] = [await workloadModel(builds.A, workload, threadsA), await workloadModel(builds.B, workload, threadsB)];
  const data = benchData(values.data, () => a.model);
  const tasks = [nncTask(row, a.model, data), nncTask(row, b.model, data)];
  for (const task of tasks) warmUp(task);
  const rates: [number[], number[]] = [[], []];
  for (let i = 0; i < bursts; i++) for (const [k, task] of tasks.entries()) rates[k].push(timeBurst(task, seconds));
  const ratios = rates[1].map((r, i) => r / rates[0][i]);
  const rate = (xs: number[]) => Math.round(median(xs)).toLocaleString("en-US");
  console.log(
    `${row}: A ${rate(rates[0])}, B ${rate(rates[1])} ${row === "W4" ? "tokens" : "samples"}/s; B/A ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(3)).join(" ")})`,
  );
  await Promise.all([a.model.close(), b.model.close()]);
}
