import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeXtext, encodeXtext, parseDsnRecord, parseMRecord, parseNRecord, parseNotify } from "../../core/lib/queue/dsn.ts";
import { mailDsn, rcptDsn } from "../../core/lib/smtpd/dsn-params.ts";
import { buildNotice } from "../../core/lib/send/notice.ts";
import { planBounce } from "../../core/lib/send/bounce.ts";
import { byteString, HOSTILE, params, timed, tokens } from "../support/fuzz.ts";
import { readBounce } from "../../core/lib/local/bounce-read.ts";

// RFC 3461 values come from any SMTP client; report texts from any remote server.

const word = tokens([...HOSTILE, "+2B", "+", "=", "SUCCESS", "NEVER", "FAILURE", "DELAY", "rfc822", "FULL", "HDRS", "-", "a", "0F"], 20);

describe("DSN parsers on hostile input", () => {
  it("xtext: decodes to null or to a string that encodes back to valid xtext; any byte string round-trips", () => {
    fc.assert(
      fc.property(word, byteString(200), (w, b) => {
        const d = timed(() => decodeXtext(w));
        if (d !== null) assert.equal(decodeXtext(encodeXtext(d)), d);
        assert.equal(decodeXtext(encodeXtext(b)), b);
      }),
      params(3000),
    );
  });
  it("NOTIFY, M/N records, the dsn/ record and smtpd's checks answer without throwing", () => {
    fc.assert(
      fc.property(word, word, (a, b) => {
        timed(() => parseNotify(a));
        timed(() => parseMRecord(`${a} ${b}`));
        timed(() => parseNRecord(`${a} ${b}`));
        timed(() => parseDsnRecord(`qm-dsn 1\n${a}\n${b}\n`));
        const m = timed(() => mailDsn(new Map([["RET", a], ["ENVID", b]])));
        if (!m.ok) assert.match(m.reply, /^501 5\.5\.4 /);
        const r = timed(() => rcptDsn(new Map([["NOTIFY", a], ["ORCPT", b]])));
        if (!r.ok) assert.match(r.reply, /^501 5\.5\.4 /);
      }),
      params(3000),
    );
  });
  it("a report text never adds a line to the delivery-status part", () => {
    const C = { bouncefrom: "MAILER-DAEMON", bouncehost: "h.test", doublebounceto: "pm", doublebouncehost: "h.test", maxbytes: 1000 };
    const plan = planBounce("s@x.test", C);
    assert.ok(plan.kind === "single");
    fc.assert(
      fc.property(byteString(300), byteString(40), (text, addr) => {
        const para = `${addr.replace(/\n/g, "_")}:\n${text.replace(/\n\n/g, "\n/")}\n\n`;
        const n = buildNotice(plan, para, { action: "failed", controls: C, me: "h.test", nowMs: 0, id: 1, birth: 0 });
        const status = n.head.slice(n.head.indexOf("Reporting-MTA"), n.head.lastIndexOf("\n--"));
        for (const l of status.split("\n")) assert.match(l, /^$|^(Reporting-MTA|Arrival-Date|Final-Recipient|Action|Status|Remote-MTA|Diagnostic-Code|Last-Attempt-Date): [\x20-\x7e]*$|^Final-Recipient: rfc822;[\x20-\x7e]*$/, l);
      }),
      params(2000),
    );
  });
  it("readBounce(): any bounce gives printable addresses and statuses, in bounded time", () => {
    const mime = tokens([...HOSTILE, "\n", "\n\n", "--B", "--B--", "Content-Type: multipart/report; boundary=B", "Content-Type: message/delivery-status", "Final-Recipient: rfc822;", "Action: failed", "Status: 5.1.1", "Hi. This is the", "a@b:", "(#5.1.1)"], 60);
    fc.assert(
      fc.property(mime, (m) => {
        const r = timed(() => readBounce(m, "x@y"));
        for (const f of r.failed) {
          assert.match(f.addr, /^[\x21-\x7e]{0,200}$/);
          assert.match(f.status, /^[\x21-\x7e]{1,200}$/);
        }
      }),
      params(3000),
    );
  });
});
