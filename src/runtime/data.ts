// Training data from a model's `data` statement. Sources, each binding model
// inputs by name:
//   inline(x: [[0, 1], ...], t: [1, ...])          literal rows
//   function(x: [low, high], t: sin, n: 200)        t = f(x) on an even grid of n points
//   csv("file.csv", x: [col, ...], label: col, test: 0.2, normalize: true)
//   reverse(...), translation()                    generated sequences: see sequences.ts
//   text("file.txt", ...)                           characters for a language model: see text.ts
//   idx("dir", normalize: true)                     MNIST-style IDX files: images (scaled to
//                                                   [0, 1], or standardized) to the float input,
//                                                   labels to the class input
// Runtime-neutral: files come through `DataIO`, supplied by the caller.

import { parse as parseCsv } from "csv-parse/browser/esm/sync";
import { readIdxPair } from "./idx.ts";
import type { DataSpec, Manifest, SourceSpan, TensorInfo } from "./manifest.ts";
import type { Dataset } from "./model.ts";
import { Rng } from "./random.ts";
import { reverse, translation } from "./sequences.ts";
import { textData } from "./text.ts";

export interface Split {
  train: Dataset;
  /** Held out for evaluation; absent when the source has no split. */
  test?: Dataset;
  /** The name of each class of the loss's label input, when the data names them (a CSV label column of words). */
  classNames?: string[];
}

