// The TextMate grammar of .nn (editors/vscode/syntaxes/nn.tmLanguage.json), run
// by vscode-textmate and oniguruma as VS Code runs it: every example tokenizes,
// chosen tokens get the scopes themes colour, nothing valid is marked invalid,
// and the grammar's keywords and built-in names are the ones the compiler
// defines (read from its sources here, so adding one without the grammar fails).

import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";
import { activations, initializers, layers } from "../../compiler/layers.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

const grammarPath = "editors/vscode/syntaxes/nn.tmLanguage.json";
const rawGrammar: { repository: Record<string, { match?: string }> } = JSON.parse(read(grammarPath));

const exampleFiles = ["examples", "bench/workloads"].flatMap((dir) =>
  readdirSync(new URL(dir, root))
    .filter((name) => name.endsWith(".nn"))
    .map((name) => `${dir}/${name}`),
);

interface Token {
  text: string;
  scopes: string[];
}

let grammar: textmate.IGrammar;

beforeAll(async () => {
  await oniguruma.loadWASM(readFileSync(new URL("node_modules/vscode-oniguruma/release/onig.wasm", root)));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => (scopeName === "source.nn" ? textmate.parseRawGrammar(read(grammarPath), grammarPath) : null),
  });
  const loaded = await registry.loadGrammar("source.nn");
  if (!loaded) throw new Error(`${grammarPath} did not load`);
  grammar = loaded;
});

