// Charts of a training run, as SVG: loss and accuracy per epoch (train and
// test), and the confusion matrix of a classifier. Each chart is a Vega-Lite
// spec (exported, so a page can show it interactively with vega-embed),
// compiled to Vega and drawn by a headless view. Runtime-neutral: no Node
// APIs and no canvas, so the browser can reuse it.

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { EpochReport, Metrics } from "../runtime/model.ts";

/** One epoch of a run: nnc's report, plus the metrics on the training set when the caller measured them. */
export type EpochHistory = Pick<EpochReport, "epoch" | "loss" | "metrics"> & {
  /** Measured on the training set after the epoch, like `metrics` on the test set. */
  train?: Metrics;
};

export interface CurveOptions {
  /** Shown above the panels, e.g. the model's name. */
  title?: string;
  /** What `metrics` was measured on, for the legend (default "test"). */
  evaluatedOn?: string;
}

/** A confusion matrix: counts[trueClass][predictedClass]. */
export type ConfusionMatrix = number[][];

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const TRAIN_COLOR = "#1f77b4";
const EVALUATED_COLOR = "#ff7f0e";
/** A loss that falls by more than this factor over the run is drawn on a log scale. */
const LOG_SCALE_RATIO = 30;
/** Confusion matrix cells: sides in pixels, widened to fit class names of an estimated width per character. */
const MIN_CELL = 40;
const MAX_CELL = 80;
const AVERAGE_CHAR_WIDTH = 6.5;
/** Runs up to this many epochs mark each epoch with a point. */
const MAX_EPOCHS_WITH_POINTS = 40;

const config = {
  font: "Helvetica, Arial, sans-serif",
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: "#555", anchor: "start" as const },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const },
  legend: { labelFontSize: 12 },
};

interface CurvePoint {
  epoch: number;
  split: string;
  metric: "loss" | "accuracy";
  value: number;
}

/** Long-form rows, one per (epoch, split, metric) that was measured. */
function curvePoints(history: readonly EpochHistory[], evaluatedOn: string): CurvePoint[] {
  return history.flatMap(({ epoch, loss, metrics, train }) => {
    const measured: [string, CurvePoint["metric"], number | undefined][] = [
      // measured after the epoch when the caller did, else the mean over the epoch's batches
      ["train", "loss", train?.loss ?? loss],
      ["train", "accuracy", train?.accuracy],
      [evaluatedOn, "loss", metrics.loss],
      [evaluatedOn, "accuracy", metrics.accuracy],
    ];
    return measured.filter(([, , value]) => value !== undefined).map(([split, metric, value]) => ({ epoch, split, metric, value: value as number }));
  });
}

/** One panel: a metric's curves per split, y on a log scale when asked. */
function curvePanel(metric: CurvePoint["metric"], splits: string[], style: { log: boolean; points: boolean }) {
  const yTitle = style.log ? `${metric} (log scale)` : metric;
  return {
    width: 320,
    height: 220,
    transform: [{ filter: { field: "metric", equal: metric } }],
    mark: { type: "line" as const, point: style.points, strokeWidth: 2 },
    encoding: {
      x: { field: "epoch", type: "quantitative" as const, title: "epoch", scale: { zero: false, nice: false }, axis: { format: "d", tickMinStep: 1 } },
      y: {
        field: "value",
        type: "quantitative" as const,
        title: yTitle,
        scale: style.log ? { type: "log" as const } : { zero: false },
        axis: metric === "accuracy" ? { format: ".0%" } : {},
      },
      color: {
        field: "split",
        type: "nominal" as const,
        title: null,
        scale: { domain: splits, range: [TRAIN_COLOR, EVALUATED_COLOR] },
        legend: { orient: "top" as const, symbolType: "stroke", symbolStrokeWidth: 2.5, symbolSize: 400, labelLimit: 400 },
      },
      strokeDash: {
        field: "split",
        type: "nominal" as const,
        title: null,
        scale: {
          domain: splits,
          range: [
            [1, 0],
            [6, 3],
          ],
        },
      },
      tooltip: [
        { field: "epoch", type: "quantitative" as const },
        { field: "split", type: "nominal" as const },
        { field: "value", type: "quantitative" as const, title: metric, format: ".4~f" },
      ],
    },
  };
}

