import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeXtext, encodeXtext, formatDoneLine, formatDsnRecord, isEmptyDsn, parseDsnRecord, parseNotify, wants } from "../../../core/lib/queue/dsn.ts";

describe("xtext", () => {
  it("decodes +XX and plain characters", () => {
    assert.equal(decodeXtext("a+2Bb+3Dc"), "a+b=c");
    assert.equal(decodeXtext("rfc822;joe@x.test"), "rfc822;joe@x.test");
  });
  it("refuses bad input: a short or lower-case hex, '=', space, 8-bit, a bare +", () => {
    for (const bad of ["a+2", "a+zz", "a+2b", "a=b", "a b", "caf\u00e9", "+", "a\u0000"]) assert.equal(decodeXtext(bad), null, bad);
  });
  it("round-trips any byte string", () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    assert.equal(decodeXtext(encodeXtext(all)), all);
    assert.match(encodeXtext(all), /^[\x21-\x7e]+$/);
  });
});

describe("parseNotify()", () => {
  it("takes NEVER alone or a set of SUCCESS, FAILURE, DELAY in any case", () => {
    assert.equal(parseNotify("never"), "NEVER");
    assert.deepEqual(parseNotify("success,DELAY"), ["SUCCESS", "DELAY"]);
  });
  it("refuses NEVER with others, repeats, unknown words and empty items", () => {
    for (const bad of ["NEVER,SUCCESS", "SUCCESS,SUCCESS", "SOMETIMES", "", "SUCCESS,", ",FAILURE"]) assert.equal(parseNotify(bad), null, bad);
  });
});

describe("wants()", () => {
  it("without NOTIFY: failures and delays, not success", () => {
    assert.equal(wants(undefined, "FAILURE"), true);
    assert.equal(wants(undefined, "DELAY"), true);
    assert.equal(wants(undefined, "SUCCESS"), false);
  });
  it("NEVER: nothing; a list: what it names", () => {
    assert.equal(wants({ notify: "NEVER" }, "FAILURE"), false);
    assert.equal(wants({ notify: ["SUCCESS"] }, "SUCCESS"), true);
    assert.equal(wants({ notify: ["SUCCESS"] }, "FAILURE"), false);
  });
});

describe("formatDsnRecord() / parseDsnRecord()", () => {
  it("round-trips, with odd bytes in the values", () => {
    const d = { ret: "HDRS" as const, envid: "a b\nc", rcpts: new Map([["x y@z", { notify: ["SUCCESS", "DELAY"] as const, orcpt: "rfc822;X@z" }], ["w@z", { notify: "NEVER" as const }]]) };
    const done = [{ action: "delivered" as const, addr: "x y@z", text: "did it\nfine +=\n" }, { action: "relayed" as const, addr: "w@z", text: "" }];
    const back = parseDsnRecord(formatDsnRecord({ dsn: d, warned: true, done: done.slice(0, 1) }) + formatDoneLine(done[1]!));
    assert.deepEqual(back, { dsn: d, warned: true, done });
  });
  it("refuses a file that is not a record, skips lines that do not parse", () => {
    assert.equal(parseDsnRecord("hello\n"), null);
    assert.deepEqual(parseDsnRecord("qm-dsn 1\nret MAYBE\nrcpt a+zz - -\nrcpt a NOPE -\nwho knows\ndone failed a b\ndone relayed a\n"), { dsn: { rcpts: new Map() }, warned: false, done: [] });
  });
  it("isEmptyDsn(): nothing asked", () => {
    assert.equal(isEmptyDsn(undefined), true);
    assert.equal(isEmptyDsn({ rcpts: new Map([["a", {}]]) }), true);
    assert.equal(isEmptyDsn({ ret: "FULL", rcpts: new Map() }), false);
  });
});
