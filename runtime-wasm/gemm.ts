// Matrix products for dense layers and their gradients, f32 row-major.
// All functions are @inline: the emitted model calls them with constant
// shapes and addresses, so after inlining every loop has constant bounds.
// The order of every sum is fixed by the shapes alone, so results are the
// same, bit for bit, in every runtime. With `split`, the threads of a phase
// share the product (by whole panels of columns, else by pairs of rows):
// every output is still computed by the same operations.

import { from, thread, threads, to } from "./threads";

/** The most threads a module may run, each with its own panel and pack (MAX_THREADS in compiler/emit/build.ts). */
export const MAX_THREADS = 16;

/**
 * acc + x * y, lane by lane. In the default build, a multiply then an add,
 * each rounded: the same in every runtime. Built with relaxed SIMD, a fused
 * multiply-add where the CPU has one (one rounding, faster, and not the same
 * bits everywhere).
 */
@inline
function madd(x: v128, y: v128, acc: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(x, y, acc) : f32x4.add(acc, f32x4.mul(x, y));
}

// C[M, N] (+)= op(A) op(B): A[i, k] is at a + 4 * (i * ars + k * acs), A
// itself (ars = K, acs = 1) or stored transposed as [K, M] (ars = 1, acs = M);
// B[k, j] at b + 4 * (k * brs + j * bcs), B itself (brs = N, bcs = 1) or
// stored transposed as [N, K] (brs = 1, bcs = K). With acc the product is
// added to C, else it replaces it. Only columns [jf, jl) of C; with split,
// this thread's share of them (whole panels of columns, else pairs of rows).
// For each block of KC rows of k, and in it each block of MC rows of C, the
// block of A is first copied, rows two by two with their elements
// interleaved, into a contiguous pack; then each block of 16 columns of B
// into a contiguous panel (one pack, panel and tile per thread): read in
// place, rows of B lie N floats apart and thrash the cache when N is a large
// power of two, and A or B stored transposed are read across their rows.
// Rows of C then go two at a time over the panel (eight f32x4 accumulators,
// each load of the panel serving both rows), an odd last row alone; the
// pack stays in cache while every panel passes. A last block of 8 to 15
// columns is padded with zeros in the panel, and its block of C passes
// through a tile of 16 columns; fewer than 8 are read from B in place, four
// rows of C at a time (a whole panel for them measured slower). Every output
// sums over k in ascending order, a multiply then an add each, whichever
// path computes it, and a block of k continues the sum the block before
// stored in C: the same result, bit for bit, as one pass, however the
// columns are shared.
const KC = 256;
const MC = 64;
const PANELS: usize = memory.data(KC * 64 * MAX_THREADS, 16);
const PACKS: usize = memory.data(KC * MC * 4 * MAX_THREADS, 16);
const TILES: usize = memory.data(MC * 64 * MAX_THREADS, 16);

@inline
function gemm_xx(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, ars: i32, acs: i32, brs: i32, bcs: i32, acc: bool, split: bool, jf: i32, jl: i32): void {
  // this thread's columns [j0, j1) and rows [i0, i1)
  const byColumns = !split || (jl - jf) >> 4 >= threads;
  const j0 = split && byColumns ? jf + from(jl - jf, 16) : jf;
  const j1 = split && byColumns ? jf + to(jl - jf, 16) : jl;
  const i0 = split && !byColumns ? from(M, 2) : 0;
  const i1 = split && !byColumns ? to(M, 2) : M;
  const panel = PANELS + <usize>(thread * KC * 64);
  const pack = PACKS + <usize>(thread * KC * MC * 4);
  const tile = TILES + <usize>(thread * MC * 64);
  const jt = j0 + ((j1 - j0) & ~15); // the end of the whole panels
  const width = j1 - jt < 8 ? 0 : j1 - jt; // a last panel padded with zeros, or none: fewer than 8 columns go by narrow_columns
  const jp = jt + width; // the end of the columns that go through panels
  if (j0 < jp) {
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const more = acc || k0 > 0;
      for (let m0 = i0; m0 < i1; m0 += MC) {
        const rows = min(MC, i1 - m0);
        pack_rows(a + <usize>((m0 * ars + k0 * acs) * 4), pack, rows, kc, ars, acs);
        const bk = b + <usize>(k0 * brs * 4);
        const cm = c + <usize>(m0 * N * 4);
        for (let j = j0; j < jt; j += 16) {
          pack_panel(bk + <usize>(j * bcs * 4), brs, bcs, panel, kc, 16);
          block_rows(pack, panel, cm + <usize>(j * 4), N, rows, kc, more);
        }
        if (width > 0) {
          pack_panel(bk + <usize>(jt * bcs * 4), brs, bcs, panel, kc, width);
          if (more) copy_columns(cm + <usize>(jt * 4), N, tile, 16, rows, width);
          block_rows(pack, panel, tile, 16, rows, kc, more);
          copy_columns(tile, 16, cm + <usize>(jt * 4), N, rows, width);
        }
      }
    }
  }
  if (jp < j1) narrow_columns(a, ars, acs, b, brs, bcs, c, N, i0, i1, jp, j1, K, acc);
}

