// A picture of the training graph: DOT text laid out and drawn to SVG by
// Graphviz (compiled to wasm, so it runs in Node and browsers alike).
//
//   image [B, 1, 28, 28] ──▶ conv2d ──▶ … ──▶ label_ce      predict, loss (forward)
//                      ╲                  ╱                 backward
//                        conv2d_grad_w ──▶ adam update       update
//
// One box per kernel, listing its ops with their .nn label and shape; without
// a kernel grouping every node is its own kernel. Boxes are coloured by the
// phase of the step they run in; parameters are cylinders, inputs
// parallelograms. Every text from the user's file is escaped.

import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { phases } from "./build.ts";
import { formatShape, type Graph, type Node } from "./graph.ts";

/** The part of a training step a box runs in: the forward pass splits into what predict needs and the loss. */
type Phase = "predict" | "loss" | "backward" | "update";

export interface GraphPictureOptions {
  /** Node ids run as one kernel each (in execution order): one box listing their ops. Nodes in no kernel get a box each. */
  kernels?: readonly (readonly number[])[];
}

/** Graphviz knows its widths; with Helvetica's, text drawn in a wider sans-serif overflows its box. */
const FONT = "Verdana";

const phaseStyle: Record<Phase, { fill: string; border: string; legend: string }> = {
  predict: { fill: "#dbeafe", border: "#2563eb", legend: "forward: predict" },
  loss: { fill: "#ede9fe", border: "#7c3aed", legend: "forward: loss" },
  backward: { fill: "#ffedd5", border: "#ea580c", legend: "backward" },
  update: { fill: "#dcfce7", border: "#16a34a", legend: "update" },
};

interface Box {
  id: string;
  phase: Phase;
  shape: "box" | "cylinder" | "parallelogram";
  /** HTML-like table rows, escaped. */
  rows: string[];
  /** Where its ops come from, shown on hover in a browser. */
  tooltip: string;
}

/** Text for a Graphviz HTML-like label. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text for a double-quoted DOT string (Graphviz reads backslash escapes in it). */
function quoteDot(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`;
}

/** One table row per op: the op in bold, its .nn label, its shape in grey. */
function opRow(op: string, label: string, shape: string): string {
  return `<TR><TD ALIGN="LEFT"><B>${escapeHtml(op)}</B></TD><TD ALIGN="LEFT">${escapeHtml(label)}</TD><TD ALIGN="LEFT"><FONT COLOR="#555555">${escapeHtml(shape)}</FONT></TD></TR>`;
}

const nodeRow = (node: Node) => opRow(node.op, node.label, formatShape(node));

/** The phase of every node a training step runs. */
function phaseOfNodes(graph: Graph): Map<number, Phase> {
  const order = phases(graph);
  const predict = new Set(order.predict);
  const phaseOf = new Map<number, Phase>();
  for (const id of order.forward) phaseOf.set(id, predict.has(id) ? "predict" : "loss");
  for (const id of order.backward) phaseOf.set(id, "backward");
  return phaseOf;
}

/** A kernel runs in the latest phase of its ops. */
function latestPhase(of: Phase[]): Phase {
  const order = Object.keys(phaseStyle) as Phase[];
  return order[Math.max(...of.map((phase) => order.indexOf(phase)))];
}

/** The boxes in execution order, and the box of each node; checks that kernels hold only nodes the step runs, each once. */
function kernelBoxes(graph: Graph, kernels: readonly (readonly number[])[]): { boxes: Box[]; boxOf: Map<number, Box> } {
  const phaseOf = phaseOfNodes(graph);
  const kernelOf = new Map<number, number>();
  kernels.forEach((ids, k) => {
    for (const id of ids) {
      if (!phaseOf.has(id)) throw new Error(`kernel ${k}: node %${id} is not run by the training step`);
      if (kernelOf.has(id)) throw new Error(`node %${id} is in kernels ${kernelOf.get(id)} and ${k}`);
      kernelOf.set(id, k);
    }
  });
  const boxes: Box[] = [];
  const boxOf = new Map<number, Box>();
  for (const id of phaseOf.keys()) {
    if (boxOf.has(id)) continue; // in a kernel already drawn
    const k = kernelOf.get(id);
    const members = (k === undefined ? [id] : kernels[k]).map((member) => graph.nodes[member]);
    const op = graph.nodes[id].op;
    const box: Box = {
      id: `n${id}`,
      phase: latestPhase(members.map((member) => phaseOf.get(member.id) as Phase)),
      shape: op === "param" ? "cylinder" : op === "input" ? "parallelogram" : "box",
      rows: members.map(nodeRow),
      tooltip: members.map((m) => `%${m.id} ${m.op} at ${m.span.source}:${m.span.start.line}:${m.span.start.column}`).join("\n"),
    };
    boxes.push(box);
    for (const member of members) boxOf.set(member.id, box);
  }
  return { boxes, boxOf };
}

/** The title and a colour key for the phases, as the graph's label. */
function legend(graph: Graph): string {
  const keys = Object.values(phaseStyle).map(({ fill, border, legend }) => `<TD BGCOLOR="${fill}" COLOR="${border}" BORDER="1" CELLPADDING="5">${legend}</TD>`);
  const title = `<B>model ${escapeHtml(graph.model)}</B>: one training step, batch ${graph.train.batch}`;
  return [
    '<<TABLE BORDER="0" CELLSPACING="6">',
    `<TR><TD COLSPAN="${keys.length + 1}" ALIGN="LEFT"><FONT POINT-SIZE="15">${title}</FONT></TD></TR>`,
    `<TR>${keys.join("")}<TD>cylinder: parameter, parallelogram: input, dashed: read from the forward pass</TD></TR>`,
    "</TABLE>>",
  ].join("");
}

function boxLine(box: Box): string {
  const { fill, border } = phaseStyle[box.phase];
  const table = `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">${box.rows.join("")}</TABLE>>`;
  return `  ${box.id} [shape=${box.shape}, fillcolor="${fill}", color="${border}", label=${table}, tooltip=${quoteDot(box.tooltip)}];`;
}

