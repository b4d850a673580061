import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseLine } from "../../../core/lib/stats/line.ts";
import { addEvent, bump, domainOf, LIMITS, newTally, OTHER, reasonOf, type Tally } from "../../../core/lib/stats/tally.ts";
import { makeReport, percentile, MAX_POINTS } from "../../../core/lib/stats/report.ts";
import { formatReport } from "../../../core/lib/stats/format.ts";
import { parseTime } from "../../../core/lib/stats/time.ts";

const T0 = Date.UTC(2026, 11, 6, 14, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Feeds "+SECONDS text" lines (or bare lines without a stamp). */
function feed(t: Tally, lines: readonly string[]): Tally {
  for (const l of lines) {
    const m = /^\+([\d.]+) (.*)$/.exec(l);
    const p = parseLine(m ? `${iso(T0 + Number(m[1]) * 1000)} ${m[2]}` : l, 2026);
    addEvent(t, p.event, p.ms);
  }
  return t;
}

const RUN = [
  "+0 start: send started, pid 100",
  "+1 smtpd: 5.1 connect 192.0.2.7 port 4000 to 127.0.0.1 port 25",
  "+1 smtpd: 5.1 starttls 192.0.2.7 TLSv1.3 X",
  "+1 smtpd: 5.1 auth failed 192.0.2.7 user joe",
  "+1 smtpd: 5.1 auth ok 192.0.2.7 user joe",
  "+1 smtpd: 5.1 refused 192.0.2.7 RCPT <v@elsewhere.test> from <joe@a.test>: 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts",
  "+2 smtpd: 5.1 accepted 192.0.2.7 maildrop/1.2.3 from <joe@a.test> rcpts 2",
  "+2 info maildrop/1.2.3 uid 65534 queued as 11",
  "+2 new msg 11",
  "+2 info msg 11: bytes 100 from <joe@a.test> qp 7 uid 65534",
  "+2 starting delivery 1: msg 11 to local bob@example.test",
  "+2 starting delivery 2: msg 11 to remote x@Far.Example",
  "+3 delivery 1: success: did_1+0+0/",
  "+4 delivery 2: deferral: Connected_to_192.0.2.9_but_greeting_failed./",
  "+5 new msg 12",
  "+5 info msg 12: bytes 50 from <u@example.test> qp 8 uid 1000",
  "+5 starting delivery 3: msg 12 to local bob@example.test",
  "+15 delivery 3: success: did_1+0+0/",
  "+15 end msg 12",
  "+66 starting delivery 4: msg 11 to remote x@far.example",
  "+68 delivery 4: failure: Sorry,_I_couldn't_find_any_host_named_far.example._(#5.1.2)/",
  "+68 bounce msg 11 qp 100",
  "+68 end msg 11",
  "+68 new msg 13",
  "+68 info msg 13: bytes 900 from <> qp 100 uid 0",
];

describe("addEvent() and makeReport()", () => {
  it("counts messages, recipients, outcomes, delays, domains, sources and SMTP sessions", () => {
    const r = makeReport(feed(newTally(), RUN));
    assert.deepEqual(r.messages, { in: 3, out: 2, bounces: 1, bytes: 1050 });
    assert.equal(r.recipients, 3, "x@far.example counted once though tried twice (case aside)");
    assert.deepEqual(r.deliveries.local, { success: 2, failure: 0, deferral: 0, mangled: 0 });
    assert.deepEqual(r.deliveries.remote, { success: 0, failure: 1, deferral: 1, mangled: 0 });
    assert.deepEqual(r.delay.local, { count: 2, p50: 1, p90: 10, p99: 10, max: 10 });
    assert.deepEqual(r.delay.remote, { count: 1, p50: 66, p90: 66, p99: 66, max: 66 });
    assert.deepEqual(r.domains.map((d) => [d.domain, d.success, d.failure, d.deferral]), [["example.test", 2, 0, 0], ["far.example", 0, 1, 1]]);
    assert.deepEqual(r.domains[1]!.reasons.map((x) => x.reason), ["Connected to IP but greeting failed.", "Sorry, I couldn't find any host named far.example. (#5.1.2)"]);
    assert.deepEqual(r.sources, { smtp: [{ key: "192.0.2.7", count: 1 }], users: [{ key: "1000", count: 1 }], auth: [{ key: "joe", count: 1 }] });
    assert.deepEqual({ ...r.smtp, rejects: r.smtp.rejects.map((x) => x.key) }, { sessions: 1, tls: 1, tlsShare: 1, authFailed: 1, accepted: 1, rejects: ["RCPT 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts"] });
    assert.deepEqual(r.series, { start: T0, step: 1, in: [2, 1], out: [1, 1], queue: [2, 1] });
    assert.equal(r.histogram.counts.reduce((a, b) => a + b), 3);
    assert.deepEqual([r.from, r.until], [iso(T0), iso(T0 + 68_000)]);
    assert.match(formatReport(r), /^messages in {8}3 \(1 bounces\), 1050 bytes$/m);
  });
  it("counts only inside --since/--until, yet measures a delay across the edge", () => {
    const r = makeReport(feed(newTally({ since: T0 + 10_000, until: T0 + 67_000 }), RUN));
    assert.deepEqual(r.messages, { in: 0, out: 1, bounces: 0, bytes: 0 });
    assert.deepEqual(r.delay.local, { count: 1, p50: 10, p90: 10, p99: 10, max: 10 });
    assert.equal(r.deliveries.remote.failure, 0, "at +68, after --until");
  });
  it("gives an unstamped line the time of the stamped line before it; counts it without a window", () => {
    const lines = ["new msg 1", "+5 new msg 2", "end msg 2", "end msg 1"];
    assert.equal(makeReport(feed(newTally(), lines)).messages.out, 2);
    assert.equal(makeReport(feed(newTally({ since: T0 }), lines)).messages.in, 1, "new msg 1 has no time: outside any window");
  });
  it("restarts delivery numbers when qm send starts again, and takes a reused message id as a new message", () => {
    const r = makeReport(feed(newTally(), [
      "+0 new msg 5", "+0 starting delivery 1: msg 5 to local a@x", "+1 start: send started, pid 9", "+2 delivery 1: success: did_1+0+0/",
      "+3 starting delivery 1: msg 5 to local a@x", "+4 delivery 1: success: ok", "+4 end msg 5", "+10 new msg 5", "+10 starting delivery 2: msg 5 to local b@x", "+12 delivery 2: success: ok",
    ]));
    assert.equal(r.deliveries.local.success, 2, "the result after the restart belongs to no delivery");
    assert.deepEqual([r.delay.local.p50, r.delay.local.max], [2, 4]);
  });
  it(`remembers at most ${LIMITS.open} open messages, the oldest going first`, () => {
    const t = newTally();
    for (let i = 0; i <= LIMITS.open; i++) addEvent(t, { t: "new", id: i }, T0);
    assert.equal(t.msgs.size, LIMITS.open);
    assert.equal(t.msgs.has(0), false);
    assert.equal(t.msgs.has(LIMITS.open), true);
  });
  it(`keeps at most ${LIMITS.keys} keys a table and ${LIMITS.reasons} reasons a domain; the rest are ${OTHER}`, () => {
    const m = new Map<string, number>();
    for (let i = 0; i < LIMITS.keys + 5; i++) bump(m, `k${i}`);
    assert.equal(m.size, LIMITS.keys + 1);
    assert.equal(m.get(OTHER), 5);
    const t = newTally();
    for (let i = 0; i < LIMITS.reasons + 3; i++) feed(t, [`+${i} starting delivery ${i}: msg 1 to remote a@x.test`, `+${i} delivery ${i}: deferral: reason_${i}`]);
    const reasons = t.domains.get("x.test")!.reasons;
    assert.equal(reasons.size, LIMITS.reasons + 1);
    assert.equal(reasons.get(OTHER), 3);
  });
  it(`widens the steps of a long log to at most ${MAX_POINTS} points`, () => {
    const t = feed(newTally(), ["+0 new msg 1", `+${30 * 86400} end msg 1`]);
    const s = makeReport(t).series;
    assert.ok(s.in.length <= MAX_POINTS && s.step === 60, `${s.in.length} points of ${s.step} min`);
    assert.deepEqual([s.in[0], s.out[s.out.length - 1], s.queue[1]], [1, 1, 1]);
  });
});

describe("percentile()", () => {
  it("is the nearest rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual([50, 90, 99, 100].map((p) => percentile(v, p)), [50, 90, 99, 100]);
    assert.deepEqual([percentile([], 50), percentile([7], 99), percentile([1, 2, 3], 50)], [0, 7, 2]);
  });
});

