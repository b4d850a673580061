/**
 * A binary min-heap of (time, id) pairs: qmail-send's prioq. Equal times come
 * out in insertion order, so a burst of new mail is delivered first come,
 * first served. O(log n) per push and pop.
 */
export interface Entry {
  readonly at: number;
  readonly id: number;
  readonly seq: number;
}
export interface Prioq {
  heap: Entry[];
  seq: number;
}

export function newPrioq(): Prioq {
  return { heap: [], seq: 0 };
}

export function pushQ(q: Prioq, at: number, id: number): void {
  const h = q.heap;
  h.push({ at, id, seq: q.seq++ });
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

export function popQ(q: Prioq): Entry | undefined {
  const h = q.heap;
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}

/** Every entry moved to time `at`, keeping their order (SIGALRM, --force). */
export function rescheduleAll(q: Prioq, at: number): void {
  const old = q.heap.sort((a, b) => a.seq - b.seq);
  q.heap = [];
  for (const e of old) pushQ(q, at, e.id);
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
