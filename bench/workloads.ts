// The workloads of PEERS.md as every peer builds them (nnc reads the same
// numbers from bench/workloads/*.nn): sizes and hyper-parameters of W2 (MLP),
// W3 (CNN) and W4 (Transformer), the data they train on, W4's parameters, and
// the small pieces the peers share (one-hot rows, sinusoidal positions, Glorot
// weights, a cursor cycling over the batches).

/** W2: [b, 784] -> dense 256 relu -> dense 10, softmax CE, SGD 0.1. */
export const W2 = { batch: 64, pixels: 28 * 28, hidden: 256, classes: 10, lr: 0.1 } as const;

/**
 * W3: [b, 28, 28, 1] -> conv 16 3x3 same relu -> maxpool 2 -> conv 32 -> maxpool 2
 * -> flatten 1568 -> dense 128 relu -> dense 10, softmax CE, SGD momentum 0.9 lr 0.01.
 */
export const W3 = { batch: 64, side: 28, filters: [16, 32], kernel: 3, hidden: 128, classes: 10, lr: 0.01, momentum: 0.9 } as const;

/** W4: encoder-decoder Transformer (post-LayerNorm) on sequence reversal, Adam 1e-3; counted in target tokens. */
export const W4 = { batch: 32, length: 16, vocab: 64, d: 64, heads: 4, ff: 256, layers: 2, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** The GEMM rows: C[n, n] = A[n, n] B[n, n]. */
export const GEMM_SIZE = 1024;
export const GEMM_GFLOP = (2 * GEMM_SIZE ** 3) / 1e9;

/** The data of W2 and W3 (Fashion-MNIST). */
export interface ImageData {
  /** NCHW [count, 1, 28, 28], pixels in [0, 1]; with one channel the same bytes as NHWC. */
  images: Float32Array;
  /** [count], classes 0..9. */
  labels: Int32Array;
  count: number;
}

/** The data of W4 (w4.nn's `reverse` generator): each [count, 16], token ids 0..63. */
export interface SequenceData {
  src: Int32Array;
  /** BOS then tgt_out without its last token. */
  tgt_in: Int32Array;
  /** src reversed. */
  tgt_out: Int32Array;
  count: number;
}

export interface BenchData {
  images: ImageData;
  sequences: SequenceData;
}

/** [ids.length, classes], a 1 at each id. */
export function oneHotRows(ids: ArrayLike<number>, classes: number): Float32Array {
  const rows = new Float32Array(ids.length * classes);
  for (let i = 0; i < ids.length; i++) rows[i * classes + ids[i]] = 1;
  return rows;
}

/** [length, d]: sin(s / 10000^(2i/d)) at even features 2i, cos at odd ones, as nnc's `positional`. */
export function sinusoids(length: number, d: number): Float32Array {
  const table = new Float32Array(length * d);
  for (let s = 0; s < length; s++) {
    for (let i = 0; i < d; i++) {
      const angle = s * Math.exp((-(i - (i % 2)) / d) * Math.log(10000));
      table[s * d + i] = i % 2 ? Math.cos(angle) : Math.sin(angle);
    }
  }
  return table;
}

/** [length, length], added to attention scores: 0 on and below the diagonal, -1e9 above (no looking ahead). */
export function causalMask(length: number): Float32Array {
  return Float32Array.from({ length: length * length }, (_, i) => (i % length > Math.floor(i / length) ? -1e9 : 0));
}

/** Uniform numbers in [0, 1) from a seeded xorshift32 (for peers that take weights from the host). */
export function uniformSource(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** [fanIn, fanOut] Glorot-uniform weights, as nnc's and TF.js's default. */
export function glorot(fanIn: number, fanOut: number, uniform: () => number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (2 * uniform() - 1) * limit);
}

// W4's parameters, the same structure for every peer; T is the peer's array type.
export type Linear<T> = { w: T; b: T }; // w [in, out], b [out]
export type Norm<T> = { gain: T; bias: T }; // [d] each
export type Attention<T> = { q: Linear<T>; k: Linear<T>; v: Linear<T>; out: Linear<T> };
export type Ffn<T> = { up: Linear<T>; down: Linear<T> };
export type EncoderLayer<T> = { self: Attention<T>; norm1: Norm<T>; ffn: Ffn<T>; norm2: Norm<T> };
export type DecoderLayer<T> = { self: Attention<T>; norm1: Norm<T>; cross: Attention<T>; norm2: Norm<T>; ffn: Ffn<T>; norm3: Norm<T> };
export type TransformerParams<T> = { srcTable: T; tgtTable: T; encoder: EncoderLayer<T>[]; decoder: DecoderLayer<T>[]; head: Linear<T> };

/** W4's parameters, initialised like nnc's: Glorot-uniform weights and embedding tables, zero biases, unit gains; seeded. */
export function transformerParams<T>(array: (values: Float32Array, shape: number[]) => T): TransformerParams<T> {
  const { d, ff, vocab, layers } = W4;
  const uniform = uniformSource(1);
  const matrix = (fanIn: number, fanOut: number) => array(glorot(fanIn, fanOut, uniform), [fanIn, fanOut]);
  const linear = (fanIn: number, fanOut: number): Linear<T> => ({ w: matrix(fanIn, fanOut), b: array(new Float32Array(fanOut), [fanOut]) });
  const norm = (): Norm<T> => ({ gain: array(new Float32Array(d).fill(1), [d]), bias: array(new Float32Array(d), [d]) });
  const attention = (): Attention<T> => ({ q: linear(d, d), k: linear(d, d), v: linear(d, d), out: linear(d, d) });
  const ffn = (): Ffn<T> => ({ up: linear(d, ff), down: linear(ff, d) });
  return {
    srcTable: matrix(vocab, d),
    tgtTable: matrix(vocab, d),
    encoder: Array.from({ length: layers }, () => ({ self: attention(), norm1: norm(), ffn: ffn(), norm2: norm() })),
    decoder: Array.from({ length: layers }, () => ({ self: attention(), norm1: norm(), cross: attention(), norm2: norm(), ffn: ffn(), norm3: norm() })),
    head: linear(d, vocab), // to the vocabulary
  };
}

/** The first sample of each next batch, cycling over the whole batches of `count` samples. */
export function batchCursor(count: number, batch: number): () => number {
  const batches = Math.floor(count / batch);
  if (batches === 0) throw new Error(`need at least ${batch} samples, got ${count}`);
  let next = 0;
  return () => (next++ % batches) * batch;
}
