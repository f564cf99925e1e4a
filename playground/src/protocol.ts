// The messages between the page and the compiler worker (worker.ts). Typed
// arrays travel as they are (structured clone), so a .wasm or a weights file
// reaches the page without a copy into JSON.

import type { Classified } from "../../src/report/classify.ts";
import type { EpochReport } from "../../src/runtime/index.ts";

/** A .nn file's text, and the name it has in messages; its data paths are relative to it (`examples/iris.nn`). */
export interface Source {
  text: string;
  file: string;
}

export type Request =
  /** Parse, elaborate and run the passes, without building a .wasm: for the editor's live diagnostics. */
  | ({ kind: "check"; id: number } & Source)
  | ({ kind: "compile" } & Source)
  /** Compiles the source unless it was the last compiled, fetches its data and trains it. */
  | ({ kind: "train" } & Source)
  | { kind: "translate"; sentence: string };

/** A problem at a place in the source, for the editor: offsets of the text it is about. */
export interface Problem {
  from: number;
  to: number;
  severity: "error" | "info";
  message: string;
}

/** The loss of the batches trained since the previous point; `epoch` counts epochs, fractional within one. */
export interface BatchPoint {
  epoch: number;
  loss: number;
}

/** Where a run is, for the progress line. */
export interface Position {
  epoch: number;
  epochs: number;
  samples: number;
  samplesPerEpoch: number;
  samplesPerSecond: number;
}

/** What is wrong: the problems located in the source, and the whole report as text (rustc-style); none and "" when all is well. */
export interface Findings {
  problems: Problem[];
  report: string;
}

export type Reply =
  | ({ kind: "checked"; id: number } & Findings)
  /** The compiler has loaded. */
  | { kind: "ready" }
  /** What the worker is doing now. */
  | { kind: "status"; text: string }
  /** Compiling, loading the data or training failed. */
  | ({ kind: "failed" } & Findings)
  | { kind: "compiled"; model: string; wasm: Uint8Array; parameters: number; seconds: number; translates: boolean }
  /** Training begins: its length, and what the metrics after each epoch are measured on (the held-out split, or the training data when there is none). */
  | { kind: "training"; epochs: number; evaluatedOn: "test" | "train" }
  | { kind: "progress"; batches: BatchPoint[]; epochs: EpochReport[]; position: Position }
  /** `classified`: the evaluated samples' true and predicted classes, for a classifier. */
  | { kind: "trained"; weights: Uint8Array; seconds: number; classified?: Classified & { classNames?: string[] } }
  | { kind: "translated"; sentence: string; translation: string };
