// Threads: instances of one module over one shared memory, each running every
// kernel of a phase and taking its own part of the kernel's output, with a
// barrier after each kernel. Parts are whole units (rows, panels, images), so
// every output value is computed by the same operations whichever thread
// computes it: results are the same, bit for bit, for any number of threads.
//
// Thread 0 is the host's instance: `order` tells the others (in `serve`) which
// phase to run. In a module built without threads, `threads` is never
// written: Binaryen folds it to 1 and all of this away.

/** This instance's index. */
export let thread: i32 = 0;
/** How many instances share the work of the current phase. */
export let threads: i32 = 1;

// The words threads meet at, one cache line each; the same address in every instance.
const SYNC: usize = memory.data(256, 64);
const ARRIVED = SYNC;
const ROUND = SYNC + 64;
const ORDERS = SYNC + 128;
const ORDER = SYNC + 192;

/** How long a thread spins before it sleeps at a barrier or waiting for an order (a phase's kernels are often shorter than a wake-up). */
const SPINS = 1 << 16;

/** The start of this thread's part of [0, total) cut into whole units. */
@inline
export function from(total: i32, unit: i32): i32 {
  return cut(total, unit, thread);
}

/** The end of this thread's part of [0, total). */
@inline
export function to(total: i32, unit: i32): i32 {
  return cut(total, unit, thread + 1);
}

@inline
function cut(total: i32, unit: i32, t: i32): i32 {
  const units = (total + unit - 1) / unit;
  return min(total, ((units * t) / threads) * unit);
}

/** Waits until every thread of the phase has arrived. */
export function barrier(): void {
  if (threads == 1) return;
  if (ASC_FEATURE_THREADS) {
    const round = atomic.load<i32>(ROUND);
    if (atomic.add<i32>(ARRIVED, 1) == threads - 1) {
      atomic.store<i32>(ARRIVED, 0);
      atomic.store<i32>(ROUND, round + 1);
      atomic.notify(ROUND);
    } else {
      await_change(ROUND, round);
    }
  }
}

function await_change(at: usize, value: i32): void {
  if (ASC_FEATURE_THREADS) {
    for (let i = 0; i < SPINS; i++) if (atomic.load<i32>(at) != value) return;
    while (atomic.load<i32>(at) == value) atomic.wait<i32>(at, value, -1);
  }
}

/** Called on the host's instance: how many threads run the phases it is asked for (1 or all there are). */
export function set_threads(team: i32): void {
  threads = team;
}

/** Thread 0 tells the others to run `phase` on n rows. */
export function order(phase: i32, n: i32): void {
  if (threads == 1) return;
  if (ASC_FEATURE_THREADS) {
    store<i32>(ORDER, phase);
    store<i32>(ORDER, n, 4);
    store<i32>(ORDER, threads, 8);
    atomic.add<i32>(ORDERS, 1);
    atomic.notify(ORDERS);
  }
}

/** A worker's wait for the order after its `done` first ones; sets `threads` from it and returns its phase. */
export function next_order(done: i32): i32 {
  if (ASC_FEATURE_THREADS) await_change(ORDERS, done);
  threads = load<i32>(ORDER, 8);
  return load<i32>(ORDER);
}

/** The rows of the last order. */
export function order_rows(): i32 {
  return load<i32>(ORDER, 4);
}

/** Makes this instance thread `me`. */
export function become(me: i32): void {
  thread = me;
}
