// Elaboration: AST -> graph IR. Resolves names, binds call arguments against
// layer signatures, expands user blocks and `repeat`, creates parameters with
// unique dotted names, infers every shape through the op table, and reads
// the train and data sections. Afterwards the graph holds the forward pass,
// the loss and the outputs; every node carries the span it came from.

import { closest, distance } from "fastest-levenshtein";
import type * as A from "./ast.ts";
import { type Diagnostic, DiagnosticError, diagnostic, fail, type Note } from "./diagnostics.ts";
import { append } from "./ir/build.ts";
import { emptyGraph, formatShape, type Graph, type Init, type Metric, type Optimizer, type Schedule, type TrainConfig } from "./ir/graph.ts";
import type { OpName } from "./ir/ops.ts";
import { type ArgSpec, type ArgValue, activations, initializers, type LayerContext, layers, type TensorRef } from "./layers.ts";

/** What a name can stand for: a tensor, a number, or a function passed to a block (`act: relu`). */
type Value = { kind: "tensor"; ref: TensorRef } | { kind: "number"; value: number } | { kind: "function"; name: string };
type Scope = Map<string, { value: Value; span: A.Span; input: boolean }>;

/** Settings given outside the file (the command line), taking precedence over its train section. */
export interface Overrides {
  batch?: number;
}

export function elaborate(file: A.File, overrides: Overrides = {}): { graph: Graph } | { errors: Diagnostic[] } {
  const elaborator = new Elaborator(file, overrides);
  try {
    return { graph: elaborator.run() };
  } catch (e) {
    if (e instanceof DiagnosticError) return { errors: [e.diagnostic] };
    // an expression nested thousands deep exhausts the stack: say where, not how
    if (e instanceof RangeError)
      return { errors: [diagnostic("E022", elaborator.current ?? file.span, { detail: "it nests too deeply (thousands of levels)" })] };
    throw e;
  }
}

const trainKeys = ["optimizer", "rule", "lr", "schedule", "clip", "batch", "epochs", "seed", "shuffle", "metrics"];
const MAX_REPEAT = 1000;
/** Statements run while expanding blocks and repeats, in all: a bound on the size of the graph. */
const MAX_STATEMENTS = 100_000;

class Elaborator {
  private readonly blocks = new Map<string, A.Block>();
  private readonly usedNames = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();
  private executed = 0;
  /** The statement being elaborated, for errors that have no better place. */
  current: A.Span | null = null;
  private readonly prefix: string[] = [];
  private readonly callStack: string[] = [];
  private graph!: Graph;

  constructor(
    private readonly file: A.File,
    private readonly overrides: Overrides,
  ) {}

  run(): Graph {
    const models = this.file.items.filter((i): i is A.Model => i.kind === "Model");
    for (const block of this.file.items.filter((i): i is A.Block => i.kind === "Block")) {
      const prior = this.blocks.get(block.name.name);
      if (prior) this.duplicate(block.name, prior.name.span);
      this.blocks.set(block.name.name, block);
    }
    if (models.length === 0) fail("E010", this.file.span);
    if (models.length > 1)
      fail("E016", models[1].name.span, { scope: "file", what: "model" }, [{ span: models[0].name.span, message: "the first model is here" }]);
    return this.model(models[0]);
  }

  private model(model: A.Model): Graph {
    this.graph = emptyGraph(model.name.name);
    const scope: Scope = new Map();
    const once = new Map<string, A.Statement>();
    // the train section fixes the batch size, which every input's shape needs first
    const ordered = [...model.body.filter((s) => s.kind === "Train"), ...model.body.filter((s) => s.kind !== "Train")];
    for (const stmt of ordered) {
      if (stmt.kind === "Loss" || stmt.kind === "Output" || stmt.kind === "Train" || stmt.kind === "Data") {
        const prior = once.get(stmt.kind);
        const what = { Loss: "loss", Output: "output", Train: "train section", Data: "data source" }[stmt.kind];
        if (prior) fail("E016", stmt.span, { scope: "model", what }, [{ span: prior.span, message: `the first ${what} is here` }]);
        once.set(stmt.kind, stmt);
      }
      this.statement(stmt, scope, "model");
    }
    const loss = once.get("Loss");
    if (!loss) fail("E011", model.name.span);
    const lossNode = this.graph.nodes[this.graph.loss];
    if (this.graph.outputs.length === 0) this.graph.outputs.push(lossNode.inputs[0]);
    this.defaultMetrics();
    return this.graph;
  }

