// The nnc commands. Each reads a .nn file, compiles it, and works on the
// result.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { emitModule } from "../../compiler/emit/assemblyscript.ts";
import { fuse, traffic } from "../../compiler/emit/fusion.ts";
import { layout } from "../../compiler/emit/memory.ts";
import { compileGraph } from "../../compiler/index.ts";
import { optimizerDef } from "../../compiler/ir/optimizers.ts";
import { printGraph } from "../../compiler/ir/print.ts";
import type { EpochHistory } from "../report/charts.ts";
import type { Split } from "../runtime/data.ts";
import { translate } from "../runtime/decode.ts";
import { type EpochReport, Model, ModelError, type Position } from "../runtime/model.ts";
import { Rng } from "../runtime/random.ts";
import { charVocab, generate, readText, unigramLoss } from "../runtime/text.ts";
import { translationPairs } from "../runtime/translation.ts";
import { decodeCheckpoint, encodeCheckpoint, encodeWeights } from "../runtime/weights.ts";
import { type Command, compileFile, intOption, loadTrained, readData, writeAtomic } from "./common.ts";
import { CompileFailure, UsageError } from "./errors.ts";
import { exportCommand } from "./export.ts";
import { filesBeside } from "./files.ts";
import { svgOption, writeConfusionMatrix, writeGraphPicture, writeTrainingPlot } from "./pictures.ts";
import { Progress } from "./progress.ts";

const help = { help: { type: "boolean", short: "h" } } as const;
const data = { data: { type: "string" } } as const;
const weights = { weights: { type: "string" } } as const;
/** How the model is built: --batch N, --relaxed-simd, --threads N. */
const build = { batch: { type: "string" }, "relaxed-simd": { type: "boolean" }, threads: { type: "string" } } as const;

