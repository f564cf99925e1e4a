// Learning-rate schedules, evaluated by the host before each step and
// written into the model's memory (the compiled update reads it there).
//   constant            lr
//   cosine(warmup: W)   linear warm-up over W steps, then lr * (1 + cos(pi * progress)) / 2 down to 0
//   rsqrt(warmup: W)    the original Transformer's (Vaswani et al. 2017): linear warm-up over W
//                       steps, then decay with 1 / sqrt(step); scaled so that the peak is lr

import type { Schedule } from "../../compiler/ir/graph.ts";

/** The learning rate of step `step` (from 0) of a run of `total` steps. */
export function learningRate(lr: number, schedule: Schedule, step: number, total: number): number {
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "cosine": {
      if (step < schedule.warmup) return (lr * (step + 1)) / schedule.warmup;
      const progress = (step - schedule.warmup) / Math.max(1, total - schedule.warmup);
      return (lr * (1 + Math.cos(Math.PI * Math.min(1, progress)))) / 2;
    }
    case "rsqrt": {
      const s = step + 1;
      return lr * Math.sqrt(schedule.warmup) * Math.min(1 / Math.sqrt(s), s * schedule.warmup ** -1.5);
    }
    default:
      return schedule satisfies never;
  }
}
