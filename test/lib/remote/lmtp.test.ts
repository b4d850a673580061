import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dataOutcomes, parseLmtpRoute, rcptRefusal, stageFailure, targetName } from "../../../core/lib/remote/lmtp.ts";

const reply = (code: number, text = "x") => ({ code, lines: [`${code} ${text}`] });

describe("parseLmtpRoute()", () => {
  it("reads unix sockets and IP:port", () => {
    assert.deepEqual(parseLmtpRoute("lmtp:unix:/run/dovecot/lmtp"), { kind: "unix", path: "/run/dovecot/lmtp" });
    assert.deepEqual(parseLmtpRoute("lmtp:127.0.0.1:24"), { kind: "tcp", host: "127.0.0.1", port: 24 });
    assert.deepEqual(parseLmtpRoute("lmtp:[::1]:2424"), { kind: "tcp", host: "::1", port: 2424 });
  });
  it("refuses everything else", () => {
    for (const bad of [
      "", "lmtp:", "lmtp:unix:", "lmtp:unix:relative/path", "lmtp:unix:/a/../b", "smtp:127.0.0.1:25",
      "lmtp:localhost:24", "lmtp:127.0.0.1", "lmtp:127.0.0.1:0", "lmtp:127.0.0.1:65536", "lmtp:256.0.0.1:24",
      "lmtp:[127.0.0.1]:24", "lmtp:127.0.0.1:24\n", "lmtp:unix:/a\0b", "LMTP:127.0.0.1:24", `lmtp:unix:/${"a".repeat(2000)}`,
      "lmtp:127.0.0.1:24 extra", "lmtp:1.2.3.4:123456",
    ]) assert.equal(parseLmtpRoute(bad), null, JSON.stringify(bad));
  });
  it("names targets without control characters", () => {
    assert.equal(targetName({ kind: "unix", path: "/a\tb" }), "unix:/a?b");
    assert.equal(targetName({ kind: "tcp", host: "::1", port: 24 }), "[::1]:24");
  });
});

describe("LMTP replies to outcomes", () => {
  it("maps RCPT replies: 2xx accepted, 4xx Z, 5xx D", () => {
    assert.equal(rcptRefusal("w", reply(250)), null);
    assert.equal(rcptRefusal("w", reply(452))!.letter, "Z");
    assert.equal(rcptRefusal("w", reply(550))!.letter, "D");
    assert.equal(rcptRefusal("w", reply(354))!.letter, "Z");
  });
  it("MAIL needs 2xx and DATA exactly 354; a success where 354 was due is temporary", () => {
    assert.equal(stageFailure("w", "MAIL", reply(250), 250), null);
    assert.equal(stageFailure("w", "MAIL", reply(553), 250)!.letter, "D");
    assert.equal(stageFailure("w", "DATA", reply(354), 354), null);
    assert.equal(stageFailure("w", "DATA", reply(250), 354)!.letter, "Z");
    assert.equal(stageFailure("w", "DATA", reply(451), 354)!.letter, "Z");
  });
  it("takes each reply for its recipient only when exactly one came per recipient", () => {
    const got = dataOutcomes("w", [reply(250), reply(552, "5.2.2 full"), reply(451)], 3, false);
    assert.deepEqual(got.map((o) => o.letter), ["K", "D", "Z"]);
    assert.match(got[1]!.text, /552 5\.2\.2 full/);
  });
  it("makes every recipient Z when replies are missing, broken or extra", () => {
    for (const [replies, extra] of [
      [[reply(250)], false],
      [[reply(250), null], false],
      [[reply(250), reply(250)], true],
      [[], false],
    ] as const) {
      const got = dataOutcomes("w", replies, 2, extra);
      assert.deepEqual(got.map((o) => o.letter), ["Z", "Z"]);
      assert.match(got[0]!.text, /Possible duplicate! \(#4\.4\.2\)/);
    }
  });
});