export const commands: Record<string, Command> = {
  compile: {
    help: `nnc compile FILE.nn [-o FILE.wasm] [--batch N] [--relaxed-simd] [--threads N]

Compiles the model to one .wasm (SIMD) holding its training step and its
manifest. Without -o, writes FILE.wasm beside FILE.nn. --batch N sets the
batch size (compiled in) instead of the file's. --relaxed-simd builds with
fused multiply-adds in the matrix products: faster where the CPU has them,
but results are no longer the same bits in every runtime, and the runtime
must accept relaxed SIMD (Chromium and Deno do; Node 20 with
--experimental-wasm-relaxed-simd, which nnc sets for itself). --threads N
builds a module that trains on up to N threads (1 to 16) over a shared
memory, with the same results, bit for bit, as on one; it runs on more than
one only where memory can be shared (Node, Deno, workers of cross-origin
isolated pages). The default here is 1, a module any runtime runs; the
commands that train or run the model build for every core when a step has
the work to share (10 MFLOP or more). The commands that train or run the
model (train, eval, predict, translate, generate) also take --batch,
--relaxed-simd and --threads.`,
    options: { ...help, ...build, output: { type: "string", short: "o" } },
    async run(file, values) {
      const compiled = await compileFile(file, values, 1);
      const out = (values.output as string | undefined) ?? `${file.replace(/\.nn$/, "")}.wasm`;
      writeAtomic(out, compiled.wasm);
      process.stdout.write(`${out}: ${compiled.wasm.length} bytes, ${compiled.manifest.params.length} parameter tensors\n`);
    },
  },

  train: {
    help: `nnc train FILE.nn [--data PATH] [--epochs N] [--batch N] [--threads N] [--seed N] [--save FILE] [--report FILE.json]
          [--plot FILE.svg] [--checkpoint FILE [--every N]] [--resume FILE] [--check-numerics] [--quiet]

Compiles the model, trains it on the data named in its \`data\` statement (or
on --data PATH, which replaces that file), evaluates after each epoch on the
held-out split (or the training data), and prints the final metrics.
  --epochs N         train for N epochs instead of the file's
  --batch N          mini-batches of N samples instead of the file's
  --threads N        train on N threads (default: every core, for a step of 10 MFLOP or more);
                     the same weights, bit for bit, with any number
  --seed N           initialise and shuffle with seed N instead of the file's
  --save FILE        write the trained weights
  --report FILE      write a JSON report (metrics, loss, params, throughput)
  --plot FILE.svg    draw loss and accuracy per epoch, on the training data and the held-out
                     split (the training data is evaluated after each epoch for it)
  --checkpoint FILE  keep a checkpoint (weights, optimizer state, place in the run) in FILE,
                     written atomically after each epoch and, with --every N, every N steps
  --resume FILE      continue from a checkpoint: the same final weights as a run never stopped
  --check-numerics   compile without fusion, check every tensor of every step for NaN and
                     infinity as it is computed, and stop at the first (slower; catches a fault
                     even where the loss and the gradients would not show it)
  --quiet            print only the final line`,
    options: {
      ...help,
      ...data,
      ...build,
      epochs: { type: "string" },
      seed: { type: "string" },
      save: { type: "string" },
      report: { type: "string" },
      quiet: { type: "boolean" },
      checkpoint: { type: "string" },
      every: { type: "string" },
      resume: { type: "string" },
      "check-numerics": { type: "boolean" },
      plot: { type: "string" },
    },
    async run(file, values) {
      const plot = svgOption(values, "plot");
      const compiled = await compileFile(file, values);
      const model = await Model.load(compiled.wasm);
      model.checkNumerics = values["check-numerics"] === true;
      const epochs = intOption(values, "epochs", 1) ?? model.manifest.train.epochs;
      const resumed = values.resume ? decodeCheckpoint(readFileSync(values.resume as string), model.manifest, values.resume as string) : null;
      const seed = resumed?.seed ?? intOption(values, "seed", 0) ?? model.manifest.train.seed;
      model.initialize(seed);
      if (resumed) {
        model.setWeights(resumed.weights);
        model.trainingState = resumed.state;
        model.steps = resumed.steps;
      }
      const every = intOption(values, "every", 1);
      const checkpoint = (next: Position) => {
        if (!values.checkpoint || (next.batch !== 0 && (!every || model.steps % every !== 0))) return;
        const state = { weights: model.getWeights(), state: model.trainingState, position: next, steps: model.steps, seed };
        writeAtomic(values.checkpoint as string, encodeCheckpoint(model.manifest, state));
      };
      const split = readData(model, file, values.data as string | undefined);
      const progress = new Progress(model.manifest.model, epochs, split.train.count, Boolean(values.quiet));
      const save = () => values.save && writeAtomic(values.save as string, encodeWeights(model.manifest, model.getWeights()));
      const history: EpochHistory[] = [];
      let reports: EpochReport[];
      try {
        reports = model.fit(split.train, {
          epochs,
          seed,
          from: resumed?.position,
          onStep: checkpoint,
          test: split.test,
          onBatch: (epoch, done, loss) => progress.batch(epoch, done, loss),
          onEpoch: (r) => {
            progress.epoch(r);
            if (plot) history.push(split.test ? { ...r, train: model.evaluate(split.train) } : r);
          },
        });
      } catch (e) {
        progress.stop();
        // a numerical fault stops before its update: what is in memory are the last good weights
        if (e instanceof ModelError && values.save) {
          save();
          throw new ModelError(`${e.message}\nThe last good weights are saved in ${values.save}.`);
        }
        throw e;
      }
      progress.stop();
      const last = reports[reports.length - 1];
      const report = trainReport(model, reports, split, seed);
      process.stdout.write(`${summary(last, split)}\n`);
      if (values.report) writeAtomic(values.report as string, `${JSON.stringify(report, null, 2)}\n`);
      if (plot) await writeTrainingPlot(plot, history, { title: model.manifest.model, evaluatedOn: split.test ? "test" : "train, after the epoch" });
      save();
    },
  },

  eval: {
    help: `nnc eval FILE.nn --weights FILE [--data PATH] [--batch N] [--confusion FILE.svg]

Loads trained weights and prints the loss and metrics on the held-out split
(or on all the data when the source has no split). --confusion draws a
classifier's confusion matrix on the same samples.`,
    options: { ...help, ...data, ...weights, ...build, confusion: { type: "string" } },
    async run(file, values) {
      const confusion = svgOption(values, "confusion");
      const model = await loadTrained(file, values);
      const split = readData(model, file, values.data as string | undefined);
      const set = split.test ?? split.train;
      process.stdout.write(`${JSON.stringify(model.evaluate(set))}\n`);
      if (confusion) await writeConfusionMatrix(confusion, model, set, split.classNames);
    },
  },

  predict: {
    help: `nnc predict FILE.nn --weights FILE [--data PATH] [--limit N] [--batch N]

Loads trained weights and prints the model's output for each sample of the
held-out split (or of all the data), one line per sample.`,
    options: { ...help, ...data, ...weights, ...build, limit: { type: "string" } },
    async run(file, values) {
      const model = await loadTrained(file, values);
      const split = readData(model, file, values.data as string | undefined);
      const set = split.test ?? split.train;
      const limit = Math.min(intOption(values, "limit", 1) ?? set.count, set.count);
      const out = model.predict(set);
      const width = out.length / set.count;
      const lines = [];
      for (let r = 0; r < limit; r++) lines.push(Array.from(out.subarray(r * width, (r + 1) * width), (v) => Number(v.toPrecision(6))).join(" "));
      process.stdout.write(`${lines.join("\n")}\n`);
    },
  },

  translate: {
    help: `nnc translate FILE.nn --weights FILE (--text "I am in CQ" | --test) [--batch N]

Translates with a trained encoder-decoder (a model on data translation()):
greedy decoding, one token at a time. --text translates one English sentence;
--test translates every held-out sentence and prints how many came out exactly right.`,
    options: { ...help, ...weights, ...build, text: { type: "string" }, test: { type: "boolean" } },
    async run(file, values) {
      const model = await loadTrained(file, values);
      if (values.text !== undefined) {
        process.stdout.write(`${translate(model, [values.text as string])[0]}\n`);
        return;
      }
      if (!values.test) throw new UsageError('give --text "an English sentence" or --test');
      const { test } = translationPairs();
      const outputs = translate(
        model,
        test.map((pair) => pair.en),
      );
      const right = test.filter((pair, r) => outputs[r] === pair.zh).length;
      process.stdout.write(`${right} of ${test.length} held-out sentences exactly right (${((100 * right) / test.length).toFixed(1)}%)\n`);
    },
  },

  generate: {
    help: `nnc generate FILE.nn --weights FILE [--prompt TEXT] [--length N] [--temperature T] [--seed N] [--data PATH]

Continues a prompt with a trained character-level language model (a model on
data text(...)), drawing each character from the model's softmax at the given
temperature (default 0.8) with a seeded generator. Also prints the held-out
loss and, for comparison, the loss of predicting by character frequencies alone.`,
    options: {
      ...help,
      ...weights,
      ...data,
      ...build,
      prompt: { type: "string" },
      length: { type: "string" },
      temperature: { type: "string" },
      seed: { type: "string" },
    },
    async run(file, values) {
      const model = await loadTrained(file, values);
      const spec = model.manifest.data;
      if (spec?.kind !== "text") throw new UsageError("`nnc generate` needs a model whose data is text(...)");
      const override = values.data ? resolve(values.data as string) : undefined;
      const split = readData(model, file, values.data as string | undefined);
      const vocab = charVocab(readText(spec, filesBeside(file), override));
      const temperature = Number(values.temperature ?? 0.8);
      if (!(temperature > 0)) throw new UsageError(`--temperature needs a positive number, not \`${values.temperature}\``);
      const rng = new Rng(intOption(values, "seed", 0) ?? 1);
      const text = generate(model, vocab, (values.prompt as string | undefined) ?? "Call me", intOption(values, "length", 1) ?? 300, temperature, rng);
      const held = split.test ? model.evaluate(split.test).loss : Number.NaN;
      process.stderr.write(`held-out loss ${held.toFixed(3)} nats/char; unigram baseline ${unigramLoss(split).toFixed(3)}\n`);
      process.stdout.write(`${text}\n`);
    },
  },

  export: exportCommand,

  inspect: {
    help: `nnc inspect FILE.nn [--source] [--svg FILE.svg] [--no-fuse] [--batch N]

Prints the training graph (forward, backward, update) with shapes, the
parameter count and FLOPs per training step, then the kernels per step, the
bytes they move and the memory the tensors take, unfused and fused.
--source prints the generated AssemblyScript instead; --svg draws the graph,
one box per kernel coloured by phase; --no-fuse shows both without fusion.`,
    options: { ...help, batch: build.batch, source: { type: "boolean" }, svg: { type: "string" }, "no-fuse": { type: "boolean" } },
    async run(file, values) {
      const svg = svgOption(values, "svg");
      const text = readFileSync(file, "utf8");
      const result = compileGraph(text, { file, batch: intOption(values, "batch", 1) });
      if (!result.ok) throw new CompileFailure(result.diagnostics, new Map([[file, text]]));
      const graph = result.graph;
      const [fused, unfused] = [fuse(graph, !values["no-fuse"]), fuse(graph, false)];
      const mem = layout(graph, fused);
      if (svg) await writeGraphPicture(svg, graph, [...fused.forward, ...fused.backward]);
      if (values.source) {
        process.stdout.write(emitModule(graph, mem, fused));
        return;
      }
      const slots = optimizerDef(graph.train.optimizer).slots(graph.train.optimizer);
      const [before, after] = [unfused, fused].map((f) => traffic(graph, f, slots));
      const unfusedBytes = layout(graph, unfused).tensorBytes.planned;
      const lines = [
        `kernels per step: ${before.kernels} unfused, ${after.kernels} fused`,
        `bytes moved per step: ${before.bytes} unfused, ${after.bytes} fused (${(before.bytes / after.bytes).toFixed(2)}x less)`,
        `tensors: ${mem.tensorBytes.planned} bytes planned (${unfusedBytes} unfused, ${mem.tensorBytes.naive} with one buffer each); linear memory: ${mem.end} bytes`,
      ];
      process.stdout.write(`${printGraph(graph)}\n${lines.join("\n")}\n`);
    },
  },
};

