import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { line, safe } from "../../../core/lib/send/log.ts";

describe("line", () => {
  it("writes qmail-send's shapes byte for byte", () => {
    assert.equal(line.status({ local: 1, localMax: 10, remote: 0, remoteMax: 20, exiting: false }), "status: local 1/10 remote 0/20\n");
    assert.equal(line.status({ local: 0, localMax: 10, remote: 0, remoteMax: 20, exiting: true }), "status: local 0/10 remote 0/20 exitasap\n");
    assert.equal(line.newMsg(42), "new msg 42\n");
    assert.equal(line.infoMsg(42, 310, "a@b", "1234", "0"), "info msg 42: bytes 310 from <a@b> qp 1234 uid 0\n");
    assert.equal(line.infoMsg(42, 1, "", "1", "2"), "info msg 42: bytes 1 from <> qp 1 uid 2\n");
    assert.equal(line.starting(7, 42, "local", "joe@x"), "starting delivery 7: msg 42 to local joe@x\n");
    assert.equal(line.success(7, "did 1+0+0\n"), "delivery 7: success: did_1+0+0/\n");
    assert.equal(line.failure(7, "no\n"), "delivery 7: failure: no/\n");
    assert.equal(line.deferral(7, "later"), "delivery 7: deferral: later\n");
    assert.equal(line.mangled(7), "delivery 7: report mangled, will defer\n");
    assert.equal(line.bounceMsg(42, 99), "bounce msg 42 qp 99\n");
    assert.equal(line.tripleBounce(42), "triple bounce: discarding bounce/42\n");
    assert.equal(line.endMsg(42), "end msg 42\n");
    assert.equal(line.exiting(), "status: exiting\n");
  });
  it("makes hostile bytes printable", () => {
    assert.equal(safe("a b%c\n\x00\x7f\xffd"), "a_b_c/___d");
    assert.equal(line.starting(1, 2, "remote", "x\ny z"), "starting delivery 1: msg 2 to remote x/y_z\n");
  });
});
