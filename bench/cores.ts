// How far this machine's cores scale a workload by themselves: N copies of
// one workload, each a one-thread model in a worker of its own (no shared
// memory, no barrier), trained at once, against one copy alone. Their summed
// rate over the lone one's is the most that --threads N could give on this
// work here; docs/PERF.md compares nnc's threads with it.
// Usage: node dist/bench/cores.js [--data DIR] [--only W3] [--copies 2] [--rounds 3] [--seconds 4]

import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { commandLine, timeBurst, warmUp } from "./harness.ts";
import { benchData, bundledImages, type ModelRow, modelRow, nncTask, thisBuild, type Workload, workloadModel, workloadOf } from "./nnc.ts";

interface Job {
  row: ModelRow;
  data: string;
  seconds: number;
}

/** In a worker: loads the model, warms it up, says so, and on "go" times one burst and posts its rate. */
async function copy({ row, data, seconds }: Job): Promise<void> {
  const { model } = await workloadModel(thisBuild, workloadOf(row) as Workload, 1);
  const task = nncTask(
    row,
    model,
    benchData(data, () => model),
  );
  warmUp(task);
  const port = parentPort as NonNullable<typeof parentPort>;
  port.postMessage("ready");
  port.once("message", () => {
    port.postMessage(timeBurst(task, seconds));
    port.close();
  });
}

/** The rates of `n` copies started together, once each has warmed up. */
async function together(n: number, job: Job): Promise<number[]> {
  const workers = Array.from({ length: n }, () => new Worker(new URL(import.meta.url), { workerData: job }));
  await Promise.all(workers.map((w) => new Promise((ready) => w.once("message", ready))));
  const rates = workers.map((w) => new Promise<number>((rate) => w.once("message", rate)));
  for (const w of workers) w.postMessage("go");
  const result = await Promise.all(rates);
  await Promise.all(workers.map((w) => w.terminate()));
  return result;
}

async function main(): Promise<void> {
  const usage = "usage: node dist/bench/cores.js [--data DIR] [--only W2|W3|W3i|W4] [--copies 2] [--rounds 3] [--seconds 4]";
  const values = commandLine(
    {
      options: {
        data: { type: "string", default: bundledImages },
        only: { type: "string", default: "W3" },
        copies: { type: "string", default: String(availableParallelism()) },
        rounds: { type: "string", default: "3" },
        seconds: { type: "string", default: "4" },
      },
    },
    usage,
  );
  const row = modelRow(values.only);
  const [copies, rounds, seconds] = [Number(values.copies), Number(values.rounds), Number(values.seconds)];
  if (!row || !(Number.isInteger(copies) && copies >= 2 && Number.isInteger(rounds) && rounds >= 1 && seconds > 0)) {
    console.error(usage);
    process.exit(1);
  }
  const job: Job = { row, data: values.data, seconds };
  for (let round = 0; round < rounds; round++) {
    const [alone] = await together(1, job);
    const many = await together(copies, job);
    const sum = many.reduce((a, b) => a + b, 0);
    const rate = (x: number) => Math.round(x).toLocaleString("en-US");
    console.log(`${row}: one alone ${rate(alone)}; ${copies} at once ${many.map(rate).join(" + ")} = ${rate(sum)}, ${(sum / alone).toFixed(2)}x`);
  }
}

if (isMainThread) await main();
else await copy(workerData as Job);
