// The playground's Web Worker: the whole compiler (Peggy parser, elaboration,
// passes, AssemblyScript and Binaryen) and the training loop run here, so the
// page stays responsive. Requests are handled one at a time, in order; a
// training run is synchronous, so the page stops one by terminating the worker.

import type { Reply, Request } from "./protocol.ts";

const post = (reply: Reply, transfer: Transferable[] = []) => self.postMessage(reply, { transfer });

// The compiler is loaded on its own (Binaryen is large and initialises with top-level await),
// after the message handler is set, so no request arrives before there is a handler.
post({ kind: "status", text: "loading the compiler…" });
const session = import("./session.ts").then(({ Session }) => {
  post({ kind: "ready" });
  return new Session(post);
});

let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<Request>) => {
  queue = queue.then(async () => (await session).handle(event.data));
};
