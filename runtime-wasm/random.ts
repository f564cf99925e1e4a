// The model's random stream (dropout masks): xorshift32 on a u32 state kept
// in linear memory, so the host can seed it and checkpoints carry it.
// src/runtime and the reference interpreter run the same recurrence.

/** Advances the state at `state` and returns its top 24 bits. */
@inline
export function xorshift24(state: usize): u32 {
  let x = load<u32>(state);
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  store<u32>(state, x);
  return x >> 8;
}
