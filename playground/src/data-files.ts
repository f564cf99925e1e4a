// The repository's data/ folder, served by the playground: every data file is
// a static asset (Vite gives its URL), fetched when a model's `data`
// statement names it or its folder. loadData reads synchronously, so the
// files are fetched first and then read from memory through a DataIO.

import type { DataIO } from "../../src/runtime/datasets.ts";
import type { Manifest } from "../../src/runtime/index.ts";

/** Repository path (`data/iris.csv`) -> URL of the served file. */
const served: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>("../../data/**/*.{csv,txt,gz}", { query: "?url", import: "default", eager: true })).map(([path, url]) => [
    path.replace(/^\.\.\/\.\.\//, ""),
    url,
  ]),
);

const fetched = new Map<string, Uint8Array>();

/** A path written in the .nn file `file` (relative to it), as a repository path: `../data/iris.csv` in `examples/iris.nn` is `data/iris.csv`. */
function beside(file: string, path: string): string {
  return decodeURIComponent(new URL(path, new URL(file, "file:///")).pathname.slice(1));
}

/**
 * Fetches the files that the model's data statement names (a file, or every
 * file in a folder) and returns a DataIO reading them; a path that names no
 * served file is left for loadData to report.
 */
export async function fetchData(manifest: Manifest, file: string, onFetch: (path: string) => void): Promise<DataIO> {
  const named = manifest.data?.args._0?.value;
  if (typeof named === "string") {
    const target = beside(file, named);
    const wanted = Object.keys(served).filter((path) => path === target || path.startsWith(`${target.replace(/\/$/, "")}/`));
    for (const path of wanted.filter((p) => !fetched.has(p))) {
      onFetch(path);
      const response = await fetch(served[path]);
      if (!response.ok) throw new Error(`cannot fetch ${path}: ${response.status} ${response.statusText}`);
      fetched.set(path, new Uint8Array(await response.arrayBuffer()));
    }
  }
  const readBytes = (path: string) => {
    const bytes = fetched.get(beside(file, path));
    if (!bytes) throw new Error(`the playground serves no file ${path}; its data files are ${Object.keys(served).join(", ")}`);
    return bytes;
  };
  return { readBytes, readText: (path) => new TextDecoder().decode(readBytes(path)) };
}