function trainReport(model: Model, reports: EpochReport[], split: Split, seed: number) {
  const last = reports[reports.length - 1];
  const seconds = reports.reduce((s, r) => s + r.seconds, 0);
  const { loss: evalLoss, ...metrics } = last.metrics;
  const m = model.manifest;
  const samplesPerSecond = (split.train.count * reports.length) / seconds;
  const target = m.inputs.find((i) => i.name === m.loss.target);
  return {
    model: m.model,
    epochs: reports.length,
    steps: model.steps,
    batch: m.batch,
    threads: model.threads,
    seed,
    final_loss: last.loss,
    eval_loss: evalLoss,
    eval_split: split.test ? "test" : "train",
    metrics,
    history: reports.map(({ epoch, loss, metrics: { loss: eval_loss, ...rest } }) => ({ epoch, train_loss: loss, eval_loss, ...rest })),
    params: Object.fromEntries(
      Object.entries(model.getWeights())
        .filter(([, v]) => v.length <= 4096)
        .map(([k, v]) => [k, Array.from(v)]),
    ),
    seconds,
    samples_per_second: samplesPerSecond,
    // sequence models: target tokens (the positions of the loss's token input) per second
    ...(target?.pad !== undefined ? { tokens_per_second: samplesPerSecond * target.shape[0] } : {}),
  };
}

/** "epoch 100: train loss 0.0238 | test: loss 0.148, accuracy 93.33%" */
function summary(last: EpochReport, split: Split): string {
  const shown = Object.entries(last.metrics).map(
    ([k, v]) => `${k} ${k === "accuracy" ? `${(100 * (v as number)).toFixed(2)}%` : (v as number).toPrecision(4)}`,
  );
  return `epoch ${last.epoch}: train loss ${last.loss.toPrecision(4)} | ${split.test ? "test" : "train"}: ${shown.join(", ")}`;
}
