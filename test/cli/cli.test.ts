// The nnc command as a user runs it: exit codes, files it writes, and
// located errors without stack traces.

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import CRC32 from "crc-32";
import { describe, expect, it, vi } from "vitest";
import { commands } from "../../src/cli/commands.ts";
import { main } from "../../src/cli/main.ts";
import { relaxedSimdSupported } from "../../src/runtime/features.ts";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "nnc-cli-"));

async function nnc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)("node", [join(root, "bin/nnc.js"), ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe("nnc train, eval, predict", () => {
  const report = join(dir, "report.json");
  const weights = join(dir, "perceptron.weights");

  it("train writes a report and weights", async () => {
    const r = await nnc("train", "examples/perceptron.nn", "--report", report, "--save", weights);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("accuracy 100.00%");
    const json = JSON.parse(readFileSync(report, "utf8"));
    expect(json).toMatchObject({ model: "perceptron", epochs: 4, steps: 16, final_loss: 0, metrics: { accuracy: 1 }, params: { "y.w": [2, 1], "y.b": [-1] } });
    expect(json.seconds).toBeGreaterThan(0);
    expect(json.samples_per_second).toBeGreaterThan(0);
  });

  it("eval and predict use the saved weights", async () => {
    const evaluated = await nnc("eval", "examples/perceptron.nn", "--weights", weights);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ loss: 0, accuracy: 1 });
    const predicted = await nnc("predict", "examples/perceptron.nn", "--weights", weights);
    expect(predicted.stdout.trim().split("\n")).toEqual(["0", "0", "1", "1"]);
  });

  it("--relaxed-simd builds with fused multiply-adds, and the model still learns", async () => {
    const r = await nnc("train", "examples/xor.nn", "--relaxed-simd", "--report", report, "--quiet");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(report, "utf8")).metrics.accuracy).toBe(1);
    const [relaxed, plain] = [join(dir, "relaxed.wasm"), join(dir, "plain.wasm")];
    expect((await nnc("compile", "examples/cnn.nn", "--relaxed-simd", "-o", relaxed)).code).toBe(0);
    expect((await nnc("compile", "examples/cnn.nn", "-o", plain)).code).toBe(0);
    // the relaxed build holds f32x4.relaxed_madd (0xfd 0x85 0x02), which this engine takes exactly when it takes relaxed SIMD
    expect(readFileSync(relaxed).includes(Buffer.from([0xfd, 0x85, 0x02]))).toBe(true);
    expect(readFileSync(plain).includes(Buffer.from([0xfd, 0x85, 0x02]))).toBe(false);
    expect(WebAssembly.validate(readFileSync(relaxed))).toBe(relaxedSimdSupported());
  });

  it("--epochs, --batch and --seed override the file", async () => {
    const r = await nnc("train", "examples/xor.nn", "--epochs", "3", "--batch", "3", "--seed", "5", "--report", report, "--quiet");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({ epochs: 3, batch: 3, steps: 6, seed: 5 });
  });
});

describe("threads", () => {
  it("--threads N trains to the same weights as one thread; a big enough step takes every core by default, a small one one", async () => {
    const run = async (...args: string[]) => {
      const [report, weights] = [join(dir, "threads.json"), join(dir, "threads.weights")];
      const r = await nnc("train", ...args, "--epochs", "1", "--report", report, "--save", weights, "--quiet");
      expect(r.code).toBe(0);
      return { threads: JSON.parse(readFileSync(report, "utf8")).threads, weights: readFileSync(weights) };
    };
    const [one, two, chosen] = [await run("examples/mlp.nn", "--threads", "1"), await run("examples/mlp.nn", "--threads", "2"), await run("examples/mlp.nn")];
    expect([one.threads, two.threads, chosen.threads]).toEqual([1, 2, Math.min(availableParallelism(), 16)]);
    expect(two.weights.equals(one.weights)).toBe(true);
    expect((await run("examples/xor.nn")).threads).toBe(1);
    // compile builds for one thread unless told: a module any runtime can run
    const out = join(dir, "threads.wasm");
    expect((await nnc("compile", "examples/mlp.nn", "--threads", "2", "-o", out)).code).toBe(0);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(out)))).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    const refused = await nnc("train", "examples/xor.nn", "--threads", "17");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--threads needs a whole number from 1 to 16, not `17`");
  });
});

