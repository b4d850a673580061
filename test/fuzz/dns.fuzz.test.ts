import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import fc from "fast-check";
import dnsPacket from "dns-packet";
import { extract, type DnsMessage, type QType } from "../../core/lib/remote/dns-answer.ts";
import { lookup } from "../../core/io/remote/dns.ts";
import { parseResolvConf } from "../../core/io/remote/resolv.ts";
import { params, timed, tokens } from "../support/fuzz.ts";

// DNS answers come from the network: anyone who can race a UDP packet, or
// who runs the zone, writes them.

const NAMES = ["example.org", "EXAMPLE.ORG.", "mx.example.org", "a.example", "b.example", "", ".", "x".repeat(300)];
const record = fc.record(
  {
    name: fc.oneof(fc.constantFrom(...NAMES), fc.anything()),
    type: fc.oneof(fc.constantFrom("A", "AAAA", "MX", "CNAME", "TXT"), fc.anything()),
    class: fc.constantFrom("IN", "CH", undefined),
    data: fc.oneof(fc.constantFrom("1.2.3.4", "::1", "999.1.1.1", "mx.example.org", "a.example", ""), fc.record({ preference: fc.oneof(fc.integer(), fc.anything()), exchange: fc.oneof(fc.constantFrom(...NAMES), fc.anything()) }), fc.anything()),
  },
  { requiredKeys: [] },
);
const message = fc.record({ rcode: fc.oneof(fc.constantFrom("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"), fc.anything()), answers: fc.array(record, { maxLength: 30 }) }, { requiredKeys: [] });

describe("extract()", { timeout: 120_000 }, () => {
  it("answers any decoded message with typed records, nxdomain, temp or loop", () => {
    fc.assert(
      fc.property(message, fc.constantFrom<QType>("A", "AAAA", "MX", "CNAME"), fc.constantFrom(...NAMES), (msg, type, name) => {
        const a = timed(() => extract<unknown>(msg as DnsMessage, name, type));
        assert.ok(["ok", "nxdomain", "temp", "loop"].includes(a.kind));
        if (a.kind !== "ok") return;
        for (const r of a.records) {
          if (type === "A") assert.match(r as string, /^\d{1,3}(\.\d{1,3}){3}$/);
          else if (type === "MX") assert.ok(typeof (r as { preference: unknown }).preference === "number" && typeof (r as { exchange: unknown }).exchange === "string");
          else assert.equal(typeof r, "string");
        }
      }),
      params(2000),
    );
  });

  it("follows a CNAME loop at most CNAME_MAX times", () => {
    const msg = { rcode: "NOERROR", answers: [{ name: "a.example", type: "CNAME", data: "b.example" }, { name: "b.example", type: "CNAME", data: "a.example" }] };
    assert.equal(timed(() => extract(msg, "a.example", "A")).kind, "loop");
  });
});

describe("lookup() against a hostile server", { timeout: 120_000 }, () => {
  it("resolves every query with ok, nxdomain or temp, within its timeout, whatever comes back", async () => {
    const server = createSocket("udp4");
    let answer: (q: Buffer) => Buffer = () => Buffer.alloc(0);
    server.on("message", (q, from) => server.send(answer(q), from.port, from.address));
    await new Promise<void>((res) => server.bind(0, "127.0.0.1", res));
    const port = server.address().port;
    const opts = { servers: [{ host: "127.0.0.1", port }], timeoutMs: 80, tries: 1 };
    const reply = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((junk) => (q: Buffer) => Buffer.concat([q.subarray(0, 2), Buffer.from(junk)])),
      fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.array(fc.constantFrom("1.2.3.4", "example.org"), { maxLength: 5 })).map(([flips, data]) => (q: Buffer) => {
        const query = dnsPacket.decode(q);
        const out = dnsPacket.encode({
          type: "response", id: query.id, flags: dnsPacket.RECURSION_DESIRED, questions: query.questions,
          answers: data.map((d) => (d.includes(".") && /^\d/.test(d) ? { type: "A", name: "example.org", data: d } : { type: "CNAME", name: "example.org", data: d })) as dnsPacket.Answer[],
        });
        for (const [at, v] of flips) if (at % out.length >= 2) out[at % out.length] = v; // keep the id: get past the first check
        return out;
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(reply, fc.constantFrom<QType>("A", "MX", "AAAA"), async (f, type) => {
          answer = f;
          const t0 = performance.now();
          const a = await lookup<unknown>(opts, "example.org", type);
          assert.ok(["ok", "nxdomain", "temp"].includes(a.kind), a.kind);
          assert.ok(performance.now() - t0 < 80 * (1 + 10) + 500, "lookup outlived its timeouts");
        }),
        params(25),
      );
    } finally {
      server.close();
    }
  });
});

describe("parseResolvConf()", { timeout: 120_000 }, () => {
  it("answers any /etc/resolv.conf text with name servers that have a host and a port", () => {
    fc.assert(
      fc.property(tokens(["nameserver", " ", "\t", "\n", "127.0.0.1", "::1", "fe80::1%eth0", "#", ";", "search x", "1.2.3.999", ":53", "[", "]"], 30), (t) => {
        for (const s of timed(() => parseResolvConf(t))) assert.ok(s.host !== "" && Number.isInteger(s.port) && s.port > 0 && s.port < 65536);
      }),
      params(3000),
    );
  });
});
