// The pictures users look at: training curves and a confusion matrix from a
// real (short) Iris run, and the training graph of examples/cnn.nn. Each SVG
// must parse (resvg reads XML strictly), carry its text, and render to a PNG
// that is not blank. The PNGs are kept in a temp folder for a human to look at.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { beforeAll, describe, expect, it } from "vitest";
import { fuse } from "../../compiler/emit/fusion.ts";
import { compileGraph } from "../../compiler/index.ts";
import type { Graph } from "../../compiler/ir/graph.ts";
import { graphDot, graphSvg } from "../../compiler/ir/picture.ts";
import { filesBeside } from "../../src/cli/files.ts";
import { svgOption, writeGraphPicture } from "../../src/cli/pictures.ts";
import { confusionMatrix, confusionMatrixSvg, type EpochHistory, trainingCurvesSvg } from "../../src/report/charts.ts";
import { type Classified, classify } from "../../src/report/classify.ts";
import { loadData } from "../../src/runtime/data.ts";
import { compileModel } from "../helpers.ts";

const examples = new URL("../../examples/", import.meta.url);
const out = mkdtempSync(join(tmpdir(), "nnc-pictures-"));

function compiled(name: string): Graph {
  const result = compileGraph(readFileSync(new URL(name, examples), "utf8"), { file: `examples/${name}` });
  if (!result.ok) throw new Error(result.diagnostics[0].message);
  return result.graph;
}

/** Renders the SVG to `name`.png and returns how much of it is drawn: the share of non-background pixels and the distinct colours. */
function renderPng(svg: string, name: string): { inked: number; colours: number } {
  const image = new Resvg(svg, { background: "white", fitTo: { mode: "zoom", value: 1.5 }, font: { defaultFontFamily: "DejaVu Sans" } }).render();
  writeFileSync(join(out, `${name}.png`), image.asPng());
  const pixels = image.pixels;
  const colours = new Set<number>();
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250) inked++;
    colours.add(((pixels[i] >> 4) << 8) | ((pixels[i + 1] >> 4) << 4) | (pixels[i + 2] >> 4));
  }
  return { inked: inked / (pixels.length / 4), colours: colours.size };
}

function expectPicture(svg: string, name: string, texts: string[], minInked: number): void {
  expect(svg).toMatch(/<svg[\s>]/);
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  for (const text of texts) expect(svg).toContain(text);
  const { inked, colours } = renderPng(svg, name);
  expect(inked).toBeGreaterThan(minInked);
  expect(colours).toBeGreaterThan(8);
}

describe("a short Iris run", () => {
  const history: EpochHistory[] = [];
  let classified: Classified;

  beforeAll(async () => {
    const source = readFileSync(new URL("iris.nn", examples), "utf8").replace("seed: 1 }", "seed: 1, metrics: [accuracy] }");
    const { model } = await compileModel(source, "examples/iris.nn");
    const split = loadData(model.manifest, filesBeside(new URL("iris.nn", examples).pathname));
    model.fit(split.train, { test: split.test, epochs: 30, onEpoch: (report) => history.push({ ...report, train: model.evaluate(split.train) }) });
    classified = classify(model, split.test ?? split.train);
  });

  it("draws loss and accuracy curves, train against test", async () => {
    expect(history).toHaveLength(30);
    const svg = await trainingCurvesSvg(history, { title: "iris" });
    expectPicture(svg, "curves", ["epoch", "loss", "accuracy", "train", "test", "iris"], 0.03);
  });

  it("draws the confusion matrix of the test split with class names and counts", async () => {
    const matrix = confusionMatrix(classified.labels, classified.predictions, classified.classes);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(45);
    const svg = await confusionMatrixSvg(matrix, ["setosa", "versicolor", "virginica"]);
    expectPicture(svg, "confusion", ["setosa", "versicolor", "virginica", "true class", "predicted class", `>${matrix[0][0]}<`], 0.1);
  });
});

describe("confusion matrices", () => {
  it("counts (true, predicted) pairs and refuses classes out of range", () => {
    expect(confusionMatrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 1],
    ]);
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(/not in 0..2/);
  });

  it("escapes class names that look like markup", async () => {
    const svg = await confusionMatrixSvg(
      [
        [3, 1],
        [0, 4],
      ],
      ['<b class="x">&', "it's"],
    );
    expect(svg).not.toContain("<b class");
    expectPicture(svg, "confusion-escaped", ["&lt;b class="], 0.05);
  });
});

describe("graph pictures", () => {
  it("draws the training graph of cnn.nn: every phase, op, label and shape", async () => {
    const svg = await graphSvg(compiled("cnn.nn"));
    const texts = ["model cnn", "conv2d_grad_w", "maxpool2d", "label_ce", "adam", "conv2d_1.w", "[B, 16, 28, 28]", "backward", "update"];
    expectPicture(svg, "graph", texts, 0.05);
  });

  it("draws a kernel as one box listing its ops", () => {
    const graph = compiled("xor.nn");
    const dot = graphDot(graph, { kernels: [[3, 5, 6]] });
    const kernelBox = dot.split("\n").find((line) => line.startsWith("  n3 ")) ?? "";
    for (const op of ["matmul", "add", "sigmoid"]) expect(kernelBox).toContain(`<B>${op}</B>`);
    expect(dot).not.toMatch(/^ {2}n[56] /m);
    expect(() => graphDot(graph, { kernels: [[3], [3, 5]] })).toThrow(/in kernels 0 and 1/);
  });

  it("escapes names from the user's file", async () => {
    const graph = compiled("xor.nn");
    graph.model = 'x<y & "z"';
    graph.nodes[2].label = "h.w</TD>\\";
    const svg = await graphSvg(graph);
    expect(svg).toContain("x&lt;y &amp; &quot;z&quot;");
    expectPicture(svg, "graph-escaped", ["h.w&lt;/TD&gt;\\"], 0.05);
  });
});

describe("the CLI's picture options", () => {
  it("take only .svg paths in folders that exist, and write the picture there", async () => {
    expect(svgOption({}, "plot")).toBeUndefined();
    expect(() => svgOption({ plot: join(out, "curves.png") }, "plot")).toThrow(/ending in .svg/);
    expect(() => svgOption({ svg: join(out, "missing", "graph.svg") }, "svg")).toThrow(/does not exist/);
    const path = svgOption({ svg: join(out, "xor.svg") }, "svg") as string;
    const graph = compiled("xor.nn");
    const fusion = fuse(graph);
    await writeGraphPicture(path, graph, [...fusion.forward, ...fusion.backward]);
    expect(readFileSync(path, "utf8")).toContain("sigmoid_grad");
  });
});