describe("pictures and export", () => {
  it("train --plot, eval --confusion (with the CSV's class names), inspect --svg and export write their files", async () => {
    const [plot, weights, confusion, graph, onnx] = ["iris.svg", "iris.weights", "confusion.svg", "xor.svg", "iris.onnx"].map((f) => join(dir, f));
    expect((await nnc("train", "examples/iris.nn", "--epochs", "5", "--plot", plot, "--save", weights, "--quiet")).code).toBe(0);
    expect(readFileSync(plot, "utf8")).toMatch(/^<svg[\s\S]*>loss<[\s\S]*>accuracy<[\s\S]*<\/svg>\s*$/);
    expect((await nnc("eval", "examples/iris.nn", "--weights", weights, "--confusion", confusion)).code).toBe(0);
    expect(readFileSync(confusion, "utf8")).toContain(">versicolor<");
    expect((await nnc("inspect", "examples/xor.nn", "--svg", graph)).code).toBe(0);
    expect(readFileSync(graph, "utf8")).toContain("sigmoid_grad");
    const exported = await nnc("export", "examples/iris.nn", "--weights", weights, "--onnx", onnx);
    expect(exported.stdout).toMatch(/iris\.onnx: \d+ bytes, \d+ ONNX nodes \(opset 17\), symbolic batch/);
    const refused = await nnc("train", "examples/iris.nn", "--plot", join(dir, "iris.png"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--plot writes an SVG picture; give a file name ending in .svg");
  });
});

describe("nnc compile and inspect", () => {
  it("compile writes a .wasm that carries its manifest", async () => {
    const out = join(dir, "xor.wasm");
    const r = await nnc("compile", "examples/xor.nn", "-o", out);
    expect(r.code).toBe(0);
    const module = new WebAssembly.Module(readFileSync(out));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const manifest = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, "nnc.manifest")[0]));
    expect(manifest.params.map((p: { name: string }) => p.name)).toEqual(["h.w", "h.b", "y.w", "y.b"]);
  });

  it("inspect shows the graph, parameter count, FLOPs and memory", async () => {
    const r = await nnc("inspect", "examples/xor.nn");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("%3 = matmul(%0, %2) : f32[B, 4]  # h");
    expect(r.stdout).toMatch(/parameters: 17 {3}FLOPs per step: \d+/);
    const cnn = await nnc("inspect", "examples/cnn.nn");
    const numbers = (pattern: RegExp) => (cnn.stdout.match(pattern) ?? []).slice(1).map(Number);
    const [kernelsBefore, kernelsAfter] = numbers(/kernels per step: (\d+) unfused, (\d+) fused/);
    expect(kernelsAfter).toBeLessThan(kernelsBefore);
    const [movedBefore, movedAfter] = numbers(/bytes moved per step: (\d+) unfused, (\d+) fused/);
    expect(movedAfter).toBeLessThan(movedBefore);
    const [planned, naive] = numbers(/tensors: (\d+) bytes planned \(\d+ unfused, (\d+) with one buffer each\)/);
    expect(planned).toBeGreaterThan(0);
    expect(planned).toBeLessThan(0.7 * naive);
  });
});

