// The model's random stream on the host side: the same xorshift32 recurrence
// as runtime-wasm/random.ts, for the reference interpreter and for seeding.

/** A nonzero 32-bit starting state derived from a seed (splitmix32 finaliser). */
export function streamState(seed: number): number {
  let z = (seed + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0 || 1;
}

/** Advances a state; returns [next state, its top 24 bits]. */
export function xorshift24(state: number): [number, number] {
  let x = state >>> 0;
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  return [x, x >>> 8];
}
