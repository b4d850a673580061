import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_LISTS, parseDnsLists, queryName, readAnswer, refusal } from "../../core/lib/smtpd/dnsbl.ts";
import { decodeGreyRecord, encodeGreyRecord, parseGreylist } from "../../core/lib/smtpd/greylist.ts";
import { parseRateLimits } from "../../core/lib/smtpd/rate-limits.ts";
import { fastforwardCall } from "../../core/lib/smtpd/catch-all.ts";
import { params, timed, tokens, HOSTILE } from "../support/fuzz.ts";

// The defences' control files (control/dnsbl, dnswl, ratelimits, greylist),
// the greylist store's records, a DNS list's answers and the .qmail line the
// RCPT check judges: any bytes give a value and warnings, never a throw, and
// nothing that reaches an SMTP reply can carry a line break.

const lines = fc.array(tokens([...HOSTILE, "bl.example", "zen.", ":", "::", "1", "0.5", "101", "connections", "messages", "recipients", "delay", "lifetime", "300", "99999999999", "constructor", "__proto__"], 12), { maxLength: 40 });

describe("the defences' control files", () => {
  it("parseDnsLists() keeps only zones, weights 0-100 and printable texts of at most 200 bytes", () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const r = timed(() => parseDnsLists(ls, "dnsbl"));
        assert.ok(r.lists.length <= MAX_LISTS);
        for (const l of r.lists) {
          assert.match(l.zone, /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/);
          assert.ok(l.weight >= 0 && l.weight <= 100);
          if (l.text !== null) assert.match(l.text, /^[\x20-\x7e]{1,200}$/);
          assert.match(refusal(l, ls.join("\r\n"), "192.0.2.1"), /^554 5\.7\.1 [\x20-\x7e]+$/);
        }
        assert.equal(r.lists.length + r.warnings.length, ls.length);
      }),
      params(2000),
    );
  });
  it("parseRateLimits() and parseGreylist() give numbers in range and a warning per bad line", () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const r = timed(() => parseRateLimits(ls));
        for (const v of Object.values(r.limits)) assert.ok(Number.isInteger(v) && v >= 0 && v <= 1_000_000);
        assert.deepEqual(Object.keys(r.limits).sort(), ["connections", "messages", "recipients"]);
        const g = timed(() => parseGreylist(ls));
        assert.ok(g.config.delay >= 0 && g.config.lifetime >= g.config.delay);
        for (const w of [...r.warnings, ...g.warnings]) assert.doesNotMatch(w, /[\r\n\0]/);
      }),
      params(2000),
    );
  });
});

describe("greylist records, DNS list answers, the catch-all line", () => {
  it("decodeGreyRecord() reads only what encodeGreyRecord() writes", () => {
    fc.assert(
      fc.property(tokens(["1", "0", " ", "\n", "12345", "-"], 12), (t) => {
        const r = timed(() => decodeGreyRecord(t));
        if (r !== null) assert.equal(encodeGreyRecord(r), t.replace(/^0+(?=\d)/, "").replace(/ 0+(?=\d)/g, " "));
      }),
      params(2000),
    );
  });
  it("readAnswer() lists only for 127/8 outside 127.255.255/24; queryName() never throws", () => {
    fc.assert(
      fc.property(fc.array(tokens(["127.", "0.", "255.", "2", "8.8.8.8", "::1", "."], 6), { maxLength: 5 }), (records) => {
        const a = timed(() => readAnswer(records));
        if (a.kind === "listed") for (const c of a.codes) assert.ok(c.startsWith("127.") && !c.startsWith("127.255.255."));
        if (a.kind === "unusable") assert.match(a.why, /^[\x20-\x7e]*$/);
        for (const r of records) timed(() => queryName(r, "bl.example"));
      }),
      params(2000),
    );
  });
  it("fastforwardCall() never throws and never takes a line with shell syntax", () => {
    fc.assert(
      fc.property(tokens(["|", " ", "qm", "fastforward", "-d", "-p", "/etc/aliases.cdb", ";", "$", "`", "\n", "#", "./Maildir/"], 15), (t) => {
        const c = timed(() => fastforwardCall(t));
        if (c !== null) assert.ok(!/[;$`]/.test(t.split("\n").find((l) => l.startsWith("|")) ?? ""));
      }),
      params(2000),
    );
  });
});
