// The memory plan never lets two tensors that are alive at the same time
// share a byte, and no kernel writes over a tensor it reads. Checked on every
// example, fused, against lives computed here from the kernels' order; a
// value fused away has no place, and no other kernel reads it.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fuse } from "../../compiler/emit/fusion.ts";
import { layout } from "../../compiler/emit/memory.ts";
import { compileGraph } from "../../compiler/index.ts";
import { size } from "../../compiler/ir/graph.ts";
import { opDef } from "../../compiler/ir/ops.ts";

const examples = readdirSync("examples").filter((f) => f.endsWith(".nn"));

describe("memory plan", () => {
  for (const file of examples) {
    it(file, () => {
      const result = compileGraph(readFileSync(`examples/${file}`, "utf8"), { file });
      if (!result.ok) throw new Error(result.diagnostics[0].message);
      const graph = result.graph;
      const fusion = fuse(graph);
      const mem = layout(graph, fusion);
      const kernels = [...fusion.forward, ...fusion.backward].map((k) => [k.root, ...k.members]);
      const always = new Set([...graph.inputs, ...graph.params.map((p) => p.node), ...graph.grads.values(), ...graph.outputs, graph.loss]);
      // a reshape is its input's buffer: it shares that buffer's life
      const owner = graph.nodes.map((n) => n.id);
      for (const n of graph.nodes) if (opDef(n.op).alias) owner[n.id] = owner[n.inputs[0]];
      // each buffer's life: from the kernel writing it to the last kernel reading it, or the whole step for what the host touches
      const life = new Map<number, [number, number]>();
      kernels.forEach((ids, step) => {
        for (const id of ids) life.set(id, always.has(id) ? [-1, kernels.length] : [step, step]);
      });
      for (const id of always) life.set(owner[id], [-1, kernels.length]);
      kernels.forEach((ids, step) => {
        for (const id of ids) {
          for (const input of graph.nodes[id].inputs) {
            if (fusion.internal.has(input)) expect(ids, `%${input} is fused away but read by another kernel`).toContain(input);
            const span = life.get(owner[input]);
            if (span) span[1] = Math.max(span[1], step);
          }
        }
      });
      for (const id of fusion.internal) expect(mem.offsets[id]).toBe(-1);
      const buffers = [...life.keys()].filter((id) => !fusion.internal.has(id));
      const range = (id: number) => [mem.offsets[id], mem.offsets[id] + size(graph.nodes[id].shape) * 4];
      let shared = 0;
      for (const a of buffers) {
        for (const b of buffers) {
          if (a >= b) continue;
          const [ra, rb] = [range(a), range(b)];
          if (ra[0] >= rb[1] || rb[0] >= ra[1]) continue;
          shared++;
          const [la, lb] = [life.get(a) as [number, number], life.get(b) as [number, number]];
          expect(la[1] < lb[0] || lb[1] < la[0], `%${a} and %${b} share memory while both alive`).toBe(true);
        }
      }
      // memory is saved exactly when some tensors share it, or are fused away
      expect(shared > 0 || fusion.internal.size > 0).toBe(mem.tensorBytes.planned < mem.tensorBytes.naive);
    });
  }
});