function edgeLine(from: Box, to: Box): string {
  const colour = phaseStyle[to.phase].border;
  // what the backward pass reads from the forward pass (activations, parameters) is drawn dashed
  const saved = to.phase === "backward" && from.phase !== "backward";
  return `  ${from.id} -> ${to.id} [${saved ? `color="${colour}77", style=dashed` : `color="${colour}aa"`}];`;
}

/** The training graph as Graphviz DOT text. */
export function graphDot(graph: Graph, options: GraphPictureOptions = {}): string {
  const { boxes, boxOf } = kernelBoxes(graph, options.kernels ?? []);
  const optimizer = graph.train.optimizer.kind;
  const updates = [...graph.grads].map(([param, grad]): [Box, Box] => {
    const node = graph.nodes[param];
    const tooltip = `${node.label} -= ${optimizer}(%${grad})`;
    return [
      boxOf.get(grad) as Box,
      { id: `u${param}`, phase: "update", shape: "box", rows: [opRow(`${optimizer} update`, node.label, formatShape(node))], tooltip },
    ];
  });
  const edges = new Map<string, [Box, Box]>(updates.map(([from, to]) => [`${from.id}>${to.id}`, [from, to]]));
  for (const [id, to] of boxOf)
    for (const input of graph.nodes[id].inputs) {
      const from = boxOf.get(input) as Box;
      if (from !== to) edges.set(`${from.id}>${to.id}`, [from, to]);
    }
  return [
    "digraph nnc {",
    `  graph [fontname="${FONT}", labelloc=t, labeljust=l, nodesep=0.3, ranksep=0.35, bgcolor="white", label=${legend(graph)}];`,
    `  node [fontname="${FONT}", fontsize=10, style="rounded,filled", penwidth=1.2, margin="0.1,0.05"];`,
    "  edge [arrowsize=0.6, penwidth=1.1];",
    ...boxes.map(boxLine),
    ...updates.map(([, box]) => boxLine(box)),
    ...[...edges.values()].map(([from, to]) => edgeLine(from, to)),
    "}",
  ].join("\n");
}

let graphviz: Promise<Graphviz> | undefined;

/** The training graph drawn as SVG (Graphviz's dot layout); loads the Graphviz wasm on first use. */
export async function graphSvg(graph: Graph, options: GraphPictureOptions = {}): Promise<string> {
  graphviz ??= Graphviz.load();
  const svg = (await graphviz).dot(graphDot(graph, options));
  // laid out with Verdana's widths; DejaVu Sans, its usual stand-in, has about the same
  return svg.replaceAll(`font-family="${FONT}"`, `font-family="${FONT},DejaVu Sans,sans-serif"`);
}
