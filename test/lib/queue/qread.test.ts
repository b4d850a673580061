import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatMessage, formatQstat, formatTrouble, parseChannelFile, parseInfo, parseTodo } from "../../../core/lib/queue/qread.ts";

const T = Date.UTC(2026, 0, 5, 3, 4, 5);

describe("formatQstat()", () => {
  it("prints qmail-qstat's two lines", () => {
    assert.equal(formatQstat({ mess: 3, todo: 1, maildrop: 0 }), "messages in queue: 3\nmessages in queue but not yet preprocessed: 1\n");
  });
  it("adds a maildrop line only when maildrop holds something", () => {
    assert.match(formatQstat({ mess: 0, todo: 0, maildrop: 2 }), /\nmessages in maildrop not yet taken in: 2\n$/);
  });
});

describe("formatMessage()", () => {
  it("prints qmail-qread's paragraph", () => {
    const m = {
      id: 123, time: T, size: 456, sender: "a@x.test", bouncing: false,
      recipients: [{ channel: "local", done: false, addr: "b@y" }, { channel: "remote", done: true, addr: "c@z" }],
    } as const;
    assert.equal(formatMessage(m), "5 Jan 2026 03:04:05 GMT  #123  456  <a@x.test> \n\tlocal\tb@y\n  done\tremote\tc@z\n");
  });
  it("marks a bouncing message and prints the null sender", () => {
    assert.equal(formatMessage({ id: 1, time: T, size: 0, sender: "", bouncing: true, recipients: [] }), "5 Jan 2026 03:04:05 GMT  #1  0  <>  bouncing\n");
  });
  it("prints bytes outside 32..126 as _", () => {
    const m = { id: 1, time: T, size: 1, sender: "a\nb\0\xe9", bouncing: false, recipients: [{ channel: "todo", done: false, addr: "x\ty\x7f" }] } as const;
    assert.equal(formatMessage(m), "5 Jan 2026 03:04:05 GMT  #1  1  <a_b__> \n\ttodo\tx_y_\n");
  });
  it("prints trouble as a warning line", () => assert.equal(formatTrouble(7, "permission denied"), "warning: trouble with #7: permission denied\n"));
});

describe("queue record readers", () => {
  it("reads T and D records and skips others", () => {
    assert.deepEqual(parseChannelFile("Ta@x\0Db@y\0Xc\0", "local"), [
      { channel: "local", done: false, addr: "a@x" },
      { channel: "local", done: true, addr: "b@y" },
    ]);
  });
  it("reads info and todo files and refuses damaged ones", () => {
    assert.equal(parseInfo("Fs@x\0"), "s@x");
    assert.equal(parseInfo("Fs@x"), "s@x");
    assert.equal(parseInfo("garbage"), null);
    assert.deepEqual(parseTodo("u0\0p12\0Fs@x\0Ta@x\0Tb@y\0"), {
      sender: "s@x",
      recipients: [{ channel: "todo", done: false, addr: "a@x" }, { channel: "todo", done: false, addr: "b@y" }],
    });
    assert.equal(parseTodo("u0\0p12\0"), null);
  });
});
