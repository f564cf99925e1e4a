// Weight files: "NNCW", format version (u32), header length (u32), a JSON
// header naming the model and each parameter with its shape, then the values
// as little-endian f32 in header order. Reading checks every part and says
// what does not fit; it never returns partial weights.

import type { Manifest } from "./manifest.ts";

const MAGIC = "NNCW";
const VERSION = 1;

export class WeightsError extends Error {}

interface Header {
  model: string;
  params: { name: string; shape: number[] }[];
}

export function encodeWeights(manifest: Manifest, weights: Record<string, Float32Array>): Uint8Array {
  const header: Header = { model: manifest.model, params: manifest.params.map((p) => ({ name: p.name, shape: p.shape })) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const total = manifest.params.reduce((s, p) => s + weights[p.name].length, 0);
  const bytes = new Uint8Array(start + total * 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let at = start;
  for (const p of manifest.params) {
    for (const v of weights[p.name]) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return bytes;
}

export function decodeWeights(bytes: Uint8Array, manifest: Manifest, file: string): Record<string, Float32Array> {
  const fail = (why: string): never => {
    throw new WeightsError(`${file}: ${why}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) fail("not an nnc weights file (it does not start with NNCW)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`format version ${version}; this nnc reads version ${VERSION}`);
  const length = view.getUint32(8, true);
  if (12 + length > bytes.length) fail("the file is truncated (its header runs past the end)");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  } catch {
    return fail("the header is corrupt");
  }
  if (header.model !== manifest.model) fail(`the weights are for model \`${header.model}\`, not \`${manifest.model}\``);
  const expected = manifest.params.map((p) => `${p.name}[${p.shape}]`).join(", ");
  const found = header.params.map((p) => `${p.name}[${p.shape}]`).join(", ");
  if (expected !== found) fail(`the parameters differ from the model's: the file has ${found}; the model has ${expected}`);
  const start = Math.ceil((12 + length) / 4) * 4;
  const total = manifest.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== start + total * 4) fail(`expected ${start + total * 4} bytes, found ${bytes.length} (truncated or corrupt)`);
  const weights: Record<string, Float32Array> = {};
  let at = start;
  for (const p of manifest.params) {
    const values = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++, at += 4) values[i] = view.getFloat32(at, true);
    weights[p.name] = values;
  }
  return weights;
}
