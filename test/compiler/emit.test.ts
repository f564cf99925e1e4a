// Names from a .nn file cannot change the generated program: a layer named
// like AssemblyScript code, even with a Unicode line separator to end the
// comment it appears in, yields the same code as a plain name.

import { describe, expect, it } from "vitest";
import { emitModule } from "../../compiler/emit/assemblyscript.ts";
import { fuse } from "../../compiler/emit/fusion.ts";
import { layout } from "../../compiler/emit/memory.ts";
import { compileGraph } from "../../compiler/index.ts";

const source = (name: string) => `model m {
  input x: [2]
  input t: [1]
  loss mse(dense(x, 1, name: "${name}"), t)
}`;

function emitted(name: string): string {
  const result = compileGraph(source(name), { file: "m.nn" });
  if (!result.ok) throw new Error(result.diagnostics[0].message);
  const fusion = fuse(result.graph);
  return emitModule(result.graph, layout(result.graph, fusion), fusion);
}

describe("emitted code", () => {
  it("does not carry names from the file as code", () => {
    const hostile = "h\u2028export function stolen(): void { unreachable(); }\u2028//";
    const code = emitted(hostile);
    expect(code).not.toContain("\u2028");
    expect(code).not.toMatch(/^\s*export function stolen/m);
    const strip = (text: string) => text.replace(/\/\/.*$/gm, "");
    expect(strip(code)).toBe(strip(emitted("h")));
  });
});