  /** Runs one statement; returns the value of a `return`, else null. */
  private statement(stmt: A.Statement, scope: Scope, where: "model" | "block"): Value | null {
    this.current = stmt.span;
    if (++this.executed > MAX_STATEMENTS) {
      fail("E022", stmt.span, { detail: `blocks and repeats expand to more than ${MAX_STATEMENTS.toLocaleString("en")} statements` });
    }
    const modelOnly = (what: string) => where === "block" && fail("E015", stmt.span, { what, where: "in a model, not in a block" });
    switch (stmt.kind) {
      case "Input": {
        modelOnly("input");
        const prior = scope.get(stmt.name.name);
        if (prior) this.duplicate(stmt.name, prior.span);
        const ref = this.input(stmt);
        scope.set(stmt.name.name, { value: { kind: "tensor", ref }, span: stmt.name.span, input: true });
        return null;
      }
      case "Assign": {
        const prior = scope.get(stmt.name.name);
        if (prior?.input) this.duplicate(stmt.name, prior.span);
        const value = this.expr(stmt.value, scope, stmt.name.name);
        if (value.kind === "function") this.notAValue(stmt.value, value.name);
        scope.set(stmt.name.name, { value, span: stmt.name.span, input: false });
        return null;
      }
      case "Loss": {
        modelOnly("loss");
        const ref = this.tensor(stmt.value, scope);
        const node = this.graph.nodes[ref.id];
        if (node.shape.length !== 0 || node.batched)
          fail("E009", stmt.value.span, { expected: "a loss (a scalar, such as mse(y, t))", found: `a tensor of shape ${formatShape(node)}` });
        this.graph.loss = ref.id;
        return null;
      }
      case "Output":
        modelOnly("output");
        this.graph.outputs.push(this.tensor(stmt.value, scope).id);
        return null;
      case "Train":
        modelOnly("train");
        this.graph.train = this.train(stmt);
        return null;
      case "Data":
        modelOnly("data");
        this.graph.data = { kind: stmt.source.callee.name, args: this.dataArgs(stmt.source), span: stmt.source.span };
        return null;
      case "Return":
        if (where === "model") fail("E015", stmt.span, { what: "return", where: "in a block" });
        return this.expr(stmt.value, scope, null);
      case "Repeat": {
        const count = this.int(stmt.count, scope, "repeat count");
        if (count > MAX_REPEAT) fail("E013", stmt.count.span, { name: "repeat", detail: `${count} repetitions; at most ${MAX_REPEAT}` });
        for (let i = 0; i < count; i++) {
          for (const inner of stmt.body) {
            const returned = this.statement(inner, scope, where);
            if (returned) fail("E015", inner.span, { what: "return", where: "at the top level of a block, not inside repeat" });
          }
        }
        return null;
      }
      default:
        return unreachable(stmt);
    }
  }

  private input(stmt: A.Input): TensorRef {
    const t = stmt.type;
    const name = stmt.name.name;
    let node: Omit<Graph["nodes"][number], "id">;
    if (t.kind === "List") {
      const dims = t.items.map((d) => this.literalInt(d, "a dimension"));
      node = { op: "input", inputs: [], shape: [this.graph.train.batch, ...dims], dtype: "f32", batched: true, attrs: {}, span: stmt.span, label: name };
    } else if (t.kind === "Call" && t.callee.name === "class" && t.args.length === 1 && !t.args[0].name) {
      const classes = this.literalInt(t.args[0].value, "a number of classes");
      node = { op: "input", inputs: [], shape: [this.graph.train.batch], dtype: "i32", batched: true, attrs: { classes }, span: stmt.span, label: name };
    } else if (t.kind === "Call" && t.callee.name === "tokens") {
      const b = this.bind(
        t,
        [
          { name: "length", required: true },
          { name: "vocab", required: true },
          { name: "pad", required: false },
        ],
        "tokens",
      );
      const length = this.literalInt(b.get("length") as A.Expr, "a sequence length");
      const classes = this.literalInt(b.get("vocab") as A.Expr, "a vocabulary size");
      const padArg = b.get("pad");
      const pad = padArg ? this.number(padArg, new Map()) : 0;
      node = {
        op: "input",
        inputs: [],
        shape: [this.graph.train.batch, length],
        dtype: "i32",
        batched: true,
        attrs: { classes, pad },
        span: stmt.span,
        label: name,
      };
    } else {
      fail("E009", t.span, { expected: "an input type: a shape such as [2] or [1, 28, 28], class(N), or tokens(length, vocab: N)", found: describe(t) });
    }
    const id = this.graph.nodes.length;
    this.graph.nodes.push({ id, ...node });
    this.graph.inputs.push(id);
    return { id, origin: stmt.name };
  }

