// The reference interpreter: runs any graph in float64, forward, backward and
// the parameter update. It is the oracle that compiled kernels, fusions and
// gradients are checked against.

import { phases } from "./build.ts";
import { type Graph, size } from "./graph.ts";
import { isMap, opDef } from "./ops.ts";

export class Interpreter {
  /** One buffer per node; inputs and parameters are written here by the caller. */
  readonly values: Float64Array[];
  private readonly velocity = new Map<number, Float64Array>();
  private readonly order: ReturnType<typeof phases>;

  constructor(readonly graph: Graph) {
    this.values = graph.nodes.map((node) => new Float64Array(size(node.shape)));
    this.order = phases(graph);
  }

  /** Runs the forward pass on the first n rows; returns the loss. */
  forward(n: number): number {
    this.run(this.order.forward, n);
    return this.values[this.graph.loss][0];
  }

  predict(n: number): void {
    this.run(this.order.predict, n);
  }

  /** Runs forward and backward; gradients are then in values[graph.grads.get(param)]. */
  gradients(n: number): number {
    const loss = this.forward(n);
    this.run(this.order.backward, n);
    return loss;
  }

  trainStep(n: number): number {
    const loss = this.gradients(n);
    this.update();
    return loss;
  }

  update(): void {
    const opt = this.graph.train.optimizer;
    for (const [param, grad] of this.graph.grads) {
      const w = this.values[param];
      const g = this.values[grad];
      if (opt.kind === "sgd" && opt.momentum !== 0) {
        const v = this.velocity.get(param) ?? new Float64Array(w.length);
        this.velocity.set(param, v);
        for (let i = 0; i < w.length; i++) {
          v[i] = opt.momentum * v[i] + g[i];
          w[i] -= opt.lr * v[i];
        }
      } else {
        for (let i = 0; i < w.length; i++) w[i] -= opt.lr * g[i];
      }
    }
  }

  private run(ids: number[], n: number): void {
    for (const id of ids) {
      const node = this.graph.nodes[id];
      if (node.op === "input" || node.op === "param") continue;
      const def = opDef(node.op);
      const ins = node.inputs.map((i) => this.values[i]);
      const out = this.values[id];
      if (isMap(def)) {
        // suffix broadcasting: input k's element for output i is i mod its size
        const f = def.map.ref;
        for (let i = 0; i < out.length; i++) out[i] = f(...ins.map((x) => x[i % x.length]));
      } else {
        def.reference(ins, out, { node, ins: node.inputs.map((i) => this.graph.nodes[i]), n });
      }
    }
  }
}
