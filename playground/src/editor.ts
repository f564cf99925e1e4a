// The .nn editor: CodeMirror 6 with .nn highlighting and the compiler's
// diagnostics inline (underlined, in the gutter, in a tooltip), checked as
// one types and set again when compiling or training fails.

import { type Diagnostic, linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { basicSetup, EditorView } from "codemirror";
import { nnLanguage } from "./nn-language.ts";
import type { Problem } from "./protocol.ts";

function diagnostics(view: EditorView, problems: Problem[]): Diagnostic[] {
  const end = view.state.doc.length;
  return problems.map(({ from, to, severity, message }) => ({ from: Math.min(from, end), to: Math.min(Math.max(from, to), end), severity, message }));
}

/** An editor in `parent`; `check` gives the problems of its text after each pause in typing. */
export function createEditor(parent: HTMLElement, check: (text: string) => Promise<Problem[]>): EditorView {
  return new EditorView({
    parent,
    extensions: [
      basicSetup,
      nnLanguage,
      lintGutter(),
      EditorView.lineWrapping,
      linter(async (view) => diagnostics(view, await check(view.state.doc.toString())), { delay: 400 }),
      EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" } }),
    ],
  });
}

export function setText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Shows these problems until the next check. */
export function showProblems(view: EditorView, problems: Problem[]): void {
  view.dispatch(setDiagnostics(view.state, diagnostics(view, problems)));
}
