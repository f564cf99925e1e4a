// Matrix products for dense layers and their gradients, f32 row-major.
// All functions are @inline: the emitted model calls them with constant
// shapes and addresses, so after inlining every loop has constant bounds.
// The order of every sum is fixed by the shapes alone, so results are the
// same, bit for bit, in every runtime.

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

// C[M, N] (+)= op(A) B[K, N], where A[i, k] is at a + 4 * (i * ars + k * acs):
// A itself (ars = K, acs = 1) or A stored transposed as [K, M] (ars = 1, acs = M).
// With acc the product is added to C, else it replaces it.
// For each block of 16 columns and KC rows of k, B's block is first copied
// into a contiguous panel (rows of B lie N floats apart: read straight down,
// they thrash the cache when N is a large power of two); then rows of C go two
// at a time over it (eight f32x4 accumulators, each load of the panel serving
// both rows), what is left row by row. Every output sums over k in ascending
// order whichever path computes it, and a block of k continues the sum the
// block before stored in C: the same result, bit for bit, as one pass.
const KC = 256;
const PANEL: usize = memory.data(KC * 64, 16);

@inline
function gemm_xn(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, ars: i32, acs: i32, acc: bool): void {
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const more = acc || k0 > 0;
      for (let k = 0; k < kc; k++) {
        const from = b + <usize>(((k0 + k) * N + j) * 4);
        const to = PANEL + <usize>(k * 64);
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
        v128.store(to, v128.load(from, 32), 32);
        v128.store(to, v128.load(from, 48), 48);
      }
      const ak = a + <usize>(k0 * acs * 4);
      let i = 0;
      for (; i + 2 <= M; i += 2) {
        const a0 = ak + <usize>(i * ars * 4);
        panel_rows(a0, a0 + <usize>(ars * 4), c + <usize>((i * N + j) * 4), N, kc, acs, more);
      }
      if (i < M) row16(ak + <usize>(i * ars * 4), PANEL, 64, c + <usize>((i * N + j) * 4), kc, acs, more);
    }
  }
  if (j < N) for (let i = 0; i < M; i++) gemm_row(a + <usize>(i * ars * 4), b, c + <usize>(i * N * 4), j, N, K, acs, acc);
}

/** Two rows of C, 16 columns, over kc rows of the panel: C[0..2][0..16] (+)= A rows x panel. */
@inline
function panel_rows(a0: usize, a1: usize, p: usize, N: i32, kc: i32, acs: i32, acc: bool): void {
  const q = p + <usize>(N * 4);
  let x0 = acc ? v128.load(p) : f32x4.splat(0);
  let x1 = acc ? v128.load(p, 16) : f32x4.splat(0);
  let x2 = acc ? v128.load(p, 32) : f32x4.splat(0);
  let x3 = acc ? v128.load(p, 48) : f32x4.splat(0);
  let y0 = acc ? v128.load(q) : f32x4.splat(0);
  let y1 = acc ? v128.load(q, 16) : f32x4.splat(0);
  let y2 = acc ? v128.load(q, 32) : f32x4.splat(0);
  let y3 = acc ? v128.load(q, 48) : f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const u = v128.load32_splat(a0 + <usize>(k * acs * 4));
    const v = v128.load32_splat(a1 + <usize>(k * acs * 4));
    const bk = PANEL + <usize>(k * 64);
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

/** C[i][j..j+16] (+)= sum over k of A[i, k] B[k][j..j+16], the rows of B `stride` bytes apart from bj: four accumulators. */
@inline
function row16(ai: usize, bj: usize, stride: i32, cj: usize, K: i32, acs: i32, acc: bool): void {
  let c0 = acc ? v128.load(cj) : f32x4.splat(0);
  let c1 = acc ? v128.load(cj, 16) : f32x4.splat(0);
  let c2 = acc ? v128.load(cj, 32) : f32x4.splat(0);
  let c3 = acc ? v128.load(cj, 48) : f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const aik = v128.load32_splat(ai + <usize>(k * acs * 4));
    const bk = bj + <usize>(k * stride);
    c0 = madd(aik, v128.load(bk), c0);
    c1 = madd(aik, v128.load(bk, 16), c1);
    c2 = madd(aik, v128.load(bk, 32), c2);
    c3 = madd(aik, v128.load(bk, 48), c3);
  }
  v128.store(cj, c0);
  v128.store(cj, c1, 16);
  v128.store(cj, c2, 32);
  v128.store(cj, c3, 48);
}

