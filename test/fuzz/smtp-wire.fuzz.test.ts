import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createDotStuffer, ehloKeywords, parseReply, parseReplyLine, quoteAddress, REPLY_LINES_MAX, takeLines } from "../../core/lib/remote/smtp-wire.ts";
import { DEFAULT_LIMITS, feedData, startData } from "../../core/lib/smtpd/data.ts";
import { parsePathArg } from "../../core/lib/smtpd/address.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";

// smtp-wire reads what a remote SMTP server answers (qm remote), and the
// DATA decoder reads what a client sends (qm smtpd). Both are fed garbage;
// the dot-stuffer and the decoder must undo each other exactly.

const replyLine = tokens(["250", "250-", "250 ", "421", "5", "55", "554-", "2500", "1xx", "\r", " ", "-", "PIPELINING", "SIZE 10", "8BITMIME", "\0", "\xff"], 8);

describe("parseReplyLine() and parseReply()", () => {
  it("return null or a code 200..599 for any lines", () => {
    fc.assert(
      fc.property(fc.array(replyLine, { maxLength: REPLY_LINES_MAX + 5 }), (lines) => {
        for (const l of lines) {
          const p = parseReplyLine(l);
          if (p) assert.ok(p.code >= 200 && p.code <= 599);
        }
        const r = timed(() => parseReply(lines));
        if (r === null) return;
        assert.ok(r.code >= 200 && r.code <= 599);
        assert.ok(r.lines.length <= REPLY_LINES_MAX);
        assert.equal(r.lines.at(-1)?.[3] === "-", false, "a reply whose last line continues");
        ehloKeywords(r); // must not throw on any reply
      }),
      params(3000),
    );
  });
});

describe("takeLines()", () => {
  it("splits any text into lines and a rest that put back together give the text (CR before LF dropped)", () => {
    fc.assert(
      fc.property(tokens(["\r\n", "\n", "\r", "a", "250 ok"], 40), fc.integer({ min: 1, max: 50 }), (text, max) => {
        const { lines, rest, tooLong } = takeLines(text, max);
        const back = lines.map((l) => `${l}\n`).join("") + rest;
        assert.equal(back, text.replace(/\r\n/g, "\n"));
        assert.ok(!rest.includes("\n"));
        assert.equal(tooLong, rest.length > max || lines.some((l) => l.length > max));
      }),
      params(2000),
    );
  });
});

/** What the receiving side must see: every CRLF, bare CR and bare LF is one LF. */
function normalize(b: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(b).toString("latin1").replace(/\r\n|\r|\n/g, "\n"), "latin1");
}

describe("createDotStuffer() and feedData()", () => {
  it("round-trip any message: stuffed by qm remote, decoded by qm smtpd, in random chunks", () => {
    const body = fc.array(fc.oneof(fc.constantFrom(".", "..", "\r", "\n", "\r\n", ".\r\n", "\n.\n", "\r.\r", "From "), fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString("latin1"))), { maxLength: 40 });
    fc.assert(
      fc.property(body, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }), (parts, cuts) => {
        const msg = Buffer.from(`${parts.join("")}\n`, "latin1");
        const st = createDotStuffer();
        const wire: Buffer[] = [];
        for (let i = 0, k = 0; i < msg.length; k++) {
          const n = cuts[k % cuts.length]!;
          wire.push(Buffer.from(st.push(msg.subarray(i, i + n))));
          i += n;
        }
        const end = st.end();
        assert.ok(end, "a message ending in a newline must end cleanly");
        wire.push(Buffer.from(end));
        const all = Buffer.concat(wire);
        assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(all.toString("latin1")), "a bare CR or LF reached the wire");
        const d = startData(DEFAULT_LIMITS);
        const out: Buffer[] = [];
        let used = 0;
        for (let i = 0, k = 0; i < all.length && !d.done; k++) {
          const f = feedData(d, all.subarray(i, i + cuts[(k + 1) % cuts.length]!));
          out.push(Buffer.from(f.out));
          used += f.used;
          i += f.used;
        }
        assert.ok(d.done && !d.fatal && !d.problem, `decoder: done ${d.done} fatal ${d.fatal} problem ${d.problem}`);
        assert.equal(used, all.length, "the decoder stopped before the end of the data");
        assert.deepEqual(Buffer.concat(out), normalize(msg));
      }),
      params(1500),
    );
  });

  it("feedData() stops on any hostile byte stream with an outcome, never reads past the end", () => {
    fc.assert(
      fc.property(tokens(["\r\n", "\n", "\r", ".", ".\r\n", "\r\n.\r\n", "Received: x\r\n", "\0", "\xff"], 60), (s) => {
        const d = startData({ databytes: 200, maxLine: 50, maxHeader: 100, maxHops: 3 });
        const bytes = Buffer.from(s, "latin1");
        const f = timed(() => feedData(d, bytes));
        assert.ok(f.used <= bytes.length);
        assert.ok(f.out.length <= f.used);
        if (d.problem || d.fatal) assert.equal(f.out.length, 0);
        if (!d.done) assert.equal(f.used, bytes.length);
      }),
      params(3000),
    );
  });
});

describe("quoteAddress() and parsePathArg()", () => {
  it("round-trip any address without control characters", () => {
    const local = tokens(HOSTILE.filter((c) => !/[\0\r\n\t]/.test(c)), 8).map((s) => s.replace(/[\x00-\x1f\x7f]/g, "x"));
    fc.assert(
      fc.property(local, fc.constantFrom("example.org", "[127.0.0.1]", "a-b.c"), (l, d) => {
        if (l.length + d.length > 800) return;
        const addr = `${l}@${d}`;
        const parsed = parsePathArg(`TO:<${quoteAddress(addr)}>`, "TO");
        assert.ok(parsed.ok, `${JSON.stringify(addr)} -> ${JSON.stringify(quoteAddress(addr))}: ${parsed.ok ? "" : parsed.reply}`);
        assert.equal(parsed.value.addr, addr);
      }),
      params(2000),
    );
  });

  it("answers any argument with a value or a 5xx reply line", () => {
    fc.assert(
      fc.property(fc.oneof(byteString(1200), tokens(["FROM:", "TO:", "<", ">", "@", "\\", '"', ":", ",", " ", "SIZE=1", "X=", "\0"], 30)), (arg) => {
        const r = timed(() => parsePathArg(arg, "FROM"));
        if (!r.ok) assert.match(r.reply, /^5\d\d 5\.\d\.\d [^\r\n\0]*$/);
        else assert.ok(r.value.addr.length <= 899 && !/[\x00-\x1f\x7f]/.test(r.value.addr));
      }),
      params(3000),
    );
  });
});