  // ---- expressions -----------------------------------------------------------

  private expr(e: A.Expr, scope: Scope, binding: string | null): Value {
    switch (e.kind) {
      case "Number":
        return { kind: "number", value: e.value };
      case "Name": {
        const found = scope.get(e.name);
        if (found) return found.value;
        if (this.isFunction(e.name)) return { kind: "function", name: e.name };
        return this.undefinedName(e, scope);
      }
      case "Neg": {
        const v = this.operand(e.operand, scope);
        return v.kind === "number" ? { kind: "number", value: -v.value } : { kind: "tensor", ref: this.opAt(e, "neg", [v.ref], binding) };
      }
      case "Binary": {
        const lhs = this.operand(e.lhs, scope);
        const rhs = this.operand(e.rhs, scope);
        if (lhs.kind === "number" && rhs.kind === "number") return { kind: "number", value: arith(e.op, lhs.value, rhs.value) };
        const op = ({ "+": "add", "-": "sub", "*": "mul", "/": "div" } as const)[e.op];
        const ref = this.opAt(e, op, [this.asTensor(lhs, e.lhs), this.asTensor(rhs, e.rhs)], binding);
        return { kind: "tensor", ref };
      }
      case "Call":
        return this.call(e, scope, binding);
      case "String":
      case "Bool":
      case "List":
        return fail("E009", e.span, { expected: "a tensor or a number", found: describe(e) });
      default:
        return unreachable(e);
    }
  }

  /** A tensor or a number, for arithmetic. */
  private operand(e: A.Expr, scope: Scope): Exclude<Value, { kind: "function" }> {
    const v = this.expr(e, scope, null);
    return v.kind === "function" ? this.notAValue(e, v.name) : v;
  }

  private tensor(e: A.Expr, scope: Scope, binding: string | null = null): TensorRef {
    const v = this.expr(e, scope, binding);
    if (v.kind === "function") this.notAValue(e, v.name);
    if (v.kind !== "tensor") fail("E009", e.span, { expected: "a tensor", found: `the number ${v.value}` });
    return v.ref;
  }

  private asTensor(v: Exclude<Value, { kind: "function" }>, origin: A.Expr): TensorRef {
    if (v.kind === "tensor") return v.ref;
    const id = this.graph.nodes.length;
    this.graph.nodes.push({
      id,
      op: "const",
      inputs: [],
      shape: [],
      dtype: "f32",
      batched: false,
      attrs: { value: v.value },
      span: origin.span,
      label: "const",
    });
    return { id, origin };
  }

  private call(call: A.Call, scope: Scope, binding: string | null): Value {
    const name = call.callee.name;
    const block = this.blocks.get(name);
    if (block) return this.expandBlock(block, call, scope);
    const layer = layers[name];
    if (!layer) {
      const guess = similar(name, [...Object.keys(layers), ...this.blocks.keys()]);
      fail("E003", call.callee.span, { name, hint: guess ? `; did you mean \`${guess}\`?` : "" });
    }
    const specs: ArgSpec[] = layer.named ? [...layer.args, { name: "name", kind: "string", default: null }] : layer.args;
    const bound = this.bind(call, specs, name);
    // a layer without parameters hands its binding on, so `h = x |> dense(4) |> relu` names the dense `h`
    const inner = layer.named ? null : binding;
    const args: Record<string, ArgValue> = {};
    for (const spec of layer.args) args[spec.name] = this.argValue(spec, bound.get(spec.name) ?? null, scope, inner);
    const given = bound.get("name");
    const layerName = layer.named
      ? this.uniqueName(given ? (this.argValue(specs[specs.length - 1], given, scope, null) as string) : (binding ?? name))
      : (binding ?? name);
    return { kind: "tensor", ref: layer.build(this.context(call, layerName), args) };
  }

