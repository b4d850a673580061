import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { domainProblem, literalIP, parsePathArg, routingTrick, splitAddress } from "../../../core/lib/smtpd/address.ts";
import { formatIP, inPrefix, parseIP, parseIPv6 } from "../../../core/lib/base/ip-addr.ts";
import { matchRules, parseRules } from "../../../core/lib/base/access-rules.ts";
import { acceptsDomain, inBadMailFrom, mrhRecords } from "../../../core/lib/smtpd/policy.ts";
import { buildCdb } from "../../../core/lib/base/cdb.ts";
import { receivedLine, safeReceived } from "../../../core/lib/smtpd/received.ts";

describe("parsePathArg()", () => {
  const GOOD = [
    ["FROM:<a@b.c>", "a@b.c"],
    ["from: <a@b.c>", "a@b.c"],
    ["FROM:<>", ""],
    ["TO:<@r1,@r2:u@d.e>", "u@d.e"],
    ['TO:<"a b"@d.e>', "a b@d.e"],
    ['TO:<"a>b"@d.e>', "a>b@d.e"],
    ['TO:<"a\\"b"@d.e>', 'a"b@d.e'],
    ["TO:u@d.e", "u@d.e"],
    ["TO:<a..b.@d.e>", "a..b.@d.e"], // old mobile carriers' addresses: Postfix takes them too
    ["TO:<postmaster>", "postmaster"],
    ["FROM:<#@[]>", "#@[]"],
    ["TO:<\xc3\xa9@d.e>", "\xc3\xa9@d.e"],
  ] as const;
  for (const [arg, addr] of GOOD) {
    it(`reads ${arg}`, () => {
      const kw = arg.startsWith("FROM") || arg.startsWith("from") ? "FROM" : "TO";
      const r = parsePathArg(arg, kw);
      assert.ok(r.ok, JSON.stringify(r));
      if (r.ok) assert.equal(r.value.addr, addr);
    });
  }
  const BAD = [
    ["TO:<a@b", "no closing >"],
    ["TO:<\"a@b>", "no closing >"],
    ["TO:<@route-without-colon>", "source route"],
    ["TO:<a\\>", "no closing >"],
    ["TO:<a\0b@c.d>", "control character"],
    ["TO:<a\r\nRSET@c.d>", "control character"],
    ["TO:<x> FOO=\x01", "malformed parameter"],
    ["FROM:<a@b.c>", "expected TO"],
    ["TO:", "address must be written"],
    [`TO:<${"a".repeat(900)}@b.c>`, "too long"],
    [`TO:<a@b.c> ${"X ".repeat(17)}`, "too many parameters"],
    ["TO:<a\\@b@d.e>", "5.1.3 bad recipient address syntax: the local part is neither"],
    ["TO:<;sleep 66;>", "bad recipient address syntax: the local part is neither"],
    ["TO:<.!>", "bad recipient address syntax"],
    ["TO:< >", "bad recipient address syntax"],
    ['TO:<x@"example.test">', "bad recipient address syntax: a quote or backslash in the domain"],
    ["TO:<x@exa\\mple.test>", "a quote or backslash in the domain"],
    ["TO:<a b@c.d>", "bad recipient address syntax"],
    ["TO:<(comment)a@c.d>", "bad recipient address syntax"],
  ] as const;
  for (const [arg, why] of BAD) {
    it(`refuses ${JSON.stringify(arg.slice(0, 40))} naming the problem`, () => {
      const r = parsePathArg(arg, "TO");
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reply, new RegExp(`^5\\d\\d .*${why.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });
  }
  it("reads ESMTP parameters, names uppercased", () => {
    const r = parsePathArg("FROM:<a@b.c> size=10 BODY=8BITMIME SMTPUTF8", "FROM");
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual([...r.value.params], [["SIZE", "10"], ["BODY", "8BITMIME"], ["SMTPUTF8", null]]);
  });
  it("survives random bytes without throwing", () => {
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      let s = "TO:";
      for (let i = 0; i < 40; i++) s += String.fromCharCode((seed = (seed * 1103515245 + 12345) >>> 0) % 256);
      parsePathArg(s, "TO");
    }
  });
});

describe("domainProblem()", () => {
  const CASES = [
    ["example.org", null], ["a-b.example", null], ["[192.0.2.1]", null], ["[IPv6:2001:db8::1]", null], ["[IPv6:::1]", null],
    ["example.org.", "trailing dot"], ["a..b", "empty label"], ["-a.b", "bad character"], ["a b.c", "bad character"],
    ["[300.1.1.1]", "literal"], ["[IPv6:2001:db8::1::2]", "literal"], ["[1.2.3.4", "literal"], ["[IPv6:1.2.3.4]", "literal"], ["", "empty"],
    [`${"a".repeat(64)}.b`, "63"], ["caf\xc3\xa9.example", "non-ASCII"],
  ] as const;
  for (const [d, why] of CASES) {
    it(`${why === null ? "accepts" : "refuses"} ${JSON.stringify(d)}`, () => {
      const p = domainProblem(d, false);
      if (why === null) assert.equal(p, null);
      else assert.match(p ?? "", new RegExp(why));
    });
  }
  it("knows the tricks in local parts", () => {
    assert.deepEqual(["a%b", "a!b", "a@b", "ab"].map(routingTrick).map((x) => x !== null), [true, true, true, false]);
    assert.deepEqual(splitAddress("a@b@c"), { local: "a@b", domain: "c" });
    assert.deepEqual(Array.from(literalIP("[IPv6:::ffff:1.2.3.4]") ?? []).slice(12), [1, 2, 3, 4]);
  });
});

describe("ip-addr", () => {
  it("parses and formats both families", () => {
    assert.equal(formatIP(parseIP("2001:0db8:0:0:0:0:0:1")!), "2001:db8::1");
    assert.equal(formatIP(parseIP("::ffff:10.1.2.3")!), "10.1.2.3");
    assert.equal(formatIP(parseIP("::")!), "::");
    for (const bad of ["1.2.3", "01.2.3.4", "1.2.3.4.5", ":::", "1::2::3", "g::1", "12345::", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0"]) assert.equal(parseIP(bad), null, bad);
    assert.deepEqual(Array.from(parseIPv6("1:2:3:4:5:6:7::")!), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
    assert.ok(inPrefix(parseIP("10.1.2.3")!, parseIP("10.0.0.0")!, 8));
    assert.ok(!inPrefix(parseIP("11.1.2.3")!, parseIP("10.0.0.0")!, 8));
    assert.ok(inPrefix(parseIP("10.1.2.3")!, parseIP("10.1.2.0")!, 23));
  });
});

describe("access rules", () => {
  const TEXT = [
    "# comment", "127.0.0.1:allow,RELAYCLIENT=\"\"", "10.:allow,RELAYCLIENT=\"\",DATABYTES=5", "10.9.:deny",
    "192.0.2.0/24:allow,RCPTCHECK=0", "2001:db8::/32:allow,RELAYCLIENT=\"\"", "::1:allow,RELAYCLIENT=\"\"", ":allow",
  ].join("\n");
  it("picks the most specific rule", () => {
    const r = parseRules(TEXT);
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    assert.equal(matchRules(r.value, "127.0.0.1").env.get("RELAYCLIENT"), "");
    assert.equal(matchRules(r.value, "10.1.1.1").env.get("DATABYTES"), "5");
    assert.equal(matchRules(r.value, "10.9.1.1").allow, false);
    assert.equal(matchRules(r.value, "::ffff:10.9.1.1").allow, false);
    assert.equal(matchRules(r.value, "192.0.2.77").env.get("RCPTCHECK"), "0");
    assert.equal(matchRules(r.value, "2001:db8:1::5").env.has("RELAYCLIENT"), true);
    assert.equal(matchRules(r.value, "::1").env.has("RELAYCLIENT"), true);
    assert.equal(matchRules(r.value, "198.51.100.1").env.has("RELAYCLIENT"), false);
    const deny = parseRules(":deny");
    assert.equal(deny.kind === "ok" && matchRules(deny.value, "1.2.3.4").allow, false);
    assert.equal(deny.kind, "ok");
    assert.equal(matchRules([], "1.2.3.4").allow, true);
  });
  it("refuses bad lines, naming the line number", () => {
    for (const bad of ["1.2.3.4:maybe", "1.2.3.4.5:allow", "10.0.0.0/33:allow", "1.2.3.4:allow,RELAYCLIENT", "1.2.3.4:allow,1X=2", "nohost:deny", "1.2.3.4.:allow"]) {
      const r = parseRules(`# c\n${bad}`);
      assert.equal(r.kind, "perm", bad);
      if (r.kind === "perm") assert.match(r.reason, /line 2/);
    }
  });
});

describe("rcpthosts and badmailfrom", () => {
  it("matches exact domains, .suffix entries and morercpthosts.cdb keys", () => {
    const hosts = new Set(["example.org", ".sub.example.net"]);
    const mrh = buildCdb(mrhRecords(["More.Example"]));
    assert.equal(acceptsDomain("EXAMPLE.org", hosts, null), true);
    assert.equal(acceptsDomain("a.sub.example.net", hosts, null), true);
    assert.equal(acceptsDomain("sub.example.net", hosts, null), false);
    assert.equal(acceptsDomain("more.example", hosts, mrh), true);
    assert.equal(acceptsDomain("evil.test", hosts, mrh), false);
    assert.equal(acceptsDomain("anything", null, null), true);
  });
  it("matches whole addresses and @domain lines", () => {
    const bad = new Set(["spammer@x.test", "@spam.test"]);
    assert.deepEqual(["SPAMMER@x.test", "a@SPAM.test", "a@x.test", "spam.test"].map((a) => inBadMailFrom(a, bad)), [true, true, false, false]);
  });
});

describe("receivedLine()", () => {
  it("writes qmail-smtpd's line, HELO only when it differs, hostile bytes as ?", () => {
    const line = receivedLine({ remoteHost: "unknown", remoteIP: "192.0.2.9", remoteInfo: null, helo: "evil\r\nX-Injected: 1", localHost: "mx.example.org", protocol: "ESMTPS" }, Date.UTC(2026, 0, 2, 3, 4, 5));
    assert.equal(line, "Received: from unknown (HELO evil??X-Injected:?1) (192.0.2.9)\n  by mx.example.org with ESMTPS; 2 Jan 2026 03:04:05 -0000\n");
    assert.equal(safeReceived("[IPv6:::1]"), "[IPv6:::1]");
    assert.doesNotMatch(receivedLine({ remoteHost: "Same.Host", remoteIP: "1.2.3.4", remoteInfo: "id", helo: "same.host", localHost: "l", protocol: "SMTP" }, 0), /HELO/);
  });
});
