// nnc export: the trained inference graph (what `predict` computes) as an
// ONNX model, for ONNX Runtime, PyTorch and the rest of the ONNX world.

import { readFileSync } from "node:fs";
import { exportOnnx, OPSET } from "../../compiler/export/onnx.ts";
import { decodeWeights } from "../runtime/weights.ts";
import { type Command, compileFile, writeAtomic } from "./common.ts";
import { CompileFailure, UsageError } from "./errors.ts";

export const exportCommand: Command = {
  help: `nnc export FILE.nn --weights FILE --onnx OUT.onnx [--batch N]

Writes the trained model's inference graph (what \`nnc predict\` computes) as
an ONNX model (opset ${OPSET}): parameters are initializers under their nnc
names, inputs and outputs keep theirs, dropout is the identity, and the batch
axis is the symbolic "batch" (or the compiled batch size, for a model whose
layers mix rows). Token and class inputs are int32.`,
  options: { help: { type: "boolean", short: "h" }, weights: { type: "string" }, onnx: { type: "string" }, batch: { type: "string" } },
  async run(file, values) {
    const weightsFile = values.weights as string | undefined;
    const out = values.onnx as string | undefined;
    if (!weightsFile) throw new UsageError("--weights FILE is required (write one with `nnc train FILE.nn --save FILE`)");
    if (!out) throw new UsageError("--onnx OUT.onnx is required: where to write the model");
    const compiled = await compileFile(file, values);
    const weights = decodeWeights(readFileSync(weightsFile), compiled.manifest, weightsFile);
    const result = exportOnnx(compiled.graph, weights);
    if (!result.ok) throw new CompileFailure(result.diagnostics, new Map([[file, readFileSync(file, "utf8")]]));
    writeAtomic(out, result.bytes);
    const batch = result.symbolicBatch ? "symbolic batch" : `batch fixed at ${compiled.manifest.batch}`;
    process.stdout.write(`${out}: ${result.bytes.length} bytes, ${result.nodes} ONNX nodes (opset ${OPSET}), ${batch}\n`);
  },
};
