// Op table entries for images (NCHW) and shapes: convolution, per-channel
// bias, max and average pooling, reshape, dropout; each with its gradient
// ops. Merged into the table in ops.ts. Convolution is cross-correlation, as
// in every framework: y[b, f, oy, ox] = sum_{c,i,j} w[f, c, i, j] x[b, c, oy*s + i - pt, ox*s + j - pl].

import { type Attrs, formatShape, type Node, type Shape, size } from "./graph.ts";
import { f32, type KernelContext, type KernelOp, type OpDef, type Typed } from "./ops.ts";

export type SpatialOp =
  | "conv2d"
  | "conv2d_grad_x"
  | "conv2d_grad_w"
  | "bias_add"
  | "bias_grad"
  | "maxpool2d"
  | "maxpool_grad"
  | "avgpool2d"
  | "avgpool_grad"
  | "reshape"
  | "dropout_mask";

/** The geometry of a convolution or pooling window over one image. */
interface Window {
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  S: number;
  pt: number;
  pl: number;
  HO: number;
  WO: number;
}

const outSize = (n: number, k: number, s: number, padding: number) => Math.floor((n + padding - k) / s) + 1;

/** Geometry from the input image shape [B, C, H, W], the kernel size and the attributes. */
function windowOf(x: Shape, KH: number, KW: number, attrs: Attrs): Window {
  const [, C, H, W] = x;
  const [pt, pl, pb, pr] = attrs.pads ?? [0, 0, 0, 0];
  const S = attrs.stride ?? 1;
  return { C, H, W, KH, KW, S, pt, pl, HO: outSize(H, KH, S, pt + pb), WO: outSize(W, KW, S, pl + pr) };
}
const convWindow = (x: Shape, w: Shape, attrs: Attrs) => windowOf(x, w[2], w[3], attrs);
const poolWindow = (x: Shape, attrs: Attrs) => windowOf(x, attrs.window ?? 2, attrs.window ?? 2, { stride: attrs.stride ?? attrs.window });

function image(x: Node, what: string): string | null {
  return x.shape.length === 4 && x.batched ? null : `${what} must be an image batch [B, channels, height, width], got ${formatShape(x)}`;
}

/** The AssemblyScript argument list of im2col / col2im for a window. */
const geometry = (g: Window) => [g.C, g.H, g.W, g.KH, g.KW, g.S, g.pt, g.pl, g.HO, g.WO].join(", ");

/** Calls `visit(xIndex, yIndex)` for every window element of every output position of one plane. */
function forWindow(g: Window, visit: (xi: number, yi: number) => void): void {
  for (let oy = 0; oy < g.HO; oy++) {
    for (let ox = 0; ox < g.WO; ox++) {
      for (let i = 0; i < g.KH; i++) {
        for (let j = 0; j < g.KW; j++) {
          const y = oy * g.S + i - g.pt;
          const x = ox * g.S + j - g.pl;
          if (y >= 0 && y < g.H && x >= 0 && x < g.W) visit(y * g.W + x, oy * g.WO + ox);
        }
      }
    }
  }
}

/**
 * Reference convolution and its two gradients in one loop nest over
 * (b, f, c, window): forward adds w * x into y, the gradients add gy * w into
 * dx and gy * x into dw.
 */
function convLoops(x: Shape, w: Shape, attrs: Attrs, rows: number, visit: (xi: number, wi: number, yi: number) => void): void {
  const g = convWindow(x, w, attrs);
  const F = w[0];
  for (let b = 0; b < rows; b++) {
    for (let f = 0; f < F; f++) {
      for (let c = 0; c < g.C; c++) {
        for (let oy = 0; oy < g.HO; oy++) {
          for (let ox = 0; ox < g.WO; ox++) {
            for (let i = 0; i < g.KH; i++) {
              for (let j = 0; j < g.KW; j++) {
                const yy = oy * g.S + i - g.pt;
                const xx = ox * g.S + j - g.pl;
                if (yy < 0 || yy >= g.H || xx < 0 || xx >= g.W) continue;
                visit(((b * g.C + c) * g.H + yy) * g.W + xx, ((f * g.C + c) * g.KH + i) * g.KW + j, ((b * F + f) * g.HO + oy) * g.WO + ox);
              }
            }
          }
        }
      }
    }
  }
}

