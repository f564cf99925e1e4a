// Parse .nn text into an AST (compiler/ast.ts), or a located E001 diagnostic.

import type { File } from "./ast.ts";
import { type Diagnostic, diagnostic } from "./diagnostics.ts";
import { parse as peggyParse } from "./parser.generated.js";

interface PeggySyntaxError {
  location: { source: string; start: { offset: number; line: number; column: number }; end: { offset: number; line: number; column: number } };
  expected: { type: string; description?: string; text?: string }[] | null;
  found: string | null;
}

export function parse(text: string, source: string): { ast: File } | { error: Diagnostic } {
  try {
    return { ast: peggyParse(text, { grammarSource: source }) as File };
  } catch (e) {
    const err = e as PeggySyntaxError;
    if (!err.location) throw e;
    const expected = describeExpected(err.expected ?? []);
    const found = err.found === null ? "end of file" : JSON.stringify(err.found);
    return { error: diagnostic("E001", err.location, { expected, found }) };
  }
}

function describeExpected(expected: PeggySyntaxError["expected"] & object): string {
  const names = [
    ...new Set(expected.filter((e) => e.type !== "other" || e.description !== "whitespace").map((e) => e.description ?? JSON.stringify(e.text))),
  ].filter((d) => d !== "whitespace" && d !== "comment");
  names.sort();
  if (names.length <= 1) return names[0] ?? "something else";
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}
