// The reference interpreter: runs any graph in float64, forward, backward and
// the parameter update. It is the oracle that compiled kernels, fusions and
// gradients are checked against.

import { streamState, xorshift24 } from "../../src/runtime/xorshift.ts";
import { phases } from "./build.ts";
import { type Graph, size } from "./graph.ts";
import { elementAt, isMap, mapIndex, opDef } from "./ops.ts";
import { optimizerDef } from "./optimizers.ts";

export class Interpreter {
  /** One buffer per node; inputs and parameters are written here by the caller. */
  readonly values: Float64Array[];
  /** The dropout stream's state: as the compiled model's after Model.initialize(seed). */
  rngState: number;
  private readonly slots = new Map<number, Float64Array[]>();
  private steps = 0;
  private readonly order: ReturnType<typeof phases>;

  constructor(
    readonly graph: Graph,
    seed = graph.train.seed,
  ) {
    this.values = graph.nodes.map((node) => new Float64Array(size(node.shape)));
    this.order = phases(graph);
    this.rngState = streamState(seed);
  }

  /** Runs the forward pass on the first n rows; returns the loss. */
  forward(n: number, training = false): number {
    this.run(this.order.forward, n, training);
    return this.values[this.graph.loss][0];
  }

  predict(n: number): void {
    this.run(this.order.predict, n, false);
  }

  /** Runs forward and backward; gradients are then in values[graph.grads.get(param)]. */
  gradients(n: number, training = false): number {
    const loss = this.forward(n, training);
    this.run(this.order.backward, n, training);
    return loss;
  }

  trainStep(n: number): number {
    const loss = this.gradients(n, true);
    this.update();
    return loss;
  }

  /** Applies the update rule with learning rate lr (the optimizer's own by default). */
  update(lr: number = this.graph.train.optimizer.lr): void {
    const opt = this.graph.train.optimizer;
    const def = optimizerDef(opt);
    this.steps++;
    this.clip();
    for (const [param, grad] of this.graph.grads) {
      const w = this.values[param];
      if (!this.slots.has(param))
        this.slots.set(
          param,
          Array.from({ length: def.slots(opt) }, () => new Float64Array(w.length)),
        );
      def.reference(opt, w, this.values[grad], this.slots.get(param) ?? [], this.steps, lr);
    }
  }

  /** Scales every gradient by clip / norm when their global L2 norm is above the train section's clip. */
  private clip(): void {
    const clip = this.graph.train.clip;
    if (!clip) return;
    const grads = [...this.graph.grads.values()].map((g) => this.values[g]);
    const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
    if (norm <= clip) return;
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= clip / norm;
  }

  private run(ids: number[], n: number, training: boolean): void {
    const random24 = () => {
      const [state, bits] = xorshift24(this.rngState);
      this.rngState = state;
      return bits;
    };
    for (const id of ids) {
      const node = this.graph.nodes[id];
      if (node.op === "input" || node.op === "param") continue;
      const def = opDef(node.op);
      const ins = node.inputs.map((i) => this.values[i]);
      const out = this.values[id];
      if (isMap(def)) {
        const f = def.map.ref;
        const index = mapIndex(
          def,
          node,
          node.inputs.map((i) => this.graph.nodes[i]),
        );
        for (let i = 0; i < out.length; i++) out[i] = f(...ins.map((x, k) => x[elementAt(index[k], i)]));
      } else {
        def.reference(ins, out, { node, ins: node.inputs.map((i) => this.graph.nodes[i]), n, training, random24 });
      }
    }
  }
}
