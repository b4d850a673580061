import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cacheGet, cachePut, newTtlCache } from "../../../core/lib/smtpd/ttl-cache.ts";

describe("TtlCache", () => {
  it("keeps an entry for its time to live, and nothing for 0", () => {
    const c = newTtlCache<string>(10);
    cachePut(c, "a", "x", 1000, 0);
    cachePut(c, "b", "y", 0, 0);
    assert.equal(cacheGet(c, "a", 999), "x");
    assert.equal(cacheGet(c, "a", 1000), undefined);
    assert.equal(cacheGet(c, "b", 0), undefined);
    assert.equal(c.entries.size, 0);
  });
  it("holds at most its bound: ended entries go first, then the oldest", () => {
    const c = newTtlCache<number>(2);
    cachePut(c, "a", 1, 10, 0);
    cachePut(c, "b", 2, 1000, 0);
    cachePut(c, "c", 3, 1000, 20); // a has ended
    assert.deepEqual([...c.entries.keys()], ["b", "c"]);
    cachePut(c, "d", 4, 1000, 30); // none has: b, the oldest, goes
    assert.deepEqual([...c.entries.keys()], ["c", "d"]);
  });
});
