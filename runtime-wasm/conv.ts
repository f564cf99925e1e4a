// Convolution as im2col + GEMM, NCHW, f32. @inline with constant shapes from
// the emitted model. One sample at a time: x is [C, H, W], the column matrix
// col is [C * KH * KW, HO * WO], so that conv = W[F, C*KH*KW] x col.
// Zero padding: pt/pl rows/columns before the image (the rest follow from HO, WO).
//
// Short loops cost here what the copies they run do (V8 checks and branches
// at each one; Binaryen -O2 keeps a loop even when its constant bounds make it
// run no times): rows of a few vectors are copied in straight lines, their
// branches on constant widths folded away (docs/PERF.md).

/**
 * col[(c * KH + i) * KW + j, oy * WO + ox] = x[c, oy * S + i - pt, ox * S + j - pl], 0 outside;
 * only rows [r0, r1) when r1 is given. With stride 1, rows at least four
 * wide, the channels it reads are first copied with their padding after col
 * (the scratch has room: colFloats in compiler/ir/spatial.ts), and each row
 * of col is then one row of that copy, with no bounds.
 */
@inline
export function im2col(x: usize, col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, pt: i32, pl: i32, HO: i32, WO: i32, r0: i32 = 0, r1: i32 = -1): void {
  const end = r1 < 0 ? C * KH * KW : r1;
  if (S == 1 && W >= 4 && WO >= 4) {
    const HP = HO + KH - 1; // the padded image's rows and columns
    const WP = WO + KW - 1;
    const padded = col + <usize>(C * KH * KW * HO * WO * 4);
    pad(x, padded, r0 / (KH * KW), (end - 1) / (KH * KW) + 1, H, W, pt, pl, HP, WP);
    for (let r = r0; r < end; r++) {
      const c = r / (KH * KW);
      const i = (r / KW) % KH;
      const j = r % KW;
      const from = padded + <usize>(((c * HP + i) * WP + j) * 4);
      const row = col + <usize>(r * HO * WO * 4);
      for (let oy = 0; oy < HO; oy++) copy_row(from + <usize>(oy * WP * 4), row + <usize>(oy * WO * 4), WO);
    }
    return;
  }
  for (let r = r0; r < end; r++) {
    const c = r / (KH * KW);
    const i = (r / KW) % KH;
    const j = r % KW;
    const row = col + <usize>(r * HO * WO * 4);
    // the outputs [lo, hi) of each row of col that read inside the image
    const lo = first(pl - j, S, WO);
    const hi = first(W + pl - j, S, WO);
    for (let oy = 0; oy < HO; oy++) {
      const y = oy * S + i - pt;
      const dst = row + <usize>(oy * WO * 4);
      if (y < 0 || y >= H) {
        zero(dst, 0, WO);
        continue;
      }
      // x[c, y, ox * S + j - pl] is at src + ox * S * 4
      const src = x + <usize>(((c * H + y) * W + j - pl) * 4);
      zero(dst, 0, lo);
      let ox = lo;
      if (S == 1) for (; ox + 4 <= hi; ox += 4) v128.store(dst + <usize>(ox * 4), v128.load(src + <usize>(ox * 4)));
      for (; ox < hi; ox++) store<f32>(dst + <usize>(ox * 4), load<f32>(src + <usize>(ox * S * 4)));
      zero(dst, hi, WO);
    }
  }
}

/** Channels [c0, c1) of x [C, H, W] into `padded` [C, HP, WP], pt rows and pl columns of zeros before each, zeros after. */
@inline
function pad(x: usize, padded: usize, c0: i32, c1: i32, H: i32, W: i32, pt: i32, pl: i32, HP: i32, WP: i32): void {
  for (let c = c0; c < c1; c++) {
    for (let y = 0; y < HP; y++) {
      const row = padded + <usize>((c * HP + y) * WP * 4);
      if (y < pt || y >= pt + H) {
        zero(row, 0, WP);
        continue;
      }
      zero(row, 0, pl);
      copy_row(x + <usize>((c * H + y - pt) * W * 4), row + <usize>(pl * 4), W);
      zero(row, pl + W, WP);
    }
  }
}

/** n >= 4 floats from `from` to `to`, four at a time, the last four overlapping the ones before; straight-line up to 20. */
@inline
function copy_row(from: usize, to: usize, n: i32): void {
  const last = n - 4;
  v128.store(to, v128.load(from));
  if (last > 4) v128.store(to, v128.load(from, 16), 16);
  if (last > 8) v128.store(to, v128.load(from, 32), 32);
  if (last > 12) v128.store(to, v128.load(from, 48), 48);
  if (last > 16) for (let k = 16; k < last; k += 4) v128.store(to + <usize>(k * 4), v128.load(from + <usize>(k * 4)));
  v128.store(to + <usize>(last * 4), v128.load(from + <usize>(last * 4)));
}

