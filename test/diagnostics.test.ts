// Diagnostic golden tests: each test/diagnostics/NAME.nn holds one mistake, and
// NAME.txt holds the first diagnostic exactly as the compiler should render it.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { render } from "../compiler/diagnostics.ts";
import { compileGraph } from "../compiler/index.ts";

const dir = new URL("./diagnostics/", import.meta.url);
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".nn"))
  .map((f) => f.slice(0, -".nn".length))
  .sort();

describe("diagnostics", () => {
  it("has at least 15 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)("%s", (name) => {
    const source = `test/diagnostics/${name}.nn`;
    const text = readFileSync(new URL(`${name}.nn`, dir), "utf8");
    const expected = readFileSync(new URL(`${name}.txt`, dir), "utf8").replace(/\n$/, "");
    let result: ReturnType<typeof compileGraph> | undefined;
    expect(() => {
      result = compileGraph(text, { file: source });
    }).not.toThrow();
    expect(result?.ok, `${source} should not compile`).toBe(false);
    if (result?.ok !== false) return;
    expect(render(result.diagnostics[0], new Map([[source, text]]))).toBe(expected);
  });
});
