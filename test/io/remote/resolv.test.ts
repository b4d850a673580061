import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nameServers, parseResolvConf, parseServer } from "../../../core/io/remote/resolv.ts";
import { tempDir } from "../../support/qm.ts";

describe("parseServer()", () => {
  const CASES = [
    ["127.0.0.1", { host: "127.0.0.1", port: 53 }],
    ["127.0.0.1:5353", { host: "127.0.0.1", port: 5353 }],
    ["::1", { host: "::1", port: 53 }],
    ["[::1]:5353", { host: "::1", port: 5353 }],
    ["[::1]", { host: "::1", port: 53 }],
    ["1.2.3.4:0", null],
    ["1.2.3.4:70000", null],
    ["ns.example", null],
    ["[ns.example]:53", null],
    ["", null],
    ["127.0.0.1:53 validating", { host: "127.0.0.1", port: 53, validating: true }],
    ["[::1]:5353\tVALIDATING", { host: "::1", port: 5353, validating: true }],
    ["127.0.0.1 validatin", null],
    ["127.0.0.1 validating extra", null],
    ["validating", null],
  ] as const;
  for (const [text, want] of CASES) it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseServer(text), want));
});

describe("parseResolvConf()", () => {
  it("takes nameserver lines only, drops IPv6 zone ids", () => {
    const text = "# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2\n";
    assert.deepEqual(parseResolvConf(text), [{ host: "10.0.0.1", port: 53 }, { host: "fe80::1", port: 53 }]);
  });
  it("never marks a server of /etc/resolv.conf validating", () => {
    assert.deepEqual(parseResolvConf("nameserver 127.0.0.1 validating\n"), [{ host: "127.0.0.1", port: 53 }]);
  });
});

describe("nameServers()", () => {
  it("prefers control/resolvers over resolv.conf", async () => {
    const h = tempDir();
    mkdirSync(join(h, "control"));
    writeFileSync(join(h, "resolv.conf"), "nameserver 10.9.9.9\n");
    assert.deepEqual(await nameServers(h, join(h, "resolv.conf")), { kind: "ok", value: [{ host: "10.9.9.9", port: 53 }] });
    writeFileSync(join(h, "control", "resolvers"), "# split horizon\n127.0.0.1:5353\n[::1]:5354\n");
    assert.deepEqual(await nameServers(h, join(h, "resolv.conf")), { kind: "ok", value: [{ host: "127.0.0.1", port: 5353 }, { host: "::1", port: 5354 }] });
  });
  it("is temporary when control/resolvers names nothing usable", async () => {
    const h = tempDir();
    mkdirSync(join(h, "control"));
    writeFileSync(join(h, "control", "resolvers"), "nonsense\n");
    assert.equal((await nameServers(h)).kind, "temp");
  });
});
