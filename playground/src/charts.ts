// The playground's charts, drawn with vega-embed. The training chart is live:
// the loss of the batches as they are trained (a point every few batches, x in
// epochs) and the loss and accuracy measured after each epoch, updated in
// place by inserting rows into the view's data set `points`. The plotted
// batch losses are mirrored, as read back from the view, in the element's
// data-train-loss attribute (JSON), for tests. The confusion matrix is
// src/report/charts.ts's, as `nnc eval --confusion` draws it.

import embed, { type Result, type VisualizationSpec } from "vega-embed";
import { confusionMatrix, confusionMatrixSpec } from "../../src/report/charts.ts";
import type { Classified } from "../../src/report/classify.ts";
import type { EpochReport } from "../../src/runtime/index.ts";
import type { BatchPoint } from "./protocol.ts";

/** One chart in one element: drawing again finalizes the view drawn before. */
class Plot {
  private result: Result | null = null;

  constructor(readonly element: HTMLElement) {}

  async draw(spec: VisualizationSpec): Promise<Result> {
    this.clear();
    this.result = await embed(this.element, spec, { actions: false, renderer: "svg" });
    return this.result;
  }

  clear(): void {
    this.result?.finalize();
    this.result = null;
    this.element.replaceChildren();
  }
}

/** One plotted value. */
interface Row {
  epoch: number;
  series: string;
  metric: "loss" | "accuracy";
  value: number;
}

export interface RunOptions {
  epochs: number;
  /** What the metrics after each epoch were measured on. */
  evaluatedOn: "test" | "train";
}

/**
 * What fixes the spec beyond the run, from the rows so far: whether the loss
 * axis is logarithmic, which metrics have a panel, and whether an epoch was
 * measured yet (an empty layer would make Vega warn of an infinite extent).
 */
interface Layout {
  logLoss: boolean;
  metrics: Row["metric"][];
  measured: boolean;
}

/** The series: the batches' losses as trained, and the metrics measured after each epoch. */
const BATCHES = "train (batches)";
const evaluatedSeries = { test: "test", train: "train (after each epoch)" };
const DATA = "points";
/** A loss that falls by more than this factor is drawn on a log scale (as in `nnc train --plot`). */
const LOG_SCALE_RATIO = 30;
/** Runs up to this many epochs mark each measured epoch with a point. */
const MAX_EPOCHS_WITH_POINTS = 40;

function curvesSpec(rows: Row[], run: RunOptions, { logLoss, metrics, measured }: Layout): VisualizationSpec {
  const evaluated = evaluatedSeries[run.evaluatedOn];
  const series = { field: "series", type: "nominal", title: null, scale: { domain: [BATCHES, evaluated] } } as const;
  const panel = (metric: Row["metric"]) => {
    const encoding = {
      x: { field: "epoch", type: "quantitative", title: "epoch", scale: { domain: [0, run.epochs], nice: false } },
      y: {
        field: "value",
        type: "quantitative",
        title: metric === "loss" && logLoss ? "loss (log scale)" : metric,
        scale: metric === "loss" && logLoss ? { type: "log", nice: false } : { zero: false },
        axis: metric === "accuracy" ? { format: ".0%" } : {},
      },
      color: { ...series, scale: { ...series.scale, range: ["#1f77b4", "#ff7f0e"] }, legend: { orient: "top", symbolType: "stroke" } },
      strokeDash: {
        ...series,
        scale: {
          ...series.scale,
          range: [
            [1, 0],
            [6, 3],
          ],
        },
      },
      tooltip: [
        { field: "series", type: "nominal" },
        { field: "epoch", type: "quantitative", format: ".2f" },
        { field: "value", type: "quantitative", title: metric, format: ".4~f" },
      ],
    };
    const points = { transform: [{ filter: { field: "series", equal: evaluated } }], mark: { type: "point", filled: true, size: 30 }, encoding };
    return {
      width: 230,
      height: 180,
      transform: [{ filter: { field: "metric", equal: metric } }],
      layer: [{ mark: { type: "line", strokeWidth: 2, clip: true }, encoding }, ...(measured && run.epochs <= MAX_EPOCHS_WITH_POINTS ? [points] : [])],
    };
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "training",
    data: { name: DATA, values: rows },
    hconcat: metrics.map(panel),
    config: { font: "Helvetica, Arial, sans-serif", title: { anchor: "start", fontSize: 14 }, axis: { titleFontWeight: "normal" } },
  } as VisualizationSpec;
}