/** `rows` rows of C from `p`, `stride` floats apart, 16 columns, over kc rows of the panel: two at a time, then an odd last row. */
@inline
function block_rows(pack: usize, panel: usize, p: usize, stride: i32, rows: i32, kc: i32, acc: bool): void {
  const pairs = rows >> 1;
  for (let pair = 0; pair < pairs; pair++) panel_rows(pack + <usize>(pair * kc * 8), panel, p + <usize>(pair * 2 * stride * 4), stride, kc, acc);
  if (rows & 1) row16(pack + <usize>(pairs * kc * 8), panel, p + <usize>(pairs * 2 * stride * 4), kc, acc);
}

/** Copies `rows` rows of A, kc elements each, into `pack`: pairs of rows with their elements interleaved, then the odd row alone. */
@inline
function pack_rows(a: usize, pack: usize, rows: i32, kc: i32, ars: i32, acs: i32): void {
  let into = pack;
  let i = 0;
  for (; i + 2 <= rows; i += 2) {
    const r0 = a + <usize>(i * ars * 4);
    const r1 = r0 + <usize>(ars * 4);
    for (let k = 0; k < kc; k++, into += 8) {
      store<f32>(into, load<f32>(r0 + <usize>(k * acs * 4)));
      store<f32>(into, load<f32>(r1 + <usize>(k * acs * 4)), 4);
    }
  }
  if (i < rows) {
    const r0 = a + <usize>(i * ars * 4);
    for (let k = 0; k < kc; k++, into += 4) store<f32>(into, load<f32>(r0 + <usize>(k * acs * 4)));
  }
}

/** Copies `width` (at most 16) columns of kc rows of B from `source` (B[k, j] at source + 4 * (k * brs + j * bcs)) into the panel's rows of 16, zeros after them. */
@inline
function pack_panel(source: usize, brs: i32, bcs: i32, panel: usize, kc: i32, width: i32): void {
  if (bcs == 1 && width == 16) {
    for (let k = 0; k < kc; k++) {
      const row = source + <usize>(k * brs * 4);
      const into = panel + <usize>(k * 64);
      v128.store(into, v128.load(row));
      v128.store(into, v128.load(row, 16), 16);
      v128.store(into, v128.load(row, 32), 32);
      v128.store(into, v128.load(row, 48), 48);
    }
  } else {
    // column by column: along a row of B stored transposed
    for (let l = 0; l < 16; l++) {
      const column = source + <usize>(l * bcs * 4);
      const into = panel + <usize>(l * 4);
      if (l < width) for (let k = 0; k < kc; k++) store<f32>(into + <usize>(k * 64), load<f32>(column + <usize>(k * brs * 4)));
      else for (let k = 0; k < kc; k++) store<f32>(into + <usize>(k * 64), 0);
    }
  }
}

/** Copies `width` floats of each of `rows` rows, `fromStride` and `toStride` floats apart. */
@inline
function copy_columns(from: usize, fromStride: i32, to: usize, toStride: i32, rows: i32, width: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let l = 0; l < width; l++) store<f32>(to + <usize>((r * toStride + l) * 4), load<f32>(from + <usize>((r * fromStride + l) * 4)));
  }
}

