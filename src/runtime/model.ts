// A compiled model, loaded: feeds batches into its linear memory, runs the
// exported training step, evaluates, predicts, and reads or writes weights.
// Runtime-neutral: no Node APIs, so the same code runs in browsers and Deno.

import { relaxedSimdSupported } from "./features.ts";
import { initialValues } from "./init.ts";
import { MANIFEST_SECTION, MANIFEST_VERSION, type Manifest, type TensorInfo } from "./manifest.ts";
import { Rng } from "./random.ts";
import { learningRate } from "./schedule.ts";
import { startThreads, type Thread, threadsSupported } from "./threads.ts";
import { streamState } from "./xorshift.ts";

/** Samples by input name, each row-major [count, ...shape]. */
export interface Dataset {
  count: number;
  columns: Record<string, Float32Array | Int32Array>;
}

export interface Metrics {
  loss: number;
  accuracy?: number;
  mse?: number;
}

export interface EpochReport {
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** On the test data (or the training data when there is none), after the epoch. */
  metrics: Metrics;
  /** Time spent in training steps, evaluation excluded. */
  seconds: number;
}

export interface FitOptions {
  epochs?: number;
  seed?: number;
  /** Evaluated after each epoch; the training data when absent. */
  test?: Dataset;
  onEpoch?: (report: EpochReport) => void;
  onBatch?: (epoch: number, samplesDone: number, meanLoss: number) => void;
  /** After each step, where the run would continue from. */
  onStep?: (next: Position) => void;
  /** Continue a run from here (epoch from 1, batch within the epoch from 0). */
  from?: Position;
}

/** A place in a training run: the next batch to train. */
export interface Position {
  epoch: number;
  batch: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  predict(n: number): void;
  forward(n: number): number;
  backward(n: number): void;
  update(): void;
  train_step(n: number): number;
  check_numerics(on: boolean): void;
  numeric_fault(): number;
  /** Built for threads: how many run each phase (1, or every thread started). */
  set_threads?(count: number): void;
  /** Built for threads: threads 1 to team - 1 return from `serve`. */
  stop?(team: number): void;
}

export interface LoadOptions {
  /**
   * Threads to train and predict with, for a model built for threads (at most
   * as many as it was built for, which is the default): the same results with
   * any number. Where memory cannot be shared (a page that is not
   * cross-origin isolated), 1.
   */
  threads?: number;
}

export class ModelError extends Error {}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const rowSize = (t: TensorInfo) => elements(t.shape);

export class Model {
  /** Training steps taken since loading. */
  steps = 0;

  private constructor(
    readonly manifest: Manifest,
    private readonly exports: Exports,
    private readonly workers: Thread[],
  ) {}

