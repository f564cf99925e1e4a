/**
 * The data a `.nn` file names (inline rows, function grids, CSV, IDX, text,
 * the generated reversal and translation sets), read into Datasets, and the
 * helpers of sequence models: greedy translation and character sampling.
 * @module nnc/data
 */

// The public entry `nnc/data`: what a program that trains from a model's own
// `data` statement needs beside `nnc/runtime`. Runtime-neutral; files come
// through a small DataIO interface.

export { DataError, type DataIO, loadData, type Split } from "./data.ts";
export { translate } from "./decode.ts";
export { type CharVocab, charVocab, generate } from "./text.ts";
