import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseSenderLogins, senderAllowed } from "../../../core/lib/smtpd/policy.ts";

describe("control/senderlogins", () => {
  const map = parseSenderLogins(["joe:joe@example.org, @joe.test", "Joe:jo@example.org", "ann@example.org:ann@example.org", "no colon here", ":nobody@x", "bob:"]);
  it("gives each user its addresses and @domains, lines adding up, case-insensitively", () => {
    assert.ok(senderAllowed(map, "joe", "joe@example.org"));
    assert.ok(senderAllowed(map, "JOE", "JO@Example.ORG"));
    assert.ok(senderAllowed(map, "joe", "anything@joe.test"));
    assert.ok(senderAllowed(map, "ann@example.org", "ann@example.org"));
  });
  it("refuses everything else: other addresses, subdomains, unlisted users, the null sender", () => {
    assert.ok(!senderAllowed(map, "joe", "ann@example.org"));
    assert.ok(!senderAllowed(map, "joe", "x@sub.joe.test"));
    assert.ok(!senderAllowed(map, "joe", ""));
    assert.ok(!senderAllowed(map, "eve", "eve@example.org"));
    assert.ok(!senderAllowed(map, "bob", "bob@example.org"));
    assert.ok(!senderAllowed(map, "", "nobody@x"));
  });
  it("without the file, anyone may send as anyone", () => {
    assert.ok(senderAllowed(null, "joe", "ceo@example.org"));
  });
});
