// Writes the bundled Fashion-MNIST subset, data/fashion-mnist/, from the full set:
//   node scripts/make-subset.js DIR
// DIR holds the four standard files (train-images-idx3-ubyte.gz, ...). The subset
// keeps the first 1000 training and the first 200 test images of each class, in
// their original order, in the same IDX gzip format. Output is byte-for-byte
// deterministic: fflate at level 9 with gzip mtime 0.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "fflate";

const [source] = process.argv.slice(2);
if (!source) {
  console.error("usage: node scripts/make-subset.js DIR  (DIR holds the full Fashion-MNIST .gz files)");
  process.exit(1);
}
const out = new URL("../data/fashion-mnist/", import.meta.url);
const classes = 10;

/** An unsigned-byte IDX file: dims (big-endian u32 each) and the data after the header. */
function read(name) {
  const bytes = gunzipSync(readFileSync(join(source, name)));
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${name}: not an unsigned-byte IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: bytes[3] }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, data: bytes.subarray(4 + 4 * dims.length) };
}

function write(name, dims, data) {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  bytes.set(data, 4 + 4 * dims.length);
  const gz = gzipSync(bytes, { level: 9, mtime: 0 });
  writeFileSync(new URL(name, out), gz);
  console.log(`${name}: [${dims.join(", ")}], ${gz.length} bytes`);
}

/** Keeps the first `perClass` records of each class, in file order. */
function subset(split, perClass) {
  const images = read(`${split}-images-idx3-ubyte.gz`);
  const labels = read(`${split}-labels-idx1-ubyte.gz`);
  const [count, ...shape] = images.dims;
  const size = shape.reduce((a, b) => a * b, 1); // bytes per image: 28 * 28
  const seen = new Array(classes).fill(0);
  const keep = [];
  for (let i = 0; i < count && keep.length < classes * perClass; i++) {
    const y = labels.data[i];
    if (seen[y] < perClass) {
      seen[y]++;
      keep.push(i);
    }
  }
  if (seen.some((n) => n < perClass)) throw new Error(`${split}: some class has fewer than ${perClass} images (${seen.join(", ")})`);
  const pixels = new Uint8Array(keep.length * size);
  keep.forEach((i, r) => {
    pixels.set(images.data.subarray(i * size, (i + 1) * size), r * size);
  });
  write(`${split}-images-idx3-ubyte.gz`, [keep.length, ...shape], pixels);
  write(
    `${split}-labels-idx1-ubyte.gz`,
    [keep.length],
    Uint8Array.from(keep, (i) => labels.data[i]),
  );
}

mkdirSync(out, { recursive: true });
subset("train", 1000);
subset("t10k", 200);