const convFlops = (x: Shape, w: Shape, attrs: Attrs) => {
  const g = convWindow(x, w, attrs);
  return 2 * x[0] * w[0] * g.HO * g.WO * g.C * g.KH * g.KW;
};
/** The scratch of a convolution's kernels: im2col's column matrix, then with stride 1 the image with its padding (runtime-wasm/conv.ts). */
const colFloats = (x: Shape, w: Shape, attrs: Attrs) => {
  const g = convWindow(x, w, attrs);
  return g.C * g.KH * g.KW * g.HO * g.WO + (g.S === 1 ? g.C * (g.HO + g.KH - 1) * (g.WO + g.KW - 1) : 0);
};

export const spatialOps: Record<SpatialOp, OpDef> = {
  // x [B, C, H, W], w [F, C, KH, KW] -> [B, F, HO, WO]; per sample: im2col, then W x col
  conv2d: {
    fusion: "output-fusable",
    arity: 2,
    shape([x, w], attrs): Typed | string {
      const bad = image(x, "the input of conv2d");
      if (bad) return bad;
      if (w.shape.length !== 4 || w.shape[1] !== x.shape[1]) return `kernel ${formatShape(w)} does not fit ${x.shape[1]} input channels`;
      const g = convWindow(x.shape, w.shape, attrs);
      if (g.HO < 1 || g.WO < 1) return `a ${g.KH}x${g.KW} kernel does not fit a ${g.H}x${g.W} image with this padding`;
      return f32([x.shape[0], w.shape[0], g.HO, g.WO], true);
    },
    flops: (_node, [x, w]) => convFlops(x.shape, w.shape, _node.attrs),
    scratch: (node, [x, w]) => colFloats(x.shape, w.shape, node.attrs),
    grad: (b, node, gy) => {
      const [x, w] = node.inputs.map(b.node);
      const attrs = { stride: node.attrs.stride, pads: node.attrs.pads };
      return [b.op("conv2d_grad_x", [gy, w.id], { ...attrs, to: x.shape }), b.op("conv2d_grad_w", [x.id, gy], { ...attrs, to: w.shape })];
    },
    reference(ins, out, { node, ins: [x, w] }) {
      out.fill(0);
      convLoops(x.shape, w.shape, node.attrs, x.shape[0], (xi, wi, yi) => {
        out[yi] += ins[1][wi] * ins[0][xi];
      });
    },
    // image by image, each followed by the fused epilogue (bias, activation) while it is in cache; threads share the images
    parallel: true,
    kernel({ node, ins: [x, w], at, scratch, epilogue }) {
      const g = convWindow(x.shape, w.shape, node.attrs);
      const [F, K, per] = [w.shape[0], g.C * g.KH * g.KW, size(node.shape.slice(1))];
      return `for (let b = from(${x.shape[0]}, 1), end = to(${x.shape[0]}, 1); b < end; b++) {
    im2col(${at(x)} + b * ${size(x.shape.slice(1)) * 4}, ${scratch}, ${geometry(g)});
    gemm_nn(${at(w)}, ${scratch}, ${at(node)} + b * ${per * 4}, ${F}, ${g.HO * g.WO}, ${K}, false);
    ${epilogue(`b * ${per}`, per)}
  }`;
    },
  },
  // dx[b] = col2im(W^T gy[b]) for the real rows; zero on padding rows. Threads share the images.
  conv2d_grad_x: {
    fusion: "output-fusable",
    arity: 2,
    parallel: true,
    shape: ([gy], attrs) => f32(attrs.to ?? [], gy.batched),
    flops: (node, [, w]) => convFlops(node.shape, w.shape, node.attrs),
    scratch: (node, [, w]) => colFloats(node.shape, w.shape, node.attrs),
    reference(ins, out, { node, ins: [, w], n }) {
      out.fill(0);
      convLoops(node.shape, w.shape, node.attrs, n, (xi, wi, yi) => {
        out[xi] += ins[1][wi] * ins[0][yi];
      });
    },
    kernel({ node, ins: [gy, w], at, scratch }) {
      const g = convWindow(node.shape, w.shape, node.attrs);
      const per = size(node.shape.slice(1)) * 4;
      return `for (let b = from(n, 1), end = to(n, 1); b < end; b++) {
    gemm_tn(${at(w)}, ${at(gy)} + b * ${size(gy.shape.slice(1)) * 4}, ${scratch}, ${g.C * g.KH * g.KW}, ${g.HO * g.WO}, ${w.shape[0]}, false);
    col2im(${scratch}, ${at(node)} + b * ${per}, ${geometry(g)});
  }
  if (thread == 0) memory.fill(${at(node)} + n * ${per}, 0, (${node.shape[0]} - n) * ${per});`;
    },
  },
  // dw = sum over real rows of gy[b] col[b]^T; threads share the columns of dw (whole rows of col)
  conv2d_grad_w: {
    fusion: "output-fusable",
    arity: 2,
    parallel: true,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    flops: (node, [x]) => convFlops(x.shape, node.shape, node.attrs),
    scratch: (node, [x]) => colFloats(x.shape, node.shape, node.attrs),
    reference(ins, out, { node, ins: [x], n }) {
      out.fill(0);
      convLoops(x.shape, node.shape, node.attrs, n, (xi, wi, yi) => {
        out[wi] += ins[1][yi] * ins[0][xi];
      });
    },
    kernel({ node, ins: [x, gy], at, scratch }) {
      const g = convWindow(x.shape, node.shape, node.attrs);
      const [F, K] = [node.shape[0], g.C * g.KH * g.KW];
      return `const k0 = from(${K}, 4);
  const k1 = to(${K}, 4);
  for (let f = 0; f < ${F}; f++) memory.fill(${at(node)} + (f * ${K} + k0) * 4, 0, (k1 - k0) * 4);
  for (let b = 0; b < n; b++) {
    im2col(${at(x)} + b * ${size(x.shape.slice(1)) * 4}, ${scratch}, ${geometry(g)}, k0, k1);
    gemm_nt(${at(gy)} + b * ${size(gy.shape.slice(1)) * 4}, ${scratch}, ${at(node)}, ${F}, ${K}, ${g.HO * g.WO}, true, false, k0, k1);
  }`;
    },
  },

  // x [B, C, ...] + b [C], along axis 1
  bias_add: {
    fusion: "broadcast",
    arity: 2,
    shape([x, b]) {
      if (b.shape.length !== 1 || x.shape[1] !== b.shape[0]) return `a bias ${formatShape(b)} does not fit ${formatShape(x)} (one value per channel)`;
      return f32(x.shape, x.batched);
    },
    grad: (b, node, gy) => [gy, b.op("bias_grad", [gy], { to: b.node(node.inputs[1]).shape })],
    map: { ref: (x, b) => x + b, as: (x, b) => `${x} + ${b}`, simd: (x, b) => `f32x4.add(${x}, ${b})` },
    index: (node) => [{ kind: "full" }, { kind: "channel", channels: node.shape[1], inner: size(node.shape.slice(2)) }],
  },
  // gy [B, C, ...] summed over everything but axis 1 -> [C]
  bias_grad: {
    fusion: "reduction",
    arity: 1,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    reference(ins, out, { ins: [gy] }) {
      const [C, inner] = [gy.shape[1], size(gy.shape.slice(2))];
      out.fill(0);
      for (let i = 0; i < ins[0].length; i++) out[Math.floor(i / inner) % C] += ins[0][i];
    },
    // threads share the channels; each channel sums its rows in order, a row
    // of whole vectors in four lanes (then the lanes in a fixed order)
    parallel: true,
    kernel({ node, ins: [gy], at }) {
      const [B, C, inner] = [gy.shape[0], gy.shape[1], size(gy.shape.slice(2))];
      const rowSum =
        inner % 4 === 0
          ? `let v = f32x4.splat(0);
      for (let j = 0; j < ${inner * 4}; j += 16) v = f32x4.add(v, v128.load(row + j));
      const s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));`
          : `let s: f32 = 0;
      for (let j = 0; j < ${inner * 4}; j += 4) s += load<f32>(row + j);`;
      return `for (let c = from(${C}, 1), end = to(${C}, 1); c < end; c++) {
    let total: f32 = 0;
    for (let b = 0; b < ${B}; b++) {
      const row = ${at(gy)} + (b * ${C} + c) * ${inner * 4};
      ${rowSum}
      total += s;
    }
    store<f32>(${at(node)} + c * 4, total);
  }`;
    },
  },

  // x [B, C, H, W] -> [B, C, HO, WO]: the largest value of each window. Pooling kernels share planes between threads.
  maxpool2d: {
    fusion: "reduction",
    parallel: true,
    arity: 1,
    shape: poolShape,
    grad: (b, node, gy) => [b.op("maxpool_grad", [node.inputs[0], gy], node.attrs)],
    reference: (ins, out, { node, ins: [x] }) => poolReference(x.shape, node.attrs, ins[0], out, "max"),
    kernel: (k) => poolKernel(k, "max"),
  },
  // each window's gradient goes to its first largest input
  maxpool_grad: {
    fusion: "reduction",
    parallel: true,
    arity: 2,
    shape: ([x]) => f32(x.shape, x.batched),
    reference(ins, out, { node, ins: [x] }) {
      const g = poolWindow(x.shape, node.attrs);
      out.fill(0);
      for (let plane = 0; plane < x.shape[0] * g.C; plane++) {
        const base = plane * g.H * g.W;
        const best = new Map<number, number>();
        forWindow(g, (xi, yi) => {
          const prior = best.get(yi);
          if (prior === undefined || ins[0][base + xi] > ins[0][base + prior]) best.set(yi, xi);
        });
        for (const [yi, xi] of best) out[base + xi] += ins[1][plane * g.HO * g.WO + yi];
      }
    },
    kernel({ node, ins: [x, gy], at, epilogue }) {
      const g = poolWindow(x.shape, node.attrs);
      if (g.KH === 2 && g.KW === 2 && g.S === 2) return maxPoolGrad2x2(g, x.shape[0] * g.C, at(x), at(gy), at(node), epilogue);
      return planeLoop(
        x.shape[0] * g.C,
        g,
        `
      let best = y0 * ${g.W} + x0;
      let top = load<f32>(xp + best * 4);
      for (let i = 0; i < ${g.KH}; i++) {
        for (let j = 0; j < ${g.KW}; j++) {
          const v = load<f32>(xp + ((y0 + i) * ${g.W} + x0 + j) * 4);
          if (v > top) { top = v; best = (y0 + i) * ${g.W} + x0 + j; }
        }
      }
      const d = ${at(node)} + plane * ${g.H * g.W * 4} + best * 4;
      store<f32>(d, load<f32>(d) + load<f32>(${at(gy)} + (plane * ${g.HO * g.WO} + oy * ${g.WO} + ox) * 4));`,
        at(x),
        at(node),
      );
    },
  },
  avgpool2d: {
    fusion: "reduction",
    parallel: true,
    arity: 1,
    shape: poolShape,
    grad: (b, node, gy) => [b.op("avgpool_grad", [gy], { ...node.attrs, to: b.node(node.inputs[0]).shape })],
    reference: (ins, out, { node, ins: [x] }) => poolReference(x.shape, node.attrs, ins[0], out, "mean"),
    kernel: (k) => poolKernel(k, "mean"),
  },
  // each window's gradient is shared equally by its inputs
  avgpool_grad: {
    fusion: "reduction",
    parallel: true,
    arity: 1,
    shape: ([gy], attrs) => f32(attrs.to ?? [], gy.batched),
    reference(ins, out, { node }) {
      const g = poolWindow(node.shape, node.attrs);
      out.fill(0);
      for (let plane = 0; plane < node.shape[0] * g.C; plane++) {
        forWindow(g, (xi, yi) => {
          out[plane * g.H * g.W + xi] += ins[0][plane * g.HO * g.WO + yi] / (g.KH * g.KW);
        });
      }
    },
    kernel({ node, ins: [gy], at }) {
      const g = poolWindow(node.shape, node.attrs);
      return planeLoop(
        node.shape[0] * g.C,
        g,
        `
      const share = load<f32>(${at(gy)} + (plane * ${g.HO * g.WO} + oy * ${g.WO} + ox) * 4) * <f32>${1 / (g.KH * g.KW)};
      for (let i = 0; i < ${g.KH}; i++) {
        for (let j = 0; j < ${g.KW}; j++) {
          const d = ${at(node)} + plane * ${g.H * g.W * 4} + ((y0 + i) * ${g.W} + x0 + j) * 4;
          store<f32>(d, load<f32>(d) + share);
        }
      }`,
        at(node),
        at(node),
      );
    },
  },

  // the same values with another shape (flatten): a view of the input's buffer
  reshape: {
    fusion: "injective",
    arity: 1,
    alias: true,
    shape([x], attrs) {
      const to = attrs.to ?? [];
      return size(to) === size(x.shape) ? f32(to, x.batched) : `cannot view ${formatShape(x)} as [${to}]: the sizes differ`;
    },
    grad: (b, node, gy) => [b.op("reshape", [gy], { to: b.node(node.inputs[0]).shape })],
    reference: (ins, out) => out.set(ins[0]),
    kernel: () => "",
  },

  // training: 1 / keep with probability keep, else 0 (inverted dropout); evaluation: 1.
  // It takes no input: the mask depends on nothing but the random stream.
  dropout_mask: {
    fusion: "elementwise",
    arity: 0,
    shape: (_, attrs) => f32(attrs.to ?? [], true),
    reference(_, out, { node, training, random24 }) {
      const keep = node.attrs.keep ?? 1 << 24;
      for (let i = 0; i < out.length; i++) out[i] = !training ? 1 : random24() < keep ? (1 << 24) / keep : 0;
    },
    kernel({ node, at }) {
      const keep = node.attrs.keep ?? 1 << 24;
      return `if (training) {
    for (let i = 0; i < ${size(node.shape) * 4}; i += 4) store<f32>(${at(node)} + i, random24() < ${keep} ? <f32>${(1 << 24) / keep} : <f32>0);
  } else {
    for (let i = 0; i < ${size(node.shape) * 4}; i += 4) store<f32>(${at(node)} + i, 1);
  }`;
    },
  },
};

