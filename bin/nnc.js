#!/usr/bin/env node
// The nnc command: runs the CLI compiled by `npm run build` (done by npm install).
import { existsSync } from "node:fs";

const cli = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("nnc is not built yet: run `npm run build` in the nnc folder\n");
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
