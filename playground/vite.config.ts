// Vite config of the playground (`npm run playground`, `npm run playground:build`).
// The page and its Web Worker import the compiler and the runtime straight
// from the repository's TypeScript; the examples and the bundled data files
// are imported by Vite too (raw text and asset URLs), so one static folder,
// playground/dist, holds everything.

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const playground = fileURLToPath(new URL(".", import.meta.url));
const repository = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root: playground,
  // relative URLs: the built site works from any folder of any static host
  base: "./",
  // the worker imports the AssemblyScript compiler and Binaryen, which use top-level await: only module workers have it
  worker: { format: "es" },
  build: {
    outDir: "dist",
    // also when a test builds into a folder outside the playground
    emptyOutDir: true,
    // Binaryen alone is a 13 MB script (its wasm inlined); it is loaded once, by the worker
    chunkSizeWarningLimit: 20_000,
    rolldownOptions: {
      onLog(level, log, handler) {
        // asc.js and Binaryen import Node built-ins (fs, path, node:module, ...) only on their Node path, never taken in a browser
        if (log.message.includes("externalized for browser compatibility") && log.message.includes("node_modules/assemblyscript/")) return;
        handler(level, log);
      },
    },
  },
  // examples/, data/ and editors/ sit beside playground/
  server: { fs: { allow: [repository] } },
  // the dev server pre-bundles the worker's dependencies too (it finds no worker from index.html), so it never reloads to add them
  optimizeDeps: { entries: ["index.html", "src/worker.ts"] },
});