function poolShape([x]: Node[], attrs: Attrs): Typed | string {
  const bad = image(x, "the input of pooling");
  if (bad) return bad;
  const g = poolWindow(x.shape, attrs);
  if (g.HO < 1 || g.WO < 1) return `a ${g.KH}x${g.KW} window does not fit a ${g.H}x${g.W} image`;
  return f32([x.shape[0], g.C, g.HO, g.WO], true);
}

function poolReference(x: Shape, attrs: Attrs, input: Float64Array, out: Float64Array, kind: "max" | "mean"): void {
  const g = poolWindow(x, attrs);
  out.fill(kind === "max" ? Number.NEGATIVE_INFINITY : 0);
  for (let plane = 0; plane < x[0] * g.C; plane++) {
    forWindow(g, (xi, yi) => {
      const v = input[plane * g.H * g.W + xi];
      const o = plane * g.HO * g.WO + yi;
      out[o] = kind === "max" ? Math.max(out[o], v) : out[o] + v / (g.KH * g.KW);
    });
  }
}

/** The header of a loop over this thread's planes (image channels): threads share them. */
const eachPlane = (planes: number) => `let plane = from(${planes}, 1), end = to(${planes}, 1); plane < end; plane++`;

/**
 * A loop over every window of this thread's planes, with y0/x0 its top-left
 * corner in the input; a gradient's planes (at `zeroed`, input-sized) are
 * zeroed first.
 */