function layoutOf(rows: Row[]): Layout {
  const losses = rows.filter((row) => row.metric === "loss").map((row) => row.value);
  return {
    logLoss: losses.length > 0 && Math.min(...losses) > 0 && Math.max(...losses) / Math.min(...losses) > LOG_SCALE_RATIO,
    metrics: (["loss", "accuracy"] as const).filter((metric) => rows.some((row) => row.metric === metric)),
    measured: rows.some((row) => row.series !== BATCHES),
  };
}

const sameLayout = (a: Layout, b: Layout) => a.logLoss === b.logLoss && a.metrics.join() === b.metrics.join() && a.measured === b.measured;

/** Loss (and accuracy) curves of the run in progress, drawn from its first point on. */
export class TrainingChart {
  private readonly plot: Plot;
  private run: RunOptions | null = null;
  private rows: Row[] = [];
  /** What the view shows: the run, in which layout, and how many of its rows. */
  private drawn: { run: RunOptions; layout: Layout; rows: number; view: Result["view"] } | null = null;
  /** Updates run one after the other, each bringing the view up to `rows`. */
  private updates: Promise<void> = Promise.resolve();

  constructor(element: HTMLElement) {
    this.plot = new Plot(element);
  }

  start(run: RunOptions): void {
    this.run = run;
    this.rows = [];
    this.update();
  }

  add(batches: BatchPoint[], epochs: EpochReport[]): void {
    if (!this.run) return;
    const evaluated = evaluatedSeries[this.run.evaluatedOn];
    this.rows.push(...batches.map((b): Row => ({ epoch: b.epoch, series: BATCHES, metric: "loss", value: b.loss })));
    for (const { epoch, metrics } of epochs) {
      this.rows.push({ epoch, series: evaluated, metric: "loss", value: metrics.loss });
      if (metrics.accuracy !== undefined) this.rows.push({ epoch, series: evaluated, metric: "accuracy", value: metrics.accuracy });
    }
    this.update();
  }

  clear(): void {
    this.run = null;
    this.updates = this.updates.then(() => {
      this.drawn = null;
      this.plot.clear();
    });
  }

  private update(): void {
    this.updates = this.updates.then(async () => {
      const run = this.run;
      if (!run || this.rows.length === 0) return;
      const layout = layoutOf(this.rows);
      let drawn = this.drawn;
      if (drawn?.run === run && sameLayout(drawn.layout, layout)) await drawn.view.insert(DATA, this.rows.slice(drawn.rows)).runAsync();
      else drawn = { run, layout, rows: 0, view: (await this.plot.draw(curvesSpec(this.rows.slice(), run, layout))).view };
      this.drawn = { ...drawn, rows: this.rows.length };
      const plotted = drawn.view.data(DATA) as Row[];
      this.plot.element.dataset.trainLoss = JSON.stringify(plotted.filter((row) => row.series === BATCHES).map((row) => row.value));
    });
  }
}

/** Draws a classifier's confusion matrix, or clears the element when there is none. */
export class ConfusionChart {
  private readonly plot: Plot;

  constructor(element: HTMLElement) {
    this.plot = new Plot(element);
  }

  async show(classified: (Classified & { classNames?: string[] }) | undefined): Promise<void> {
    if (!classified) return this.plot.clear();
    const { labels, predictions, classes, classNames } = classified;
    await this.plot.draw(confusionMatrixSpec(confusionMatrix(labels, predictions, classes), classNames) as VisualizationSpec);
  }
}