  /** Matches positional then named arguments to a signature; reports unknown, repeated and missing ones. */
  private bind(call: A.Call, specs: { name: string; required: boolean }[] | ArgSpec[], callee: string): Map<string, A.Expr> {
    const bound = new Map<string, A.Expr>();
    const seenSpans = new Map<string, A.Span>();
    let position = 0;
    for (const arg of call.args) {
      let key: string;
      if (arg.name) {
        key = arg.name.name;
        if (!specs.some((s) => s.name === key)) {
          const guess = similar(
            key,
            specs.map((s) => s.name),
          );
          const params = specs.map((s) => `\`${s.name}\``).join(", ");
          fail("E005", arg.name.span, { callee, name: key, params: guess ? `${params}; did you mean \`${guess}\`?` : params });
        }
      } else {
        if (position >= specs.length) fail("E007", arg.span, { callee, count: specs.length });
        key = specs[position++].name;
      }
      const prior = seenSpans.get(key);
      if (prior) fail("E021", arg.span, { name: key }, [{ span: prior, message: "first given here" }]);
      seenSpans.set(key, arg.span);
      bound.set(key, arg.value);
    }
    for (const spec of specs) {
      const required = "required" in spec ? spec.required : spec.default === undefined;
      if (required && !bound.has(spec.name)) fail("E006", call.span, { callee, name: spec.name });
    }
    return bound;
  }

  private argValue(spec: ArgSpec, e: A.Expr | null, scope: Scope, binding: string | null): ArgValue {
    if (!e) return spec.kind === "init" ? initFrom(String(spec.default)) : (spec.default ?? null);
    switch (spec.kind) {
      case "tensor":
        return this.tensor(e, scope, binding);
      case "int":
        return this.int(e, scope, `\`${spec.name}\``);
      case "number":
        return this.number(e, scope);
      case "bool":
        return this.bool(e, spec.name);
      case "string":
        if (e.kind !== "String") fail("E009", e.span, { expected: `a string for \`${spec.name}\``, found: describe(e) });
        return e.value;
      case "activation":
        return this.symbol(e, activations, "an activation", scope);
      case "choice":
        return this.symbol(e, spec.options ?? [], `a value for \`${spec.name}\``, scope);
      case "init":
        return this.init(e, scope);
      default:
        return unreachable(spec.kind);
    }
  }

  private init(e: A.Expr, scope: Scope): Init {
    const name = e.kind === "Call" ? e.callee.name : this.symbol(e, initializers, "an initializer", scope);
    if (e.kind !== "Call") return initFrom(name);
    if (name === "uniform") {
      const b = this.bind(
        e,
        [
          { name: "low", required: true },
          { name: "high", required: true },
        ],
        name,
      );
      return { kind: "uniform", low: this.number(b.get("low") as A.Expr, scope), high: this.number(b.get("high") as A.Expr, scope) };
    }
    if (name === "normal") {
      const b = this.bind(e, [{ name: "std", required: true }], name);
      return { kind: "normal", std: this.number(b.get("std") as A.Expr, scope) };
    }
    return fail("E009", e.span, { expected: "an initializer: zeros, ones, glorot, he, uniform(low, high) or normal(std)", found: describe(e) });
  }

  /** A name from `options`, written directly or passed in through a block parameter. */
  private symbol<T extends string>(e: A.Expr, options: readonly T[], what: string, scope?: Scope): T {
    const bound = e.kind === "Name" ? scope?.get(e.name)?.value : undefined;
    const name = bound?.kind === "function" ? bound.name : e.kind === "Name" && !bound ? e.name : null;
    if (name !== null && (options as readonly string[]).includes(name)) return name as T;
    const list = options.join(", ");
    return fail("E009", e.span, { expected: `${what} (one of ${list})`, found: describe(e) });
  }

  private bool(e: A.Expr, name: string): boolean {
    if (e.kind !== "Bool") fail("E009", e.span, { expected: `true or false for \`${name}\``, found: describe(e) });
    return e.value;
  }

