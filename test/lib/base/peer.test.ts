import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makePeer } from "../../../core/lib/base/peer.ts";

const vars = (o: Record<string, string>) => (k: string) => o[k];

describe("makePeer()", () => {
  it("reads tcpserver's variables under inetd", () => {
    const p = makePeer(vars({ TCPREMOTEIP: "192.0.2.7", TCPREMOTEPORT: "41234", TCPREMOTEHOST: "c.example", TCPREMOTEINFO: "joe", TCPLOCALIP: "198.51.100.1", TCPLOCALPORT: "25", RELAYCLIENT: "", DATABYTES: "1000", RCPTCHECK: "0" }));
    assert.deepEqual(p, { remoteIP: "192.0.2.7", remotePort: 41234, remoteHost: "c.example", remoteInfo: "joe", localIP: "198.51.100.1", localPort: 25, localHost: "198.51.100.1", relay: "", databytes: 1000, rcptCheck: false });
  });

  it("says unknown and 0 for what nobody told it", () => {
    const p = makePeer(vars({}));
    assert.deepEqual(p, { remoteIP: "unknown", remotePort: 0, remoteHost: "unknown", remoteInfo: null, localIP: "unknown", localPort: 0, localHost: "unknown", relay: null, databytes: null, rcptCheck: null });
  });

  it("takes the addresses from the socket behind a listener, the rest from the rule", () => {
    const sock = { remoteIP: "::1", remotePort: 5000, localIP: "::1", localPort: 2525 };
    const p = makePeer(vars({ TCPREMOTEIP: "10.0.0.1", TCPLOCALHOST: "mx.example", RELAYCLIENT: "@x", RCPTCHECK: "1" }), sock);
    assert.equal(p.remoteIP, "::1");
    assert.equal(p.remotePort, 5000);
    assert.equal(p.localPort, 2525);
    assert.equal(p.localHost, "mx.example");
    assert.equal(p.relay, "@x");
    assert.equal(p.rcptCheck, true);
  });

  it("ignores numbers that are not numbers or out of range", () => {
    for (const bad of ["", "-1", "1e3", " 5", "0x10", "9".repeat(16), "1.5"]) {
      const p = makePeer(vars({ DATABYTES: bad, TCPREMOTEPORT: bad, TCPLOCALPORT: "65536" }));
      assert.equal(p.databytes, null, bad);
      assert.equal(p.remotePort, 0, bad);
      assert.equal(p.localPort, 0);
    }
  });
});