/** A data problem, located in the .nn file (span) or in the data file (file, line). */
export class DataError extends Error {
  constructor(
    message: string,
    readonly span?: SourceSpan,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface DataIO {
  /** Resolves a path written in the .nn file (relative to it) and returns the file's text. */
  readText(path: string): string;
  /** The same, for bytes. */
  readBytes(path: string): Uint8Array;
}

const functions: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  exp: Math.exp,
  tanh: Math.tanh,
  square: (x) => x * x,
  identity: (x) => x,
};

export function loadData(manifest: Manifest, io: DataIO, path?: string): Split {
  const spec = manifest.data;
  if (!spec) throw new DataError(`model \`${manifest.model}\` has no \`data\` statement; give the data with --data`);
  switch (spec.kind) {
    case "inline":
      return { train: inline(spec, manifest) };
    case "function":
      return { train: grid(spec, manifest) };
    case "csv":
      return csv(spec, manifest, io, path);
    case "idx":
      return idx(spec, manifest, io, path);
    case "reverse":
      return reverse(spec, manifest);
    case "translation":
      return translation(spec, manifest);
    case "text":
      return textData(spec, manifest, io, path);
    default:
      throw new DataError(`unknown data source \`${spec.kind}\`; expected inline, function, csv, idx, reverse, translation or text`, spec.span);
  }
}

type Arg = DataSpec["args"][string];

function inputsOf(spec: DataSpec, manifest: Manifest, options: string[]): [TensorInfo, Arg][] {
  for (const [name, arg] of Object.entries(spec.args)) {
    if (!options.includes(name) && !manifest.inputs.some((i) => i.name === name)) {
      const known = [...manifest.inputs.map((i) => i.name), ...options].filter((k) => !k.startsWith("_"));
      throw new DataError(`\`${name}\` is not an input of the model; expected one of ${known.join(", ")}`, arg.span);
    }
  }
  return manifest.inputs.map((input) => {
    const arg = spec.args[input.name];
    if (!arg) throw new DataError(`the data source gives no values for input \`${input.name}\``, spec.span);
    return [input, arg];
  });
}

const width = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

function column(input: TensorInfo, count: number): Float32Array | Int32Array {
  return input.dtype === "i32" ? new Int32Array(count * width(input)) : new Float32Array(count * width(input));
}

function checkClass(input: TensorInfo, value: number, where: () => DataError): void {
  if (input.classes !== undefined && !(Number.isInteger(value) && value >= 0 && value < input.classes)) throw where();
}

function inline(spec: DataSpec, manifest: Manifest): Dataset {
  const bound = inputsOf(spec, manifest, []);
  const rows = bound.map(([input, arg]) => {
    if (!Array.isArray(arg.value)) throw new DataError(`\`${input.name}\` needs a list of samples`, arg.span);
    return arg.value as unknown[];
  });
  const count = rows[0].length;
  const columns: Dataset["columns"] = {};
  bound.forEach(([input, arg], k) => {
    if (rows[k].length !== count) throw new DataError(`\`${input.name}\` has ${rows[k].length} samples but \`${bound[0][0].name}\` has ${count}`, arg.span);
    const col = column(input, count);
    rows[k].forEach((sample, r) => {
      const values = [sample].flat(Number.POSITIVE_INFINITY);
      if (values.length !== width(input) || values.some((v) => typeof v !== "number")) {
        throw new DataError(`sample ${r + 1} of \`${input.name}\` should be ${width(input)} number(s) (shape [${input.shape}])`, arg.span);
      }
      values.forEach((v, j) => {
        checkClass(
          input,
          v as number,
          () => new DataError(`sample ${r + 1} of \`${input.name}\` is ${v}, not a class in 0..${(input.classes ?? 0) - 1}`, arg.span),
        );
        col[r * width(input) + j] = v as number;
      });
    });
    columns[input.name] = col;
  });
  return { count, columns };
}

function grid(spec: DataSpec, manifest: Manifest): Dataset {
  const [[x, range], [t, fn]] = inputsOf(spec, manifest, ["n"]);
  const n = (spec.args.n?.value as number | undefined) ?? 100;
  const [low, high] = range.value as number[];
  if (!Array.isArray(range.value) || range.value.length !== 2 || typeof low !== "number" || typeof high !== "number" || !(high > low)) {
    throw new DataError(`\`${x.name}\` must be a range [low, high] with low < high`, range.span);
  }
  const f = functions[fn.value as string];
  if (!f) throw new DataError(`\`${fn.value}\` is not a known function; expected one of ${Object.keys(functions).join(", ")}`, fn.span);
  if (!Number.isInteger(n) || n < 2) throw new DataError("`n` must be a whole number >= 2", spec.args.n?.span ?? spec.span);
  if (width(x) !== 1 || width(t) !== 1)
    throw new DataError(`a function source feeds one number per sample; \`${x.name}\` and \`${t.name}\` must have shape [1]`, spec.span);
  const xs = Float32Array.from({ length: n }, (_, i) => low + ((high - low) * i) / (n - 1));
  return { count: n, columns: { [x.name]: xs, [t.name]: xs.map(f) } };
}

function csv(spec: DataSpec, manifest: Manifest, io: DataIO, override?: string): Split {
  const fileArg = spec.args._0;
  if (!fileArg || typeof fileArg.value !== "string") throw new DataError('csv needs a file name first, such as csv("data.csv", ...)', spec.span);
  const file = override ?? fileArg.value;
  let text: string;
  try {
    text = io.readText(file);
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as Error).message}`, override ? undefined : fileArg.span);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as { message: string; lines?: number };
    throw new DataError(err.message, undefined, file, err.lines);
  }
  const [head, ...body] = records;
  if (!head || body.length === 0) throw new DataError("the file has no header line or no rows", undefined, file, 1);
  const header = head.record;
  const rows = body.map((r) => r.record);
  const lineOf = (r: number) => body[r].info.lines;
  const ragged = rows.findIndex((row) => row.length !== header.length);
  if (ragged >= 0)
    throw new DataError(
      `this line has ${rows[ragged].length} fields but the header has ${header.length} (is the file truncated, or a quote missing?)`,
      undefined,
      file,
      lineOf(ragged),
    );
  const bound = inputsOf(spec, manifest, ["_0", "test", "normalize"]);
  const columns: Dataset["columns"] = {};
  let classNames: string[] | undefined;
  for (const [input, arg] of bound) {
    const names = [arg.value].flat() as string[];
    const indices = names.map((name) => {
      const i = header.indexOf(String(name));
      if (i < 0) throw new DataError(`${file} has no column \`${name}\`; its columns are ${header.join(", ")}`, arg.span);
      return i;
    });
    if (indices.length !== width(input))
      throw new DataError(`\`${input.name}\` has shape [${input.shape}], so it needs ${width(input)} column(s), not ${indices.length}`, arg.span);
    const col = column(input, rows.length);
    const classes = input.dtype === "i32" ? classIndex(rows.map((r) => r[indices[0]])) : null;
    if (classes && input.name === manifest.loss.target && [...classes.keys()].some((name) => String(classes.get(name)) !== name))
      classNames = [...classes.keys()].sort((a, b) => (classes.get(a) as number) - (classes.get(b) as number));
    rows.forEach((row, r) => {
      indices.forEach((ci, j) => {
        const cell = row[ci];
        const value = classes ? (classes.get(cell) as number) : Number(cell);
        const line = lineOf(r);
        if (cell === "") throw new DataError(`column \`${header[ci]}\` is empty`, undefined, file, line);
        if (Number.isNaN(value)) throw new DataError(`\`${cell}\` in column \`${header[ci]}\` is not a number`, undefined, file, line);
        checkClass(input, value, () => new DataError(`label \`${cell}\` is class ${value}, but the model has ${input.classes} classes`, undefined, file, line));
        col[r * width(input) + j] = value;
      });
    });
    columns[input.name] = col;
  }
  const all: Dataset = { count: rows.length, columns };
  const fraction = (spec.args.test?.value as number | undefined) ?? 0;
  if (typeof fraction !== "number" || fraction < 0 || fraction >= 1) throw new DataError("`test` must be a fraction in [0, 1)", spec.args.test?.span);
  const label = manifest.inputs.find((i) => i.name === manifest.loss.target && i.dtype === "i32");
  const split = splitData(all, fraction, manifest.train.seed, label ? (columns[label.name] as Int32Array) : null);
  if (spec.args.normalize?.value === true)
    normalize(
      split,
      manifest.inputs.filter((i) => i.name !== manifest.loss.target),
    );
  return { ...split, classNames };
}

