// What the compiler worker does with each request: checks and compiles
// source, fetches the model's data, trains with progress reports, and
// translates with the trained model. It keeps the last compiled module, so
// Train after Compile does not build it again.

import { type Compiled, compile, compileGraph, type Diagnostic, Model, render } from "../../compiler/index.ts";
import { type Classified, classify } from "../../src/report/classify.ts";
import { DataError, loadData, type Split, translate } from "../../src/runtime/datasets.ts";
import { type EpochReport, encodeWeights, ModelError } from "../../src/runtime/index.ts";
import { fetchData } from "./data-files.ts";
import type { BatchPoint, Findings, Problem, Reply, Request, Source } from "./protocol.ts";

type Post = (reply: Reply, transfer?: Transferable[]) => void;

/** At most this often (ms) the worker closes a point of the loss curve and posts progress. */
const REPORT_INTERVAL = 100;
/** A point of the loss curve closes when it holds this many batches, however fast they came. */
const BATCHES_PER_POINT = 8;

/** The diagnostics for the editor, and rendered as `nnc` prints them. */
function findings(source: Source, diagnostics: Diagnostic[]): Findings {
  const sources = new Map([[source.file, source.text]]);
  return { problems: diagnostics.flatMap(problemsOf), report: diagnostics.map((d) => render(d, sources)).join("\n\n") };
}

/** The problems a diagnostic shows in the editor: its span, and its notes' spans in the same file. */
function problemsOf(diagnostic: Diagnostic): Problem[] {
  const { span, code, message, notes } = diagnostic;
  return [
    { from: span.start.offset, to: span.end.offset, severity: "error", message: `error[${code}]: ${message}` },
    ...notes
      .filter((note) => note.span.source === span.source)
      .map((note): Problem => ({ from: note.span.start.offset, to: note.span.end.offset, severity: "info", message: `note: ${note.message}` })),
  ];
}

export class Session {
  private compiled: { source: Source; result: Compiled; seconds: number } | null = null;
  private trained: Model | null = null;

  constructor(private readonly post: Post) {}

  async handle(request: Request): Promise<void> {
    try {
      switch (request.kind) {
        case "check":
          this.check(request.id, request);
          break;
        case "compile":
          await this.compile(request);
          break;
        case "train":
          await this.train(request);
          break;
        case "translate":
          this.translate(request.sentence);
          break;
        default:
          request satisfies never;
      }
    } catch (e) {
      this.post({ kind: "failed", problems: [], report: unlocated(e) });
    }
  }

  /** Always answers, so the editor never waits for a check that failed. */
  private check(id: number, source: Source): void {
    try {
      const result = compileGraph(source.text, { file: source.file });
      this.post({ kind: "checked", id, ...findings(source, result.ok ? [] : result.diagnostics) });
    } catch (e) {
      this.post({ kind: "checked", id, problems: [], report: unlocated(e) });
    }
  }

  private fail(source: Source, diagnostics: Diagnostic[]): void {
    this.post({ kind: "failed", ...findings(source, diagnostics) });
  }

  /** The compiled module of the source (built again only when the text or the name changed), or null after posting why not. */
  private async compile(source: Source): Promise<Compiled | null> {
    let compiled = this.compiled;
    if (!compiled || compiled.source.text !== source.text || compiled.source.file !== source.file) {
      this.post({ kind: "status", text: "compiling…" });
      const start = performance.now();
      const result = await compile(source.text, { file: source.file });
      if (!result.ok) {
        this.fail(source, result.diagnostics);
        return null;
      }
      compiled = this.compiled = { source, result: result.compiled, seconds: (performance.now() - start) / 1000 };
    }
    const { manifest, wasm } = compiled.result;
    this.post({
      kind: "compiled",
      model: manifest.model,
      wasm,
      parameters: manifest.params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0),
      seconds: compiled.seconds,
      translates: manifest.data?.kind === "translation",
    });
    return compiled.result;
  }

  private async train(source: Source): Promise<void> {
    const compiled = await this.compile(source);
    if (!compiled) return;
    const { manifest, wasm } = compiled;
    const io = await fetchData(manifest, source.file, (path) => this.post({ kind: "status", text: `fetching ${path}…` }));
    this.post({ kind: "status", text: "reading the data…" });
    let split: Split;
    try {
      split = loadData(manifest, io);
    } catch (e) {
      if (!(e instanceof DataError && e.span)) throw e;
      return this.fail(source, [{ code: "E020", message: `data error: ${e.message}`, span: e.span, notes: [] }]);
    }
    const model = await Model.load(wasm);
    this.trained = null;
    const { epochs, metrics } = manifest.train;
    this.post({ kind: "training", epochs, evaluatedOn: split.test ? "test" : "train" });
    const progress = new ProgressReporter(this.post, epochs, split.train.count);
    const start = performance.now();
    model.fit(split.train, {
      test: split.test,
      onBatch: (epoch, samples, meanLoss) => progress.batch(epoch, samples, meanLoss),
      onEpoch: (report) => progress.epoch(report),
    });
    progress.flush();
    this.trained = model;
    const weights = encodeWeights(manifest, model.getWeights());
    const classified = metrics.includes("accuracy") ? classifiedOrNull(model, split) : null;
    this.post({ kind: "trained", weights, seconds: (performance.now() - start) / 1000, ...(classified ? { classified } : {}) }, [
      weights.buffer as ArrayBuffer,
    ]);
  }

  private translate(sentence: string): void {
    if (!this.trained) throw new ModelError("train the model first");
    this.post({ kind: "translated", sentence, translation: translate(this.trained, [sentence])[0] });
  }
}