/** to[0, n) += from[0, n), n >= 4: four at a time, then the last n % 4 one by one; straight-line below 20. */
@inline
function add_row(from: usize, to: usize, n: i32): void {
  add4(from, to);
  if (n >= 8) add4(from + 16, to + 16);
  if (n >= 12) add4(from + 32, to + 32);
  if (n >= 16) add4(from + 48, to + 48);
  if (n >= 20) for (let k = 16; k + 4 <= n; k += 4) add4(from + <usize>(k * 4), to + <usize>(k * 4));
  const tail = n & ~3;
  if ((n & 3) > 0) add1(from + <usize>(tail * 4), to + <usize>(tail * 4));
  if ((n & 3) > 1) add1(from + <usize>(tail * 4 + 4), to + <usize>(tail * 4 + 4));
  if ((n & 3) > 2) add1(from + <usize>(tail * 4 + 8), to + <usize>(tail * 4 + 8));
}

@inline
function add4(from: usize, to: usize): void {
  v128.store(to, f32x4.add(v128.load(to), v128.load(from)));
}

@inline
function add1(from: usize, to: usize): void {
  store<f32>(to, load<f32>(to) + load<f32>(from));
}

/** The first output column in [0, WO] whose input column ox * S is at least `edge`. */
@inline
function first(edge: i32, S: i32, WO: i32): i32 {
  return edge <= 0 ? 0 : min(WO, (edge + S - 1) / S);
}

/** Zeroes floats [from, to) of a row: a loop, as the runs are short (a call to memory.fill costs more). */
@inline
function zero(row: usize, from: i32, to: i32): void {
  for (let k = from; k < to; k++) store<f32>(row + <usize>(k * 4), 0);
}

/**
 * The adjoint of im2col: dx[c, y, x] = sum of the col entries that read it,
 * in the order of col's rows. Overwrites dx. With stride 1, rows at least
 * four wide, each row of col is added to a row of the padded image after col
 * with no bounds (what falls on the padding is dropped), and dx is then
 * copied out of it.
 */
@inline
export function col2im(col: usize, dx: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, pt: i32, pl: i32, HO: i32, WO: i32): void {
  if (S == 1 && W >= 4 && WO >= 4) {
    const HP = HO + KH - 1;
    const WP = WO + KW - 1;
    const padded = col + <usize>(C * KH * KW * HO * WO * 4);
    memory.fill(padded, 0, <usize>(C * HP * WP * 4));
    for (let r = 0; r < C * KH * KW; r++) {
      const c = r / (KH * KW);
      const i = (r / KW) % KH;
      const j = r % KW;
      const row = col + <usize>(r * HO * WO * 4);
      const into = padded + <usize>(((c * HP + i) * WP + j) * 4);
      for (let oy = 0; oy < HO; oy++) add_row(row + <usize>(oy * WO * 4), into + <usize>(oy * WP * 4), WO);
    }
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) copy_row(padded + <usize>(((c * HP + y + pt) * WP + pl) * 4), dx + <usize>((c * H + y) * W * 4), W);
    }
    return;
  }
  memory.fill(dx, 0, <usize>(C * H * W * 4));
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++) {
        const row = col + <usize>(((c * KH + i) * KW + j) * HO * WO * 4);
        const lo = first(pl - j, S, WO);
        const hi = first(W + pl - j, S, WO);
        for (let oy = 0; oy < HO; oy++) {
          const y = oy * S + i - pt;
          if (y < 0 || y >= H) continue;
          // dx[c, y, ox * S + j - pl] is at dst + ox * S * 4
          const dst = dx + <usize>(((c * H + y) * W + j - pl) * 4);
          const src = row + <usize>(oy * WO * 4);
          let ox = lo;
          if (S == 1) {
            for (; ox + 4 <= hi; ox += 4) {
              const at = dst + <usize>(ox * 4);
              v128.store(at, f32x4.add(v128.load(at), v128.load(src + <usize>(ox * 4))));
            }
          }
          for (; ox < hi; ox++) {
            const at = dst + <usize>(ox * S * 4);
            store<f32>(at, load<f32>(at) + load<f32>(src + <usize>(ox * 4)));
          }
        }
      }
    }
  }
}
