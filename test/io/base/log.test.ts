// A mail log keeps every line: consola folds repeats ("(repeated 2 times)")
// when lines come closer together than its throttle, which a clock stepped
// back (NTP) makes negative. qm's logger never folds.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { log } from "../../../core/io/base/log.ts";

function captureStderr(body: () => void): string {
  const write = process.stderr.write;
  let out = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1");
    return true;
  }) as typeof process.stderr.write;
  try {
    body();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe("log (core/io/base/log.ts)", () => {
  it("writes 50 identical lines 50 times", () => {
    const out = captureStderr(() => {
      for (let i = 0; i < 50; i++) log.info("smtpd: 1.1 auth failed 192.0.2.1 user joe");
    });
    assert.equal(out.split("\n").filter((l) => l.endsWith("auth failed 192.0.2.1 user joe")).length, 50);
    assert.doesNotMatch(out, /repeated/);
  });

  it("writes every line while the clock runs backwards", () => {
    const RealDate = globalThis.Date;
    let t = RealDate.now();
    class Backwards extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super((t -= 1));
        else super(...(args as [number]));
      }
    }
    globalThis.Date = Backwards as DateConstructor;
    let out = "";
    try {
      out = captureStderr(() => {
        for (let i = 0; i < 20; i++) log.warn("same line");
      });
    } finally {
      globalThis.Date = RealDate;
    }
    assert.equal(out.split("\n").filter((l) => l.endsWith("same line")).length, 20);
  });
});