/** The report of an error with no place in the source: a data file's line, a NaN in training, or a bug. */
function unlocated(e: unknown): string {
  if (e instanceof DataError) return `error: ${e.file ? `${e.file}${e.line ? `:${e.line}` : ""}: ` : ""}${e.message}`;
  if (e instanceof ModelError) return `error: ${e.message}`;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}

/** The true and predicted class of each held-out sample (or each training sample), or null when the model does not classify one class per sample. */
function classifiedOrNull(model: Model, split: Split): (Classified & { classNames?: string[] }) | null {
  try {
    return { ...classify(model, split.test ?? split.train), ...(split.classNames ? { classNames: split.classNames } : {}) };
  } catch (e) {
    if (e instanceof ModelError) return null;
    throw e;
  }
}

/**
 * Turns fit's callbacks into few messages: the loss of the batches since the
 * last point (recovered from fit's running mean over the epoch), closed after
 * REPORT_INTERVAL ms or BATCHES_PER_POINT batches and at the end of each epoch,
 * and the epoch reports, posted together at most every REPORT_INTERVAL ms.
 */
class ProgressReporter {
  private points: BatchPoint[] = [];
  private reports: EpochReport[] = [];
  /** Samples and summed loss of the epoch so far when the open point began, and the batches since. */
  private pointStart = { samples: 0, sum: 0 };
  private batchesInPoint = 0;
  private lastPoint = performance.now();
  private lastPost = performance.now();
  private readonly start = performance.now();
  private samplesDone = 0;
  private position = { epoch: 1, samples: 0 };

  constructor(
    private readonly post: Post,
    private readonly epochs: number,
    private readonly samplesPerEpoch: number,
  ) {}

  batch(epoch: number, samples: number, meanLoss: number): void {
    this.samplesDone += samples - (epoch === this.position.epoch ? this.position.samples : 0);
    this.position = { epoch, samples };
    this.batchesInPoint++;
    const epochEnds = samples === this.samplesPerEpoch;
    if (epochEnds || this.batchesInPoint >= BATCHES_PER_POINT || performance.now() - this.lastPoint >= REPORT_INTERVAL) {
      const sum = meanLoss * samples;
      this.points.push({ epoch: epoch - 1 + samples / this.samplesPerEpoch, loss: (sum - this.pointStart.sum) / (samples - this.pointStart.samples) });
      this.pointStart = epochEnds ? { samples: 0, sum: 0 } : { samples, sum };
      this.batchesInPoint = 0;
      this.lastPoint = performance.now();
    }
    this.flushIfDue();
  }

  epoch(report: EpochReport): void {
    this.reports.push(report);
    this.flushIfDue();
  }

  private flushIfDue(): void {
    if (performance.now() - this.lastPost >= REPORT_INTERVAL) this.flush();
  }

  /** Posts what has not been posted. */
  flush(): void {
    const seconds = (performance.now() - this.start) / 1000;
    const position = { ...this.position, epochs: this.epochs, samplesPerEpoch: this.samplesPerEpoch, samplesPerSecond: this.samplesDone / seconds };
    this.post({ kind: "progress", batches: this.points, epochs: this.reports, position });
    this.points = [];
    this.reports = [];
    this.lastPost = performance.now();
  }
}
