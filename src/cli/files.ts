// File access for data sources, in Node: paths in a .nn file are relative
// to that file.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { DataIO } from "../runtime/data.ts";

export function filesBeside(nnFile: string): DataIO {
  const base = dirname(resolve(nnFile));
  return {
    readText: (path) => readFileSync(resolve(base, path), "utf8"),
    readBytes: (path) => readFileSync(resolve(base, path)),
  };
}
