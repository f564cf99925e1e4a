// The update rules, one entry each: how many state arrays a parameter needs,
// the float64 reference and the AssemblyScript kernel (four lanes at a time).
// g is the parameter's update direction from graph.grads; t counts updates;
// lr is this step's learning rate (the schedule's value, kept in linear memory).
//   sgd:        g += wd w (L2); with momentum: v = mu v + g, w -= lr v; else w -= lr g
//   adam:       m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
//               w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), and w -= lr wd w
//               (decoupled weight decay, AdamW)
//   perceptron: w -= lr g, g being the rule's direction x^T (y - t)

import type { Optimizer } from "./graph.ts";

export interface OptimizerDef<O extends Optimizer> {
  /** Arrays of the parameter's size kept between steps. */
  slots(opt: O): number;
  /** Updates w in place from g; state holds the slots; t is this update's number (from 1). */
  reference(opt: O, w: Float64Array, g: Float64Array, state: Float64Array[], t: number, lr: number): void;
  /** Statements run once per update() before the parameter loops; `t` (f64) and `lr` (v128) are in scope. */
  prologue?(opt: O): string;
  /** The body of a loop over i (byte offset, step 16) updating one parameter; `lr` is in scope. */
  kernel(opt: O, w: number, g: number, state: number[]): string;
}

const splat = (x: number) => `f32x4.splat(<f32>${x})`;
const ld = (at: number) => `v128.load(${at} + i)`;

const sgd: OptimizerDef<Extract<Optimizer, { kind: "sgd" }>> = {
  slots: (o) => (o.momentum ? 1 : 0),
  reference(o, w, g, [v], _t, lr) {
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + o.weightDecay * w[i];
      if (v) {
        v[i] = o.momentum * v[i] + gi;
        w[i] -= lr * v[i];
      } else {
        w[i] -= lr * gi;
      }
    }
  },
  kernel(o, w, g, [v]) {
    const gi = o.weightDecay ? `f32x4.add(${ld(g)}, f32x4.mul(${splat(o.weightDecay)}, ${ld(w)}))` : ld(g);
    if (v === undefined) return `v128.store(${w} + i, f32x4.sub(${ld(w)}, f32x4.mul(lr, ${gi})));`;
    return `const vi = f32x4.add(f32x4.mul(${splat(o.momentum)}, ${ld(v)}), ${gi});
    v128.store(${v} + i, vi);
    v128.store(${w} + i, f32x4.sub(${ld(w)}, f32x4.mul(lr, vi)));`;
  },
};

const adam: OptimizerDef<Extract<Optimizer, { kind: "adam" }>> = {
  slots: () => 2,
  reference(o, w, g, [m, v], t, lr) {
    const c1 = 1 - o.beta1 ** t;
    const c2 = 1 - o.beta2 ** t;
    for (let i = 0; i < w.length; i++) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      w[i] -= lr * o.weightDecay * w[i] + (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + o.eps);
    }
  },
  prologue: (o) => `const c1 = f32x4.splat(<f32>(1.0 - Math.pow(${o.beta1}, t)));
  const c2 = f32x4.splat(<f32>(1.0 - Math.pow(${o.beta2}, t)));`,
  kernel(o, w, g, [m, v]) {
    return `const gi = ${ld(g)};
    const mi = f32x4.add(f32x4.mul(${splat(o.beta1)}, ${ld(m)}), f32x4.mul(${splat(1 - o.beta1)}, gi));
    const vi = f32x4.add(f32x4.mul(${splat(o.beta2)}, ${ld(v)}), f32x4.mul(${splat(1 - o.beta2)}, f32x4.mul(gi, gi)));
    v128.store(${m} + i, mi);
    v128.store(${v} + i, vi);
    const step = f32x4.div(f32x4.mul(lr, f32x4.div(mi, c1)), f32x4.add(f32x4.sqrt(f32x4.div(vi, c2)), ${splat(o.eps)}));
    const wi = ${ld(w)};
    v128.store(${w} + i, f32x4.sub(f32x4.sub(wi, f32x4.mul(f32x4.mul(lr, ${splat(o.weightDecay)}), wi)), step));`;
  },
};

const perceptron: OptimizerDef<Extract<Optimizer, { kind: "perceptron" }>> = {
  slots: () => 0,
  reference(_o, w, g, _state, _t, lr) {
    for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
  },
  kernel: (_o, w, g) => `v128.store(${w} + i, f32x4.sub(${ld(w)}, f32x4.mul(lr, ${ld(g)})));`,
};

export const optimizers = { sgd, adam, perceptron } as const;

/** The entry for an optimizer, typed for its settings. */
export function optimizerDef(opt: Optimizer): OptimizerDef<Optimizer> {
  return optimizers[opt.kind] as OptimizerDef<Optimizer>;
}
