import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { lookupIps, lookupMx, type DnsOptions } from "../../../core/io/remote/dns.ts";
import { startDnsServer, type DnsServer, type NameEntry } from "../../support/dns-server.ts";

const ZONE = new Map<string, NameEntry>([
  ["mx.test", { records: [{ type: "MX", data: { preference: 10, exchange: "b.mx.test" } }, { type: "MX", data: { preference: 5, exchange: "a.mx.test" } }] }],
  ["a.mx.test", { records: [{ type: "A", data: "127.0.0.10" }, { type: "AAAA", data: "::1" }] }],
  ["nomx.test", { records: [{ type: "A", data: "127.0.0.11" }] }],
  ["null.test", { records: [{ type: "MX", data: { preference: 0, exchange: "." } }] }],
  ["fail.test", { behave: "servfail" }],
  ["big.test", { behave: "truncate", records: [{ type: "A", data: "127.0.0.12" }] }],
  ["spoof.test", { behave: "spoof", records: [{ type: "A", data: "127.0.0.13" }] }],
  ["slow.test", { behave: "drop" }],
  ["alias.test", { records: [{ type: "CNAME", data: "nomx.test" }] }],
  ["loop1.test", { records: [{ type: "CNAME", data: "loop2.test" }] }],
  ["loop2.test", { records: [{ type: "CNAME", data: "loop1.test" }] }],
]);

let server: DnsServer;
let opts: DnsOptions;
before(async () => {
  server = await startDnsServer(ZONE);
  // 2 s a try: a loaded machine (load 30 on 2 cores) answered loopback after 300 ms; the timeout test uses 300 ms
  opts = { servers: [{ host: "127.0.0.1", port: server.port }], timeoutMs: 2000, tries: 1 };
});
after(() => server.close());

describe("lookupMx()", { timeout: 120_000 }, () => {
  it("returns every MX record", async () => {
    const r = await lookupMx(opts, "MX.test");
    assert.equal(r.kind, "ok");
    assert.deepEqual(r.kind === "ok" && [...r.records].sort((a, b) => a.preference - b.preference), [
      { preference: 5, exchange: "a.mx.test" },
      { preference: 10, exchange: "b.mx.test" },
    ]);
  });
  it("returns no records for a name without MX", async () => {
    const r = await lookupMx(opts, "nomx.test");
    assert.deepEqual(r.kind === "ok" && r.records, []);
  });
  it("says nxdomain for an unknown name", async () => assert.equal((await lookupMx(opts, "nope.test")).kind, "nxdomain"));
  it("is temporary on SERVFAIL", async () => assert.equal((await lookupMx(opts, "fail.test")).kind, "temp"));
  it("is temporary on a timeout, within the time bound", async () => {
    const t0 = Date.now();
    assert.equal((await lookupMx({ ...opts, timeoutMs: 300 }, "slow.test")).kind, "temp");
    assert.ok(Date.now() - t0 < 2000);
  });
});

describe("lookupIps()", { timeout: 120_000 }, () => {
  it("returns IPv4 before IPv6", async () => {
    const r = await lookupIps(opts, "a.mx.test");
    assert.deepEqual(r.kind === "ok" && r.records, ["127.0.0.10", "::1"]);
  });
  it("retries over TCP when the UDP answer is truncated", async () => {
    const r = await lookupIps(opts, "big.test");
    assert.deepEqual(r.kind === "ok" && r.records, ["127.0.0.12"]);
    assert.ok(server.queries.includes("tcp A big.test"));
  });
  it("ignores replies with a wrong id or a wrong question", async () => {
    const r = await lookupIps(opts, "spoof.test");
    assert.deepEqual(r.kind === "ok" && r.records, ["127.0.0.13"]);
  });
  it("follows a CNAME", async () => {
    const r = await lookupIps(opts, "alias.test");
    assert.deepEqual(r.kind === "ok" && r.records, ["127.0.0.11"]);
  });
  it("gives up on a CNAME loop, temporarily", async () => assert.equal((await lookupIps(opts, "loop1.test")).kind, "temp"));
  it("asks the next server when one does not answer", async () => {
    const two: DnsOptions = { ...opts, servers: [{ host: "127.0.0.1", port: 9 }, opts.servers[0]!] };
    const r = await lookupIps(two, "nomx.test");
    assert.deepEqual(r.kind === "ok" && r.records, ["127.0.0.11"]);
  });
});
