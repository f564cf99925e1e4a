// Fuzz test of the compiler front end with fast-check. For ANY text, compileGraph (parse,
// elaborate, passes) must return within 5 s of CPU time without throwing; `ok: false` must carry a
// diagnostic located inside the text (line >= 1, column >= 1, line <= line count + 1), and
// `ok: true` a graph with a loss node. Inputs come in four families:
//   (a) examples/*.nn and test/diagnostics/*.nn, mutated: truncated, a span deleted or
//       duplicated, characters inserted, two characters swapped, a number made extreme;
//   (b) token soup: keywords, layer names, punctuation, names and numbers, bare or inside a model;
//   (c) random models from a small grammar, to get past the parser into elaboration;
//   (d) deep nesting, long chains, nested `repeat`s, blocks that call blocks.
// Every call runs in a child process (on the build in dist/, which npm test makes first), so that a hang (5 s of the child's CPU time; wall time
// where there is no /proc) or a crash (such as running out of memory) fails the test instead
// of freezing it. Each family runs for FUZZ_MS (default 4000 ms; `FUZZ_MS=60000 npx vitest run
// test/fuzz.test.ts` digs deeper), and the run prints how many inputs it tried. The failures
// found so far are kept as minimal reproducers in `regressions`, checked the same way.

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";

// CPU time of all the child's threads, the collector's included: the largest regression below
// takes 1.2 s of it on a fast machine and 2.4-3.5 s on a slow one
const CALL_LIMIT_MS = 5000;
const FAMILY_LIMIT_MS = Number(process.env.FUZZ_MS ?? 4000);

// ---- running compileGraph in a child process ---------------------------------------------

interface Located {
  line: number;
  column: number;
}
type Outcome =
  | { kind: "ok"; loss: number; lossOp: string | null }
  | { kind: "failed"; diagnostics: { code: string; message: string; span: { start: Located; end: Located } }[] }
  | { kind: "threw"; error: string }
  | { kind: "hang" }
  | { kind: "crashed"; error: string };

// Run by a child `node -e` (CommonJS): loads the compiler as built by `npm run build`
// (npm test builds first) and answers each { id, text } with { id, outcome }.
const childSource = `
const [entry] = process.argv.slice(1);
process.on("disconnect", () => process.exit(0));
import(entry)
  .then(({ compileGraph }) => {
    process.on("message", ({ id, text }) => {
      let outcome;
      try {
        const r = compileGraph(text, { file: "fuzz.nn" });
        outcome = r.ok
          ? { kind: "ok", loss: r.graph.loss, lossOp: r.graph.nodes[r.graph.loss]?.op ?? null }
          : { kind: "failed", diagnostics: r.diagnostics.map((d) => ({ code: d.code, message: d.message, span: d.span })) };
      } catch (e) {
        const where = e instanceof Error ? (e.stack ?? "").split("\\n").slice(1, 4).join("\\n") : "";
        outcome = { kind: "threw", error: (e instanceof Error ? e.name + ": " + e.message : String(e)) + "\\n" + where };
      }
      process.send({ id, outcome });
    });
    process.send({ id: "ready" });
  });
`;

/** CPU time (user + system) that a process has used, from /proc on Linux; null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime and stime, in 1/100 s
  } catch {
    return null;
  }
}

/**
 * One child process, one call at a time. A child process rather than a worker thread, so
 * that running out of memory kills only the child; a call that hangs or kills it gets a
 * fresh child after it.
 */
class Sandbox {
  private child: Promise<ChildProcess> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private stderr = "";
  tried = 0;