// The inner loops below step pointers rather than index by k: V8 then does
// not recompute each address from k, and the loop, whose issue rate bounds
// it, runs 12-17% faster (docs/PERF.md).

/** Two rows of C, 16 columns, over kc rows of the panel: C[0..2][0..16] (+)= the interleaved pair of rows of A at `pair` x panel. */
@inline
function panel_rows(pair: usize, panel: usize, p: usize, N: i32, kc: i32, acc: bool): void {
  const q = p + <usize>(N * 4);
  let x0 = acc ? v128.load(p) : f32x4.splat(0);
  let x1 = acc ? v128.load(p, 16) : f32x4.splat(0);
  let x2 = acc ? v128.load(p, 32) : f32x4.splat(0);
  let x3 = acc ? v128.load(p, 48) : f32x4.splat(0);
  let y0 = acc ? v128.load(q) : f32x4.splat(0);
  let y1 = acc ? v128.load(q, 16) : f32x4.splat(0);
  let y2 = acc ? v128.load(q, 32) : f32x4.splat(0);
  let y3 = acc ? v128.load(q, 48) : f32x4.splat(0);
  const end = pair + <usize>(kc * 8);
  for (let ak = pair, bk = panel; ak < end; ak += 8, bk += 64) {
    const u = v128.load32_splat(ak);
    const v = v128.load32_splat(ak, 4);
    const b0 = v128.load(bk);
    x0 = madd(u, b0, x0);
    y0 = madd(v, b0, y0);
    const b1 = v128.load(bk, 16);
    x1 = madd(u, b1, x1);
    y1 = madd(v, b1, y1);
    const b2 = v128.load(bk, 32);
    x2 = madd(u, b2, x2);
    y2 = madd(v, b2, y2);
    const b3 = v128.load(bk, 48);
    x3 = madd(u, b3, x3);
    y3 = madd(v, b3, y3);
  }
  v128.store(p, x0);
  v128.store(p, x1, 16);
  v128.store(p, x2, 32);
  v128.store(p, x3, 48);
  v128.store(q, y0);
  v128.store(q, y1, 16);
  v128.store(q, y2, 32);
  v128.store(q, y3, 48);
}

/** One row of C, 16 columns, over kc rows of the panel: C[0][0..16] (+)= the packed row of A at `row` x panel. */
@inline
function row16(row: usize, panel: usize, p: usize, kc: i32, acc: bool): void {
  let x0 = acc ? v128.load(p) : f32x4.splat(0);
  let x1 = acc ? v128.load(p, 16) : f32x4.splat(0);
  let x2 = acc ? v128.load(p, 32) : f32x4.splat(0);
  let x3 = acc ? v128.load(p, 48) : f32x4.splat(0);
  const end = row + <usize>(kc * 4);
  for (let ak = row, bk = panel; ak < end; ak += 4, bk += 64) {
    const u = v128.load32_splat(ak);
    x0 = madd(u, v128.load(bk), x0);
    x1 = madd(u, v128.load(bk, 16), x1);
    x2 = madd(u, v128.load(bk, 32), x2);
    x3 = madd(u, v128.load(bk, 48), x3);
  }
  v128.store(p, x0);
  v128.store(p, x1, 16);
  v128.store(p, x2, 32);
  v128.store(p, x3, 48);
}

/**
 * Columns [j, j1) of rows [i0, i1) of C, fewer than 8. Where they lie side by
 * side in B's rows, four at a time: four rows of C at once, each load of B
 * serving the four (one accumulator a row would wait on its own adds), the
 * last rows one at a time; what is left, and B stored transposed, one by one.
 */