/** One row of C from column j0: 16 columns at a time in four accumulators, then 4, then one. */
@inline
function gemm_row(ai: usize, b: usize, ci: usize, j0: i32, N: i32, K: i32, acs: i32, acc: bool): void {
  let j = j0;
  for (; j + 16 <= N; j += 16) row16(ai, b + <usize>(j * 4), N * 4, ci + <usize>(j * 4), K, acs, acc);
  for (; j + 4 <= N; j += 4) {
    let c0 = acc ? v128.load(ci + <usize>(j * 4)) : f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      c0 = madd(v128.load32_splat(ai + <usize>(k * acs * 4)), v128.load(b + <usize>((k * N + j) * 4)), c0);
    }
    v128.store(ci + <usize>(j * 4), c0);
  }
  for (; j < N; j++) {
    let s: f32 = acc ? load<f32>(ci + <usize>(j * 4)) : 0;
    for (let k = 0; k < K; k++) s += load<f32>(ai + <usize>(k * acs * 4)) * load<f32>(b + <usize>((k * N + j) * 4));
    store<f32>(ci + <usize>(j * 4), s);
  }
}

/** C[M, N] (+)= A[M, K] B[K, N] */
@inline
export function gemm_nn(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool): void {
  gemm_xn(a, b, c, M, N, K, K, 1, acc);
}

/** C[M, N] (+)= A^T B, A stored [K, M], B [K, N]: weight gradients x^T dy. */
@inline
export function gemm_tn(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool): void {
  gemm_xn(a, b, c, M, N, K, 1, M, acc);
}

/** C[M, N] (+)= A B^T, A [M, K], B stored [N, K]: input gradients dy W^T. Dot products along k. */
@inline
export function gemm_nt(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, acc: bool): void {
  for (let i = 0; i < M; i++) {
    const ai = a + <usize>(i * K * 4);
    let j = 0;
    // four outputs at a time share each load of A's row
    for (; j + 4 <= N; j += 4) {
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
      dot_tail(ai, b0, c + <usize>((i * N + j) * 4), k, K, s0, acc);
      dot_tail(ai, b1, c + <usize>((i * N + j + 1) * 4), k, K, s1, acc);
      dot_tail(ai, b2, c + <usize>((i * N + j + 2) * 4), k, K, s2, acc);
      dot_tail(ai, b3, c + <usize>((i * N + j + 3) * 4), k, K, s3, acc);
    }
    for (; j < N; j++) {
      const bj = b + <usize>(j * K * 4);
      let sum = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) sum = madd(v128.load(ai + <usize>(k * 4)), v128.load(bj + <usize>(k * 4)), sum);
      dot_tail(ai, bj, c + <usize>((i * N + j) * 4), k, K, sum, acc);
    }
  }
}

/** Finishes one dot product: the lanes of `sum` (in a fixed order), then the scalar tail from k; stores or adds it at cij. */
@inline
function dot_tail(ai: usize, bj: usize, cij: usize, k: i32, K: i32, sum: v128, acc: bool): void {
  let s: f32 = f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3));
  for (; k < K; k++) s += load<f32>(ai + <usize>(k * 4)) * load<f32>(bj + <usize>(k * 4));
  store<f32>(cij, acc ? load<f32>(cij) + s : s);
}
