import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { newPrioq, popQ, pushQ, rescheduleAll } from "../../../core/lib/send/prioq.ts";

describe("popQ()", () => {
  it("returns entries by time, equal times in insertion order", () => {
    const q = newPrioq();
    const times = [5, 3, 9, 3, 1, 5, 3];
    times.forEach((t, i) => pushQ(q, t, i));
    const out: [number, number][] = [];
    for (let e = popQ(q); e; e = popQ(q)) out.push([e.at, e.id]);
    assert.deepEqual(out, [[1, 4], [3, 1], [3, 3], [3, 6], [5, 0], [5, 5], [9, 2]]);
  });
  it("sorts random input", () => {
    const q = newPrioq();
    const xs = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1013);
    xs.forEach((t, i) => pushQ(q, t, i));
    const out: number[] = [];
    for (let e = popQ(q); e; e = popQ(q)) out.push(e.at);
    assert.deepEqual(out, [...xs].sort((a, b) => a - b));
    assert.equal(popQ(q), undefined);
  });
});

describe("rescheduleAll()", () => {
  it("moves every entry to one time, keeping the order they came in", () => {
    const q = newPrioq();
    pushQ(q, 50, 1);
    pushQ(q, 10, 2);
    rescheduleAll(q, 7);
    assert.deepEqual([popQ(q), popQ(q)].map((e) => [e?.at, e?.id]), [[7, 1], [7, 2]]);
  });
});
