// The README's library example runs as written, importing the package by its
// name (Node resolves "nnc" to this checkout through the exports map), and
// does what its comments say.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = new URL("../", import.meta.url).pathname;

it("the README's API example trains XOR and predicts it", async () => {
  const readme = readFileSync(new URL("README.md", `file://${root}`), "utf8");
  const example = readme.match(/```js\n([\s\S]*?)```/)?.[1];
  expect(example, "a ```js block in README.md").toBeDefined();
  const report = "console.log(JSON.stringify({ predicted: Array.from(model.predict(data)), metrics: model.evaluate(data), names: Object.keys(weights) }));";
  const { stdout } = await promisify(execFile)("node", ["--input-type=module", "--eval", `${example}\n${report}`], { cwd: root });
  const lines = stdout.trim().split("\n");
  // onEpoch logs every 500th epoch: the loss falls
  const losses = lines.slice(0, -1).map((line) => Number(line.split(" ")[1]));
  expect(losses.length).toBe(4);
  expect(losses[3]).toBeLessThan(losses[0]);
  const { predicted, metrics, names } = JSON.parse(lines.at(-1) as string);
  expect(predicted.map(Math.round)).toEqual([0, 1, 1, 0]);
  expect(metrics.loss).toBeLessThan(0.01);
  expect(names).toContain("dense.w");
});
