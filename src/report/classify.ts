// The true and the predicted class of every sample, the input of a confusion
// matrix. A class is a `class(K)` label, the largest entry of a one-hot
// target or output row, or for a single float (0/1 targets) whether it is at
// least 0.5, as in Model.evaluate's accuracy. Runtime-neutral.

import { type Dataset, type Model, ModelError } from "../runtime/model.ts";

export interface Classified {
  labels: Int32Array;
  predictions: Int32Array;
  classes: number;
}

/** The class of each row of `width` values: the largest entry, or a threshold at 0.5 for one value. */
export function rowClasses(values: ArrayLike<number>, width: number): Int32Array {
  const rows = Int32Array.from({ length: values.length / width });
  for (let r = 0; r < rows.length; r++) {
    if (width === 1) rows[r] = values[r] >= 0.5 ? 1 : 0;
    else for (let j = 1; j < width; j++) if (values[r * width + j] > values[r * width + rows[r]]) rows[r] = j;
  }
  return rows;
}

/** Runs the model on `data` (its first output) and pairs each sample's predicted class with its true one. */
export function classify(model: Model, data: Dataset): Classified {
  const { inputs, loss, outputs } = model.manifest;
  const target = inputs.find((input) => input.name === loss.target);
  if (!target) throw new ModelError(`model \`${model.manifest.model}\` has no target input to compare its predictions with`);
  const column = data.columns[target.name];
  if (!column) throw new ModelError(`the data has no values for input \`${target.name}\``);
  const width = outputs[0].shape.reduce((a, b) => a * b, 1);
  const predicted = model.predict(data);
  if (target.dtype === "i32") {
    if (target.shape.length > 0) throw new ModelError(`\`${target.name}\` holds a sequence; a confusion matrix needs one class per sample`);
    if (target.classes !== width) throw new ModelError(`\`${target.name}\` has ${target.classes} classes but the output has ${width} values per sample`);
    return { labels: Int32Array.from(column), predictions: rowClasses(predicted, width), classes: width };
  }
  if (column.length !== data.count * width) throw new ModelError(`\`${target.name}\` and the output differ in size; a confusion matrix needs classes`);
  return { labels: rowClasses(column, width), predictions: rowClasses(predicted, width), classes: Math.max(2, width) };
}
