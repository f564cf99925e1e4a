// Convolution as im2col + GEMM, NCHW, f32. @inline with constant shapes from
// the emitted model. One sample at a time: x is [C, H, W], the column matrix
// col is [C * KH * KW, HO * WO], so that conv = W[F, C*KH*KW] x col.
// Zero padding: pt/pl rows/columns before the image (the rest follow from HO, WO).

/** col[(c * KH + i) * KW + j, oy * WO + ox] = x[c, oy * S + i - pt, ox * S + j - pl], 0 outside; only rows [r0, r1) when r1 is given. */
@inline
export function im2col(x: usize, col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, pt: i32, pl: i32, HO: i32, WO: i32, r0: i32 = 0, r1: i32 = -1): void {
  for (let r = r0, end = r1 < 0 ? C * KH * KW : r1; r < end; r++) {
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

/** The adjoint of im2col: dx[c, y, x] = sum of the col entries that read it. Overwrites dx. */
@inline
export function col2im(col: usize, dx: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, pt: i32, pl: i32, HO: i32, WO: i32): void {
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
