// IDX files (the MNIST format), plain or gzipped, into model inputs.
//   magic: 00 00 TYPE NDIMS, then NDIMS big-endian u32 sizes, then the data.
// Only TYPE 0x08 (unsigned byte) is read, which covers (Fashion-)MNIST.
// Runtime-neutral: the caller supplies the bytes; gunzip is fflate (pure JS).

import { gunzipSync } from "fflate";
import { DataError } from "./data.ts";

export interface Idx {
  /** Sizes, outermost first: [count, 28, 28] for an image file, [count] for labels. */
  dims: number[];
  /** The elements in row-major order; a view into the (gunzipped) bytes. */
  data: Uint8Array;
}

export interface IdxFile {
  bytes: Uint8Array;
  /** The name used in error messages. */
  file: string;
}

// IDX element type codes, for naming the one found.
const typeNames = new Map([
  [0x08, "unsigned byte"],
  [0x09, "signed byte"],
  [0x0b, "int16"],
  [0x0c, "int32"],
  [0x0d, "float32"],
  [0x0e, "float64"],
]);

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

/** Parses an IDX file of unsigned bytes, gunzipping it first when it starts with the gzip magic 1f 8b. */
export function readIdx(bytes: Uint8Array, file: string): Idx {
  const fail = (message: string) => new DataError(message, undefined, file);
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw fail(`corrupt gzip data (${(e as Error).message}); the file may be truncated or damaged, try downloading it again`);
    }
  }
  const what = gzipped ? "after gunzip, the data starts" : "the file starts";
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw fail(`not an IDX or gzip file: expected it to start with 00 00 (IDX) or 1f 8b (gzip), but ${what} with [${hex(bytes.subarray(0, 4))}]`);
  const type = bytes[2];
  if (type !== 0x08) {
    const name = typeNames.has(type) ? ` (${typeNames.get(type)})` : "";
    throw fail(`unsupported IDX element type 0x${hex(bytes.subarray(2, 3))}${name}; only 0x08 (unsigned byte) is supported`);
  }
  const ndims = bytes[3];
  if (ndims === 0) throw fail("the IDX header gives 0 dimensions; expected at least 1");
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw fail(`truncated IDX header: expected ${header} bytes for ${ndims} dimension sizes, found ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - header;
  if (found < expected) throw fail(`truncated file: expected ${expected} bytes of data for dims [${dims.join(", ")}], found ${found}`);
  if (found > expected)
    throw fail(`${found - expected} unexpected bytes after the data: expected ${expected} bytes for dims [${dims.join(", ")}], found ${found}`);
  return { dims, data: bytes.subarray(header) };
}

/**
 * Reads an image file [count, ...shape] and its label file [count] as model
 * columns: pixels scaled to [0, 1], labels as class numbers below `classes`.
 * `expectedShape` is the model's per-sample input shape; [1, H, W] (one
 * channel) also accepts an [H, W] image file, and a flat [H * W] input takes
 * the images row by row (as an MLP does).
 */
export function readIdxPair(
  images: IdxFile,
  labels: IdxFile,
  expectedShape: number[],
  classes: number,
): { count: number; images: Float32Array; labels: Int32Array } {
  const img = readIdx(images.bytes, images.file);
  const lab = readIdx(labels.bytes, labels.file);
  const [count, ...shape] = img.dims;
  const model = expectedShape[0] === 1 && expectedShape.length === shape.length + 1 ? expectedShape.slice(1) : expectedShape;
  const flat = model.length === 1 && model[0] === shape.reduce((a, b) => a * b, 1);
  if (!flat && (model.length !== shape.length || model.some((d, i) => d !== shape[i]))) {
    const each = shape.length ? shape.join("x") : "single values";
    throw new DataError(`images are ${each} but the model's input is [${expectedShape.join(", ")}]`, undefined, images.file);
  }
  if (lab.dims.length !== 1)
    throw new DataError(`a label file should be 1-D (one label per image), but its shape is [${lab.dims.join(", ")}]`, undefined, labels.file);
  if (lab.dims[0] !== count)
    throw new DataError(`${labels.file} has ${lab.dims[0]} labels but ${images.file} has ${count} images; they should be the same`, undefined, undefined);
  const ys = Int32Array.from(lab.data);
  const bad = ys.findIndex((y) => y >= classes);
  if (bad >= 0)
    throw new DataError(`label of record ${bad + 1} is ${ys[bad]}, but the model has ${classes} classes (0..${classes - 1})`, undefined, labels.file);
  const xs = Float32Array.from(img.data, (p) => p / 255);
  return { count, images: xs, labels: ys };
}
