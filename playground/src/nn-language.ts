// Highlighting of .nn files in CodeMirror: a StreamLanguage whose keywords
// and built-in names come from the VS Code extension's TextMate grammar
// (editors/vscode/syntaxes/nn.tmLanguage.json, checked against the compiler's
// own lists by test/editors), so the playground never falls behind it. The
// tags are ones CodeMirror's default highlight style colours.

import { StreamLanguage } from "@codemirror/language";
import grammar from "../../editors/vscode/syntaxes/nn.tmLanguage.json";

/** TextMate scopes, by prefix, to the tags the tokenizer returns; the first prefix that fits wins. */
const scopeTags: [scope: string, tag: string][] = [
  ["keyword", "keyword"],
  ["support.function", "typeName"], // layers, losses, activations, data sources, optimizers, ...
  ["support.type.property-name", "variableName.local"], // training settings, as named arguments
  ["support.type", "className"], // class(K), tokens(...)
  ["support.constant", "atom"],
  ["constant.language", "bool"],
];

/** The grammar's word lists (`\b(?:dense|conv2d|...)\b`, some with a lookahead such as `(?=\s*\()`), each with its tag. */
const wordLists: [pattern: RegExp, tag: string][] = Object.values(grammar.repository as Record<string, { match?: string; name?: string }>).flatMap(
  ({ match, name }) => {
    const tag = name && scopeTags.find(([scope]) => name.startsWith(scope))?.[1];
    return match?.startsWith("\\b(?:") && tag ? [[new RegExp(match), tag] as [RegExp, string]] : [];
  },
);

export const nnLanguage = StreamLanguage.define<null>({
  name: "nn",
  startState: () => null,
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("#")) {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.match(/^"[^"]*"?/)) return "string";
    if (stream.match(/^\d+(\.\d+)?([eE][+-]?\d+)?/)) return "number";
    for (const [pattern, tag] of wordLists) if (stream.match(pattern)) return tag;
    if (stream.match(/^[A-Za-z_]\w*(?=\s*:)/)) return "variableName.local"; // a named argument
    if (stream.match(/^[A-Za-z_]\w*(?=\s*=(?!=))/)) return "variableName.definition";
    if (stream.match(/^[A-Za-z_]\w*(?=\s*\()/)) return "macroName"; // a block's call
    if (stream.match(/^[A-Za-z_]\w*/)) return "variableName";
    if (stream.match("|>") || stream.match(/^[-+*/=]/)) return "operator";
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { line: "#" } },
});
