// Parameter initialisers. Values are rounded to f32 so that the compiled
// model and the float64 interpreter start from identical weights.

import type { Init } from "../../compiler/ir/graph.ts";
import type { Rng } from "./random.ts";

export function initialValues(init: Init, count: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  const draw = sampler(init, fanIn, fanOut, rng);
  for (let i = 0; i < count; i++) out[i] = draw();
  return out;
}

function sampler(init: Init, fanIn: number, fanOut: number, rng: Rng): () => number {
  switch (init.kind) {
    case "zeros":
      return () => 0;
    case "ones":
      return () => 1;
    case "uniform":
      return () => init.low + (init.high - init.low) * rng.uniform();
    case "normal":
      return () => init.std * rng.normal();
    case "glorot": {
      // Glorot & Bengio 2010: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return () => limit * (2 * rng.uniform() - 1);
    }
    case "he": {
      // He et al. 2015: N(0, 2 / fan_in)
      const std = Math.sqrt(2 / fanIn);
      return () => std * rng.normal();
    }
    default:
      return init satisfies never;
  }
}
