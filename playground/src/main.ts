// The playground page: pick an example or write a model, compile it, train
// it on the bundled data with a live chart, see a classifier's confusion
// matrix, translate with the Transformer, and download the .wasm and the
// weights. The compiler worker does the work; this file wires the page. The
// body's data-state (idle, compiling, compiled, training, trained, failed)
// says where the page is, for styles and tests.

import "./style.css";
import type { EpochReport } from "../../src/runtime/index.ts";
import { ConfusionChart, TrainingChart } from "./charts.ts";
import { createEditor, setText, showProblems } from "./editor.ts";
import type { Position, Source } from "./protocol.ts";
import { CompilerWorker, type PageReply } from "./worker-client.ts";

/** Example name (`iris`) -> its text. */
const examples: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>("../../examples/*.nn", { query: "?raw", import: "default", eager: true })).map(([path, text]) => [
    path.replace(/^.*\/|\.nn$/g, ""),
    text,
  ]),
);
/** Trains in about a second, with held-out data, accuracy and named classes. */
const FIRST_EXAMPLE = "iris";
const HINT = "Compile builds the model's .wasm; Train builds it and trains it on the model's data";

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const page = {
  example: byId<HTMLSelectElement>("example"),
  compile: byId<HTMLButtonElement>("compile"),
  train: byId<HTMLButtonElement>("train"),
  stop: byId<HTMLButtonElement>("stop"),
  downloadWasm: byId<HTMLButtonElement>("download-wasm"),
  downloadWeights: byId<HTMLButtonElement>("download-weights"),
  report: byId<HTMLPreElement>("report"),
  compiled: byId<HTMLParagraphElement>("compiled"),
  status: byId<HTMLParagraphElement>("status"),
  progress: byId<HTMLProgressElement>("progress"),
  translate: byId<HTMLFormElement>("translate"),
  sentence: byId<HTMLInputElement>("sentence"),
  translation: byId<HTMLOutputElement>("translation"),
};

type State = "idle" | "compiling" | "compiled" | "training" | "trained" | "failed";

/** The last Compile or Train, and what the page has learnt of it so far. */
let run: { request: "compile" | "train"; model?: string; translates?: boolean; evaluatedOn?: "test" | "train"; epochs: EpochReport[] } | null = null;

const curves = new TrainingChart(byId("curves"));
const confusion = new ConfusionChart(byId("confusion"));
const worker = new CompilerWorker(onReply);
const editor = createEditor(byId("editor"), async (text) => {
  const { problems, report } = await worker.check(source(text));
  showReport(report);
  return problems;
});

function source(text = editor.state.doc.toString()): Source {
  return { text, file: `examples/${page.example.value}.nn` };
}

function setState(state: State, status?: string): void {
  document.body.dataset.state = state;
  const busy = state === "compiling" || state === "training";
  page.compile.disabled = page.train.disabled = busy;
  page.stop.disabled = !busy;
  page.progress.hidden = state !== "training";
  if (status !== undefined) page.status.textContent = status;
}

function showReport(report: string): void {
  page.report.textContent = report;
  page.report.hidden = report === "";
}

/** What each download button saves: an object URL of the bytes, and the file name. */
const downloads = new Map<HTMLButtonElement, { url: string; name: string }>();

