// Diagnostics: one table of codes and message templates, collected (never
// thrown) by every stage, rendered rustc-style with a gutter and carets.

import type { Span } from "./ast.ts";

export const messages = {
  E001: "syntax error: expected {expected}, found {found}",
  E002: "undefined name `{name}`",
  E003: "unknown layer or function `{name}`{hint}",
  E004: "`{name}` is already defined",
  E005: "`{callee}` has no argument named `{name}`; it takes {params}",
  E006: "`{callee}` is missing its argument `{name}`",
  E007: "`{callee}` takes at most {count} positional argument(s)",
  E008: "shape mismatch in `{op}`: {detail}",
  E009: "expected {expected}, found {found}",
  E010: "the file defines no model",
  E011: "the model has no loss",
  E012: "unknown training setting `{name}`; expected one of {names}",
  E013: "invalid value for `{name}`: {detail}",
  E014: "block `{name}` is used recursively",
  E015: "`{what}` is only allowed {where}",
  E016: "the {scope} defines more than one {what}",
  E017: "block `{name}` ends without `return`",
  E018: "{detail}",
  E019: "syntax error: {detail}",
  E020: "cannot read data: {detail}",
  E021: "the argument `{name}` is given twice",
  E022: "the model is too large to compile: {detail}",
  E023: "cannot export `{op}` (in `{label}`) to ONNX: {detail}",
} as const;
export type Code = keyof typeof messages;

export interface Note {
  span: Span;
  message: string;
}
export interface Diagnostic {
  code: Code;
  message: string;
  span: Span;
  notes: Note[];
}

export function diagnostic(code: Code, span: Span, args: Record<string, string | number> = {}, notes: Note[] = []): Diagnostic {
  const message = messages[code].replace(/\{(\w+)\}/g, (_, key: string) => String(args[key] ?? `{${key}}`));
  return { code, message, span, notes };
}

/** Thrown only to unwind a stage; the driver turns it into a returned diagnostic. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export function fail(code: Code, span: Span, args: Record<string, string | number> = {}, notes: Note[] = []): never {
  throw new DiagnosticError(diagnostic(code, span, args, notes));
}

/**
 * Renders rustc-style: the primary span with carets, each note's span with
 * dashes and the note's text.
 *
 *   error[E008]: shape mismatch in `+`: [B, 4] and [B, 3] do not match
 *    --> model.nn:6:7
 *     |
 *   6 |   y = a + b
 *     |       ^^^^^
 *     |
 *    ::: model.nn:4:7
 *     |
 *   4 |   a = dense(x, 4)
 *     |       ----------- this is [B, 4]
 */
export function render(diag: Diagnostic, sources: ReadonlyMap<string, string>): string {
  const width = Math.max(...[diag.span, ...diag.notes.map((n) => n.span)].map((s) => String(s.start.line).length));
  const lines = [`error[${diag.code}]: ${diag.message}`, ...excerpt(diag.span, sources, width, "-->", "^", "")];
  for (const note of diag.notes) lines.push(`${" ".repeat(width)} |`, ...excerpt(note.span, sources, width, ":::", "-", note.message));
  return lines.join("\n");
}

function excerpt(span: Span, sources: ReadonlyMap<string, string>, width: number, arrow: string, mark: string, label: string): string[] {
  const { line, column } = span.start;
  const text = (sources.get(span.source) ?? "").split("\n")[line - 1] ?? "";
  const length = span.end.line === line ? span.end.column - column : text.length - column + 1;
  const gutter = " ".repeat(width);
  return [
    `${gutter}${arrow} ${span.source}:${line}:${column}`,
    `${gutter} |`,
    `${String(line).padStart(width)} | ${text.replace(/\t/g, " ").trimEnd()}`,
    `${gutter} | ${" ".repeat(column - 1)}${mark.repeat(Math.max(1, length))}${label ? ` ${label}` : ""}`,
  ];
}
