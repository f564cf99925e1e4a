// The pictures nnc commands write as SVG: training curves (`train --plot`),
// the training graph (`inspect --svg`) and a classifier's confusion matrix
// (`eval --confusion`). Paths are checked when the options are read, so a
// long training run does not fail at its end for a mistyped folder.

import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Kernel } from "../../compiler/emit/fusion.ts";
import type { Graph } from "../../compiler/ir/graph.ts";
import { graphSvg } from "../../compiler/ir/picture.ts";
import { type CurveOptions, confusionMatrix, confusionMatrixSvg, type EpochHistory, trainingCurvesSvg } from "../report/charts.ts";
import { classify } from "../report/classify.ts";
import type { Dataset, Model } from "../runtime/model.ts";
import { type Values, writeAtomic } from "./common.ts";
import { UsageError } from "./errors.ts";

/** The value of option --NAME: a path ending in .svg, in a folder that exists. */
export function svgOption(values: Values, name: string): string | undefined {
  const path = values[name];
  if (path === undefined) return undefined;
  if (typeof path !== "string" || !path.endsWith(".svg"))
    throw new UsageError(`--${name} writes an SVG picture; give a file name ending in .svg, not \`${path}\``);
  if (!existsSync(dirname(path))) throw new UsageError(`--${name} ${path}: the folder ${dirname(path)} does not exist`);
  return path;
}

export async function writeTrainingPlot(path: string, history: readonly EpochHistory[], options: CurveOptions): Promise<void> {
  writeAtomic(path, await trainingCurvesSvg(history, options));
}

/** The graph with one box per kernel. */
export async function writeGraphPicture(path: string, graph: Graph, kernels: readonly Kernel[]): Promise<void> {
  writeAtomic(path, await graphSvg(graph, { kernels: kernels.map((k) => [k.root, ...k.members]) }));
}

/** The model's predictions on `data` against its labels; class names default to the class numbers. */
export async function writeConfusionMatrix(path: string, model: Model, data: Dataset, classNames?: readonly string[]): Promise<void> {
  const { labels, predictions, classes } = classify(model, data);
  writeAtomic(path, await confusionMatrixSvg(confusionMatrix(labels, predictions, classes), classNames));
}