/** Offers `bytes` as the file `name` from `button`, or nothing when null. */
function offer(button: HTMLButtonElement, bytes: Uint8Array | null, name = ""): void {
  const previous = downloads.get(button);
  if (previous) URL.revokeObjectURL(previous.url);
  downloads.delete(button);
  if (bytes) downloads.set(button, { url: URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" })), name });
  button.disabled = !bytes;
}

function save(button: HTMLButtonElement): void {
  const file = downloads.get(button);
  if (!file) return;
  const link = document.createElement("a");
  link.href = file.url;
  link.download = file.name;
  link.click();
}

function clearResults(): void {
  page.compiled.hidden = true;
  offer(page.downloadWasm, null);
  offer(page.downloadWeights, null);
  page.translate.hidden = true;
  curves.clear();
  void confusion.show(undefined);
}

function start(request: "compile" | "train"): void {
  clearResults();
  run = { request, epochs: [] };
  setState("compiling", "compiling…");
  worker.send({ kind: request, ...source() });
}

/** Stops the run in progress, if any, and forgets its results. */
function stop(status: string): void {
  if (document.body.dataset.state === "compiling" || document.body.dataset.state === "training") worker.restart();
  run = null;
  clearResults();
  setState("idle", status);
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(1)}%`;
const duration = (seconds: number) => (seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`);

/** "test loss 0.0512, accuracy 97.8%" */
function metricsText(report: EpochReport): string {
  const { loss, accuracy } = report.metrics;
  return `${run?.evaluatedOn} loss ${loss.toPrecision(3)}${accuracy === undefined ? "" : `, accuracy ${percent(accuracy)}`}`;
}

function showProgress({ epoch, epochs, samples, samplesPerEpoch, samplesPerSecond }: Position): void {
  page.progress.value = (epoch - 1 + samples / samplesPerEpoch) / epochs;
  const last = run?.epochs.at(-1);
  const parts = [`epoch ${epoch}/${epochs}`, `${Math.round(samplesPerSecond).toLocaleString("en")} samples/s`];
  page.status.textContent = [...parts, ...(last ? [`after epoch ${last.epoch}: ${metricsText(last)}`] : [])].join(" · ");
}

function onReply(reply: PageReply): void {
  switch (reply.kind) {
    case "ready":
      if (document.body.dataset.state === "idle") page.status.textContent = HINT;
      break;
    case "status":
      if (run) page.status.textContent = reply.text;
      break;
    case "failed":
      showReport(reply.report);
      showProblems(editor, reply.problems);
      run = null;
      setState("failed", reply.problems.length ? "the model has errors (see below, and in the editor)" : "failed (see below)");
      break;
    case "compiled": {
      if (!run) break;
      Object.assign(run, { model: reply.model, translates: reply.translates });
      showReport("");
      offer(page.downloadWasm, reply.wasm, `${reply.model}.wasm`);
      const size = `${(reply.wasm.length / 1024).toFixed(1)} KB of wasm`;
      page.compiled.textContent = `compiled model ${reply.model} in ${duration(reply.seconds)}: ${reply.parameters.toLocaleString("en")} parameters, ${size}`;
      page.compiled.hidden = false;
      if (run.request === "compile") setState("compiled", "ready to train");
      else page.status.textContent = "loading the data…";
      break;
    }
    case "training":
      if (!run) break;
      run.evaluatedOn = reply.evaluatedOn;
      curves.start({ epochs: reply.epochs, evaluatedOn: reply.evaluatedOn });
      setState("training", "training…");
      break;
    case "progress":
      run?.epochs.push(...reply.epochs);
      curves.add(reply.batches, reply.epochs);
      showProgress(reply.position);
      break;
    case "trained": {
      const last = run?.epochs.at(-1);
      offer(page.downloadWeights, reply.weights, `${run?.model}.weights`);
      void confusion.show(reply.classified);
      page.translate.hidden = !run?.translates;
      const epochs = `${last?.epoch} epoch${last?.epoch === 1 ? "" : "s"}`;
      setState("trained", `trained ${epochs} in ${duration(reply.seconds)}${last ? `: ${metricsText(last)}` : ""}`);
      break;
    }
    case "translated":
      page.translation.value = reply.translation;
      break;
    default:
      reply satisfies never;
  }
}

for (const name of Object.keys(examples).sort()) page.example.add(new Option(name, name));
page.example.value = examples[location.hash.slice(1)] ? location.hash.slice(1) : FIRST_EXAMPLE;
setText(editor, examples[page.example.value]);

page.example.addEventListener("change", () => {
  stop(HINT);
  history.replaceState(null, "", `#${page.example.value}`);
  setText(editor, examples[page.example.value]);
});
page.compile.addEventListener("click", () => start("compile"));
page.downloadWasm.addEventListener("click", () => save(page.downloadWasm));
page.downloadWeights.addEventListener("click", () => save(page.downloadWeights));
page.train.addEventListener("click", () => start("train"));
page.stop.addEventListener("click", () => stop(`stopped. ${HINT}`));
page.translate.addEventListener("submit", (event) => {
  event.preventDefault();
  page.translation.value = "…";
  worker.send({ kind: "translate", sentence: page.sentence.value });
});