@inline
function narrow_columns(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, N: i32, i0: i32, i1: i32, j: i32, j1: i32, K: i32, acc: bool): void {
  const zero = f32x4.splat(0);
  if (bcs == 1) {
    for (; j + 4 <= j1; j += 4) {
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const ci = c + <usize>((i * N + j) * 4);
        let c0 = acc ? v128.load(ci) : zero;
        let c1 = acc ? v128.load(ci + <usize>(N * 4)) : zero;
        let c2 = acc ? v128.load(ci + <usize>(N * 8)) : zero;
        let c3 = acc ? v128.load(ci + <usize>(N * 12)) : zero;
        let ak = a + <usize>(i * ars * 4);
        let bk = b + <usize>(j * 4);
        for (let k = 0; k < K; k++) {
          const bv = v128.load(bk);
          c0 = madd(v128.load32_splat(ak), bv, c0);
          c1 = madd(v128.load32_splat(ak + <usize>(ars * 4)), bv, c1);
          c2 = madd(v128.load32_splat(ak + <usize>(ars * 8)), bv, c2);
          c3 = madd(v128.load32_splat(ak + <usize>(ars * 12)), bv, c3);
          ak += <usize>(acs * 4);
          bk += <usize>(brs * 4);
        }
        v128.store(ci, c0);
        v128.store(ci + <usize>(N * 4), c1);
        v128.store(ci + <usize>(N * 8), c2);
        v128.store(ci + <usize>(N * 12), c3);
      }
      for (; i < i1; i++) {
        const ci = c + <usize>((i * N + j) * 4);
        let c0 = acc ? v128.load(ci) : zero;
        for (let k = 0; k < K; k++) c0 = madd(v128.load32_splat(a + <usize>((i * ars + k * acs) * 4)), v128.load(b + <usize>((k * brs + j) * 4)), c0);
        v128.store(ci, c0);
      }
    }
  }
  for (let i = i0; i < i1; i++) {
    for (let l = j; l < j1; l++) {
      let s: f32 = acc ? load<f32>(c + <usize>((i * N + l) * 4)) : 0;
      for (let k = 0; k < K; k++) s += load<f32>(a + <usize>((i * ars + k * acs) * 4)) * load<f32>(b + <usize>((k * brs + l * bcs) * 4));
      store<f32>(c + <usize>((i * N + l) * 4), s);
    }
  }
}

/** C[M, N] (+)= A[M, K] B[K, N] */
@inline
export function gemm_nn(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool, split: bool = false): void {
  gemm_xx(a, b, c, M, N, K, K, 1, N, 1, acc, split, 0, N);
}

/** C[M, N] (+)= A^T B, A stored [K, M], B [K, N]: weight gradients x^T dy. */
@inline
export function gemm_tn(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool, split: bool = false): void {
  gemm_xx(a, b, c, M, N, K, 1, M, N, 1, acc, split, 0, N);
}

/**
 * C[M, N] (+)= A B^T, A [M, K], B stored [N, K]: input gradients dy W^T.
 * Only columns [j0, j1) when j1 is given (j0 a multiple of four). With 64
 * rows or more, through packed panels as the other two (B's rows copied
 * across the panel's); with fewer, the copy is worth less than it costs,
 * and dot products along k: rows of C two at a time, four outputs of each
 * per pass (each load of B's rows serves both rows of A), what is left row
 * by row, the threads sharing the rows when split. Which of the two depends
 * on M alone, so every output sums in the same order for any share of the work.
 */
