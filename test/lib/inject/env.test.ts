import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readInjectEnv } from "../../../core/lib/inject/env.ts";

describe("readInjectEnv()", () => {
  it("falls back QMAILUSER, MAILUSER, USER, LOGNAME, then anonymous", () => {
    assert.equal(readInjectEnv({ QMAILUSER: "q", MAILUSER: "m", USER: "u", LOGNAME: "l" }).fromUser, "q");
    assert.equal(readInjectEnv({ MAILUSER: "m", USER: "u", LOGNAME: "l" }).fromUser, "m");
    assert.equal(readInjectEnv({ USER: "u", LOGNAME: "l" }).fromUser, "u");
    assert.equal(readInjectEnv({ LOGNAME: "l" }).fromUser, "l");
    assert.equal(readInjectEnv({}).fromUser, "anonymous");
    assert.equal(readInjectEnv({ QMAILUSER: "", USER: "u" }).fromUser, "u");
  });
  it("reads host, name and the envelope sender's parts", () => {
    const e = readInjectEnv({ MAILHOST: "mh", NAME: "n", MAILNAME: "mn", USER: "u" });
    assert.deepEqual([e.fromHost, e.name, e.senderUser, e.senderHost], ["mh", "mn", "u", "mh"]);
    const s = readInjectEnv({ QMAILHOST: "qh", QMAILNAME: "qn", QMAILSUSER: "su", QMAILSHOST: "sh" });
    assert.deepEqual([s.fromHost, s.name, s.senderUser, s.senderHost], ["qh", "qn", "su", "sh"]);
    assert.equal(readInjectEnv({}).fromHost, null);
  });
  it("keeps only the QMAILINJECT letters it knows", () => {
    assert.deepEqual([...readInjectEnv({ QMAILINJECT: "cxsfirmZ" }).letters].sort(), ["c", "f", "i", "m", "r", "s"]);
  });
  it("reads the control overrides and QMAILMFTFILE", () => {
    const e = readInjectEnv({ QMAILDEFAULTDOMAIN: "dd", QMAILDEFAULTHOST: "dh", QMAILPLUSDOMAIN: "pd", QMAILIDHOST: "id", QMAILMFTFILE: "/x" });
    assert.deepEqual(Object.fromEntries(e.overrides), { defaultdomain: "dd", defaulthost: "dh", plusdomain: "pd", idhost: "id" });
    assert.equal(e.mftFile, "/x");
  });
  it("turns CR, LF and NUL in a name into spaces, so a header field never splits", () => {
    assert.equal(readInjectEnv({ NAME: "Evil\r\nBcc: x\0" }).name, "Evil  Bcc: x ");
  });
});