/**
 * The four files of an MNIST-style data set in one folder (each may be
 * gzipped): train-images-idx3-ubyte, train-labels-idx1-ubyte and the t10k
 * pair, held out for testing.
 */
function idx(spec: DataSpec, manifest: Manifest, io: DataIO, override?: string): Split {
  const dirArg = spec.args._0;
  if (!dirArg || typeof dirArg.value !== "string") throw new DataError('idx needs a folder first, such as idx("../data/fashion-mnist")', spec.span);
  const image = manifest.inputs.filter((i) => i.dtype === "f32");
  const label = manifest.inputs.filter((i) => i.dtype === "i32" && i.classes !== undefined);
  if (image.length !== 1 || label.length !== 1 || manifest.inputs.length !== 2) {
    throw new DataError("idx feeds a model with one float input (the images) and one class(N) input (the labels)", spec.span);
  }
  const dir = override ?? dirArg.value;
  const read = (stem: string) => {
    for (const name of [`${stem}.gz`, stem]) {
      try {
        return { bytes: io.readBytes(`${dir}/${name}`), file: `${dir}/${name}` };
      } catch {}
    }
    throw new DataError(
      `${dir} has no ${stem} (nor ${stem}.gz); an IDX folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte`,
      override ? undefined : dirArg.span,
    );
  };
  const part = (prefix: string): Dataset => {
    const pair = readIdxPair(read(`${prefix}-images-idx3-ubyte`), read(`${prefix}-labels-idx1-ubyte`), image[0].shape, label[0].classes ?? 0);
    return { count: pair.count, columns: { [image[0].name]: pair.images, [label[0].name]: pair.labels } };
  };
  const split = { train: part("train"), test: part("t10k") };
  if (spec.args.normalize?.value === true) standardize(split, image[0].name);
  return split;
}

/** Shifts and scales every value of one input by the training split's mean and deviation over all its values. */
function standardize(split: Split, name: string): void {
  const train = split.train.columns[name] as Float32Array;
  const mean = train.reduce((s, v) => s + v, 0) / train.length;
  const std = Math.sqrt(train.reduce((s, v) => s + (v - mean) ** 2, 0) / train.length) || 1;
  for (const set of [split.train, split.test]) {
    const col = set?.columns[name] as Float32Array | undefined;
    col?.forEach((v, i) => {
      col[i] = (v - mean) / std;
    });
  }
}

/** Label strings to class numbers: numbers stay themselves, names are numbered in sorted order. */
function classIndex(cells: string[]): Map<string, number> {
  const unique = [...new Set(cells)];
  if (unique.every((c) => /^\d+$/.test(c))) return new Map(unique.map((c) => [c, Number(c)]));
  return new Map(unique.sort().map((c, i) => [c, i]));
}

/**
 * Holds out `fraction` of the samples, chosen with the seed. With class labels
 * the split is stratified: each class keeps its share in both parts.
 */
function splitData(all: Dataset, fraction: number, seed: number, labels: Int32Array | null): Split {
  if (fraction === 0) return { train: all };
  const rng = new Rng(seed + 2);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < all.count; i++) {
    const key = labels ? labels[i] : 0;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const test: number[] = [];
  const train: number[] = [];
  for (const key of [...groups.keys()].sort((x, y) => x - y)) {
    const ids = groups.get(key) as number[];
    rng.shuffle(ids);
    const cut = Math.round(ids.length * fraction);
    test.push(...ids.slice(0, cut));
    train.push(...ids.slice(cut));
  }
  const take = (ids: Int32Array): Dataset => ({
    count: ids.length,
    columns: Object.fromEntries(
      Object.entries(all.columns).map(([name, col]) => {
        const w = col.length / all.count;
        const out = new (col.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(ids.length * w);
        ids.forEach((id, r) => {
          out.set(col.subarray(id * w, (id + 1) * w), r * w);
        });
        return [name, out];
      }),
    ),
  });
  return { train: take(Int32Array.from(train)), test: take(Int32Array.from(test)) };
}

/** Scales every f32 input feature to zero mean and unit variance, with the training split's statistics. */
function normalize(split: Split, inputs: TensorInfo[]): void {
  for (const input of inputs.filter((i) => i.dtype === "f32" && i.name in split.train.columns)) {
    const w = width(input);
    const train = split.train.columns[input.name];
    for (let j = 0; j < w; j++) {
      let mean = 0;
      for (let r = 0; r < split.train.count; r++) mean += train[r * w + j] / split.train.count;
      let variance = 0;
      for (let r = 0; r < split.train.count; r++) variance += (train[r * w + j] - mean) ** 2 / split.train.count;
      const std = Math.sqrt(variance) || 1;
      for (const set of [split.train, split.test]) {
        const col = set?.columns[input.name];
        if (col) for (let r = 0; r < (set as Dataset).count; r++) col[r * w + j] = (col[r * w + j] - mean) / std;
      }
    }
  }
}
