// The nnc command line: compile, train, eval, predict, inspect.
// User mistakes (in a .nn file, a data file or a weights file) print a located
// message and exit 1; anything else is a bug: exit 2 with a request to report it.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { render } from "../../compiler/diagnostics.ts";
import { DataError } from "../runtime/data.ts";
import { ModelError } from "../runtime/model.ts";
import { WeightsError } from "../runtime/weights.ts";
import { commands } from "./commands.ts";
import { CompileFailure, UsageError } from "./errors.ts";

/** Each command's synopsis: its help up to the first blank line. */
const synopses = Object.values(commands).map((c) => c.help.split("\n\n")[0].replace(/^nnc /, "  nnc ").replaceAll("\n", "\n  "));
const usage = `nnc: a neural-network compiler from .nn files to WebAssembly that trains

usage:
${synopses.join("\n")}

Run \`nnc COMMAND --help\` for one command.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h") {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (!name) {
    process.stderr.write(`${usage}\n`);
    return 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`nnc: unknown command \`${name}\`\n\n${usage}\n`);
    return 1;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    if (values.help) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`\`nnc ${name}\` takes one .nn file\n\n${command.help}`);
    await command.run(positionals[0], values as Record<string, string | boolean | undefined>);
    return 0;
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  const fail = (text: string) => {
    process.stderr.write(`${text}\n`);
    return 1;
  };
  if (e instanceof CompileFailure) return fail(e.diagnostics.map((d) => render(d, e.sources)).join("\n\n"));
  if (e instanceof DataError) {
    if (e.span) {
      const text = safeRead(e.span.source);
      return fail(render({ code: "E020", message: `data error: ${e.message}`, span: e.span, notes: [] }, new Map([[e.span.source, text]])));
    }
    return fail(`error: ${e.file ? `${e.file}${e.line ? `:${e.line}` : ""}: ` : ""}${e.message}`);
  }
  if (e instanceof ModelError || e instanceof WeightsError || e instanceof UsageError) return fail(`error: ${e.message}`);
  const err = e as { code?: string; message?: string };
  if (
    err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
    err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ||
    err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
  ) {
    return fail(`error: ${err.message}`);
  }
  if (err.code === "ENOENT" || err.code === "EISDIR" || err.code === "EACCES") return fail(`error: ${err.message}`);
  process.stderr.write(`internal error (a bug in nnc; please report it with the command and the .nn file):\n${(e as Error).stack ?? e}\n`);
  return 2;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
