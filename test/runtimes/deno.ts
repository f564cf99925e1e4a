// Deno's side of the cross-runtime test: `deno run deno.ts CASES.json RESULTS.json`
// trains the cases with the shared module (train.ts) and writes the results.

import { trainAll } from "./train.ts";

// Deno's global, typed here for the project's type check (which runs with Node's types only).
declare const Deno: {
  args: string[];
  readTextFileSync(path: string): string;
  writeTextFileSync(path: string, text: string): void;
};

const [casesFile, resultsFile] = Deno.args;
Deno.writeTextFileSync(resultsFile, await trainAll(Deno.readTextFileSync(casesFile)));
