// IDX files, plain and gzipped: small files built in memory cover the good
// path and every refusal; the bundled Fashion-MNIST subset is read whole.

import { readFileSync } from "node:fs";
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/runtime/data.ts";
import { readIdx, readIdxPair } from "../../src/runtime/idx.ts";

/** An IDX file: 00 00 type ndims, big-endian u32 dims, then `data`. */
function idx(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  bytes.set(Array.from(data), 4 + 4 * dims.length);
  return bytes;
}
const gz = (bytes: Uint8Array) => gzipSync(bytes, { mtime: 0 });

/** Runs `f` and returns its DataError, failing the test if it throws anything else or nothing. */
function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error("expected a DataError");
}

// Two 2x3 images and their labels.
const pixels = [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255];
const images = { bytes: idx([2, 2, 3], pixels), file: "img.idx" };
const labels = { bytes: idx([2], [1, 0]), file: "lab.idx" };

describe("readIdx", () => {
  it("reads dims and data, plain and gzipped", () => {
    for (const bytes of [idx([2, 2, 3], pixels), gz(idx([2, 2, 3], pixels))]) {
      const { dims, data } = readIdx(bytes, "a.idx");
      expect(dims).toEqual([2, 2, 3]);
      expect(Array.from(data)).toEqual(pixels);
    }
  });

  it("reads big-endian sizes above 255", () => {
    expect(readIdx(idx([300], new Uint8Array(300)), "a.idx").dims).toEqual([300]);
  });

  it("refuses a file that is neither IDX nor gzip, showing the bytes found", () => {
    const e = dataError(() => readIdx(Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0), "x.zip"));
    expect(e.message).toBe("not an IDX or gzip file: expected it to start with 00 00 (IDX) or 1f 8b (gzip), but the file starts with [50 4b 03 04]");
    expect(e.file).toBe("x.zip");
    expect(dataError(() => readIdx(new Uint8Array(0), "empty")).message).toContain("the file starts with []");
    expect(dataError(() => readIdx(gz(Uint8Array.of(1, 2, 3)), "a.gz")).message).toContain("after gunzip, the data starts with [01 02 03]");
  });

  it("refuses element types other than unsigned byte", () => {
    const e = dataError(() => readIdx(idx([1], [0, 0, 0, 0], 0x0d), "f.idx"));
    expect(e.message).toBe("unsupported IDX element type 0x0d (float32); only 0x08 (unsigned byte) is supported");
    expect(dataError(() => readIdx(idx([1], [0], 0x42), "f.idx")).message).toBe("unsupported IDX element type 0x42; only 0x08 (unsigned byte) is supported");
  });

  it("refuses truncated files and extra bytes", () => {
    const full = idx([2, 2, 3], pixels);
    const e = dataError(() => readIdx(full.subarray(0, full.length - 5), "t.idx"));
    expect(e.message).toBe("truncated file: expected 12 bytes of data for dims [2, 2, 3], found 7");
    expect(e.file).toBe("t.idx");
    expect(dataError(() => readIdx(gz(full.subarray(0, full.length - 5)), "t.gz")).message).toBe(
      "truncated file: expected 12 bytes of data for dims [2, 2, 3], found 7",
    );
    expect(dataError(() => readIdx(full.subarray(0, 9), "t.idx")).message).toBe("truncated IDX header: expected 16 bytes for 3 dimension sizes, found 9");
    expect(dataError(() => readIdx(idx([2], [1, 2, 3]), "t.idx")).message).toBe("1 unexpected bytes after the data: expected 2 bytes for dims [2], found 3");
    expect(dataError(() => readIdx(Uint8Array.of(0, 0, 8, 0), "t.idx")).message).toBe("the IDX header gives 0 dimensions; expected at least 1");
  });

  it("refuses corrupt gzip", () => {
    const packed = gz(idx([2, 2, 3], pixels));
    const e = dataError(() => readIdx(packed.subarray(0, 12), "c.gz"));
    expect(e.message).toMatch(/^corrupt gzip data \(.+\); the file may be truncated or damaged, try downloading it again$/);
    expect(e.file).toBe("c.gz");
    const damaged = packed.slice();
    damaged[10] ^= 0xff;
    damaged[11] ^= 0xff;
    expect(dataError(() => readIdx(damaged, "c.gz")).message).toMatch(/^corrupt gzip data/);
  });
});

describe("readIdxPair", () => {
  it("scales pixels to [0, 1] and reads labels", () => {
    const pair = readIdxPair(images, labels, [2, 3], 2);
    expect(pair.count).toBe(2);
    expect(Array.from(pair.images)).toEqual(pixels.map((p) => Math.fround(p / 255)));
    expect(pair.images[5]).toBe(1);
    expect(Array.from(pair.labels)).toEqual([1, 0]);
  });

  it("accepts [H, W] files for a one-channel [1, H, W] input", () => {
    expect(readIdxPair(images, labels, [1, 2, 3], 2).images.length).toBe(12);
  });

  it("takes [H, W] images for a flat [H * W] input, row by row", () => {
    const pair = readIdxPair(images, labels, [6], 2);
    expect(pair.images.length).toBe(12);
  });

  it("refuses images whose shape is not the model's input", () => {
    for (const shape of [[1, 32, 32], [5], [3, 2], [2, 2, 3]]) {
      const e = dataError(() => readIdxPair(images, labels, shape, 2));
      expect(e.message).toBe(`images are 2x3 but the model's input is [${shape.join(", ")}]`);
      expect(e.file).toBe("img.idx");
    }
  });

  it("refuses a label file that is not 1-D or has another count", () => {
    const e = dataError(() => readIdxPair(images, { bytes: idx([2, 1], [1, 0]), file: "lab2.idx" }, [2, 3], 2));
    expect(e.message).toBe("a label file should be 1-D (one label per image), but its shape is [2, 1]");
    expect(e.file).toBe("lab2.idx");
    const count = dataError(() => readIdxPair(images, { bytes: idx([3], [1, 0, 1]), file: "lab3.idx" }, [2, 3], 2));
    expect(count.message).toBe("lab3.idx has 3 labels but img.idx has 2 images; they should be the same");
  });

  it("refuses a label outside the model's classes, naming the record", () => {
    const e = dataError(() => readIdxPair(images, { bytes: idx([2], [1, 7]), file: "lab.idx" }, [2, 3], 2));
    expect(e.message).toBe("label of record 2 is 7, but the model has 2 classes (0..1)");
    expect(e.file).toBe("lab.idx");
  });
});

describe("bundled Fashion-MNIST subset", () => {
  const dir = new URL("../../data/fashion-mnist/", import.meta.url);
  const file = (name: string) => ({ bytes: new Uint8Array(readFileSync(new URL(name, dir))), file: name });

  it.each([
    ["train", 10000, 1000],
    ["t10k", 2000, 200],
  ])("%s: %i images of 28x28, %i of each class", (split, count, perClass) => {
    const pair = readIdxPair(file(`${split}-images-idx3-ubyte.gz`), file(`${split}-labels-idx1-ubyte.gz`), [28, 28], 10);
    expect(pair.count).toBe(count);
    expect(pair.images.length).toBe(count * 28 * 28);
    const perLabel = new Array(10).fill(0);
    for (const y of pair.labels) perLabel[y]++;
    expect(perLabel).toEqual(new Array(10).fill(perClass));
    expect(Math.max(...pair.images.subarray(0, 784))).toBeLessThanOrEqual(1);
  });
});
