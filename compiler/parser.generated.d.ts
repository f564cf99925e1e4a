// Types for the Peggy parser that scripts/build-grammar.js generates.
export function parse(input: string, options?: { grammarSource?: string; startRule?: string }): unknown;
