// Resource limits: everything a training step touches must fit in the 2 GiB
// that 32-bit WebAssembly addresses (with signed i32 arithmetic) can reach.
// Checked on the laid-out graph, before anything is allocated or compiled;
// the error points at the largest tensor. Afterwards: the arena fits.

import { type Diagnostic, diagnostic } from "../diagnostics.ts";
import { layout } from "../emit/memory.ts";
import { formatShape, type Graph, size } from "../ir/graph.ts";

export const MAX_MEMORY = 2 ** 31;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toLocaleString("en", { maximumFractionDigits: 0 })} MiB`;

export function checkLimits(graph: Graph): Diagnostic[] {
  const needed = layout(graph).end;
  if (needed <= MAX_MEMORY) return [];
  const largest = graph.nodes.reduce((a, b) => (size(b.shape) > size(a.shape) ? b : a));
  const detail = [
    `a training step with batch ${graph.train.batch} needs ${mib(needed)} of memory, more than the ${mib(MAX_MEMORY)} WebAssembly can address;`,
    `the largest tensor, made here, is ${formatShape(largest)} (${mib(size(largest.shape) * 4)})`,
  ].join(" ");
  return [diagnostic("E022", largest.span, { detail })];
}
