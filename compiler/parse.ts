// Parse .nn text into an AST (compiler/ast.ts), or a located E001 diagnostic.

import type { File } from "./ast.ts";
import { type Diagnostic, diagnostic } from "./diagnostics.ts";
import { parse as peggyParse } from "./parser.generated.js";

interface PeggySyntaxError {
  location: { source: string; start: { offset: number; line: number; column: number }; end: { offset: number; line: number; column: number } };
  expected: Expectation[] | null;
  found: string | null;
}

export function parse(text: string, source: string): { ast: File } | { error: Diagnostic } {
  try {
    return { ast: peggyParse(text, { grammarSource: source }) as File };
  } catch (e) {
    if (e instanceof RangeError) return { error: tooDeep(text, source) };
    const err = e as PeggySyntaxError & { message: string };
    if (!err.location) throw e;
    // the grammar's own error() calls carry a sentence and no expectations
    if (err.expected === null) return { error: diagnostic("E019", err.location, { detail: err.message }) };
    const found = err.found === null ? "end of file" : err.found === "\n" || err.found === "\r" ? "end of line" : JSON.stringify(err.found);
    return { error: diagnostic("E001", err.location, { expected: describeExpected(err.expected), found }) };
  }
}

/** The parser ran out of stack: point at the deepest bracket, or the start of the file. */
function tooDeep(text: string, source: string): Diagnostic {
  let depth = 0;
  let deepest = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    depth += "([{".includes(text[i]) ? 1 : ")]}".includes(text[i]) ? -1 : 0;
    if (depth > deepest) [deepest, at] = [depth, i];
  }
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - before.lastIndexOf("\n");
  const position = { offset: at, line, column };
  return diagnostic(
    "E022",
    { source, start: position, end: { ...position, offset: at + 1, column: column + 1 } },
    { detail: "it nests too deeply (thousands of levels)" },
  );
}

type Expectation = { type: string; description?: string; text?: string; parts?: (string | [string, string])[] };

/** `")", "*", "+" or name`: literals quoted, character classes split into their characters. */
function describeExpected(expected: Expectation[]): string {
  const names = new Set<string>();
  for (const e of expected) {
    if (e.type === "literal") names.add(JSON.stringify(e.text));
    else if (e.type === "class") for (const part of e.parts ?? []) names.add(typeof part === "string" ? JSON.stringify(part) : `${part[0]}-${part[1]}`);
    else if (e.type === "end") names.add("end of file");
    else if (e.description && e.description !== "whitespace" && e.description !== "comment") names.add(e.description);
  }
  const list = [...names].sort();
  if (list.length <= 1) return list[0] ?? "something else";
  return `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}
