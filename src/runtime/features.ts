// What the WebAssembly engine running us accepts beyond plain SIMD, tested by
// validating the smallest module that uses it.

// (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))
const vector = [0xfd, 0x0c, ...new Array(16).fill(0)];
const body = [0x00, ...vector, ...vector, ...vector, 0xfd, 0x85, 0x02, 0x0b];
const relaxedModule = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // one type: () -> v128
  ...[0x03, 0x02, 0x01, 0x00], // one function of that type
  ...[0x0a, body.length + 2, 0x01, body.length, ...body], // its code
]);

/** Whether this engine compiles relaxed SIMD (Chromium and Deno do; Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(relaxedModule);
}
