// `npm run size`: how much nnc ships to a browser. The runtime entry (the
// package's "./runtime" export) and the data readers ("./data"), each bundled
// alone by esbuild (minified, ESM, browser), by package, and each
// examples/*.nn compiled to .wasm (with dist/compiler/index.js); raw and
// gzip -9 bytes. Fails if a bundle contains compiler code: the runtime imports
// only types from compiler/, and those must leave no bytes in the bundle.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { compile } from "../dist/compiler/index.js";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

const bytes = (n) => `${n.toLocaleString("en-US")} B`.padStart(12);
const sizes = (data) => `${bytes(data.length)}   gzip ${bytes(gzipSync(data, { level: 9 }).length)}`;

/** The package a bundled file comes from: its node_modules name, or nnc's own folder. */
function origin(path) {
  const match = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  return match ? match[1] : `nnc ${path.split("/").slice(0, -1).join("/")}`;
}

/** Bundles one export of the package alone and prints its size, by package; fails if compiler code got in. */
async function report(name) {
  const entry = fileURLToPath(new URL(pkg.exports[name].default, root));
  const bundle = await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", platform: "browser", write: false, metafile: true });
  const [output] = Object.values(bundle.metafile.outputs);
  const inputs = Object.entries(output.inputs);
  const compilerCode = inputs.filter(([path, input]) => /(^|\/)compiler\//.test(path) && input.bytesInOutput > 0);
  if (compilerCode.length > 0) {
    console.error(`the ${name} bundle contains compiler code: ${compilerCode.map(([path]) => path).join(", ")}`);
    process.exit(1);
  }
  console.log(`nnc${name.slice(1)}: ${pkg.exports[name].default}, esbuild --bundle --minify, ESM, browser`);
  console.log(`  bundle                ${sizes(bundle.outputFiles[0].contents)}`);
  const byOrigin = new Map();
  for (const [path, input] of inputs) byOrigin.set(origin(path), (byOrigin.get(origin(path)) ?? 0) + input.bytesInOutput);
  for (const [origin, size] of [...byOrigin].sort((a, b) => b[1] - a[1])) console.log(`    ${origin.padEnd(20)}${bytes(size)} minified`);
}

await report("./runtime");
await report("./data");

console.log("\nexamples/*.nn compiled to .wasm (Binaryen -O2, SIMD)");
const examples = readdirSync(new URL("examples/", root)).filter((file) => file.endsWith(".nn"));
for (const file of examples.sort()) {
  const result = await compile(readFileSync(new URL(`examples/${file}`, root), "utf8"), { file: `examples/${file}` });
  if (!result.ok) throw new Error(`examples/${file}: ${result.diagnostics[0].message}`);
  console.log(`  ${file.replace(/\.nn$/, ".wasm").padEnd(22)}${sizes(result.compiled.wasm)}`);
}
