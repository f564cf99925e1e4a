// Op table entries for sequences and attention: token embedding, sinusoidal
// positions, batched matrix products, axis permutation, layer normalisation,
// attention masks and the sequence cross-entropy; each with its gradient ops.
// Merged into the table in ops.ts. Shapes: tokens [B, S] (i32), features
// [B, S, d], attention scores [B, heads, S, S].

import { formatShape, type Node, type Shape, size } from "./graph.ts";
import { f32, type KernelOp, lanesFor, type Typed } from "./ops.ts";

export type SequenceOp =
  | "embedding"
  | "embedding_grad"
  | "sinusoid"
  | "bmm"
  | "transpose"
  | "layernorm"
  | "layernorm_grad_x"
  | "layernorm_grad_gamma"
  | "causal_mask"
  | "key_mask"
  | "label_ce"
  | "label_ce_grad"
  | "mean_axis"
  | "mean_axis_grad";

/** Masked attention scores get this instead of -infinity, so a fully masked row stays finite. */
export const MASKED = -1e9;

const last = (s: Shape) => s[s.length - 1];
const lead = (s: Shape) => size(s.slice(0, -1));

/** [M, K] of one matrix of a batch of them: the last two axes, or their transpose. */
function mat(s: Shape, transposed?: boolean): [number, number] {
  const [r, c] = s.slice(-2);
  return transposed ? [c, r] : [r, c];
}

/** Row-major strides of a shape. */
function strides(s: Shape): number[] {
  const out = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) out[i] = out[i + 1] * s[i + 1];
  return out;
}

/** Statistics of one row for layer normalisation: mean and 1 / sqrt(variance + eps). */
function rowStats(x: Float64Array, eps: number): [number, number] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return [mean, 1 / Math.sqrt(variance + eps)];
}
/** The same in AssemblyScript over the row at `p` of width w: defines mean and rstd. */
const rowStatsAS = (p: string, w: number, eps: number) => `let mean: f32 = 0;
    for (let j = 0; j < ${w * 4}; j += 4) mean += load<f32>(${p} + j);
    mean /= <f32>${w};
    let variance: f32 = 0;
    for (let j = 0; j < ${w * 4}; j += 4) { const d = load<f32>(${p} + j) - mean; variance += d * d; }
    const rstd = <f32>1 / Mathf.sqrt(variance / <f32>${w} + <f32>${eps});`;

/** Calls visit(row, q, k) for every masked entry of scores [..., Sq, Sk]. */
function forMasked(scores: Shape, masked: (row: number, q: number, k: number) => boolean, visit: (i: number) => void): void {
  const [sq, sk] = scores.slice(-2);
  for (let r = 0; r < size(scores) / (sq * sk); r++) {
    for (let q = 0; q < sq; q++) for (let k = 0; k < sk; k++) if (masked(r, q, k)) visit((r * sq + q) * sk + k);
  }
}

