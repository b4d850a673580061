import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientKey, MAX_CLIENTS, newRateTable, overLimit, parseRateLimits, takeEvent, WINDOW_MS } from "../../../core/lib/smtpd/rate-limits.ts";

describe("parseRateLimits()", () => {
  it("reads name:limit lines; a missing name stays 0 (no limit)", () => {
    assert.deepEqual(parseRateLimits(["connections:30", " Messages : 60 "]), { limits: { connections: 30, messages: 60, recipients: 0 }, warnings: [] });
  });
  it("skips malformed lines with a warning naming the line", () => {
    const r = parseRateLimits(["connections", "bogus:3", "recipients:-1", "messages:1e3", "constructor:1", "__proto__:2", "recipients:5"]);
    assert.deepEqual(r.limits, { connections: 0, messages: 0, recipients: 5 });
    assert.equal(r.warnings.length, 6);
    assert.equal(r.warnings[2], "control/ratelimits line 3: the limit of recipients must be a number from 0 to 1000000; line ignored");
  });
});

describe("clientKey()", () => {
  it("is the IPv4 address, or the IPv6 /64", () => {
    assert.equal(clientKey("192.0.2.7"), "192.0.2.7");
    assert.equal(clientKey("::ffff:192.0.2.7"), "192.0.2.7");
    assert.equal(clientKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    assert.equal(clientKey("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  });
});

describe("takeEvent()", () => {
  it("takes exactly `limit` events a window, then refuses until the window ends", () => {
    const t = newRateTable();
    for (let i = 0; i < 3; i++) assert.equal(takeEvent(t, "k", "messages", 3, 1000 + i), true);
    assert.equal(takeEvent(t, "k", "messages", 3, 1010), false);
    assert.equal(takeEvent(t, "k", "recipients", 3, 1010), true); // each name counts apart
    assert.equal(takeEvent(t, "other", "messages", 3, 1010), true); // each client apart
    assert.equal(takeEvent(t, "k", "messages", 3, 1000 + WINDOW_MS - 1), false);
    assert.equal(takeEvent(t, "k", "messages", 3, 1000 + WINDOW_MS), true);
  });
  it("never refuses under limit 0 (no limit) and keeps no entry for it", () => {
    const t = newRateTable();
    for (let i = 0; i < 100; i++) assert.equal(takeEvent(t, "k", "connections", 0, i), true);
    assert.equal(t.clients.size, 0);
  });
  it(`remembers at most its bound of clients (${MAX_CLIENTS} by default), ended windows and then the oldest going first`, () => {
    const t = newRateTable(3);
    for (const k of ["a", "b", "c"]) takeEvent(t, k, "messages", 1, 0);
    takeEvent(t, "d", "messages", 1, 10);
    assert.deepEqual([...t.clients.keys()], ["b", "c", "d"]);
    takeEvent(t, "e", "messages", 1, WINDOW_MS + 5); // b and c have ended
    assert.deepEqual([...t.clients.keys()], ["d", "e"]);
  });
});

describe("overLimit()", () => {
  it("is 421 4.7.0 for connections and 450 4.7.1 otherwise, with the reason", () => {
    assert.equal(overLimit("connections", 5, "192.0.2.7"), "421 4.7.0 too many connections from 192.0.2.7 (limit 5 a minute); try again later");
    assert.equal(overLimit("messages", 2, "192.0.2.7"), "450 4.7.1 too many messages from 192.0.2.7 (limit 2 a minute); try again later");
  });
});