describe("domainOf() and reasonOf()", () => {
  it("lowers the domain; groups report texts without their addresses", () => {
    assert.deepEqual([domainOf("a@B.Example"), domainOf("postmaster"), domainOf("a@")], ["b.example", "postmaster", "(none)"]);
    assert.equal(reasonOf("Connected_to_2001:db8::1_but_sender_was_rejected./Remote_host_said:_550_no/"), "Connected to 2001:db8::1 but sender was rejected. Remote host said: 550 no");
    assert.equal(reasonOf("x".repeat(500)).length, 120);
  });
});

describe("parseTime()", () => {
  it("reads dates (UTC unless told) and spans back from now; null for anything else", () => {
    assert.equal(parseTime("2026-12-06", 0), Date.UTC(2026, 11, 6));
    assert.equal(parseTime("2026-12-06T14:00", 0), T0);
    assert.equal(parseTime("2026-12-06 15:00:00+01:00", 0), T0);
    assert.equal(parseTime("90m", T0), T0 - 90 * 60_000);
    assert.equal(parseTime("2d", T0), T0 - 2 * 86_400_000);
    for (const bad of ["", "yesterday", "2026-13-01", "12h ago", "-5m", "1e3s", "2026-12-06T25:00"]) assert.equal(parseTime(bad, T0), null, bad);
  });
});
