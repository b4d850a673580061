import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { capConcurrency, isDying, nextRetry } from "../../../core/lib/send/schedule.ts";

describe("nextRetry()", () => {
  it("gives local retries at (10k)² s after birth", () => {
    const birth = 1_000_000;
    const seen: number[] = [];
    let now = birth;
    for (let k = 0; k < 5; k++) {
      now = nextRetry(birth, now, "local");
      seen.push(now - birth);
    }
    assert.deepEqual(seen, [100, 400, 900, 1600, 2500]);
  });
  it("gives remote retries at (20k)² s after birth", () => {
    const birth = 5;
    let now = birth;
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      now = nextRetry(birth, now, "remote");
      seen.push(now - birth);
    }
    assert.deepEqual(seen, [400, 1600, 3600, 6400]);
  });
  it("is always later than now, also for a birth in the future", () => {
    assert.ok(nextRetry(2000, 1000, "local") > 1000);
    assert.equal(nextRetry(1000, 1050, "local"), 1000 + 17 * 17);
  });
});

describe("isDying()", () => {
  it("is true only after the lifetime", () => {
    assert.equal(isDying(0, 604800, 604800), false);
    assert.equal(isDying(0, 604801, 604800), true);
  });
});

describe("capConcurrency()", () => {
  it("caps at 120 and floors at 0", () => {
    assert.deepEqual([500, 120, 7, 0, -3].map(capConcurrency), [120, 120, 7, 0, 0]);
  });
});
