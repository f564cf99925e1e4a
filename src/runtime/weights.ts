// Weight files and checkpoints. Both are: a magic ("NNCW" weights, "NNCK"
// checkpoint), a format version (u32), a header length (u32), a JSON header
// naming the model, its hash and each parameter with its shape, then the
// parameter values as little-endian f32 in header order. A checkpoint adds its place in
// the run to the header and the model's training state (random stream,
// learning rate, update count, optimizer slots) after the values. The last
// four bytes are the CRC-32 of all before them, so a damaged byte anywhere is
// found. Reading checks every part and says what does not fit; it never
// returns a partial result.

import CRC32 from "crc-32";
import type { Manifest } from "./manifest.ts";
import type { Position } from "./model.ts";

const VERSION = 3;

export class WeightsError extends Error {}

interface Header {
  model: string;
  /** The manifest's hash: weights load into any model with the same parameters, a checkpoint resumes only the same model. */
  hash: string;
  params: { name: string; shape: number[] }[];
  /** Checkpoints only. */
  run?: { position: Position; steps: number; seed: number; state: number };
}

export interface Checkpoint {
  weights: Record<string, Float32Array>;
  state: Uint8Array;
  position: Position;
  steps: number;
  seed: number;
}

export function encodeWeights(manifest: Manifest, weights: Record<string, Float32Array>): Uint8Array {
  return pack("NNCW", header(manifest), manifest, weights, new Uint8Array());
}

export function decodeWeights(bytes: Uint8Array, manifest: Manifest, file: string): Record<string, Float32Array> {
  return unpack(bytes, "NNCW", manifest, file).weights;
}

export function encodeCheckpoint(manifest: Manifest, c: Checkpoint): Uint8Array {
  const run = { position: c.position, steps: c.steps, seed: c.seed, state: c.state.length };
  return pack("NNCK", { ...header(manifest), run }, manifest, c.weights, c.state);
}

export function decodeCheckpoint(bytes: Uint8Array, manifest: Manifest, file: string): Checkpoint {
  const { weights, header, rest } = unpack(bytes, "NNCK", manifest, file);
  const run = header.run;
  if (header.hash !== manifest.hash)
    throw new WeightsError(
      `${file}: it was written by another version of model \`${manifest.model}\` (model hash ${header.hash.slice(0, 12)}, now ${manifest.hash.slice(0, 12)}): its layers or training settings have changed since, and a checkpoint resumes only the model that wrote it`,
    );
  if (!run || rest.length !== run.state || run.state !== manifest.trainingState.bytes)
    throw new WeightsError(`${file}: the training state does not fit this model`);
  return { weights, state: rest.slice(), position: run.position, steps: run.steps, seed: run.seed };
}

const header = (manifest: Manifest): Header => ({
  model: manifest.model,
  hash: manifest.hash,
  params: manifest.params.map((p) => ({ name: p.name, shape: p.shape })),
});
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function pack(magic: string, head: Header, manifest: Manifest, weights: Record<string, Float32Array>, tail: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(head));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const values = manifest.params.reduce((s, p) => s + count(p.shape), 0);
  const bytes = new Uint8Array(start + values * 4 + tail.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(magic), 0);
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
  bytes.set(tail, at);
  view.setInt32(bytes.length - 4, CRC32.buf(bytes.subarray(0, -4)), true);
  return bytes;
}

function unpack(
  bytes: Uint8Array,
  magic: string,
  manifest: Manifest,
  file: string,
): { weights: Record<string, Float32Array>; header: Header; rest: Uint8Array } {
  const fail = (why: string): never => {
    throw new WeightsError(`${file}: ${why}`);
  };
  const kind = magic === "NNCW" ? "weights file" : "checkpoint";
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== magic) fail(`not an nnc ${kind} (it does not start with ${magic})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`format version ${version}; this nnc reads version ${VERSION}`);
  // past the checksum, every part is as nnc wrote it
  if (bytes.length < 16 || view.getInt32(bytes.length - 4, true) !== CRC32.buf(bytes.subarray(0, -4)))
    fail("its contents do not match their checksum (the file is truncated or corrupt)");
  const length = view.getUint32(8, true);
  if (12 + length > bytes.length) fail("the file is truncated (its header runs past the end)");
  let head: Header;
  try {
    head = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  } catch {
    return fail("the header is corrupt");
  }
  if (head.model !== manifest.model) fail(`it is for model \`${head.model}\`, not \`${manifest.model}\``);
  const expected = manifest.params.map((p) => `${p.name}[${p.shape}]`).join(", ");
  const found = head.params.map((p) => `${p.name}[${p.shape}]`).join(", ");
  if (expected !== found) fail(`the parameters differ from the model's: the file has ${found}; the model has ${expected}`);
  const start = Math.ceil((12 + length) / 4) * 4;
  const values = manifest.params.reduce((s, p) => s + count(p.shape), 0);
  const size = start + values * 4 + (head.run?.state ?? 0) + 4;
  if (bytes.length !== size) fail(`expected ${size} bytes, found ${bytes.length}`);
  const weights: Record<string, Float32Array> = {};
  let at = start;
  for (const p of manifest.params) {
    const v = new Float32Array(count(p.shape));
    for (let i = 0; i < v.length; i++, at += 4) v[i] = view.getFloat32(at, true);
    weights[p.name] = v;
  }
  return { weights, header: head, rest: bytes.subarray(at, -4) };
}