  private number(e: A.Expr, scope: Scope): number {
    const v = this.operand(e, scope);
    if (v.kind !== "number") fail("E009", e.span, { expected: "a number", found: "a tensor" });
    return v.value;
  }

  private int(e: A.Expr, scope: Scope, what: string): number {
    const v = this.number(e, scope);
    if (!Number.isInteger(v) || v < 1) fail("E009", e.span, { expected: `a positive whole number for ${what}`, found: String(v) });
    return v;
  }

  private literalInt(e: A.Expr, what: string): number {
    if (e.kind !== "Number" || !Number.isInteger(e.value) || e.value < 1)
      fail("E009", e.span, { expected: `${what} (a positive whole number)`, found: describe(e) });
    return e.value;
  }

  // ---- blocks ------------------------------------------------------------------

  private expandBlock(block: A.Block, call: A.Call, callerScope: Scope): Value {
    const name = block.name.name;
    if (this.callStack.includes(name)) fail("E014", call.span, { name }, [{ span: block.name.span, message: "the block is defined here" }]);
    const seen = new Map<string, A.Span>();
    for (const p of block.params) {
      const prior = seen.get(p.name.name);
      if (prior) this.duplicate(p.name, prior);
      seen.set(p.name.name, p.name.span);
    }
    const bound = this.bind(
      call,
      block.params.map((p) => ({ name: p.name.name, required: p.default === null })),
      name,
    );
    const scope: Scope = new Map();
    for (const p of block.params) {
      const arg = bound.get(p.name.name);
      const value = arg ? this.expr(arg, callerScope, null) : this.expr(p.default as A.Expr, scope, null);
      scope.set(p.name.name, { value, span: p.name.span, input: false });
    }
    this.callStack.push(name);
    this.prefix.push(this.uniqueName(name).split(".").pop() as string);
    try {
      for (const stmt of block.body) {
        const returned = this.statement(stmt, scope, "block");
        if (returned) return returned;
      }
      return fail("E017", block.name.span, { name });
    } finally {
      this.prefix.pop();
      this.callStack.pop();
    }
  }

  // ---- graph building ------------------------------------------------------------

  private context(call: A.Call, name: string): LayerContext {
    return {
      call,
      name,
      op: (op, inputs, attrs = {}) => this.opAt(call, op, inputs, name, attrs),
      param: (suffix, shape, init, fanIn, fanOut) => {
        const id = this.graph.nodes.length;
        const label = `${name}.${suffix}`;
        this.graph.nodes.push({ id, op: "param", inputs: [], shape, dtype: "f32", batched: false, attrs: {}, span: call.span, label });
        this.graph.params.push({ node: id, init, fanIn, fanOut });
        return { id, origin: call };
      },
      shapeOf: (t) => this.graph.nodes[t.id].shape,
      node: (t) => this.graph.nodes[t.id],
      constant: (value) => this.asTensor({ kind: "number", value }, call),
    };
  }

  private opAt(at: A.Expr, op: OpName, inputs: TensorRef[], label: string | null, attrs: Record<string, unknown> = {}): TensorRef {
    const result = append(
      this.graph,
      op,
      inputs.map((t) => t.id),
      attrs,
      at.span,
      label ?? op,
    );
    if (typeof result === "string") {
      const notes: Note[] = inputs.map((t) => ({ span: t.origin.span, message: `this is ${formatShape(this.graph.nodes[t.id])}` }));
      const shown = at.kind === "Binary" ? at.op : at.kind === "Call" ? at.callee.name : op;
      fail("E008", at.span, { op: shown, detail: result }, notes);
    }
    return { id: result, origin: at };
  }

  /** `base` within the current block path, made unique with _1, _2, ... ("enc.h", "enc.h_1"). */
  private uniqueName(base: string): string {
    const full = [...this.prefix, base].join(".");
    let name = full;
    for (let k = this.nextSuffix.get(full) ?? 1; this.usedNames.has(name); k++) {
      name = `${full}_${k}`;
      this.nextSuffix.set(full, k + 1);
    }
    this.usedNames.add(name);
    return name;
  }

  // ---- train and data sections --------------------------------------------------------