/** The tokens of each line, the tokenizer's state carried from line to line as in an editor. */
function tokenizeLines(source: string): Token[][] {
  let state = textmate.INITIAL;
  return source.split("\n").map((line) => {
    const result = grammar.tokenizeLine(line, state, 1000);
    if (result.stoppedEarly) throw new Error(`the tokenizer gave up on: ${line}`);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The innermost scope of the first token that is exactly `text`. */
function scopeOf(source: string, text: string): string {
  const token = tokenizeLines(source)
    .flat()
    .find((t) => t.text === text);
  if (!token) throw new Error(`no token \`${text}\` in: ${source}`);
  return token.scopes.at(-1);
}

/** The innermost scope of `text` on the first line of an example that contains `line`. */
function scopeIn(file: string, line: string, text: string): string {
  const found = read(file)
    .split("\n")
    .find((l) => l.includes(line));
  if (!found) throw new Error(`${file} has no line with \`${line}\``);
  return scopeOf(found, text);
}

/** The names a repository rule of the grammar matches: the words of its `\b(?:a|b|c)\b`. */
function wordsOf(rule: string): string[] {
  const words = rawGrammar.repository[rule]?.match?.match(/\\b\(\?:([\w|]+)\)/);
  if (!words) throw new Error(`grammar rule \`${rule}\` is not a list of words`);
  return words[1].split("|");
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe("every example", () => {
  it.each(exampleFiles)("%s tokenizes with every visible character in a meaningful scope, none invalid", (file) => {
    for (const token of tokenizeLines(read(file)).flat()) {
      if (token.scopes.some((s) => s.startsWith("invalid"))) throw new Error(`\`${token.text}\` in ${file} is scoped ${token.scopes.join(" ")}`);
      const innermost = token.scopes.at(-1);
      if (token.text.trim() && (innermost === "source.nn" || innermost.startsWith("meta.")))
        throw new Error(`\`${token.text}\` in ${file} has no scope of its own (${token.scopes.join(" ")})`);
    }
  });
});

describe("scopes", () => {
  it("xor.nn: keywords, definitions, layers, numbers, named arguments, train keys, comments", () => {
    const xor = "examples/xor.nn";
    const [firstLine] = tokenizeLines(read(xor));
    expect(firstLine.map((t) => t.scopes.at(-1))).toEqual(["punctuation.definition.comment.nn", "comment.line.number-sign.nn"]);
    expect(scopeIn(xor, "model xor", "model")).toBe("keyword.control.nn");
    expect(scopeIn(xor, "model xor", "xor")).toBe("entity.name.type.model.nn");
    expect(scopeIn(xor, "input x", "input")).toBe("keyword.control.nn");
    expect(scopeIn(xor, "input x", "x")).toBe("entity.name.variable.input.nn");
    expect(scopeIn(xor, "input x", "2")).toBe("constant.numeric.integer.nn");
    expect(tokenizeLines("input x: [2]")[0].find((t) => t.text === "2")?.scopes).toContain("meta.shape.nn");
    expect(scopeIn(xor, "h = dense", "h")).toBe("entity.name.variable.nn");
    expect(scopeIn(xor, "h = dense", "=")).toBe("keyword.operator.assignment.nn");
    expect(scopeIn(xor, "h = dense", "dense")).toBe("support.function.layer.nn");
    expect(scopeIn(xor, "h = dense", "4")).toBe("constant.numeric.integer.nn");
    expect(scopeIn(xor, "h = dense", "activation")).toBe("variable.parameter.argument.nn");
    expect(scopeIn(xor, "h = dense", ":")).toBe("punctuation.separator.key-value.nn");
    expect(scopeIn(xor, "h = dense", "sigmoid")).toBe("support.function.activation.nn");
    expect(scopeIn(xor, "loss mse", "loss")).toBe("keyword.control.nn");
    expect(scopeIn(xor, "loss mse", "mse")).toBe("support.function.loss.nn");
    expect(scopeIn(xor, "data inline", "data")).toBe("keyword.control.nn");
    expect(scopeIn(xor, "data inline", "inline")).toBe("support.function.data.nn");
    expect(scopeIn(xor, "train {", "train")).toBe("keyword.control.nn");
    expect(scopeIn(xor, "train {", "optimizer")).toBe("support.type.property-name.train.nn");
    expect(scopeIn(xor, "train {", "sgd")).toBe("support.function.optimizer.nn");
    expect(scopeIn(xor, "train {", "lr")).toBe("variable.parameter.argument.nn");
    expect(scopeIn(xor, "train {", "0.5")).toBe("constant.numeric.float.nn");
    expect(scopeIn(xor, "train {", "epochs")).toBe("support.type.property-name.train.nn");
    expect(scopeIn(xor, "train {", "accuracy")).toBe("support.constant.metric.nn");
  });

  it("strings, negative numbers, exponents and booleans", () => {
    expect(scopeIn("examples/iris.nn", "data csv", '"')).toBe("punctuation.definition.string.begin.nn");
    expect(scopeIn("examples/iris.nn", "data csv", "../data/iris.csv")).toBe("string.quoted.double.nn");
    expect(scopeIn("examples/iris.nn", "species: species", "species")).toBe("variable.parameter.argument.nn");
    expect(scopeIn("examples/perceptron.nn", "x: [[-2", "-2")).toBe("constant.numeric.integer.nn");
    expect(scopeIn("examples/sine.nn", "data function", "-3.14159265")).toBe("constant.numeric.float.nn");
    expect(scopeIn("examples/perceptron.nn", "shuffle: false", "false")).toBe("constant.language.boolean.nn");
    expect(scopeOf("train { optimizer: adam(eps: 1e-8) }", "1e-8")).toBe("constant.numeric.float.nn");
    expect(scopeOf("y = x - 1", "-")).toBe("keyword.operator.arithmetic.nn");
    expect(scopeOf("y = x - 1", "1")).toBe("constant.numeric.integer.nn");
  });

  it("pipes, input types, initialisers, padding, schedules and update rules", () => {
    const cnn = "examples/cnn.nn";
    expect(scopeIn(cnn, "|> conv2d(16", "|>")).toBe("keyword.operator.pipe.nn");
    expect(scopeIn(cnn, "|> conv2d(16", "conv2d")).toBe("support.function.layer.nn");
    expect(scopeIn(cnn, "|> conv2d(16", "same")).toBe("support.constant.padding.nn");
    expect(scopeIn(cnn, "|> conv2d(16", "he")).toBe("support.function.initializer.nn");
    expect(scopeIn(cnn, "input label", "class")).toBe("support.type.input.nn");
    expect(scopeIn(cnn, "data idx", "idx")).toBe("support.function.data.nn");
    expect(scopeIn(cnn, "train {", "cosine")).toBe("support.function.schedule.nn");
    expect(scopeIn("examples/gpt.nn", "input tgt_in", "tokens")).toBe("support.type.input.nn");
    expect(scopeIn("examples/gpt.nn", "input tgt_in", "vocab")).toBe("variable.parameter.argument.nn");
    expect(scopeIn("examples/transformer.nn", "train {", "rsqrt")).toBe("support.function.schedule.nn");
    expect(scopeIn("examples/perceptron.nn", "train {", "perceptron")).toBe("support.constant.rule.nn");
  });

  it("blocks: name, parameters, calls, repeat and return", () => {
    const gpt = "examples/gpt.nn";
    expect(scopeIn(gpt, "block gpt_block", "block")).toBe("keyword.control.nn");
    expect(scopeIn(gpt, "block gpt_block", "gpt_block")).toBe("entity.name.function.block.nn");
    expect(scopeIn(gpt, "block gpt_block", "heads")).toBe("variable.parameter.block.nn");
    expect(scopeIn(gpt, "block gpt_block", "hidden")).toBe("variable.parameter.block.nn");
    expect(scopeOf("block enc(x, act: relu) {", "relu")).toBe("support.function.activation.nn");
    expect(scopeIn(gpt, "repeat 3", "repeat")).toBe("keyword.control.nn");
    expect(scopeIn(gpt, "repeat 3", "gpt_block")).toBe("entity.name.function.call.nn");
    expect(scopeIn(gpt, "return x", "return")).toBe("keyword.control.nn");
    expect(scopeIn(gpt, "return x", "+")).toBe("keyword.operator.arithmetic.nn");
    expect(scopeIn(gpt, "return x", "x")).toBe("variable.other.nn");
  });

  it("marks what the compiler rejects: unterminated strings, unknown train keys, stray characters", () => {
    expect(scopeIn("test/diagnostics/syntax_unterminated_string.nn", "data csv", "data.csv, x: [a, b], t: c)")).toBe("invalid.illegal.unterminated-string.nn");
    expect(scopeIn("test/diagnostics/unknown_train_setting.nn", "train {", "learning_rate")).toBe("invalid.illegal.train-key.nn");
    expect(scopeIn("test/diagnostics/syntax_bad_token.nn", "4 % 2", "%")).toBe("invalid.illegal.character.nn");
  });

  it("an unclosed ( or [ ends at the next brace, not at the end of the file", () => {
    expect(scopeOf("  y = dense(x, [1,\n}", "}")).toBe("punctuation.section.block.end.nn");
    expect(scopeOf("train { optimizer: sgd(lr: 0.1 }\nmodel m {", "m")).toBe("entity.name.type.model.nn");
  });
});

describe("the grammar's names are the compiler's", () => {
  const peggy = read("grammar/nn.peggy");
  // Keyword = (ModelKw / ... / "true" / "false") !IdentPart, with ModelKw = "model" !IdentPart
  const reserved =
    peggy
      .match(/^Keyword\s*=\s*\(([^)]*)\)/m)?.[1]
      .split("/")
      .map((alternative) => alternative.trim()) ?? [];
  const literal = (alternative: string) => alternative.match(/^"(\w+)"$/)?.[1];
  const keywordRule = (alternative: string) => peggy.match(new RegExp(`^${alternative}\\s*=\\s*"(\\w+)"`, "m"))?.[1];

  it("keywords and booleans match the Keyword rule of grammar/nn.peggy", () => {
    const keywords = reserved.filter((a) => !literal(a)).map(keywordRule);
    expect(keywords).not.toContain(undefined);
    expect(keywords.length).toBeGreaterThan(5);
    expect(sorted(wordsOf("keyword"))).toEqual(sorted(keywords as string[]));
    expect(sorted(wordsOf("boolean"))).toEqual(sorted(reserved.flatMap((a) => literal(a) ?? [])));
    for (const keyword of wordsOf("keyword")) expect(scopeOf(keyword, keyword)).toBe("keyword.control.nn");
  });

  it("layers, losses and activations are the `layers` of compiler/layers.ts", () => {
    const builtins = Object.keys(layers).filter((name) => !(activations as readonly string[]).includes(name));
    expect(sorted(wordsOf("activation"))).toEqual(sorted(activations));
    expect(sorted([...wordsOf("layer"), ...wordsOf("loss")])).toEqual(sorted(builtins));
    const scopes: Record<string, string> = {
      layer: "support.function.layer.nn",
      loss: "support.function.loss.nn",
      activation: "support.function.activation.nn",
    };
    for (const [rule, scope] of Object.entries(scopes)) for (const name of wordsOf(rule)) expect(scopeOf(`y = ${name}(x)`, name)).toBe(scope);
  });

  it("initialisers are the `initializers` of compiler/layers.ts", () => {
    expect(sorted(wordsOf("initializer"))).toEqual(sorted(initializers));
    for (const name of initializers) expect(scopeOf(`y = dense(x, 1, init: ${name})`, name)).toBe("support.function.initializer.nn");
  });

  it("train keys are the `trainKeys` of compiler/elaborate.ts", () => {
    const list = read("compiler/elaborate.ts").match(/const trainKeys = \[([^\]]*)\]/)?.[1] ?? "";
    const trainKeys = [...list.matchAll(/"(\w+)"/g)].map((m) => m[1]);
    expect(trainKeys.length).toBeGreaterThan(5);
    expect(sorted(wordsOf("train-key"))).toEqual(sorted(trainKeys));
    for (const key of trainKeys) expect(scopeOf(`train { ${key}: 1 }`, key)).toBe("support.type.property-name.train.nn");
  });

  it("data sources are the cases of loadData in src/runtime/data.ts", () => {
    const body = read("src/runtime/data.ts").match(/export function loadData\([\s\S]*?\n}/)?.[0] ?? "";
    const sources = [...body.matchAll(/case "(\w+)":/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(3);
    expect(sorted(wordsOf("data-source"))).toEqual(sorted(sources));
    for (const source of sources) expect(scopeOf(`data ${source}(x: 1)`, source)).toBe("support.function.data.nn");
  });
});
