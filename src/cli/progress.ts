// Training progress: a live bar (cli-progress) on a terminal; on a pipe or a
// file, plain lines, at most one a second plus the last epoch.

import cliProgress from "cli-progress";
import type { EpochReport } from "../runtime/model.ts";

export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly started = performance.now();
  private lastLine = 0;
  private samples = 0;

  constructor(
    private readonly model: string,
    private readonly epochs: number,
    private readonly perEpoch: number,
    private readonly quiet: boolean,
  ) {
    this.bar =
      !quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format: `${model} epoch {epoch}/${epochs} [{bar}] {percentage}% | loss {loss} | {metric} | {rate} samples/s | ETA {eta_formatted}`,
              stream: process.stderr,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.bar?.start(epochs * perEpoch, 0, { epoch: 1, loss: "-", metric: "", rate: "-" });
  }

  batch(epoch: number, done: number, loss: number): void {
    this.samples = (epoch - 1) * this.perEpoch + done;
    const rate = Math.round(this.samples / ((performance.now() - this.started) / 1000));
    this.bar?.update(this.samples, { epoch, loss: loss.toPrecision(4), rate });
  }

  epoch(r: EpochReport): void {
    const metric = Object.entries(r.metrics)
      .filter(([k]) => k !== "loss")
      .map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`)
      .join(", ");
    if (this.bar) {
      this.bar.update({ metric });
      return;
    }
    const now = performance.now();
    if (this.quiet || (now - this.lastLine < 1000 && r.epoch !== this.epochs)) return;
    this.lastLine = now;
    process.stdout.write(`${this.model} epoch ${r.epoch}/${this.epochs}: loss ${r.loss.toPrecision(4)}${metric ? `, ${metric}` : ""}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