  private start(): Promise<ChildProcess> {
    if (this.child) return this.child;
    const entry = new URL("../dist/compiler/index.js", import.meta.url).href;
    const child = spawn(process.execPath, ["--max-old-space-size=1024", "-e", childSource, entry], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    const started = new Promise<ChildProcess>((resolve, reject) => {
      child.once("message", () => resolve(child));
      child.once("exit", (code) => {
        if (this.child === started) this.child = null;
        reject(new Error(`the compiler process exited (code ${code}) before it was ready: ${this.stderr}`));
      });
    });
    this.child = started;
    return started;
  }

  stop(): void {
    void this.child?.then((c) => c.kill("SIGKILL")).catch(() => {});
    this.child = null;
  }

  /** Calls run one after another, even when fast-check has stopped waiting for one (its time limit). */
  compile(text: string): Promise<Outcome> {
    const run = this.queue.then(() => this.call(text));
    this.queue = run.catch(() => {});
    return run;
  }

  private async call(text: string): Promise<Outcome> {
    const child = await this.start();
    const id = this.nextId++;
    this.tried++;
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (outcome.kind === "hang" || outcome.kind === "crashed") this.stop();
        resolve(outcome);
      };
      const onMessage = (reply: { id: number; outcome: Outcome }) => reply.id === id && done(reply.outcome);
      const onExit = (code: number | null, signal: string | null) => {
        const reason = this.stderr.match(/FATAL ERROR.*|\w*Error:.*/)?.[0] ?? "";
        done({ kind: "crashed", error: `exit code ${code}, signal ${signal} ${reason}` });
      };
      // a hang is CALL_LIMIT_MS of the child's CPU time, so that a busy machine is not taken for one
      const [cpuAtStart, wallAtStart] = [cpuMs(child.pid), performance.now()];
      const measure = () => {
        const used = (cpuMs(child.pid) ?? Number.NaN) - (cpuAtStart ?? Number.NaN);
        const waited = performance.now() - wallAtStart;
        if (Number.isNaN(used) || used >= 0.9 * CALL_LIMIT_MS || waited >= 10 * CALL_LIMIT_MS) done({ kind: "hang" });
        else timer = setTimeout(measure, CALL_LIMIT_MS - used);
      };
      let timer = setTimeout(measure, CALL_LIMIT_MS);
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ id, text });
    });
  }
}

const sandbox = new Sandbox();
afterAll(() => {
  console.log(`fuzz: tried ${sandbox.tried} inputs in total (including shrinking and regressions)`);
  sandbox.stop();
});

/** What is wrong with compileGraph's answer to `text`, or null. */
function problem(text: string, outcome: Outcome): string | null {
  switch (outcome.kind) {
    case "threw":
      return `compileGraph threw ${outcome.error}`;
    case "hang":
      return `compileGraph took over ${CALL_LIMIT_MS} ms (a hang)`;
    case "crashed":
      return `the process running compileGraph died: ${outcome.error}`;
    case "ok":
      return outcome.lossOp === null ? `ok, but graph.loss = ${outcome.loss} is not a node` : null;
    case "failed": {
      const lines = text.split("\n").length;
      const inside = (p: Located) => p.line >= 1 && p.column >= 1 && p.line <= lines + 1;
      if (outcome.diagnostics.some((d) => inside(d.span.start) && inside(d.span.end))) return null;
      const shown = outcome.diagnostics.map((d) => `${d.code} at ${JSON.stringify(d.span)}: ${d.message}`);
      return `no diagnostic located inside the ${lines}-line text: [${shown.join("; ")}]`;
    }
  }
}

async function check(text: string): Promise<void> {
  const found = problem(text, await sandbox.compile(text));
  if (found) throw new Error(`${found}\n--- input ---\n${text}`);
}