export const sequenceOps: Record<SequenceOp, KernelOp> = {
  // the mean over one axis, which disappears: [B, S, d] -> [B, d] for axis 1 (pooling tokens)
  mean_axis: {
    fusion: "reduction",
    arity: 1,
    shape([x], attrs) {
      const axis = attrs.axis ?? -1;
      if (!(axis >= 1 && axis < x.shape.length)) return `axis ${axis} is not one of the axes 1..${x.shape.length - 1} of ${formatShape(x)}`;
      return f32(
        x.shape.filter((_, i) => i !== axis),
        x.batched,
      );
    },
    grad: (b, node, gy) => [b.op("mean_axis_grad", [gy], { axis: node.attrs.axis, to: b.node(node.inputs[0]).shape })],
    reference(ins, out, { node, ins: [x] }) {
      const [outer, k, inner] = around(x.shape, node.attrs.axis ?? 1);
      out.fill(0);
      for (let o = 0; o < outer; o++) for (let a = 0; a < k; a++) for (let i = 0; i < inner; i++) out[o * inner + i] += ins[0][(o * k + a) * inner + i] / k;
    },
    kernel({ node, ins: [x], at }) {
      const [outer, k, inner] = around(x.shape, node.attrs.axis ?? 1);
      return `for (let o = 0; o < ${outer}; o++) {
    for (let i = 0; i < ${inner}; i++) {
      let s: f32 = 0;
      for (let a = 0; a < ${k}; a++) s += load<f32>(${at(x)} + ((o * ${k} + a) * ${inner} + i) * 4);
      store<f32>(${at(node)} + (o * ${inner} + i) * 4, s / <f32>${k});
    }
  }`;
    },
  },
  // each input position gets gy / (the axis's size)
  mean_axis_grad: {
    fusion: "broadcast",
    arity: 1,
    shape: ([gy], attrs) => f32(attrs.to ?? [], gy.batched),
    reference(ins, out, { node }) {
      const [outer, k, inner] = around(node.shape, node.attrs.axis ?? 1);
      for (let o = 0; o < outer; o++) for (let a = 0; a < k; a++) for (let i = 0; i < inner; i++) out[(o * k + a) * inner + i] = ins[0][o * inner + i] / k;
    },
    kernel({ node, ins: [gy], at }) {
      const [outer, k, inner] = around(node.shape, node.attrs.axis ?? 1);
      return `for (let o = 0; o < ${outer}; o++) {
    for (let a = 0; a < ${k}; a++) {
      for (let i = 0; i < ${inner}; i++) store<f32>(${at(node)} + ((o * ${k} + a) * ${inner} + i) * 4, load<f32>(${at(gy)} + (o * ${inner} + i) * 4) / <f32>${k});
    }
  }`;
    },
  },

  // tokens [B, S] (i32), table [V, d] -> [B, S, d]: row t of the table for each token t
  embedding: {
    fusion: "injective",
    arity: 2,
    shape([tokens, table]) {
      if (tokens.dtype !== "i32") return `embedding takes token ids (an input of tokens(...)), got a float tensor ${formatShape(tokens)}`;
      return f32([...tokens.shape, last(table.shape)], tokens.batched);
    },
    grad: (b, node, gy) => [null, b.op("embedding_grad", [node.inputs[0], gy], { to: b.node(node.inputs[1]).shape })],
    reference(ins, out, { node }) {
      const d = last(node.shape);
      for (let i = 0; i < ins[0].length; i++) out.set(ins[1].subarray(ins[0][i] * d, (ins[0][i] + 1) * d), i * d);
    },
    kernel({ node, ins: [tokens, table], at }) {
      const d = last(node.shape);
      return `for (let i = 0; i < ${size(tokens.shape)}; i++) memory.copy(${at(node)} + i * ${d * 4}, ${at(table)} + load<i32>(${at(tokens)} + i * 4) * ${d * 4}, ${d * 4});`;
    },
  },
  // the table's gradient: each position's gradient row added to its token's row (rows < n)
  embedding_grad: {
    fusion: "reduction",
    arity: 2,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    reference(ins, out, { node, ins: [tokens], n }) {
      const d = last(node.shape);
      const count = (n * size(tokens.shape)) / tokens.shape[0];
      out.fill(0);
      for (let i = 0; i < count; i++) for (let j = 0; j < d; j++) out[ins[0][i] * d + j] += ins[1][i * d + j];
    },
    kernel({ node, ins: [tokens, gy], at }) {
      const d = last(node.shape);
      return `memory.fill(${at(node)}, 0, ${size(node.shape) * 4});
  for (let i = 0; i < n * ${size(tokens.shape) / tokens.shape[0]}; i++) {
    const row = ${at(node)} + load<i32>(${at(tokens)} + i * 4) * ${d * 4};
    for (let j = 0; j < ${d * 4}; j += 4) store<f32>(row + j, load<f32>(row + j) + load<f32>(${at(gy)} + i * ${d * 4} + j));
  }`;
    },
  },
  // [S, d]: sin(s / 10000^(2i/d)) at even features 2i, cos at odd ones (Vaswani et al. 2017)
  sinusoid: {
    fusion: "elementwise",
    arity: 0,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    reference(_, out, { node }) {
      const [steps, d] = node.shape;
      for (let s = 0; s < steps; s++) {
        for (let i = 0; i < d; i++) {
          const angle = s * Math.exp((-(i - (i % 2)) / d) * Math.log(10000));
          out[s * d + i] = i % 2 ? Math.cos(angle) : Math.sin(angle);
        }
      }
    },
    kernel({ node, at }) {
      const [steps, d] = node.shape;
      return `for (let s = 0; s < ${steps}; s++) {
    for (let i = 0; i < ${d}; i++) {
      const angle = <f64>s * Math.exp(-<f64>(i - (i & 1)) / ${d}.0 * Math.log(10000.0));
      store<f32>(${at(node)} + (s * ${d} + i) * 4, <f32>((i & 1) ? Math.cos(angle) : Math.sin(angle)));
    }
  }`;
    },
  },

  // a batch of products: [..., M, K] x [..., K, N] -> [..., M, N]; ta/tb transpose each matrix
  bmm: {
    fusion: "output-fusable",
    arity: 2,
    shape([a, b], attrs): Typed | string {
      const same = a.shape.length === b.shape.length && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
      if (a.shape.length < 3 || !same) return `batched products need matching leading axes, got ${formatShape(a)} and ${formatShape(b)}`;
      const [m, ka] = mat(a.shape, attrs.ta);
      const [kb, n] = mat(b.shape, attrs.tb);
      if (ka !== kb) return `${formatShape(a)} times ${formatShape(b)}: inner sizes ${ka} and ${kb} differ`;
      return f32([...a.shape.slice(0, -2), m, n], a.batched);
    },
    flops: (node, [a]) => 2 * size(node.shape) * mat(a.shape, node.attrs.ta)[1],
    grad(g, node, gy) {
      const [a, b] = node.inputs;
      const { ta, tb } = node.attrs;
      if (ta && tb) throw new Error("internal: bmm with both operands transposed has no gradient rule");
      // C = A B: dA = gy B^T, dB = A^T gy; C = A B^T: dA = gy B, dB = gy^T A; C = A^T B: dA = B gy^T, dB = A gy
      if (tb) return [g.op("bmm", [gy, b]), g.op("bmm", [gy, a], { ta: true })];
      if (ta) return [g.op("bmm", [b, gy], { tb: true }), g.op("bmm", [a, gy])];
      return [g.op("bmm", [gy, b], { tb: true }), g.op("bmm", [a, gy], { ta: true })];
    },
    reference(ins, out, { node, ins: [a, b] }) {
      const [m, k] = mat(a.shape, node.attrs.ta);
      const n = mat(b.shape, node.attrs.tb)[1];
      const [sa, sb] = [size(a.shape.slice(-2)), size(b.shape.slice(-2))];
      for (let g = 0; g < size(node.shape) / (m * n); g++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) {
              const av = ins[0][g * sa + (node.attrs.ta ? p * m + i : i * k + p)];
              s += av * ins[1][g * sb + (node.attrs.tb ? j * k + p : p * n + j)];
            }
            out[(g * m + i) * n + j] = s;
          }
        }
      }
    },
    kernel({ node, ins: [a, b], at }) {
      const [m, k] = mat(a.shape, node.attrs.ta);
      const n = mat(b.shape, node.attrs.tb)[1];
      const variant = node.attrs.ta ? "gemm_tn" : node.attrs.tb ? "gemm_nt" : "gemm_nn";
      return `for (let g = 0; g < ${size(node.shape) / (m * n)}; g++) {
    ${variant}(${at(a)} + g * ${m * k * 4}, ${at(b)} + g * ${k * n * 4}, ${at(node)} + g * ${m * n * 4}, ${m}, ${n}, ${k}, false);
  }`;
    },
  },

  // out[i0, i1, ...] = x[...] with axis k of the result being axis perm[k] of x
  transpose: {
    fusion: "injective",
    arity: 1,
    shape([x], attrs) {
      const perm = attrs.perm ?? [];
      if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i))
        return `[${perm}] is not an order of the ${x.shape.length} axes of ${formatShape(x)}`;
      return f32(
        perm.map((p) => x.shape[p]),
        x.batched && perm[0] === 0,
      );
    },
    grad: (b, node, gy) => {
      const perm = node.attrs.perm ?? [];
      return [b.op("transpose", [gy], { perm: perm.map((_, i) => perm.indexOf(i)) })];
    },
    reference(ins, out, { node, ins: [x] }) {
      const perm = node.attrs.perm ?? [];
      const from = strides(x.shape);
      const to = strides(node.shape);
      for (let o = 0; o < out.length; o++) {
        let i = 0;
        for (let axis = 0; axis < perm.length; axis++) i += (Math.floor(o / to[axis]) % node.shape[axis]) * from[perm[axis]];
        out[o] = ins[0][i];
      }
    },
    kernel({ node, ins: [x], at }) {
      const perm = node.attrs.perm ?? [];
      const from = strides(x.shape);
      const loops = node.shape.map((d, axis) => `for (let i${axis} = 0; i${axis} < ${d}; i${axis}++)`).join(" ");
      const source = perm.map((p, axis) => `i${axis} * ${from[p]}`).join(" + ");
      return `{
    let o = ${at(node)};
    ${loops} {
      store<f32>(o, load<f32>(${at(x)} + (${source}) * 4));
      o += 4;
    }
  }`;
    },
  },

  // over the last axis: (x - mean) / sqrt(variance + eps) * gamma + beta (Ba et al. 2016)
  layernorm: {
    fusion: "reduction",
    arity: 3,
    shape([x, gamma, beta]) {
      const d = last(x.shape);
      if (gamma.shape.join() !== `${d}` || beta.shape.join() !== `${d}`) return `gain ${formatShape(gamma)} and bias ${formatShape(beta)} must both be [${d}]`;
      return f32(x.shape, x.batched);
    },
    grad: (b, node, gy) => {
      const [x, gamma] = node.inputs;
      const d = [last(b.node(x).shape)];
      return [
        b.op("layernorm_grad_x", [x, gamma, gy], node.attrs),
        b.op("layernorm_grad_gamma", [x, gy], { ...node.attrs, to: d }),
        b.op("sum_leading", [gy], { to: d }),
      ];
    },
    reference(ins, out, { node }) {
      const d = last(node.shape);
      const [x, gamma, beta] = ins;
      for (let r = 0; r < out.length / d; r++) {
        const row = x.subarray(r * d, (r + 1) * d);
        const [mean, rstd] = rowStats(row, node.attrs.eps ?? 1e-5);
        for (let j = 0; j < d; j++) out[r * d + j] = (row[j] - mean) * rstd * gamma[j] + beta[j];
      }
    },
    kernel({ node, ins: [x, gamma, beta], at }) {
      const d = last(node.shape);
      const v = lanesFor(d);
      const xhat = v.mul(v.sub(v.load("p + j"), v.splat("mean")), v.splat("rstd"));
      return `for (let r = 0; r < ${lead(node.shape)}; r++) {
    const p = ${at(x)} + r * ${d * 4};
    ${rowStatsAS("p", d, node.attrs.eps ?? 1e-5)}
    for (let j = 0; j < ${d * 4}; j += ${v.step}) {
      ${v.store(`${at(node)} + r * ${d * 4} + j`, v.add(v.mul(xhat, v.load(`${at(gamma)} + j`)), v.load(`${at(beta)} + j`)))}
    }
  }`;
    },
  },
  // dx = rstd (g - mean(g) - xhat mean(g xhat)), g = gy * gamma, xhat recomputed from x
  layernorm_grad_x: {
    fusion: "reduction",
    arity: 3,
    shape: ([x]) => f32(x.shape, x.batched),
    reference(ins, out, { node }) {
      const d = last(node.shape);
      const [x, gamma, gy] = ins;
      for (let r = 0; r < out.length / d; r++) {
        const row = x.subarray(r * d, (r + 1) * d);
        const [mean, rstd] = rowStats(row, node.attrs.eps ?? 1e-5);
        const g = Float64Array.from({ length: d }, (_, j) => gy[r * d + j] * gamma[j]);
        const xhat = row.map((v) => (v - mean) * rstd);
        const mg = g.reduce((a, b) => a + b, 0) / d;
        const mgx = g.reduce((a, v, j) => a + v * xhat[j], 0) / d;
        for (let j = 0; j < d; j++) out[r * d + j] = rstd * (g[j] - mg - xhat[j] * mgx);
      }
    },
    kernel({ node, ins: [x, gamma, gy], at }) {
      const d = last(node.shape);
      const v = lanesFor(d);
      return `for (let r = 0; r < ${lead(node.shape)}; r++) {
    const p = ${at(x)} + r * ${d * 4};
    const q = ${at(gy)} + r * ${d * 4};
    ${rowStatsAS("p", d, node.attrs.eps ?? 1e-5)}
    let mg: f32 = 0;
    let mgx: f32 = 0;
    for (let j = 0; j < ${d * 4}; j += 4) {
      const g = load<f32>(q + j) * load<f32>(${at(gamma)} + j);
      mg += g;
      mgx += g * (load<f32>(p + j) - mean) * rstd;
    }
    mg /= <f32>${d};
    mgx /= <f32>${d};
    for (let j = 0; j < ${d * 4}; j += ${v.step}) {
      const g = ${v.mul(v.load("q + j"), v.load(`${at(gamma)} + j`))};
      ${v.store(`${at(node)} + r * ${d * 4} + j`, v.mul(v.splat("rstd"), v.sub(v.sub("g", v.splat("mg")), v.mul(v.mul(v.sub(v.load("p + j"), v.splat("mean")), v.splat("rstd")), v.splat("mgx")))))}
    }
  }`;
    },
  },
  // dgamma = sum over rows of gy * xhat
  layernorm_grad_gamma: {
    fusion: "reduction",
    arity: 2,
    shape: (_, attrs) => f32(attrs.to ?? [], false),
    reference(ins, out, { node, ins: [x] }) {
      const d = last(x.shape);
      out.fill(0);
      for (let r = 0; r < ins[0].length / d; r++) {
        const row = ins[0].subarray(r * d, (r + 1) * d);
        const [mean, rstd] = rowStats(row, node.attrs.eps ?? 1e-5);
        for (let j = 0; j < d; j++) out[j] += ins[1][r * d + j] * (row[j] - mean) * rstd;
      }
    },
    kernel({ node, ins: [x, gy], at }) {
      const d = last(x.shape);
      const v = lanesFor(d);
      const term = v.mul(v.mul(v.load(`${at(gy)} + r * ${d * 4} + j`), v.sub(v.load("p + j"), v.splat("mean"))), v.splat("rstd"));
      return `memory.fill(${at(node)}, 0, ${d * 4});
  for (let r = 0; r < ${lead(x.shape)}; r++) {
    const p = ${at(x)} + r * ${d * 4};
    ${rowStatsAS("p", d, node.attrs.eps ?? 1e-5)}
    for (let j = 0; j < ${d * 4}; j += ${v.step}) {
      ${v.store(`${at(node)} + j`, v.add(v.load(`${at(node)} + j`), term))}
    }
  }`;
    },
  },

  // scores [..., S, S] with key k > query q set to `fill` (MASKED forward, 0 for the gradient)
  causal_mask: {
    fusion: "elementwise",
    arity: 1,
    shape([x]) {
      const [sq, sk] = x.shape.slice(-2);
      return x.shape.length >= 2 && sq === sk ? f32(x.shape, x.batched) : `a causal mask needs square scores [..., S, S], got ${formatShape(x)}`;
    },
    grad: (b, _node, gy) => [b.op("causal_mask", [gy], { fill: 0 })],
    reference(ins, out, { node }) {
      out.set(ins[0]);
      forMasked(
        node.shape,
        (_, q, k) => k > q,
        (i) => {
          out[i] = node.attrs.fill ?? MASKED;
        },
      );
    },
    kernel({ node, ins: [x], at }) {
      const s = last(node.shape);
      return `for (let r = 0; r < ${size(node.shape) / (s * s)}; r++) {
    for (let q = 0; q < ${s}; q++) {
      for (let k = 0; k < ${s}; k++) {
        const i = ((r * ${s} + q) * ${s} + k) * 4;
        store<f32>(${at(node)} + i, k > q ? <f32>${node.attrs.fill ?? MASKED} : load<f32>(${at(x)} + i));
      }
    }
  }`;
    },
  },
  // scores [B, heads, Sq, Sk] with keys whose token is `pad` set to `fill`; tokens [B, Sk]
  key_mask: {
    fusion: "broadcast",
    arity: 2,
    shape([x, tokens]) {
      const ok = x.shape.length === 4 && tokens.dtype === "i32" && tokens.shape.length === 2 && tokens.shape[1] === last(x.shape);
      return ok
        ? f32(x.shape, x.batched)
        : `a padding mask needs scores [B, heads, S, S] and the keys' tokens [B, S], got ${formatShape(x)} and ${formatShape(tokens)}`;
    },
    grad: (b, node, gy) => [b.op("key_mask", [gy, node.inputs[1]], { ...node.attrs, fill: 0 }), null],
    reference(ins, out, { node }) {
      const [heads, sk] = [node.shape[1], last(node.shape)];
      out.set(ins[0]);
      forMasked(
        node.shape,
        (r, _, k) => ins[1][Math.floor(r / heads) * sk + k] === (node.attrs.pad ?? 0),
        (i) => {
          out[i] = node.attrs.fill ?? MASKED;
        },
      );
    },
    kernel({ node, ins: [x, tokens], at }) {
      const [batch, heads, sq, sk] = node.shape;
      return `for (let b = 0; b < ${batch}; b++) {
    for (let i = 0; i < ${heads * sq}; i++) {
      for (let k = 0; k < ${sk}; k++) {
        const o = ((b * ${heads * sq} + i) * ${sk} + k) * 4;
        const padded = load<i32>(${at(tokens)} + (b * ${sk} + k) * 4) == ${node.attrs.pad ?? 0};
        store<f32>(${at(node)} + o, padded ? <f32>${node.attrs.fill ?? MASKED} : load<f32>(${at(x)} + o));
      }
    }
  }`;
    },
  },

  // logits [B, S, V], labels [B, S] (i32): mean over the positions of rows < n whose label is
  // not `ignore` of -log softmax(z)[label], with labels smoothed by `smoothing` (1 - e on the
  // label, e / V spread over all)
  label_ce: {
    fusion: "reduction",
    arity: 2,
    shape([z, t]): Typed | string {
      const ok = t.dtype === "i32" && z.batched && t.shape.join() === z.shape.slice(0, -1).join();
      return ok
        ? f32([], false)
        : `logits ${formatShape(z)} need labels of shape [${z.shape.slice(0, -1).map((d, i) => (i ? d : "B"))}], got ${formatShape(t)}`;
    },
    grad: (b, node, gy) => [b.op("label_ce_grad", [...node.inputs, gy], node.attrs), null],
    reference(ins, out, ctx) {
      let total = 0;
      const count = forTokens(ins, ctx, (z, label) => {
        total += tokenLoss(z, label, ctx.node.attrs.smoothing ?? 0);
      });
      out[0] = count ? total / count : 0;
    },
    kernel: (k) => sequenceKernel(k, false),
  },
  label_ce_grad: {
    fusion: "reduction",
    arity: 3,
    shape: ([z]) => f32(z.shape, z.batched),
    reference(ins, out, ctx) {
      const [z] = ctx.ins;
      const v = last(z.shape);
      const e = ctx.node.attrs.smoothing ?? 0;
      out.fill(0);
      const rows: [number, Float64Array, number][] = [];
      const count = forTokens(ins, ctx, (row, label, at) => rows.push([at, row, label]));
      for (const [at, row, label] of rows) {
        const max = Math.max(...row);
        const exps = row.map((x) => Math.exp(x - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < v; j++) out[at * v + j] = (ins[2][0] * (exps[j] / sum - ((j === label ? 1 - e : 0) + e / v))) / count;
      }
    },
    kernel: (k) => sequenceKernel(k, true),
  },
};

