// The manifest: what a compiled model says about itself, stored as JSON in
// the "nnc.manifest" custom section of its .wasm. Everything the host needs
// to feed, train and read a model comes from here.

import type { Init, TrainConfig } from "../../compiler/ir/graph.ts";

export const MANIFEST_SECTION = "nnc.manifest";
export const MANIFEST_VERSION = 2;

export interface TensorInfo {
  name: string;
  /** Per-sample shape (without the batch dimension). */
  shape: number[];
  dtype: "f32" | "i32";
  /** Byte offset in linear memory of the whole batch, row-major. */
  offset: number;
  classes?: number;
  /** Token inputs: the id of padding. */
  pad?: number;
}

export interface ParamEntry {
  name: string;
  shape: number[];
  offset: number;
  /** Byte offset of its gradient (update direction) after backward(); -1 if it gets none. */
  grad: number;
  init: Init;
  fanIn: number;
  fanOut: number;
}

export interface DataSpec {
  kind: string;
  args: Record<string, { value: unknown; span: SourceSpan }>;
  span: SourceSpan;
}

export interface SourceSpan {
  source: string;
  start: { offset: number; line: number; column: number };
  end: { offset: number; line: number; column: number };
}

export interface Manifest {
  version: number;
  model: string;
  /** Identifies the training step this module computes (see modelHash in compiler/emit/manifest.ts); checkpoints carry it. */
  hash: string;
  batch: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  params: ParamEntry[];
  /** The loss op, and the input it compares predictions with (for metrics). */
  loss: { offset: number; kind: string; target: string | null };
  train: TrainConfig;
  data: DataSpec | null;
  /** Byte range of the training state: the random stream, the update count, optimizer slots. */
  trainingState: { offset: number; bytes: number; rng: number; learningRate: number };
  /** Every computed tensor in execution order (forward, then backward), for saying where NaN begins. */
  nodes: { label: string; op: string; at: string }[];
  memoryBytes: number;
  /** Built for threads: how many at most, and the pages of the shared memory it imports. */
  threads?: number;
  memoryPages?: number;
}
