import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolve, sep } from "node:path";
import fc from "fast-check";
import { parseLmtpRoute, targetName, dataOutcomes } from "../../core/lib/remote/lmtp.ts";
import { parseMaildirSize, parseQuotaSpec, sizeFromName } from "../../core/lib/local/maildirsize.ts";
import { getpwCandidates, parseDelimiters } from "../../core/lib/local/assign.ts";
import { dotQmailCandidates } from "../../core/lib/local/dot-qmail.ts";
import { parseVirtualUsers, virtualHome } from "../../core/lib/local/virtualusers.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// The mailbox parsers (issue 19): LMTP routes (root's control/virtualdomains,
// a user's .qmail), maildirsize (written by the mailbox's user and by
// Dovecot), control/extdelimiters, and the sender-chosen local part split
// at those delimiters.

describe("parseLmtpRoute()", () => {
  it("never throws, stays bounded, and returns only absolute paths or IP targets", () => {
    const route = tokens([...HOSTILE, "lmtp:", "unix:", "/", "..", ":", "[", "]", "127.0.0.1", "::1", "24", "65536"], 10);
    fc.assert(fc.property(fc.oneof(route, byteString()), (r) => {
      const t = timed(() => parseLmtpRoute(r));
      if (!t) return;
      assert.ok(r.startsWith("lmtp:"));
      if (t.kind === "unix") assert.ok(t.path.startsWith("/") && !t.path.split("/").includes("..") && !/[\0\r\n]/.test(t.path));
      else assert.ok(t.port >= 1 && t.port <= 65535 && /^[0-9a-fA-F:.]+$/.test(t.host));
      assert.match(targetName(t), /^[\x21-\x7e]*$/);
    }), params(3000));
  });
  it("never reports a success unless every reply arrived and nothing more", () => {
    const reply = fc.option(fc.record({ code: fc.integer({ min: 200, max: 599 }), lines: fc.constant(["x"]) }), { nil: null });
    fc.assert(fc.property(fc.array(reply, { maxLength: 6 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (replies, n, extra) => {
      const out = dataOutcomes("w", replies, n, extra);
      assert.equal(out.length, n);
      const whole = replies.length === n && replies.every((r) => r !== null) && !extra;
      if (!whole) assert.ok(out.every((o) => o.letter === "Z"));
      else out.forEach((o, i) => assert.equal(o.letter === "K", replies[i]!.code < 300));
    }), params(3000));
  });
});

describe("maildirsize", () => {
  it("never throws, stays bounded, and sums to finite non-negative usage", () => {
    const text = fc.oneof(byteString(2000), fc.array(fc.oneof(fc.constantFrom("100S", "5C", "-1 -1", "999999999999999999 1", "", " ", "x"), fc.integer().map(String)), { maxLength: 50 }).map((a) => a.join("\n")));
    fc.assert(fc.property(text, (t) => {
      const m = timed(() => parseMaildirSize(t));
      if (!m) return;
      assert.ok(Number.isFinite(m.usedBytes) && m.usedBytes >= 0 && Number.isFinite(m.usedCount) && m.usedCount >= 0);
      assert.ok(m.quota.bytes >= 0 && m.quota.count >= 0);
    }), params(3000));
    fc.assert(fc.property(byteString(), (t) => {
      timed(() => parseQuotaSpec(t));
      const s = timed(() => sizeFromName(t));
      assert.ok(s === null || (Number.isInteger(s) && s >= 0));
    }), params(2000));
  });
});

describe("control/extdelimiters", () => {
  it("never yields a delimiter that changes file names, and no local part escapes the home", () => {
    const HOME = "/home/u";
    fc.assert(fc.property(byteString(20), tokens([...HOSTILE, "+", "-", "..", "/", "default"], 10), (d, local) => {
      const delims = parseDelimiters(d);
      assert.match(delims, /^[-+=_#~!$%^&*]+$/);
      for (const c of timed(() => getpwCandidates(local, delims))) {
        for (const cand of dotQmailCandidates(c.dash, c.ext)) {
          assert.ok(resolve(HOME, cand.name).startsWith(HOME + sep), cand.name);
          assert.ok(!cand.name.split("/").includes(".."), cand.name);
        }
      }
    }), params(2000));
  });
});

describe("control/virtualusers", () => {
  it("never throws, stays bounded, and yields only absolute mailboxes without .. and non-zero uids", () => {
    const line = tokens([...HOSTILE, ":", "@", "/", "..", "0", "4300", "Maildir/", "1000S", "\n", "#"], 14);
    fc.assert(fc.property(fc.oneof(line, byteString(500)), (t) => {
      const r = timed(() => parseVirtualUsers(t));
      if (r.kind !== "ok") return;
      for (const u of r.value.values()) {
        assert.ok(u.uid !== 0 && u.mailbox.startsWith("/") && u.mailbox.endsWith("/") && !u.mailbox.split("/").includes(".."), JSON.stringify(u));
        assert.ok(virtualHome(u).startsWith("/"));
      }
    }), params(3000));
  });
});
