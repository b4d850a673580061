import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { judge, MAX_LISTS, parseDnsLists, queryName, readAnswer, refusal, type ListAnswer } from "../../../core/lib/smtpd/dnsbl.ts";

describe("parseDnsLists()", () => {
  it("reads zone, zone:weight and zone:weight:text (the text may hold colons)", () => {
    const r = parseDnsLists(["zen.example", "bl.example.:2", "b.example::see http://b.example/q?ip", "Upper.Example:0.5:half"], "dnsbl");
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.lists, [
      { zone: "zen.example", weight: 1, text: null },
      { zone: "bl.example", weight: 2, text: null },
      { zone: "b.example", weight: 1, text: "see http://b.example/q?ip" },
      { zone: "upper.example", weight: 0.5, text: "half" },
    ]);
  });
  it("skips a malformed line with a warning naming the file and line, and keeps the rest", () => {
    const r = parseDnsLists(["nodot", "a b.example", "ok.example:x", "ok.example:-1", "ok.example:101", ":1:t", "..", "good.example"], "dnswl");
    assert.deepEqual(r.lists.map((l) => l.zone), ["good.example"]);
    assert.equal(r.warnings.length, 7);
    assert.match(r.warnings[0]!, /^control\/dnswl line 1: "nodot" is not a DNS zone; line ignored$/);
    assert.match(r.warnings[2]!, /line 3: weight "x" is not a number/);
  });
  it("makes a hostile text safe for a reply line: printable, at most 200 bytes", () => {
    const r = parseDnsLists([`x.example:1:a\rb\0c\x80${"y".repeat(500)}`], "dnsbl");
    assert.equal(r.lists[0]!.text!.length, 200);
    assert.match(r.lists[0]!.text!, /^a\?b\?c\?y+$/);
  });
  it("refuses a zone over 180 bytes (an IPv6 query name must stay under 253)", () => {
    const long = `${"a".repeat(58)}.${"b".repeat(60)}.${"c".repeat(60)}.x`;
    assert.equal(parseDnsLists([long], "dnsbl").lists.length, 0);
    assert.equal(parseDnsLists([long.slice(2)], "dnsbl").lists.length, 1);
    assert.ok(queryName("2001:db8::1", long.slice(2))!.length <= 253);
  });
  it(`takes at most ${MAX_LISTS} zones`, () => {
    const lines = Array.from({ length: MAX_LISTS + 1 }, (_, i) => `z${i}.example`);
    const r = parseDnsLists(lines, "dnsbl");
    assert.equal(r.lists.length, MAX_LISTS);
    assert.deepEqual(r.warnings, [`control/dnsbl line ${MAX_LISTS + 1}: more than ${MAX_LISTS} zones; line ignored`]);
  });
});

describe("queryName()", () => {
  it("reverses IPv4 octets and IPv6 nibbles (RFC 5782 §2.1, §2.4)", () => {
    assert.equal(queryName("192.0.2.99", "bl.example"), "99.2.0.192.bl.example");
    assert.equal(queryName("::ffff:127.0.0.1", "bl.example"), "1.0.0.127.bl.example");
    assert.equal(queryName("2001:db8:1:2:3:4:567:89ab", "bl.example"), "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
    assert.equal(queryName("unknown", "bl.example"), null);
  });
});

describe("readAnswer()", () => {
  const cases: [string[], ListAnswer["kind"]][] = [
    [[], "not-listed"],
    [["127.0.0.2"], "listed"],
    [["127.0.0.4", "8.8.8.8"], "listed"],
    [["127.255.255.254"], "unusable"], // the list refused the query (a public resolver)
    [["8.8.8.8"], "unusable"], // garbage: a wildcard or a hijacking resolver
    [["10.0.0.2", "192.0.2.1"], "unusable"],
  ];
  for (const [records, kind] of cases) it(`${JSON.stringify(records)} → ${kind}`, () => assert.equal(readAnswer(records).kind, kind));
});

describe("judge() and refusal()", () => {
  const lists = [
    { zone: "a.example", weight: 0.5, text: null },
    { zone: "b.example", weight: 0.5, text: "B says no" },
    { zone: "c.example", weight: 0, text: null },
  ];
  const listed: ListAnswer = { kind: "listed", codes: ["127.0.0.2"] };
  it("adds the weights of the zones that list the client; 1 refuses", () => {
    assert.equal(judge(lists, new Map([["a.example", listed]])).over, false);
    assert.equal(judge(lists, new Map([["a.example", listed], ["b.example", listed]])).over, true);
    assert.equal(judge(lists, new Map([["c.example", listed]])).over, false); // weight 0: logged only
    assert.equal(judge(lists, new Map([["a.example", { kind: "unusable", why: "timeout" }]])).listed.length, 0);
  });
  it("says the zone's text, else its TXT record, else which zone", () => {
    assert.equal(refusal(lists[1]!, "ignored", "192.0.2.1"), "554 5.7.1 B says no");
    assert.equal(refusal(lists[0]!, "Listed: see\r\nhttp://x", "192.0.2.1"), "554 5.7.1 Listed: see??http://x");
    assert.equal(refusal(lists[0]!, null, "192.0.2.1"), "554 5.7.1 your address 192.0.2.1 is listed by a.example");
  });
});