describe("mistakes get located messages and exit 1", () => {
  it("a shape error in a .nn file", async () => {
    const file = join(dir, "bad.nn");
    writeFileSync(file, "model bad {\n  input x: [2]\n  input t: [3]\n  y = dense(x, 4)\n  loss mse(y, t)\n}\n");
    const r = await nnc("train", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--> ${file}:5:8`);
    expect(r.stderr).toContain("prediction [B, 4] and target [B, 3] differ");
    noStackTrace(r.stderr);
  });

  it("a bad value in a data file names the file and line", async () => {
    const csv = join(dir, "iris.csv");
    const rows = readFileSync(join(root, "data/iris.csv"), "utf8").split("\n");
    rows[7] = rows[7].replace(/^[^,]+/, "five");
    writeFileSync(csv, rows.join("\n"));
    const r = await nnc("train", "examples/iris.nn", "--data", csv);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${csv}:8: \`five\` in column \`sepal_length\` is not a number\n`);
  });

  it("images that do not fit the model's input", async () => {
    const file = join(dir, "big.nn");
    const images = join(root, "data/fashion-mnist");
    writeFileSync(
      file,
      `model big {\n  input image: [1, 32, 32]\n  input label: class(10)\n  loss softmax_cross_entropy(dense(flatten(image), 10), label)\n  data idx("${images}")\n}\n`,
    );
    const r = await nnc("train", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${images}/train-images-idx3-ubyte.gz: images are 28x28 but the model's input is [1, 32, 32]\n`);
  });

  it("a corrupt weights file", async () => {
    const file = join(dir, "corrupt.weights");
    writeFileSync(file, "NNCW garbage");
    const r = await nnc("eval", "examples/perceptron.nn", "--weights", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*corrupt.weights: /);
    noStackTrace(r.stderr);
  });

  it("a missing file, an unknown command, an unknown option", async () => {
    for (const args of [["train", "nope.nn"], ["fly"], ["train", "examples/xor.nn", "--fast"]]) {
      const r = await nnc(...args);
      expect(r.code, args.join(" ")).toBe(1);
      noStackTrace(r.stderr);
    }
  });
});

describe("help and exit codes", () => {
  it("every command explains itself with --help (exit 0); nnc alone prints the usage of all of them to stderr (exit 1)", async () => {
    const alone = await nnc();
    expect(alone.code).toBe(1);
    for (const name of Object.keys(commands)) {
      const r = await nnc(name, "--help");
      expect(r.code, name).toBe(0);
      const synopsis = r.stdout.split("\n")[0];
      expect(synopsis, name).toMatch(new RegExp(`^nnc ${name} FILE\\.nn`));
      expect(alone.stderr).toContain(synopsis.slice("nnc ".length));
    }
  });

  it("an error that is nnc's own exits 2 and asks for a report", async () => {
    const run = vi.spyOn(commands.compile, "run").mockRejectedValue(new TypeError("x is undefined"));
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((text) => written.push(String(text)) > 0);
    try {
      expect(await main(["compile", "examples/xor.nn"])).toBe(2);
    } finally {
      run.mockRestore();
      write.mockRestore();
    }
    expect(written.join("")).toMatch(/^internal error \(a bug in nnc; please report it with the command and the \.nn file\):\nTypeError: x is undefined/);
  });
});

describe("numerical faults", () => {
  it("stop training, name the step and the layer where NaN begins, and keep the last good weights", async () => {
    const file = join(dir, "nan.nn");
    const saved = join(dir, "nan.weights");
    writeFileSync(
      file,
      `model nan {
  input x: [1]
  input t: [1]
  y = log(dense(x, 1, init: ones, bias_init: ones))
  loss mse(y, t)
  data inline(x: [[-0.5], [-3]], t: [0, 0])
  train { optimizer: sgd(lr: 0.1), batch: 1, shuffle: false }
}
`,
    );
    const r = await nnc("train", file, "--save", saved);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the loss or a gradient became NaN at training step 2; the first values that are not finite appear in `y` (log) at");
    expect(r.stderr).toContain(`nan.nn:4:7. The weights are those before this step.`);
    expect(r.stderr).toContain(`The last good weights are saved in ${saved}.`);
    noStackTrace(r.stderr);
    const weights = readFileSync(saved);
    expect(weights.subarray(0, 4).toString()).toBe("NNCW");
  });

  it("--check-numerics finds an infinity that the loss and the gradients hide", async () => {
    const file = join(dir, "hidden.nn");
    // log(0) = -inf, but relu turns it into 0 and no gradient flows back to the data
    writeFileSync(
      file,
      `model hidden {
  input x: [2]
  input t: [1]
  h = relu(log(x))
  loss mse(dense(h, 1), t)
  data inline(x: [[1, 2], [2, 3], [4, 0]], t: [0, 1, 1])
  train { optimizer: sgd(lr: 0.1), batch: 2, epochs: 2, shuffle: false }
}
`,
    );
    expect((await nnc("train", file, "--quiet")).code).toBe(0);
    const r = await nnc("train", file, "--check-numerics");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("a value became NaN or infinite at training step 2; the first values that are not finite appear in `h` (log) at");
    expect(r.stderr).toContain("hidden.nn:4:12.");
    noStackTrace(r.stderr);
  });
});

describe("checkpoints", () => {
  it("a run killed mid-epoch resumes from its last checkpoint to the same weights as a run never stopped", async () => {
    const args = ["train", "examples/cnn.nn", "--epochs", "1", "--batch", "64", "--quiet"];
    const [full, ck, resumed] = ["full.w", "run.ck", "resumed.w"].map((f) => join(dir, f));
    expect((await nnc(...args, "--save", full)).code).toBe(0);

    const run = spawn("node", [join(root, "bin/nnc.js"), ...args, "--checkpoint", ck, "--every", "20"], { cwd: root, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => run.on("exit", (_, signal) => resolve(signal)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(ck) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // while the run goes on writing checkpoints, every read finds a whole one: its checksum holds
    for (let read = 0; read < 25; read++) {
      const bytes = readFileSync(ck);
      expect(bytes.readInt32LE(bytes.length - 4)).toBe(CRC32.buf(bytes.subarray(0, -4)));
      await new Promise((r) => setTimeout(r, 20));
    }
    run.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const r = await nnc(...args, "--resume", ck, "--save", resumed);
    expect(r.stderr).toBe("");
    expect(readFileSync(resumed).equals(readFileSync(full))).toBe(true);
  });

  it("a truncated checkpoint, or one from another model or another version of it, is refused, naming it", async () => {
    const ck = join(dir, "xor.ck");
    expect((await nnc("train", "examples/xor.nn", "--epochs", "3", "--checkpoint", ck, "--quiet")).code).toBe(0);
    const bytes = readFileSync(ck);
    writeFileSync(ck, bytes.subarray(0, bytes.length - 8));
    const truncated = await nnc("train", "examples/xor.nn", "--resume", ck);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/^error: .*xor\.ck: its contents do not match their checksum \(the file is truncated or corrupt\)/);
    writeFileSync(ck, bytes);
    // refused, it writes nothing, not even the checkpoint it was asked to keep
    const other = await nnc("train", "examples/sine.nn", "--resume", ck, "--checkpoint", ck, "--save", join(dir, "sine.w"));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("xor.ck: it is for model `xor`, not `sine`");
    expect(readFileSync(ck).equals(bytes)).toBe(true);
    expect(existsSync(join(dir, "sine.w"))).toBe(false);
    const rebatched = await nnc("train", "examples/xor.nn", "--resume", ck, "--batch", "2");
    expect(rebatched.code).toBe(1);
    expect(rebatched.stderr).toContain("xor.ck: it was written by another version of model `xor`");
  });
});
