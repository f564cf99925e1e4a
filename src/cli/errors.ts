// Errors the CLI reports as user mistakes (exit 1), beside DataError,
// ModelError and WeightsError from the runtime.

import type { Diagnostic } from "../../compiler/diagnostics.ts";

export class UsageError extends Error {}

/** Diagnostics from the compiler, with the sources they point into. */
export class CompileFailure extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly sources: Map<string, string>,
  ) {
    super("compilation failed");
  }
}
