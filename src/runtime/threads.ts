// The worker threads of a model built with threads: each instantiates the
// same module over the same shared memory and serves the phases the host's
// instance orders (runtime-wasm/threads.ts). Web Workers where there are
// (browsers, Deno), Node's worker_threads in Node; no import of either, so
// this file runs everywhere.

/** A running worker. */
export interface Thread {
  /** Waits until the worker has returned from `serve` (once the host's instance has called `stop`), then ends it. */
  end(): Promise<void>;
  /** Ends the worker at once (an engine may not end one that is waiting: Deno). */
  terminate(): void;
}

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  thread: number;
}

// What each worker runs: instantiate, say so, serve until told to stop, say so.
const nodeSource = `const { parentPort } = require("node:worker_threads");
parentPort.once("message", ({ module, memory, thread }) => {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  parentPort.postMessage("ready");
  exports.serve(thread);
  parentPort.postMessage("stopped");
});`;
const webSource = `onmessage = ({ data: { module, memory, thread } }) => {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  postMessage("ready");
  exports.serve(thread);
  postMessage("stopped");
};`;

interface NodeWorker {
  on(event: "message" | "error", listener: (value: unknown) => void): void;
  ref(): void;
  terminate(): unknown;
  postMessage(message: Start): void;
  unref(): void;
}
type NodeWorkers = { Worker: new (source: string, options: { eval: true }) => NodeWorker };

/**
 * Whether a model's threads can run here: memory can be shared (in pages only
 * when cross-origin isolated), there are workers, and this thread may wait
 * for them (a page's main thread may not).
 */
export function threadsSupported(): boolean {
  if ("document" in globalThis) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer && spawner() !== null;
  } catch {
    return false;
  }
}

/** Starts threads 1 to count - 1 of `module` over `memory`; resolves when every one is serving. */
export async function startThreads(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): Promise<Thread[]> {
  const spawn = spawner();
  if (!spawn) throw new Error("this runtime has no workers to run threads in");
  const threads = Array.from({ length: count - 1 }, (_, k) => spawn({ module, memory, thread: k + 1 }));
  try {
    await Promise.all(threads.map((t) => t.ready));
  } catch (error) {
    for (const t of threads) t.terminate();
    throw error;
  }
  return threads;
}

/** A worker's "ready" and "stopped" messages as promises; a worker that fails rejects `ready` and has stopped. */
class Signals {
  private readonly settle = new Map<string, () => void>();
  private fail: (error: Error) => void = () => {};
  readonly ready = new Promise<void>((resolve, reject) => {
    this.settle.set("ready", resolve);
    this.fail = reject;
  });
  readonly stopped = new Promise<void>((resolve) => this.settle.set("stopped", resolve));

  message(data: unknown): void {
    this.settle.get(String(data))?.();
  }

  error(reason: string): void {
    this.fail(new Error(`a thread failed: ${reason}`));
    this.settle.get("stopped")?.();
  }
}

type Spawn = (start: Start) => Thread & { ready: Promise<void> };

function spawner(): Spawn | null {
  if (typeof globalThis.Worker === "function") {
    return (start) => {
      const url = URL.createObjectURL(new Blob([webSource], { type: "text/javascript" }));
      const worker = new Worker(url, { type: "module" });
      const signals = new Signals();
      worker.onmessage = (event) => signals.message(event.data);
      worker.onerror = (event) => signals.error(event.message);
      worker.postMessage(start);
      const terminate = () => worker.terminate();
      return { ready: signals.ready.finally(() => URL.revokeObjectURL(url)), end: () => signals.stopped.then(terminate), terminate };
    };
  }
  const process = (globalThis as { process?: { getBuiltinModule?(name: string): unknown } }).process;
  const workers = process?.getBuiltinModule?.("node:worker_threads") as NodeWorkers | undefined;
  if (!workers) return null;
  return (start) => {
    const worker = new workers.Worker(nodeSource, { eval: true });
    const signals = new Signals();
    worker.on("message", (data) => signals.message(data));
    worker.on("error", (error) => signals.error((error as Error).message));
    // once serving: a thread that waits for orders does not hold the process
    signals.ready.then(() => worker.unref());
    worker.postMessage(start);
    const terminate = () => void worker.terminate();
    const end = () => {
      // held again while it stops, so that the process waits for it
      worker.ref();
      return signals.stopped.then(terminate);
    };
    return { ready: signals.ready, end, terminate };
  };
}