/** [outer, axis, inner] sizes of a shape split around one axis. */
const around = (s: Shape, axis: number): [number, number, number] => [size(s.slice(0, axis)), s[axis], size(s.slice(axis + 1))];

/** Visits each counted position (rows < n, label not ignored): its logits, label and index; returns the count. */
function forTokens(
  ins: Float64Array[],
  { node, ins: [z], n }: { node: Node; ins: Node[]; n: number },
  visit: (row: Float64Array, label: number, at: number) => void,
): number {
  const v = last(z.shape);
  const positions = (n * lead(z.shape)) / z.shape[0];
  let count = 0;
  for (let i = 0; i < positions; i++) {
    const label = ins[1][i];
    if (label === (node.attrs.ignore ?? -1)) continue;
    count++;
    visit(ins[0].subarray(i * v, (i + 1) * v), label, i);
  }
  return count;
}

function tokenLoss(z: Float64Array, label: number, e: number): number {
  const max = Math.max(...z);
  const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
  const mean = z.reduce((s, x) => s + x, 0) / z.length;
  return lse - (1 - e) * z[label] - e * mean;
}

/** The loss (grad false) or its gradient over the counted positions, in AssemblyScript. */
function sequenceKernel({ node, ins, at }: Parameters<KernelOp["kernel"]>[0], grad: boolean): string {
  const [z, t] = ins;
  const v = last(z.shape);
  const e = node.attrs.smoothing ?? 0;
  const positions = lead(z.shape) / z.shape[0];
  const ignore = node.attrs.ignore ?? -1;
  const perToken = grad
    ? `for (let j = 0; j < ${v}; j++) {
          const target: f32 = (j == label ? <f32>${1 - e} : <f32>0) + <f32>${e / v};
          store<f32>(${at(node)} + (i * ${v} + j) * 4, scale * (Mathf.exp(load<f32>(pz + j * 4) - lse) - target));
        }`
    : `let sum: f32 = 0;
        for (let j = 0; j < ${v}; j++) sum += load<f32>(pz + j * 4);
        total += lse - <f32>${1 - e} * load<f32>(pz + label * 4) - <f32>${e / v} * sum;`;
  return `{
    let count = 0;
    for (let i = 0; i < n * ${positions}; i++) if (load<i32>(${at(t)} + i * 4) != ${ignore}) count++;
    ${grad ? `memory.fill(${at(node)}, 0, ${size(node.shape) * 4});\n    const scale: f32 = count ? load<f32>(${at(ins[2])}) / <f32>count : 0;` : "let total: f32 = 0;"}
    for (let i = 0; i < n * ${positions}; i++) {
      const label = load<i32>(${at(t)} + i * 4);
      if (label == ${ignore}) continue;
      const pz = ${at(z)} + i * ${v * 4};
      let mx = load<f32>(pz);
      for (let j = 1; j < ${v}; j++) mx = max(mx, load<f32>(pz + j * 4));
      let se: f32 = 0;
      for (let j = 0; j < ${v}; j++) se += Mathf.exp(load<f32>(pz + j * 4) - mx);
      const lse = mx + Mathf.log(se);
      ${perToken}
    }
    ${grad ? "" : `store<f32>(${at(node)}, count ? total / <f32>count : 0);`}
  }`;
}