function planeLoop(planes: number, g: Window, body: string, input: number, zeroed?: number): string {
  return `for (${eachPlane(planes)}) {
    const xp = ${input} + plane * ${g.H * g.W * 4};${zeroed === undefined ? "" : `\n    memory.fill(${zeroed} + plane * ${g.H * g.W * 4}, 0, ${g.H * g.W * 4});`}
    for (let oy = 0; oy < ${g.HO}; oy++) {
      const y0 = oy * ${g.S};
      for (let ox = 0; ox < ${g.WO}; ox++) {
        const x0 = ox * ${g.S};${body}
      }
    }
  }`;
}

/**
 * The groups of four windows a row of 2x2 pools goes in: every whole group,
 * and where WO is not a multiple of four a last group ending at WO that
 * overlaps the one before (its windows computed twice, stored twice, the
 * same values) rather than a scalar tail. Rows narrower than four windows go
 * one window at a time.
 */
function windowGroups(WO: number, group: string, single: string): string {
  if (WO < 4)
    return `for (let ox = 0; ox < ${WO}; ox++) {${single}
      }`;
  return `for (let step = 0; step < ${WO}; step += 4) {
        const ox = min(step, ${WO - 4});${group}
      }`;
}

/**
 * 2x2 max-pooling with stride 2, four outputs at a time: the larger of each
 * two rows, then of each pair of columns (even and odd lanes gathered by
 * shuffles). The maximum of four values does not depend on the order they
 * are compared in, so the result is the scalar loop's.
 */