/** Loss per epoch, and accuracy when it was measured: two panels, train against test. */
export function trainingCurvesSpec(history: readonly EpochHistory[], options: CurveOptions = {}): TopLevelSpec {
  if (history.length === 0) throw new RangeError("no epochs to draw");
  const evaluatedOn = options.evaluatedOn ?? "test";
  const points = curvePoints(history, evaluatedOn);
  const losses = points.filter((p) => p.metric === "loss").map((p) => p.value);
  const logLoss = Math.min(...losses) > 0 && Math.max(...losses) / Math.min(...losses) > LOG_SCALE_RATIO;
  const panels = (["loss", "accuracy"] as const)
    .filter((metric) => points.some((p) => p.metric === metric))
    .map((metric) => curvePanel(metric, ["train", evaluatedOn], { log: metric === "loss" && logLoss, points: history.length <= MAX_EPOCHS_WITH_POINTS }));
  return {
    $schema: SCHEMA,
    ...(options.title ? { title: options.title } : {}),
    data: { values: points },
    hconcat: panels,
    resolve: { scale: { color: "shared", strokeDash: "shared" } },
    config,
  };
}

/** Counts of (true class, predicted class) pairs; every value must be a class in 0..classes-1. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: number): ConfusionMatrix {
  if (labels.length !== predictions.length) throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const [actual, predicted] = [labels[i], predictions[i]];
    if (!(Number.isInteger(actual) && Number.isInteger(predicted) && actual >= 0 && predicted >= 0 && actual < classes && predicted < classes))
      throw new RangeError(`sample ${i}: true class ${actual} or predicted class ${predicted} is not in 0..${classes - 1}`);
    counts[actual][predicted]++;
  }
  return counts;
}

/** A heatmap of the matrix with the counts in its cells: true class down, predicted class across. */
export function confusionMatrixSpec(matrix: ConfusionMatrix, classNames?: readonly string[]): TopLevelSpec {
  const names = classNames ?? matrix.map((_, i) => String(i));
  if (names.length !== matrix.length) throw new RangeError(`${names.length} class names for ${matrix.length} classes`);
  if (new Set(names).size !== names.length) throw new RangeError(`class names must differ: ${names.join(", ")}`);
  const cells = matrix.flatMap((row, actual) => row.map((count, predicted) => ({ actual: names[actual], predicted: names[predicted], count })));
  const total = cells.reduce((sum, cell) => sum + cell.count, 0);
  const correct = matrix.reduce((sum, row, i) => sum + row[i], 0);
  const largest = Math.max(1, ...cells.map((cell) => cell.count));
  // names fit across under their column when short, else they are slanted
  const widestName = AVERAGE_CHAR_WIDTH * Math.max(...names.map((name) => name.length)) + 8;
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, widestName));
  const axis = (field: "actual" | "predicted", title: string) => ({
    field,
    type: "ordinal" as const,
    sort: [...names],
    title,
    axis: { labelAngle: field === "predicted" && widestName > cell ? -40 : 0, labelLimit: 160, domain: false, ticks: false },
  });
  const position = { x: axis("predicted", "predicted class"), y: axis("actual", "true class") };
  return {
    $schema: SCHEMA,
    title: { text: "confusion matrix", subtitle: `${total} samples, ${total ? ((100 * correct) / total).toFixed(1) : "0"}% correct` },
    data: { values: cells },
    width: { step: cell },
    height: { step: cell },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          ...position,
          color: { field: "count", type: "quantitative", scale: { scheme: "blues", domain: [0, largest] }, legend: { title: "count" } },
          tooltip: [
            { field: "actual", type: "nominal", title: "true" },
            { field: "predicted", type: "nominal" },
            { field: "count", type: "quantitative" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 12 },
        encoding: {
          ...position,
          text: { field: "count", type: "quantitative" },
          color: {
            condition: [
              { test: `datum.count > ${largest / 2}`, value: "white" },
              { test: "datum.count === 0", value: "#b0b0b0" },
            ],
            value: "#222",
          },
        },
      },
    ],
    config,
  };
}

/** Renders a Vega-Lite spec to SVG text, without a browser or canvas. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export const trainingCurvesSvg = (history: readonly EpochHistory[], options?: CurveOptions): Promise<string> => renderSvg(trainingCurvesSpec(history, options));

export const confusionMatrixSvg = (matrix: ConfusionMatrix, classNames?: readonly string[]): Promise<string> =>
  renderSvg(confusionMatrixSpec(matrix, classNames));