  private train(stmt: A.Train): TrainConfig {
    const t: TrainConfig = { ...this.graph.train };
    const scope: Scope = new Map();
    const given = new Map<string, A.Entry>();
    for (const entry of stmt.entries) {
      const key = entry.name.name;
      if (!trainKeys.includes(key)) fail("E012", entry.name.span, { name: key, names: trainKeys.join(", ") });
      const prior = given.get(key);
      if (prior) this.duplicate(entry.name, prior.name.span);
      given.set(key, entry);
    }
    const optimizer = given.get("optimizer");
    const rule = given.get("rule");
    if (optimizer && rule)
      fail("E018", rule.span, { detail: "give either `optimizer` or `rule`, not both" }, [{ span: optimizer.span, message: "the optimizer is here" }]);
    if (optimizer) t.optimizer = this.optimizer(optimizer.value, scope);
    if (rule) t.optimizer = { kind: this.symbol(rule.value, ["perceptron"] as const, "an update rule"), lr: 1 };
    const lr = given.get("lr");
    if (lr) t.optimizer = { ...t.optimizer, lr: this.positive(lr.value, scope, "lr") };
    for (const key of ["batch", "epochs"] as const) {
      const entry = given.get(key);
      if (entry) t[key] = this.int(entry.value, scope, `\`${key}\``);
    }
    const seed = given.get("seed");
    if (seed) {
      t.seed = this.number(seed.value, scope);
      if (!Number.isInteger(t.seed) || t.seed < 0) fail("E009", seed.value.span, { expected: "a whole number >= 0 for `seed`", found: String(t.seed) });
    }
    const shuffle = given.get("shuffle");
    if (shuffle) t.shuffle = this.bool(shuffle.value, "shuffle");
    const schedule = given.get("schedule");
    if (schedule) t.schedule = this.schedule(schedule.value, scope);
    const clip = given.get("clip");
    if (clip) t.clip = this.positive(clip.value, scope, "clip");
    const metrics = given.get("metrics");
    if (metrics) {
      const list = metrics.value.kind === "List" ? metrics.value.items : [metrics.value];
      t.metrics = list.map((m) => this.symbol<Metric>(m, ["accuracy", "mse"], "a metric"));
    }
    if (this.overrides.batch) t.batch = this.overrides.batch;
    return t;
  }

