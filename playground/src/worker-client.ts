// The page's side of the compiler worker: sends requests, hands replies to
// the page, answers the editor's checks with promises, and restarts the
// worker to stop a run (training is one synchronous loop, so terminating is
// the only way to interrupt it; the compiler loads again).

import type { Findings, Reply, Request, Source } from "./protocol.ts";

/** The replies the page handles; the editor's checks are answered by `check`. */
export type PageReply = Exclude<Reply, { kind: "checked" }>;

export class CompilerWorker {
  private worker: Worker;
  private readonly checks = new Map<number, (findings: Findings) => void>();
  private nextCheck = 0;

  constructor(private readonly onReply: (reply: PageReply) => void) {
    this.worker = this.start();
  }

  send(request: Exclude<Request, { kind: "check" }>): void {
    this.worker.postMessage(request);
  }

  /** The compiler's findings on the source, without building it; queued behind a run in progress. */
  check(source: Source): Promise<Findings> {
    const id = this.nextCheck++;
    return new Promise((resolve) => {
      this.checks.set(id, resolve);
      this.worker.postMessage({ kind: "check", id, ...source } satisfies Request);
    });
  }

  /** Stops whatever the worker is doing and starts a fresh one. */
  restart(): void {
    this.worker.terminate();
    for (const resolve of this.checks.values()) resolve({ problems: [], report: "" });
    this.checks.clear();
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = ({ data: reply }: MessageEvent<Reply>) => {
      if (reply.kind !== "checked") return this.onReply(reply);
      this.checks.get(reply.id)?.({ problems: reply.problems, report: reply.report });
      this.checks.delete(reply.id);
    };
    worker.onerror = (event) => this.onReply({ kind: "failed", problems: [], report: `internal error: the compiler worker failed: ${event.message}` });
    return worker;
  }
}