function maxPool2x2(g: Window, planes: number, input: number, output: number): string {
  const even = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const odd = even.map((lane) => lane + 4);
  return `for (${eachPlane(planes)}) {
    const xp = ${input} + plane * ${g.H * g.W * 4};
    const op = ${output} + plane * ${g.HO * g.WO * 4};
    for (let oy = 0; oy < ${g.HO}; oy++) {
      const r0 = xp + oy * ${2 * g.W * 4};
      const r1 = r0 + ${g.W * 4};
      ${windowGroups(
        g.WO,
        `
        const a = f32x4.max(v128.load(r0 + ox * 8), v128.load(r1 + ox * 8));
        const b = f32x4.max(v128.load(r0 + ox * 8, 16), v128.load(r1 + ox * 8, 16));
        v128.store(op + (oy * ${g.WO} + ox) * 4, f32x4.max(i8x16.shuffle(a, b, ${even.join(", ")}), i8x16.shuffle(a, b, ${odd.join(", ")})));`,
        `
        const top = max(load<f32>(r0 + ox * 8), load<f32>(r0 + ox * 8 + 4));
        store<f32>(op + (oy * ${g.WO} + ox) * 4, max(top, max(load<f32>(r1 + ox * 8), load<f32>(r1 + ox * 8 + 4))));`,
      )}
    }
  }`;
}

