/**
 * The runtime alone, without the compiler or the data readers: load a
 * compiled `.wasm`, train, evaluate and predict with it, save and restore
 * weights and checkpoints. A few KB of JavaScript.
 * @module nnc/runtime
 */

// The runtime's public entry (`nnc/runtime`). Runtime-neutral: it needs only
// `WebAssembly`, so it runs unchanged in Node, Deno and browsers. The data
// sources of `.nn` files (CSV, IDX, text, the generated sets) and the
// sequence helpers are `nnc/data`.

export { relaxedSimdSupported } from "./features.ts";
export { MANIFEST_SECTION, type Manifest, type ParamEntry, type TensorInfo } from "./manifest.ts";
export { type Dataset, type EpochReport, type FitOptions, type LoadOptions, load, type Metrics, Model, ModelError, type Position } from "./model.ts";
export { Rng } from "./random.ts";
export { threadsSupported } from "./threads.ts";
export { type Checkpoint, decodeCheckpoint, decodeWeights, encodeCheckpoint, encodeWeights, WeightsError } from "./weights.ts";