  /** sgd(lr, momentum, weight_decay) or adam(lr, beta1, beta2, eps, weight_decay); bare names take the defaults. */
  private optimizer(e: A.Expr, scope: Scope): Optimizer {
    const name = e.kind === "Call" ? e.callee.name : this.symbol(e, ["sgd", "adam"] as const, "an optimizer", scope);
    const defaults = {
      sgd: { lr: 0.01, momentum: 0, weight_decay: 0 },
      adam: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0 },
    };
    if (name !== "sgd" && name !== "adam") return fail("E009", e.span, { expected: "an optimizer (sgd or adam)", found: describe(e) });
    const settings: Record<string, number> = { ...defaults[name] };
    if (e.kind === "Call") {
      const bound = this.bind(
        e,
        Object.keys(settings).map((key) => ({ name: key, required: false })),
        name,
      );
      for (const [key, arg] of bound) {
        const v = this.number(arg, scope);
        const ok = key === "lr" ? v > 0 : key.startsWith("beta") ? v >= 0 && v < 1 : v >= 0;
        if (!ok)
          fail("E013", arg.span, { name: key, detail: `${v} is out of range (${key === "lr" ? "> 0" : key.startsWith("beta") ? "in [0, 1)" : ">= 0"})` });
        settings[key] = v;
      }
    }
    const { weight_decay: weightDecay, ...rest } = settings;
    return { kind: name, ...rest, weightDecay } as Optimizer;
  }

  /** constant, cosine, cosine(warmup: steps), or rsqrt(warmup: steps) */
  private schedule(e: A.Expr, scope: Scope): Schedule {
    const name = e.kind === "Call" ? e.callee.name : this.symbol(e, ["constant", "cosine"] as const, "a schedule", scope);
    if (name === "constant" && e.kind !== "Call") return { kind: "constant" };
    if (name !== "cosine" && name !== "rsqrt") {
      return fail("E009", e.span, { expected: "a schedule (constant, cosine, cosine(warmup: steps) or rsqrt(warmup: steps))", found: describe(e) });
    }
    const warmup = e.kind === "Call" ? this.bind(e, [{ name: "warmup", required: name === "rsqrt" }], name).get("warmup") : undefined;
    return { kind: name, warmup: warmup ? this.int(warmup, scope, "`warmup`") : 0 };
  }

  private positive(e: A.Expr, scope: Scope, name: string): number {
    const v = this.number(e, scope);
    if (!(v > 0)) fail("E013", e.span, { name, detail: `${v} is not positive` });
    return v;
  }

  /** Data source arguments as plain values; src/ checks them against the source kind. */
  private dataArgs(call: A.Call): Record<string, unknown> {
    const args: Record<string, unknown> = {};
    call.args.forEach((arg, i) => {
      const key = arg.name?.name ?? `_${i}`;
      if (key in args) fail("E021", arg.span, { name: key });
      args[key] = { value: literal(arg.value), span: arg.value.span };
    });
    return args;
  }

  private defaultMetrics(): void {
    const t = this.graph.train;
    const classifier = ["softmax_ce", "label_ce"].includes(this.graph.nodes[this.graph.loss].op);
    if (t.metrics.length === 0) t.metrics = classifier ? ["accuracy"] : ["mse"];
  }

  // ---- diagnostics helpers ---------------------------------------------------------------

  private duplicate(name: A.Name, prior: A.Span): never {
    return fail("E004", name.span, { name: name.name }, [{ span: prior, message: "first defined here" }]);
  }

  private isFunction(name: string): boolean {
    return name in layers || this.blocks.has(name) || (initializers as readonly string[]).includes(name);
  }

  private notAValue(e: A.Expr, name: string): never {
    return fail("E009", e.span, { expected: "a value", found: `the function \`${name}\` (call it, or chain it with |>)` });
  }

  private undefinedName(e: A.Name, scope: Scope): never {
    const guess = similar(e.name, [...scope.keys()]);
    const notes: Note[] =
      guess && scope.get(guess) ? [{ span: (scope.get(guess) as { span: A.Span }).span, message: `a similar name, \`${guess}\`, is defined here` }] : [];
    return fail("E002", e.span, { name: e.name }, notes);
  }
}

/** The closest known name, if it is close enough to be a likely typo. */
function similar(name: string, known: string[]): string | null {
  if (known.length === 0) return null;
  const best = closest(name, known);
  return distance(name, best) <= Math.max(1, Math.floor(name.length / 3)) ? best : null;
}

function arith(op: A.Binary["op"], a: number, b: number): number {
  return op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
}

function initFrom(name: string): Init {
  switch (name) {
    case "zeros":
    case "ones":
    case "glorot":
    case "he":
      return { kind: name };
    case "uniform":
      return { kind: "uniform", low: -0.05, high: 0.05 };
    case "normal":
      return { kind: "normal", std: 0.05 };
    default:
      throw new Error(`internal: unknown initializer ${name}`);
  }
}

/** A literal as plain data: numbers, strings, booleans, names (as strings) and nested lists. */
function literal(e: A.Expr): unknown {
  switch (e.kind) {
    case "Number":
    case "String":
    case "Bool":
      return e.value;
    case "Name":
      return e.name;
    case "Neg": {
      const v = literal(e.operand);
      if (typeof v !== "number") fail("E009", e.span, { expected: "a number after `-`", found: describe(e.operand) });
      return -v;
    }
    case "List":
      return e.items.map(literal);
    default:
      return fail("E009", e.span, { expected: "a literal value (number, string, name or list)", found: describe(e) });
  }
}

export function describe(e: A.Expr): string {
  switch (e.kind) {
    case "Number":
      return `the number ${e.text}`;
    case "String":
      return `the string "${e.value}"`;
    case "Bool":
      return String(e.value);
    case "Name":
      return `\`${e.name}\``;
    case "List":
      return "a list";
    case "Call":
      return `a call to \`${e.callee.name}\``;
    case "Binary":
      return `an expression with \`${e.op}\``;
    case "Neg":
      return "a negation";
    default:
      return unreachable(e);
  }
}

function unreachable(x: never): never {
  throw new Error(`internal: unexpected ${JSON.stringify(x)}`);
}