/**
 * The gradient of 2x2 max-pooling with stride 2, four windows at a time: each
 * window's gradient goes to its first largest element (in row order, as the
 * scalar loop finds it), and 0 + g is stored as the scalar loop's sum is.
 * Groups of four store all eight inputs of their windows, so a plane the
 * windows cover whole needs no zeroing first. The fused pointwise nodes
 * that follow run on each plane as soon as it is done, while it is in cache.
 */
function maxPoolGrad2x2(g: Window, planes: number, input: number, gy: number, output: number, epilogue: KernelContext["epilogue"]): string {
  const even = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const odd = even.map((lane) => lane + 4);
  const low = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const high = low.map((lane) => lane + 8);
  const spread = (row: string, left: string, right: string) =>
    `v128.store(${row} + ox * 8, f32x4.add(zero, i8x16.shuffle(${left}, ${right}, ${low.join(", ")})));
        v128.store(${row} + ox * 8, f32x4.add(zero, i8x16.shuffle(${left}, ${right}, ${high.join(", ")})), 16);`;
  const covered = g.WO >= 4 && g.H === 2 * g.HO && g.W === 2 * g.WO;
  return `for (${eachPlane(planes)}) {
    const zero = f32x4.splat(0);
    const xp = ${input} + plane * ${g.H * g.W * 4};
    const dp = ${output} + plane * ${g.H * g.W * 4};${
      covered
        ? ""
        : `
    memory.fill(dp, 0, ${g.H * g.W * 4});`
    }
    const gp = ${gy} + plane * ${g.HO * g.WO * 4};
    for (let oy = 0; oy < ${g.HO}; oy++) {
      const r0 = xp + oy * ${2 * g.W * 4};
      const r1 = r0 + ${g.W * 4};
      const d0 = dp + oy * ${2 * g.W * 4};
      const d1 = d0 + ${g.W * 4};
      ${windowGroups(
        g.WO,
        `
        const a = v128.load(r0 + ox * 8);
        const b = v128.load(r0 + ox * 8, 16);
        const c = v128.load(r1 + ox * 8);
        const d = v128.load(r1 + ox * 8, 16);
        const x00 = i8x16.shuffle(a, b, ${even.join(", ")});
        const x01 = i8x16.shuffle(a, b, ${odd.join(", ")});
        const x10 = i8x16.shuffle(c, d, ${even.join(", ")});
        const x11 = i8x16.shuffle(c, d, ${odd.join(", ")});
        const top = f32x4.max(f32x4.max(x00, x01), f32x4.max(x10, x11));
        const m00 = f32x4.eq(x00, top);
        const m01 = v128.andnot(f32x4.eq(x01, top), m00);
        const m10 = v128.andnot(f32x4.eq(x10, top), v128.or(m00, m01));
        const m11 = v128.andnot(f32x4.eq(x11, top), v128.or(v128.or(m00, m01), m10));
        const gv = v128.load(gp + (oy * ${g.WO} + ox) * 4);
        const g00 = v128.and(gv, m00);
        const g01 = v128.and(gv, m01);
        const g10 = v128.and(gv, m10);
        const g11 = v128.and(gv, m11);
        ${spread("d0", "g00", "g01")}
        ${spread("d1", "g10", "g11")}`,
        `
        let best = r0 + ox * 8;
        if (load<f32>(r0 + ox * 8 + 4) > load<f32>(best)) best = r0 + ox * 8 + 4;
        if (load<f32>(r1 + ox * 8) > load<f32>(best)) best = r1 + ox * 8;
        if (load<f32>(r1 + ox * 8 + 4) > load<f32>(best)) best = r1 + ox * 8 + 4;
        const at = dp + (best - xp);
        store<f32>(at, load<f32>(at) + load<f32>(gp + (oy * ${g.WO} + ox) * 4));`,
      )}
    }
    ${epilogue(`plane * ${g.H * g.W}`, g.H * g.W)}
  }`;
}

function poolKernel({ node, ins: [x], at }: Parameters<KernelOp["kernel"]>[0], kind: "max" | "mean"): string {
  const g = poolWindow(x.shape, node.attrs);
  if (kind === "max" && g.KH === 2 && g.KW === 2 && g.S === 2) return maxPool2x2(g, x.shape[0] * g.C, at(x), at(node));
  const combine = kind === "max" ? "acc = max(acc, v);" : "acc += v;";
  const result = kind === "max" ? "acc" : `acc * <f32>${1 / (g.KH * g.KW)}`;
  return planeLoop(
    x.shape[0] * g.C,
    g,
    `
        let acc: f32 = ${kind === "max" ? "-Infinity" : "0"};
        for (let i = 0; i < ${g.KH}; i++) {
          for (let j = 0; j < ${g.KW}; j++) {
            const v = load<f32>(xp + ((y0 + i) * ${g.W} + x0 + j) * 4);
            ${combine}
          }
        }
        store<f32>(${at(node)} + (plane * ${g.HO * g.WO} + oy * ${g.WO} + ox) * 4, ${result});`,
    at(x),
  );
}
