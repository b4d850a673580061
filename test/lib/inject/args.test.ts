import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseInjectArgs } from "../../../core/lib/inject/args.ts";

describe("parseInjectArgs()", () => {
  const CASES = [
    [[], { mode: "A", print: false, sender: null, recipients: [] }],
    [["a@x"], { mode: "A", print: false, sender: null, recipients: ["a@x"] }],
    [["-nH", "a@x"], { mode: "H", print: true, sender: null, recipients: ["a@x"] }],
    [["-n", "-N", "-h"], { mode: "h", print: false, sender: null, recipients: [] }],
    [["-a", "-A"], { mode: "A", print: false, sender: null, recipients: [] }],
    [["-f", "s@x", "a@x"], { mode: "A", print: false, sender: "s@x", recipients: ["a@x"] }],
    [["-fs@x", "a@x"], { mode: "A", print: false, sender: "s@x", recipients: ["a@x"] }],
    [["-af", "s@x"], { mode: "a", print: false, sender: "s@x", recipients: [] }],
    [["-f", ""], { mode: "A", print: false, sender: "", recipients: [] }],
    [["--", "-n", "-x@y"], { mode: "A", print: false, sender: null, recipients: ["-n", "-x@y"] }],
    [["a@x", "-n"], { mode: "A", print: false, sender: null, recipients: ["a@x", "-n"] }],
    [["-", "a@x"], { mode: "A", print: false, sender: null, recipients: ["-", "a@x"] }],
  ] as const;
  for (const [argv, want] of CASES) {
    it(`reads ${JSON.stringify(argv)}`, () => assert.deepEqual(parseInjectArgs(argv), { kind: "ok", value: want }));
  }
  it("refuses an unknown option and a -f without a sender as permanent", () => {
    for (const argv of [["-x"], ["-nq"], ["-f"], ["-t", "a@x"]]) assert.equal(parseInjectArgs(argv).kind, "perm", JSON.stringify(argv));
  });
});
