import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startDnsServer, type DnsServer, type NameEntry } from "../../support/dns-server.ts";
import { mailauthResolver } from "../../../core/io/dkim/resolver.ts";

// mailauth asks qm's resolver (core/io/remote/dns.ts) in node:dns's shape:
// TXT answers as arrays of character-strings, failures as coded errors.

describe("mailauthResolver()", { timeout: 120_000 }, () => {
  let dns: DnsServer;
  const long = "p=" + "A".repeat(600);
  const parts = ["v=DKIM1; k=rsa; ", long.slice(0, 255), long.slice(255, 510), long.slice(510)];
  const zone = new Map<string, NameEntry>([
    ["s1._domainkey.example.org", { records: [{ type: "TXT", data: [...parts] }] }],
    ["two.example.org", { records: [{ type: "TXT", data: ["a"] }, { type: "TXT", data: ["b", "c"] }] }],
    ["bytes.example.org", { records: [{ type: "TXT", data: [Buffer.from([0x76, 0xe9, 0x00])] }] }],
    ["empty.example.org", { records: [{ type: "A", data: "192.0.2.1" }] }],
    ["fail.example.org", { behave: "servfail" }],
    ["big.example.org", { behave: "truncate", records: [{ type: "TXT", data: Array.from({ length: 20 }, () => "x".repeat(255)) }] }],
    ["mx.example.org", { records: [{ type: "MX", data: { preference: 20, exchange: "b.example.org" } }, { type: "MX", data: { preference: 10, exchange: "A.Example.Org." } }] }],
    ["host.example.org", { records: [{ type: "A", data: "192.0.2.7" }, { type: "AAAA", data: "2001:DB8::7" }] }],
    ["alias.example.org", { records: [{ type: "CNAME", data: "host.example.org" }] }],
    ["7.2.0.192.in-addr.arpa", { records: [{ type: "PTR", data: "host.example.org" }] }],
    ["silent.example.org", { behave: "drop" }],
  ]);
  let resolve: ReturnType<typeof mailauthResolver>;
  before(async () => {
    dns = await startDnsServer(zone);
    resolve = mailauthResolver({ servers: [{ host: "127.0.0.1", port: dns.port }], timeoutMs: 5000, tries: 2 });
  });
  after(() => dns.close());

  it("returns each TXT record as its character-strings, in order", { timeout: 30_000 }, async () => {
    assert.deepEqual(await resolve("s1._domainkey.example.org", "TXT"), [parts]);
    assert.deepEqual(await resolve("two.example.org", "TXT"), [["a"], ["b", "c"]]);
    assert.deepEqual(await resolve("bytes.example.org", "TXT"), [["v\xe9\0"]]);
  });
  it("takes a TXT answer over 4 KB through TCP when UDP is truncated", { timeout: 30_000 }, async () => {
    const got = await resolve("big.example.org", "TXT");
    assert.equal((got[0] as string[]).join("").length, 20 * 255);
    assert.ok(dns.queries.includes("tcp TXT big.example.org"));
  });
  it("answers SPF's questions in node:dns's shapes: MX as { exchange, priority }, A, AAAA, PTR, CNAMEs followed", { timeout: 30_000 }, async () => {
    assert.deepEqual(await resolve("mx.example.org", "MX"), [{ exchange: "b.example.org", priority: 20 }, { exchange: "a.example.org", priority: 10 }]);
    assert.deepEqual(await resolve("host.example.org", "A"), ["192.0.2.7"]);
    assert.deepEqual(await resolve("host.example.org", "AAAA"), ["2001:db8::7"]);
    assert.deepEqual(await resolve("alias.example.org", "A"), ["192.0.2.7"]);
    assert.deepEqual(await resolve("7.2.0.192.in-addr.arpa", "PTR"), ["host.example.org"]);
    assert.deepEqual(await resolve("alias.example.org", "CNAME"), ["host.example.org"]);
  });
  it("gives ETIMEOUT at a check's deadline: at once when it has passed, else when it comes", { timeout: 30_000 }, async () => {
    const late = mailauthResolver({ servers: [{ host: "127.0.0.1", port: dns.port }] }, { deadline: 1000, now: () => 2000 });
    await assert.rejects(late("host.example.org", "A"), { code: "ETIMEOUT" });
    const soon = mailauthResolver({ servers: [{ host: "127.0.0.1", port: dns.port }], timeoutMs: 2000, tries: 1 }, { deadline: Date.now() + 300 });
    await assert.rejects(soon("silent.example.org", "TXT"), { code: "ETIMEOUT" });
  });
  it("fails as node:dns does: ENOTFOUND, ENODATA, ESERVFAIL, ENOTIMP", { timeout: 60_000 }, async () => {
    await assert.rejects(resolve("nx.example.org", "TXT"), { code: "ENOTFOUND" });
    await assert.rejects(resolve("empty.example.org", "TXT"), { code: "ENODATA" });
    await assert.rejects(resolve("fail.example.org", "TXT"), { code: "ESERVFAIL" });
    await assert.rejects(resolve("s1._domainkey.example.org", "SRV"), { code: "ENOTIMP" });
  });
});