@inline
export function gemm_nt(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool, split: bool = false, j0: i32 = 0, j1: i32 = -1): void {
  const jn = j1 < 0 ? N : j1;
  if (M >= 64) {
    gemm_xx(a, b, c, M, N, K, K, 1, 1, K, acc, split, j0, jn);
    return;
  }
  const i1 = split ? to(M, 1) : M;
  let i = split ? from(M, 1) : 0;
  for (; i + 2 <= i1; i += 2) {
    const a0 = a + <usize>(i * K * 4);
    const a1 = a0 + <usize>(K * 4);
    const c0 = c + <usize>(i * N * 4);
    const c1 = c0 + <usize>(N * 4);
    let j = j0;
    for (; j + 4 <= jn; j += 4) {
      const b0 = b + <usize>(j * K * 4);
      const b1 = b0 + <usize>(K * 4);
      const b2 = b1 + <usize>(K * 4);
      const b3 = b2 + <usize>(K * 4);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      let s2 = f32x4.splat(0);
      let s3 = f32x4.splat(0);
      let t0 = f32x4.splat(0);
      let t1 = f32x4.splat(0);
      let t2 = f32x4.splat(0);
      let t3 = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const u = v128.load(a0 + <usize>(k * 4));
        const v = v128.load(a1 + <usize>(k * 4));
        const x0 = v128.load(b0 + <usize>(k * 4));
        s0 = madd(u, x0, s0);
        t0 = madd(v, x0, t0);
        const x1 = v128.load(b1 + <usize>(k * 4));
        s1 = madd(u, x1, s1);
        t1 = madd(v, x1, t1);
        const x2 = v128.load(b2 + <usize>(k * 4));
        s2 = madd(u, x2, s2);
        t2 = madd(v, x2, t2);
        const x3 = v128.load(b3 + <usize>(k * 4));
        s3 = madd(u, x3, s3);
        t3 = madd(v, x3, t3);
      }
      const cj = <usize>(j * 4);
      dot_tail(a0, b0, c0 + cj, k, K, s0, acc);
      dot_tail(a0, b1, c0 + cj + 4, k, K, s1, acc);
      dot_tail(a0, b2, c0 + cj + 8, k, K, s2, acc);
      dot_tail(a0, b3, c0 + cj + 12, k, K, s3, acc);
      dot_tail(a1, b0, c1 + cj, k, K, t0, acc);
      dot_tail(a1, b1, c1 + cj + 4, k, K, t1, acc);
      dot_tail(a1, b2, c1 + cj + 8, k, K, t2, acc);
      dot_tail(a1, b3, c1 + cj + 12, k, K, t3, acc);
    }
    nt_columns(a0, b, c0, j, jn, K, acc);
    nt_columns(a1, b, c1, j, jn, K, acc);
  }
  if (i < i1) nt_row(a + <usize>(i * K * 4), b, c + <usize>(i * N * 4), j0, jn, K, acc);
}

/** One row of A B^T, columns [j0, jn): four outputs at a time share each load of A's row, then one at a time. */
@inline
function nt_row(ai: usize, b: usize, ci: usize, j0: i32, jn: i32, K: i32, acc: bool): void {
  let j = j0;
  for (; j + 4 <= jn; j += 4) {
    const b0 = b + <usize>(j * K * 4);
    const b1 = b0 + <usize>(K * 4);
    const b2 = b1 + <usize>(K * 4);
    const b3 = b2 + <usize>(K * 4);
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const av = v128.load(ai + <usize>(k * 4));
      s0 = madd(av, v128.load(b0 + <usize>(k * 4)), s0);
      s1 = madd(av, v128.load(b1 + <usize>(k * 4)), s1);
      s2 = madd(av, v128.load(b2 + <usize>(k * 4)), s2);
      s3 = madd(av, v128.load(b3 + <usize>(k * 4)), s3);
    }
    dot_tail(ai, b0, ci + <usize>(j * 4), k, K, s0, acc);
    dot_tail(ai, b1, ci + <usize>((j + 1) * 4), k, K, s1, acc);
    dot_tail(ai, b2, ci + <usize>((j + 2) * 4), k, K, s2, acc);
    dot_tail(ai, b3, ci + <usize>((j + 3) * 4), k, K, s3, acc);
  }
  nt_columns(ai, b, ci, j, jn, K, acc);
}

/** Outputs [j, jn) of one row of A B^T, one at a time. */
@inline
function nt_columns(ai: usize, b: usize, ci: usize, j: i32, jn: i32, K: i32, acc: bool): void {
  for (; j < jn; j++) {
    const bj = b + <usize>(j * K * 4);
    let sum = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) sum = madd(v128.load(ai + <usize>(k * 4)), v128.load(bj + <usize>(k * 4)), sum);
    dot_tail(ai, bj, ci + <usize>(j * 4), k, K, sum, acc);
  }
}

/** Finishes one dot product: the lanes of `sum` (in a fixed order), then the scalar tail from k; stores or adds it at cij. */
@inline
function dot_tail(ai: usize, bj: usize, cij: usize, k: i32, K: i32, sum: v128, acc: bool): void {
  let s: f32 = f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3));
  for (; k < K; k++) s += load<f32>(ai + <usize>(k * 4)) * load<f32>(bj + <usize>(k * 4));
  store<f32>(cij, acc ? load<f32>(cij) + s : s);
}
