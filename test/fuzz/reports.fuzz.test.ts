import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatRecord, parseRecords, remoteSaid, type Letter } from "../../core/lib/remote/report.ts";
import { reportReader } from "../../core/lib/send/spawn-wire.ts";
import { createFrameReader, encodeFields } from "../../core/lib/base/frame.ts";
import { answer, startSasl, type Sasl } from "../../core/lib/smtpd/auth.ts";
import { byteString, params, timed } from "../support/fuzz.ts";

// The pipes between the parts (remote reports, spawn reports, local worker
// frames) cross a privilege boundary: the reader must not trust the writer.
// SASL answers come straight from an SMTP client.

/** Splits `s` into pieces at the given cut points. */
function pieces(s: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(s.slice(prev, c));
    prev = c;
  }
  out.push(s.slice(prev));
  return out;
}

describe("formatRecord() and parseRecords()", () => {
  it("round-trip any records; NUL in the text cannot forge a record", () => {
    const rec = fc.record({ letter: fc.constantFrom<Letter>("r", "h", "s", "K", "Z", "D"), text: byteString(80) });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 10 }), (recs) => {
        const back = parseRecords(recs.map(formatRecord).join(""));
        assert.equal(back.length, recs.length);
        back.forEach((b, i) => {
          assert.equal(b.letter, recs[i]!.letter);
          assert.equal(b.text, recs[i]!.text.replace(/\0/g, "?"));
        });
      }),
      params(2000),
    );
  });

  it("remoteSaid() keeps any reply to one bounded text without CR or NUL", () => {
    fc.assert(
      fc.property(fc.array(byteString(3000), { minLength: 1, maxLength: 10 }), (lines) => {
        const t = remoteSaid({ code: 550, lines });
        assert.ok(!/[\r\0]/.test(t) && t.length <= 5001);
      }),
      params(300),
    );
  });
});

describe("reportReader()", () => {
  it("reads the same reports however the stream is cut", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.nat(999), byteString(3)), byteString(20)), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 8 }), (reps, cuts) => {
        const stream = reps.map(([slot, text]) => `${String(slot).replace(/\0/g, "")}\0${text.replace(/\0/g, "")}\0`).join("");
        const whole = reportReader()(stream);
        const read = reportReader();
        const cut = pieces(stream, cuts).flatMap((p) => read(p));
        assert.deepEqual(cut, whole);
        for (const r of whole) assert.ok(["K", "Z", "D", "?"].includes(r.letter) && Number.isInteger(r.slot) && r.slot >= -1);
      }),
      params(2000),
    );
  });
});

describe("createFrameReader() and encodeFields()", () => {
  it("reads back encoded frames in any chunking, and stops on a hostile length", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(byteString(20), byteString(20), fc.uint8Array({ maxLength: 50 })), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (frames, cuts) => {
        const wire = Buffer.concat(frames.map(([a, b, body]) => Buffer.concat([Buffer.from(encodeFields([a, b, String(body.length)])), Buffer.from(body)])));
        const reader = createFrameReader(3, { bodyField: 2, maxBody: 100, maxField: 100 });
        const events = pieces(wire.toString("latin1"), cuts).flatMap((p) => reader.push(Buffer.from(p, "latin1")));
        assert.equal(events.length, frames.length);
        events.forEach((e, i) => {
          assert.equal(e.kind, "frame");
          if (e.kind !== "frame") return;
          assert.deepEqual(e.frame.fields.slice(0, 2), frames[i]!.slice(0, 2).map((f) => (f as string).replace(/\0/g, "?")));
          assert.deepEqual(Buffer.from(e.frame.body!), Buffer.from(frames[i]![2]));
        });
        assert.equal(reader.partial(), false);
      }),
      params(1500),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const reader = createFrameReader(3, { bodyField: 2, maxBody: 100, maxField: 100 });
        const events = timed(() => reader.push(junk));
        for (const e of events) if (e.kind === "frame") assert.ok((e.frame.body?.length ?? 0) <= 100 && e.frame.fields.every((f) => f.length <= 100));
      }),
      params(3000),
    );
  });
});

describe("startSasl() and answer()", () => {
  it("end any exchange in a check with NUL-free, bounded user and password, or a 3xx/5xx reply", () => {
    const b64 = fc.oneof(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("base64")), fc.constantFrom("*", "=", "", "AGEAYg==", "YQBiAGM=", "!!!!"), byteString(10));
    fc.assert(
      fc.property(fc.constantFrom("PLAIN", "LOGIN", "plain", "CRAM-MD5", "PLAIN x y"), fc.option(b64), fc.array(b64, { maxLength: 3 }), (mech, initial, lines) => {
        let st = startSasl(initial === null ? mech : `${mech} ${initial}`);
        for (const l of lines) {
          if (st.kind !== "challenge") break;
          st = answer(st.sasl as Sasl, l);
        }
        if (st.kind === "check") assert.ok(!st.user.includes("\0") && !st.pass.includes("\0") && st.user.length <= 1024 && st.pass.length <= 1024);
        else assert.match(st.reply, /^(334|5\d\d) [^\r\n]*$/);
      }),
      params(3000),
    );
  });
});
