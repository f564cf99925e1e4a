/**
 * The runtime alone, without the compiler: load a compiled `.wasm`, train,
 * evaluate and predict with it, read its data, save and restore weights.
 * @module nnc/runtime
 */

// The runtime's public entry (`nnc/runtime`): load a compiled .wasm, train,
// evaluate and predict with it, read its data sources, and save or restore
// weights and checkpoints. Runtime-neutral, and without the compiler: it needs
// only `WebAssembly`, so it runs unchanged in Node, Deno and browsers.

export { DataError, type DataIO, loadData, type Split } from "./data.ts";
export { translate } from "./decode.ts";
export { MANIFEST_SECTION, type Manifest, type ParamEntry, type TensorInfo } from "./manifest.ts";
export { type Dataset, type EpochReport, type FitOptions, load, type Metrics, Model, ModelError, type Position } from "./model.ts";
export { Rng } from "./random.ts";
export { type CharVocab, charVocab, generate } from "./text.ts";
export { type Checkpoint, decodeCheckpoint, decodeWeights, encodeCheckpoint, encodeWeights, WeightsError } from "./weights.ts";
