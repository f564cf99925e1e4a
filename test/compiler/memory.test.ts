// The memory plan never lets two tensors that are alive at the same time
// share a byte, and no kernel writes over a tensor it reads. Checked on every
// example against lives computed here from the execution order.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { layout } from "../../compiler/emit/memory.ts";
import { compileGraph } from "../../compiler/index.ts";
import { phases } from "../../compiler/ir/build.ts";
import { size } from "../../compiler/ir/graph.ts";
import { opDef } from "../../compiler/ir/ops.ts";

const examples = readdirSync("examples").filter((f) => f.endsWith(".nn"));

describe("memory plan", () => {
  for (const file of examples) {
    it(file, () => {
      const result = compileGraph(readFileSync(`examples/${file}`, "utf8"), { file });
      if (!result.ok) throw new Error(result.diagnostics[0].message);
      const graph = result.graph;
      const mem = layout(graph);
      const order = phases(graph);
      const steps = [...order.forward, ...order.backward];
      const always = new Set([...graph.inputs, ...graph.params.map((p) => p.node), ...graph.grads.values(), ...graph.outputs, graph.loss]);
      // each node's life: from its step to the last step reading it, or the whole step for what the host touches
      const life = new Map<number, [number, number]>();
      steps.forEach((id, at) => {
        life.set(id, always.has(id) ? [-1, steps.length] : [at, at]);
        for (const input of graph.nodes[id].inputs) {
          const span = life.get(input) as [number, number];
          span[1] = Math.max(span[1], at);
        }
      });
      // a reshape is its input's buffer: it shares that buffer's life
      const owner = graph.nodes.map((n) => n.id);
      for (const n of graph.nodes) if (opDef(n.op).alias) owner[n.id] = owner[n.inputs[0]];
      for (const id of steps) {
        const [own, mine] = [life.get(owner[id]) as [number, number], life.get(id) as [number, number]];
        own[1] = Math.max(own[1], mine[1]);
      }
      const range = (id: number) => [mem.offsets[id], mem.offsets[id] + size(graph.nodes[id].shape) * 4];
      let shared = 0;
      for (const a of steps) {
        for (const b of steps) {
          if (a >= b || owner[a] === owner[b]) continue;
          const [ra, rb] = [range(a), range(b)];
          if (ra[0] >= rb[1] || rb[0] >= ra[1]) continue;
          shared++;
          const [la, lb] = [life.get(owner[a]) as [number, number], life.get(owner[b]) as [number, number]];
          expect(la[1] < lb[0] || lb[1] < la[0], `%${a} and %${b} share memory while both alive`).toBe(true);
        }
      }
      // memory is saved exactly when some tensors share it
      expect(shared > 0).toBe(mem.tensorBytes.planned < mem.tensorBytes.naive);
    });
  }
});
