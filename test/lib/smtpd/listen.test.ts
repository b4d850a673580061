import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { listenerArgs, MAX_SESSIONS, parseListener, parseListeners } from "../../../core/lib/smtpd/listen.ts";

const where = (i: number) => `control/listen line ${i + 1}`;

describe("parseListener()", () => {
  it("reads an address, a mode and the limits, in any order", () => {
    assert.deepEqual(parseListener("0.0.0.0:25", "x"), { kind: "ok", value: { address: "0.0.0.0:25", mode: "smtp", max: null, maxPerIP: null, rules: null } });
    assert.deepEqual(parseListener("[::]:587  submission\tmax=100 max-per-ip=5 rules=subrules", "x"), {
      kind: "ok",
      value: { address: "[::]:587", mode: "submission", max: 100, maxPerIP: 5, rules: "subrules" },
    });
    assert.deepEqual(parseListener("127.0.0.1:465 rules=r max=2 smtps", "x"), { kind: "ok", value: { address: "127.0.0.1:465", mode: "smtps", max: 2, maxPerIP: null, rules: "r" } });
    assert.equal(parseListener(":25 smtp", "x").kind, "ok");
  });
  it("refuses what it does not know, naming the line", () => {
    const CASES: [string, RegExp][] = [
      ["", /bad address ""/],
      ["example.org:25", /bad address/],
      ["127.0.0.1:99999", /bad address/],
      ["::1:25", /bad address/],
      ["127.0.0.1:25 Submission", /unknown word "Submission"/],
      ["127.0.0.1:25 submission smtps", /more than one mode/],
      ["127.0.0.1:25 max=0", /max= takes a number from 1 to 100000/],
      [`127.0.0.1:25 max=${MAX_SESSIONS + 1}`, /max= takes/],
      ["127.0.0.1:25 max=-1", /max= takes/],
      ["127.0.0.1:25 max-per-ip=1e3", /max-per-ip= takes/],
      ["127.0.0.1:25 max=1 max=2", /max= given twice/],
      ["127.0.0.1:25 rules=../passwd", /rules= names a file in control\//],
      ["127.0.0.1:25 rules=", /rules= names a file/],
      ["127.0.0.1:25 user=root", /unknown word "user=root"/],
      ["127.0.0.1:25 constructor", /unknown word/],
      [`127.0.0.1:25 ${"x".repeat(2000)}`, /longer than 1000 bytes/],
    ];
    for (const [line, re] of CASES) {
      const r = parseListener(line, "control/listen line 3");
      assert.equal(r.kind, "perm", line);
      if (r.kind === "perm") assert.match(r.reason, /^control\/listen line 3: /, line);
      if (r.kind === "perm") assert.match(r.reason, re, line);
    }
  });
  it("refuses an address listed twice, but not port 0 (any free port)", () => {
    assert.equal(parseListeners(["127.0.0.1:25", "127.0.0.1:25 submission"], where).kind, "perm");
    assert.equal(parseListeners(["127.0.0.1:0", "127.0.0.1:0 submission", "127.0.0.1:0 smtps"], where).kind, "ok");
  });
  it("gives qm smtpd the arguments of each listener", () => {
    const r = parseListeners(["0.0.0.0:25", "0.0.0.0:587 submission max-per-ip=3", "0.0.0.0:465 smtps max=7 rules=r465"], where);
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    assert.deepEqual(r.value.map(listenerArgs), [
      ["--listen", "0.0.0.0:25"],
      ["--listen", "0.0.0.0:587", "--submission", "--max-per-ip", "3"],
      ["--listen", "0.0.0.0:465", "--tls-wrapper", "--max", "7", "--rules", "r465"],
    ]);
  });
});
