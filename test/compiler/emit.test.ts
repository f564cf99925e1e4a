// Names from a .nn file cannot change the generated program: a layer named
// like AssemblyScript code, even with a Unicode line separator to end the
// comment it appears in, yields the same code as a plain name. Each kernel
// is a function of its own (one function holding them all took Binaryen
// minutes to optimise for a Transformer).

import { readFileSync } from "node:fs";
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

function emittedFor(text: string, file: string): string {
  const result = compileGraph(text, { file });
  if (!result.ok) throw new Error(result.diagnostics[0].message);
  const fusion = fuse(result.graph);
  return emitModule(result.graph, layout(result.graph, fusion), fusion);
}

const emitted = (name: string) => emittedFor(source(name), "m.nn");

describe("emitted code", () => {
  it("does not carry names from the file as code", () => {
    const hostile = "h\u2028export function stolen(): void { unreachable(); }\u2028//";
    const code = emitted(hostile);
    expect(code).not.toContain("\u2028");
    expect(code).not.toMatch(/^\s*export function stolen/m);
    const strip = (text: string) => text.replace(/\/\/.*$/gm, "");
    expect(strip(code)).toBe(strip(emitted("h")));
  });

  it("writes each kernel as a function of its own, which its phase calls in order", () => {
    const code = emittedFor(readFileSync("examples/transformer.nn", "utf8"), "examples/transformer.nn");
    for (const phase of ["forward", "backward"]) {
      const body = code.match(new RegExp(`^function ${phase}_pass\\(n: i32\\): void \\{\n([^]*?)^\\}`, "m"))?.[1] ?? "";
      const lines = body
        .trim()
        .split("\n")
        .map((line) => line.trim());
      const kernels = lines.length / 2;
      expect(kernels).toBeGreaterThan(50);
      expect(lines).toEqual(Array.from({ length: kernels }, (_, i) => [`${phase}_kernel_${i}(n);`, "barrier();"]).flat());
      for (let i = 0; i < kernels; i++) expect(code).toContain(`\nfunction ${phase}_kernel_${i}(n: i32): void {`);
    }
  });
});