/** Checks generated inputs until FAMILY_LIMIT_MS is up, or until a failure is found and shrunk. */
async function fuzz(family: string, inputs: fc.Arbitrary<string>): Promise<void> {
  const [before, start] = [sandbox.tried, performance.now()];
  const failures: unknown[] = [];
  const running = new Set<Promise<void>>();
  const property = fc.asyncProperty(inputs, (text) => {
    const run = check(text).catch((e) => {
      failures.push(e);
      throw e;
    });
    running.add(run);
    return run.finally(() => running.delete(run));
  });
  try {
    await fc.assert(property, { numRuns: 1_000_000, plugins: [fc.interruptAfterTimeLimit(FAMILY_LIMIT_MS)] });
    // fast-check stops waiting for a run still going at its time limit (a hang, say): wait for it here
    await Promise.allSettled(running);
    if (failures.length > 0) throw failures[0];
  } finally {
    console.log(`fuzz ${family}: ${sandbox.tried - before} inputs in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

// ---- the language's pieces ---------------------------------------------------------------

const keywords = ["model", "block", "input", "loss", "output", "data", "return", "repeat", "train", "true", "false"];
const layerNames = ["dense", "conv2d", "matmul", "maxpool", "avgpool", "flatten", "dropout", "embedding", "positional", "layernorm", "attention", "ffn"];
const functionNames = ["identity", "sigmoid", "tanh", "relu", "step", "softmax", "exp", "log", "sin"];
const lossNames = ["mse", "softmax_cross_entropy", "cross_entropy", "kl_div"];
const otherNames = ["class", "tokens", "sgd", "adam", "inline", "function", "csv", "idx", "cosine", "constant", "zeros", "he", "glorot", "uniform", "normal"];
const argNames = [
  "units",
  "activation",
  "init",
  "bias",
  "bias_init",
  "name",
  "kernel",
  "stride",
  "pad",
  "size",
  "rate",
  "lr",
  "momentum",
  "warmup",
  "heads",
  "causal",
  "mask",
  "vocab",
  "smoothing",
];
const valueNames = ["x", "t", "h", "y", "z", "image", "label", "enc", "NaN", "Infinity", "_", "x1"];
const punctuation = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "|>", "+", "-", "*", "/", ";", "#", '"', "==", "|", ">"];
const extremes = ["0", "-1", "1e308", "1e309", "2147483648", "4294967297", "9007199254740993", "1e-320", "NaN", "Infinity", "-0", "0.5", "1000", "1001"];

const number = fc.oneof(fc.nat({ max: 12 }).map(String), fc.constantFrom(...extremes));
const callee = fc.constantFrom(...layerNames, ...functionNames, ...lossNames, ...otherNames, "blk", "enc");

// ---- (a) mutated examples -------------------------------------------------------------------

const corpusDirs = ["../examples/", "./diagnostics/"].map((d) => new URL(d, import.meta.url));
const corpus = corpusDirs.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".nn"))
    .sort()
    .map((f) => readFileSync(new URL(f, dir), "utf8")),
);

const insertable = fc.constantFrom(...'{}()[],:=|>+-*/#";._ \t\r\n0123456789eExyzabmt', "é", "😀", "\0");
// each mutation takes its positions as naturals, wrapped to the text's length
const at = (s: string, p: number) => p % (s.length + 1);
const truncate = (s: string, p: number) => s.slice(0, at(s, p));
const deleteSpan = (s: string, p: number, n: number) => s.slice(0, at(s, p)) + s.slice(at(s, p) + n);
const duplicateSpan = (s: string, p: number, n: number) => s.slice(0, at(s, p) + n) + s.slice(at(s, p), at(s, p) + n) + s.slice(at(s, p) + n);
const insert = (s: string, p: number, chars: string) => s.slice(0, at(s, p)) + chars + s.slice(at(s, p));
function swap(s: string, p: number, q: number): string {
  const [i, j] = [p % s.length, q % s.length].sort((a, b) => a - b);
  return s.length < 2 || i === j ? s : s.slice(0, i) + s[j] + s.slice(i + 1, j) + s[i] + s.slice(j + 1);
}
function extremeNumber(s: string, k: number, value: string): string {
  const numbers = [...s.matchAll(/\d+(\.\d+)?([eE][+-]?\d+)?/g)];
  if (numbers.length === 0) return s;
  const m = numbers[k % numbers.length];
  return s.slice(0, m.index) + value + s.slice(m.index + m[0].length);
}
/** A mutation as a function of the text, from its generated arguments. */
const mutate =
  <A extends unknown[]>(f: (s: string, ...args: A) => string) =>
  (args: A) =>
  (s: string) =>
    f(s, ...args);
const span = fc.tuple(fc.nat(), fc.nat({ max: 200 }));
const mutation = fc.oneof(
  fc.tuple(fc.nat()).map(mutate(truncate)),
  span.map(mutate(deleteSpan)),
  span.map(mutate(duplicateSpan)),
  fc.tuple(fc.nat(), fc.string({ unit: insertable, minLength: 1, maxLength: 6 })).map(mutate(insert)),
  fc.tuple(fc.nat(), fc.nat()).map(mutate(swap)),
  fc.tuple(fc.nat(), fc.constantFrom(...extremes)).map(mutate(extremeNumber)),
);
const mutated = fc
  .tuple(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([text, mutations]) => mutations.reduce((s, m) => m(s), text));

// ---- (b) token soup -------------------------------------------------------------------------

const token = fc.oneof(
  fc.constantFrom(...keywords, ...layerNames, ...lossNames, ...functionNames, ...otherNames),
  fc.constantFrom(...punctuation),
  fc.constantFrom(...valueNames, ...argNames),
  number,
  fc.constantFrom('"a"', '"../data/iris.csv"', "\n", "# comment\n"),
);
const soup = fc.array(fc.tuple(token, fc.constantFrom(" ", "", "\n")), { maxLength: 60 }).map((ts) => ts.map(([t, sep]) => t + sep).join(""));
const tokenSoup = fc.oneof(
  soup,
  soup.map((s) => `model m {\n  input x: [2]\n  input t: [1]\n  ${s}\n}\n`),
  fc.tuple(soup, soup).map(([a, b]) => `model m {\n  input x: [2]\n  ${a}\n  loss mse(${b})\n}\n`),
);

// ---- (c) random models ------------------------------------------------------------------------

const { expr } = fc.letrec<{ expr: string; arg: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(...valueNames),
    number,
    fc.tuple(tie("expr"), fc.constantFrom("+", "-", "*", "/"), tie("expr")).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie("expr").map((e) => `-${e}`),
    tie("expr").map((e) => `(${e})`),
    fc.tuple(callee, fc.array(tie("arg"), { maxLength: 4 })).map(([f, args]) => `${f}(${args.join(", ")})`),
    fc.tuple(tie("expr"), callee, fc.option(fc.array(tie("arg"), { maxLength: 3 }))).map(([e, f, args]) => `${e} |> ${f}${args ? `(${args.join(", ")})` : ""}`),
    fc.array(tie("expr"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
    fc.constantFrom('"a"', "true", "false"),
  ),
  arg: fc.oneof(
    tie("expr"),
    fc.tuple(fc.constantFrom(...argNames, "x", "t", "low", "high", "std"), tie("expr")).map(([n, e]) => `${n}: ${e}`),
  ),
}));
const dims = fc.array(number, { minLength: 0, maxLength: 3 }).map((ds) => `[${ds.join(", ")}]`);
const inputType = fc.oneof(
  dims,
  number.map((k) => `class(${k})`),
  expr,
);
const trainKey = fc.constantFrom("optimizer", "rule", "lr", "schedule", "batch", "epochs", "seed", "shuffle", "metrics", "momentum");
const { statement } = fc.letrec<{ statement: string }>((tie) => ({
  statement: fc.oneof(
    { depthSize: "small" },
    fc.tuple(fc.constantFrom(...valueNames), inputType).map(([n, t]) => `input ${n}: ${t}`),
    fc.tuple(fc.constantFrom(...valueNames), expr).map(([n, e]) => `${n} = ${e}`),
    fc.tuple(fc.constantFrom(...lossNames), expr, expr).map(([f, a, b]) => `loss ${f}(${a}, ${b})`),
    expr.map((e) => `loss ${e}`),
    expr.map((e) => `output ${e}`),
    expr.map((e) => `return ${e}`),
    fc.array(fc.tuple(trainKey, expr), { maxLength: 4 }).map((es) => `train { ${es.map(([k, v]) => `${k}: ${v}`).join(", ")} }`),
    fc
      .tuple(fc.constantFrom("inline", "function", "csv", "idx"), fc.array(fc.tuple(fc.constantFrom("x", "t", "n", "test"), expr), { maxLength: 3 }))
      .map(([src, args]) => `data ${src}(${args.map(([k, v]) => `${k}: ${v}`).join(", ")})`),
    fc.tuple(number, fc.array(tie("statement"), { maxLength: 3 })).map(([n, body]) => `repeat ${n} {\n${body.join("\n")}\n}`),
  ),
}));
const block = fc
  .tuple(fc.constantFrom("blk", "enc"), fc.array(fc.constantFrom("v", "w", "act: relu", "k: 2"), { maxLength: 3 }), fc.array(statement, { maxLength: 4 }), expr)
  .map(([name, params, body, ret]) => `block ${name}(${params.join(", ")}) {\n${body.join("\n")}\nreturn ${ret}\n}`);
const header = fc.constantFrom("input x: [2]\ninput t: [1]", "input image: [1, 8, 8]\ninput label: class(3)", "input x: [4]\ninput t: [4]", "");
const randomModel = fc
  .tuple(fc.array(block, { maxLength: 2 }), header, fc.array(statement, { maxLength: 8 }), fc.boolean())
  .map(([blocks, head, body, withLoss]) => [...blocks, `model m {\n${head}\n${body.join("\n")}${withLoss ? "\nloss mse(x, t)" : ""}\n}`].join("\n"));

// ---- (d) deep nesting and long chains -------------------------------------------------------

const wrapInModel = (body: string) => `model m {\n  input x: [1]\n  input t: [1]\n  ${body}\n  loss mse(x, t)\n}\n`;
const depth = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 100, max: 50_000 }));
const deep = fc.oneof(
  depth.map((n) => wrapInModel(`y = ${"(".repeat(n)}x${")".repeat(n)}`)),
  depth.map((n) => wrapInModel(`y = ${"-".repeat(n)}x`)),
  depth.map((n) => wrapInModel(`y = ${"relu(".repeat(n)}x${")".repeat(n)}`)),
  depth.map((n) => wrapInModel(`y = x${" + 1".repeat(n)}`)),
  depth.map((n) => wrapInModel(`y = x${" |> relu".repeat(n)}`)),
  depth.map((n) => wrapInModel(`data inline(x: ${"[".repeat(n)}${"]".repeat(n)})`)),
  depth.map((n) => wrapInModel(`${"repeat 1 {".repeat(n)}${"}".repeat(n)}`)),
  depth.map((n) => wrapInModel("h = dense(x, 1)\n".repeat(n))),
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom("1000", "999", "2", "1001"))
    .map(([k, c]) => wrapInModel(`${`repeat ${c} { `.repeat(k)}z = x${" }".repeat(k)}`)),
  fc.integer({ min: 1, max: 40 }).map((k) => {
    const blocks = Array.from({ length: k }, (_, i) => `block b${i + 1}(v) { return b${i}(v) }`);
    return `block b0(v) { return dense(v, 1) }\n${blocks.join("\n")}\n${wrapInModel(`y = b${k}(x)`)}`;
  }),
  fc.integer({ min: 1, max: 40 }).map((k) => {
    const blocks = Array.from({ length: k }, (_, i) => `block b${i + 1}(v) { return b${i}(v) + b${i}(v) }`);
    return `block b0(v) { return v }\n${blocks.join("\n")}\n${wrapInModel(`y = b${k}(x)`)}`;
  }),
);

// ---- regressions: minimal reproducers of failures the fuzzer found -------------------------

const regressions: [string, string][] = [
  // RangeError (Maximum call stack size exceeded) from the recursive-descent parser
  ["deeply nested parentheses", `model m{y=${"(".repeat(50_000)}`],
  ["a long run of unary minus", `model m{y=${"-".repeat(50_000)}`],
  ["deeply nested calls", `model m{y=${"relu(".repeat(50_000)}`],
  ["deeply nested lists", `model m{y=${"[".repeat(50_000)}`],
  ["deeply nested repeats", `model m{${"repeat 1{".repeat(50_000)}`],
  // RangeError from elaboration: the parser folds chains into a deep tree, the elaborator recurses on it
  ["a long `+` chain", `model m{input x:[1] y=x${"+x".repeat(100_000)}}`],
  ["a long `|>` chain", `model m{input x:[1] y=x${"|>relu".repeat(100_000)}}`],
  // hangs: nested repeat multiplies up to 1000^k statements, each within MAX_REPEAT
  ["nested repeats", "model m{repeat 1000{repeat 1000{repeat 1000{x=1}}}}"],
  // hangs: uniqueName scans h, h_1, h_2, ... from the start for every new `h`, so n layers bound to one name cost O(n^2)
  ["many layers with one name", "model m{input x:[1] repeat 1000{repeat 20{h=dense(x,1)}}}"],
  // crash: a block's layer-name prefix repeats the whole prefix above it (expandBlock pushes the full
  // dotted name that uniqueName returns), so names double in length with each level of block calls:
  // outer -> mid -> inner names its weight `outer.outer.mid.outer.outer.mid.inner.h.w`, and 30 levels
  // exceed the longest string V8 allows (RangeError: Invalid string length, or out of memory)
  [
    "blocks calling blocks",
    `block b0(v){return dense(v,1)}\n${Array.from({ length: 30 }, (_, i) => `block b${i + 1}(v){return b${i}(v)}`).join("\n")}\nmodel m{input x:[1] y=b30(x)}`,
  ],
  // hangs: each block calls the one before twice, 2^20 expansions with no bound on the total
  [
    "blocks that double",
    `block b0(v){return v}\n${Array.from({ length: 20 }, (_, i) => `block b${i + 1}(v){return b${i}(v)+b${i}(v)}`).join("\n")}\nmodel m{input x:[1] y=b20(x)}`,
  ],
  // RangeError from the memory plan: Math.max(...sizes) spread one argument per node onto the stack
  ["a model of 160,000 nodes", "model m{input x:[1] input t:[1] repeat 1000{repeat 40{h=dense(x,1)}} loss mse(h,t)}"],
  // over 2 s to say it is too large: the memory plan searched a list of every parameter and gradient for each tensor
  // (4.5-6.4 s of CPU time, against 2.4-3.5 s now, on a slow machine)
  [
    "the Transformer with 1000 decoder layers",
    readFileSync("examples/transformer.nn", "utf8").replace(/repeat \d+ \{ y = decoder/, "repeat 1000 { y = decoder"),
  ],
];

// ---- the tests --------------------------------------------------------------------------------

describe("compileGraph never throws or hangs, and locates its diagnostics", () => {
  it("reads the corpus", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
  });

  it("(a) on mutated examples and diagnostics cases", () => fuzz("(a)", mutated));
  it("(b) on token soup", () => fuzz("(b)", tokenSoup));
  it("(c) on random models", () => fuzz("(c)", randomModel));
  it("(d) on deep nesting and long chains", () => fuzz("(d)", deep));

  it.each(regressions)("regression: %s", (_, text) => check(text));
});