  /** Threads that run each step (this one and the workers). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Stops the worker threads; the model is not usable after. Needless with one
   * thread, and in Node (its waiting workers do not keep a process alive);
   * Deno and pages keep workers until they are stopped.
   */
  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    if (!workers.length) return;
    this.exports.stop?.(workers.length + 1);
    await Promise.all(workers.map((worker) => worker.end()));
  }

  static async load(wasm: BufferSource | WebAssembly.Module, options: LoadOptions = {}): Promise<Model> {
    const module = wasm instanceof WebAssembly.Module ? wasm : await compileModule(wasm);
    const sections = WebAssembly.Module.customSections(module, MANIFEST_SECTION);
    if (sections.length !== 1) throw new ModelError(`not an nnc model: the .wasm has no "${MANIFEST_SECTION}" section`);
    const manifest = JSON.parse(new TextDecoder().decode(sections[0])) as Manifest;
    if (manifest.version !== MANIFEST_VERSION)
      throw new ModelError(`manifest version ${manifest.version} is not supported (this runtime reads version ${MANIFEST_VERSION})`);
    const built = manifest.threads ?? 1;
    const threads = built > 1 && threadsSupported() ? Math.max(1, Math.min(options.threads ?? built, built)) : 1;
    // built for threads, the module imports a shared memory even when only this thread runs
    const memory = built > 1 ? new WebAssembly.Memory({ initial: manifest.memoryPages ?? 0, maximum: manifest.memoryPages, shared: true }) : null;
    const instance = await WebAssembly.instantiate(module, memory ? { env: { memory } } : {});
    const exports = instance.exports as unknown as Exports;
    const workers = memory && threads > 1 ? await startThreads(module, memory, threads) : [];
    exports.set_threads?.(threads);
    const model = new Model(manifest, exports, workers);
    model.initialize(manifest.train.seed);
    return model;
  }

  /** The learning rate the next update will use. */
  get learningRate(): number {
    return new Float32Array(this.exports.memory.buffer, this.manifest.trainingState.learningRate, 1)[0];
  }

  set learningRate(lr: number) {
    new Float32Array(this.exports.memory.buffer, this.manifest.trainingState.learningRate, 1)[0] = lr;
  }

  /** Draws every parameter from its initialiser with a generator seeded by `seed`; restarts the training state from it. */
  initialize(seed: number): void {
    const state = this.manifest.trainingState;
    new Uint8Array(this.exports.memory.buffer, state.offset, state.bytes).fill(0);
    this.u32(state.rng)[0] = streamState(seed);
    this.learningRate = this.manifest.train.optimizer.lr;
    const rng = new Rng(seed);
    for (const p of this.manifest.params) {
      this.f32(p.offset, elements(p.shape)).set(initialValues(p.init, elements(p.shape), p.fanIn, p.fanOut, rng));
    }
  }

  getWeights(): Record<string, Float32Array> {
    return Object.fromEntries(this.manifest.params.map((p) => [p.name, this.f32(p.offset, elements(p.shape)).slice()]));
  }

  /** Replaces every parameter; checks them all first, so a mismatch changes nothing. */
  setWeights(weights: Record<string, Float32Array>): void {
    for (const p of this.manifest.params) {
      const values = weights[p.name];
      if (!values) throw new ModelError(`weights for \`${p.name}\` are missing`);
      if (values.length !== elements(p.shape))
        throw new ModelError(`\`${p.name}\` has ${elements(p.shape)} values in this model, but ${values.length} were given`);
    }
    for (const p of this.manifest.params) this.f32(p.offset, elements(p.shape)).set(weights[p.name]);
  }

  /**
   * With checking on, every training step checks each tensor in memory as it
   * is computed and stops at the first holding NaN or infinity, even one the
   * loss and the gradients would not show. Slower; off by default. A value
   * fused away (read only inside its kernel) is seen through the next value
   * its kernel stores: compile with `fuse: false` to check every one. Checked
   * steps run on one thread.
   */
  set checkNumerics(on: boolean) {
    this.checking = on;
    this.exports.check_numerics(on);
    // a tensor is checked as soon as its kernel ends: on one thread, that is when it is whole
    this.exports.set_threads?.(on ? 1 : this.threads);
  }

  get checkNumerics(): boolean {
    return this.checking;
  }

  private checking = false;

  /**
   * One optimisation step on rows [start, start + n) of `data` in `order`;
   * returns the batch loss. A step whose loss or gradients are not finite
   * changes no weight: it is run again with checking on, to say where the
   * fault began, and throws.
   */
  trainBatch(data: Dataset, order: ArrayLike<number>, start: number): number {
    const n = this.feed(data, order, start, this.manifest.inputs);
    this.steps++;
    const rng = this.u32(this.manifest.trainingState.rng);
    const stream = rng[0];
    const loss = this.exports.train_step(n);
    if (Number.isFinite(loss)) return loss;
    if (!this.checking) {
      rng[0] = stream;
      this.exports.set_threads?.(1);
      this.exports.check_numerics(true);
      this.exports.train_step(n);
      this.exports.check_numerics(false);
      this.exports.set_threads?.(this.threads);
    }
    throw new ModelError(this.numericFault(loss));
  }

  /** Loss and gradients (update directions) of the first batch of `data`, without updating. */
  gradients(data: Dataset): { loss: number; grads: Record<string, Float32Array> } {
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    const n = this.feed(data, order, 0, this.manifest.inputs);
    const loss = this.exports.forward(n);
    this.exports.backward(n);
    const grads: Record<string, Float32Array> = {};
    for (const p of this.manifest.params.filter((p) => p.grad >= 0)) grads[p.name] = this.f32(p.grad, elements(p.shape)).slice();
    return { loss, grads };
  }

  /**
   * The batches of one epoch in `order` from batch `skip` on; `rate` gives each
   * step's learning rate from its batch index. Returns the mean loss of the batches run.
   */
  private trainEpoch(
    data: Dataset,
    order: Int32Array,
    skip: number,
    rate: (batch: number) => number,
    onStep: (batch: number, samples: number, loss: number) => void,
  ): number {
    const batch = this.manifest.batch;
    let total = 0;
    let samples = 0;
    for (let start = skip * batch, index = skip; start < data.count; start += batch, index++) {
      const n = Math.min(batch, data.count - start);
      this.learningRate = rate(index);
      total += this.trainBatch(data, order, start) * n;
      samples += n;
      onStep(index, start + n, total / samples);
    }
    return total / Math.max(1, samples);
  }

  /**
   * Trains for the manifest's epochs (or `epochs`), reshuffling each epoch with
   * its seed (or `seed`), evaluating after each epoch. With `from`, it continues
   * a run that stopped there (a checkpoint): the shuffles of the epochs before
   * are replayed, so the batches are exactly those of an uninterrupted run.
   */
  fit(train: Dataset, options: FitOptions = {}): EpochReport[] {
    const cfg = this.manifest.train;
    const rng = cfg.shuffle ? new Rng((options.seed ?? cfg.seed) + 1) : null;
    const epochs = options.epochs ?? cfg.epochs;
    const perEpoch = Math.ceil(train.count / this.manifest.batch);
    const from = options.from ?? { epoch: 1, batch: 0 };
    const reports: EpochReport[] = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = Int32Array.from({ length: train.count }, (_, i) => i);
      if (rng) rng.shuffle(order);
      if (epoch < from.epoch) continue;
      const t0 = performance.now();
      const rate = (batch: number) => learningRate(cfg.optimizer.lr, cfg.schedule, (epoch - 1) * perEpoch + batch, epochs * perEpoch);
      const loss = this.trainEpoch(train, order, epoch === from.epoch ? from.batch : 0, rate, (batch, samples, mean) => {
        options.onBatch?.(epoch, samples, mean);
        options.onStep?.(batch + 1 < perEpoch ? { epoch, batch: batch + 1 } : { epoch: epoch + 1, batch: 0 });
      });
      const seconds = (performance.now() - t0) / 1000;
      const report = { epoch, loss, metrics: this.evaluate(options.test ?? train), seconds };
      reports.push(report);
      options.onEpoch?.(report);
    }
    return reports;
  }

  /** The bytes of the training state (random stream, learning rate, update count, optimizer slots). */
  get trainingState(): Uint8Array {
    const { offset, bytes } = this.manifest.trainingState;
    return new Uint8Array(this.exports.memory.buffer, offset, bytes).slice();
  }

  set trainingState(state: Uint8Array) {
    const { offset, bytes } = this.manifest.trainingState;
    if (state.length !== bytes) throw new ModelError(`the training state has ${state.length} bytes; this model keeps ${bytes}`);
    new Uint8Array(this.exports.memory.buffer, offset, bytes).set(state);
  }

  /** Loss and the manifest's metrics over a whole data set, without training. */
  evaluate(data: Dataset): Metrics {
    const { batch, train, outputs } = this.manifest;
    const target = this.targetInput();
    const out = outputs[0];
    const width = rowSize(out);
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    let loss = 0;
    let correct = 0;
    let counted = 0;
    let squared = 0;
    for (let start = 0; start < data.count; start += batch) {
      const n = this.feed(data, order, start, this.manifest.inputs);
      loss += this.exports.forward(n) * n;
      const pred = this.f32(out.offset, n * width);
      const t = target && data.columns[target.name];
      if (!t || !target) continue;
      const tw = rowSize(target);
      for (let r = 0; r < n; r++) {
        const row = pred.subarray(r * width, (r + 1) * width);
        const trow = t.subarray((start + r) * tw, (start + r + 1) * tw);
        if (target.dtype === "f32") {
          correct += matches(row, trow) ? 1 : 0;
          counted++;
          for (let j = 0; j < width; j++) squared += (row[j] - trow[j]) ** 2;
          continue;
        }
        // one label per position (a class, or a token of a sequence whose padding does not count)
        const classes = width / tw;
        trow.forEach((label, p) => {
          if (label === target.pad) return;
          counted++;
          if (argmax(row.subarray(p * classes, (p + 1) * classes)) === label) correct++;
        });
      }
    }
    const metrics: Metrics = { loss: loss / data.count };
    if (train.metrics.includes("accuracy")) metrics.accuracy = counted ? correct / counted : 0;
    if (train.metrics.includes("mse") && target?.dtype === "f32") metrics.mse = squared / (data.count * width);
    return metrics;
  }

  /** The first output for every sample, row-major [count, ...shape]. */
  predict(data: Dataset): Float32Array {
    const out = this.manifest.outputs[0];
    const width = rowSize(out);
    const result = new Float32Array(data.count * width);
    const needed = this.manifest.inputs.filter((i) => i.name in data.columns);
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    for (let start = 0; start < data.count; start += this.manifest.batch) {
      const n = this.feed(data, order, start, needed);
      this.exports.predict(n);
      result.set(this.f32(out.offset, n * width), start * width);
    }
    return result;
  }

  /** Where a step went wrong: the first tensor, in execution order, that held NaN or infinity. */
  private numericFault(loss: number): string {
    const what = !Number.isNaN(loss) ? `the loss became ${loss}` : this.checking ? "a value became NaN or infinite" : "the loss or a gradient became NaN";
    const first = this.manifest.nodes[this.exports.numeric_fault()];
    const where = first ? `; the first values that are not finite appear in \`${first.label}\` (${first.op}) at ${first.at}` : "";
    return `${what} at training step ${this.steps}${where}. The weights are those before this step. Try a smaller learning rate, or clip: in train`;
  }

  /** The input the loss compares predictions with. */
  private targetInput(): TensorInfo | undefined {
    return this.manifest.inputs.find((i) => i.name === this.manifest.loss.target);
  }

  /** Copies rows order[start..start+n) of each input into the batch buffers; zeroes the rest. */
  private feed(data: Dataset, order: ArrayLike<number>, start: number, inputs: TensorInfo[]): number {
    const n = Math.min(this.manifest.batch, data.count - start);
    for (const input of inputs) {
      const column = data.columns[input.name];
      if (!column) throw new ModelError(`the data has no values for input \`${input.name}\``);
      const w = rowSize(input);
      const dest =
        input.dtype === "i32"
          ? new Int32Array(this.exports.memory.buffer, input.offset, this.manifest.batch * w)
          : this.f32(input.offset, this.manifest.batch * w);
      for (let r = 0; r < n; r++) {
        const row = order[start + r];
        dest.set(column.subarray(row * w, (row + 1) * w), r * w);
      }
      dest.fill(0, n * w);
    }
    return n;
  }

  private f32(offset: number, count: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, offset, count);
  }

  private u32(offset: number): Uint32Array {
    return new Uint32Array(this.exports.memory.buffer, offset, 1);
  }
}

/** Compiles the bytes, saying what is likely wrong when this engine refuses them. */
async function compileModule(wasm: BufferSource): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(wasm);
  } catch (e) {
    const hint = relaxedSimdSupported() ? "" : "; if it was built with --relaxed-simd, this runtime does not accept relaxed SIMD";
    throw new ModelError(`the .wasm does not compile here (${(e as Error).message})${hint}`);
  }
}

/** Loads a compiled model (the .wasm's bytes, or a compiled WebAssembly.Module) with weights drawn from its file's seed. */
export function load(wasm: BufferSource | WebAssembly.Module, options: LoadOptions = {}): Promise<Model> {
  return Model.load(wasm, options);
}

/** A float target: a threshold at 0.5 for one output, else the largest entry. */
function matches(pred: Float32Array, target: Float32Array | Int32Array): boolean {
  if (pred.length === 1) return pred[0] >= 0.5 === target[0] >= 0.5;
  return argmax(pred) === argmax(target);
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
